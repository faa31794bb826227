"""Verification of transformed output, fail closed.

(a) original_values: no detected original value appears anywhere in the output record (segments and metadata),
    compared after normalization (case, whitespace; digits only for phone/card/SSN-like types);
(b) pattern_rescan: the policy's pattern recognizers find nothing outside the spans prepkit inserted;
(c) full_rescan: the same for a full detection pass, only when the policy asks for it.
Failures name the check, entity type and segment, never the value.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

from prepkit.keys import KeyRing
from prepkit.policy.load import LoadedPolicy
from prepkit.records import Applied, Finding, Record, Transformed, Verification, VerifyFailure
from prepkit.transform.subjects import _DIGITY, normalize

ScanFn = Callable[[str], list[tuple[int, int, str, float]]]

# Runs of digits with the separators people put inside phone, card and account numbers.
_DIGIT_RUN = re.compile(r"[0-9](?:[0-9]|[\s().+/-](?=[\s().+/-]{0,2}[0-9]))*")
_MIN_DIGITS = 4  # shorter digit strings (a house number, a day) occur by chance everywhere


def _text_norm(s: str) -> str:
    return re.sub(r"\s+", " ", unicodedata.normalize("NFKC", s).casefold())


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


class _Haystack:
    """One output location, normalized two ways: text for word search, digit runs for number search."""

    def __init__(self, text: str):
        self.text = _text_norm(text)
        self.digit_runs: list[str] | None = None

    def has_text(self, needle: str) -> bool:
        if not needle or needle not in self.text:
            return False
        # Word boundaries where the value starts/ends with a word character, so "Al" does not hit "also".
        left = r"(?<!\w)" if needle[0].isalnum() else ""
        right = r"(?!\w)" if needle[-1].isalnum() else ""
        return re.search(left + re.escape(needle) + right, self.text) is not None

    def has_digits(self, digits: str) -> bool:
        if self.digit_runs is None:
            self.digit_runs = [re.sub(r"[^0-9]", "", m.group()) for m in _DIGIT_RUN.finditer(self.text)]
        return any(digits in run for run in self.digit_runs)


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
        self.allow = {_text_norm(a) for a in self.policy.detection.allow_list}
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
        seen: set[VerifyFailure] = set()
        unique = [f for f in failures if not (f in seen or seen.add(f))]
        return Verification(not unique, unique, checks)

    def _original_values(self, record: Record, findings: list[Finding], out: Transformed) -> list[VerifyFailure]:
        stacks = [_Haystack(t) for t in out.texts]
        meta = _Haystack("\n".join(_metadata_strings(record.metadata)))
        failures = []
        for f in findings:
            if not (0 <= f.segment < len(record.segments)):
                failures.append(VerifyFailure("original_values", f.entity_type, f.segment))
                continue
            value = record.segments[f.segment].text[f.start:f.end]
            if _text_norm(value.strip()) in self.allow:
                continue
            where = self._find(value, f.entity_type, stacks, meta)
            if where is not None:
                failures.append(VerifyFailure("original_values", f.entity_type, where))
        return failures

    @staticmethod
    def _find(value: str, entity_type: str, stacks: list[_Haystack], meta: _Haystack) -> int | None:
        """Index of the first segment holding the value, -1 for metadata, None when it is nowhere."""
        if entity_type in _DIGITY:
            needle = normalize(value, entity_type)
            digits = re.sub(r"[^0-9]", "", needle)
            if len(digits) >= _MIN_DIGITS and digits == needle:
                hit = lambda h: h.has_digits(digits)  # noqa: E731
            else:
                needle = _text_norm(value.strip())
                hit = lambda h: h.has_text(needle)  # noqa: E731
        else:
            needle = _text_norm(value.strip())
            hit = lambda h: h.has_text(needle)  # noqa: E731
        for i, h in enumerate(stacks):
            if hit(h):
                return i
        return -1 if hit(meta) else None

    def _rescan(self, check: str, scan: ScanFn, out: Transformed) -> list[VerifyFailure]:
        inserted: dict[int, list[Applied]] = {}
        for a in out.applied:
            inserted.setdefault(a.segment, []).append(a)
        failures = []
        for i, text in enumerate(out.texts):
            for start, end, etype, score in scan(text):
                if score < self.policy.detection.threshold(etype):
                    continue  # below the policy's bar, as in the first pass
                if _text_norm(text[start:end].strip()) in self.allow:
                    continue
                if any(start < a.end and a.start < end for a in inserted.get(i, [])):
                    continue  # overlaps a value prepkit put there
                failures.append(VerifyFailure(check, etype, i))
        return failures
