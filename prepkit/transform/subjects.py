"""Keyed hashes of detected values, so a data subject can be found and erased later without storing the value.

The hash ignores the entity type (a value found as PERSON in one record and ORGANIZATION in another is still the
same subject) but normalizes by type, so "+1 (555) 010-9999" and "555.010.9999"-style variants of one phone meet.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from prepkit.entities import DIGIT_TYPES
from prepkit.keys import KeyRing
from prepkit.transform.keyed import hmac_sha256

_WS = re.compile(r"\s+")


@lru_cache(maxsize=1 << 16)  # the surrogate seeds, the name maps and the subject hashes normalize the same values
def normalize(value: str, entity_type: str | None = None) -> str:
    v = unicodedata.normalize("NFKC", value).casefold().strip()
    if entity_type in DIGIT_TYPES:
        digits = re.sub(r"[^0-9a-z]", "", v)
        if entity_type == "PHONE_NUMBER" and len(digits) == 11 and digits.startswith("1"):
            digits = digits[1:]  # North American country code
        return digits
    return _WS.sub(" ", v)


# Edges a detector may include in a span ("Anna Kowalski's", "ANNA KOWALSKI -", "(Anna Kowalski)"), which must not
# make the same subject a different one.
_EDGE = re.compile(r"^[\W_]+|[\W_]+$")
_POSSESSIVE = re.compile(r"[\'’]s$")
_NAME_PART = re.compile(r"[^\W\d_]+(?:[\'’-][^\W\d_]+)*")
_TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "sir", "madam", "herr", "frau", "mme", "mlle"})
NAME_TYPES = frozenset({"PERSON"})


def subject_key(value: str, entity_type: str | None = None) -> str:
    """The value as a subject: normalized, without edge punctuation or a possessive."""
    v = normalize(value, entity_type)
    if entity_type in DIGIT_TYPES:
        return v
    return _EDGE.sub("", _POSSESSIVE.sub("", _EDGE.sub("", v)))


def name_identity(value: str) -> str | None:
    """The name parts of a person's name in order, without titles, possessives or punctuation ("Dr. ANNA
    Kowalski's" -> "anna kowalski"): the same parts the synthesize operator maps to one consistent surrogate.
    None for a lone name part, which identifies nobody."""
    parts = [_POSSESSIVE.sub("", p) for p in _NAME_PART.findall(normalize(value))]
    parts = [p for p in parts if p and p not in _TITLES]
    return " ".join(parts) if len(parts) >= 2 else None


def _h(keyring: KeyRing, text: str) -> str:
    return hmac_sha256(keyring.derive("subject"), text.encode()).hex()


def subject_hash(keyring: KeyRing, value: str, entity_type: str | None = None) -> str:
    return _h(keyring, subject_key(value, entity_type))


def subject_hashes(keyring: KeyRing, value: str, entity_type: str | None = None) -> set[str]:
    """Every hash a detected value is indexed under: its subject key, and for a name its name identity."""
    out = {subject_hash(keyring, value, entity_type)}
    if entity_type is None or entity_type in NAME_TYPES:
        ident = name_identity(value)
        if ident is not None:
            out.add(_h(keyring, "person:" + ident))
    return out


def lookup_hashes(keyring: KeyRing, value: str, entity_type: str | None = None) -> list[str]:
    """Every hash under which `value` may have been indexed (all normalizations when the type is unknown)."""
    if entity_type:
        return sorted(subject_hashes(keyring, value, entity_type))
    return sorted(subject_hashes(keyring, value, None) | {subject_hash(keyring, value, "PHONE_NUMBER"),
                                                           subject_hash(keyring, value, "US_SSN")})
