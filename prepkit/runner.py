"""A whole run, composed: read inputs → the driver (cache, engine, routing with the pre-sink filters) → the
route's sink, the audit log and the counts → summary, report, manifest.

Records keep their input order whatever the worker count, so outputs are byte-identical across runs and
`--workers` settings.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prepkit import uptodate
from prepkit.audit import AuditLog
from prepkit.cache import CACHE_DIR, CACHE_FILE, ResultCache, clean_stale_temp_files
from prepkit.detect.corpus import for_policy
from prepkit.driver import Driver
from prepkit.engine import DeferredEngine, WorkerSpec, cpu_count, expected_chars, make_engine
from prepkit.errors import PrepkitError
from prepkit.ids import RunIds
from prepkit.io.readers import InputError, find_inputs, read_file, require_extras
from prepkit.io.sources import is_stdin
from prepkit.keys import KeyRing, load_keyring
from prepkit.pipeline import input_options
from prepkit.policy import LoadedPolicy, load_policy
from prepkit.records import Record, Rejected, Result
from prepkit.report import ReportNotes
from prepkit.route import Router
from prepkit.runlock import RunLock
from prepkit.sinks.files import ensure_private_dir, write_json
from prepkit.sinks.routes import RouteSinks
from prepkit.stats import RunStats
from prepkit.versions import output_versions

if TYPE_CHECKING:
    from prepkit.engine.ray import ClusterRead


class StrictInputError(PrepkitError):
    def __init__(self, rejected: Rejected):
        self.rejected = rejected
        super().__init__(f"{rejected.location()}: {rejected.reason}")

    def __reduce__(self) -> tuple[Any, ...]:  # picklable, should it ever cross a process boundary
        return (StrictInputError, (self.rejected,))


@dataclass
class RunConfig:
    policy: str | Path
    inputs: list[str | Path]
    out: str | Path
    spacy_model: str | None = None
    text_field: str | None = None
    id_field: str | None = None
    text_columns: tuple[str, ...] | None = None
    workers: int | None = 1  # None: in-process until the measured work says a pool pays (engine.auto)
    engine: str = "local"  # prepkit.engine.ENGINES: local (in-process or a process pool), multiprocess, ray
    batch_size: int = 64
    strict: bool = False
    finetune_format: str | None = None
    rag_url: str | None = None
    sync: bool = False
    today: dt.date | None = None
    cache: bool = True  # reuse/store per-record results in OUT/.cache (incremental re-runs, --resume)
    resume: bool = False  # continue an interrupted run: requires OUT/.cache from an earlier run
    force: bool = False  # process every record even when OUT is up to date (prepkit.uptodate)


@dataclass
class RunOutcome:
    summary: dict[str, Any]
    out_dir: Path
    exit_code: int
    results_examples: list[dict[str, Any]] = field(default_factory=list)


# -- the run ----------------------------------------------------------------------------------------------
def run(cfg: RunConfig, *, keyring: KeyRing | None = None,
        progress: Callable[[int], None] | None = None) -> RunOutcome:
    with RunLock() as lock:
        return _run(cfg, lock, keyring=keyring, progress=progress)


def _run(cfg: RunConfig, lock: RunLock, *, keyring: KeyRing | None = None,
         progress: Callable[[int], None] | None = None) -> RunOutcome:
    started = time.monotonic()
    loaded = _loaded(cfg)
    policy = loaded.policy
    keyring = keyring or load_keyring(policy.keys.key_file)
    assert keyring is not None
    # Raises InputError for a path that does not exist or a missing extra, before any output. OUT is never read
    # as input, even inside an input folder.
    found = find_inputs(cfg.inputs, exclude=[cfg.out])
    files = found.files
    require_extras(files)
    # ids, file names, roles and column names reach outputs unscanned: pseudonymize any that could identify
    ids = RunIds(keyring)
    files = [(path, ids.source(name)) for path, name in files]
    opts = input_options(loaded, text_field=cfg.text_field, id_field=cfg.id_field, text_columns=cfg.text_columns)

    if cfg.resume and not (Path(cfg.out) / CACHE_DIR / CACHE_FILE).exists():
        raise InputError(f"{cfg.out}: nothing to resume (no {CACHE_DIR}/ from an earlier run with the cache on); "
                         "run without --resume")
    out = ensure_private_dir(Path(cfg.out))
    lock.acquire(out)  # before touching anything in OUT, temp files of a live run included
    clean_stale_temp_files(out)  # half-written files of a killed run
    run_id = uuid.uuid4().hex[:16]
    versions = output_versions(cfg.spacy_model or policy.detection.spacy_model)
    fp = _fingerprint(cfg, loaded, keyring, versions, files)
    if fp is not None and not cfg.force:
        prev = uptodate.previous(out, fp)
        if prev is not None and isinstance(prev.get("summary"), dict):
            return _up_to_date(cfg, loaded, keyring, out, run_id, versions, files, fp, prev, started)
        uptodate.forget(out)  # this run changes OUT: the last run's state no longer describes it
    cache = ResultCache.open(out, keyring, {"policy": loaded.sha256, "versions": versions}) \
        if cfg.cache or cfg.resume else None
    audit = AuditLog(out / "audit.jsonl", keyring=keyring if policy.outputs.audit.hmac else None, run_id=run_id,
                     policy=loaded.identity, versions=versions)
    audit.append("run_start", inputs=[name for _, name in files], workers=cfg.workers or cpu_count())  # auto: the most it may start

    sinks = RouteSinks.open(out, loaded, keyring, memo=cache, rag_url=cfg.rag_url, sync=cfg.sync)
    stats = RunStats(inputs=[name for _, name in files])
    notes = ReportNotes()  # counts per rule, quarantined ids, varied examples

    def stream() -> Iterator[Record | Rejected]:
        for path, name in files:
            for item in read_file(path, name, opts):
                yield ids.admit(item)  # unique ids, and no identifier that could carry personal data

    spec = WorkerSpec.of(loaded, keyring, cfg.spacy_model, cfg.batch_size)
    items: Iterator[Record | Rejected]
    engine: DeferredEngine | ClusterRead
    if cfg.engine == "ray" and not any(is_stdin(path) for path, _ in files):
        # the cluster reads the files too (prepkit.engine.ray): one streaming dataset for the whole job
        from prepkit.engine.ray import RayEngine

        engine = RayEngine(spec, cfg.workers).read(files, opts, ids, cache.probe() if cache is not None else None)
        items = engine.items()
    else:
        # The engine starts on the first cache miss: a fully cached re-run never starts workers or loads models.
        chars = expected_chars(path for path, _ in files)
        items, engine = stream(), DeferredEngine(lambda: make_engine(cfg.engine, spec, cfg.workers, chars))
    driver = Driver(engine, batch_size=cfg.batch_size, cache=cache, policy=policy,
                    router=Router(sinks.filters(), stats), stats=stats, stop_at_rejected=cfg.strict,
                    recall=for_policy(policy), spill_dir=out, progress=progress)
    interrupted = False
    try:
        for item in driver.results(items):
            if isinstance(item, Rejected):
                if cfg.strict:
                    if cache is not None:
                        cache.close()  # keep the work done so far for the next run
                    raise StrictInputError(item)
                _reject(item, sinks, audit, stats)
                continue
            _deliver(item, sinks, audit, stats)
            notes.observe(item, _example)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        engine.close()

    if cache is not None:
        cache.close(prune=not interrupted)  # a complete run saw every record: entries it did not use are stale
    figures = sinks.close(stats)
    summary = stats.summary(run_id, loaded.identity, time.monotonic() - started)
    summary.update(notes.summary())
    examples = notes.final_examples()
    summary["finetune"] = figures["finetune"]
    summary["rag"] = figures["rag"]
    summary["interrupted"] = interrupted
    summary["cache"] = cache.stats() if cache is not None else None
    summary["engine"] = engine.describe()
    summary["skipped"] = found.skipped()
    summary["identifiers"] = ids.stats()
    summary["corpus_recall"] = driver.corpus_summary()
    checkpoint = audit.close(records=summary["records_in"], routes=summary["routes"],
                             conservation_ok=summary["conservation"]["ok"], interrupted=interrupted)
    write_json(out / "summary.json", summary)
    _write_report(out, summary, examples)
    _write_manifest(out, summary, checkpoint, loaded)
    code = exit_code(summary)
    if fp is not None and code in (0, 2) and summary["conservation"]["ok"]:
        uptodate.remember(out, fp, run_id, summary, examples)
    return RunOutcome(summary, out, code, examples)


def _loaded(cfg: RunConfig) -> LoadedPolicy:
    loaded = load_policy(cfg.policy)
    if not cfg.finetune_format:
        return loaded
    policy = loaded.policy
    ft = policy.outputs.finetune.model_copy(update={"format": cfg.finetune_format})
    outputs = policy.outputs.model_copy(update={"finetune": ft})
    return LoadedPolicy(policy.model_copy(update={"outputs": outputs}), loaded.path, loaded.sha256, loaded.lines)


def _deliver(res: Result, sinks: RouteSinks, audit: AuditLog, stats: RunStats) -> None:
    """A record with its final decision: into its route's sink, the subject index, the audit log, the counts."""
    t0 = time.perf_counter()
    sinks.of(res.decision.route).add(res)
    sinks.rag.index(res)  # for every record, so one that failed closed also drops its old chunks
    stats.step(f"sink_{res.decision.route.value}", time.perf_counter() - t0)
    audit.record(res)
    stats.count(res)


def _reject(rej: Rejected, sinks: RouteSinks, audit: AuditLog, stats: RunStats) -> None:
    sinks.rejected.add(rej)
    stats.count_rejected(rej)
    audit.append("rejected", source=rej.source, line=rej.line, field=rej.field, reason=rej.reason,
                 input_sha256=rej.raw_sha256, route="rejected")


def _fingerprint(cfg: RunConfig, loaded: LoadedPolicy, keyring: KeyRing, versions: dict[str, str],
                 files: list[tuple[Path, str]]) -> str | None:
    """The up-to-date fingerprint of this run, or None where the run-level short cut does not apply."""
    rag = loaded.policy.outputs.rag
    if any(is_stdin(p) for p, _ in files):  # standard input cannot be read twice to fingerprint it
        return None
    if not cfg.cache or cfg.resume or cfg.rag_url or rag.backend == "postgres" or rag.url:
        return None
    options = {"text_field": cfg.text_field, "id_field": cfg.id_field, "text_columns": cfg.text_columns,
               "finetune_format": cfg.finetune_format, "strict": cfg.strict, "sync": cfg.sync,
               "spacy_model": cfg.spacy_model}
    today = str(cfg.today or dt.date.today()) if uptodate.date_dependent(loaded) else None
    return uptodate.fingerprint(keyring, loaded, versions, [(Path(p), n) for p, n in files], options, today)


def _up_to_date(cfg: RunConfig, loaded: LoadedPolicy, keyring: KeyRing, out: Path, run_id: str,
                versions: dict[str, str], files: list[tuple[Path, str]], fp: str, prev: dict[str, Any],
                started: float) -> RunOutcome:
    """Nothing changed since the last complete run (see prepkit.uptodate): its deliverables stand; this run
    logs that it checked, and rewrites its own summary, report and manifest."""
    summary = dict(prev["summary"])
    same_as = summary.get("run_id")
    audit = AuditLog(out / "audit.jsonl", keyring=keyring if loaded.policy.outputs.audit.hmac else None,
                     run_id=run_id, policy=loaded.identity, versions=versions)
    audit.append("run_start", inputs=[name for _, name in files], workers=cfg.workers or cpu_count())  # auto: the most it may start
    audit.append("up_to_date", same_as_run_id=same_as)
    summary.update(run_id=run_id, up_to_date={"same_as": same_as}, interrupted=False,
                   cache={"hits": 0, "misses": 0, "stored": 0, "pruned": 0},
                   duration_s=round(time.monotonic() - started, 3))
    checkpoint = audit.close(records=summary.get("records_in"), routes=summary.get("routes"),
                             conservation_ok=(summary.get("conservation") or {}).get("ok"), interrupted=False,
                             up_to_date_run_id=same_as)
    examples = list(prev.get("examples") or [])
    write_json(out / "summary.json", summary)
    _write_report(out, summary, examples)
    _write_manifest(out, summary, checkpoint, loaded)
    uptodate.remember(out, fp, run_id, summary, examples)
    return RunOutcome(summary, out, exit_code(summary), examples)


def exit_code(summary: dict[str, Any]) -> int:
    """130 interrupted; 2 when the counts do not add up or any input was rejected (an input error, decided after
    every input was seen, so the outputs of the good records are written); else 0."""
    if summary.get("interrupted"):
        return 130
    if not summary["conservation"]["ok"] or summary["routes"].get("rejected"):
        return 2
    return 0


def _example(res: Result) -> dict[str, Any]:
    from prepkit.report import mask_value

    assert res.transformed is not None
    seg = min({f.segment for f in res.findings})
    text = res.record.segments[seg].text
    parts, last = [], 0
    for f in sorted((f for f in res.findings if f.segment == seg), key=lambda f: f.start):
        if f.start < last:
            continue
        parts.append(text[last:f.start])
        parts.append(mask_value(text[f.start:f.end]))
        last = f.end
    parts.append(text[last:])
    return {"record_id": res.record.id, "route": str(res.decision.route), "before": "".join(parts)[:600],
            "after": res.transformed.texts[seg][:600],
            "entities": sorted({f.entity_type for f in res.findings if f.segment == seg})}


def _write_report(out: Path, summary: dict[str, Any], examples: list[dict[str, Any]]) -> None:
    from prepkit.report import write_report

    write_report(out, summary, examples)


def _write_manifest(out: Path, summary: dict[str, Any], checkpoint: dict[str, Any], loaded: LoadedPolicy) -> None:
    # hidden entries (the result cache, temp files) are internal, not deliverables
    write_json(out / "manifest.json", {"run_id": summary["run_id"], "policy": loaded.identity,
                                        "audit_checkpoint": checkpoint, "files": uptodate.manifest_files(out)})
