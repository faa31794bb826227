"""Readers: JSONL (plain text or chat transcripts), CSV, Parquet and folders of .txt/.md, streamed record by record.

Every input unit ends as exactly one `Record` or one `Rejected` — never silently skipped — so the run can prove
conservation. Rejection reasons name the file, line/row and field and say what was expected, but never quote the
content (it may be PII).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prepkit.records import Record, Rejected, Segment

JSONL_EXT = {".jsonl", ".ndjson", ".json"}
CSV_EXT = {".csv", ".tsv"}
PARQUET_EXT = {".parquet", ".pq"}
TEXT_EXT = {".txt", ".md", ".markdown"}
SUPPORTED = JSONL_EXT | CSV_EXT | PARQUET_EXT | TEXT_EXT


class InputError(Exception):
    """An input path that cannot be used at all (does not exist). Per-record problems become Rejected instead."""


@dataclass(frozen=True, slots=True)
class InputOptions:
    text_field: str = "text"
    messages_field: str = "messages"
    id_field: str = "id"
    text_columns: tuple[str, ...] | None = None  # None: every string column
    passthrough: tuple[str, ...] = ("updated", "doc_type")  # metadata fields kept, not scanned
    encoding_errors: str = "reject"  # or "replace"
    max_record_chars: int = 50_000_000
    csv_delimiter: str | None = None


def sha256(data: bytes | str) -> str:
    return hashlib.sha256(data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data).hexdigest()


def discover(paths: Sequence[str | Path]) -> list[tuple[Path, str]]:
    """Expand inputs into (file, display name). A folder means every file under it, sorted, so runs are stable."""
    out: list[tuple[Path, str]] = []
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise InputError(f"{p}: input path does not exist")
        if p.is_dir():
            # Every non-directory entry is listed, including broken symlinks, FIFOs and sockets: they become
            # rejections with a reason rather than vanishing from the counts. Hidden files are skipped on purpose.
            entries = (x for x in p.rglob("*") if not x.name.startswith(".") and not _is_dir(x)
                       and not any(part.startswith(".") for part in x.relative_to(p).parts[:-1]))
            for f in sorted(entries):
                out.append((f, f"{p.name}/{f.relative_to(p).as_posix()}"))
        else:
            out.append((p, p.name))
    return out


def _is_dir(p: Path) -> bool:
    try:
        return p.is_dir()
    except OSError:  # e.g. a symlink loop: not a directory we can walk, so it is reported as an entry
        return False


def read_inputs(paths: Sequence[str | Path], opts: InputOptions) -> Iterator[Record | Rejected]:
    for path, name in discover(paths):
        yield from read_file(path, name, opts)


def read_file(path: Path, name: str, opts: InputOptions) -> Iterator[Record | Rejected]:
    ext = path.suffix.lower()
    problem = _unreadable(path)
    if problem is not None:
        yield Rejected(name, None, None, problem)
        return
    if ext in JSONL_EXT | CSV_EXT | TEXT_EXT and _looks_binary(path):
        yield Rejected(name, None, None, f"binary file (NUL bytes, not UTF-8 text); expected a {ext} text file")
        return
    try:
        if ext in JSONL_EXT:
            yield from _read_jsonl(path, name, opts)
        elif ext in CSV_EXT:
            yield from _read_csv(path, name, opts)
        elif ext in PARQUET_EXT:
            yield from _read_parquet(path, name, opts)
        elif ext in TEXT_EXT:
            yield _read_text_file(path, name, opts)
        else:
            yield Rejected(name, None, None, f"unsupported file type {ext or '(none)'!r}; expected one of "
                           + ", ".join(sorted(SUPPORTED)))
    except PermissionError:
        yield Rejected(name, None, None, "file cannot be read: permission denied")
    except OSError as e:
        yield Rejected(name, None, None, f"file cannot be read: {type(e).__name__}")
    except (ValueError, RecursionError, MemoryError) as e:
        # A file that breaks its parser half-way (corrupt Parquet page, ...): the records already read stand,
        # the rest of the file is one rejection, and the run goes on.
        yield Rejected(name, None, None, f"file could not be parsed to the end: {type(e).__name__}")


def _unreadable(path: Path) -> str | None:
    """Why a directory entry cannot be read as a file, checked without opening it (opening a FIFO would block)."""
    try:
        st = path.stat()
    except FileNotFoundError:
        return "broken symbolic link or vanished file; expected a regular file"
    except OSError as e:
        return f"file cannot be read: {type(e).__name__}"
    import stat

    if not stat.S_ISREG(st.st_mode):
        return "not a regular file (FIFO, socket or device); expected a regular file"
    if not os.access(path, os.R_OK):
        return "file cannot be read: permission denied"
    return None


_CONTROL = bytes(set(range(32)) - {9, 10, 12, 13, 27}) + b"\x7f"


def _looks_binary(path: Path) -> bool:
    """Mostly control bytes in the head means binary (an image, an archive): one rejection for the file, not one
    per 'line'. A text file with a stray NUL in one line is not binary; that line alone is rejected."""
    try:
        with path.open("rb") as f:
            head = f.read(8192)
    except OSError:
        return False
    if not head or b"\x00" not in head:
        return False
    control = len(head) - len(head.translate(None, _CONTROL))
    return control * 20 > len(head)  # over 5%


# -- decoding ---------------------------------------------------------------------------------------------
def _decode(data: bytes, opts: InputOptions, *, allow_nul: bool = False) -> tuple[str | None, str | None]:
    """(text, problem). Invalid UTF-8 is rejected unless the policy allows replacement; NUL bytes always are
    (`allow_nul`: the caller rejects the affected rows itself)."""
    if not allow_nul and b"\x00" in data:
        return None, "contains NUL bytes (binary data?); expected UTF-8 text"
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError as e:
        if opts.encoding_errors == "replace":
            return data.decode("utf-8", errors="replace"), None
        return None, (f"invalid UTF-8 at byte {e.start} (latin-1 or binary?); set input.encoding_errors: replace "
                      "in the policy to decode with replacement characters")


# -- JSONL ------------------------------------------------------------------------------------------------
def _read_jsonl(path: Path, name: str, opts: InputOptions) -> Iterator[Record | Rejected]:
    with path.open("rb") as f:
        any_line = False
        for lineno, raw in enumerate(f, start=1):
            if not raw.strip():
                continue
            any_line = True
            digest = sha256(raw.rstrip(b"\r\n"))
            text, problem = _decode(raw, opts)
            if text is None:
                yield Rejected(name, lineno, None, problem or "undecodable", digest)
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as e:
                yield Rejected(name, lineno, None, f"malformed JSON at column {e.colno}: {e.msg}; expected one JSON "
                               "object per line", digest)
                continue
            except RecursionError:
                yield Rejected(name, lineno, None, "JSON nested too deeply; expected one JSON object per line",
                               digest)
                continue
            if not isinstance(obj, dict):
                yield Rejected(name, lineno, None, f"expected a JSON object, got {type(obj).__name__}", digest)
                continue
            yield _record_from_object(obj, name, lineno, digest, opts)
        if not any_line:
            yield Rejected(name, None, None, "empty file: no records", sha256(b""))


def _record_from_object(obj: dict[str, Any], name: str, lineno: int | None, digest: str,
                        opts: InputOptions) -> Record | Rejected:
    rid = obj.get(opts.id_field)
    if rid is not None and not isinstance(rid, str | int):
        return Rejected(name, lineno, opts.id_field, "id must be a string or integer", digest)
    record_id = str(rid) if rid is not None and str(rid) != "" else f"{name}:{lineno}"
    metadata: dict[str, Any] = {}
    segments: list[Segment] = []
    kind: str
    if opts.messages_field in obj:
        msgs = obj[opts.messages_field]
        if not isinstance(msgs, list) or not msgs:
            return Rejected(name, lineno, opts.messages_field, "expected a non-empty list of messages", digest)
        for i, m in enumerate(msgs):
            where = f"{opts.messages_field}[{i}]"
            if not isinstance(m, dict):
                return Rejected(name, lineno, where, "expected an object with role and content", digest)
            if not isinstance(m.get("role"), str) or not m["role"]:
                return Rejected(name, lineno, f"{where}.role", "missing or non-string role", digest)
            if not isinstance(m.get("content"), str):
                return Rejected(name, lineno, f"{where}.content", "missing or non-string content", digest)
            segments.append(Segment(f"{where}.content", m["content"], m["role"]))
        kind = "chat"
    elif opts.text_field in obj:
        t = obj[opts.text_field]
        if not isinstance(t, str):
            return Rejected(name, lineno, opts.text_field, f"expected a string, got {type(t).__name__}", digest)
        if not t.strip():
            return Rejected(name, lineno, opts.text_field, "empty text", digest)
        segments.append(Segment(opts.text_field, t))
        kind = "text"
    else:
        return Rejected(name, lineno, opts.text_field,
                        f"missing text field {opts.text_field!r} (or {opts.messages_field!r} for chat); "
                        "choose another with --text-field", digest)
    for k, v in obj.items():
        if k in (opts.text_field, opts.messages_field, opts.id_field):
            continue
        if isinstance(v, str) and k not in opts.passthrough:
            # Other string fields may hold PII too (a `customer_email` field): scan them like text.
            if v.strip():
                segments.append(Segment(k, v))
        elif v is None or isinstance(v, bool | int | float | str):
            metadata[k] = v
        # nested values other than messages are not carried to any output (data minimisation)
    if not any(s.text.strip() for s in segments):
        return Rejected(name, lineno, opts.messages_field if kind == "chat" else opts.text_field,
                        "empty record: no text to process", digest)
    for s in segments:
        if _has_surrogate(s.text):
            # A JSON escape like "\\ud800" decodes to half a UTF-16 pair, which no output file can encode.
            if opts.encoding_errors != "replace":
                return Rejected(name, lineno, s.key, "unpaired UTF-16 surrogate escape; expected valid Unicode text "
                                "(or set input.encoding_errors: replace)", digest)
            s.text = _SURROGATE.sub("\ufffd", s.text)
    if sum(len(s.text) for s in segments) > opts.max_record_chars:
        return Rejected(name, lineno, None, f"record longer than input.max_record_chars ({opts.max_record_chars})",
                        digest)
    return Record(record_id, name, kind, segments, metadata, lineno, digest)  # type: ignore[arg-type]


_SURROGATE = re.compile("[\ud800-\udfff]")


def _has_surrogate(text: str) -> bool:
    return _SURROGATE.search(text) is not None


# -- CSV --------------------------------------------------------------------------------------------------
def _read_csv(path: Path, name: str, opts: InputOptions) -> Iterator[Record | Rejected]:
    with path.open("rb") as fb:
        data = fb.read()
    text, problem = _decode(data, opts, allow_nul=True)  # a stray NUL rejects its row, not the file
    if text is None:
        yield Rejected(name, None, None, problem or "undecodable", sha256(data))
        return
    delim = opts.csv_delimiter or ("\t" if path.suffix.lower() == ".tsv" else ",")
    # The stdlib default (128 KiB per field) would reject long documents stored in a cell.
    csv.field_size_limit(max(csv.field_size_limit(), min(opts.max_record_chars, 2**31 - 1)))
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delim)
    try:
        header = next(reader)
    except StopIteration:
        yield Rejected(name, None, None, "empty file: no header row", sha256(data))
        return
    except csv.Error as e:
        yield Rejected(name, 1, None, f"unreadable CSV header: {e}", sha256(data))
        return
    header = [h.strip() for h in header]
    if opts.text_columns:
        missing = [c for c in opts.text_columns if c not in header]
        if missing:
            yield Rejected(name, 1, missing[0], f"text column {missing[0]!r} not in header "
                           f"(columns: {', '.join(header)})", sha256(data))
            return
    scan = [c for c in header if c != opts.id_field and c not in opts.passthrough
            and (opts.text_columns is None or c in opts.text_columns)]
    rows = 0
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as e:
            yield Rejected(name, reader.line_num, None, f"malformed CSV: {e}")
            continue
        line = reader.line_num
        if not row or all(not c.strip() for c in row):
            continue
        rows += 1
        digest = sha256(delim.join(row))
        if len(row) != len(header):
            yield Rejected(name, line, None, f"ragged row: {len(row)} fields, header has {len(header)}", digest)
            continue
        nul = next((h for h, c in zip(header, row, strict=True) if "\x00" in c), None)
        if nul is not None:
            yield Rejected(name, line, nul, "contains NUL bytes; expected UTF-8 text", digest)
            continue
        values = dict(zip(header, row, strict=True))
        rid = values.get(opts.id_field) or f"{name}:{line}"
        segments = [Segment(c, values[c]) for c in scan if values[c].strip()]
        metadata = {c: values[c] for c in header if c in opts.passthrough}
        if not segments:
            yield Rejected(name, line, None, "empty record: no text in any scanned column", digest)
            continue
        yield Record(rid, name, "table", segments, metadata, line, digest)
    if rows == 0:
        yield Rejected(name, None, None, "empty file: header but no rows", sha256(data))


# -- Parquet ----------------------------------------------------------------------------------------------
def _read_parquet(path: Path, name: str, opts: InputOptions) -> Iterator[Record | Rejected]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(path)
    except (pa.ArrowInvalid, OSError) as e:
        yield Rejected(name, None, None, f"not a readable Parquet file: {type(e).__name__}")
        return
    schema = pf.schema_arrow
    names = list(schema.names)
    is_str = {f.name: pa.types.is_string(f.type) or pa.types.is_large_string(f.type) for f in schema}
    if opts.text_columns:
        for c in opts.text_columns:
            if c not in names:
                yield Rejected(name, None, c, f"text column {c!r} not in file (columns: {', '.join(names)})")
                return
        scan = list(opts.text_columns)
    else:
        scan = [c for c in names if is_str[c] and c != opts.id_field and c not in opts.passthrough]
    row = 0
    for batch in pf.iter_batches(batch_size=2048):
        for values in batch.to_pylist():
            row += 1
            digest = sha256(json.dumps(values, sort_keys=True, default=str))
            rid = values.get(opts.id_field)
            rid = str(rid) if rid not in (None, "") else f"{name}:{row}"
            bad = next((c for c in scan if values.get(c) is not None and not isinstance(values[c], str)), None)
            if bad is not None:
                yield Rejected(name, row, bad, f"expected text, got nested/non-string {type(values[bad]).__name__}",
                               digest)
                continue
            segments = [Segment(c, values[c]) for c in scan if isinstance(values.get(c), str) and values[c].strip()]
            if not segments:
                yield Rejected(name, row, None, "empty record: text is null or empty in every scanned column",
                               digest)
                continue
            metadata = {c: values[c] for c in names if c in opts.passthrough
                        and isinstance(values[c], str | int | float | bool | type(None))}
            yield Record(rid, name, "table", segments, metadata, row, digest)
    if row == 0:
        yield Rejected(name, None, None, "empty file: no rows")


# -- text files -------------------------------------------------------------------------------------------
def _read_text_file(path: Path, name: str, opts: InputOptions) -> Record | Rejected:
    data = path.read_bytes()
    digest = sha256(data)
    text, problem = _decode(data, opts)
    if text is None:
        return Rejected(name, None, None, problem or "undecodable", digest)
    if not text.strip():
        return Rejected(name, None, None, "empty file", digest)
    if len(text) > opts.max_record_chars:
        return Rejected(name, None, None, f"file longer than input.max_record_chars ({opts.max_record_chars})",
                        digest)
    metadata: dict[str, Any] = {"doc_type": "document"}
    text = _front_matter(text, metadata)
    return Record(name, name, "text", [Segment("text", text)], metadata, None, digest)


def _front_matter(text: str, metadata: dict[str, Any]) -> str:
    """Markdown front matter (`---` YAML `---`) gives document metadata such as doc_type and updated."""
    if not text.startswith("---\n"):
        return text
    end = text.find("\n---\n", 4)
    if end == -1:
        return text
    import yaml

    try:
        meta = yaml.safe_load(text[4:end])
    except yaml.YAMLError:
        return text
    if not isinstance(meta, dict):
        return text
    for k, v in meta.items():
        if isinstance(v, str | int | float | bool) or v is None:
            metadata[str(k)] = v
        elif hasattr(v, "isoformat"):
            metadata[str(k)] = v.isoformat()
    return text[end + 5:]
