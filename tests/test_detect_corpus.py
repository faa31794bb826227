"""Corpus-wide recall (prepkit/detect/corpus.py): a name detected in one ticket is masked in the short follow-up
the detector alone misses, whichever of the two comes first, and the dictionary never holds the name."""

from __future__ import annotations

import pickle

from prepkit.detect.corpus import CorpusRecall
from prepkit.records import Record, Segment

TICKET = ("Hello, my name is Priyanka Raghunathan and I ordered a desk on Monday. It arrived broken and I would "
          "like a replacement. You can reach me at priyanka.r@example.com.")
FOLLOW_UP = "Follow-up from Priyanka Raghunathan (priyanka.r@example.com)."


def _detect(pipeline, *texts: str):
    recs = [Record(f"r{i}", "t", "text", [Segment("text", t)]) for i, t in enumerate(texts)]
    return pipeline.detector.detect(recs)


def _names(text: str, findings) -> set[str]:
    return {text[f.start:f.end] for f in findings if f.entity_type == "PERSON"}


def test_a_name_detected_in_one_ticket_is_masked_in_the_follow_up(default_pipeline) -> None:
    ticket, follow = _detect(default_pipeline, TICKET, FOLLOW_UP)
    assert "Priyanka Raghunathan" in _names(TICKET, ticket)
    assert "Priyanka Raghunathan" not in _names(FOLLOW_UP, follow)  # the detector alone misses it here
    corpus = CorpusRecall(key=b"k" * 32)
    corpus.process("ticket", [TICKET], ticket)
    extra, recheck = corpus.process("follow", [FOLLOW_UP], follow)
    assert "Priyanka Raghunathan" in _names(FOLLOW_UP, extra) and not recheck


def test_a_record_seen_before_the_name_was_detected_is_rechecked(default_pipeline) -> None:
    ticket, follow = _detect(default_pipeline, TICKET, FOLLOW_UP)
    corpus = CorpusRecall(key=b"k" * 32)
    extra, recheck = corpus.process("follow", [FOLLOW_UP], follow)
    assert not _names(FOLLOW_UP, extra)
    _, recheck = corpus.process("ticket", [TICKET], ticket)
    assert recheck == {"follow"}
    assert "Priyanka Raghunathan" in _names(FOLLOW_UP, corpus.match([FOLLOW_UP], follow))
    state = pickle.dumps(corpus)
    assert b"Priyanka" not in state and b"priyanka" not in state and b"Raghunathan" not in state.lower()


def test_common_words_and_lower_case_copies_are_not_chased() -> None:
    from prepkit.records import Finding

    corpus = CorpusRecall(key=b"k" * 32)
    text = "Change is coming, said Rose Baker."
    corpus.process("a", [text], [Finding(0, 0, 6, "PERSON", 0.9, "x"), Finding(0, 23, 33, "PERSON", 0.9, "x")])
    later = "I want to change my rose baker order. Rose Baker agreed. Change it."
    found = {later[f.start:f.end] for f in corpus.match([later])}
    assert found == {"Rose Baker"}
