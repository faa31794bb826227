"""PDF and DOCX documents (the `docs` extra: pypdf, python-docx): one record per document.

The text keeps where it came from: PDF pages are joined with PAGE_BREAK and DOCX paragraphs (and table rows) with
PARAGRAPH_BREAK, and the record's metadata says which (`layout`) and how many there are. Operators replace
detected spans only, so the breaks survive anonymization and a RAG chunk can name the pages or paragraphs it
covers (prepkit.rag.chunk.document_locator).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from typing import Any

from prepkit.io.common import InputError, InputOptions, sha256
from prepkit.records import Record, Rejected, Segment

PAGE_BREAK = "\n\f\n"
PARAGRAPH_BREAK = "\n\n"
DOCUMENT_EXT = {".pdf": "pypdf", ".docx": "docx"}
_EXTRA = "pip install 'prepkit[docs]'"


def require_extras(files: list[tuple[Path, str]]) -> None:
    """Refuse, before anything is written, a run over PDF/DOCX files when the `docs` extra is missing."""
    for path, name in files:
        module = DOCUMENT_EXT.get(path.suffix.lower())
        if module is not None and importlib.util.find_spec(module) is None:
            kind = path.suffix.lower().lstrip(".").upper()
            raise InputError(f"{name}: reading {kind} documents needs the 'docs' extra: {_EXTRA}")


def read_document(path: Path, name: str, opts: InputOptions) -> Record | Rejected:
    ext = path.suffix.lower()
    if importlib.util.find_spec(DOCUMENT_EXT[ext]) is None:
        require_extras([(path, name)])
    digest = sha256(path.read_bytes())
    try:
        parts, problem = _pdf(path) if ext == ".pdf" else _docx(path)
    except Exception as e:  # a malformed document breaks its parser in many ways: that file alone is rejected
        return Rejected(name, None, None, f"not a readable {ext[1:].upper()} document ({type(e).__name__})", digest)
    if problem is not None:
        return Rejected(name, None, None, problem, digest)
    if not any(p.strip() for p in parts):
        return Rejected(name, None, None, "no text in the document (a scanned PDF needs OCR first)", digest)
    layout = "pages" if ext == ".pdf" else "paragraphs"
    text = (PAGE_BREAK if ext == ".pdf" else PARAGRAPH_BREAK).join(parts)
    if len(text) > opts.max_record_chars:
        return Rejected(name, None, None, f"document longer than input.max_record_chars ({opts.max_record_chars})",
                        digest)
    metadata: dict[str, Any] = {"doc_type": "document", "layout": layout, layout: len(parts)}
    return Record(name, name, "text", [Segment("text", text)], metadata, None, digest)


def _pdf(path: Path) -> tuple[list[str], str | None]:
    import pypdf

    reader = pypdf.PdfReader(path)
    if reader.is_encrypted and not reader.decrypt(""):
        return [], "encrypted PDF; expected a PDF that opens without a password"
    # A form feed inside a page would be taken for a page break.
    return [(page.extract_text() or "").replace("\f", " ").strip() for page in reader.pages], None


_BLANK_LINES = re.compile(r"\n\s*\n")


def _docx(path: Path) -> tuple[list[str], str | None]:
    import docx
    from docx.table import Table

    parts: list[str] = []
    for block in docx.Document(str(path)).iter_inner_content():
        if isinstance(block, Table):
            for row in block.rows:
                cells: list[str] = []
                for cell in row.cells:
                    t = cell.text.strip()
                    if t and (not cells or cells[-1] != t):  # a merged cell is listed once per grid column
                        cells.append(t)
                parts.append(" | ".join(cells))
        else:
            parts.append(block.text)
    # Paragraphs never hold a blank line of their own, so PARAGRAPH_BREAK counts them exactly.
    parts = [_BLANK_LINES.sub("\n", p).strip() for p in parts]
    return [p for p in parts if p], None
