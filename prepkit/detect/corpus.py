"""Corpus-wide recall: a value detected anywhere in a run is caught everywhere in it.

A full name detected in a support ticket can be missed in the same customer's two-line follow-up ("Follow-up
from <name> (<e-mail>)."): the NER model sees too little context there. Every value a record's detection keeps
(names, e-mail addresses) goes into a dictionary while the run detects (`learn`, pass one); only once every
record has been detected is each record matched against the whole dictionary (`match`, pass two, before any
output is written: see prepkit.driver). So a record read before the value was first detected is caught as
surely as one read after it: a person is protected everywhere or nowhere.

The dictionary is keyed and never holds plaintext: entries are keyed BLAKE2b digests of the value's normalised
form (NFKC, case-folded, one space between words, a possessive "'s" dropped) under a key the run draws at random
and never writes anywhere. It lives in the driver's memory only; nothing here can be read back into a value.
"""

from __future__ import annotations

import bisect
import hashlib
import itertools
import os
import re
import unicodedata
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING

from prepkit.detect.lexicon import common_words, frequent_words
from prepkit.records import Finding

if TYPE_CHECKING:
    from prepkit.policy.model import Policy

# Types whose values are names or addresses a person is found by; numbers have their own checks (verification
# finds a detected number's digits in any layout).
DEFAULT_TYPES = ("PERSON", "EMAIL_ADDRESS")
MAX_WORDS = 4  # longest value, in words, looked up in a record
_DIGEST_BYTES = 16
_TOKEN = re.compile(r"[^\W_](?:[\w'’.@+-]*[^\W_])?")
_POSSESSIVE = re.compile(r"['’]s$")
# Words of one name are separated by spaces, or by the full stop of an initial or a title ("Dr. Ann Lee").
_GAP = re.compile(r"\.?[^\S\n]+")
# Lower-case particles inside a name ("Maria del Carmen", "Ludwig van Beethoven").
_PARTICLES = frozenset({"al", "bin", "bint", "da", "de", "del", "della", "der", "di", "dos", "du", "el", "la",
                        "le", "van", "von", "y"})
DETECTOR = "corpus"


@lru_cache(maxsize=1)
def _frequent() -> frozenset[str]:
    return frozenset(frequent_words())


def _word(token: str) -> str:
    return _POSSESSIVE.sub("", unicodedata.normalize("NFKC", token).casefold())


def _capitalised(words: Sequence[str]) -> bool:
    """A name is written with capitals; the same letters in lower case are a common word ("Rose" the person,
    "rose" the flower). Lower-case particles may sit inside it, never at either end."""
    if len(words) == 1 and "@" in words[0]:
        return True
    for i, w in enumerate(words):
        if w[:1].isupper() or w[:1].isdigit():
            continue
        if 0 < i < len(words) - 1 and w in _PARTICLES:
            continue
        return False
    return any(w[:1].isupper() for w in words)


@dataclass
class CorpusRecall:
    """The run's dictionary of detected values. `learn` every record's findings first, then `match` every
    record against it."""

    key: bytes
    entity_types: frozenset[str] = frozenset(DEFAULT_TYPES)
    min_score: float = 0.5  # values found with a lower score are not learnt (they are still masked where found)
    _values: dict[bytes, str] = field(default_factory=dict)  # digest -> entity type
    _longest: int = 0  # words in the longest value learnt: longer spans need not be looked up
    # digests of the first 1..n words of every value learnt (keyed like the values): a run of words whose start
    # is none of these cannot grow into a value, so it is not extended word by word
    _prefixes: set[bytes] = field(default_factory=set)

    def __post_init__(self) -> None:
        if len(self.key) < 16:
            raise ValueError("corpus recall needs a key of at least 16 bytes")
        self.key = self.key[:64]  # BLAKE2b's key limit

    def __len__(self) -> int:
        return len(self._values)

    def __getstate__(self) -> dict[str, object]:
        raise TypeError("the corpus dictionary stays in the driver's memory; it is never pickled or written")

    def _digest(self, normalised: str) -> bytes:
        return hashlib.blake2b(normalised.encode("utf-8", "surrogatepass"), key=self.key,
                               digest_size=_DIGEST_BYTES).digest()

    def _spans(self, text: str) -> Iterable[tuple[int, int, bytes]]:
        """(start, end, digest) of every capitalised run of up to `_longest` words. The tokens are read as a
        stream with `_longest` of them in hand: a list of every token of a 20M-character record held
        hundreds of megabytes."""
        longest = min(self._longest, MAX_WORDS)
        tokens = _TOKEN.finditer(text)
        ahead: deque[tuple[int, int, str, str]] = deque()  # (start, end, word, normalised) from the current token on
        while True:
            while len(ahead) < longest and (m := next(tokens, None)) is not None:
                ahead.append((m.start(), m.end(), m.group(), _word(m.group())))
            if not ahead:
                return
            start, _, w0, _ = ahead[0]
            if w0[:1].isupper() or "@" in w0:  # no value starts with a lower-case word (the cheap test)
                words: list[str] = []
                key = ""
                prev_end = -1
                for s, e, w, norm in ahead:
                    if words and not _GAP.fullmatch(text, prev_end, s):
                        break
                    words.append(w)
                    prev_end = e
                    key = f"{key} {norm}" if key else norm
                    d = self._digest(key)
                    if d not in self._prefixes:
                        break  # no value learnt starts with these words: no longer run is one either
                    if not _capitalised(words):
                        if w in _PARTICLES:
                            continue  # a particle may still be followed by a capitalised word
                        break
                    yield start, e, d
            ahead.popleft()

    def learn(self, texts: Sequence[str], findings: Sequence[Finding]) -> int:
        """Add the values of one record's kept findings; returns how many were new to the run."""
        new = 0
        for f in findings:
            if f.entity_type not in self.entity_types or f.detector == DETECTOR or f.score < self.min_score:
                continue
            words = [_word(t) for t in _TOKEN.findall(texts[f.segment][f.start:f.end])]
            value = " ".join(words)
            if len(value) < 3 or not 0 < len(words) <= MAX_WORDS:
                continue  # too short to tell apart, or longer than any span looked up
            if "@" in value:
                pass
            elif len(words) == 1 and words[0] in _frequent():
                continue  # one frequent word ("Date", "Justice", "House"; "John" too): too weak to chase alone
            elif all(w in common_words() or w in _PARTICLES for w in words):
                continue  # common words a detector took for a name ("Change", "Medical Record Number")
            d = self._digest(value)
            if d not in self._values:
                self._values[d] = f.entity_type
                self._longest = max(self._longest, len(words))
                self._prefixes.update(self._digest(" ".join(words[:k])) for k in range(1, len(words) + 1))
                new += 1
        return new

    def match(self, texts: Sequence[str], findings: Sequence[Finding] = ()) -> list[Finding]:
        """Mentions of known values in one record that its findings of those types do not cover (longest
        first). A mention its detection typed otherwise ("from Priyanka ..." as a place) is returned all the
        same: the run knows better what it is, and the name gets the same surrogate as elsewhere."""
        if not self._values:
            return []
        out: list[Finding] = []
        for si, text in enumerate(texts):
            own = [f for f in findings if f.segment == si]
            # taken: the findings of recall's types; within: a longer value of any type ("Charles" in the
            # address "0925 Charles Summit") masks what lies inside it
            taken = _Spans((f.start, f.end) for f in own if f.entity_type in self.entity_types)
            within = _Spans((f.start, f.end) for f in own)
            hits = [(s, e, d) for s, e, d in self._spans(text) if d in self._values]
            added_reach = -1  # furthest end of the mentions added so far (they come in order of start)
            for s, e, d in sorted(hits, key=lambda x: (x[0], -(x[1] - x[0]))):
                if added_reach > s or taken.overlaps(s, e) or within.holds_longer(s, e):
                    continue
                out.append(Finding(si, s, e, self._values[d], 1.0, DETECTOR))
                added_reach = max(added_reach, e)
        return out


class _Spans:
    """Findings' (start, end) for two questions asked once per candidate mention, by bisection: a long record
    has thousands of findings and thousands of candidates, and testing every pair was quadratic."""

    __slots__ = ("_starts", "_reach", "_longest_at")

    def __init__(self, spans: Iterable[tuple[int, int]]) -> None:
        ordered = sorted(spans)
        self._starts = [s for s, _ in ordered]
        self._reach = list(itertools.accumulate((e for _, e in ordered), max))  # furthest end of the first k+1
        self._longest_at: dict[int, int] = {}  # start -> furthest end of the spans that start there
        for s, e in ordered:
            self._longest_at[s] = max(self._longest_at.get(s, e), e)

    def overlaps(self, start: int, end: int) -> bool:
        """Does [start, end) overlap a span?"""
        i = bisect.bisect_left(self._starts, end)
        return i > 0 and self._reach[i - 1] > start

    def holds_longer(self, start: int, end: int) -> bool:
        """Is [start, end) inside a longer span? (One that starts before it and reaches its end, or starts with
        it and reaches past its end.)"""
        i = bisect.bisect_left(self._starts, start)
        return (i > 0 and self._reach[i - 1] >= end) or self._longest_at.get(start, end) > end


def for_policy(policy: Policy) -> CorpusRecall | None:
    """The run's dictionary when the policy turns corpus recall on (`detection.corpus_recall`), with a key
    drawn at random: digests are compared within the run and never leave its memory."""
    spec = policy.detection.corpus_recall
    types = frozenset(spec.entity_types) & frozenset(policy.detection.entities)
    if not spec.enabled or not types:
        return None
    return CorpusRecall(os.urandom(32), types, spec.min_score)
