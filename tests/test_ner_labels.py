"""NER without the labels prepkit never uses (prepkit/detect/ner_labels.py): wherever the full model chose none of
them, the reduced model must decide exactly as it did."""

from __future__ import annotations

import spacy

from prepkit.detect.engine import _UNUSED_COMPONENTS, use_numpy_matmul
from prepkit.detect.ner_labels import DROPPED, ENV_ALL, drop_unused_labels
from tests.test_detect_ops import MODEL, _ents, _texts


def _load() -> spacy.Language:
    return use_numpy_matmul(spacy.load(MODEL, disable=list(_UNUSED_COMPONENTS)))


def test_the_reduced_model_decides_as_the_full_one_wherever_that_chose_no_dropped_label(monkeypatch) -> None:
    monkeypatch.delenv(ENV_ALL, raising=False)
    full, reduced = _load(), _load()
    assert drop_unused_labels(reduced) == sorted(DROPPED)
    labels = set(reduced.get_pipe("ner").labels)
    assert labels.isdisjoint(DROPPED) and {"PERSON", "GPE", "DATE", "CARDINAL", "MONEY"} <= labels
    assert reduced.get_pipe("ner").moves.n_moves == full.get_pipe("ner").moves.n_moves - 4 * len(DROPPED)
    texts = _texts()
    want, got = _ents(full, texts), _ents(reduced, texts)
    chose_dropped = {i for i, ents in enumerate(want) if any(label in DROPPED for *_, label in ents)}
    assert 0 < len(chose_dropped) < len(texts) / 2
    assert [got[i] for i in range(len(texts)) if i not in chose_dropped] == \
        [want[i] for i in range(len(texts)) if i not in chose_dropped]
    assert not any(label in DROPPED for ents in got for *_, label in ents)
    assert any(got[i] != want[i] for i in chose_dropped)


def test_the_full_label_set_stays_on_request_and_for_other_models(monkeypatch) -> None:
    monkeypatch.setenv(ENV_ALL, "1")
    nlp = _load()
    assert drop_unused_labels(nlp) == [] and set(nlp.get_pipe("ner").labels) >= DROPPED
    monkeypatch.delenv(ENV_ALL)
    assert drop_unused_labels(spacy.blank("en")) == []  # no NER: nothing to do
    nlp = _load()
    drop_unused_labels(nlp)
    assert drop_unused_labels(nlp) == []  # already reduced


def test_the_detector_runs_on_the_reduced_model_unless_the_policy_mimics_vanilla_presidio(default_pipeline) -> None:
    from prepkit.detect.engine import build_analyzer
    from prepkit.policy import load_policy

    nlp = default_pipeline.detector.analyzer.nlp_engine.nlp["en"]
    assert set(nlp.get_pipe("ner").labels).isdisjoint(DROPPED)
    vanilla = build_analyzer(load_policy("policies/vanilla.yaml").policy).nlp_engine.nlp["en"]
    assert set(vanilla.get_pipe("ner").labels) >= DROPPED
