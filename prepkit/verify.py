"""Verification of transformed output, fail closed.

(a) original_values: no detected original value appears anywhere in the output record (segments and metadata),
    compared after normalization (case, whitespace; digits only for phone/card/SSN-like types);
(b) pattern_rescan: the policy's pattern recognizers find nothing outside the spans prepkit inserted;
(c) full_rescan: the same for a full detection pass, only when the policy asks for it.
Failures name the check, entity type and segment, never the value.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Callable, Iterator
from typing import Any

from prepkit.keys import KeyRing
from prepkit.policy.load import LoadedPolicy
from prepkit.records import Applied, Finding, Record, Transformed, Verification, VerifyFailure
from prepkit.transform.match import Haystack, Needle, identifying, text_norm

ScanFn = Callable[[str], list[tuple[int, int, str, float]]]


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
    ):
        self.policy = loaded_policy.policy
        self.cfg = self.policy.verification
        self.pattern_scan = pattern_scan
        self.full_scan = full_scan
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
            failures += self._rescan("pattern_rescan", self.pattern_scan, out)
        if "full_rescan" in checks and self.full_scan is not None:
            failures += self._rescan("full_rescan", self.full_scan, out)
        unique = list(dict.fromkeys(failures))  # one failure per (check, type, segment), in order
        return Verification(not unique, unique, checks)

    def _original_values(self, record: Record, findings: list[Finding], out: Transformed) -> list[VerifyFailure]:
        stacks = [Haystack(_blank_constant_spans(t, i, out.applied)) for i, t in enumerate(out.texts)]
        meta = Haystack("\n".join(_metadata_strings(record.metadata)))
        failures = []
        for f in findings:
            if not (0 <= f.segment < len(record.segments)):
                failures.append(VerifyFailure("original_values", f.entity_type, f.segment))
                continue
            value = record.segments[f.segment].text[f.start:f.end]
            if text_norm(value) in self.allow:
                continue
            needle = Needle(value, f.entity_type)
            where = next((i for i, h in enumerate(stacks) if needle.found_in(h)), None)
            if where is None and needle.found_in(meta):
                where = -1  # -1: the record's metadata
            if where is not None:
                failures.append(VerifyFailure("original_values", f.entity_type, where))
        return failures

    def _rescan(self, check: str, scan: ScanFn, out: Transformed) -> list[VerifyFailure]:
        inserted: dict[int, list[Applied]] = {}
        for a in out.applied:
            inserted.setdefault(a.segment, []).append(a)
        for spans in inserted.values():
            spans.sort(key=lambda a: a.start)
        starts = {i: [a.start for a in spans] for i, spans in inserted.items()}
        reach = {i: list(itertools.accumulate((a.end for a in spans), max)) for i, spans in inserted.items()}
        failures = []
        for i, text in enumerate(out.texts):
            for start, end, etype, score in scan(text):
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
