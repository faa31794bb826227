"""Per-worker keys and per-document state that operators share.

Keys are derived once per Transformer; the per-document state holds the replace numbering, the record's real
values (so a surrogate never lands on one of them) and the name parts seen, so name variants map coherently.
"""

from __future__ import annotations

import hashlib
import hmac
import random
from dataclasses import dataclass, field
from typing import Any

from faker import Faker

from prepkit.keys import KeyRing
from prepkit.transform.crypto import encryption_key
from prepkit.transform.match import Haystack, Needle
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
            encrypt=encryption_key(keyring),
            key_id=keyring.key_id,
        )

    def __repr__(self) -> str:  # never show key bytes, even in a debugger or a traceback's locals
        return f"Keys(key_id={self.key_id!r})"


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
            # A private instance: seeding it never touches the global random state other code may use.
            f = self._fakers[loc] = Faker(loc)
        return f

    def seeded(self, purpose: str, value: str, attempt: int = 0, locale: str | None = None) -> Faker:
        f = self.faker(locale)
        f.seed_instance(self.seed(purpose, value, attempt))
        return f

    def rng(self, purpose: str, value: str, attempt: int = 0) -> random.Random:
        return random.Random(self.seed(purpose, value, attempt))

    def seed(self, purpose: str, value: str, attempt: int = 0) -> int:
        """HMAC(surrogate key, purpose + normalized value + attempt): the whole source of a surrogate's randomness."""
        msg = f"{purpose}\x00{value}\x00{attempt}".encode()
        return int.from_bytes(hmac.new(self.keys.surrogate, msg, hashlib.sha256).digest()[:8], "big")


@dataclass
class DocContext:
    shared: Shared
    record_id: str = ""
    subject: str = ""  # whose dates these are: the record's first full name, else the record id
    needles: list[Needle] = field(default_factory=list)  # every real value of this record (and `avoid`)
    numbers: dict[str, dict[str, int]] = field(default_factory=dict)  # replace: type -> normalized value -> n
    memo: dict[tuple[str, str, str], str] = field(default_factory=dict)  # (operator, type, value) -> output
    scratch: dict[str, Any] = field(default_factory=dict)  # operator-private per-document state
    findings: list[tuple[str, str]] = field(default_factory=list)  # (type, value) of every kept span, in order

    def number(self, entity_type: str, value: str) -> int:
        seen = self.numbers.setdefault(entity_type, {})
        return seen.setdefault(normalize(value, entity_type), len(seen) + 1)

    def is_real(self, candidate: str) -> bool:
        """True when a real value of the record occurs in `candidate` (the same search the verifier runs)."""
        h = Haystack(candidate)
        return any(n.found_in(h) for n in self.needles)
