"""Ray Data engine: one streaming dataset for the whole job, read on the cluster, one actor pool that loads the
models once per actor, results back to the driver in input order.

Two ways in, one pipeline (docs/scale-out.md):

- `RayEngine.read(files, ...)` (what `prepkit run --engine ray` uses for input files): the cluster reads them. One
  read task streams every file through prepkit's own readers (`prepkit.io.readers.read_file`: the same line gives
  the same record or the same Rejected, with the same file/line, as the local engine) and the same identifier rules
  (`RunIds`, which must see records in input order to keep ids unique), cut into batches. The files must be at the
  same path on every node (shared storage). Ray's `read_json`/`read_parquet` are not used: they parse with Arrow,
  which fails a whole block on one malformed line and knows no line numbers, so rejections would differ.
- `RayEngine.map(batches)` (the Engine contract: `prepkit scan`, standard input): the driver reads and feeds its
  batches through a queue actor into the same kind of read task.

Either way the read task feeds `map_batches` with an `ActorPoolStrategy` of `--workers` actors, which live as long
as the dataset, i.e. the whole job; `preserve_order` brings results back in input order and the driver writes the
outputs as they stream in (never materialising the dataset), so outputs are identical to the local engine. Records
the result cache already holds are not recomputed: actors get a `CacheProbe` (the cache's keys, no values) and
send such records back unprocessed; the driver replays them from its cache as the local engine does.

Sizing: each actor asks for PREPKIT_RAY_ACTOR_CPUS CPUs (default 1, so `--workers` actors spread over the
cluster's CPUs); the read task asks for none (it parses JSON while actors run NER, and a read task holding a CPU
could leave an actor without one).
"""

from __future__ import annotations

import functools
import logging
import os
import sys
import warnings
from collections import Counter, deque
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from prepkit.engine.base import Batch, BatchProcessor, WorkerSpec, decode, encode
from prepkit.errors import PrepkitError
from prepkit.records import Record, Redo, Rejected, Result

if TYPE_CHECKING:
    from prepkit.cache import CacheProbe
    from prepkit.ids import RunIds
    from prepkit.io.common import InputOptions

Item = Record | Rejected


class RayNotInstalled(PrepkitError):
    pass


# -- what the read task yields: one-row blocks, so every batch can go to a different actor ------------------------
def _block(seq: int, payload: bytes) -> Any:
    import pyarrow as pa

    return pa.table({"seq": pa.array([seq], pa.int64()), "payload": pa.array([payload], pa.large_binary())})


def _read_files(files: Sequence[tuple[str, str]], opts: InputOptions, master: bytes, key_source: str,
                batch_size: int) -> Iterator[Any]:
    """Runs on the cluster: every file in input order, as the local engine's driver reads it."""
    from prepkit.ids import RunIds
    from prepkit.io.readers import read_file
    from prepkit.keys import KeyRing

    ids = RunIds(KeyRing.from_bytes(master, key_source))
    seq = 0
    group: list[Item] = []
    n = 0
    for path, name in files:
        for item in read_file(Path(path), name, opts):
            group.append(ids.admit(item))
            n += isinstance(item, Record)
            # rejected lines ride with the records around them; a file of nothing but bad lines still streams
            if n >= batch_size or len(group) >= 4 * batch_size:
                yield _block(seq, encode(("items", group)))
                seq, group, n = seq + 1, [], 0
    if group:
        yield _block(seq, encode(("items", group)))
        seq += 1
    yield _block(seq, encode(("ids", (ids.renamed, dict(ids.pseudonymized)))))


def _read_queue(queue: Any) -> Iterator[Any]:
    """Runs on the cluster: the batches the driver puts in the queue, until it puts None."""
    seq = 0
    while True:
        payload = queue.get(block=True)
        if payload is None:
            return
        yield _block(seq, payload)
        seq += 1


def _source(read_fn: Any) -> Any:
    from ray.data import Datasource, ReadTask
    from ray.data.block import BlockMetadata

    class _OneStream(Datasource):
        """One read task that streams the whole job (ordering and RunIds need one reader)."""

        def estimate_inmemory_data_size(self) -> int | None:
            return None

        def get_read_tasks(self, parallelism: int, per_task_row_limit: int | None = None,
                           data_context: Any = None) -> list[Any]:
            meta = BlockMetadata(num_rows=None, size_bytes=None, exec_stats=None, input_files=None)
            return [ReadTask(read_fn, meta)]

    return _OneStream()


class _RayActor:
    """Ray Data builds this once per actor for the dataset's life (the whole job); the models load on the first
    batch with work in it."""

    def __init__(self, spec: WorkerSpec, probe: CacheProbe | None) -> None:
        import ray

        from prepkit.engine.gc_tuning import tune_for_batch_work
        from prepkit.nlp_stack import defer_torch_in_this_process

        # a Ray worker process serves this actor alone: spaCy/Presidio load without torch, and the collector is
        # tuned, as in a CLI worker
        defer_torch_in_this_process()
        tune_for_batch_work()
        self.processor = BatchProcessor(spec)
        self.probe = probe
        self.node = ray.get_runtime_context().get_node_id()

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        import numpy as np

        out = np.empty(len(batch["payload"]), dtype=object)  # object, not numpy's fixed-width bytes
        out[:] = [self._one(p) for p in batch["payload"]]
        return {"seq": batch["seq"], "payload": out, "node": np.array([self.node] * len(out), dtype=object)}

    def _one(self, payload: bytes) -> bytes:
        kind, data = decode(payload)
        if kind == "batch":  # fed by the driver: records in, results out
            return encode(("results", self.processor(data)))
        if kind != "items":
            return payload  # the reader's closing counts pass through
        items: list[Item] = data
        todo = [x for x in items if isinstance(x, Record) and not (self.probe and self.probe.holds(x))]
        computed = iter(self.processor(todo))
        done = {id(r): res for r, res in zip(todo, computed, strict=True)}
        # per item: the Rejected, the Result, or the Record itself when the driver's cache holds it
        return encode(("items", [done.get(id(x), x) if isinstance(x, Record) else x for x in items]))


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    try:
        return float(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number") from None


class RayEngine:
    name = "ray"

    def __init__(self, spec: WorkerSpec, workers: int | None) -> None:
        """`workers`: the number of actors; None: as many as the cluster's CPUs hold."""
        try:
            import ray
            import ray.data
        except ImportError:
            raise RayNotInstalled("--engine ray needs Ray Data: pip install 'prepkit[ray]'") from None
        self.ray = ray
        self.spec = spec
        self.actor_cpus = _env_float("PREPKIT_RAY_ACTOR_CPUS", 1.0)
        self.batches_per_node: Counter[str] = Counter()
        self._started = False
        self._reported = False
        self._queue: Any = None
        if not ray.is_initialized():
            if os.environ.get("RAY_ADDRESS"):
                ray.init(log_to_driver=False, configure_logging=False)  # the cluster RAY_ADDRESS names
            else:
                # "local": a private Ray of our own, even if `ray start` ran on this machine before; no dashboard,
                # as many CPUs as the actors ask for (the read task needs none)
                from prepkit.engine import cpu_count

                cpus = cpu_count() if workers is None else max(int(workers * self.actor_cpus + 0.999), 1)
                ray.init(address="local", num_cpus=cpus, include_dashboard=False, log_to_driver=False,
                         configure_logging=False)
            self._started = True
        if workers is None:
            workers = max(int(ray.cluster_resources().get("CPU", 1) // self.actor_cpus), 1)
        self.actors = workers

    def _stream(self, read_fn: Any, probe: CacheProbe | None) -> Iterator[bytes]:
        """Payloads of the one dataset, in input order."""
        import ray.data

        # Ray Data's per-dataset INFO lines ("execution finished in ...") are not the run's news; warnings stay,
        # except the one every job with fewer batches than actors gets (nothing to fix: the input is small)
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        warnings.filterwarnings("ignore", message="The minimum number of concurrent actors", category=UserWarning)
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True  # results come back in input order
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False
        # Two batches in flight per actor: one to work on, one arriving. With Ray's default (more) the actor that is
        # ready first queues most of a small job while the others are still starting (measured: 12 of 14 batches).
        # Blocks leave the read task as they are made: with Ray's 128 MB default the reader would bundle the
        # whole input into one block, which one actor alone would then work through.
        ctx.target_max_block_size = 1
        ds = ray.data.read_datasource(_source(read_fn), override_num_blocks=1, num_cpus=0)
        ds = ds.map_batches(_RayActor, fn_constructor_args=(self.spec, probe), batch_size=1,
                            compute=ray.data.ActorPoolStrategy(size=self.actors, max_tasks_in_flight_per_actor=2),
                            num_cpus=self.actor_cpus,
                            batch_format="numpy", zero_copy_batch=True)
        for expected, row in enumerate(ds.iter_rows()):
            if int(row["seq"]) != expected:  # preserve_order must hold, else outputs would differ from local
                raise RuntimeError(f"ray engine: batch {row['seq']} arrived, expected {expected}")
            self.batches_per_node[str(row["node"])] += 1
            yield bytes(row["payload"])

    # -- the Engine contract: the driver reads, the cluster computes ------------------------------------------
    def map(self, batches: Iterable[Batch]) -> Iterator[list[Result]]:
        from ray.util.queue import Queue

        # unbounded: the driver never blocks on a put, it bounds what is in flight itself (a blocking put while
        # it is not draining results could deadlock against the stream's own back-pressure)
        self._queue = Queue(actor_options={"num_cpus": 0})
        results = self._stream(functools.partial(_read_queue, self._queue), None)
        window = 2 * self.actors + 2
        in_flight = 0
        for batch in batches:
            self._queue.put(encode(("batch", batch)))
            in_flight += 1
            if in_flight >= window:
                yield _results(next(results))
                in_flight -= 1
        self._queue.put(None)
        for payload in results:
            yield _results(payload)

    # -- the cluster reads -------------------------------------------------------------------------------------
    def read(self, files: Sequence[tuple[Path, str]], opts: InputOptions, ids: RunIds,
             probe: CacheProbe | None) -> ClusterRead:
        # absolute paths: the reader runs in a Ray worker whose working directory is not ours
        where = [(os.path.abspath(p), name) for p, name in files]
        read_fn = functools.partial(_read_files, where, opts, self.spec.master, self.spec.key_source,
                                    self.spec.batch_size)
        return ClusterRead(self, self._stream(read_fn, probe), ids)

    def placement(self) -> str:
        """Where the batches ran, e.g. `12 batches on 2 nodes (7, 5)`: node ids are Ray's, never data."""
        counts = sorted(self.batches_per_node.values(), reverse=True)
        n = len(counts)
        total = sum(counts)
        return (f"{total} batch{'es' if total != 1 else ''} on {n} node{'s' if n != 1 else ''}"
                + (f" ({', '.join(map(str, counts))})" if n > 1 else ""))

    def close(self) -> None:
        if self.batches_per_node and not self._reported:
            print(f"prepkit: ray engine: {self.placement()}", file=sys.stderr)
            self._reported = True
        if self._started and self.ray.is_initialized():
            self.ray.shutdown()


def _results(payload: bytes) -> list[Result]:
    kind, data = decode(payload)
    assert kind == "results"
    return list(data)


class ClusterRead:
    """What the cluster read and computed, cut back into the Driver's contract: `items()` are the input items in
    order (for `Driver.results`), and this object is the engine that hands the Driver the results the cluster
    already computed for the records it sends (the cache misses). A record the driver finds a miss but the actors
    skipped (a cache entry that no longer decrypts) is computed here, in-process."""

    name = "ray"

    def __init__(self, engine: RayEngine, payloads: Iterator[bytes], ids: RunIds) -> None:
        self.engine = engine
        self.payloads = payloads
        self.ids = ids
        self.ready: deque[tuple[Record, Result | None]] = deque()
        self._local: BatchProcessor | None = None

    def items(self) -> Iterator[Item]:
        for payload in self.payloads:
            kind, data = decode(payload)
            if kind == "ids":
                renamed, pseudonymized = data
                self.ids.renamed += renamed
                self.ids.pseudonymized.update(pseudonymized)
                continue
            for out in data:
                if isinstance(out, Rejected):
                    yield out
                elif isinstance(out, Result):
                    self.ready.append((out.record, out))
                    yield out.record
                else:
                    self.ready.append((out, None))
                    yield out

    def describe(self) -> dict[str, Any]:
        return {"name": "ray", "workers": self.engine.actors, "nodes": len(self.engine.batches_per_node)}

    def map(self, batches: Iterable[Batch]) -> Iterator[list[Result]]:
        for batch in batches:
            if batch and isinstance(batch[0], Redo):
                # corpus recall's re-checks, after the cluster's one pass: few, finished here rather than by
                # starting a second dataset (and loading the models on every actor again)
                if self._local is None:
                    self._local = BatchProcessor(self.engine.spec)
                yield self._local(batch)
                continue
            records = [rec for rec in batch if isinstance(rec, Record)]
            got = [self._take(rec) for rec in records]
            missing = [rec for rec, res in zip(records, got, strict=True) if res is None]
            if missing:
                if self._local is None:
                    self._local = BatchProcessor(self.engine.spec)
                fresh = iter(self._local(missing))
                got = [res if res is not None else next(fresh) for res in got]
            yield [res for res in got if res is not None]

    def _take(self, rec: Record) -> Result | None:
        # both sides go in input order: entries before `rec` are records the driver replayed from its cache
        while self.ready:
            r, res = self.ready.popleft()
            if r is rec:
                return res
        return None

    def close(self) -> None:
        self.engine.close()
