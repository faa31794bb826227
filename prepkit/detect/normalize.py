"""One Unicode normalisation before detection, with offsets mapped back to the original text.

A value can hide from every recognizer behind its encoding: full-width letters ("ｊｏｈｎ＠ｅｘａｍｐｌｅ．ｃｏｍ"),
zero-width characters inside it ("j\\u200bohn"), letter-spacing ("J o h n  S m i t h"). Detection runs on a
normalised copy — NFKC (which folds full-width and compatibility forms), zero-width and soft-hyphen characters
removed, letter-spaced words joined — and each finding is mapped back to the span of the original text it came
from, so the transformation replaces what is really there.
"""

from __future__ import annotations

import re
import unicodedata
from array import array
from bisect import bisect_right
from dataclasses import dataclass

# Zero-width space / non-joiner / joiner, word joiner, BOM, soft hyphen, Mongolian vowel separator.
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e")
# Three or more single letters separated by single spaces: a letter-spaced word (two spaces separate words).
_SPACED = re.compile(r"(?<!\S)(?:[^\W\d_] ){2,}[^\W\d_](?!\S)")
_NON_ASCII = re.compile(r"[^\x00-\x7f]")


class _Map:
    """Normalised offset -> original offset, stored as runs rather than one integer per character (a list of
    ints costs about 36 bytes a character: 0.7 GB for one 20M-character record). Run k starts at normalised offset
    `at[k]` and original offset `orig[k]`; inside it offsets advance together, unless it is one original character
    that expanded into several (`grows[k]`), whose pieces all map to that character."""

    __slots__ = ("at", "orig", "grows")

    def __init__(self) -> None:
        self.at: array[int] = array("q")
        self.orig: array[int] = array("q")
        self.grows = bytearray()

    def add(self, at: int, orig: int, grows: bool = False) -> None:
        if self.at and not grows and not self.grows[-1] and orig - self.orig[-1] == at - self.at[-1]:
            return  # continues the previous run
        self.at.append(at)
        self.orig.append(orig)
        self.grows.append(grows)

    def __getitem__(self, i: int) -> int:
        k = bisect_right(self.at, i) - 1
        return self.orig[k] if self.grows[k] else self.orig[k] + i - self.at[k]


@dataclass(frozen=True, slots=True)
class Normalized:
    text: str
    starts: list[_Map] | None  # normalised -> original offsets, one map per pass; None: the text was already normal

    def _orig(self, i: int) -> int:
        assert self.starts is not None
        for m in reversed(self.starts):  # the last pass's offsets are the previous pass's text's
            i = m[i]
        return i

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the normalised span [start, end)."""
        if self.starts is None:
            return start, end
        # the original character of the last normalised one may have expanded into several; the span ends after it
        return self._orig(start), self._orig(end - 1) + 1


def _needs_work(text: str) -> bool:
    if not text.isascii():
        return True
    return _SPACED.search(text) is not None


def _fold(text: str) -> tuple[str, _Map]:
    """NFKC per character, invisible characters removed. Only non-ASCII characters can change, so the text is
    copied in runs between them."""
    nfkc = not unicodedata.is_normalized("NFKC", text)
    pieces: list[str] = []
    m = _Map()
    pos = n = 0
    for hit in _NON_ASCII.finditer(text):
        i = hit.start()
        c = text[i]
        if c in _INVISIBLE:
            piece = ""
        elif nfkc:
            piece = unicodedata.normalize("NFKC", c)
            if piece == c:
                continue
        else:
            continue
        if i > pos:
            m.add(n, pos)
            pieces.append(text[pos:i])
            n += i - pos
        if piece:
            m.add(n, i, grows=len(piece) > 1)
            pieces.append(piece)
            n += len(piece)
        pos = i + 1
    if pos < len(text):
        m.add(n, pos)
        pieces.append(text[pos:])
    return "".join(pieces), m


def _join_spaced(text: str) -> tuple[str, _Map]:
    """Letter-spaced words joined: "J o h n" -> "John"."""
    pieces: list[str] = []
    m = _Map()
    pos = n = 0
    for hit in _SPACED.finditer(text):
        if hit.start() > pos:
            m.add(n, pos)
            pieces.append(text[pos:hit.start()])
            n += hit.start() - pos
        for k in range(hit.start(), hit.end(), 2):  # letter, space, letter, ...
            m.add(n, k)
            pieces.append(text[k])
            n += 1
        pos = hit.end()
    if pos < len(text):
        m.add(n, pos)
        pieces.append(text[pos:])
    return "".join(pieces), m


def normalize(text: str) -> Normalized:
    if not _needs_work(text):
        return Normalized(text, None)
    folded, first = _fold(text) if not text.isascii() else (text, None)
    joined, second = _join_spaced(folded)
    if joined == text:
        return Normalized(text, None)
    return Normalized(joined, [m for m in (first, second) if m is not None])
