"""Where input bytes come from: a file, a gzip or zstandard file, or standard input (`-`)."""

from __future__ import annotations

import gzip
import io
import sys
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

STDIN = "-"
STDIN_NAME = "stdin"
COMPRESSED = {".gz": "gzip", ".zst": "zstandard"}


def is_stdin(path: Path | str) -> bool:
    return str(path) == STDIN


def compression(path: Path) -> str | None:
    return COMPRESSED.get(path.suffix.lower())


def format_suffix(path: Path) -> str:
    """The suffix that says the format: `.jsonl` for `chats.jsonl.gz`."""
    if compression(path) is not None:
        return Path(path.stem).suffix.lower()
    return path.suffix.lower()


@contextmanager
def open_input(path: Path) -> Iterator[IO[bytes]]:
    """A buffered binary stream of the (decompressed) content. Standard input is read but never closed."""
    if is_stdin(path):
        stdin = sys.stdin.buffer
        # the format is told from the first bytes, so the stream must be able to peek (a test harness's may not)
        yield stdin if hasattr(stdin, "peek") else io.BufferedReader(stdin)  # type: ignore[type-var]
        return
    kind = compression(path)
    if kind == "gzip":
        with gzip.open(path, "rb") as g:
            yield io.BufferedReader(g)
    elif kind == "zstandard":
        import zstandard

        with path.open("rb") as f, zstandard.ZstdDecompressor().stream_reader(f, read_across_frames=True) as z:
            yield io.BufferedReader(z)
    else:
        with path.open("rb") as f:
            yield f


def head(stream: IO[bytes], n: int = 8192) -> bytes:
    """The first bytes of a stream without consuming them."""
    peek = getattr(stream, "peek", None)
    return peek(n)[:n] if peek is not None else b""


def stream_errors() -> tuple[type[BaseException], ...]:
    """What a truncated or corrupt compressed file raises part-way through."""
    import zstandard

    return (EOFError, zlib.error, gzip.BadGzipFile, zstandard.ZstdError)
