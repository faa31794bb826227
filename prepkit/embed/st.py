"""`sentence-transformers:PATH`: a user's local sentence-transformers model. Needs sentence-transformers and
PyTorch, which prepkit does not install; imported only when a policy names such an embedder."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np

from prepkit.embed import EmbedderError, normalize_rows, register


class SentenceTransformerEmbedder:
    def __init__(self, path: Path) -> None:
        self.name = f"sentence-transformers:{path}"
        if not path.is_dir():
            raise EmbedderError(f"embedder {self.name!r}: {path} is not a directory (give a local model path)")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise EmbedderError(
                f"embedder {self.name!r} needs the sentence-transformers package (and PyTorch), which is not "
                "installed; install it in this environment or use builtin:minilm-m2v"
            ) from None
        try:
            self._model = SentenceTransformer(str(path), device="cpu", local_files_only=True)
        except Exception as e:
            raise EmbedderError(f"embedder {self.name!r}: cannot load {path}: {type(e).__name__}: {e}") from None
        dims = self._model.get_sentence_embedding_dimension()
        if not dims:
            raise EmbedderError(f"embedder {self.name!r}: the model does not report its embedding size")
        self.dims = int(dims)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dims), dtype=np.float32)
        return normalize_rows(self._model.encode(list(texts), batch_size=32, show_progress_bar=False))


@register("sentence-transformers")
def _make(arg: str) -> SentenceTransformerEmbedder:
    if not arg:
        raise EmbedderError("embedder 'sentence-transformers:PATH' needs the path of a local model directory")
    return SentenceTransformerEmbedder(Path(arg).expanduser())
