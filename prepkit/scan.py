"""Scan only: findings per record, nothing written. Offsets are into the record's text (per segment).

Detection runs on the same engines as `prepkit run` (in-process, a process pool, Ray), with the models loaded once
per worker; results come back in input order, so the output does not depend on the engine or the worker count.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from itertools import islice
from typing import Any

from prepkit.detect.corpus import for_policy
from prepkit.driver import Driver
from prepkit.engine import DeferredEngine, WorkerSpec, make_engine
from prepkit.ids import RunIds
from prepkit.io.readers import discover, read_file, require_extras
from prepkit.keys import KeyRing, load_keyring
from prepkit.pipeline import input_options
from prepkit.policy import load_policy
from prepkit.records import Result
from prepkit.snippet import masked_context


def scan_inputs(policy: str, inputs: list[str], *, text_field: str | None = None, id_field: str | None = None,
                text_columns: tuple[str, ...] | None = None, spacy_model: str | None = None,
                limit: int | None = None, batch_size: int = 64, workers: int | None = 1,
                engine: str = "local") -> Iterator[dict[str, Any]]:
    loaded = load_policy(policy)
    opts = input_options(loaded, text_field=text_field, id_field=id_field, text_columns=text_columns)
    # Scanning transforms nothing, so it needs no key; the pipeline workers are built with one all the same.
    keyring = load_keyring(loaded.policy.keys.key_file, required=False) \
        or KeyRing.from_bytes(os.urandom(32), "ephemeral (scan only)")
    spec = WorkerSpec.of(loaded, keyring, spacy_model, batch_size, detect_only=True)
    runner = DeferredEngine(lambda: make_engine(engine, spec, workers))
    # ids and file names go to stdout unscanned: the same pseudonyms as `prepkit run` gives under this key
    ids = RunIds(keyring)
    files = discover(inputs)
    require_extras(files)
    items = (ids.admit(item) for path, name in files for item in read_file(path, ids.source(name), opts))
    # corpus recall as in a run: a value found in one record is reported wherever else it occurs
    driver = Driver(runner, batch_size=batch_size, recall=for_policy(loaded.policy), detect_only=True)
    try:
        for item in driver.results(islice(items, limit)):
            yield _line(item) if isinstance(item, Result) else {"rejected": f"{item.location()}: {item.reason}"}
    finally:
        runner.close()


def _line(res: Result) -> dict[str, Any]:
    rec = res.record
    single = len(rec.segments) == 1
    spans: dict[int, list[tuple[int, int, str]]] = {}
    for f in res.findings:
        spans.setdefault(f.segment, []).append((f.start, f.end, f.entity_type))
    line: dict[str, Any] = {"id": rec.id, "source": rec.source, "findings": [
        {"start": f.start, "end": f.end, "entity_type": f.entity_type, "score": f.score,
         "context": masked_context(rec.segments[f.segment].text, f.start, f.end, spans[f.segment]),
         **({} if single else {"segment": rec.segments[f.segment].key})}
        for f in res.findings]}
    if rec.line is not None:
        line["line"] = rec.line
    if single and rec.segments:
        line["field"] = rec.segments[0].key
    if res.error:
        line["error"] = res.error  # detection failed for this record: no findings is not "no PII"
    return line
