"""Detection defect classes found on genres nobody tuned prepkit to (issue 13), each at its mechanism: capitals
alone are no evidence of a name, addresses need a street's shape, overlap resolution keeps the better span, SSNs
behind a cue, encodings that hide a value, shouting inside ordinary text. Real spaCy model, small texts."""

from __future__ import annotations

import pytest

from prepkit.records import Finding, Record, Segment
from prepkit.transform.engine import propagate


@pytest.mark.parametrize("text,words", [
    ("How do I change my password? Go to Settings > Security and click Change to update it.",
     ["change", "Change", "Settings", "Security"]),
    ("Patient: Maria Lopez. Birth: 1980. Provider: Dr. Alice Wong. Medical Record Number: 12345678.",
     ["Patient", "Birth", "Provider", "Medical", "Record"]),
    ("The Convention and Article 5 bind the Government. PROCEDURE: the claim is filed.",
     ["Convention", "Article", "Government", "PROCEDURE"]),
])
def test_capitalized_common_words_are_not_people(detect, text: str, words: list[str]) -> None:
    people = [v for v, t in detect(text) if t == "PERSON"]
    for w in words:
        assert not any(w in p.split() for p in people), (w, people)


def test_names_next_to_form_labels_are_still_found(detect) -> None:
    found = detect("Patient: Maria Lopez. Provider: Dr. Alice Wong. Signed by Chaddock Mbeki.")
    assert ("Maria Lopez", "PERSON") in found and ("Alice Wong", "PERSON") in found
    assert any("Mbeki" in v and t == "PERSON" for v, t in found)


def test_propagation_does_not_chase_a_value_into_common_words() -> None:
    text = "Change wrote it. How do I change my password? We held a post-mortem. MARIA LOPEZ and Maria Lopez."
    rec = Record("r", "t", "text", [Segment("text", text)])
    kept = [Finding(0, 0, 6, "PERSON", 0.9, "x"),  # "Change", as a name guess
            Finding(0, text.index("post"), text.index("post") + 4, "ORGANIZATION", 0.9, "x"),
            Finding(0, text.index("Maria"), text.index("Maria") + 11, "PERSON", 0.9, "x")]
    extra = {text[f.start:f.end] for f in propagate(rec, kept)}
    assert extra == {"MARIA LOPEZ"}  # not "change", not the "post" of "post-mortem"


def test_a_court_is_not_a_street_and_the_date_survives(detect) -> None:
    found = detect("On 16 November 2004 the Warsaw Regional Court dismissed the claim.")
    assert not any("2004" in v and t == "LOCATION" for v, t in found), found
    assert ("16 November 2004", "DATE_TIME") in found
    assert ("1600 Pennsylvania Avenue", "LOCATION") in detect("Send it to 1600 Pennsylvania Avenue please.")
    for prose in ("The plot measuring 467 sq ft was sold in place 5 of the list.",
                  "Heard in 1996 before the Bangalore Court and again in 2001 before the High Court."):
        assert not [v for v, t in detect(prose) if t == "LOCATION" and any(c.isdigit() for c in v)], prose


def test_an_honorific_makes_a_person_of_a_mistyped_span(detect) -> None:
    found = detect("The applicant, Mr Antoni Janus, lodged the application.")
    assert any("Antoni Janus" in v and t == "PERSON" for v, t in found), found


@pytest.mark.parametrize("text,value", [
    ("Please update my social security number: 536228726 on file.", "536228726"),
    ("my ssn is 536 22 8726", "536 22 8726"),
    ("Her number on the form was 078-05-1120.", "078-05-1120"),
])
def test_ssns_without_separators_or_with_an_ssn_shape(detect, text: str, value: str) -> None:
    found = detect(text)
    assert (value, "US_SSN") in found and (value, "PHONE_NUMBER") not in found, found


def test_a_nine_digit_number_without_a_cue_is_not_an_ssn(detect) -> None:
    assert not [v for v, t in detect("Order 536228726 shipped; call 555-010-1234.") if t == "US_SSN"]


@pytest.mark.parametrize("text,value,etype", [
    ("Contact j\u200bohn.smith@example.com today.", "j\u200bohn.smith@example.com", "EMAIL_ADDRESS"),
    ("Send it to \uff4a\uff4f\uff48\uff4e\uff20\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d now.",
     "\uff4a\uff4f\uff48\uff4e\uff20\uff45\uff58\uff41\uff4d\uff50\uff4c\uff45\uff0e\uff43\uff4f\uff4d", "EMAIL_ADDRESS"),
    ("The letter was signed by J o h n  S m i t h yesterday.", "J o h n  S m i t h", "PERSON"),
])
def test_values_hidden_by_their_encoding_are_found_at_their_original_span(detect, text, value, etype) -> None:
    found = detect(text)
    assert (value, etype) in found or any(value in v and t == etype for v, t in found), found


def test_shouting_inside_ordinary_text_gets_its_names(detect) -> None:
    found = detect("Dear support team, I need help with my account and my last order from the shop. "
                   "THANKS, THIS IS BARTHOLOMEW CHRISTOPHER WRITING AGAIN.")
    assert any("BARTHOLOMEW CHRISTOPHER" in v and t == "PERSON" for v, t in found), found


def test_scores_are_calibrated_precision_estimates(detect) -> None:
    from prepkit.detect.calibrate import class_of, table

    tab = table()
    assert tab and all(0.0 < v < 1.0 for v in tab.values())
    # a capitalized common word the NER model calls a person was right 5% of the time on the dev sets: under the
    # shipped policies' name threshold; a known given name after a greeting is well above it
    assert tab[class_of("click Change now", "SpacyRecognizer", "PERSON", 6, 12)] < 0.1
    assert tab[class_of("Hello Maria Lopez", "SpacyRecognizer", "PERSON", 6, 17)] > 0.8


def test_a_name_the_ner_model_calls_a_facility_is_still_a_person(detect) -> None:
    found = detect("Hello, my name is Priyanka Raghunathan and I ordered a desk on Monday.")
    assert ("Priyanka Raghunathan", "PERSON") in found, found
