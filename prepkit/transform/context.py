"""Per-worker keys and per-document state that operators share.

Keys are derived once per Transformer (HKDF is cheap but not free); the per-document state holds the replace
numbering and the set of real values in the record, so a surrogate never lands on one of them.
"""

from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass, field
from typing import Any

from faker import Faker

from prepkit.keys import KeyRing
from prepkit.transform.subjects import normalize


@dataclass
class Keys:
    surrogate: bytes
    hash: bytes
    encrypt: bytes
    key_id: str

    @classmethod
    def from_keyring(cls, keyring: KeyRing) -> Keys:
        return cls(
            surrogate=keyring.derive("surrogate"),
            hash=keyring.derive("hash"),
            encrypt=keyring.derive("encrypt", 64),  # AES-SIV takes a 512-bit key (two AES-256 halves)
            key_id=keyring.key_id,
        )


@dataclass
class Shared:
    """Built once per Transformer; reused by every document."""

    keys: Keys
    locale: str
    _fakers: dict[str, Faker] = field(default_factory=dict)

    def faker(self, locale: str | None = None) -> Faker:
        loc = locale or self.locale
        f = self._fakers.get(loc)
        if f is None:
            # A private instance: seeding it never touches the global Faker random state other code may use.
            f = self._fakers[loc] = Faker(loc)
        return f

    def seeded(self, entity_type: str, value: str, attempt: int = 0, locale: str | None = None) -> Faker:
        f = self.faker(locale)
        f.seed_instance(self.seed(entity_type, value, attempt))
        return f

    def seed(self, entity_type: str, value: str, attempt: int = 0) -> int:
        msg = f"{entity_type}\x00{value}\x00{attempt}".encode()
        return int.from_bytes(hmac.new(self.keys.surrogate, msg, hashlib.sha256).digest()[:8], "big")


@dataclass
class DocContext:
    shared: Shared
    originals: set[str] = field(default_factory=set)  # normalized real values of this record (any type)
    numbers: dict[str, dict[str, int]] = field(default_factory=dict)  # replace: type -> normalized value -> n
    memo: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (operator, type, norm value) -> output
    scratch: dict[str, Any] = field(default_factory=dict)  # operator-private per-document state
    findings: list[tuple[str, str]] = field(default_factory=list)  # (type, value) of every kept span, in order

    def number(self, entity_type: str, value: str) -> int:
        seen = self.numbers.setdefault(entity_type, {})
        return seen.setdefault(normalize(value, entity_type), len(seen) + 1)

    def is_real(self, candidate: str, entity_type: str | None = None) -> bool:
        return normalize(candidate, entity_type) in self.originals or normalize(candidate) in self.originals
