"""Per-worker keys and per-document state that operators share.

Keys are derived once per Transformer; the per-document state holds the replace numbering, the record's real
values (so a surrogate never lands on one of them) and the name parts seen, so name variants map coherently.
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from faker import Faker

from prepkit.keys import KeyRing
from prepkit.transform import faker_draws
from prepkit.transform.crypto import encryption_key
from prepkit.transform.keyed import hmac_sha256
from prepkit.transform.match import _DIGIT_RUN, Haystack, Needle, needle
from prepkit.transform.subjects import normalize

_WORD = re.compile(r"\w+")


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
            f = self._fakers[loc] = faker_draws.install(Faker(loc))
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
        return int.from_bytes(hmac_sha256(self.keys.surrogate, msg)[:8], "big")


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

    @classmethod
    def for_document(cls, shared: Shared, record_id: str, *, real: list[tuple[str, str]],
                     kept: list[tuple[str, str]], avoid: list[Needle] | None = None) -> DocContext:
        """The context of one document: `real` holds every detected (type, value), `kept` the spans that will be
        replaced, in reading order. Dates shift per subject: the first full name, else the record."""
        ctx = cls(shared, record_id=record_id)
        ctx.needles = list(avoid or ())
        ctx.needles.extend(needle(v, t) for t, v in real)
        ctx.findings = list(kept)
        persons = [normalize(v) for t, v in ctx.findings if t == "PERSON"]
        full = [p for p in persons if " " in p]
        ctx.subject = (full or persons or ["record:" + record_id])[0]
        return ctx

    def number(self, entity_type: str, value: str) -> int:
        seen = self.numbers.setdefault(entity_type, {})
        return seen.setdefault(normalize(value, entity_type), len(seen) + 1)

    def is_real(self, candidate: str) -> bool:
        """True when a real value of the record occurs in `candidate` (the same search the verifier runs).

        Only needles that could occur are tried (their first word is a word of the candidate, or their digits a
        stretch of its digits): a long document has thousands of real values and thousands of surrogates, and
        trying every pair made transformation quadratic.
        """
        h = Haystack(candidate)
        by_word, by_digits, rest = self._needle_index()
        words = set(_WORD.findall(h.text))
        cands: list[Needle] = [n for w in words for n in by_word.get(w, ())]
        runs = [re.sub(r"[^0-9]", "", m.group()) for m in _DIGIT_RUN.finditer(h.text)]
        for run in runs:
            for i in range(len(run)):
                for j in range(i + 1, len(run) + 1):
                    cands.extend(by_digits.get(run[i:j], ()))
        return any(n.found_in(h) for n in cands) or any(n.found_in(h) for n in rest)

    def _needle_index(self) -> tuple[dict[str, list[Needle]], dict[str, list[Needle]], list[Needle]]:
        idx = self.scratch.get("_needle_index")
        if idx is not None and idx[0] == len(self.needles):
            return idx[1]
        by_word: dict[str, list[Needle]] = {}
        by_digits: dict[str, list[Needle]] = {}
        rest: list[Needle] = []
        for n in self.needles:
            if not n.searchable:
                continue
            if n.digits is not None:
                by_digits.setdefault(n.digits, []).append(n)
                continue
            first = _WORD.search(n.text)
            if first is None:
                rest.append(n)
            else:
                by_word.setdefault(first.group(), []).append(n)
        built = (by_word, by_digits, rest)
        self.scratch["_needle_index"] = (len(self.needles), built)
        return built
