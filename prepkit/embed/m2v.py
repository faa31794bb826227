"""model2vec static embedders: the shipped `builtin:minilm-m2v` and any local model2vec directory (`model2vec:PATH`)."""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from prepkit.embed import EmbedderError, normalize_rows, register

MODELS = Path(__file__).resolve().parent / "models"


class StaticEmbedder:
    """Loads the model on the first `embed` call: a run whose chunks are all in the store already (an unchanged
    re-run) never pays the load. `dims` is read from the weights file's header, which also checks the file."""

    def __init__(self, name: str, path: Path) -> None:
        if not (path / "model.safetensors").is_file() or not (path / "tokenizer.json").is_file():
            raise EmbedderError(f"embedder {name!r}: no model2vec model in {path} (model.safetensors, tokenizer.json)")
        self.name = name
        self.path = path
        self.dims = _dims(name, path / "model.safetensors")
        self._model: Any = None

    def _load(self) -> Any:
        # A local directory never needs the hub; make sure a missing file cannot turn into a download attempt.
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        from model2vec import StaticModel

        try:
            model = StaticModel.from_pretrained(self.path, force_download=False)
        except Exception as e:  # model2vec raises many types for a bad directory; report which model failed
            raise EmbedderError(f"embedder {self.name!r}: cannot load {self.path}: {type(e).__name__}: {e}") from None
        if int(model.dim) != self.dims:
            raise EmbedderError(f"embedder {self.name!r}: {self.path} has {model.dim} dimensions, its weights "
                                f"header says {self.dims}")
        return model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        if self._model is None:
            self._model = self._load()
        return normalize_rows(self._model.encode(list(texts), show_progress_bar=False))


def _dims(name: str, weights: Path) -> int:
    """The embedding width from the safetensors header (8-byte little-endian length, then JSON)."""
    try:
        with weights.open("rb") as f:
            size = int.from_bytes(f.read(8), "little")
            if not 0 < size < 100_000_000:
                raise ValueError("bad header length")
            header = json.loads(f.read(size))
        shapes = [v["shape"] for k, v in header.items() if k != "__metadata__" and len(v.get("shape", ())) == 2]
        if len(shapes) != 1:
            raise ValueError(f"expected one 2-D embedding tensor, found {len(shapes)}")
        return int(shapes[0][1])
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as e:
        raise EmbedderError(f"embedder {name!r}: cannot read {weights}: {e}") from None


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
