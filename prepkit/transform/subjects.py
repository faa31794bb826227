"""Keyed hashes of detected values, so a data subject can be found and erased later without storing the value.

The hash ignores the entity type (a value found as PERSON in one record and ORGANIZATION in another is still the
same subject) but normalizes by type, so "+1 (555) 010-9999" and "555.010.9999"-style variants of one phone meet.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

from prepkit.entities import DIGIT_TYPES
from prepkit.keys import KeyRing

_WS = re.compile(r"\s+")


def normalize(value: str, entity_type: str | None = None) -> str:
    v = unicodedata.normalize("NFKC", value).casefold().strip()
    if entity_type in DIGIT_TYPES:
        digits = re.sub(r"[^0-9a-z]", "", v)
        if entity_type == "PHONE_NUMBER" and len(digits) == 11 and digits.startswith("1"):
            digits = digits[1:]  # North American country code
        return digits
    return _WS.sub(" ", v)


def subject_hash(keyring: KeyRing, value: str, entity_type: str | None = None) -> str:
    key = keyring.derive("subject")
    return hmac.new(key, normalize(value, entity_type).encode(), hashlib.sha256).hexdigest()


def lookup_hashes(keyring: KeyRing, value: str, entity_type: str | None = None) -> list[str]:
    """Every hash under which `value` may have been indexed (all normalizations when the type is unknown)."""
    if entity_type:
        return [subject_hash(keyring, value, entity_type)]
    return sorted({subject_hash(keyring, value, None), subject_hash(keyring, value, "PHONE_NUMBER"),
                   subject_hash(keyring, value, "US_SSN")})
