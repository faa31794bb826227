"""A run's items parked on disk between two passes (corpus recall holds every output until each record has been
matched against the whole run's dictionary: prepkit.driver).

The items hold raw text, so the file is encrypted (AES-GCM) under a key drawn at random for this one file and
kept only in memory, and it has no name: `tempfile.TemporaryFile` unlinks it at once (O_TMPFILE on Linux), so
a killed run leaves nothing behind and nothing anyone could read. Memory stays bounded whatever the run's size.
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


class Spill:
    """Write items in order, then read them back once in the same order."""

    def __init__(self, directory: Path | str | None = None) -> None:
        self._aead = AESGCM(AESGCM.generate_key(bit_length=256))
        self._f = tempfile.TemporaryFile(dir=directory)  # noqa: SIM115 - closed in close()
        self.items = 0
        self.bytes = 0

    def write(self, item: Any) -> None:
        data = zlib.compress(pickle.dumps(item, protocol=pickle.HIGHEST_PROTOCOL), 1)
        # one key per file and a counter nonce: never the same nonce twice under a key
        blob = self._aead.encrypt(self.items.to_bytes(12, "big"), data, None)
        self._f.write(len(blob).to_bytes(_LEN, "big"))
        self._f.write(blob)
        self.items += 1
        self.bytes += _LEN + len(blob)

    def read(self) -> Iterator[Any]:
        """The items in order. Readers are independent (positioned reads), so two may go at once, in two
        threads: one looks ahead, the other follows, and neither holds more than its current item."""
        self._f.flush()
        fd = self._f.fileno()
        pos = 0
        for i in range(self.items):
            n = int.from_bytes(os.pread(fd, _LEN, pos), "big")
            blob = os.pread(fd, n, pos + _LEN)
            if len(blob) != n:
                raise OSError(f"spill file truncated at item {i}")
            pos += _LEN + n
            data = self._aead.decrypt(i.to_bytes(12, "big"), blob, None)
            yield pickle.loads(zlib.decompress(data))  # noqa: S301 - written by this object, authenticated

    def close(self) -> None:
        self._f.close()
