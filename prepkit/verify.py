"""Verification of transformed output, fail closed.

(a) original_values: no detected original value appears anywhere in the output record (segments and metadata),
    compared after normalization (case, whitespace; digits only for phone/card/SSN-like types);
(b) pattern_rescan: the policy's pattern recognizers find nothing outside the spans prepkit inserted;
(c) full_rescan: the same for a full detection pass, only when the policy asks for it.
Failures name the check, entity type and segment, never the value.

The pattern re-scan around the changes (`rescan_margin`). In a pipeline, detection ran the same pattern
recognizers (regex, checksum, deny-list and phone recognizers, with the same normalisation, false-positive filter,
calibrated scores, thresholds and allow-list: `Detector.pattern_scan`) over the input. The output differs from
the input only inside the spans prepkit inserted. A pattern match in the output that overlaps an inserted span
is prepkit's own value and not a failure. Any other match either lies within `rescan_margin` characters of an
inserted span, or it lies in text that is the same as the input's with at least `rescan_margin` identical
characters on each side; every recognizer's decision at a position depends only on a few characters around the
match (its lookarounds, the 24 characters before a name for its calibration class, the overlapping findings for
the false-positive filter), so detection made the same match there and either replaced it or deliberately kept
it (below its threshold, allow-listed). Re-scanning it cannot find anything detection did not. So when the
verifier is told the findings came from the same recognizers (`rescan_margin` set), it scans only windows
around the inserted spans: each window reaches `rescan_margin` characters past the first and last inserted span
it covers to the next whitespace, plus `rescan_margin` characters of context more, and only matches that touch
the inner part are reported. A segment with no inserted span is not re-scanned at all.
What this assumes: a pattern match and the context its recognizer reads are shorter than `rescan_margin`
(phones, cards, IBANs, e-mail addresses are; a URL longer than that next to an inserted span is still reported,
cut at the window's edge, as the URL it starts with). A match that the transformation creates by joining an
inserted value to its neighbours ("4111" inserted before "1111 1111 1111") touches the inserted span, so it is
prepkit's and never reported; the unchanged part alone ("1111 1111 1111") is judged on its own, within the
margin. The original-values check (a) still searches the whole record, so a detected value that
propagation missed in another layout or another segment is still found wherever it is. Without `rescan_margin`
(a verifier used on its own, with findings from elsewhere) the whole output is scanned.

Inside a window, the inserted values are hidden. A reported match lies wholly in unchanged text (one that
touches an inserted span is prepkit's), so the inside of an inserted value can only matter to a reported match
through what a recognizer reads next to it. The windowed re-scan therefore keeps `_KEEP` (one) character at each
end of every inserted value and cuts the rest down to one NUL, which no recognizer's pattern matches (not a word
character, digit, letter, space, separator or line break): on PII-dense records the inserted surrogates were
most of the scanned text, and every phone-like surrogate was parsed again by libphonenumber for nothing. What a
recognizer reads next to a match is kept: `\\b`, the one-character lookarounds (`(?<![\\w-])`, `(?<!\\d)`...),
`^`/`$` after or before a line break, libphonenumber's check of the characters before and after a candidate.
What is no longer read, and why that is safe:
- a match that runs from unchanged text into the inside of an inserted value: it touches the span, so it was
  never reported;
- such a match no longer hides what follows it in the unchanged text: a match of the unchanged part alone can now
  be reported where the whole-window scan found only the joined one — more failures, never fewer;
- a cue further inside an inserted value ("SSN" at the end of a surrogate before an unchanged number, a
  greeting more than one character before an unchanged handle): that is prepkit's text, not the record's; the
  unchanged value was judged by detection in its real context, as every match far from a change is;
- the false-positive filter's strong findings (cards, IBANs...) that overlap an unchanged weak match and run deep
  into an inserted value: without them the weak match is kept and reported — again more failures, never fewer.
What is left is the kind of edge effect the window's own edges have: a match that starts at a kept end character
touches the span and is not reported, and it may run on over the start of an unchanged match as a match through
the whole value would have. bench/post_equal.py found no record whose verification changed on the five bench
shapes and samples/; tests/test_verify.py compares the hidden and the whole-text re-scans on planted cases.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterator
from typing import Any

from prepkit.keys import KeyRing
from prepkit.policy.load import LoadedPolicy
from prepkit.records import Applied, Finding, Record, Transformed, Verification, VerifyFailure
from prepkit.transform.match import Haystack, Needle, identifying, needle, text_norm

ScanFn = Callable[[str], list[tuple[int, int, str, float]]]
# Characters of unchanged text around each inserted span that the pattern re-scan reads (see the module doc):
# longer than any e-mail address (254), card, IBAN or phone number and than the context any recognizer reads.
RESCAN_MARGIN = 256


def _metadata_strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield str(k)
            yield from _metadata_strings(v)
    elif isinstance(value, (list, tuple, set)):
        for v in value:
            yield from _metadata_strings(v)
    elif value is not None and not isinstance(value, bool):
        yield str(value)


# Operators whose output is built only from policy text, type names, numbers or keyed cryptography: their spans
# cannot carry an original value, so a match there is the template ("<SSN>" holds "SSN"), not a leak. Spans of
# value-derived plaintext (synthesize, mask, generalize) stay searchable.
_CONSTANT_OPERATORS = {"redact", "replace", "hash", "encrypt"}


def _blank_constant_spans(text: str, segment: int, applied: list[Applied]) -> str:
    spans = sorted((a.start, a.end) for a in applied if a.segment == segment and a.operator in _CONSTANT_OPERATORS)
    if not spans:
        return text
    out, pos = [], 0
    for s, e in spans:
        if s < pos or e > len(text):
            return text  # inconsistent offsets: search everything, fail closed
        out += [text[pos:s], "\x00"]  # NUL: neither a word character nor a digit separator
        pos = e
    out.append(text[pos:])
    return "".join(out)


class Verifier:
    def __init__(
        self,
        loaded_policy: LoadedPolicy,
        keyring: KeyRing | None = None,
        pattern_scan: ScanFn | None = None,
        full_scan: ScanFn | None = None,
        rescan_margin: int | None = None,
    ):
        """`rescan_margin`: set only when `pattern_scan` is the detector's own pattern pass and the findings came
        from that detector (see the module doc); then the pattern re-scan covers only the text around changes."""
        self.policy = loaded_policy.policy
        self.cfg = self.policy.verification
        self.pattern_scan = pattern_scan
        self.full_scan = full_scan
        self.rescan_margin = rescan_margin
        self.allow = {text_norm(a) for a in self.policy.detection.allow_list}
        if self.cfg.full_rescan and full_scan is None:
            raise ValueError("policy verification.full_rescan is on but no full detection pass was supplied")

    def checks(self) -> tuple[str, ...]:
        out = []
        if self.cfg.original_values:
            out.append("original_values")
        if self.cfg.pattern_rescan and self.pattern_scan is not None:
            out.append("pattern_rescan")
        if self.cfg.full_rescan and self.full_scan is not None:
            out.append("full_rescan")
        return tuple(out)

    def verify(self, record: Record, findings: list[Finding], out: Transformed) -> Verification:
        failures: list[VerifyFailure] = []
        if len(out.texts) != len(record.segments):
            failures.append(VerifyFailure("structure", "ANY", -1))
            return Verification(False, failures, self.checks())
        checks = self.checks()
        if "original_values" in checks:
            failures += self._original_values(record, findings, out)
        if "pattern_rescan" in checks and self.pattern_scan is not None:
            failures += self._rescan("pattern_rescan", self.pattern_scan, out, self.rescan_margin)
        if "full_rescan" in checks and self.full_scan is not None:
            failures += self._rescan("full_rescan", self.full_scan, out, None)
        unique = list(dict.fromkeys(failures))  # one failure per (check, type, segment), in order
        return Verification(not unique, unique, checks)

    def _original_values(self, record: Record, findings: list[Finding], out: Transformed) -> list[VerifyFailure]:
        stacks = [Haystack(_blank_constant_spans(t, i, out.applied)) for i, t in enumerate(out.texts)]
        meta = Haystack("\n".join(_metadata_strings(record.metadata)))
        needles: dict[tuple[str, str], Needle | None] = {}  # (value, type): a value found many times is looked for once
        for f in findings:
            if 0 <= f.segment < len(record.segments):
                value = record.segments[f.segment].text[f.start:f.end]
                if (value, f.entity_type) not in needles:
                    needles[(value, f.entity_type)] = None if text_norm(value) in self.allow \
                        else needle(value, f.entity_type)
        looked_for = [n for n in needles.values() if n is not None]
        for h in [*stacks, meta]:
            h.prepare(looked_for)
        where_found: dict[tuple[str, str], int | None] = {}
        failures = []
        for f in findings:
            if not (0 <= f.segment < len(record.segments)):
                failures.append(VerifyFailure("original_values", f.entity_type, f.segment))
                continue
            key = (record.segments[f.segment].text[f.start:f.end], f.entity_type)
            if key not in where_found:
                sought = needles[key]
                where = None if sought is None else next(
                    (i for i, h in enumerate(stacks) if sought.found_in(h)), None)
                if where is None and sought is not None and sought.found_in(meta):
                    where = -1  # -1: the record's metadata
                where_found[key] = where
            found_at = where_found[key]
            if found_at is not None:
                failures.append(VerifyFailure("original_values", f.entity_type, found_at))
        return failures

    def _rescan(self, check: str, scan: ScanFn, out: Transformed, margin: int | None) -> list[VerifyFailure]:
        inserted: dict[int, list[Applied]] = {}
        for a in out.applied:
            inserted.setdefault(a.segment, []).append(a)
        for spans in inserted.values():
            spans.sort(key=lambda a: a.start)
        starts = {i: [a.start for a in spans] for i, spans in inserted.items()}
        reach = {i: list(itertools.accumulate((a.end for a in spans), max)) for i, spans in inserted.items()}
        failures = []
        for i, text in enumerate(out.texts):
            if margin is None:
                found: Iterator[tuple[int, int, str, float]] = iter(scan(text))
            else:
                found = _scan_around(scan, text, [(a.start, a.end) for a in inserted.get(i, [])], margin)
            for start, end, etype, score in found:
                if score < self.policy.detection.threshold(etype):
                    continue  # below the policy's bar, as in the first pass
                if text_norm(text[start:end].strip()) in self.allow or not identifying(text[start:end], etype):
                    continue  # allow-listed, or a lone title ("Sir") that names no one
                if _overlaps(reach.get(i, []), starts.get(i, []), start, end):
                    continue  # overlaps a value prepkit put there
                failures.append(VerifyFailure(check, etype, i))
        return failures


def _overlaps(reach: list[int], starts: list[int], start: int, end: int) -> bool:
    """Does [start, end) overlap an inserted span? `starts` are the spans' sorted starts and `reach[k]` the
    furthest end among the first k+1 of them: a bisect, not a scan (a long record has tens of thousands)."""
    i = bisect.bisect_left(starts, end)
    return i > 0 and reach[i - 1] > start


# A window of the windowed re-scan holds at most about this many characters of inner part, so a long record with
# dense changes is scanned in pieces, never as one copy of the whole text.
_WINDOW_INNER = 100_000
_SNAP = 1_000  # how far a window edge moves to reach whitespace before it cuts a token


def _snap_left(text: str, x: int) -> int:
    stop = max(0, x - _SNAP)
    while x > stop and not text[x - 1].isspace():
        x -= 1
    return x - 1 if x > 0 and text[x - 1].isspace() else x  # keep the whitespace: lookbehinds see it


def _snap_right(text: str, y: int) -> int:
    stop = min(len(text), y + _SNAP)
    while y < stop and not text[y].isspace():
        y += 1
    return y + 1 if y < len(text) else y


def rescan_windows(text: str, spans: list[tuple[int, int]], margin: int) -> list[tuple[int, int, int, int]]:
    """(window start, window end, inner start, inner end) around the sorted inserted `spans`: the inner part
    reaches `margin` characters past the spans it covers; the window adds `margin` more, snapped to whitespace."""
    n = len(text)
    groups: list[list[int]] = []
    for s, e in spans:
        lo, hi = max(0, s - margin), min(n, e + margin)
        g = groups[-1] if groups else None
        if g is not None and lo <= g[1] + 2 * margin and hi - g[0] <= _WINDOW_INNER:
            g[1] = max(g[1], hi)
        else:
            groups.append([lo, hi])
    return [(_snap_left(text, max(0, lo - margin)), _snap_right(text, min(n, hi + margin)), lo, hi)
            for lo, hi in groups]


# Characters kept at each end of an inserted value when the windowed re-scan hides the rest (see the module doc):
# what a lookaround, a `\b`, a `^`/`$` or libphonenumber's neighbour check reads next to a match.
_KEEP = 1
_HIDDEN = "\x00"  # stands for the hidden inside of an inserted value: no recognizer's pattern matches it


def hide_inserted(text: str, spans: list[tuple[int, int]], lo: int, hi: int, ends: list[int] | None = None
                  ) -> tuple[str, list[tuple[int, int, int]]]:
    """text[lo:hi] with the inside of every inserted span (all but `_KEEP` characters at each end) cut down to one
    NUL, and the pieces it is made of: (start in the result, start in `text`, characters of `text` it stands for,
    or -1 for a piece copied as it is). `spans` are sorted and do not overlap; `ends` are their ends."""
    out: list[str] = []
    pieces: list[tuple[int, int, int]] = []
    size, pos = 0, lo
    ends = [e for _, e in spans] if ends is None else ends
    for k in range(bisect.bisect_right(ends, lo), len(spans)):  # from the first span ending after lo
        s, e = spans[k]
        if s >= hi:
            break
        cut_lo, cut_hi = max(s + _KEEP, pos), min(e - _KEEP, hi)
        if cut_hi <= cut_lo:
            continue
        if cut_lo > pos:
            pieces.append((size, pos, -1))
            out.append(text[pos:cut_lo])
            size += cut_lo - pos
        pieces.append((size, cut_lo, cut_hi - cut_lo))
        out.append(_HIDDEN)
        size += 1
        pos = cut_hi
    if pos < hi or not pieces:
        pieces.append((size, pos, -1))
        out.append(text[pos:hi])
    return "".join(out), pieces


def _unhide(pieces: list[tuple[int, int, int]], starts: list[int], p: int) -> int:
    """An offset of `hide_inserted`'s result in the whole text (a hidden piece's end maps to the span's end)."""
    k = max(bisect.bisect_right(starts, p) - 1, 0)
    at, orig, hidden = pieces[k]
    if hidden < 0:
        return orig + p - at
    return orig + (hidden if p > at else 0)


def _scan_around(scan: ScanFn, text: str, spans: list[tuple[int, int]], margin: int
                 ) -> Iterator[tuple[int, int, str, float]]:
    """`scan` over the windows around `spans` only, with the inserted values hidden, findings in whole-text
    offsets (see the module doc)."""
    ends = [e for _, e in spans]
    for wlo, whi, ilo, ihi in rescan_windows(text, spans, margin):
        window, pieces = hide_inserted(text, spans, wlo, whi, ends)
        starts = [at for at, _, _ in pieces]
        for start, end, etype, score in scan(window):
            start, end = _unhide(pieces, starts, start), _unhide(pieces, starts, end)
            if start < ihi and end > ilo:
                yield start, end, etype, score
