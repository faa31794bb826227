"""Ray Data engine: the per-batch function as a `map_batches` callable class, so each actor loads the models once.

Connects to the cluster named by RAY_ADDRESS (or an already initialised Ray), else starts a local Ray sized to this
machine. The driver reads the input with prepkit's own readers (same records, same rejections as the local engine),
ships batches as pickled bytes through the object store in rounds of bounded size (the driver's memory stays flat
whatever the input size) and dispatches results in input order, so outputs are identical to the local engine.

Actor sizing (MEASURED.md): on a 2-core machine, actors that ask for a whole CPU each starve the read task and
the run deadlocks; actors ask for PREPKIT_RAY_ACTOR_CPUS (default 0.5) each so the scheduler always has room.
Each round builds a fresh actor pool (Ray Data actors live as long as one dataset), so a round is large
(PREPKIT_RAY_ROUND_BATCHES batches, default 256) to amortise the model load.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import Any

from prepkit.engine.base import BatchProcessor, WorkerSpec, decode, encode
from prepkit.errors import PrepkitError
from prepkit.records import Record, Result


class RayNotInstalled(PrepkitError):
    pass


class _RayActor:
    """Ray Data instantiates this once per actor; __call__ gets a column batch of pickled record batches."""

    def __init__(self, spec: WorkerSpec) -> None:
        self.processor = BatchProcessor(spec)

    def __call__(self, batch: dict[str, Any]) -> dict[str, Any]:
        return {"seq": list(batch["seq"]), "results": [self.processor.encoded(p) for p in batch["batch"]]}


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    try:
        return float(raw) if raw else default
    except ValueError:
        raise ValueError(f"{name}={raw!r} is not a number") from None


class RayEngine:
    name = "ray"

    def __init__(self, spec: WorkerSpec, workers: int) -> None:
        try:
            import ray
            import ray.data
        except ImportError:
            raise RayNotInstalled("--engine ray needs Ray Data: pip install 'prepkit[ray]'") from None
        self.ray = ray
        self.spec = spec
        self.actors = workers
        self.actor_cpus = _env_float("PREPKIT_RAY_ACTOR_CPUS", 0.5)
        self.round_batches = max(int(_env_float("PREPKIT_RAY_ROUND_BATCHES", 256)), 1)
        self._started = False
        if not ray.is_initialized():
            if os.environ.get("RAY_ADDRESS"):
                ray.init(log_to_driver=False)  # joins the existing cluster named by RAY_ADDRESS
            else:
                # a private local Ray: no dashboard, only as many CPUs as the actors and the driver's reads need
                ray.init(num_cpus=max(workers, 2), include_dashboard=False, log_to_driver=False,
                         configure_logging=False)
            self._started = True
        ctx = ray.data.DataContext.get_current()
        ctx.execution_options.preserve_order = True  # results come back in input order
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False

    def map(self, batches: Iterable[list[Record]]) -> Iterator[list[Result]]:
        it = iter(batches)
        seq = 0
        while True:
            round_ = list(islice(it, self.round_batches))
            if not round_:
                return
            rows = [{"seq": seq + i, "batch": encode(b)} for i, b in enumerate(round_)]
            seq += len(rows)
            del round_
            yield from self._run_round(rows)

    def _run_round(self, rows: list[dict[str, Any]]) -> Iterator[list[Result]]:
        import ray.data

        # one block per batch so every actor gets work (read_parquet-style bundling left one actor busy)
        source = ray.data.from_items(rows, override_num_blocks=len(rows))
        pool = ray.data.ActorPoolStrategy(size=min(self.actors, len(rows)))
        ds = source.map_batches(_RayActor, fn_constructor_args=(self.spec,), batch_size=1, compute=pool,
                            num_cpus=self.actor_cpus,
                            batch_format="numpy", zero_copy_batch=True)
        expected = rows[0]["seq"]
        for row in ds.iter_rows():
            if int(row["seq"]) != expected:  # preserve_order must hold, else outputs would differ from local
                raise RuntimeError(f"ray engine: batch {row['seq']} arrived, expected {expected}")
            expected += 1
            yield decode(row["results"])

    def close(self) -> None:
        if self._started and self.ray.is_initialized():
            self.ray.shutdown()
