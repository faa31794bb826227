"""Engines run the same per-batch function; outputs must not depend on the engine or the worker count."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from prepkit.engine import WorkerSpec, expected_chars, make_engine
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
    engines = [json.loads((o / "summary.json").read_text())["engine"] for o in (in_process_run, pooled)]
    assert engines == [{"name": "local", "workers": 1}, {"name": "multiprocess", "workers": 2}]


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


def test_unknown_engine(default_pipeline):
    spec = WorkerSpec.of(default_pipeline.loaded, default_pipeline.keyring)
    with pytest.raises(ValueError, match="unknown engine 'spark'"):
        make_engine("spark", spec)


def test_expected_chars_counts_compressed_inputs_as_more_text(tmp_path):
    import gzip

    plain = tmp_path / "a.jsonl"
    plain.write_text('{"text": "' + "word " * 2000 + '"}\n')
    packed = tmp_path / "b.jsonl.gz"
    packed.write_bytes(gzip.compress(plain.read_bytes()))
    assert 0.8 * plain.stat().st_size < expected_chars([plain]) <= plain.stat().st_size
    assert expected_chars([packed]) > packed.stat().st_size  # 10 kB of text squeezed into ~100 bytes
    assert expected_chars([tmp_path / "missing.jsonl"]) == 0


def test_auto_engine_starts_helpers_only_when_the_remaining_work_pays_for_their_model_load(default_pipeline):
    from prepkit.engine.auto import AutoEngine

    spec = WorkerSpec.of(default_pipeline.loaded, default_pipeline.keyring)
    two = AutoEngine(spec, 2, expected_chars=1_000_000, pool=lambda n, b: None)  # type: ignore[arg-type,return-value]
    # 2 s of model load: helpers cost 3.5 s to start; 100k of the 1M characters done
    assert not two._pays(2.0, 0.5, 100_000)  # 4.5 s left, a second core saves 2.25 s: not worth it
    assert two._pays(2.0, 1.0, 100_000)  # 9 s left: 4.5 s saved
    # past the estimate (a compressed input held more): only a long run so far says more is coming
    assert not two._pays(2.0, 5.0, 1_000_000) and two._pays(2.0, 30.0, 1_000_000)
    one = AutoEngine(spec, 1, expected_chars=10**9, pool=lambda n, b: None)  # type: ignore[arg-type,return-value]
    assert not one._pays(2.0, 10.0, 1_000)  # one core: nothing to gain
    # helpers that fork from here (inheriting the models) cost only the fork: on a big enough input they start
    # before the first batch, on a guess that errs towards fewer workers; a small input still runs here alone
    forked = lambda chars: AutoEngine(spec, 2, expected_chars=chars, pool=lambda n, b: None,  # type: ignore  # noqa: E731
                                      inherits=True)
    assert forked(1_000_000)._pays_at_once(20_000) and not forked(50_000)._pays_at_once(20_000)
    assert not forked(None)._pays_at_once(20_000) and not two._pays_at_once(20_000)
    assert not forked(1_000_000)._pays_at_once(1_000_000)  # one long record: nothing for a helper to share
    assert forked(1_000_000)._pays(2.0, 0.5, 100_000)  # where the loading ones would not (above)


def _auto_records(n: int) -> list[list[Record]]:
    recs = [Record(f"r{i}", "t", "text", [Segment("text", f"Ticket {i}: call Anna Lee on 212-555-01{i:02d} or "
                                                          f"write to anna.lee{i}@example.com.")]) for i in range(n)]
    return [recs[i:i + 4] for i in range(0, n, 4)]


def test_auto_engine_stays_in_process_when_little_work_is_left(default_pipeline):
    from prepkit.engine.auto import AutoEngine
    from prepkit.engine.multiprocess import MultiprocessEngine

    spec = WorkerSpec.of(default_pipeline.loaded, default_pipeline.keyring)
    started: list[int] = []
    # size unknown (stdin): helpers start only after twice their start cost (at least a second) of work here
    engine = AutoEngine(spec, 2, expected_chars=None, pool=lambda n, b: started.append(n) or MultiprocessEngine(spec, n))
    out = [r for b in engine.map(_auto_records(8)) for r in b]
    engine.close()
    assert started == [] and engine.workers_used == 1
    assert [r.record.id for r in out] == [f"r{i}" for i in range(8)]



def test_auto_engine_starts_no_pool_after_the_last_batch(default_pipeline):
    # one long record is one batch: once it is done there is nothing left to share, whatever its cost said
    from prepkit.engine.auto import AutoEngine
    from prepkit.engine.multiprocess import MultiprocessEngine

    class PaysAlways(AutoEngine):
        def _pays(self, load_s: float, work_s: float, done_chars: int) -> bool:
            return True

    spec = WorkerSpec.of(default_pipeline.loaded, default_pipeline.keyring)
    for batches, want in ((_auto_records(4), []), (_auto_records(8), [1])):
        started: list[int] = []
        engine = PaysAlways(spec, 2, expected_chars=None, inherits=True,
                            pool=lambda n, b: started.append(n) or MultiprocessEngine(spec, n, b))  # noqa: B023
        out = [r.record.id for b in engine.map(batches) for r in b]
        engine.close()
        assert started == want and out == [r.id for b in batches for r in b]


def _local_results(spec: WorkerSpec, batches: list[list[Record]]) -> list[tuple[object, ...]]:
    """(id, transformed, decision) per record, computed in this process: what every engine must give."""
    local = make_engine("local", spec, 1)
    want = [(r.record.id, r.transformed, r.decision) for b in local.map(batches) for r in b]
    local.close()
    return want


def test_auto_engine_starts_a_pool_when_the_remaining_work_pays_and_outputs_do_not_change(default_pipeline):
    from prepkit.engine.auto import AutoEngine
    from prepkit.engine.multiprocess import MultiprocessEngine

    spec = WorkerSpec.of(default_pipeline.loaded, default_pipeline.keyring)
    batches = _auto_records(12)
    want = _local_results(spec, batches)
    # a run that promises a billion characters: the first batch's measured cost says a helper pays at once; from
    # then on this process and one pool worker share the batches
    engine = AutoEngine(spec, 2, expected_chars=10**9, pool=lambda n, b: MultiprocessEngine(spec, n))
    got = [(r.record.id, r.transformed, r.decision) for b in engine.map(batches) for r in b]
    assert engine.workers_used == 2 and isinstance(engine.pool, MultiprocessEngine) and engine.pool.workers == 1
    assert got == want
    # a second map (corpus recall's re-checks) goes to the same two workers, in order
    again = [(r.record.id, r.transformed, r.decision) for b in engine.map(batches[::-1]) for r in b]
    engine.close()
    assert again == [x for b in batches[::-1] for x in want if x[0] in {r.id for r in b}]


@pytest.mark.skipif(not __import__("prepkit.engine.multiprocess", fromlist=["x"]).can_inherit()
                    or __import__("prepkit.engine", fromlist=["x"]).cpu_count() < 2,
                    reason="workers inherit a built pipeline only where they can be forked (Linux), with 2+ cores")
def test_auto_engine_helpers_inherit_the_pipeline_built_here_instead_of_loading_models(default_pipeline):
    import dataclasses
    import gc

    from prepkit.engine import BatchProcessor
    from prepkit.engine.auto import AutoEngine
    from prepkit.engine.multiprocess import MultiprocessEngine

    spec = WorkerSpec.of(default_pipeline.loaded, default_pipeline.keyring)
    batches = _auto_records(12)
    want = _local_results(spec, batches)
    # A worker that built its own pipeline from this spec would fail: the spaCy model it names does not exist.
    # The forked helper must use the pipeline this process built, already loaded.
    broken = dataclasses.replace(spec, spacy_model="no_such_spacy_model")
    built = BatchProcessor(broken)
    built._pipeline = default_pipeline
    pool = MultiprocessEngine(broken, 1, built)
    try:
        # the objects the workers share were moved out of the collector's reach before the fork
        assert gc.get_freeze_count() > 0
        got = [(r.record.id, r.transformed, r.decision) for b in pool.map(batches) for r in b]
    finally:
        pool.close()
        gc.unfreeze()
    assert got == want
    # the default engine wires it so: its pool factory is handed the processor it built
    handed: list[object] = []
    auto = make_engine("local", spec, None, expected_chars=10**9)
    assert isinstance(auto, AutoEngine) and auto.inherits
    factory = auto._pool_factory
    auto._pool_factory = lambda n, b: handed.append(b) or factory(n, b)
    out = [(r.record.id, r.transformed, r.decision) for b in auto.map(batches) for r in b]
    auto.close()
    assert out == want and handed == [auto._processor] and auto.workers_used == auto.max_workers >= 2

def test_cli_and_pool_workers_tune_the_garbage_collector_for_batch_work(default_pipeline, monkeypatch):
    import gc

    from click.testing import CliRunner

    from prepkit.cli import main
    from prepkit.engine.gc_tuning import THRESHOLDS
    from prepkit.engine.multiprocess import MultiprocessEngine

    before = gc.get_threshold()
    gc.set_threshold(700, 10, 10)  # CPython's defaults (other tests may have run the CLI in this process)
    try:
        assert CliRunner().invoke(main, ["policy", "show", "policies/default.yaml"]).exit_code == 0
        assert gc.get_threshold() == THRESHOLDS
    finally:
        gc.set_threshold(*before)
    # a worker that builds its own pipeline (fork server, spawn) tunes its own collector
    pool = MultiprocessEngine(WorkerSpec.of(default_pipeline.loaded, default_pipeline.keyring), 1)
    try:
        assert tuple(pool.pool.apply(gc.get_threshold)) == THRESHOLDS
    finally:
        pool.close()


def test_ray_engine_output_is_identical_to_local(in_process_run, tmp_path, monkeypatch):
    pytest.importorskip("ray.data", reason="Ray Data is the optional extra prepkit[ray]")
    monkeypatch.delenv("RAY_ADDRESS", raising=False)  # a private local Ray, never someone's cluster
    out = _run(tmp_path, "ray", workers=2, engine="ray", batch_size=16, **_no_cache())
    assert _data(out) == _data(in_process_run)
    assert _stable_summary(out) == _stable_summary(in_process_run)
    assert _audit_decisions(out) == _audit_decisions(in_process_run)
