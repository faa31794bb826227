"""Over samples/ with the real pipeline (spaCy + Presidio): one person keeps one surrogate across files.

samples/tickets.jsonl is split into two files so the same customers appear in both; every full name the detector
found must map to one surrogate everywhere, first-name mentions must map to that surrogate's first name, and the
default policy's verification must pass on every record.
"""

from __future__ import annotations

from collections import defaultdict

import pytest

from prepkit.io.readers import read_inputs
from prepkit.records import Record, Result
from prepkit.transform import resolve_overlaps
from prepkit.transform.engine import propagate
from tests.conftest import SAMPLES


@pytest.fixture(scope="module")
def split_results(default_pipeline, tmp_path_factory: pytest.TempPathFactory) -> list[Result]:  # type: ignore[no-untyped-def]
    d = tmp_path_factory.mktemp("split")
    lines = (SAMPLES / "tickets.jsonl").read_text(encoding="utf-8").splitlines(keepends=True)
    half = len(lines) // 2  # customers come back every dozen tickets, so both halves name them
    (d / "a.jsonl").write_text("".join(lines[:half]), encoding="utf-8")
    (d / "b.jsonl").write_text("".join(lines[half:]), encoding="utf-8")
    recs = [r for r in read_inputs([d], default_pipeline.options) if isinstance(r, Record)]
    assert len({r.source for r in recs}) == 2
    return default_pipeline.process_batch(recs)


def _pairs(res: Result) -> list[tuple[str, str, str]]:
    """(entity type, original, surrogate) for every span the transformer replaced: the kept findings and the
    later mentions propagation added, in reading order (as Transformer.transform pairs them)."""
    assert res.transformed is not None
    kept = resolve_overlaps(res.findings)
    kept = sorted(kept + propagate(res.record, kept), key=lambda f: (f.segment, f.start))
    out = []
    for f, a in zip(kept, res.transformed.applied, strict=True):
        original = res.record.segments[f.segment].text[f.start : f.end]
        out.append((f.entity_type, original, res.transformed.texts[a.segment][a.start : a.end]))
    return out


def test_one_person_one_surrogate_across_files(split_results: list[Result]) -> None:
    surrogates: dict[str, set[str]] = defaultdict(set)
    files: dict[str, set[str]] = defaultdict(set)
    for res in split_results:
        assert res.error is None
        full = {}
        for etype, original, fake in _pairs(res):
            if etype == "PERSON" and len(original.split()) == 2:
                surrogates[original].add(fake)
                files[original].add(res.record.source)
                full[original.split()[0]] = fake.split()[0]
        for etype, original, fake in _pairs(res):
            if etype == "PERSON" and original in full:  # "Thanks Alexandra," beside "Alexandra Chavez"
                assert fake == full[original]
    across = [n for n in surrogates if len(files[n]) == 2]
    assert len(across) >= 3, "samples should hold people named in both files"
    for name in surrogates:
        assert len(surrogates[name]) == 1, "a person got two different surrogates"
        assert name not in next(iter(surrogates[name]))


def test_default_policy_verification_passes_on_samples(split_results: list[Result]) -> None:
    failed = [(r.record.id, [(f.check, f.entity_type) for f in r.verification.failures]) for r in split_results
              if not r.verification.passed]
    assert failed == []


def test_planted_leak_is_caught_by_the_rescan_and_quarantined(default_pipeline) -> None:  # type: ignore[no-untyped-def]
    """The real detector, transformer, verifier and router; the first pass is made to miss the card."""
    from prepkit.records import Route, Segment
    from prepkit.route import decide

    text = "Hi, this is Dana Whitfield. Please refund card 4539 1488 0343 6467 today."
    rec = Record("planted", "planted.jsonl", "text", [Segment("text", text)], {"doc_type": "chat"})
    found = default_pipeline.detector.detect([rec])[0]
    assert any(f.entity_type == "CREDIT_CARD" for f in found)
    missed = [f for f in found if f.entity_type != "CREDIT_CARD"]
    out = default_pipeline.transformer.transform(rec, missed)
    ver = default_pipeline.verifier.verify(rec, missed, out)
    assert not ver.passed and ("pattern_rescan", "CREDIT_CARD") in {(f.check, f.entity_type) for f in ver.failures}
    assert decide(default_pipeline.policy, rec, missed, ver).route == Route.QUARANTINE
    # With the full first pass the same record passes and the card is gone.
    out = default_pipeline.transformer.transform(rec, found)
    assert default_pipeline.verifier.verify(rec, found, out).passed and "4539" not in out.texts[0]
