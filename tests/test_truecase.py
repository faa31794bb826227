"""Lower-case and ALL-CAPS texts also go through NER as a truecased copy; one unknown capitalized word that the
small model calls an ORG is reported as a PERSON."""

from __future__ import annotations

import pytest
from presidio_analyzer import RecognizerResult

from prepkit.detect.refine import refine
from prepkit.detect.truecase import case_mode, truecase
from prepkit.records import Record, Segment


@pytest.mark.parametrize(("text", "mode"), [
    ("had lunch with priya ramanathan and her brother today", "lower"),
    ("RT @ SomeAccount : i dare you to tell me this is not them https://t.co/AbCdEf", "lower"),  # links/handles
    ("CALL DMITRI VOLKOV BEFORE FRIDAY", "upper"),
    ("The meeting with Priya Ramanathan went well. She sent the notes on Monday.", None),
    ("ok", None),
    ("oreeves@example.net", None),  # a lone address (a CSV e-mail cell) has no prose to truecase
    ("mail j.o'brien+news@mail.example.co.uk, k.lee@example.org", None),
    ("mail priya at priya.r@example.org today", "lower"),  # prose around an address still counts
])
def test_case_mode(text: str, mode: str | None) -> None:
    assert case_mode(text) == mode


def test_truecase_keeps_offsets_and_function_words() -> None:
    text = "CALL DMITRI VOLKOV, don't wait for the bank"
    copy = truecase(text.lower(), "lower")
    assert copy is not None and len(copy) == len(text)
    assert copy == "call Dmitri Volkov, don't Wait for the Bank"  # stop words ("call", "for") and "don't" stay
    assert truecase("CALL DMITRI VOLKOV", "upper") == "call Dmitri Volkov"
    assert truecase("anything", None) is None


@pytest.mark.parametrize(("text", "name"), [
    ("had lunch with priya ramanathan and her brother today", "priya ramanathan"),
    ("just talked to dmitri volkov about the contract", "dmitri volkov"),
    ("CALL DMITRI VOLKOV BEFORE FRIDAY", "DMITRI VOLKOV"),
])
def test_names_in_lowercase_or_shouted_text_are_found(default_pipeline, text: str, name: str) -> None:
    found = default_pipeline.detector.detect([Record("r", "t", "text", [Segment("text", text)])])[0]
    start = text.index(name)
    assert any(f.entity_type == "PERSON" and f.start <= start and f.end >= start + len(name) for f in found), found


def test_a_lone_capitalized_org_guess_is_a_person_but_acronyms_and_org_words_stay() -> None:
    # "Okonkwo" is an unknown word; "Google" is a frequent word mostly written capitalized and no given or family
    # name (lexicon.proper_words): the organisation the model said it is
    text = "Okonkwo met NASA and Acme Corporation at Google"

    def ner(start: int, end: int) -> RecognizerResult:
        return RecognizerResult("ORGANIZATION", start, end, 0.85,
                                recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: "SpacyRecognizer"})

    out = refine(text, [ner(0, 7), ner(12, 16), ner(21, 37), ner(41, 47)])
    assert [(text[r.start:r.end], r.entity_type) for r in out] == [
        ("Okonkwo", "PERSON"), ("NASA", "ORGANIZATION"), ("Acme Corporation", "ORGANIZATION"),
        ("Google", "ORGANIZATION")]


@pytest.mark.parametrize(("text", "name"), [("Jacob lives on the third floor.", "Jacob"),
                                            ("Okonkwo said the club would pay.", "Okonkwo")])
def test_a_name_opening_a_sentence_before_a_verb_is_found(default_pipeline, text: str, name: str) -> None:
    found = default_pipeline.detector.detect([Record("r", "t", "text", [Segment("text", text)])])[0]
    assert any(f.entity_type == "PERSON" and f.start == 0 and f.end >= len(name) for f in found), found


def test_a_common_word_opening_a_sentence_is_not_a_name(default_pipeline) -> None:
    text = "Thanks for the update. Great work on the report. Hope you are well."
    found = default_pipeline.detector.detect([Record("r", "t", "text", [Segment("text", text)])])[0]
    assert not [f for f in found if f.entity_type == "PERSON"], found


def test_headline_case_single_capitalized_words_are_not_names(default_pipeline) -> None:
    text = "Sound Crazy When I Say This But I Can Not Hang With People Who Do Not Smoke"
    found = default_pipeline.detector.detect([Record("r", "t", "text", [Segment("text", text)])])[0]
    assert not [f for f in found if f.detector == "PrepkitProperNounRecognizer" and " " not in text[f.start:f.end]]
    # in a normal sentence a lone capitalized word mid-sentence is still taken when it is no common word (a
    # capitalized common word such as "Hang" needs more evidence: see tests/test_detect_classes.py)
    found = default_pipeline.detector.detect([Record("r", "t", "text", [Segment("text", "We met Zanele at the station.")])])[0]
    assert any(f.entity_type == "PERSON" for f in found), found


def test_a_person_guess_after_a_place_preposition_is_a_location() -> None:
    text = "We had dinner at Olive Garden with Maria"

    def ner(start: int, end: int) -> RecognizerResult:
        return RecognizerResult("PERSON", start, end, 0.85,
                                recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: "SpacyRecognizer"})

    out = refine(text, [ner(17, 29), ner(35, 40)])
    assert [(text[r.start:r.end], r.entity_type) for r in out] == [("Olive Garden", "LOCATION"), ("Maria", "PERSON")]


def test_a_handle_naming_an_outlet_is_an_organization(default_pipeline) -> None:
    text = "thanks @ CitySportsRadio and @ jdoe_1987 for the coverage"
    found = default_pipeline.detector.detect([Record("r", "t", "text", [Segment("text", text)])])[0]
    got = {text[f.start:f.end]: f.entity_type for f in found if f.detector == "PrepkitHandleRecognizer"}
    assert got == {"CitySportsRadio": "ORGANIZATION", "jdoe_1987": "PERSON"}


def test_common_abbreviations_are_not_organizations() -> None:
    text = "my SSN is below and LOL at Acme"

    def ner(start: int, end: int) -> RecognizerResult:
        return RecognizerResult("ORGANIZATION", start, end, 0.85,
                                recognition_metadata={RecognizerResult.RECOGNIZER_NAME_KEY: "SpacyRecognizer"})

    out = refine(text, [ner(3, 6), ner(20, 23), ner(27, 31)])
    assert [text[r.start:r.end] for r in out] == ["Acme"]


def test_run_windows_cover_each_shouted_stretch_with_context_and_do_not_overlap() -> None:
    from prepkit.detect.truecase import RUN_CONTEXT, run_windows

    prose = "The Quarterly Review was filed on Monday and the Finance Team read it on Tuesday. " * 30
    text = prose + "THANKS, THIS IS BARTHOLOMEW CHRISTOPHER WRITING AGAIN. " + prose + "PLEASE CALL ME BACK. " + prose
    wins = run_windows(text)
    stretches = [s for _, _, ss in wins for s in ss]
    assert len(wins) == 2 and len(stretches) == 2  # far apart: two windows, not the whole text
    for lo, hi, ss in wins:
        assert all(lo <= a - RUN_CONTEXT + 1 and b + RUN_CONTEXT - 1 <= hi for a, b in ss)
        assert (lo == 0 or text[lo - 1].isspace()) and (hi == len(text) or text[hi].isspace())
    assert wins[0][1] < wins[1][0]
    assert sum(hi - lo for lo, hi, _ in wins) < len(text) / 3


def test_shouted_names_deep_inside_a_long_text_are_found_at_their_place(default_pipeline) -> None:
    # NER reads a mixed-case text's shouted stretches in windows (truecase.run_windows): their findings must
    # land at the stretch's offsets in the whole text, however far in it is
    prose = "The Quarterly Review was filed on Monday and the Finance Team read it on Tuesday. " * 40
    text = prose + "THANKS, THIS IS BARTHOLOMEW CHRISTOPHER WRITING AGAIN. " + prose + "REGARDS, DMITRI VOLKOV. " + prose
    assert case_mode(text) == "runs"
    found = default_pipeline.detector.detect([Record("r", "t", "text", [Segment("text", text)])])[0]
    people = {text[f.start:f.end] for f in found if f.entity_type == "PERSON"}
    assert any("BARTHOLOMEW CHRISTOPHER" in p for p in people), people
    assert any("DMITRI VOLKOV" in p for p in people), people
    assert all(p.isupper() for p in people), people  # nothing shifted into the surrounding prose
