"""Regex recognizers that can only match a digit skip texts without one (prepkit/detect/digit_bound.py): the claim
is proved from each pattern's syntax tree; these tests check the proof and that near misses without digits are
found by none of them."""

from __future__ import annotations

import pytest

from prepkit.detect.digit_bound import digit_bound, may_hold_digit, needs_digit


@pytest.mark.parametrize("pattern", [
    r"\d{3}-\d{2}-\d{4}", r"[0-9]+", r"\b(?:SSN|ssn)[:\s]*\d{9}\b", r"(?:bc1|[13])[a-z]{25}", r"(?i)zip\s*(\d{5})",
    r"(?:a|b)?(?:\d|[2-5])", r"(?>\d)", r"x{2}\d?\d",
])
def test_patterns_that_need_a_digit(pattern: str) -> None:
    assert needs_digit(pattern)


@pytest.mark.parametrize("pattern", [
    r"[A-Z]+", r"\d*", r"\d?", r"(?=\d)\w+", r"(?:a|\d)", r"[^a]\d?", r".", r"[\da-f]+", r"\w+", r"(?:\d+){0,3}",
    r"\d{e<=1}",  # the regex module's fuzzy matching could match without the digit
    r"\p{Nd}+",  # a class `re` cannot read is never claimed
    r"[[:digit:]]+",  # nor a POSIX class (the regex module's; `re` reads it as a set of punctuation and letters)
    r"(unbalanced",
])
def test_patterns_that_do_not(pattern: str) -> None:
    assert not needs_digit(pattern)


def test_a_text_may_hold_a_digit_in_any_script_or_in_a_character_this_python_does_not_know() -> None:
    assert not may_hold_digit("Jeffrey Cochran, oreeves@example.net; Ünal Şahin")
    assert may_hold_digit("call 5")
    assert may_hold_digit("٣")  # ARABIC-INDIC DIGIT THREE
    assert may_hold_digit("５")  # FULLWIDTH DIGIT FIVE
    unassigned = "\U000e0fff"
    assert may_hold_digit(f"name {unassigned}")


# Texts each of which some digit-bound recognizer finds; with their digits replaced by look-alike letters, none may.
_HITS = [
    "SSN 078-05-1120 on file", "card 4111 1111 1111 1111 exp", "IBAN DE89370400440532013000 please",
    "born 12/04/1987 in", "on 2024-03-05T10:22:01Z", "zip 94103", "MRN 4455667", "NPI 1234567893",
    "passport 912803456", "licence A1234567", "acct no. 000123456789", "ITIN 912-70-1234", "aged 42",
    "call (415) 555-0134", "bitcoin 1BoatSLRHtKNngkdXEeobR76b53LETtpyT", "employee NW-004512", "ref INC-2024-000123",
    "NHS 943 476 5919", "DEA AB1234563", "health plan 1EG4-TE5-MK73", "15-MAR-2024", "MAR-24",
]
_LOOKALIKE = str.maketrans("0123456789", "OlZEAsGTBg")


def test_digit_bound_recognizers_find_nothing_in_near_misses_without_digits(default_pipeline) -> None:
    det = default_pipeline.detector
    bound = [r for r in det.analyzer.registry.recognizers if digit_bound(r)]
    assert len(bound) >= 15
    found_some = set()
    for text in _HITS:
        assert may_hold_digit(text)
        for rec in bound:
            # the recognizer's own analyze, not the guard around it
            if type(rec).analyze(rec, text, det.entities, None):
                found_some.add(text)
            miss = text.translate(_LOOKALIKE)
            assert not may_hold_digit(miss)
            assert not type(rec).analyze(rec, miss, det.entities, None), (rec.name, miss)
    assert len(found_some) >= len(_HITS) - 3  # the near misses are near: the originals are found


def test_the_detector_guards_the_number_recognizers_and_only_them(default_pipeline) -> None:
    names = set(default_pipeline.detector.digit_bound)
    assert {"UsSsnRecognizer", "CreditCardRecognizer", "IbanRecognizer", "DateRecognizer", "PrepkitZipCodeRecognizer",
            "PrepkitPhoneRecognizer"} <= names
    # these can match without a digit: e-mail, URLs, IPv6 "::", street names, titles, handles, deny lists
    assert not names & {"EmailRecognizer", "UrlRecognizer", "IpRecognizer", "PrepkitStreetAddressRecognizer",
                        "PrepkitTitleRecognizer", "PrepkitHandleRecognizer", "PhoneRecognizer",
                        "northwind_project_codenames", "SpacyRecognizer"}
    # a guarded recognizer still finds what it finds where there is a digit
    ssn = next(r for r in default_pipeline.detector.analyzer.registry.recognizers if r.name == "UsSsnRecognizer")
    assert ssn.analyze("SSN 536-90-4399", ["US_SSN"], None)
    assert ssn.analyze("SSN OTB-OS-llZO", ["US_SSN"], None) == []
