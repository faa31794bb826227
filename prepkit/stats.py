"""RunStats: what a run counted, typed, and the summary.json it becomes.

Counts are taken from final decisions only (after the pre-sink filters), so routes, reasons, the audit log and
the conservation check agree with what the sinks wrote. Each step (detect, transform, verify, route in the
pipeline; the cache and the pre-sink filters on the driver; each sink) reports how many records it saw and the
time it took, under `steps` in the summary.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from prepkit.records import Rejected, Result, Route


@dataclass
class StepStats:
    records: int = 0
    seconds: float = 0.0
    withheld: int = 0  # filters: records the step kept from their route

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"records": self.records, "seconds": round(self.seconds, 3)}
        if self.withheld:
            out["withheld"] = self.withheld
        return out


@dataclass
class RunStats:
    routes: Counter[str] = field(default_factory=lambda: Counter({r.value: 0 for r in Route}))
    entities_before: Counter[str] = field(default_factory=Counter)
    entities_after: Counter[str] = field(default_factory=Counter)
    by_check: Counter[str] = field(default_factory=Counter)
    operators: Counter[str] = field(default_factory=Counter)
    reasons: Counter[str] = field(default_factory=Counter)
    rejected_reasons: Counter[str] = field(default_factory=Counter)
    errors: Counter[str] = field(default_factory=Counter)
    scores: dict[str, list[float]] = field(default_factory=dict)
    seen_ids: set[str] = field(default_factory=set)
    steps: dict[str, StepStats] = field(default_factory=dict)
    inputs: list[str] = field(default_factory=list)
    chars: int = 0
    records_in: int = 0

    def step(self, name: str, seconds: float, records: int = 1, withheld: bool = False) -> None:
        s = self.steps.setdefault(name, StepStats())
        s.records += records
        s.seconds += seconds
        s.withheld += int(withheld)

    def count_rejected(self, rej: Rejected) -> None:
        self.records_in += 1
        self.routes[Route.REJECTED.value] += 1
        # group by the reason's first clause so counts stay readable
        self.rejected_reasons[rej.reason.split(":")[0].split(";")[0]] += 1

    def count(self, res: Result) -> None:
        self.records_in += 1
        self.seen_ids.add(res.record.id)
        self.chars += res.record.char_count
        self.routes[res.decision.route.value] += 1
        self.reasons[res.decision.reason] += 1
        for f in res.findings:
            self.entities_before[f.entity_type] += 1
            self.scores.setdefault(f.entity_type, []).append(round(f.score, 2))
        for fail in res.verification.failures:
            self.by_check[fail.check] += 1
            self.entities_after[fail.entity_type] += 1
        self.operators.update(res.operators)
        if res.error:
            self.errors[res.error] += 1
        for name, seconds in res.timings:
            self.step(name, seconds)

    @property
    def conservation_ok(self) -> bool:
        return sum(self.routes.values()) == self.records_in

    def summary(self, run_id: str, policy: dict[str, str], duration: float) -> dict[str, Any]:
        accounted = sum(self.routes.values())
        return {
            "run_id": run_id,
            "policy": policy,
            "inputs": list(self.inputs),
            "records_in": self.records_in,
            "routes": dict(self.routes),
            "conservation": {"ok": accounted == self.records_in, "records_in": self.records_in,
                             "accounted": accounted,
                             "equation": "records_in = finetune + rag + quarantine + drop + rejected"},
            "entities_before": dict(sorted(self.entities_before.items())),
            "entities_after": dict(sorted(self.entities_after.items())),
            "verification_failures": {"by_check": dict(self.by_check), "by_entity": dict(self.entities_after)},
            "reasons": dict(self.reasons.most_common()),
            "rejected_reasons": dict(self.rejected_reasons.most_common()),
            "errors": dict(self.errors),
            "operators": dict(sorted(self.operators.items())),
            "scores": {k: _histogram(v) for k, v in sorted(self.scores.items())},
            "chars": self.chars,
            "duration_s": round(duration, 3),
            "steps": {k: v.as_dict() for k, v in self.steps.items()},
        }


def _histogram(scores: list[float]) -> dict[str, int]:
    bins: Counter[str] = Counter()
    for s in scores:
        b = min(int(s * 10), 9) / 10
        bins[f"{b:.1f}-{b + 0.1:.1f}"] += 1
    return dict(sorted(bins.items()))
