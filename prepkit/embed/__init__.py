"""Text embedders, looked up by name from `policy.outputs.rag.embedder`.

Names:
  builtin:minilm-m2v        the default: a model2vec static model distilled from all-MiniLM-L6-v2, shipped in this
                            package (prepkit/embed/models/minilm-m2v); loads with model2vec alone, no PyTorch
  hashing[:DIMS]            a numpy feature-hashing vectorizer; fast and dependency-free, poor retrieval (tests only)
  sentence-transformers:PATH  a local sentence-transformers model directory (needs that package and PyTorch)

Every embedder returns L2-normalized float32 rows, so cosine similarity is a dot product in any store.
Nothing here downloads anything: every model is a local directory.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

import numpy as np

from prepkit.errors import PrepkitError


class EmbedderError(PrepkitError):
    """An embedder name is unknown or its model cannot be loaded. The message names the embedder."""


class Embedder(Protocol):
    name: str  # the registry name it was built from; stores record it so queries embed the same way
    dims: int

    def embed(self, texts: Sequence[str]) -> np.ndarray: ...


Factory = Callable[[str], Embedder]  # receives the part after "prefix:" ("" when absent)
_registry: dict[str, Factory] = {}


def register(prefix: str) -> Callable[[Factory], Factory]:
    def deco(fn: Factory) -> Factory:
        _registry[prefix] = fn
        return fn

    return deco


def available() -> list[str]:
    return sorted(_registry)


_cache: dict[str, Embedder] = {}


def get_embedder(name: str) -> Embedder:
    """Build (once per process) the embedder a name refers to; raises EmbedderError with the name on failure."""
    if name in _cache:
        return _cache[name]
    _load_builtins()
    prefix, _, arg = name.partition(":")
    if name in _registry:
        prefix, arg = name, ""
    factory = _registry.get(prefix)
    if factory is None:
        raise EmbedderError(f"unknown embedder {name!r}; known: {', '.join(available())}")
    emb = factory(arg)
    _cache[name] = emb
    return emb


def normalize_rows(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    return x / norms


def _load_builtins() -> None:
    # Imported here so `prepkit.embed` stays cheap to import and each backend's dependency loads only when used.
    from prepkit.embed import hashing, m2v, st  # noqa: F401
