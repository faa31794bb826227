"""Cut long texts into overlapping windows and stitch findings back, so no text is truncated or crashes spaCy.

Windows end on whitespace where possible and overlap by `overlap` characters. Each pair of neighbouring windows
splits their overlap at its middle: a finding belongs to the window in which its *start* lies on the owner's side
of that split. An entity cut by one window's edge starts in the overlap's far half, so the next window, which holds
it whole with at least overlap/2 characters of context before it, owns it; nothing is found twice and nothing is
lost on a boundary as long as entities are shorter than overlap/2. Same-type findings that still overlap are then
merged (max score), as a safety net.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any


def windows(text: str, size: int, overlap: int) -> Iterator[tuple[int, str]]:
    """(offset, piece) pairs covering `text`; every piece is at most `size` characters."""
    if overlap * 2 > size:
        raise ValueError(f"window overlap {overlap} must be at most half the window size {size}")
    n = len(text)
    if n <= size:
        yield 0, text
        return
    start = 0
    while start < n:
        end = min(start + size, n)
        if end < n:
            # cut at the last whitespace in the window's second half, so words (and most entities) stay whole
            cut = max(text.rfind(" ", start + size // 2, end), text.rfind("\n", start + size // 2, end))
            if cut > start:
                end = cut
        yield start, text[start:end]
        if end >= n:
            return
        nxt = end - overlap
        # restart at a word boundary inside the overlap so the next window does not begin mid-token
        sp = text.find(" ", nxt, end)
        start = sp + 1 if sp != -1 and sp + 1 < end else nxt


def _owner_bounds(extents: Sequence[tuple[int, int]]) -> list[tuple[float, float]]:
    """Per window, the [lo, hi) range of start offsets it owns: neighbours split their overlap in the middle."""
    bounds: list[tuple[float, float]] = []
    for i, (start, _end) in enumerate(extents):
        lo = float("-inf") if i == 0 else (start + extents[i - 1][1]) / 2
        hi = float("inf") if i == len(extents) - 1 else (extents[i + 1][0] + extents[i][1]) / 2
        bounds.append((lo, hi))
    return bounds


def merge_window_findings(per_window: list[list[tuple[int, Any]]],
                          extents: Sequence[tuple[int, int]] | None = None) -> list[tuple[int, int, str, float, str]]:
    """Whole-text (start, end, type, score, recognizer) from per-window (window offset, RecognizerResult) lists.

    `extents` are the windows' (start, end) in the whole text, in window order; without them only the same-type
    merge applies."""
    spans: list[tuple[int, int, str, float, str]] = []
    bounds = _owner_bounds(extents) if extents is not None and len(extents) == len(per_window) else None
    for wi, findings in enumerate(per_window):
        for off, r in findings:
            start = off + r.start
            if bounds is not None and not (bounds[wi][0] <= start < bounds[wi][1]):
                continue
            name = ""
            if getattr(r, "recognition_metadata", None):
                name = str(r.recognition_metadata.get("recognizer_name", ""))
            spans.append((start, off + r.end, r.entity_type, float(r.score), name))
    if len(per_window) <= 1:
        return spans
    spans.sort(key=lambda s: (s[2], s[0], s[1]))
    merged: list[tuple[int, int, str, float, str]] = []
    for s in spans:
        if merged and merged[-1][2] == s[2] and s[0] < merged[-1][1]:
            m = merged[-1]
            merged[-1] = (m[0], max(m[1], s[1]), m[2], max(m[3], s[3]), m[4] or s[4])
        else:
            merged.append(s)
    return merged
