"""Cut long texts into overlapping windows and stitch findings back, so no text is truncated or crashes spaCy.

Windows end on whitespace where possible and overlap, so an entity cut by one window's edge is whole in the next;
findings from the overlap are merged into whole-text offsets (same type, overlapping → one span, max score).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any


def windows(text: str, size: int, overlap: int) -> Iterator[tuple[int, str]]:
    n = len(text)
    if n <= size:
        yield 0, text
        return
    start = 0
    while start < n:
        end = min(start + size, n)
        if end < n:
            cut = text.rfind(" ", start + size // 2, end)
            cut = max(cut, text.rfind("\n", start + size // 2, end))
            if cut > start:
                end = cut
        yield start, text[start:end]
        if end >= n:
            return
        nxt = end - overlap
        # restart at a word boundary inside the overlap so the next window does not begin mid-token
        sp = text.find(" ", nxt, end)
        start = sp + 1 if sp != -1 else nxt


def merge_window_findings(per_window: list[list[tuple[int, Any]]]) -> list[tuple[int, int, str, float, str]]:
    spans: list[tuple[int, int, str, float, str]] = []
    for findings in per_window:
        for off, r in findings:
            name = ""
            if getattr(r, "recognition_metadata", None):
                name = str(r.recognition_metadata.get("recognizer_name", ""))
            spans.append((off + r.start, off + r.end, r.entity_type, float(r.score), name))
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
