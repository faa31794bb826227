"""Process-pool engine: N worker processes, each building the Pipeline once. On one machine nothing beat this
(MEASURED.md: a plain 2-process pool ran faster than Ray, Dask or Spark on the same records)."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
from collections.abc import Iterable, Iterator
from typing import Any

from prepkit.engine.base import Batch, BatchProcessor, WorkerSpec
from prepkit.records import Result

_processor: BatchProcessor | None = None


def _init_worker(spec: WorkerSpec) -> None:
    global _processor
    # Ctrl-C is the parent's to handle (it stops the pool and writes a partial summary); workers printing their
    # own KeyboardInterrupt tracebacks only bury that message.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _processor = BatchProcessor(spec)


def _work(batch: Batch) -> list[Result]:
    assert _processor is not None
    return _processor(batch)


class MultiprocessEngine:
    name = "multiprocess"

    def __init__(self, spec: WorkerSpec, workers: int) -> None:
        # forkserver: workers never inherit the driver's threads or open files; each loads the models itself.
        ctx = mp.get_context("forkserver" if os.name == "posix" else "spawn")
        if ctx.get_start_method() == "forkserver":
            # the fork server imports prepkit's own modules once and every worker inherits them; spaCy and Presidio
            # each worker imports when its pipeline is built (without torch: prepkit.nlp_stack), as the driver does
            ctx.set_forkserver_preload(["prepkit.pipeline", "prepkit.engine.multiprocess"])
        self.workers = workers
        self.pool: Any = ctx.Pool(workers, initializer=_init_worker, initargs=(spec,))

    def map(self, batches: Iterable[Batch]) -> Iterator[list[Result]]:
        # imap keeps input order and pulls batches lazily, so memory stays bounded whatever the input size
        yield from self.pool.imap(_work, batches, chunksize=1)

    def submit(self, batch: Batch) -> Any:
        """One batch, asynchronously: an AsyncResult (for engines that interleave the pool with their own work)."""
        return self.pool.apply_async(_work, (batch,))

    def close(self) -> None:
        self.pool.terminate()
        self.pool.join()
