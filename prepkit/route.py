"""Routing: the one place a record's route is decided.

`decide` applies the policy's ordered rules (first match wins; the default route when none matches). It runs
where the record is processed (a worker) and on a cache replay. A `Router` then applies the pre-sink filters
(an erased data subject, the fine-tune dataset filters and duplicates) in input order on the driver, so the
`Decision` a sink, the audit log and the summary see is final and the same for all of them. A filter returns
`(keep, reason)`; a record it does not keep becomes a `drop` with the filter's reason.

A record whose detection or transformation raised never reaches a rule that could send it to fine-tuning:
it is quarantined before the rules run (fail closed).
"""

from __future__ import annotations

import datetime as dt
import fnmatch
import time
from collections.abc import Sequence
from typing import Any, Protocol

from prepkit.policy.model import Policy, Rule, When
from prepkit.records import Decision, Finding, Record, Result, Route, Verification
from prepkit.stats import RunStats


def _as_date(value: Any) -> dt.date | None:
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str) and value:
        try:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00")).date()
        except ValueError:
            return None
    return None


def matches(when: When, record: Record, findings: list[Finding], verification: Verification | None,
            error: bool, *, today: dt.date | None = None, updated_field: str | None = "updated",
            doc_type_field: str | None = "doc_type") -> bool:
    types = {f.entity_type for f in findings}
    if when.error is not None and when.error != error:
        return False
    if when.any_entity is not None and not types.intersection(when.any_entity):
        return False
    if when.all_entities is not None and not set(when.all_entities) <= types:
        return False
    if when.no_entities is not None and when.no_entities != (not findings):
        return False
    if when.entity_count_at_least:
        for etype, n in when.entity_count_at_least.items():
            have = len(findings) if etype == "ANY" else sum(1 for f in findings if f.entity_type == etype)
            if have < n:
                return False
    if when.max_score_at_least is not None and max((f.score for f in findings), default=0.0) < when.max_score_at_least:
        return False
    if when.source is not None and not any(fnmatch.fnmatch(record.source, pat) for pat in when.source):
        return False
    if when.kind is not None and record.kind != when.kind:
        return False
    if when.doc_type is not None and record.metadata.get(doc_type_field or "doc_type") not in when.doc_type:
        return False
    if when.field_equals:
        for k, want in when.field_equals.items():
            got = record.metadata.get(k)
            if isinstance(want, list) and got not in want or not isinstance(want, list) and got != want:
                return False
    if when.updated_within_days is not None or when.updated_before is not None:
        updated = _as_date(record.metadata.get(updated_field or "updated"))
        if updated is None:
            return False
        if when.updated_within_days is not None and \
                ((today or dt.date.today()) - updated).days > when.updated_within_days:
            return False
        if when.updated_before is not None and not updated < when.updated_before:
            return False
    if when.verification is not None:
        if verification is None:
            return False
        if (when.verification == "passed") != verification.passed:
            return False
    return True


def decide(policy: Policy, record: Record, findings: list[Finding], verification: Verification | None,
           error: str | None = None, *, today: dt.date | None = None) -> Decision:
    if error is not None:
        return Decision(Route.QUARANTINE, f"processing failed ({error}); quarantined for review (fail closed)")
    rule: Rule
    for rule in policy.routing.rules:
        if matches(rule.when, record, findings, verification, False, today=today,
                   updated_field=policy.input.updated_field, doc_type_field=policy.input.doc_type_field):
            if rule.route == "finetune" and verification is not None and not verification.passed:
                # Only verified-clean text may be baked into weights, whatever a rule says.
                return Decision(Route.QUARANTINE, f"rule {rule.name!r} routes to finetune but verification failed; "
                                "quarantined", rule.name)
            labels = tuple(rule.labels or (policy.outputs.rag.default_labels if rule.route == "rag" else []))
            return Decision(Route(rule.route), rule.reason, rule.name, labels)
    d = policy.routing.default
    if verification is not None and not verification.passed and d.route == "finetune":
        # A default of finetune must never carry a record that failed verification.
        return Decision(Route.QUARANTINE, "verification failed and no rule routed the record; quarantined")
    labels = tuple(d.labels or (policy.outputs.rag.default_labels if d.route == "rag" else []))
    return Decision(Route(d.route), d.reason, None, labels)


class Filter(Protocol):
    """A pre-sink step: it screens records routed to one of `routes` and may withhold them."""

    name: str  # the step's name in the run summary
    routes: frozenset[Route]

    def __call__(self, result: Result) -> tuple[bool, str]:
        """(keep, reason): reason is a short code saying why a record is withheld ("" when kept)."""
        ...

    def withheld(self, result: Result, reason: str) -> Decision:
        """The decision for a record this filter withholds (a drop, with the reason in words)."""
        ...


class Router:
    """Applies the filters, in order, to a record's rule-based decision; the first that withholds it decides."""

    def __init__(self, filters: Sequence[Filter] = (), stats: RunStats | None = None) -> None:
        self.filters = list(filters)
        self.stats = stats  # per-filter counts and times, for the run summary

    def finalize(self, result: Result) -> Result:
        for f in self.filters:
            if result.decision.route not in f.routes:
                continue
            t0 = time.perf_counter()
            keep, reason = f(result)
            if self.stats is not None:
                self.stats.step(f.name, time.perf_counter() - t0, withheld=not keep)
            if not keep:
                return result.with_decision(f.withheld(result, reason))
        return result


class ErasedSubjects:
    """A record holding a data subject erased on request (`prepkit forget`) must not come back into fine-tuning
    or the store when its source is processed again."""

    name = "erased_subject"
    routes = frozenset({Route.FINETUNE, Route.RAG})

    def __init__(self, erased: set[str] | frozenset[str]) -> None:
        self.erased = frozenset(erased)

    def __call__(self, result: Result) -> tuple[bool, str]:
        held = bool(self.erased and result.transformed
                    and self.erased.intersection(result.transformed.subject_hashes))
        return (False, "erased-subject") if held else (True, "")

    def withheld(self, result: Result, reason: str) -> Decision:
        return Decision(Route.DROP, "holds a data subject erased on request (GDPR art. 17)", rule="erased-subject")
