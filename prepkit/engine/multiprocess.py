"""Process-pool engine: N worker processes, each building the Pipeline once. On one machine nothing beat this
(MEASURED.md: a plain 2-process pool ran faster than Ray, Dask or Spark on the same records)."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import sys
from collections.abc import Iterable, Iterator
from typing import Any

from prepkit.engine.base import Batch, BatchProcessor, WorkerSpec
from prepkit.engine.gc_tuning import freeze_before_fork, tune_for_batch_work
from prepkit.records import Result

_processor: BatchProcessor | None = None


def _init_worker(spec: WorkerSpec) -> None:
    global _processor
    # Ctrl-C is the parent's to handle (it stops the pool and writes a partial summary); workers printing their
    # own KeyboardInterrupt tracebacks only bury that message.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    tune_for_batch_work()
    _processor = BatchProcessor(spec)


def _work(batch: Batch) -> list[Result]:
    assert _processor is not None
    return _processor(batch)


def _init_forked() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # as _init_worker; the processor came with the fork


def can_inherit() -> bool:
    """Can pool workers be forked from this process, inheriting a pipeline it has built? Linux only: fork is
    unsafe on macOS once system frameworks are loaded, and Windows has no fork."""
    return sys.platform == "linux" and "fork" in mp.get_all_start_methods()


class MultiprocessEngine:
    name = "multiprocess"

    def __init__(self, spec: WorkerSpec, workers: int, built: BatchProcessor | None = None) -> None:
        """`built`: a processor whose pipeline this process has already built (the auto engine's). The workers are
        then forked from here and inherit it: no model load (2–3 CPU-seconds each), work from their first second,
        and the model's pages shared until written. Otherwise forkserver: workers never inherit the driver's
        threads or open files, and each loads the models itself."""
        global _processor
        self.workers = workers
        if built is not None and can_inherit():
            # Safe to fork here: the run path starts no threads of its own before the pool (the pool's own
            # handler threads start after its workers), and a forked worker leaves through os._exit, so it never
            # flushes or closes the driver's buffered outputs it inherited.
            _processor = built  # kept: a worker the pool starts again later inherits it too
            freeze_before_fork()
            self.pool: Any = mp.get_context("fork").Pool(workers, initializer=_init_forked)
            return
        ctx = mp.get_context("forkserver" if os.name == "posix" else "spawn")
        if ctx.get_start_method() == "forkserver":
            # the fork server imports prepkit's own modules once and every worker inherits them; spaCy and Presidio
            # each worker imports when its pipeline is built (without torch: prepkit.nlp_stack), as the driver does
            ctx.set_forkserver_preload(["prepkit.pipeline", "prepkit.engine.multiprocess"])
        self.pool = ctx.Pool(workers, initializer=_init_worker, initargs=(spec,))

    def map(self, batches: Iterable[Batch]) -> Iterator[list[Result]]:
        # imap keeps input order and pulls batches lazily, so memory stays bounded whatever the input size
        yield from self.pool.imap(_work, batches, chunksize=1)

    def submit(self, batch: Batch) -> Any:
        """One batch, asynchronously: an AsyncResult (for engines that interleave the pool with their own work)."""
        return self.pool.apply_async(_work, (batch,))

    def close(self) -> None:
        self.pool.terminate()
        self.pool.join()
