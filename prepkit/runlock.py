"""One run per output folder at a time: two runs writing the same OUT would interleave its files, fork its audit
chain and race on its cache. The lock is an exclusive flock on OUT/.prepkit.lock (hidden, so not a deliverable),
taken when the run starts and dropped when it ends; the kernel drops it if the process dies, so there is never
a stale lock to clean up."""

from __future__ import annotations

import contextlib
import fcntl
import os
from pathlib import Path
from types import TracebackType

from prepkit.errors import PrepkitError

LOCK_FILE = ".prepkit.lock"


class RunLocked(PrepkitError):
    """Another prepkit process is writing to this output folder."""


class RunLock:
    """Use as a context manager around a run; `acquire(out)` once OUT exists. Releasing is idempotent."""

    def __init__(self) -> None:
        self._fd: int | None = None

    def acquire(self, out: Path, what: str = "run") -> None:
        fd = os.open(out / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 32).decode("ascii", "replace").strip() or "?"
            os.close(fd)
            raise RunLocked(f"{out}: another prepkit process (pid {holder}) is writing to this output folder; "
                            f"wait for it to finish, or give this {what} another --out") from None
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()}\n".encode())
        self._fd = fd

    def release(self) -> None:
        if self._fd is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> RunLock:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.release()
