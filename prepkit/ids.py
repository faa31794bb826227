"""Identifiers a run writes outside quarantine: record ids, input file names, chat roles and column names.

They are not text the detector scans, yet they reach the fine-tune set, the audit log, the summary, the report and
the RAG store's metadata. Each is checked here, before any stage sees the record: one that could carry personal
data (an e-mail address, a phone, SSN or card number, or a word found in the name lists the synthesize operator
draws from, such as "anna" in `anna_kowalski.txt`) is replaced by a keyed pseudonym (`id-1f3a…`, `file-…`,
`role-…`, `column-…`): the same value gives the same pseudonym in every run under one key, and nothing else
reveals it. Chat roles of the usual vocabulary (user, assistant, system, tool, …) are kept as they are.

Ids are also made unique per run: two input records with one id would collide wherever outputs are keyed by id
(the RAG store's primary key, the subject index `prepkit forget` reads, fine-tune rows an erasure removes). The
first record keeps its id; each later one gets `ID#2`, `ID#3`, … in input order (skipping any id already seen),
so the same inputs always give the same ids, resume and worker counts included.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections import Counter
from dataclasses import replace
from typing import Any

from prepkit.keys import KeyRing
from prepkit.records import Record, Rejected, Segment

DUPLICATE_MARK = "#"
KEY_PURPOSE = "identifier-pseudonym"
KNOWN_ROLES = frozenset({"system", "user", "assistant", "tool", "function", "developer", "ipython", "human", "gpt",
                         "bot", "model", "agent", "customer", "operator", "moderator", "context"})

_EMAIL = re.compile(r"[^\s@]+@[^\s@]+\.[^\W\d_]{2,}")
_SSN = re.compile(r"(?<!\d)\d{3}[- ]\d{2}[- ]\d{4}(?!\d)")
_PHONE = re.compile(r"\+?\(?\d[\d\s().-]{7,}\d")
_DIGIT_RUN = re.compile(r"\d{13,19}")
_WORDS = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])")  # "annaKowalski", "ANNA_KOWALSKI", "anna-k.txt"


# Name-list words that are first of all ordinary English, common in file names and ids ("long-report.csv",
# "best-practices.md", "may-2026"): a name hidden behind one of them is not caught (docs/guarantees.md).
COMMON_WORDS = frozenset("""
april ball banks bass bell best bird black bond booth branch bright brown case chase church cook cross day english
fields flowers fox french glass golden good grant graves gray green hall hardy hill holder hood horn house hunt hunter
key king knight lamb lane little long love mark marks marsh may mills moon moss noble pace page park parks powers price
rich rivers rush sharp short small snow sparks spears stone stout strong summer summers wall walls ward ware waters
weeks wells west white wise wolf wood woods young
""".split())  # noqa: SIM905


def _names() -> frozenset[str]:
    from prepkit.name_words import NAME_WORDS

    return NAME_WORDS - COMMON_WORDS


def _luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def could_identify(value: str) -> bool:
    """True when an identifier could carry personal data (and so must not be written as it is)."""
    if _EMAIL.search(value) or _SSN.search(value):
        return True
    for m in _PHONE.finditer(value):
        text = m.group()
        if sum(c.isdigit() for c in text) >= 9 and any(not c.isdigit() for c in text):
            return True
    if any(_luhn(m.group()) for m in _DIGIT_RUN.finditer(value)):
        return True
    names = _names()
    return any(w.lower() in names for w in _WORDS.findall(value))


class RunIds:
    """Feed every input file name and every record of a run through this, in input order."""

    def __init__(self, keyring: KeyRing) -> None:
        self._key = keyring.derive(KEY_PURPOSE)
        self.seen: set[str] = set()
        self.next_n: dict[str, int] = {}
        self.renamed = 0
        self.pseudonymized: Counter[str] = Counter()
        self._memo: dict[tuple[str, str], str] = {}

    def pseudonym(self, kind: str, value: str) -> str:
        digest = hmac.new(self._key, (kind + "\0" + value).encode(), hashlib.sha256).hexdigest()
        return f"{kind}-{digest[:16]}"

    def _safe(self, kind: str, value: str, keep: bool = False) -> str:
        hit = self._memo.get((kind, value))
        if hit is None:
            hit = value if keep or not could_identify(value) else self.pseudonym(kind, value)
            self._memo[(kind, value)] = hit
        if hit != value:
            self.pseudonymized[kind] += 1
        return hit

    def source(self, name: str) -> str:
        """An input file name as outputs show it (folders too: `hr/anna_kowalski.txt` has one part to hide)."""
        parts = name.split("/")
        return "/".join(self._safe("file", p) for p in parts)

    def admit(self, item: Record | Rejected) -> Record | Rejected:
        if isinstance(item, Rejected):
            return item if item.field is None else replace(item, field=self._safe("column", item.field))
        rec = item
        rid = self._unique(self._safe("id", rec.id))
        segments = [Segment(self._safe("column", s.key) if rec.kind == "table" else s.key, s.text,
                            None if s.role is None else self._safe("role", s.role, s.role.lower() in KNOWN_ROLES))
                    for s in rec.segments]
        metadata: dict[str, Any] = {self._safe("column", k): v for k, v in rec.metadata.items()}
        return replace(rec, id=rid, segments=segments, metadata=metadata)

    def _unique(self, rid: str) -> str:
        if rid not in self.seen:
            self.seen.add(rid)
            return rid
        n = self.next_n.get(rid, 2)
        while f"{rid}{DUPLICATE_MARK}{n}" in self.seen:
            n += 1
        self.next_n[rid] = n + 1
        new = f"{rid}{DUPLICATE_MARK}{n}"
        self.seen.add(new)
        self.renamed += 1
        return new

    def stats(self) -> dict[str, Any]:
        return {"duplicate_ids_renamed": self.renamed, "pseudonymized": dict(sorted(self.pseudonymized.items()))}
