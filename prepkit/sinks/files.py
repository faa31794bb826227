"""Owner-only, crash-safe output files: write to a temporary name, fsync, rename into place."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import IO, Any


def ensure_private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def dumps(obj: Any) -> str:
    """Canonical JSON line: stable key order and no ASCII escaping, so re-runs are byte-identical."""
    return json.dumps(obj, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class AtomicFile:
    """A file that appears at `path` only when closed successfully; until then it is `path.tmp-<pid>`."""

    def __init__(self, path: Path, mode: str = "w") -> None:
        self.path = path
        self.tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        ensure_private_dir(path.parent)
        fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        self.f: IO[Any] = os.fdopen(fd, mode, encoding=None if "b" in mode else "utf-8", newline=None if "b" in mode else "\n")

    def write(self, data: Any) -> None:
        self.f.write(data)

    def commit(self) -> Path:
        self.f.flush()
        os.fsync(self.f.fileno())
        self.f.close()
        os.replace(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        try:
            self.f.close()
        finally:
            self.tmp.unlink(missing_ok=True)


class JsonlSink:
    """Append JSON lines to an atomic file; `close()` renames it into place (empty files are still written)."""

    def __init__(self, path: Path) -> None:
        self._file = AtomicFile(path)
        self.path = path
        self.count = 0

    def write(self, obj: Any) -> None:
        self._file.write(dumps(obj) + "\n")
        self.count += 1

    def close(self) -> Path:
        return self._file.commit()

    def abort(self) -> None:
        self._file.abort()


def write_json(path: Path, obj: Any) -> None:
    """One JSON document, owner-only, renamed into place: a reader never sees half a file."""
    f = AtomicFile(path)
    f.write(dumps(obj) + "\n")
    f.commit()
