"""prepkit's own recognizers, assembled for the engine: personal data Presidio lacks or finds badly.

The rules live by job: `rules` (the regex machinery), `addresses`, `tables` (the other rule tables),
`propernoun` (the proper-noun pass), `refine` (the post-filter of known false positives) and `truecase`.
"""

from __future__ import annotations

from presidio_analyzer import LocalRecognizer

from prepkit.detect.addresses import _ADDRESS_CONTEXT, _STREET_RULES, AddressRecognizer
from prepkit.detect.propernoun import ProperNounRecognizer
from prepkit.detect.rules import RegexRecognizer
from prepkit.detect.tables import (
    _ACCOUNT_RULES,
    _AGE_RULES,
    _CARD_RULES,
    _DOB_RULES,
    _HANDLE_RULES,
    _LICENSE_RULES,
    _MRN_RULES,
    _NPI_RULES,
    _PHONE_RULES,
    _PLAN_RULES,
    _SSN_RULES,
    _TITLE_RULES,
    _ZIP_RULES,
)

# Entity types only prepkit's recognizers produce, for policy validation and documentation.
BUILTIN_ENTITIES: dict[str, str] = {
    "AGE": "a person's age (\"42 years old\", \"aged 42\", \"age: 42\")",
    "TITLE": "an honorific (Mr, Mrs, Dr, Prof...) or a job title",
    "ZIP_CODE": "a postal code next to a cue (\"ZIP\", \"postal code\") or a US state",
    "MEDICAL_RECORD_NUMBER": "a medical record number next to a cue (\"MRN\", \"medical record\")",
    "NPI": "a US National Provider Identifier (10 digits, Luhn check with the 80840 prefix) next to \"NPI\"",
    "HEALTH_PLAN_NUMBER": "a health plan / insurance member or policy number next to a cue",
    "ACCOUNT_NUMBER": "an account number next to a cue (\"account number\", \"acct #\")",
}


def builtin_recognizers(language: str = "en") -> list[LocalRecognizer]:
    """prepkit's recognizers for `language` (English cues; other languages get none yet)."""
    if language != "en":
        return []
    return [
        AddressRecognizer("PrepkitStreetAddressRecognizer", "LOCATION", _STREET_RULES, _ADDRESS_CONTEXT, language),
        RegexRecognizer("PrepkitZipCodeRecognizer", "ZIP_CODE", _ZIP_RULES, ["zip", "postal", "postcode"],
                        language),
        RegexRecognizer("PrepkitAgeRecognizer", "AGE", _AGE_RULES, ["age", "old", "aged"], language),
        RegexRecognizer("PrepkitTitleRecognizer", "TITLE", _TITLE_RULES, [], language),
        RegexRecognizer("PrepkitMedicalRecordRecognizer", "MEDICAL_RECORD_NUMBER", _MRN_RULES, [], language),
        RegexRecognizer("PrepkitNpiRecognizer", "NPI", _NPI_RULES, [], language),
        RegexRecognizer("PrepkitHealthPlanRecognizer", "HEALTH_PLAN_NUMBER", _PLAN_RULES, [], language),
        RegexRecognizer("PrepkitAccountNumberRecognizer", "ACCOUNT_NUMBER", _ACCOUNT_RULES, [], language),
        RegexRecognizer("PrepkitDriverLicenseRecognizer", "US_DRIVER_LICENSE", _LICENSE_RULES, [], language),
        RegexRecognizer("PrepkitBirthDateRecognizer", "DATE_TIME", _DOB_RULES, [], language),
        RegexRecognizer("PrepkitSsnRecognizer", "US_SSN", _SSN_RULES, [], language),
        RegexRecognizer("PrepkitPhoneRecognizer", "PHONE_NUMBER", _PHONE_RULES, [], language),
        RegexRecognizer("PrepkitCardRecognizer", "CREDIT_CARD", _CARD_RULES, [], language),
        RegexRecognizer("PrepkitHandleRecognizer", "PERSON", _HANDLE_RULES, [], language),
        ProperNounRecognizer(language),
    ]

