"""Embedders (the shipped model2vec model, hashing, the sentence-transformers adapter) and the chunker."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from prepkit.embed import EmbedderError, get_embedder
from prepkit.embed.m2v import MODELS
from prepkit.rag.chunk import chunk_spans, sentences


def test_builtin_model_ships_in_the_package_and_is_small():
    files = list((MODELS / "minilm-m2v").iterdir())
    assert {"model.safetensors", "tokenizer.json", "config.json"} <= {f.name for f in files}
    assert sum(f.stat().st_size for f in files) < 17_000_000


def test_builtin_embedder_ranks_paraphrases_first():
    e = get_embedder("builtin:minilm-m2v")
    assert e.dims == 256
    v = e.embed(["How do I reset my password?", "I forgot my login credentials and cannot sign in",
                 "The cafeteria serves lunch from noon", "Submit travel receipts for reimbursement",
                 "Getting paid back for my business trip expenses"])
    assert v.dtype == np.float32 and np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    sims = v @ v.T
    assert sims[0, 1] > max(sims[0, 2], sims[0, 3], sims[0, 4])
    assert sims[3, 4] > max(sims[3, 0], sims[3, 1], sims[3, 2])


def test_hashing_embedder_is_deterministic_and_normalized():
    e = get_embedder("hashing:64")
    a = e.embed(["alpha beta gamma", "alpha beta gamma", ""])
    assert a.shape == (3, 64) and np.array_equal(a[0], a[1])
    assert np.isclose(np.linalg.norm(a[0]), 1.0) and not a[2].any()


@pytest.mark.parametrize("name, message", [
    ("nope", "unknown embedder 'nope'"),
    ("builtin:missing", "shipped: minilm-m2v"),
    ("hashing:3", "dimensions must be an integer"),
    ("model2vec:/nonexistent", "no model2vec model in /nonexistent"),
])
def test_bad_embedder_names_fail_clearly(name: str, message: str):
    with pytest.raises(EmbedderError, match=message):
        get_embedder(name)


def test_sentence_transformers_embedder_explains_what_is_missing(tmp_path):
    try:
        import sentence_transformers  # noqa: F401
    except ImportError:
        with pytest.raises(EmbedderError, match="needs the sentence-transformers package"):
            get_embedder(f"sentence-transformers:{tmp_path}")
    with pytest.raises(EmbedderError, match="is not a directory"):
        get_embedder(f"sentence-transformers:{tmp_path / 'absent'}")


def test_chunks_follow_sentence_boundaries_with_overlap():
    text = " ".join(f"Sentence number {i} says something short." for i in range(40))
    spans = chunk_spans(text, 200, 60)
    assert len(spans) > 5
    for a, b in zip(spans, spans[1:], strict=False):
        assert text[a.start : a.end].endswith(".") and text[b.start].isupper()
        assert b.start < a.end  # consecutive chunks overlap ...
        assert a.end - b.start <= 60  # ... by at most the configured overlap
    assert spans[0].start == 0 and spans[-1].end == len(text)


@settings(max_examples=60, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab .!?\n"), max_size=800), st.integers(60, 300), st.integers(0, 80))
def test_chunks_cover_the_text_within_size(text: str, size: int, overlap: int):
    spans = chunk_spans(text, size, overlap)
    covered = set()
    for s in spans:
        assert 0 <= s.start < s.end <= len(text) and s.end - s.start <= size
        assert text[s.start : s.end] == text[s.start : s.end].strip()
        covered.update(range(s.start, s.end))
    assert all(i in covered for i, ch in enumerate(text) if not ch.isspace())
    assert all(b.start > a.start for a, b in zip(spans, spans[1:], strict=False))
    assert sum(s.end - s.start for s in sentences(text)) == len(text)


def test_static_model_loads_on_first_use_with_the_width_its_header_declares(tmp_path):
    import shutil

    from prepkit.embed.m2v import StaticEmbedder

    emb = StaticEmbedder("builtin:minilm-m2v", MODELS / "minilm-m2v")
    assert emb._model is None  # building the embedder (every RAG run does) must not load the weights
    assert emb.embed(["a sentence"]).shape == (1, emb.dims)
    assert emb._model is not None and int(emb._model.dim) == emb.dims

    broken = tmp_path / "m"
    shutil.copytree(MODELS / "minilm-m2v", broken)
    (broken / "model.safetensors").write_bytes(b"\xff" * 16)
    with pytest.raises(EmbedderError, match=r"model\.safetensors"):
        StaticEmbedder("model2vec:broken", broken)
