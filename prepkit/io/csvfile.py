"""CSV and TSV, streamed row by row from the file (never read whole).

Rows are parsed strictly, so a stray quote shows up as an error rather than as rows merged into one cell. When a
row cannot be parsed, or spans several lines and has the wrong number of fields (an unterminated quote that ate
the rows after it), that row is rejected with the line it started on and the lines after its first are read again
as rows of their own: nothing after a bad line is lost.

Header names are never quoted in a reason (they can be PII: a column named after a customer); columns are named
by their position.
"""

from __future__ import annotations

import csv
from collections import deque
from collections.abc import Iterator
from typing import IO

from prepkit.io.common import InputOptions, Position, sha256
from prepkit.records import Record, Rejected, Segment

_BAD_UTF8 = ("invalid UTF-8 (latin-1 or binary?); set input.encoding_errors: replace in the policy to decode with "
             "replacement characters")


class _Lines:
    """Decoded physical lines for csv.reader, remembering which lines the current row took so they can be read
    again. Lines that were not valid UTF-8 are decoded with surrogateescape and marked, so their row is rejected."""

    def __init__(self, stream: IO[bytes], opts: InputOptions, pos: Position) -> None:
        self.source = enumerate(stream, start=1)
        self.replace = opts.encoding_errors == "replace"
        self.pos = pos
        self.pending: deque[tuple[int, str, bool]] = deque()
        self.taken: list[tuple[int, str, bool]] = []

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> str:
        if self.pending:
            item = self.pending.popleft()
        else:
            lineno, raw = next(self.source)
            if lineno == 1 and raw.startswith(b"\xef\xbb\xbf"):
                raw = raw[3:]
            self.pos.line = lineno
            try:
                item = (lineno, raw.decode("utf-8"), False)
            except UnicodeDecodeError:
                item = (lineno, raw.decode("utf-8", "replace" if self.replace else "surrogateescape"),
                        not self.replace)
        self.taken.append(item)
        return item[1]

    def start_row(self) -> None:
        self.taken = []

    def reread_after_first(self) -> None:
        """Put back every line of the current row but its first, to be parsed again."""
        self.pending.extendleft(reversed(self.taken[1:]))
        self.taken = []


def read_csv(stream: IO[bytes], name: str, delim: str, opts: InputOptions,
             pos: Position) -> Iterator[Record | Rejected]:
    # The stdlib default (128 KiB per field) would reject long documents stored in a cell.
    csv.field_size_limit(max(csv.field_size_limit(), min(opts.max_record_chars, 2**31 - 1)))
    lines = _Lines(stream, opts, pos)

    def reader() -> Iterator[list[str]]:
        return csv.reader(lines, delimiter=delim, strict=True)

    rows = reader()
    try:
        header = next(rows)
    except StopIteration:
        yield Rejected(name, None, None, "empty file: no header row", sha256(b""))
        return
    except csv.Error as e:
        yield Rejected(name, 1, None, f"unreadable CSV header: {e}")
        return
    if any(bad for _, _, bad in lines.taken):
        yield Rejected(name, 1, None, f"header: {_BAD_UTF8}")
        return
    header = [h.strip() for h in header]
    problem = _header_problem(header, opts)
    if problem is not None:
        yield Rejected(name, 1, problem[0], problem[1])
        return
    scan = [c for c in header if c != opts.id_field and c not in opts.passthrough
            and (opts.text_columns is None or c in opts.text_columns)]
    count = 0
    while True:
        lines.start_row()
        try:
            row = next(rows)
        except StopIteration:
            break
        except csv.Error as e:
            start = lines.taken[0][0] if lines.taken else pos.line
            count += 1
            yield Rejected(name, start, None, f"malformed CSV row ({e}); a quote opened on this line may never "
                           "be closed")
            lines.reread_after_first()
            rows = reader()
            continue
        taken = lines.taken
        line = taken[0][0] if taken else pos.line
        if not row or all(not c.strip() for c in row):
            continue
        count += 1
        digest = sha256(delim.join(row))
        if len(row) != len(header):
            if len(taken) > 1:
                # A row over several lines with the wrong field count: a quote left open swallowed the lines after.
                yield Rejected(name, line, None, f"ragged row over lines {line}-{taken[-1][0]}: {len(row)} fields, "
                               f"header has {len(header)}; a quote opened on line {line} may never be closed",
                               digest)
                lines.reread_after_first()
                rows = reader()
                continue
            yield Rejected(name, line, None, f"ragged row: {len(row)} fields, header has {len(header)}", digest)
            continue
        if any(bad for _, _, bad in taken):
            yield Rejected(name, line, None, _BAD_UTF8, digest)
            continue
        col = next((i for i, c in enumerate(row) if "\x00" in c), None)
        if col is not None:
            yield Rejected(name, line, header[col], "contains NUL bytes; expected UTF-8 text", digest)
            continue
        values = dict(zip(header, row, strict=True))
        rid = values.get(opts.id_field) or f"{name}:{line}"
        segments = [Segment(c, values[c]) for c in scan if values[c].strip()]
        metadata = {c: values[c] for c in header if c in opts.passthrough}
        if not segments:
            yield Rejected(name, line, None, "empty record: no text in any scanned column", digest)
            continue
        yield Record(rid, name, "table", segments, metadata, line, digest)
    if count == 0:
        yield Rejected(name, None, None, "empty file: header but no rows")


def _header_problem(header: list[str], opts: InputOptions) -> tuple[str | None, str] | None:
    """(field, reason) of a header that cannot be read on."""
    seen: dict[str, int] = {}
    for i, h in enumerate(header, start=1):
        if h in seen:
            # Reading on would keep one of the two columns and lose the other.
            return (f"column {i}", f"duplicate column name in the header: column {i} has the same name as "
                    f"column {seen[h]}; rename one of them")
        seen[h] = i
    if opts.text_columns:
        missing = [c for c in opts.text_columns if c not in seen]
        if missing:
            return (missing[0], f"text column {missing[0]!r} (--text-column) not in the header, which has "
                    f"{len(header)} columns")
    return None
