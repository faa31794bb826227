"""A whole run: read inputs → Pipeline (on an engine: in-process, a pool of workers, or Ray) → sinks, audit,
summary, manifest.

Records keep their input order whatever the worker count, so outputs are byte-identical across runs and
`--workers` settings.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prepkit import uptodate
from prepkit.audit import AuditLog
from prepkit.cache import CACHE_DIR, ResultCache, clean_stale_temp_files, replay
from prepkit.engine import DeferredEngine, Engine, WorkerSpec, make_engine
from prepkit.ids import RunIds
from prepkit.io.readers import InputError, find_inputs, read_file, require_extras
from prepkit.io.sources import is_stdin
from prepkit.keys import KeyRing, load_keyring
from prepkit.pipeline import input_options
from prepkit.policy import LoadedPolicy, load_policy
from prepkit.records import Decision, Record, Rejected, Result, Route
from prepkit.report import ReportNotes
from prepkit.runlock import RunLock
from prepkit.sinks.files import ensure_private_dir, write_json
from prepkit.sinks.finetune import FinetuneWriter
from prepkit.sinks.quarantine import QuarantineWriter, RejectedWriter


class StrictInputError(Exception):
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
    workers: int = 1
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


def _batches(items: Iterable[Record | Rejected], size: int,
             on_rejected: Callable[[Rejected], None]) -> Iterator[list[Record]]:
    batch: list[Record] = []
    for item in items:
        if isinstance(item, Rejected):
            on_rejected(item)
            continue
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


# -- the run ----------------------------------------------------------------------------------------------
def run(cfg: RunConfig, *, keyring: KeyRing | None = None,
        progress: Callable[[int], None] | None = None) -> RunOutcome:
    with RunLock() as lock:
        return _run(cfg, lock, keyring=keyring, progress=progress)


def _run(cfg: RunConfig, lock: RunLock, *, keyring: KeyRing | None = None,
         progress: Callable[[int], None] | None = None) -> RunOutcome:
    started = time.monotonic()
    loaded = load_policy(cfg.policy)
    policy = loaded.policy
    if cfg.finetune_format:
        ft = policy.outputs.finetune.model_copy(update={"format": cfg.finetune_format})
        outputs = policy.outputs.model_copy(update={"finetune": ft})
        policy = policy.model_copy(update={"outputs": outputs})
        loaded = LoadedPolicy(policy, loaded.path, loaded.sha256, loaded.lines)
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

    if cfg.resume and not _cache_path(cfg.out).exists():
        raise InputError(f"{cfg.out}: nothing to resume (no {CACHE_DIR}/ from an earlier run with the cache on); "
                         "run without --resume")
    out = ensure_private_dir(Path(cfg.out))
    lock.acquire(out)  # before touching anything in OUT, temp files of a live run included
    clean_stale_temp_files(out)  # half-written files of a killed run
    run_id = uuid.uuid4().hex[:16]
    versions = _versions(loaded, cfg.spacy_model)
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
    audit.append("run_start", inputs=[name for _, name in files], workers=cfg.workers)

    finetune = FinetuneWriter(out, policy.outputs.finetune, policy=loaded, memo=cache)
    quarantine = QuarantineWriter(out, keyring)
    rejected = RejectedWriter(out)
    rag = _rag_writer(out, loaded, keyring, cfg.rag_url)

    stats = _Stats()
    notes = ReportNotes()  # counts per rule, quarantined ids, varied examples

    strict_stop: list[Rejected] = []

    def on_rejected(rej: Rejected) -> None:
        if cfg.strict:
            # Not raised here: this runs inside the input generator, which a worker pool consumes from its own
            # thread (an exception there hung the pool). The stream stops and the main loop raises below.
            strict_stop.append(rej)
            return
        rejected.add(rej)
        stats.count_rejected(rej)
        audit.append("rejected", source=rej.source, line=rej.line, field=rej.field, reason=rej.reason,
                     input_sha256=rej.raw_sha256, route="rejected")

    def stream() -> Iterator[Record | Rejected]:
        for path, name in files:
            for item in read_file(path, name, opts):
                if strict_stop:
                    return
                yield ids.admit(item)  # unique ids, and no identifier that could carry personal data

    pending: deque[tuple[list[Record], list[Any]]] = deque()

    def misses() -> Iterator[list[Record]]:
        # Cache hits stay here; only misses go to the pipeline (in order, so results line up below).
        for b in _batches(stream(), cfg.batch_size, on_rejected):
            hits = cache.get_many(b) if cache is not None else [None] * len(b)
            pending.append((b, hits))
            yield [r for r, h in zip(b, hits, strict=True) if h is None]

    interrupted = False
    engine: Engine | None = None
    try:
        batches = misses()
        # The engine starts on the first cache miss: a fully cached re-run never starts workers or loads models.
        spec = WorkerSpec.of(loaded, keyring, cfg.spacy_model, cfg.batch_size)
        engine = DeferredEngine(lambda: make_engine(cfg.engine, spec, cfg.workers))
        result_batches: Iterable[list[Result]] = engine.map(batches)
        for fresh in result_batches:
            batch, hits = pending.popleft()
            results = _merge(batch, hits, fresh, loaded, cache)
            for res in results:
                _dispatch(res, finetune, rag, quarantine, audit, stats)
                notes.observe(res, _example)
            if progress:
                progress(sum(r.record.char_count for r in results))
        if strict_stop:
            if cache is not None:
                cache.close()  # keep the work done so far for the next run
            raise StrictInputError(strict_stop[0])
    except KeyboardInterrupt:
        interrupted = True
    finally:
        if engine is not None:
            engine.close()

    if cache is not None:
        cache.close(prune=not interrupted)  # a complete run saw every record: entries it did not use are stale
    ft_stats = finetune.close(run={"routes": dict(stats.routes), "reasons": dict(stats.reasons),
                                   "inputs": [name for _, name in files]})
    stats.quarantined_written = quarantine.close()
    rejected.close()
    rag_stats = rag.close(sync=cfg.sync, seen_ids=stats.seen_ids) if rag is not None else {}

    summary = stats.summary(run_id, loaded, [name for _, name in files], time.monotonic() - started)
    summary.update(notes.summary())
    examples = notes.final_examples()
    summary["finetune"] = ft_stats
    summary["rag"] = rag_stats
    summary["interrupted"] = interrupted
    summary["cache"] = cache.stats() if cache is not None else None
    summary["skipped"] = found.skipped()
    summary["identifiers"] = ids.stats()
    checkpoint = audit.close(records=summary["records_in"], routes=summary["routes"],
                             conservation_ok=summary["conservation"]["ok"], interrupted=interrupted)
    write_json(out / "summary.json", summary)
    _write_report(out, summary, examples)
    _write_manifest(out, summary, checkpoint, loaded)
    code = exit_code(summary)
    if fp is not None and code in (0, 2) and summary["conservation"]["ok"]:
        uptodate.remember(out, fp, run_id, summary, examples)
    return RunOutcome(summary, out, code, examples)


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
    audit.append("run_start", inputs=[name for _, name in files], workers=cfg.workers)
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


def _cache_path(out: str | Path) -> Path:
    from prepkit.cache import CACHE_FILE

    return Path(out) / CACHE_DIR / CACHE_FILE


def _merge(batch: list[Record], hits: list[Any], fresh: list[Result], loaded: LoadedPolicy,
           cache: ResultCache | None) -> list[Result]:
    """Results in input order: cached ones replayed through routing, fresh ones stored for the next run."""
    it = iter(fresh)
    out: list[Result] = []
    for rec, hit in zip(batch, hits, strict=True):
        if hit is not None:
            out.append(replay(loaded.policy, rec, hit))
            continue
        res = next(it)
        if cache is not None and res.error is None:
            cache.put(rec, res.findings, res.transformed, res.verification)
        out.append(res)
    return out


def _versions(loaded: LoadedPolicy, spacy_model: str | None) -> dict[str, str]:
    """What results depend on besides the policy. Read from package metadata, not by importing Presidio and
    spaCy (about a second): a fully cached re-run never needs them."""
    from importlib.metadata import PackageNotFoundError, version

    from prepkit import __version__
    from prepkit.model_ref import model_id

    def dist(name: str) -> str:
        try:
            return version(name)
        except PackageNotFoundError:
            return "unknown"

    name = spacy_model or loaded.policy.detection.spacy_model
    return {"prepkit": __version__, "presidio": dist("presidio-analyzer"), "spacy": dist("spacy"),
            "spacy_model": model_id(name) or _model_id(name)}


def _model_id(name: str) -> str:
    """`<meta name>-<meta version>` of an installed spaCy pipeline package or directory (what spacy.info reads)."""
    import importlib.util
    import json

    try:
        spec = importlib.util.find_spec(name) if name.isidentifier() else None
    except (ImportError, ValueError):
        spec = None
    dirs = list(spec.submodule_search_locations or []) if spec is not None else [name]
    for d in dirs:
        try:
            meta = json.loads((Path(d) / "meta.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(meta, dict):
            return f"{meta.get('name', name)}-{meta.get('version', '')}"
    return name


def _rag_writer(out: Path, loaded: LoadedPolicy, keyring: KeyRing, url: str | None) -> Any:
    try:
        from prepkit.rag import RagWriter
    except ImportError:
        return None
    return RagWriter(out, loaded, keyring, url)


def _dispatch(res: Result, finetune: FinetuneWriter, rag: Any, quarantine: QuarantineWriter, audit: AuditLog,
              stats: _Stats) -> None:
    if rag is not None and res.decision.route in (Route.FINETUNE, Route.RAG) and rag.erased_subject(res):
        # `prepkit forget` erased a subject this record holds: a re-run must not bring it back anywhere.
        res.decision = Decision(Route.DROP, "holds a data subject erased on request (GDPR art. 17)",
                                rule="erased-subject")
    route = res.decision.route
    if route == Route.FINETUNE:
        placed = finetune.add(res)
        if placed.withheld is not None:
            # A dataset filter (duplicate, length, mostly PII) kept it out: account for it as a drop with the
            # reason, so routes, audit log and conservation all agree with what was written.
            res.decision = Decision(Route.DROP, placed.reason, rule=f"finetune-filter:{placed.withheld}",
                                    labels=res.decision.labels)
    elif route == Route.RAG:
        if rag is not None:
            rag.add(res)
    elif route == Route.QUARANTINE:
        quarantine.add(res)
    if rag is not None:
        rag.index_subjects(res)  # for every record, so one that failed closed also drops its old chunks
    audit.record(res)
    stats.count(res)


def _example(res: Result) -> dict[str, Any]:
    try:
        from prepkit.report import mask_value
    except ImportError:
        def mask_value(s: str) -> str:
            return " ".join(w[:1] + "*" * (len(w) - 1) for w in s.split())
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


class _Stats:
    def __init__(self) -> None:
        self.routes: Counter[str] = Counter({r.value: 0 for r in Route})
        self.entities_before: Counter[str] = Counter()
        self.entities_after: Counter[str] = Counter()
        self.by_check: Counter[str] = Counter()
        self.operators: Counter[str] = Counter()
        self.reasons: Counter[str] = Counter()
        self.rejected_reasons: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.scores: dict[str, list[float]] = {}
        self.seen_ids: set[str] = set()
        self.chars = 0
        self.records_in = 0
        self.quarantined_written = 0

    def count_rejected(self, rej: Rejected) -> None:
        self.records_in += 1
        self.routes[Route.REJECTED.value] += 1
        # group by the reason's first clause so counts stay readable
        self.rejected_reasons[rej.reason.split(":")[0].split(";")[0]] += 1

    def count(self, res: Result) -> None:
        self.records_in += 1
        self.seen_ids.add(res.record.id)
        self.chars += res.record.char_count
        self.routes[res.decision.route.value] += 1
        self.reasons[res.decision.reason] += 1
        for f in res.findings:
            self.entities_before[f.entity_type] += 1
            self.scores.setdefault(f.entity_type, []).append(round(f.score, 2))
        for fail in res.verification.failures:
            self.by_check[fail.check] += 1
            self.entities_after[fail.entity_type] += 1
        self.operators.update(res.operators)
        if res.error:
            self.errors[res.error] += 1

    def summary(self, run_id: str, loaded: LoadedPolicy, inputs: list[str], duration: float) -> dict[str, Any]:
        accounted = sum(self.routes.values())
        return {
            "run_id": run_id,
            "policy": loaded.identity,
            "inputs": inputs,
            "records_in": self.records_in,
            "routes": dict(self.routes),
            "conservation": {"ok": accounted == self.records_in, "records_in": self.records_in,
                             "accounted": accounted,
                             "equation": "records_in = finetune + rag + quarantine + drop + rejected"},
            "entities_before": dict(sorted(self.entities_before.items())),
            "entities_after": dict(sorted(self.entities_after.items())),
            "verification_failures": {"by_check": dict(self.by_check), "by_entity": dict(self.entities_after)},
            "reasons": dict(self.reasons.most_common()),
            "rejected_reasons": dict(self.rejected_reasons.most_common()),
            "errors": dict(self.errors),
            "operators": dict(sorted(self.operators.items())),
            "scores": {k: _histogram(v) for k, v in sorted(self.scores.items())},
            "chars": self.chars,
            "duration_s": round(duration, 3),
        }


def _histogram(scores: list[float]) -> dict[str, int]:
    bins: Counter[str] = Counter()
    for s in scores:
        b = min(int(s * 10), 9) / 10
        bins[f"{b:.1f}-{b + 0.1:.1f}"] += 1
    return dict(sorted(bins.items()))


def _write_report(out: Path, summary: dict[str, Any], examples: list[dict[str, Any]]) -> None:
    from prepkit.report import write_report

    write_report(out, summary, examples)


def _write_manifest(out: Path, summary: dict[str, Any], checkpoint: dict[str, Any], loaded: LoadedPolicy) -> None:
    # hidden entries (the result cache, temp files) are internal, not deliverables
    write_json(out / "manifest.json", {"run_id": summary["run_id"], "policy": loaded.identity,
                                        "audit_checkpoint": checkpoint, "files": uptodate.manifest_files(out)})
