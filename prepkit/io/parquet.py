"""Parquet, streamed in row batches."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from prepkit.io.common import InputOptions, Position, sha256
from prepkit.records import Record, Rejected, Segment


def read_parquet(path: Path, name: str, opts: InputOptions, pos: Position) -> Iterator[Record | Rejected]:
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
                # The file's column names are not listed: they can be PII.
                yield Rejected(name, None, c, f"text column {c!r} (--text-column) not in the file, which has "
                               f"{len(names)} columns")
                return
        scan = list(opts.text_columns)
    else:
        scan = [c for c in names if is_str[c] and c != opts.id_field and c not in opts.passthrough]
    row = 0
    for batch in pf.iter_batches(batch_size=2048):
        for values in batch.to_pylist():
            row += 1
            pos.line = row
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
