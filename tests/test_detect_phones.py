"""The shared phone matcher finds exactly what Presidio's PhoneRecognizer finds (spans, scores, explanations), on
the sample and evaluation texts kept in the repo and on texts built to take libphonenumber's rarer paths."""

from __future__ import annotations

import csv
import json

import phonenumbers
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from phonenumbers import Leniency, PhoneNumberMatcher, phonenumbermatcher
from presidio_analyzer.predefined_recognizers import PhoneRecognizer

from prepkit.detect import phones
from tests.conftest import EVAL_FIXTURES, SAMPLES

ADVERSARIAL = [
    "+1 425 882-8080, +44 20 7946 0958, +49 30 901820, +33 1 42 68 53 00, +972 3-123-4567, +91 98765 43210",
    "011 44 20 7946 0958 and 00 49 30 901820 and 0049 30 901820 or 01 23 45 67 89 (FR) or 030 901820",
    "++1 425 882 8080, +999 123 4567, +0 123, +1 (425) 882-8080 x123, 425.882.8080 ext. 55, 1-800-555-0199",
    "Brazil (11) 98765-4321, India 098765 43210, Israel 03-123-4567, UK 07700 900123, Canada 613-555-0142",
    "dates 12/05/2024 and 2024-05-12, at 10:30 am, pages 12-15 (3), SSN 078-05-1120, card 4111 1111 1111 1111",
    "abc8005001234 and 8005001234def, $4255551234, 4255551234%, (425) 882-8080), [425] 882-8080",
    "tel:+1-425-882-8080;phone-context=example.com and 425 882 8080 / 81 and +41 79 123 45 67 / 68",
    "１２３-４５６-７８９０ and ٠١٢٣٤٥٦٧٨٩ and 425\u00a0882\u00a08080 and 4 2 5 8 8 2 8 0 8 0",
    # digits of other scripts only (no ASCII digit: the no-digit shortcut must still scan these), and no digit at all
    "+٩٧٢ ٣-١٢٣-٤٥٦٧", "call ４２５-８８２-８０８０ today", "(٤٢٥) ٨٨٢-٨٠٨٠",
    "call me at four two five, eight eight two, eighty eighty (or +one)", "",
]


def _texts() -> list[str]:
    out = list(ADVERSARIAL)
    for path in sorted(EVAL_FIXTURES.glob("*.jsonl")):
        out += [json.loads(line)["text"] for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    for line in (SAMPLES / "tickets.jsonl").read_text(encoding="utf-8").splitlines():
        obj = json.loads(line)
        out += [m["content"] for m in obj.get("messages", [])] + ([obj["text"]] if "text" in obj else [])
    with (SAMPLES / "hr_export.csv").open(encoding="utf-8") as fh:
        out += [", ".join(row) for row in csv.reader(fh)]
    return out


def _found(rec: PhoneRecognizer, text: str) -> list[tuple[int, int, float, str]]:
    return sorted((r.start, r.end, r.score, r.analysis_explanation.textual_explanation)
                  for r in rec.analyze(text, ["PHONE_NUMBER"]))


@pytest.mark.parametrize("regions", [PhoneRecognizer.DEFAULT_SUPPORTED_REGIONS, ("CA", "US", "ZZ", "GB")])
def test_same_findings_as_presidio(regions: tuple[str, ...]) -> None:
    phones._memo.clear()
    presidio = PhoneRecognizer(supported_regions=regions)
    shared = PhoneRecognizer(supported_regions=regions)
    assert phones.share_phone_work(shared)
    texts = _texts() if regions == PhoneRecognizer.DEFAULT_SUPPORTED_REGIONS else ADVERSARIAL
    expected = [_found(presidio, t) for t in texts]
    assert sum(map(len, expected)) > 15  # the texts hold phone numbers to find
    assert [_found(shared, t) for t in texts] == expected
    assert [_found(shared, t) for t in texts] == expected  # again, from the memo


def test_only_presidios_class_is_replaced() -> None:
    class Custom(PhoneRecognizer):
        pass

    assert not phones.share_phone_work(Custom())


def test_digits_of_any_script_are_scanned_and_digitless_text_is_not() -> None:
    rec = PhoneRecognizer()
    assert phones.share_phone_work(rec)
    assert _found(rec, "call ４２５-８８２-８０８０ today")  # no ASCII digit, still a phone number
    assert not phones._ANY_DIGIT.search("call me at four two five (or +one)")


# Texts where the regions part ways: one region's number is another's inner match or nothing, numbers that only an
# international prefix makes long enough (a German four-digit number dialled from France or the US), numbers one
# digit short of a region's shortest, Brazil's carrier codes, and runs of failed candidates before a number (the
# per-region budget of tries, exercised below with small budgets).
DIVERGING = [
    "030 901820 / 425 882 8080 / 01 23 45 67 89 / 07700 900123 / 03-123-4567 / 098765 43210 / (11) 98765-4321",
    "1682, 16834 and 00 49 1682 or 011 49 1682, 0049 1682, 00 49 16 82 x12 or 0 1682 and 01682; 0011 49 1682",
    "425 882 808 and 0425 882 808; 1 425 882 8080 and 1425882808; 44 20 7946 0958 and 4420794609; 33 1 42 68 53",
    "0 21 11 98765 4321 and 021 11 98765-4321, 90 21 11 3456 7890, 0xx11 98765 4321 or 015 11 98765 4321",
    "1 2 3 4 5 6 7 8 9 10 11 12 (425) 882-8080 13 14 15 16 17 18 19 20 030 901820 21 22 23 24 +44 20 7946 0958",
    "12 34 56 1682 78 90 01 23 45 67 89 ab 98 76 +1 425 882 8080 (2) 3 4-5 6.7 8/9 10 00 49 1682 11 12 13 425 882 8080",
]


def _library_walk(text: str, region: str, max_tries: int) -> list[tuple[int, int]]:
    return [(m.start, m.end) for m in PhoneNumberMatcher(text, region, leniency=Leniency.VALID, max_tries=max_tries)]


@pytest.mark.parametrize("max_tries", [1, 2, 3, 5, 8, 13, 65535])
def test_one_walk_yields_each_regions_own_matches(max_tries: int) -> None:
    """The shared walk, region by region, against libphonenumber's own matcher, down to where a small budget of
    failed tries runs out (it runs out at different places for different regions)."""
    phones._memo.clear()
    regions = PhoneRecognizer.DEFAULT_SUPPORTED_REGIONS + ("ZZ", "AR")
    texts = DIVERGING + ADVERSARIAL if max_tries < 65535 else DIVERGING + ADVERSARIAL + _texts()[:400]
    differ = 0
    for text in texts:
        expected = [_library_walk(text, r, max_tries) for r in regions]
        assert phones._Walk(text, regions, Leniency.VALID, max_tries).matches() == expected, text
        differ += len({tuple(e) for e in expected}) > 1
    assert differ >= 3  # the texts do part the regions


def _library_valid(candidate: str, region: str) -> bool:
    try:
        numobj = phonenumbers.parse(candidate, region, keep_raw_input=True)
    except phonenumbers.NumberParseException:
        return False
    return bool(phonenumbermatcher._verify(Leniency.VALID, numobj, candidate, None))


REGIONS = PhoneRecognizer.DEFAULT_SUPPORTED_REGIONS + ("AR", "IT", "RU", "SH", "NU", "SM", "NF", "GG", "JE", "IM", "AG", "ZZ")


def _library_parse(candidate: str, region: str) -> dict[str, object] | None:
    try:
        return vars(phonenumbers.parse(candidate, region, keep_raw_input=True))
    except phonenumbers.NumberParseException:
        return None


def _same_verdicts(candidate: str) -> None:
    found = phones._check(candidate, REGIONS, Leniency.VALID)
    assert {REGIONS[i] for i in found} == {r for r in REGIONS if _library_valid(candidate, r)}, candidate
    # the parse that reads the candidate once for all regions builds the very number libphonenumber's parse builds
    local = phones._local(candidate)
    for region in REGIONS:
        ours = phones._parse(candidate, region, local, Leniency.POSSIBLE)  # POSSIBLE: no length shortcut
        assert (None if ours is None else vars(ours)) == _library_parse(candidate, region), (candidate, region)


@pytest.mark.parametrize("candidate", [
    "1682", "16834", "00 49 1682", "011 49 1682", "0049 1682", "00 49 16 82 x12", "01682", "0011 49 1682",
    "425 882 808", "0425 882 808", "1 425 882 8080", "1425882808", "44 20 7946 0958", "425 882 8080 ext. 55",
    "0 21 11 98765 4321", "90 21 11 3456 7890", "00 290 2345", "00 683 4002", "+290 2345", "+683 4002",
    "12", "123", "1234567", "0012", "٠٠٤٩١٦٨٢", "００４９１６８２", "1-800-FLOWERS", "1xx2xx3", "tel:1682;phone-context=+49",
    "8005001234 ext 123", "0 800 123", "1 613 555 0142", "1613 555 0142", "1 800 555 0199 x12", "49 30 901820",
    "0 30 901820", "44 7700 900123", "0044 7700 900123", "91 98765 43210", "972 3 123 4567", "55 11 98765 4321",
    "0 21 11 98765 4321", "0800 555 0199", "4400474372677", "44004878915", "1 2", "00", "0 0 0 0", "1 (425) 882-8080;ext=12", "(0) 30 901820", "891234", "12345", "720123", "4621234", "+1 425 882 8080", "++49 1682", "+0 123", "0" * 251,
])
def test_shortcut_verdicts_match_libphonenumber(candidate: str) -> None:
    """Candidates skipped before parsing as too short for a region are exactly those libphonenumber finds invalid
    there: short valid numbers (German, Saint Helena, Niue; local numbers San Marino and Norfolk Island lengthen), short numbers behind an international prefix, digits
    of other scripts, vanity letters, extensions, RFC 3966."""
    _same_verdicts(candidate)


@settings(max_examples=400, deadline=None)
@given(st.text(alphabet="0123456789 -./()+x#*٠٤", min_size=1, max_size=18)
       | st.from_regex(r"(1|0|00|011|\(0\))? ?(1|44|49|33|972|91|55)? ?\d{1,4}[ -]?\d{2,8}( ?(x|ext\.?) ?\d{1,4})?",
                       fullmatch=True))
def test_shortcut_verdicts_match_libphonenumber_on_generated_candidates(candidate: str) -> None:
    _same_verdicts(candidate)
