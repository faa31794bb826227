"""Apply a policy's actions to one record's findings."""

from __future__ import annotations

import itertools
import re
from collections import deque
from typing import Any

from prepkit.entities import DIGIT_TYPES
from prepkit.keys import KeyRing
from prepkit.policy.load import LoadedPolicy
from prepkit.policy.model import Action
from prepkit.records import Applied, Finding, Record, Transformed
from prepkit.transform.context import DocContext, Keys, Shared
from prepkit.transform.match import Needle, identifying, same_mention
from prepkit.transform.operators import Operator, get_operator
from prepkit.transform.subjects import normalize, subject_hashes


def resolve_overlaps(findings: list[Finding]) -> list[Finding]:
    """One span per cluster of overlapping findings, covering all of them, so no detected character is left out.

    Detectors overlap: NER tags "+1-321" as NRP inside a phone number, or "Dr." as a TITLE inside a PERSON.
    Keeping only the higher-scored fragment would leave the rest of the number in plain text, so the kept span is
    the union of the cluster. Its type comes from the findings that cover the whole union (higher score, then
    type name); when none does (a chain of partial overlaps), from the highest score, then the longer span, then
    the type name. Deterministic whatever order the detectors returned spans in; the result is in reading order.
    """
    ordered = sorted((f for f in findings if f.end > f.start), key=lambda f: (f.segment, f.start, -f.end))
    clusters: list[list[Finding]] = []
    for f in ordered:
        last = clusters[-1] if clusters else None
        if last and last[0].segment == f.segment and f.start < max(x.end for x in last):
            last.append(f)
        else:
            clusters.append([f])
    kept: list[Finding] = []
    for c in clusters:
        start, end = min(x.start for x in c), max(x.end for x in c)
        covering = [x for x in c if x.start == start and x.end == end]
        pick = min(covering or c, key=lambda x: (-x.score, -(x.end - x.start), x.entity_type, x.detector))
        kept.append(pick if (pick.start, pick.end) == (start, end)
                    else Finding(pick.segment, start, end, pick.entity_type, pick.score, pick.detector))
    return kept


_MIN_PROPAGATE_CHARS = 3  # "Al", "Jo": too short to chase through a record
_MIN_PROPAGATE_DIGITS = 6


_WORD = re.compile(r"\w+")
_DIGITS = re.compile(r"\d+")


class _SegmentIndex:
    """Where each word and each digit group of one segment starts, so other mentions of a value are looked up
    instead of searched for: a long document has thousands of values, and a regex pass per value over the whole
    text made propagation quadratic."""

    __slots__ = ("text", "taken", "_word_probes", "_digit_probes", "_words", "_digits")

    def __init__(self, text: str, word_probes: set[str], digit_probes: set[str]):
        self.text = text
        self.taken = bytearray(len(text))  # 1 where a kept or propagated span already is
        # Only the words and digit prefixes some value starts with are indexed: an index of every word of a
        # 20M-character record held millions of positions.
        self._word_probes = word_probes
        self._digit_probes = digit_probes
        self._words: dict[str, list[int]] | None = None
        self._digits: dict[str, list[int]] | None = None

    def words(self) -> dict[str, list[int]]:
        if self._words is None:
            self._words = {}
            for m in _WORD.finditer(self.text):
                w = m.group().casefold()
                if w in self._word_probes:
                    self._words.setdefault(w, []).append(m.start())
        return self._words

    def digit_groups(self) -> dict[str, list[int]]:
        """First six digits of the digits from each digit group on (separators skipped) -> group starts."""
        if self._digits is None:
            self._digits = {}
            # the groups are read as a stream with the next few in hand (a group holds at least one digit, so
            # six groups make a key): a list of every digit group of a long record held tens of megabytes
            groups = _DIGITS.finditer(self.text)
            ahead: deque[tuple[int, int, str]] = deque()  # (start, end, digits) from the current group on
            while True:
                while len(ahead) < _MIN_PROPAGATE_DIGITS and (m := next(groups, None)) is not None:
                    ahead.append((m.start(), m.end(), m.group()))
                if not ahead:
                    break
                start, prev_end, key = ahead[0]
                for s, e, digits in itertools.islice(ahead, 1, None):
                    if len(key) >= _MIN_PROPAGATE_DIGITS or s - prev_end > 2:
                        break
                    key += digits
                    prev_end = e
                if key[:_MIN_PROPAGATE_DIGITS] in self._digit_probes:
                    self._digits.setdefault(key[:_MIN_PROPAGATE_DIGITS], []).append(start)
                ahead.popleft()
        return self._digits

    def free(self, s: int, e: int) -> bool:
        return not any(self.taken[s:e])

    def take(self, s: int, e: int) -> None:
        self.taken[s:e] = b"\x01" * (e - s)


def propagate(record: Record, kept: list[Finding]) -> list[Finding]:
    """Other mentions of a detected value that the detector missed ("MARIA  LOPEZ" after "Maria Lopez").

    A value is found case- and whitespace-insensitively on word boundaries, or for number-like types as a run of
    the same digits in any layout. New spans never overlap detected ones; they carry score 0 and detector
    "propagate". This turns the commonest leak (a second mention NER skipped) into a replacement, not a failure.
    Candidates come from a per-segment index of word and digit-group starts, each confirmed with the value's
    pattern at that position, so the cost grows with the text plus the mentions, not their product.
    """
    extra: list[Finding] = []
    values = [record.segments[f.segment].text[f.start:f.end] for f in kept]
    seen: set[tuple[str, str]] = set()
    plans: list[tuple[Finding, str, bool, str, int, str, int]] = []  # what to chase, before indexing the text
    for f, value in zip(kept, values, strict=True):
        key = (f.entity_type, normalize(value, f.entity_type))
        if key in seen or not identifying(value, f.entity_type):
            continue
        seen.add(key)
        digits = re.sub(r"\D", "", value)
        numeric = f.entity_type in DIGIT_TYPES and len(digits) >= _MIN_PROPAGATE_DIGITS
        if not numeric and len(value.strip()) < _MIN_PROPAGATE_CHARS:
            continue
        if numeric:  # the same digits in any layout: "4111-1111-..." finds "4111 1111 ..." and "41111111..."
            source, flags = r"(?<![\d\w])" + r"[\s().+/-]{0,2}".join(digits) + r"(?![\d\w])", 0
            probe, back = digits[:_MIN_PROPAGATE_DIGITS], 0
        else:
            words = value.split()
            first = _WORD.search(words[0]) if words else None
            if first is None:
                continue
            left = r"(?<!\w)" if words[0][0].isalnum() else ""
            right = r"(?!\w)" if words[-1][-1].isalnum() else ""
            source, flags = left + r"\s+".join(re.escape(w) for w in words) + right, re.IGNORECASE
            probe, back = first.group().casefold(), first.start()
        plans.append((f, value, numeric, source, flags, probe, back))
    word_probes = {p[5] for p in plans if not p[2]}
    digit_probes = {p[5] for p in plans if p[2]}
    segs = [_SegmentIndex(s.text, word_probes, digit_probes) for s in record.segments]
    for f in kept:
        segs[f.segment].take(f.start, f.end)
    for f, value, numeric, source, flags, probe, back in plans:
        pat: re.Pattern[str] | None = None
        for si, idx in enumerate(segs):
            starts = (idx.digit_groups() if numeric else idx.words()).get(probe, ())
            for pos in starts:
                # A start inside a taken span could only match overlapping it (the value's own mention, most
                # often): skip it before compiling, since most values are mentioned only once.
                if pos < back or idx.taken[pos]:
                    continue
                if pat is None:
                    pat = re.compile(source, flags)
                m = pat.match(idx.text, pos - back)
                if m is None or m.end() == m.start():
                    continue
                s, e = m.span()
                if idx.free(s, e) and (numeric or same_mention(value, idx.text, s, e)):
                    idx.take(s, e)
                    extra.append(Finding(si, s, e, f.entity_type, 0.0, "propagate"))
    return extra


_HASHES_KEPT = 1 << 16  # values whose subject hashes a worker keeps: a value recurs across a corpus's records


class Transformer:
    """Built once per worker: resolves every action's operator up front so a run never meets an unknown one."""

    def __init__(self, loaded_policy: LoadedPolicy, keyring: KeyRing, *, avoid: set[str] | None = None,
                 propagate: bool = True):
        self.propagate = propagate
        self.policy = loaded_policy.policy
        self.keyring = keyring
        self.shared = Shared(Keys.from_keyring(keyring), self.policy.locale)
        # Known real values beyond the record (e.g. a corpus pre-scan): surrogates avoid them too.
        self.avoid = [Needle(v, None) for v in sorted(avoid or ())]
        self._ops: dict[str, tuple[Operator, Any, Action]] = {}
        self._hashes: dict[tuple[str, str], set[str]] = {}  # (value, type) -> its subject hashes (HMACs), bounded
        # Fail at construction, not mid-run, even when the policy was loaded without checks.
        for etype, action in self.policy.actions.items():
            op = get_operator(action.operator)
            problems = op.problems(action.params, etype)
            if problems:
                param, msg = problems[0]
                raise ValueError(f"actions.{etype}{'.' + param if param else ''}: {msg}")

    def _op(self, entity_type: str) -> tuple[Operator, Any, Action]:
        hit = self._ops.get(entity_type)
        if hit is None:
            action = self.policy.action_for(entity_type)
            op = get_operator(action.operator)
            hit = self._ops[entity_type] = (op, op.parse(action.params), action)
        return hit

    def transform(self, record: Record, findings: list[Finding]) -> Transformed:
        valid = [
            f for f in findings
            if 0 <= f.segment < len(record.segments) and 0 <= f.start < f.end <= len(record.segments[f.segment].text)
        ]
        if len(valid) != len(findings):
            raise ValueError("finding offsets out of bounds for the record")
        kept = resolve_overlaps(valid)
        if self.propagate:
            kept = sorted(kept + propagate(record, kept), key=lambda f: (f.segment, f.start))
        values = [record.segments[f.segment].text[f.start:f.end] for f in valid]
        ctx = DocContext.for_document(
            self.shared, record.id, real=[(f.entity_type, v) for f, v in zip(valid, values, strict=True)],
            kept=[(f.entity_type, record.segments[f.segment].text[f.start:f.end]) for f in kept], avoid=self.avoid)

        replacements: list[str] = []
        for f in kept:  # reading order, so replace numbers and name variants follow the text
            op, params, _ = self._op(f.entity_type)
            value = record.segments[f.segment].text[f.start:f.end]
            key = (op.name, f.entity_type, value)  # exact: "MARIA LOPEZ" keeps its capitals, same surrogate
            out = ctx.memo.get(key)
            if out is None:
                out = ctx.memo[key] = op.apply(value, f.entity_type, params, ctx)
            replacements.append(out)

        texts: list[str] = []
        applied: list[Applied] = []
        by_seg: dict[int, list[tuple[Finding, str]]] = {}
        for f, r in zip(kept, replacements, strict=True):
            by_seg.setdefault(f.segment, []).append((f, r))
        for i, seg in enumerate(record.segments):
            pieces: list[str] = []
            pos = 0
            out_len = 0
            for f, r in by_seg.get(i, []):
                pieces.append(seg.text[pos:f.start])
                out_len += f.start - pos
                applied.append(Applied(i, out_len, out_len + len(r), f.entity_type, self._op(f.entity_type)[0].name))
                pieces.append(r)
                out_len += len(r)
                pos = f.end
            pieces.append(seg.text[pos:])
            texts.append("".join(pieces))

        hashes = sorted({h for f, v in zip(valid, values, strict=True) for h in self._subject_hashes(v, f.entity_type)})
        return Transformed(texts=texts, applied=applied, subject_hashes=hashes)

    def _subject_hashes(self, value: str, entity_type: str) -> set[str]:
        key = (value, entity_type)
        hit = self._hashes.get(key)
        if hit is None:
            if len(self._hashes) >= _HASHES_KEPT:
                self._hashes.clear()
            hit = self._hashes[key] = subject_hashes(self.keyring, value, entity_type)
        return hit
