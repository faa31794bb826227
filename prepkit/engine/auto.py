"""The default engine: one worker in this process until the work measured so far says more workers pay; then this
process goes on working beside N − 1 pool workers.

Helpers cost their start: each loads the models (seconds, in parallel with the work here). Whether that is earned
back depends on how much work is left, which the input's size alone does not tell: 0.6 MB of short records dense
with numbers and names costs as much CPU as 2 MB of plain prose. So the first batches run here, timed, and after
each one the remaining work is estimated from the measured seconds per character and the characters still to come:

    start helpers when  remaining_seconds × (1 − 1/N)  >  their start

Their start, where workers can be forked from this process (Linux), is the fork and the first batches' pickling
(≈ 0.5 s): they inherit the pipeline built here, models loaded. Elsewhere each worker loads the models itself,
≈ 1.5 × the model load measured here + 0.5 s.

Small inputs (the samples, a test) never start a pool; a dense 0.5 MB corpus starts it after the first batch, or,
where helpers fork, as soon as the models are loaded (when a fast guess at the input's work already pays).
When the input's size is unknown (standard input) the pool starts once the work done here exceeds twice its start
cost. This process keeps its models and keeps working (it would not give their memory back to the system anyway),
so N cores hold N copies of the models, as a pool of N would, and none of the work done here is wasted.
Outputs do not depend on any of it: results are yielded in input order whoever computed them.
"""

from __future__ import annotations

import itertools
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from prepkit.engine.base import Batch, BatchProcessor, WorkerSpec
from prepkit.records import Record, Result

POOL_OVERHEAD_SECONDS = 0.5  # forkserver start and the first batches' pickling, beyond the model load
# A fast guess at prepkit's throughput, for deciding before anything is measured: about 3× the fastest measured
# (Faker tickets, ~30k characters per CPU-second), so the guess errs towards starting no pool.
FAST_CHARS_PER_SECOND = 100_000


class Pool(Protocol):
    name: str

    def submit(self, batch: Batch) -> Any: ...  # an AsyncResult: ready(), get()

    def close(self) -> None: ...


class AutoEngine:
    name = "auto"

    def __init__(self, spec: WorkerSpec, max_workers: int, expected_chars: int | None,
                 pool: Callable[[int, BatchProcessor], Pool], *, inherits: bool = False) -> None:
        """`pool(helpers, built)` starts the helpers; `inherits`: they fork from here and inherit `built`'s
        pipeline instead of loading the models themselves."""
        self.spec = spec
        self.inherits = inherits
        self.max_workers = max_workers
        self.expected_chars = expected_chars
        self._pool_factory = pool
        self.pool: Pool | None = None
        self._processor: BatchProcessor | None = None
        self.workers_used = 1

    def _pays(self, load_s: float, work_s: float, done_chars: int) -> bool:
        if self.max_workers <= 1 or done_chars == 0:
            return False
        start_cost = POOL_OVERHEAD_SECONDS + (0.0 if self.inherits else 1.5 * load_s)
        if self.expected_chars is None or done_chars >= self.expected_chars:
            return work_s > 2 * start_cost  # size unknown, or already past the estimate: more is likely to come
        remaining_s = work_s / done_chars * (self.expected_chars - done_chars)
        return remaining_s * (1 - 1 / self.max_workers) > start_cost

    def map(self, batches: Iterable[Batch]) -> Iterator[list[Result]]:
        it = iter(batches)
        if self._processor is not None:  # a later map (corpus recall's re-checks): where the work already is
            yield from self._shared(it) if self.pool is not None else map(self._processor, it)
            return
        processor = self._processor = BatchProcessor(self.spec)
        load_s = work_s = 0.0
        done_chars = 0
        for batch in it:
            if not batch:
                yield []
                continue
            if load_s == 0.0:
                t0 = time.perf_counter()
                processor.pipeline  # noqa: B018 - build it now, so its load is timed apart from the work
                load_s = time.perf_counter() - t0
                if self._pays_at_once(_chars(batch)):
                    yield from self._start_pool(processor, itertools.chain([batch], it))
                    return
            t0 = time.perf_counter()
            results = processor(batch)
            work_s += time.perf_counter() - t0
            done_chars += _chars(batch)
            yield results
            if self._pays(load_s, work_s, done_chars):
                # only for batches still to come: after the last one a pool would share nothing (one long record
                # is one batch) and, forked, would only hold a copy of this process's memory
                following = next(it, None)
                if following is not None:
                    yield from self._start_pool(processor, itertools.chain([following], it))
                return

    def _pays_at_once(self, first_batch_chars: int) -> bool:
        """Forked helpers cost almost nothing to start: when even a fast guess at the work after the first batch
        pays for them, they start before it instead of after it (a batch is a second or two of one idle core).
        An input that is all in its first batch (one long record) has nothing to share: it stays here."""
        if not self.inherits or self.max_workers <= 1 or not self.expected_chars:
            return False
        after_first = self.expected_chars - first_batch_chars
        return after_first / FAST_CHARS_PER_SECOND * (1 - 1 / self.max_workers) > POOL_OVERHEAD_SECONDS

    def _start_pool(self, processor: BatchProcessor, it: Iterator[Batch]) -> Iterator[list[Result]]:
        self.pool = self._pool_factory(self.max_workers - 1, processor)
        self.workers_used = self.max_workers
        yield from self._shared(it)

    def _shared(self, it: Iterator[Batch]) -> Iterator[list[Result]]:
        """Batches to the pool while it has fewer than two each queued, else computed here; yielded in order."""
        assert self.pool is not None and self._processor is not None
        helpers = self.max_workers - 1
        pending: deque[Any] = deque()  # computed result lists and the pool's AsyncResults, in input order
        for batch in it:
            queued = sum(1 for p in pending if not isinstance(p, list) and not p.ready())
            pending.append(self.pool.submit(batch) if queued < 2 * helpers else self._processor(batch))
            while pending and (isinstance(pending[0], list) or pending[0].ready()
                               or len(pending) > 4 * self.max_workers):  # bounded: wait for the oldest
                head = pending.popleft()
                yield head if isinstance(head, list) else head.get()
        while pending:
            head = pending.popleft()
            yield head if isinstance(head, list) else head.get()

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()


def _chars(batch: Batch) -> int:
    return sum((r if isinstance(r, Record) else r.record).char_count for r in batch)
