"""Execution engines: the same per-batch function run in-process, on a process pool, or on a Ray cluster.

    from prepkit.engine import WorkerSpec, make_engine
    engine = make_engine("local", WorkerSpec.of(loaded, keyring), workers=4)
    for results in engine.map(batches):   # lists of Records in, lists of Results out, input order kept
        ...
    engine.close()
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from pathlib import Path

from prepkit.engine.base import BatchProcessor, DeferredEngine, Engine, WorkerSpec, decode, encode

ENGINES = ("local", "multiprocess", "ray")

__all__ = ["ENGINES", "BatchProcessor", "DeferredEngine", "Engine", "WorkerSpec", "cpu_count", "decode", "encode",
           "expected_chars", "make_engine"]


def cpu_count() -> int:
    """Cores this process may use (respects affinity masks and container CPU sets)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def make_engine(name: str, spec: WorkerSpec, workers: int | None = 1, expected_chars: int | None = None) -> Engine:
    """`local`: in-process for one worker, a process pool of `workers`, or with `workers=None` in-process until the
    measured work says a pool of every core pays (prepkit.engine.auto; `expected_chars` is the input's estimated
    size); `multiprocess`: always a pool; `ray`: Ray Data actors (`workers` of them, default the core count), on the
    cluster named by RAY_ADDRESS or a local one."""
    if name == "local" and workers is None:
        from prepkit.engine.auto import AutoEngine
        from prepkit.engine.multiprocess import MultiprocessEngine, can_inherit

        return AutoEngine(spec, cpu_count(), expected_chars,
                          lambda helpers, built: MultiprocessEngine(spec, helpers, built), inherits=can_inherit())
    if workers is None:
        workers = cpu_count()
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


# Characters of text per byte of input, by how the file is stored: compressed files hold several times their size,
# JSON and CSV a little less than theirs (keys, quotes, ids), documents much less (layout, fonts, images).
_CHARS_PER_BYTE = {".gz": 4.0, ".zst": 4.0, ".parquet": 2.0, ".pdf": 0.1, ".docx": 0.3}


def expected_chars(paths: Iterable[Path]) -> int:
    """A rough estimate of the text in these input files, for the auto engine's first guess (it corrects itself
    as it measures)."""
    total = 0.0
    for p in paths:
        try:
            size = Path(p).stat().st_size if Path(p).is_file() else 0
        except OSError:
            continue  # unreadable inputs are the reader's to reject
        total += size * _CHARS_PER_BYTE.get(Path(p).suffix.lower(), 0.9)
    return int(total)
