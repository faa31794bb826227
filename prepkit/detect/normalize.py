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
from dataclasses import dataclass

# Zero-width space / non-joiner / joiner, word joiner, BOM, soft hyphen, Mongolian vowel separator.
_INVISIBLE = frozenset("\u200b\u200c\u200d\u2060\ufeff\u00ad\u180e")
# Three or more single letters separated by single spaces: a letter-spaced word (two spaces separate words).
_SPACED = re.compile(r"(?<!\S)(?:[^\W\d_] ){2,}[^\W\d_](?!\S)")


@dataclass(frozen=True, slots=True)
class Normalized:
    text: str
    starts: list[int] | None  # original index of each normalised character; None: the text was already normal

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of the normalised span [start, end)."""
        if self.starts is None:
            return start, end
        o_start = self.starts[start]
        last = self.starts[end - 1]
        # the original character `last` may have expanded into several; the span ends after it
        return o_start, last + 1


def _needs_work(text: str) -> bool:
    if not text.isascii():
        return True
    return _SPACED.search(text) is not None


def normalize(text: str) -> Normalized:
    if not _needs_work(text):
        return Normalized(text, None)
    out: list[str] = []
    starts: list[int] = []
    nfkc = not unicodedata.is_normalized("NFKC", text)
    for i, c in enumerate(text):
        if c in _INVISIBLE:
            continue
        piece = unicodedata.normalize("NFKC", c) if nfkc and not c.isascii() else c
        for p in piece:
            out.append(p)
            starts.append(i)
    folded = "".join(out)
    joined: list[str] = []
    jstarts: list[int] = []
    pos = 0
    for m in _SPACED.finditer(folded):
        joined.append(folded[pos:m.start()])
        jstarts.extend(starts[pos:m.start()])
        for k in range(m.start(), m.end()):
            if folded[k] != " ":
                joined.append(folded[k])
                jstarts.append(starts[k])
        pos = m.end()
    joined.append(folded[pos:])
    jstarts.extend(starts[pos:])
    new = "".join(joined)
    if new == text:
        return Normalized(text, None)
    return Normalized(new, jstarts)
