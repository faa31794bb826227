"""The entity types prepkit knows something about, in one table: what each means to a reader, a made-up example,
how its values are compared, how `generalize` coarsens it, and whether it is a core identifier.

Detection decides which types exist (Presidio's recognizers, prepkit's builtin ones, a policy's own); this table
only says what prepkit does differently per type. A type missing here is still a valid type: `entity_type()`
gives it the neutral defaults.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

GeneralizeKind = Literal["date", "zip", "age"]


@dataclass(frozen=True, slots=True)
class EntityType:
    name: str
    meaning: str | None = None  # for readers who do not know Presidio's names (`policy show`, `policy diff`)
    examples: tuple[str, ...] = ()  # made-up values (reserved ranges, test numbers) for `policy show`
    digits: bool = False  # number-like: normalized to its digits, found again in any layout
    generalize: GeneralizeKind | None = None  # what `generalize` coarsens it as, unless the policy says `kind`
    name_like: bool = False  # built from common words: synthesize may coin a pronounceable word instead
    # A direct identifier every policy that can feed fine-tuning must find and hide: lint warns when one can
    # reach the model undetected or with an operator whose output still carries it.
    core: bool = False


def _t(name: str, meaning: str | None = None, *examples: str, digits: bool = False,
       generalize: GeneralizeKind | None = None, name_like: bool = False, core: bool = False) -> EntityType:
    return EntityType(name, meaning, tuple(examples), digits, generalize, name_like, core)


CATALOG: dict[str, EntityType] = {t.name: t for t in (
    _t("PERSON", "a person's name", "Maria Jensen", name_like=True, core=True),
    _t("EMAIL_ADDRESS", "an e-mail address", "maria.jensen@example.com", core=True),
    _t("PHONE_NUMBER", "a telephone or fax number", "+1 212-555-0187", digits=True, core=True),
    _t("CREDIT_CARD", "a payment card number (PAN), checked with the Luhn checksum", "4111 1111 1111 1111",
       digits=True, core=True),
    _t("IBAN_CODE", "an international bank account number (IBAN), checksum-validated", "DE89 3704 0044 0532 0130 00",
       digits=True, core=True),
    _t("US_SSN", "a US Social Security number", "078-05-1120", digits=True, core=True),
    _t("US_BANK_NUMBER", "a US bank account number", "000123456789", digits=True),
    _t("US_PASSPORT", "a US passport number", "912803456", digits=True),
    _t("US_DRIVER_LICENSE", "a US driver's licence number", "D1234567"),
    _t("US_ITIN", "a US individual taxpayer identification number", "912-70-1234", digits=True),
    _t("IP_ADDRESS", "an IPv4 or IPv6 address", "192.0.2.17", core=True),
    _t("LOCATION", "a place: street address, city, region or country", "12 Harbour Street, Leeds", name_like=True,
       core=True),
    _t("DATE_TIME", "a date or time (birth, admission, discharge, death dates...)", "14 March 1961",
       generalize="date"),
    _t("DATE", None, generalize="date"),
    _t("NRP", "a nationality, religious or political group", "Norwegian", name_like=True),
    _t("ORGANIZATION", "an organization's name", "Acme Logistics", name_like=True),
    _t("URL", "a web address", "https://example.org/patients/4711"),
    _t("MEDICAL_LICENSE", "a US medical licence (DEA) number", "BJ1234563"),
    _t("UK_NHS", "a UK NHS number", "401 023 2137"),
    _t("CRYPTO", "a cryptocurrency wallet address", "1BoatSLRHtKNngkdXEeobR76b53LETtpyT"),
    _t("MAC_ADDRESS", "a network device (MAC) address", "00:1A:2B:3C:4D:5E"),
    _t("UUID", "a universally unique identifier", "123e4567-e89b-12d3-a456-426614174000"),
    _t("AGE", None, "42", "93", generalize="age"),
    _t("ZIP_CODE", None, "10027", "03601", generalize="zip"),
    _t("ZIP", None, generalize="zip"),
    _t("US_ZIP", None, generalize="zip"),
    _t("ZIPCODE", None, generalize="zip"),
    _t("TITLE", None, "Dr."),
    _t("MEDICAL_RECORD_NUMBER", None, "MRN-0048213"),
    _t("NPI", None, "1234567893"),
    _t("HEALTH_PLAN_NUMBER", None, "XGH4471902"),
    _t("ACCOUNT_NUMBER", None, "00412-7781-3"),
)}


def entity_type(name: str) -> EntityType:
    return CATALOG.get(name) or EntityType(name)


DIGIT_TYPES = frozenset(t.name for t in CATALOG.values() if t.digits)
CORE_TYPES = tuple(t.name for t in CATALOG.values() if t.core)
