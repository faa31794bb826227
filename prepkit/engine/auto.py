"""The default engine: one worker in this process until the work measured so far says a process pool pays.

A pool costs its start: every worker loads the models (seconds each, in parallel). Whether that is earned back
depends on how much work is left, which the input's size alone does not tell: 0.6 MB of short records dense with
numbers and names costs as much CPU as 2 MB of plain prose. So the first batches run here, timed, and after each
one the remaining work is estimated from the measured seconds per character and the characters still to come:

    switch when  remaining_seconds × (1 − 1/N)  >  pool start (≈ 1.5 × the model load measured here + 0.5 s)

Small inputs (the samples, a test) never start a pool; a dense 0.5 MB corpus starts it after the first batch.
When the input's size is unknown (standard input) the pool starts once the work done here exceeds twice the pool's
start cost. Outputs do not depend on the switch: every engine yields the same results in input order.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable, Iterable, Iterator

from prepkit.engine.base import Batch, BatchProcessor, Engine, WorkerSpec
from prepkit.records import Record, Result

POOL_OVERHEAD_SECONDS = 0.5  # forkserver start and the first batches' pickling, beyond the model load


class AutoEngine:
    name = "auto"

    def __init__(self, spec: WorkerSpec, max_workers: int, expected_chars: int | None,
                 pool: Callable[[int], Engine]) -> None:
        self.spec = spec
        self.max_workers = max_workers
        self.expected_chars = expected_chars
        self._pool_factory = pool
        self.pool: Engine | None = None
        self._processor: BatchProcessor | None = None
        self.workers_used = 1

    def _pays(self, load_s: float, work_s: float, done_chars: int) -> bool:
        if self.max_workers <= 1 or done_chars == 0:
            return False
        start_cost = 1.5 * load_s + POOL_OVERHEAD_SECONDS
        if self.expected_chars is None or done_chars >= self.expected_chars:
            return work_s > 2 * start_cost  # size unknown, or already past the estimate: more is likely to come
        remaining_s = work_s / done_chars * (self.expected_chars - done_chars)
        return remaining_s * (1 - 1 / self.max_workers) > start_cost

    def map(self, batches: Iterable[Batch]) -> Iterator[list[Result]]:
        # A later map (corpus recall's re-checks, a fraction of the work) goes where the work went, no switch.
        if self.pool is not None:
            yield from self.pool.map(batches)
            return
        if self._processor is not None:
            yield from map(self._processor, batches)
            return
        it = iter(batches)
        self._processor = BatchProcessor(self.spec)
        processor: BatchProcessor | None = self._processor
        load_s = work_s = 0.0
        done_chars = 0
        for batch in it:
            assert processor is not None
            if not batch:
                yield []
                continue
            if load_s == 0.0:
                t0 = time.perf_counter()
                processor.pipeline  # noqa: B018 - build it now, so its load is timed apart from the work
                load_s = time.perf_counter() - t0
            t0 = time.perf_counter()
            results = processor(batch)
            work_s += time.perf_counter() - t0
            done_chars += sum((r if isinstance(r, Record) else r.record).char_count for r in batch)
            yield results
            if self._pays(load_s, work_s, done_chars):
                processor = self._processor = None
                gc.collect()  # the pool's workers hold the models from here on; this process only routes
                self.pool = self._pool_factory(self.max_workers)
                self.workers_used = self.max_workers
                yield from self.pool.map(it)
                return

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
