"""Masked context for a finding: a few words either side, with every detected value replaced by ⟪TYPE⟫, so a
person reading `prepkit scan` output sees where a finding sits without the output holding the value.

Digits outside the findings are shown as `#` too: a number the detectors missed (an account or ticket number next
to a name) is the likeliest undetected identifier in the surrounding words.
"""

from __future__ import annotations

from collections.abc import Iterable

WIDTH = 24  # characters of context either side, trimmed back to whole words


def masked_context(text: str, start: int, end: int, spans: Iterable[tuple[int, int, str]], width: int = WIDTH) -> str:
    """`spans`: (start, end, entity_type) of every finding in this text (the one at start:end among them)."""
    lo, hi = max(0, start - width), min(len(text), end + width)
    # whole words only at the edges: a cut word could be the part of a name the detectors did not see
    if lo > 0:
        cut = text.find(" ", lo, start)
        lo = start if cut < 0 else cut + 1
    if hi < len(text):
        cut = text.rfind(" ", end, hi)
        hi = end if cut < 0 else cut
    covering = sorted((s, e, t) for s, e, t in spans if s < hi and e > lo)
    out: list[str] = ["…" if lo > 0 else ""]
    pos = lo
    for s, e, t in covering:
        if e <= pos:
            continue
        if s > pos:
            out.append(_plain(text[pos:s]))
        out.append(f"⟪{t}⟫")
        pos = max(pos, e)
    if pos < hi:
        out.append(_plain(text[pos:hi]))
    out.append("…" if hi < len(text) else "")
    return "".join(out)


def _plain(piece: str) -> str:
    return "".join("#" if c.isdigit() else (" " if c.isspace() else c) for c in piece)
