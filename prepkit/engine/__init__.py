"""Execution engines: the same per-batch function run in-process, on a process pool, or on a Ray cluster.

    from prepkit.engine import WorkerSpec, make_engine
    engine = make_engine("local", WorkerSpec.of(loaded, keyring), workers=4)
    for results in engine.map(batches):   # lists of Records in, lists of Results out, input order kept
        ...
    engine.close()
"""

from __future__ import annotations

import os

from prepkit.engine.base import BatchProcessor, DeferredEngine, Engine, WorkerSpec, decode, encode

ENGINES = ("local", "multiprocess", "ray")

__all__ = ["ENGINES", "BatchProcessor", "DeferredEngine", "Engine", "WorkerSpec", "cpu_count", "decode", "default_workers", "encode",
           "make_engine"]


def cpu_count() -> int:
    """Cores this process may use (respects affinity masks and container CPU sets)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def make_engine(name: str, spec: WorkerSpec, workers: int = 1) -> Engine:
    """`local`: in-process for one worker, else a process pool of `workers`; `multiprocess`: always a pool;
    `ray`: Ray Data actors (`workers` of them), on the cluster named by RAY_ADDRESS or a local one."""
    if name == "local" and workers <= 1:
        from prepkit.engine.local import LocalEngine

        return LocalEngine(spec)
    if name in ("local", "multiprocess"):
        from prepkit.engine.multiprocess import MultiprocessEngine

        return MultiprocessEngine(spec, max(workers, 1))
    if name == "ray":
        from prepkit.engine.ray import RayEngine

        return RayEngine(spec, max(workers, 1))
    raise ValueError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")


SMALL_INPUT_BYTES = 1_000_000


def default_workers(input_bytes: int) -> int:
    """The core count, except for small inputs: each worker spends seconds loading models, which a 1 MB input
    (about 15 s of NER on one core) does not earn back."""
    return 1 if input_bytes < SMALL_INPUT_BYTES else cpu_count()
