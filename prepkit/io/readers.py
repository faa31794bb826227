"""Readers: JSONL and JSON arrays (plain text or chat transcripts), CSV/TSV, Parquet, folders of .txt/.md, PDF and
DOCX documents; plain, gzip (.gz) or zstandard (.zst) files, or standard input (`-`); streamed record by record.

Every input unit ends as exactly one `Record` or one `Rejected` — never silently skipped — so the run can prove
conservation. Rejection reasons name the file, line/row and field and say what was expected, but never quote the
content (it may be PII).
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import IO

from prepkit.io.common import InputError, InputOptions, Position, looks_binary, sha256
from prepkit.io.csvfile import read_csv
from prepkit.io.discover import Inputs, discover, find_inputs
from prepkit.io.documents import DOCUMENT_EXT, read_document, require_extras
from prepkit.io.jsonl import read_json_array, read_json_object, read_jsonl, record_from_object
from prepkit.io.parquet import read_parquet
from prepkit.io.sources import compression, format_suffix, head, is_stdin, open_input, stream_errors
from prepkit.io.text import read_text
from prepkit.records import Record, Rejected

JSONL_EXT = {".jsonl", ".ndjson", ".json"}
CSV_EXT = {".csv", ".tsv"}
PARQUET_EXT = {".parquet", ".pq"}
TEXT_EXT = {".txt", ".md", ".markdown"}
STREAMED = JSONL_EXT | CSV_EXT | TEXT_EXT  # formats that can come compressed or on standard input
SUPPORTED = STREAMED | PARQUET_EXT | set(DOCUMENT_EXT)

_STREAM_ERRORS: tuple[type[BaseException], ...] = (*stream_errors(), OSError)

# pipeline.py builds records from Python dicts with the same rules
_record_from_object = record_from_object

__all__ = ["InputError", "InputOptions", "Inputs", "SUPPORTED", "discover", "find_inputs", "read_file",
           "read_inputs", "record_from_object", "require_extras", "sha256"]


def read_inputs(paths: Sequence[str | Path], opts: InputOptions) -> Iterator[Record | Rejected]:
    files = discover(paths)
    require_extras(files)
    for path, name in files:
        yield from read_file(path, name, opts)


def read_file(path: Path, name: str, opts: InputOptions) -> Iterator[Record | Rejected]:
    stdin = is_stdin(path)
    ext = ".jsonl" if stdin else format_suffix(path)
    if not stdin:
        problem = _unreadable(path)
        if problem is not None:
            yield Rejected(name, None, None, problem)
            return
    if ext not in SUPPORTED or (compression(path) and ext not in STREAMED):
        shown = "".join(path.suffixes[-2:]) if compression(path) else path.suffix
        yield Rejected(name, None, None, f"unsupported file type {shown or '(none)'!r}; "
                       "expected one of " + ", ".join(sorted(SUPPORTED)) + " (text formats also as .gz or .zst)")
        return
    pos = Position()
    try:
        if ext in PARQUET_EXT:
            yield from read_parquet(path, name, opts, pos)
        elif ext in DOCUMENT_EXT:
            yield read_document(path, name, opts)
        else:
            with open_input(path) as stream:
                if looks_binary(head(stream)):
                    yield Rejected(name, None, None, f"binary file (NUL bytes, not UTF-8 text); expected a {ext} "
                                   "text file")
                    return
                yield from _read_stream(stream, ext, name, opts, pos, stdin)
    except PermissionError:
        yield Rejected(name, None, None, "file cannot be read: permission denied")
    except _STREAM_ERRORS as e:
        # A truncated or corrupt file: the records read so far stand, the rest is one rejection.
        yield Rejected(name, pos.line + 1 if pos.line else None, None,
                       f"file cannot be read to the end: {type(e).__name__}")
    except (ValueError, RecursionError, MemoryError) as e:
        # A file that breaks its parser half-way (corrupt Parquet page, ...): the records already read stand,
        # the rest of the file is one rejection, and the run goes on.
        yield Rejected(name, pos.line + 1 if pos.line else None, None,
                       f"file could not be parsed to the end: {type(e).__name__}")


def _read_stream(s: IO[bytes], ext: str, name: str, opts: InputOptions, pos: Position,
                 stdin: bool) -> Iterator[Record | Rejected]:
    if ext in CSV_EXT:
        delim = opts.csv_delimiter or ("\t" if ext == ".tsv" else ",")
        yield from read_csv(s, name, delim, opts, pos)
    elif ext in TEXT_EXT:
        yield read_text(s, name, opts)
    elif (ext == ".json" or stdin) and head(s).lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"["):
        yield from read_json_array(s, name, opts, pos)
    elif ext == ".json" and not _first_line_is_object(head(s, 1 << 16)):
        yield read_json_object(s, name, opts)
    else:
        yield from read_jsonl(s, name, opts, pos)


def _first_line_is_object(data: bytes) -> bool:
    """A `.json` file whose first line is a whole object is JSONL; otherwise it is one (pretty-printed) object."""
    if b"\n" not in data:
        return True  # a first line longer than the peek: pretty-printed objects start with a short line
    first = data.split(b"\n", 1)[0].strip().lstrip(b"\xef\xbb\xbf")
    if not first.startswith(b"{"):
        return True  # not an object at all: the JSONL reader says what is wrong, line by line
    try:
        return isinstance(json.loads(first), dict)
    except ValueError:
        return False


def _unreadable(path: Path) -> str | None:
    """Why a directory entry cannot be read as a file, checked without opening it (opening a FIFO would block)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return "broken symbolic link or vanished file; expected a regular file"
    except OSError as e:
        return f"file cannot be read: {type(e).__name__}"
    if not stat.S_ISREG(st.st_mode):
        return "not a regular file (FIFO, socket or device); expected a regular file"
    if not os.access(path, os.R_OK):
        return "file cannot be read: permission denied"
    return None
