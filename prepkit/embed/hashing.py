"""Feature-hashing embedder: words and word bigrams hashed into signed buckets. Fast, no model, weak retrieval.

Fit for tests that need real vectors quickly; not for production retrieval (see bench/RAG.md for recall).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from prepkit.embed import EmbedderError, normalize_rows, register

_WORD = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder:
    def __init__(self, dims: int = 256) -> None:
        self.dims = dims
        self.name = "hashing" if dims == 256 else f"hashing:{dims}"

    def _bucket(self, feature: str) -> tuple[int, float]:
        h = int.from_bytes(hashlib.blake2b(feature.encode(), digest_size=8).digest(), "little")
        return h % self.dims, (1.0 if (h >> 63) & 1 else -1.0)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dims), dtype=np.float32)
        for i, t in enumerate(texts):
            words = _WORD.findall(t.casefold())
            for f in [*words, *(a + " " + b for a, b in zip(words, words[1:], strict=False))]:
                j, sign = self._bucket(f)
                out[i, j] += sign
        return normalize_rows(out)


@register("hashing")
def _make(arg: str) -> HashingEmbedder:
    if not arg:
        return HashingEmbedder()
    if not arg.isdigit() or not 8 <= int(arg) <= 4096:
        raise EmbedderError(f"embedder 'hashing:{arg}': dimensions must be an integer from 8 to 4096")
    return HashingEmbedder(int(arg))
