"""Split transformed segment text into overlapping chunks on sentence boundaries.

Offsets are into the *transformed* text of one segment, so a chunk can always be traced back to its place in the
output record. Chunks keep entity *types* (from the operators applied inside them), never values.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable
from dataclasses import dataclass

from prepkit.records import Applied

# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) then whitespace, or at a blank line /
# line break (lists, headings and chat lines rarely end with punctuation).
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n\s*")


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int


def sentences(text: str) -> list[Span]:
    """Sentence spans covering the text without gaps (trailing whitespace belongs to the sentence before it)."""
    spans: list[Span] = []
    pos = 0
    for m in _BOUNDARY.finditer(text):
        if m.end() > pos:
            spans.append(Span(pos, m.end()))
            pos = m.end()
    if pos < len(text):
        spans.append(Span(pos, len(text)))
    return spans


def _hard_split(text: str, span: Span, size: int) -> list[Span]:
    """A sentence longer than a chunk is cut at the last whitespace before the limit (or at the limit)."""
    out: list[Span] = []
    start = span.start
    while span.end - start > size:
        cut = text.rfind(" ", start + size // 2, start + size)
        cut = cut + 1 if cut > start else start + size
        out.append(Span(start, cut))
        start = cut
    out.append(Span(start, span.end))
    return out


def chunk_spans(text: str, size: int, overlap: int) -> list[Span]:
    """Greedy packing of whole sentences up to `size` chars; the next chunk restarts at the earliest sentence that
    lies within the last `overlap` chars of the previous one, so context carries over on sentence boundaries."""
    if not text.strip():
        return []
    units: list[Span] = []
    for s in sentences(text):
        units.extend(_hard_split(text, s, size) if s.end - s.start > size else [s])
    chunks: list[Span] = []
    i = 0
    while i < len(units):
        j = i
        while j + 1 < len(units) and units[j + 1].end - units[i].start <= size:
            j += 1
        chunks.append(Span(units[i].start, units[j].end))
        if j + 1 >= len(units):
            break
        # Step back over trailing sentences that fit in the overlap, but always advance by at least one unit.
        k = j + 1
        while k - 1 > i and units[j].end - units[k - 1].start <= overlap:
            k -= 1
        # ...and only keep as much overlap as leaves room for new text, or the next chunk would repeat this one.
        while k <= j and units[j + 1].end - units[k].start > size:
            k += 1
        i = k
    # Trim surrounding whitespace from each chunk so offsets point at text, not at separators.
    out: list[Span] = []
    for c in chunks:
        seg = text[c.start : c.end]
        lead = len(seg) - len(seg.lstrip())
        trail = len(seg) - len(seg.rstrip())
        if c.end - trail > c.start + lead:
            out.append(Span(c.start + lead, c.end - trail))
    return out


def entity_types_in(applied: list[Applied], segment: int, span: Span) -> list[str]:
    return sorted({a.entity_type for a in applied if a.segment == segment and a.start < span.end and a.end > span.start})


def document_locator(metadata: dict[str, object], text: str) -> Callable[[Span], str] | None:
    """For a PDF or DOCX record (prepkit.io.documents), a function giving a chunk's place as a fragment to append
    to its segment key: `#page=3`, `#page=3-4`, `#paragraph=7-9`. None for other records, or when the breaks in
    the transformed text no longer match the document's count (a replaced span swallowed one): no place is better
    than a wrong one."""
    from prepkit.io.documents import PAGE_BREAK, PARAGRAPH_BREAK

    layout = metadata.get("layout")
    if layout not in ("pages", "paragraphs"):
        return None
    brk, unit = (PAGE_BREAK, "page") if layout == "pages" else (PARAGRAPH_BREAK, "paragraph")
    starts = [m.end() for m in re.finditer(re.escape(brk), text)]
    if len(starts) + 1 != metadata.get(layout):
        return None

    def locate(span: Span) -> str:
        first = bisect.bisect_right(starts, span.start) + 1
        last = bisect.bisect_right(starts, max(span.start, span.end - 1)) + 1
        return f"#{unit}={first}" if first == last else f"#{unit}={first}-{last}"

    return locate
