"""A run's items parked on disk between two passes (corpus recall holds every output until each record has been
matched against the whole run's dictionary: prepkit.driver).

The items hold raw text, so the file is encrypted (AES-GCM) under a key drawn at random for this one file and
kept only in memory, and it has no name: `tempfile.TemporaryFile` unlinks it at once (O_TMPFILE on Linux), so
a killed run leaves nothing behind and nothing anyone could read. Memory stays bounded whatever the run's size:
an item is pickled, compressed and encrypted as a stream of chunks of at most `_CHUNK` bytes, and read back the
same way, so a 20M-character record's output is never held as one pickle, one compressed copy and one encrypted
copy at once.

Each chunk is `length (8 bytes) | last (1 byte) | AES-GCM(nonce = item number, chunk number; data = last)`: a
chunk moved, dropped, or cut off after an item's last one fails authentication.
"""

from __future__ import annotations

import os
import pickle
import tempfile
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

_LEN = 8
_CHUNK = 1 << 20  # compressed bytes per encrypted chunk
_MORE, _LAST = b"\x00", b"\x01"


def _nonce(item: int, chunk: int) -> bytes:
    return item.to_bytes(8, "big") + chunk.to_bytes(4, "big")


class Spill:
    """Write items in order, then read them back once in the same order."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self._aead = AESGCM(AESGCM.generate_key(bit_length=256))
        self._f = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115 - closed in close()
        self.items = 0
        self.bytes = 0

    def write(self, item: Any) -> None:
        sink = _ChunkWriter(self)
        pickle.dump(item, sink, protocol=pickle.HIGHEST_PROTOCOL)
        sink.finish()
        self.items += 1

    def _chunk(self, chunk: int, data: bytes, last: bool) -> None:
        flag = _LAST if last else _MORE
        blob = self._aead.encrypt(_nonce(self.items, chunk), data, flag)
        self._f.write(len(blob).to_bytes(_LEN, "big") + flag)
        self._f.write(blob)
        self.bytes += _LEN + 1 + len(blob)

    def read(self) -> Iterator[Any]:
        """The items in order. Readers are independent (positioned reads), so two may go at once, in two
        threads: one looks ahead, the other follows, and neither holds more than its current item."""
        self._f.flush()
        source = _ChunkReader(self._aead, self._f.fileno())
        for i in range(self.items):
            source.start(i)
            yield pickle.load(source)  # noqa: S301 - written by this object, authenticated
            source.end()

    def close(self) -> None:
        self._f.close()


class _ChunkWriter:
    """The file pickle writes to: compresses as it goes and hands the spill a chunk whenever one is full."""

    def __init__(self, spill: Spill) -> None:
        self._spill = spill
        self._z = zlib.compressobj(1)
        self._buf = bytearray()
        self._chunks = 0

    def write(self, data: bytes) -> int:
        self._buf += self._z.compress(data)
        while len(self._buf) > _CHUNK:  # keep at least one byte back: the last chunk is written by finish()
            self._emit(bytes(self._buf[:_CHUNK]), last=False)
            del self._buf[:_CHUNK]
        return len(data)

    def finish(self) -> None:
        self._buf += self._z.flush()
        while len(self._buf) > _CHUNK:
            self._emit(bytes(self._buf[:_CHUNK]), last=False)
            del self._buf[:_CHUNK]
        self._emit(bytes(self._buf), last=True)

    def _emit(self, data: bytes, last: bool) -> None:
        self._spill._chunk(self._chunks, data, last)
        self._chunks += 1


class _ChunkReader:
    """The file pickle reads one item from: decrypts and decompresses chunk by chunk, as pickle asks for bytes."""

    def __init__(self, aead: AESGCM, fd: int) -> None:
        self._aead = aead
        self._fd = fd
        self._pos = 0
        self._item = -1
        self._chunk = 0
        self._last = True
        self._z = zlib.decompressobj()
        self._buf = bytearray()

    def start(self, item: int) -> None:
        self._item, self._chunk, self._last = item, 0, False
        self._z = zlib.decompressobj()
        self._buf = bytearray()

    def end(self) -> None:
        while not self._last:  # pickle stops at its STOP opcode; the item's last chunk must still be read
            self._fill()
        if self._buf or not self._z.eof:
            raise ValueError(f"spill item {self._item}: data after its end")

    def _fill(self) -> bool:
        if self._last:
            return False
        head = os.pread(self._fd, _LEN + 1, self._pos)
        if len(head) != _LEN + 1:
            raise OSError(f"spill file truncated at item {self._item}")
        n, flag = int.from_bytes(head[:_LEN], "big"), head[_LEN:]
        blob = os.pread(self._fd, n, self._pos + _LEN + 1)
        if len(blob) != n:
            raise OSError(f"spill file truncated at item {self._item}")
        self._pos += _LEN + 1 + n
        data = self._aead.decrypt(_nonce(self._item, self._chunk), blob, flag)
        self._chunk += 1
        self._last = flag == _LAST
        self._buf += self._z.decompress(data)
        if self._last:
            self._buf += self._z.flush()
        return True

    def read(self, n: int = -1) -> bytes:
        while (n < 0 or len(self._buf) < n) and self._fill():
            pass
        if n < 0:
            n = len(self._buf)
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def readinto(self, b: Any) -> int:
        data = self.read(len(b))
        b[:len(data)] = data
        return len(data)

    def readline(self) -> bytes:
        while b"\n" not in self._buf and self._fill():
            pass
        i = self._buf.find(b"\n")
        return self.read(len(self._buf) if i < 0 else i + 1)
