"""Scan only: findings per record, nothing written. Offsets are into the record's text (per segment)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from prepkit.detect import Detector
from prepkit.io.readers import read_inputs
from prepkit.pipeline import input_options
from prepkit.policy import load_policy
from prepkit.records import Record


def scan_inputs(policy: str, inputs: list[str], *, text_field: str | None = None, id_field: str | None = None,
                text_columns: tuple[str, ...] | None = None, spacy_model: str | None = None,
                limit: int | None = None, batch_size: int = 64) -> Iterator[dict[str, Any]]:
    loaded = load_policy(policy)
    opts = input_options(loaded, text_field=text_field, id_field=id_field, text_columns=text_columns)
    detector = Detector(loaded.policy, spacy_model)
    batch: list[Record] = []
    n = 0

    def flush() -> Iterator[dict[str, Any]]:
        for rec, findings in zip(batch, detector.detect(batch), strict=True):
            single = len(rec.segments) == 1
            yield {"id": rec.id, "source": rec.source, "findings": [
                {"start": f.start, "end": f.end, "entity_type": f.entity_type, "score": f.score,
                 **({} if single else {"segment": rec.segments[f.segment].key})}
                for f in findings]}

    for item in read_inputs(inputs, opts):
        if limit is not None and n >= limit:
            break
        n += 1
        if not isinstance(item, Record):
            yield {"rejected": f"{item.location()}: {item.reason}"}
            continue
        batch.append(item)
        if len(batch) >= batch_size:
            yield from flush()
            batch = []
    if batch:
        yield from flush()
