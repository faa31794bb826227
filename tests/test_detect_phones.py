"""The shared phone matcher finds exactly what Presidio's PhoneRecognizer finds (spans, scores, explanations), on
the sample and evaluation texts kept in the repo and on texts built to take libphonenumber's rarer paths."""

from __future__ import annotations

import csv
import json

import pytest
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
