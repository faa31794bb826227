"""Engines run the same per-batch function; outputs must not depend on the engine or the worker count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prepkit.engine import WorkerSpec, default_workers, make_engine
from prepkit.records import Record, Segment

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "samples"
DEFAULT_POLICY = ROOT / "policies" / "default.yaml"
# Files whose bytes depend only on the input, policy and key (the audit log, summary, manifest and report carry
# the run id and timings; the RAG store is encrypted with fresh nonces).
DATA_FILES = ("finetune/train.jsonl", "finetune/validation.jsonl", "quarantine/records.jsonl", "rejected.jsonl")


def _data(out: Path) -> dict[str, bytes]:
    found = {name: (out / name).read_bytes() for name in DATA_FILES if (out / name).exists()}
    assert "quarantine/records.jsonl" in found and "finetune/train.jsonl" in found, sorted(p.name for p in
                                                                                          out.rglob("*"))
    return found


def _stable_summary(out: Path) -> dict[str, object]:
    s = json.loads((out / "summary.json").read_text())
    return {k: s[k] for k in ("records_in", "routes", "entities_before", "operators", "chars")}


def _audit_decisions(out: Path) -> list[tuple[object, ...]]:
    rows = [json.loads(line) for line in (out / "audit.jsonl").read_text().splitlines() if line.strip()]
    return [(r.get("record_id"), r.get("route"), r.get("reason")) for r in rows if r.get("record_id")]


def _run(tmp: Path, name: str, **kw: object):
    from prepkit.runner import RunConfig, run

    out = tmp / name
    outcome = run(RunConfig(policy=DEFAULT_POLICY, inputs=[SAMPLES], out=out, **kw))  # type: ignore[arg-type]
    assert outcome.exit_code == 0
    return out


def _no_cache() -> dict[str, object]:
    from prepkit.runner import RunConfig

    return {"cache": False} if "cache" in RunConfig.__dataclass_fields__ else {}


@pytest.fixture(scope="module")
def in_process_run(tmp_path_factory):
    return _run(tmp_path_factory.mktemp("engines"), "local1", workers=1, **_no_cache())


def test_process_pool_output_is_identical_to_in_process(in_process_run, tmp_path):
    pooled = _run(tmp_path, "local2", workers=2, **_no_cache())
    assert _data(pooled) == _data(in_process_run)
    assert _stable_summary(pooled) == _stable_summary(in_process_run)
    assert _audit_decisions(pooled) == _audit_decisions(in_process_run)


def test_engine_keeps_batch_order_and_skips_empty_batches(default_pipeline):
    spec = WorkerSpec.of(default_pipeline.loaded, default_pipeline.keyring)
    engine = make_engine("local", spec, workers=1)
    recs = [Record(f"r{i}", "t", "text", [Segment("text", f"Ticket {i}: call Anna Lee on 212-555-01{i:02d}.")])
            for i in range(5)]
    out = list(engine.map([recs[:3], [], recs[3:]]))
    engine.close()
    assert [len(b) for b in out] == [3, 0, 2]
    assert [r.record.id for b in out for r in b] == [r.id for r in recs]
    # the engine built no second set of models for the empty batch and found the phone in every record
    assert all(any(f.entity_type == "PHONE_NUMBER" for f in r.findings) for b in out for r in b)


def test_unknown_engine_and_default_workers(default_pipeline):
    spec = WorkerSpec.of(default_pipeline.loaded, default_pipeline.keyring)
    with pytest.raises(ValueError, match="unknown engine 'spark'"):
        make_engine("spark", spec)
    assert default_workers(10_000) == 1
    assert default_workers(50_000_000) >= 1


def test_ray_engine_output_is_identical_to_local(in_process_run, tmp_path, monkeypatch):
    pytest.importorskip("ray.data", reason="Ray Data is the optional extra prepkit[ray]")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)  # a private local Ray, never someone's cluster
    out = _run(tmp_path, "ray", workers=2, engine="ray", batch_size=16, **_no_cache())
    assert _data(out) == _data(in_process_run)
    assert _stable_summary(out) == _stable_summary(in_process_run)
    assert _audit_decisions(out) == _audit_decisions(in_process_run)
