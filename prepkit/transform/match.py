"""Normalized search for real values, shared by verification and by the surrogate collision check.

Text values match case- and whitespace-insensitively on word boundaries ("Al" does not hit "also"); number-like
values (phones, cards, SSNs, account numbers) match by digits inside any run of digits and separators, so
"555 010 1234" still finds "(555) 010-1234".
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from prepkit.entities import DIGIT_TYPES
from prepkit.transform.dates import has_calendar_date
from prepkit.transform.subjects import normalize

_DIGIT_RUN = re.compile(r"[0-9](?:[0-9]|[\s().+/-](?=[\s().+/-]{0,2}[0-9]))*")
_MIN_DIGITS = 4  # shorter digit strings (a house number, a day) occur by chance everywhere
_WS = re.compile(r"\s+")


def text_norm(s: str) -> str:
    return _WS.sub(" ", unicodedata.normalize("NFKC", s).casefold()).strip()


_TITLES = frozenset({"mr", "mrs", "ms", "miss", "dr", "prof", "sir", "mx", "mister", "madam", "mme", "mlle", "herr",
                     "frau", "madame", "monsieur", "señor", "señora"})


@lru_cache(maxsize=1 << 16)  # asked of every value by propagation, the operators and both verification checks
def identifying(value: str, entity_type: str | None) -> bool:
    """False for spans a detector labels but that name no one: a lone title ("Miss"), a relative date or duration.

    Operators leave such spans as they are and verification does not look for them.
    """
    if entity_type in {"DATE_TIME", "DATE"}:
        return has_calendar_date(value)
    words = [w.rstrip(".").casefold() for w in re.findall(r"[\w.'’-]+", value)]
    return any(w not in _TITLES for w in words if w)  # any type: "Miss" tagged PERSON or TITLE names no one


_WORD = re.compile(r"\w+")
_INDEX_FROM = 4096  # texts longer than this get word/digit indexes: thousands of needles x a long text is quadratic
_GRAM = 6


def _probe(needle: str) -> str | None:
    """The first word of a normalized text needle, when every match of the needle starts with that word as a
    whole word of the text (the needle begins and ends with a letter or digit, so its match is bounded by
    non-word characters); None when the needle has to be searched for."""
    if not needle or not needle[0].isalnum() or not needle[-1].isalnum():
        return None
    m = _WORD.match(needle)
    return m.group() if m else None


class Haystack:
    """One output location, normalized two ways: text for word search, digit runs for number search.

    A long text (a 20M-character record) is searched for thousands of values: `prepare` indexes, for the values
    about to be looked for, only where they could start (the places of their first words, the digit runs holding
    their first digits), so each value is confirmed at a few places instead of searched for in the whole text,
    and no index of every word or digit group of the text is held."""

    __slots__ = ("raw", "text", "_runs", "_words", "_grams", "_word_at", "_runs_at", "_prefixes")

    def __init__(self, text: str):
        self.raw = text
        self.text = text_norm(text)
        self._runs: list[str] | None = None
        self._words: set[str] | None = None
        self._grams: set[str] | None = None
        self._word_at: dict[str, list[int]] | None = None  # prepared: first word of a needle -> its starts
        self._runs_at: dict[str, set[int]] | None = None  # prepared: first digits of a needle -> runs holding them
        self._prefixes: dict[int, set[str]] = {}

    def _digit_runs(self) -> list[str]:
        if self._runs is None:
            self._runs = [re.sub(r"[^0-9]", "", m.group()) for m in _DIGIT_RUN.finditer(self.text)]
        return self._runs

    def prepare(self, needles: list[Needle]) -> None:
        if len(self.text) <= _INDEX_FROM:
            return
        probes: set[str] = set()
        for n in needles:
            if not n.searchable:
                continue
            if n.digits is not None:
                k = min(len(n.digits), _GRAM)
                self._prefixes.setdefault(k, set()).add(n.digits[:k])
            elif (p := _probe(n.text)) is not None:
                probes.add(p)
        self._word_at = {}
        for m in _WORD.finditer(self.text):
            if m.group() in probes:
                self._word_at.setdefault(m.group(), []).append(m.start())
        self._runs_at = {}
        for ri, run in enumerate(self._digit_runs() if self._prefixes else ()):
            for k, firsts in self._prefixes.items():
                for i in range(len(run) - k + 1):
                    if run[i:i + k] in firsts:
                        self._runs_at.setdefault(run[i:i + k], set()).add(ri)

    def has_text(self, needle: str) -> bool:
        if not needle:
            return False
        probe = _probe(needle) if self._word_at is not None else None
        if probe is not None and self._word_at is not None:
            starts = self._word_at.get(probe, ())
            if not starts:
                return False
            rx = re.compile(r"(?<!\w)" + re.escape(needle) + r"(?!\w)")
            return any(rx.match(self.text, pos) for pos in starts)
        if len(self.text) > _INDEX_FROM:
            # every word of the needle must be a word of the text before a full search is worth it
            if self._words is None:
                self._words = {m.group() for m in _WORD.finditer(self.text)}  # no list of every word first
            if not all(w in self._words for w in _WORD.findall(needle)):
                return False
        if needle not in self.text:
            return False
        left = r"(?<!\w)" if needle[0].isalnum() else ""
        right = r"(?!\w)" if needle[-1].isalnum() else ""
        return re.search(left + re.escape(needle) + right, self.text) is not None

    def has_digits(self, digits: str) -> bool:
        runs = self._digit_runs()
        k = min(len(digits), _GRAM)
        if self._runs_at is not None and digits[:k] in self._prefixes.get(k, ()):
            return any(digits in runs[i] for i in self._runs_at.get(digits[:k], ()))
        if len(self.text) > _INDEX_FROM and len(digits) >= _GRAM:
            if self._grams is None:
                self._grams = {r[i:i + _GRAM] for r in runs for i in range(len(r) - _GRAM + 1)}
            if digits[:_GRAM] not in self._grams:
                return False
        return any(digits in run for run in runs)


class Needle:
    """A real value to look for. `searchable` is False for values too short or too generic to search for."""

    __slots__ = ("digits", "text", "searchable", "value", "common")

    def __init__(self, value: str, entity_type: str | None):
        self.digits: str | None = None
        self.text = text_norm(value)
        self.value = value
        self.common = False  # set below for text values made of common words: searched as propagation chases them
        if entity_type in DIGIT_TYPES:
            d = re.sub(r"[^0-9]", "", normalize(value, entity_type))
            if len(d) >= _MIN_DIGITS and d == re.sub(r"[^0-9a-z]", "", normalize(value, entity_type)):
                self.digits = d
        # A bare one- or two-digit number (an age, a day) cannot be told from any other number in the text;
        # durations and relative dates ("two weeks", "yesterday") identify no one and are kept on purpose.
        self.searchable = bool(self.text) and not (self.text.isdigit() and len(self.text) < 3)
        if not identifying(value, entity_type):
            self.searchable = False
        if self.digits is None and self.searchable:
            from prepkit.detect.lexicon import common_words

            self.common = all(w.casefold() in common_words() for w in value.split())

    def found_in(self, h: Haystack) -> bool:
        if not self.searchable:
            return False
        if self.digits is not None:
            return h.has_digits(self.digits)
        if not h.has_text(self.text):
            return False
        if not self.common:
            return True
        # A value made of common words ("Billing" taken for a place) counts only where propagation would have
        # replaced it: not the lower-case "billing" of the next sentence, not the "post" of "post-mortem".
        pat = r"(?<!\w)" + r"\s+".join(re.escape(w) for w in self.value.split()) + r"(?!\w)"
        return any(same_mention(self.value, h.raw, m.start(), m.end())
                   for m in re.finditer(pat, h.raw, re.IGNORECASE))


@lru_cache(maxsize=1 << 16)
def needle(value: str, entity_type: str | None) -> Needle:
    """The Needle of a value, built once for the transformation's collision check and the verifier (a Needle is
    not changed once built)."""
    return Needle(value, entity_type)


def same_mention(value: str, text: str, start: int, end: int) -> bool:
    """Is text[start:end], found case-insensitively, another mention of the detected `value`?

    Not when the value is made of common words and one the detector saw capitalized is lower-case there
    ("Change" the name guess, "change" the verb; a name such as "Anna Berg" is still chased into "anna berg"), or when it is the head of a lower-case compound ("post-mortem" for the detected "Post"): a value is chased
    into the forms it could have been detected as, not into common words that happen to share its letters.
    """
    from prepkit.detect.lexicon import common_words

    found = text[start:end]
    words = value.split()
    if all(w.casefold() in common_words() for w in words):  # "Anna Berg" is chased into "anna  berg"
        for v, f in zip(words, found.split(), strict=False):
            if v[:1].isupper() and f[:1].islower():
                return False
    before, after = text[max(0, start - 2):start], text[end:end + 2]
    if len(after) == 2 and after[0] in "-‐" and after[1].islower():
        return False
    return not (len(before) == 2 and before[1] in "-‐" and before[0].islower())
