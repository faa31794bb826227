"""prepkit's built-in recognizers and false-positive filter, through a real AnalyzerEngine with spaCy."""

from __future__ import annotations

from pathlib import Path

import pytest
from presidio_analyzer import AnalyzerEngine

from prepkit.detect.engine import build_analyzer
from prepkit.detect.recognizers import BUILTIN_ENTITIES, builtin_recognizers
from prepkit.detect.refine import refine
from prepkit.detect.tables import _luhn_npi
from prepkit.policy import load_policy

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def analyzer() -> AnalyzerEngine:
    return build_analyzer(load_policy(ROOT / "policies" / "default.yaml").policy)


def found(analyzer: AnalyzerEngine, text: str, entity: str, threshold: float = 0.5) -> list[str]:
    results = refine(text, analyzer.analyze(text, language="en"))
    return [text[r.start:r.end] for r in results if r.entity_type == entity and r.score >= threshold]


def test_builtins_are_registered_and_documented(analyzer: AnalyzerEngine) -> None:
    names = {r.name for r in analyzer.registry.get_recognizers("en", all_fields=True)}
    ours = builtin_recognizers()
    assert {r.name for r in ours} <= names
    for r in ours:
        for e in r.supported_entities:
            assert e in BUILTIN_ENTITIES or e in {"LOCATION", "DATE_TIME", "PERSON", "ORGANIZATION",
                                                  "PHONE_NUMBER", "CREDIT_CARD", "US_DRIVER_LICENSE", "US_SSN"}
    assert builtin_recognizers("de") == []


@pytest.mark.parametrize("text, expected", [
    ("Please ship it to 1600 Pennsylvania Avenue tomorrow.", "1600 Pennsylvania Avenue"),
    ("She lives at 42 b Baker St, London.", "42 b Baker St, London"),
    ("Our office: Hauptstrasse 5, Berlin", "Hauptstrasse 5, Berlin"),
    ("Send it to Via dei Fiorentini 17.", "Via dei Fiorentini 17"),
    ("Return to PSC 1234, Box 5678\nAPO AE 09876", "PSC 1234, Box 5678\nAPO AE 09876"),
    ("Mail: P.O. Box 149", "P.O. Box 149"),
])
def test_street_addresses(analyzer: AnalyzerEngine, text: str, expected: str) -> None:
    assert expected in found(analyzer, text, "LOCATION")


def test_address_block_spans_the_following_lines_but_stops_at_a_phone_line(analyzer: AnalyzerEngine) -> None:
    text = "Jane Roe\n12 Elm Street\nApt. 4\nSpringfield\nUnited States 62704\nPhone: 555 123 4567"
    locs = found(analyzer, text, "LOCATION")
    assert "12 Elm Street\nApt. 4\nSpringfield\nUnited States 62704" in locs
    assert not any("Phone" in v for v in locs)


@pytest.mark.parametrize("text", [
    "I have 3 apples and 12 oranges.",
    "Windows 10 was released in 2015.",
    "Read chapter 4 of the report.",
])
def test_no_address_in_plain_numbers(analyzer: AnalyzerEngine, text: str) -> None:
    from prepkit.detect.addresses import AddressRecognizer

    rec = next(r for r in builtin_recognizers() if isinstance(r, AddressRecognizer))
    assert rec.analyze(text, ["LOCATION"]) == []


@pytest.mark.parametrize("text, expected", [
    ("My zip code is 94105, thanks", "94105"),
    ("ZIP: 10001-1234", "10001-1234"),
    ("Springfield, IL 62704", "62704"),
    ("postal code 8200", "8200"),
])
def test_zip_codes(analyzer: AnalyzerEngine, text: str, expected: str) -> None:
    assert expected in found(analyzer, text, "ZIP_CODE")


def test_no_zip_for_a_bare_five_digit_number(analyzer: AnalyzerEngine) -> None:
    assert found(analyzer, "We sold 94105 units last year.", "ZIP_CODE") == []


@pytest.mark.parametrize("text, expected", [
    ("The patient is 42 years old.", "42"),
    ("Patient is a 35-year-old male.", "35"),
    ("He retired at the age of 66.", "66"),
    ("Age: 57", "57"),
    ("My brother just turned 30", "30"),
    ("i'm 54 y/o", "54"),
])
def test_ages(analyzer: AnalyzerEngine, text: str, expected: str) -> None:
    assert found(analyzer, text, "AGE") == [expected]


@pytest.mark.parametrize("text", [
    "The warranty lasts 2 years.",
    "It happened 5 years ago.",
    "Turn 90 degrees to the left.",
    "We have 42 employees.",
])
def test_no_age(analyzer: AnalyzerEngine, text: str) -> None:
    assert found(analyzer, text, "AGE") == []


def test_age_overrides_spacy_date_guess(analyzer: AnalyzerEngine) -> None:
    text = "Patient is a 35-year-old male with a history of asthma."
    assert found(analyzer, text, "DATE_TIME", threshold=0.0) == []


@pytest.mark.parametrize("text, expected", [
    ("Please correct it to Mr. John Olofsson.", "Mr."),
    ("I'd like to join accounts with ms. Quinzia", "ms."),
    ("Dr Smith will see you now", "Dr"),
    ("She works as a senior software engineer at Acme.", "senior software engineer"),
    ("Layla Gairbekov\n\nAccountant\n\nPersonal Info", "Accountant"),
])
def test_titles(analyzer: AnalyzerEngine, text: str, expected: str) -> None:
    assert expected in found(analyzer, text, "TITLE")


@pytest.mark.parametrize("text", [
    "My father said no.",
    "The general idea is simple.",
    "Turn left at Main Dr.",
])
def test_no_title(analyzer: AnalyzerEngine, text: str) -> None:
    assert found(analyzer, text, "TITLE") == []


def test_npi_luhn_with_80840_prefix() -> None:
    assert _luhn_npi("1234567893")  # the CMS documentation example
    assert not _luhn_npi("1234567890")
    assert not _luhn_npi("123456789")


def test_health_and_account_identifiers(analyzer: AnalyzerEngine) -> None:
    assert found(analyzer, "Patient MRN: 00123456, admitted Monday", "MEDICAL_RECORD_NUMBER") == ["00123456"]
    assert found(analyzer, "Provider NPI 1234567893 signed the order", "NPI") == ["1234567893"]
    assert found(analyzer, "Provider NPI 1234567890 signed the order", "NPI") == []  # checksum fails
    assert found(analyzer, "Member ID: XJH-4471200 on the insurance card", "HEALTH_PLAN_NUMBER") == [
        "XJH-4471200"]
    assert found(analyzer, "Your account number is 0048-221-7730.", "ACCOUNT_NUMBER") == ["0048-221-7730"]
    assert found(analyzer, "The room number is 1234567", "MEDICAL_RECORD_NUMBER") == []


def test_date_of_birth_is_a_confident_date(analyzer: AnalyzerEngine) -> None:
    text = "Tell me your date of birth. It's 1/14/1961"
    results = refine(text, analyzer.analyze(text, language="en"))
    dob = [r for r in results if r.entity_type == "DATE_TIME" and text[r.start:r.end] == "1/14/1961"]
    assert dob and max(r.score for r in dob) >= 0.9


def test_card_number_is_not_also_a_driver_licence(analyzer: AnalyzerEngine) -> None:
    text = "What is the limit for card 4203895020367512?"
    raw = analyzer.analyze(text, language="en")
    assert {"CREDIT_CARD", "US_DRIVER_LICENSE"} <= {r.entity_type for r in raw}  # the Presidio behaviour
    kept = {r.entity_type for r in refine(text, raw)}
    assert "CREDIT_CARD" in kept and "US_DRIVER_LICENSE" not in kept


def test_email_domain_is_not_also_a_url(analyzer: AnalyzerEngine) -> None:
    text = "You said your email is DonkaZarand@superrito.com. Is that correct?"
    kept = refine(text, analyzer.analyze(text, language="en"))
    assert [r.entity_type for r in kept if r.entity_type in {"URL", "EMAIL_ADDRESS"}] == ["EMAIL_ADDRESS"]


def test_vague_durations_are_not_dates_but_real_dates_stay(analyzer: AnalyzerEngine) -> None:
    assert found(analyzer, "I quit a few months ago and moved on.", "DATE_TIME", 0.0) == []
    assert "March 3, 2021" in found(analyzer, "I quit on March 3, 2021 and moved on.", "DATE_TIME", 0.0)


@pytest.mark.parametrize("text, expected", [
    ("Mobile: 723 813 266", "723 813 266"),
    ("They're not answering at 0680 298 70 63", "0680 298 70 63"),
    ("(579)888-3058 fax", "(579)888-3058"),
    ("Desk: +1-604-696-5272x565", "+1-604-696-5272x565"),
])
def test_cued_phone_numbers(analyzer: AnalyzerEngine, text: str, expected: str) -> None:
    assert expected in found(analyzer, text, "PHONE_NUMBER")


def test_no_phone_in_a_cued_short_number(analyzer: AnalyzerEngine) -> None:
    assert found(analyzer, "Call me at 5 pm, office 12", "PHONE_NUMBER") == []


def test_cued_card_numbers_of_any_scheme_need_luhn(analyzer: AnalyzerEngine) -> None:
    assert found(analyzer, "What is the limit for card 584528792610?", "CREDIT_CARD") == ["584528792610"]
    assert found(analyzer, "What is the limit for card 584528792611?", "CREDIT_CARD") == []


def test_at_mentions_are_people_but_email_addresses_are_not(analyzer: AnalyzerEngine) -> None:
    assert found(analyzer, "thanks @ voxd and @Maronti_ for the help", "PERSON") == ["voxd", "Maronti_"]
    text = "write to ana@example.com"
    assert not [r for r in refine(text, analyzer.analyze(text, language="en")) if r.entity_type == "PERSON"]


def test_proper_nouns_the_ner_model_missed(analyzer: AnalyzerEngine) -> None:
    from prepkit.detect.propernoun import ProperNounRecognizer

    text = "lol Deulofeu and Grimaldo were great last night"
    nlp = analyzer.nlp_engine.process_text(text, "en")
    covered = {text[e.start_char:e.end_char] for e in nlp.tokens.ents}
    got = {text[r.start:r.end]: r.entity_type for r in ProperNounRecognizer().analyze(text, [], nlp)}
    # Whatever spaCy's NER labelled is left to it; every other proper noun comes back as a PERSON guess.
    assert {"Deulofeu", "Grimaldo"} <= set(got) | covered
    assert all(v == "PERSON" for v in got.values())
    plain = "the weather was great last night"
    assert ProperNounRecognizer().analyze(plain, [], analyzer.nlp_engine.process_text(plain, "en")) == []


class _Artifacts:
    """What the recognizer reads from Presidio's NlpArtifacts: the spaCy Doc."""

    def __init__(self, doc: object) -> None:
        self.tokens = doc


def test_proper_nouns_by_orthography_when_the_pipeline_has_no_tagger() -> None:
    import spacy

    from prepkit.detect.propernoun import ProperNounRecognizer

    nlp = spacy.blank("en")  # tokenizer only: no tags, no entities
    rec = ProperNounRecognizer()

    def names(text: str) -> dict[str, str]:
        return {text[r.start:r.end]: r.entity_type for r in rec.analyze(text, [], _Artifacts(nlp(text)))}

    assert names("yesterday I met Ella H. Snider and Pearson in Gdansk") == {
        "Ella H. Snider": "PERSON", "Pearson": "PERSON", "Gdansk": "LOCATION"}
    # A lone capitalized word that opens a sentence or line is not enough; a form label is not a name.
    assert names("Thanks a lot.\nPlease call.\nName: Åsa Laine") == {"Åsa Laine": "PERSON"}
    assert names("Alice: who are you?") == {"Alice": "PERSON"}
    assert names("we work with Northwind Bank") == {"Northwind Bank": "ORGANIZATION"}


def test_refine_trims_a_name_that_runs_into_an_address(analyzer: AnalyzerEngine) -> None:
    text = "Mrs. Barbara Yudina Apt. 675 62314 Mellemvej 32"
    kept = {(text[r.start:r.end], r.entity_type) for r in refine(text, analyzer.analyze(text, language="en"))}
    assert ("Apt. 675 62314 Mellemvej 32", "LOCATION") in kept
    assert not any(t == "PERSON" and "Apt" in v for v, t in kept)


def test_refine_merges_overlapping_findings_of_one_type_and_drops_links_named_as_people() -> None:
    from presidio_analyzer import RecognizerResult

    text = "RT @ StoutBoyz : see https://t.co/abc"
    meta = {RecognizerResult.RECOGNIZER_NAME_KEY: "SpacyRecognizer"}
    results = [RecognizerResult("PERSON", 0, 14, 0.85, recognition_metadata=meta),
               RecognizerResult("PERSON", 5, 14, 0.6, recognition_metadata={
                   RecognizerResult.RECOGNIZER_NAME_KEY: "PrepkitHandleRecognizer"}),
               RecognizerResult("ORGANIZATION", 21, 37, 0.85, recognition_metadata=meta)]
    kept = refine(text, results)
    assert [(r.start, r.end, r.entity_type) for r in kept] == [(0, 14, "PERSON")]


def test_cued_driver_licence_of_any_shape(analyzer: AnalyzerEngine) -> None:
    assert found(analyzer, "My driver's license number is 2270-66-1551", "US_DRIVER_LICENSE") == ["2270-66-1551"]
    assert found(analyzer, "my driving licence: F162823540116", "US_DRIVER_LICENSE") == ["F162823540116"]
    assert found(analyzer, "my driver's license is expired", "US_DRIVER_LICENSE") == []
