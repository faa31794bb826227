"""Corpus-wide recall (prepkit/detect/corpus.py): a name detected in one ticket is matched in the short follow-up
the detector alone misses, and the dictionary never holds the name."""

from __future__ import annotations

import pickle

import pytest

from prepkit.detect.corpus import CorpusRecall, for_policy
from prepkit.records import Finding, Record, Segment

TICKET = ("Hello, my name is Priyanka Raghunathan and I ordered a desk on Monday. It arrived broken and I would "
          "like a replacement. You can reach me at priyanka.r@example.com.")
FOLLOW_UP = "Follow-up from Priyanka Raghunathan (priyanka.r@example.com)."


def _detect(pipeline, *texts: str):
    recs = [Record(f"r{i}", "t", "text", [Segment("text", t)]) for i, t in enumerate(texts)]
    return pipeline.detector.detect(recs)


def _values(text: str, findings, etype: str = "PERSON") -> set[str]:
    return {text[f.start:f.end] for f in findings if f.entity_type == etype}


def test_a_name_detected_in_one_ticket_is_found_in_the_follow_up(default_pipeline) -> None:
    ticket, follow = _detect(default_pipeline, TICKET, FOLLOW_UP)
    assert "Priyanka Raghunathan" in _values(TICKET, ticket)
    corpus = CorpusRecall(key=b"k" * 32, min_score=0.0)  # (the score bar has its own test below)
    assert corpus.learn([TICKET], ticket) == 2  # the name and the address
    assert corpus.learn([TICKET], ticket) == 0
    # the follow-up as the detector sees it when it misses the name (typed otherwise, or not found at all)
    follow = [f for f in follow if f.entity_type == "EMAIL_ADDRESS"]
    extra = corpus.match([FOLLOW_UP], follow)
    assert "Priyanka Raghunathan" in _values(FOLLOW_UP, extra)
    assert all(f.detector == "corpus" for f in extra)
    # the address was detected in the follow-up too, so it adds nothing there
    assert not _values(FOLLOW_UP, extra, "EMAIL_ADDRESS")


def test_the_dictionary_holds_no_plaintext_and_is_never_pickled(default_pipeline) -> None:
    (ticket,) = _detect(default_pipeline, TICKET)
    corpus = CorpusRecall(key=b"k" * 32, min_score=0.0)
    corpus.learn([TICKET], ticket)
    held = repr(vars(corpus)).casefold()
    assert "priyanka" not in held and "raghunathan" not in held and "example.com" not in held
    with pytest.raises(TypeError, match="never pickled"):
        pickle.dumps(corpus)


def test_common_words_and_lower_case_copies_are_not_chased() -> None:
    corpus = CorpusRecall(key=b"k" * 32)
    text = "Change is coming, said Rose Baker. Medical Record Number follows. Date: Justice Rao."
    corpus.learn([text], [Finding(0, 0, 6, "PERSON", 0.9, "x"), Finding(0, 23, 33, "PERSON", 0.9, "x"),
                          Finding(0, 35, 56, "PERSON", 0.9, "x"), Finding(0, 66, 70, "PERSON", 0.9, "x"),
                          Finding(0, 72, 79, "PERSON", 0.9, "x")])
    # "Change" and "Medical Record Number" are common words; "Date" and "Justice" one frequent word each
    assert len(corpus) == 1
    later = "I want to change my rose baker order. Rose Baker agreed. Change it. Medical Record Number 7."
    assert {later[f.start:f.end] for f in corpus.match([later])} == {"Rose Baker"}


def test_spelling_variants_of_one_value_match() -> None:
    corpus = CorpusRecall(key=b"k" * 32)
    text = "Dr. Ann Lee met Maria del Carmen Ortiz."
    corpus.learn([text], [Finding(0, 0, 11, "PERSON", 0.9, "x"), Finding(0, 16, 38, "PERSON", 0.9, "x")])
    later = "Notes: DR.  ANN LEE's visit; Ｍａｒｉａ del Carmen Ortiz called; Ann Lee alone; del Carmen Ortiz."
    found = {later[f.start:f.end] for f in corpus.match([later])}
    # case, spacing, full-width letters and a possessive do not hide a value; a part of it is not the value
    assert found == {"DR.  ANN LEE's", "Ｍａｒｉａ del Carmen Ortiz"}


def test_the_policy_setting_turns_it_on_for_detected_types(default_pipeline) -> None:
    policy = default_pipeline.policy
    assert policy.detection.corpus_recall.enabled
    recall = for_policy(policy)
    assert recall is not None and recall.entity_types == {"PERSON", "EMAIL_ADDRESS"}
    off = policy.model_copy(update={"detection": policy.detection.model_copy(update={
        "corpus_recall": policy.detection.corpus_recall.model_copy(update={"enabled": False})})})
    assert for_policy(off) is None


def test_a_value_inside_a_longer_finding_is_left_to_it() -> None:
    corpus = CorpusRecall(key=b"k" * 32)
    corpus.learn(["Oluwaseun"], [Finding(0, 0, 9, "PERSON", 0.9, "x")])
    later = "Office: 0925 Oluwaseun Summit. From Oluwaseun."
    address = Finding(0, 8, 29, "LOCATION", 0.6, "x")
    misread = Finding(0, 36, 45, "LOCATION", 0.6, "x")  # the name itself, typed as a place
    assert [(f.start, f.end) for f in corpus.match([later], [address, misread])] == [(36, 45)]


def test_only_values_found_with_confidence_are_learnt() -> None:
    corpus = CorpusRecall(key=b"k" * 32, min_score=0.5)
    text = "Thanks, Seven Baker. Northwind Analytics Pro is slow."
    corpus.learn([text], [Finding(0, 8, 19, "PERSON", 0.856, "x"), Finding(0, 21, 44, "PERSON", 0.163, "x")])
    assert len(corpus) == 1  # the product name a weak pass took for a person is masked there, not learnt
    later = "Northwind Analytics Pro again, wrote Seven Baker."
    assert {later[f.start:f.end] for f in corpus.match([later])} == {"Seven Baker"}


def test_turning_it_off_or_narrowing_it_is_a_weakening_a_policy_diff_shows(tmp_path) -> None:
    import yaml

    from prepkit.policy import load_policy
    from prepkit.review.diff import diff_policies
    from tests.conftest import DEFAULT_POLICY

    doc = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
    changed = []
    for name, spec in (("off", {"enabled": False}), ("names", {"entity_types": ["PERSON"], "min_score": 0.8})):
        doc["detection"]["corpus_recall"] = spec
        path = tmp_path / f"{name}.yaml"
        path.write_text(yaml.safe_dump(doc), encoding="utf-8")
        changed += [c for c in diff_policies(load_policy(DEFAULT_POLICY), load_policy(path))
                    if c.subject == "corpus_recall"]
    assert [c.weakens for c in changed] == [True, True]
    assert "now off" in changed[0].sentence and "[PERSON]" in changed[1].sentence


def test_overlapping_mentions_take_the_longest_and_a_same_start_finding_masks_only_when_longer() -> None:
    corpus = CorpusRecall(key=b"k" * 32)
    corpus.learn(["Ada Lovelace King", "Ada Lovelace"],
                 [Finding(0, 0, 17, "PERSON", 0.9, "x"), Finding(1, 0, 12, "PERSON", 0.9, "x")])
    text = "Ada Lovelace King met Ada Lovelace. Ada Lovelace King again."
    # the first mention is found whole (its shorter reading "Ada Lovelace" overlaps it and is not added);
    # the second is detected as a same-start but longer place, which masks it; the third is detected as exactly
    # its own span, so nothing is added there either
    place = Finding(0, 22, 35, "LOCATION", 0.6, "x")
    own = Finding(0, 36, 53, "PERSON", 0.9, "x")
    assert [(f.start, f.end) for f in corpus.match([text], [place, own])] == [(0, 17)]
    # a same-start finding of the same length does not mask the name (it is the name, typed otherwise)
    same = Finding(0, 22, 34, "LOCATION", 0.6, "x")
    assert [(f.start, f.end) for f in corpus.match([text], [same, own])] == [(0, 17), (22, 34)]


def test_a_long_record_is_matched_in_one_pass_over_its_words() -> None:
    corpus = CorpusRecall(key=b"k" * 32)
    corpus.learn(["Oluwaseun Adeyemi"], [Finding(0, 0, 17, "PERSON", 0.9, "x")])
    text = "Filler words of a very long record, and then Oluwaseun Adeyemi wrote. " * 40_000  # 2.8M characters
    findings = [Finding(0, m, m + 17, "PERSON", 0.9, "x") for m in range(45, len(text), 140)]  # every other one
    extra = corpus.match([text], findings)
    assert len(extra) == 20_000 and {text[f.start:f.end] for f in extra} == {"Oluwaseun Adeyemi"}


def test_a_run_of_words_that_starts_no_value_is_not_extended() -> None:
    """Each capitalised word is digested once when no value learnt starts with it, not once per run length (a
    run that cannot become a value is not grown word by word); what is found stays the same."""
    corpus = CorpusRecall(key=b"k" * 32)
    corpus.learn(["Maria del Carmen Ortiz"], [Finding(0, 0, 22, "PERSON", 0.9, "x")])
    text = "Alpha Beta Gamma Delta met Maria del Carmen Ortiz and Maria Lopez."
    calls: list[str] = []
    digest = corpus._digest

    def counted(normalised: str) -> bytes:
        calls.append(normalised)
        return digest(normalised)

    corpus._digest = counted  # type: ignore[method-assign]
    assert [text[f.start:f.end] for f in corpus.match([text])] == ["Maria del Carmen Ortiz"]
    # Alpha, Beta, Gamma, Delta: one each; Maria del Carmen Ortiz: its four prefixes; "Maria Lopez": two
    assert calls.count("alpha") == 1 and "alpha beta" not in calls and "maria lopez" in calls
    assert len(calls) == 4 + 4 + 2 + 2 + 1  # and one each for the starts "Carmen", "Ortiz" and "Lopez"
