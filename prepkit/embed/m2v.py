"""model2vec static embedders: the shipped `builtin:minilm-m2v` and any local model2vec directory (`model2vec:PATH`)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from prepkit.embed import EmbedderError, normalize_rows, register

MODELS = Path(__file__).resolve().parent / "models"


class StaticEmbedder:
    def __init__(self, name: str, path: Path) -> None:
        if not (path / "model.safetensors").is_file() or not (path / "tokenizer.json").is_file():
            raise EmbedderError(f"embedder {name!r}: no model2vec model in {path} (model.safetensors, tokenizer.json)")
        # A local directory never needs the hub; make sure a missing file cannot turn into a download attempt.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from model2vec import StaticModel

        self.name = name
        try:
            self._model = StaticModel.from_pretrained(path, force_download=False)
        except Exception as e:  # model2vec raises many types for a bad directory; report which model failed
            raise EmbedderError(f"embedder {name!r}: cannot load {path}: {type(e).__name__}: {e}") from None
        self.dims = int(self._model.dim)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        return normalize_rows(self._model.encode(list(texts), show_progress_bar=False))


@register("builtin")
def _builtin(arg: str) -> StaticEmbedder:
    path = MODELS / arg
    if not arg or not path.is_dir():
        known = sorted(p.name for p in MODELS.iterdir() if p.is_dir()) if MODELS.is_dir() else []
        raise EmbedderError(f"unknown builtin embedder {arg!r}; shipped: {', '.join(known) or 'none'}")
    return StaticEmbedder(f"builtin:{arg}", path)


@register("model2vec")
def _local(arg: str) -> StaticEmbedder:
    if not arg:
        raise EmbedderError("embedder 'model2vec:PATH' needs the path of a local model2vec model directory")
    return StaticEmbedder(f"model2vec:{arg}", Path(arg).expanduser())
