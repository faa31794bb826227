"""`prepkit policy test`: run a policy on sample records and show what it would do — findings, text before and
after, route and reason — without writing anything (no outputs, no audit log, no RAG store).

This is a tool for the policy author looking at their own samples, so it shows the sample text; it runs the same
`Pipeline` a real run uses, so what it shows is what a run would do.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import click

from prepkit.keys import KeyRing, load_keyring
from prepkit.policy.load import LoadedPolicy
from prepkit.records import Record, Rejected, Result

# Colours: original values red, inserted replacements green, route by outcome.
_ROUTE_COLOUR = {"finetune": "green", "rag": "cyan", "quarantine": "yellow", "drop": "bright_black"}


@dataclass
class DryRunReport:
    policy: dict[str, str]
    key_note: str | None
    results: list[Result] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    more: bool = False  # the input holds more records than --limit

    def routes(self) -> dict[str, str]:
        return {r.record.id: str(r.decision.route) for r in self.results}

    def as_dict(self) -> dict[str, Any]:
        out = []
        for r in self.results:
            segs = []
            for i, seg in enumerate(r.record.segments):
                segs.append({
                    "key": seg.key, "role": seg.role, "before": seg.text,
                    "after": r.transformed.texts[i] if r.transformed is not None else None,
                    "findings": [{"entity_type": f.entity_type, "start": f.start, "end": f.end, "score": f.score,
                                  "detector": f.detector} for f in r.findings if f.segment == i],
                })
            out.append({"id": r.record.id, "source": r.record.source, "line": r.record.line,
                        "route": str(r.decision.route), "rule": r.decision.rule, "reason": r.decision.reason,
                        "labels": list(r.decision.labels), "verification_passed": r.verification.passed,
                        "error": r.error, "segments": segs})
        return {"policy": self.policy, "key": self.key_note or "configured key", "records": out,
                "rejected": [{"source": x.source, "line": x.line, "reason": x.reason} for x in self.rejected],
                "more_records": self.more}


def keyring_for_test(loaded: LoadedPolicy) -> tuple[KeyRing, str | None]:
    """The configured key when there is one (so hashes and fake values match a real run); otherwise a random
    key for this dry run only, and a note saying so."""
    ring = load_keyring(loaded.policy.keys.key_file, required=False)
    if ring is not None:
        return ring, None
    return (KeyRing.from_bytes(secrets.token_bytes(32), "ephemeral"),
            "note: no key configured (PREPKIT_KEY_FILE / PREPKIT_KEY); using a random one-off key, so hashes and "
            "fake values differ from a real run")


def dry_run(loaded: LoadedPolicy, inputs: list[str | Path], *, limit: int = 20,
            keyring: KeyRing | None = None) -> DryRunReport:
    from prepkit.detect.corpus import for_policy
    from prepkit.driver import Driver
    from prepkit.engine import WorkerSpec, make_engine
    from prepkit.io.readers import read_inputs
    from prepkit.pipeline import input_options
    from prepkit.route import Router
    from prepkit.sinks.finetune import DatasetFilter

    note = None
    if keyring is None:
        keyring, note = keyring_for_test(loaded)
    report = DryRunReport(loaded.identity, note)
    records: list[Record] = []
    for item in read_inputs(list(inputs), input_options(loaded)):
        if isinstance(item, Rejected):
            report.rejected.append(item)
            continue
        if len(records) >= limit:
            report.more = True
            break
        records.append(item)
    if records:
        # The run's driver and routing, the fine-tune dataset filters included (a record they withhold is a
        # drop with the reason, as in a run); nothing is written.
        engine = make_engine("local", WorkerSpec.of(loaded, keyring))
        router = Router([DatasetFilter(loaded.policy.outputs.finetune)])
        try:
            driver = Driver(engine, router=router, recall=for_policy(loaded.policy))
            report.results = [r for r in driver.results(records) if isinstance(r, Result)]
        finally:
            engine.close()
    return report


def _highlight(text: str, spans: list[tuple[int, int, str]], colour: str, color: bool, tag: bool) -> str:
    """Mark spans in text: coloured on a terminal, ⟪…⟫ brackets (with the type when `tag`) otherwise."""
    out, pos = [], 0
    for start, end, etype in sorted(spans):
        if start < pos:
            continue
        out.append(text[pos:start])
        piece = text[start:end]
        if color:
            out.append(click.style(piece, fg=colour, bold=True))
        else:
            out.append(f"⟪{piece}⟫" if not tag else f"⟪{piece}|{etype}⟫")
        pos = end
    out.append(text[pos:])
    return "".join(out)


def render_text(report: DryRunReport, *, color: bool = False) -> str:
    p = report.policy
    lines = [f"Dry run of policy {p['name']} {p['version']} (sha256 {p['sha256'][:12]}); nothing is written.", ""]
    counts: dict[str, int] = {}
    for r in report.results:
        route = str(r.decision.route)
        counts[route] = counts.get(route, 0) + 1
        where = f"{r.record.source}" + (f":{r.record.line}" if r.record.line else "")
        head = f"── {r.record.id}" + (f" ({where})" if where != r.record.id else "")
        lines.append(click.style(head, bold=True) if color else head)
        types: dict[str, int] = {}
        for f in r.findings:
            types[f.entity_type] = types.get(f.entity_type, 0) + 1
        found = ", ".join(f"{t}×{n}" for t, n in sorted(types.items())) or "nothing"
        lines.append(f"   found: {found}")
        for i, seg in enumerate(r.record.segments):
            label = seg.role or seg.key
            spans = [(f.start, f.end, f.entity_type) for f in r.findings if f.segment == i]
            if not spans and r.transformed is not None and r.transformed.texts[i] == seg.text:
                lines.append(f"   {label}: {seg.text}")
                continue
            lines.append(f"   {label} before: {_highlight(seg.text, spans, 'red', color, True)}")
            if r.transformed is not None:
                out_spans = [(a.start, a.end, a.entity_type) for a in r.transformed.applied if a.segment == i]
                lines.append(f"   {label} after:  {_highlight(r.transformed.texts[i], out_spans, 'green', color, False)}")
        route = str(r.decision.route)
        rule = f"rule {r.decision.rule}" if r.decision.rule else "default"
        labels = f" [{', '.join(r.decision.labels)}]" if r.decision.labels else ""
        verdict = "passed" if r.verification.passed else "FAILED"
        route_txt = click.style(route, fg=_ROUTE_COLOUR.get(route), bold=True) if color else route
        lines.append(f"   verification: {verdict}")
        lines.append(f"   → {route_txt}{labels} ({rule}): {r.decision.reason}")
        lines.append("")
    for x in report.rejected:
        lines.append(f"rejected: {x.source}" + (f":{x.line}" if x.line else "") + f": {x.reason}")
    summary = ", ".join(f"{k} {v}" for k, v in sorted(counts.items())) or "no records"
    more = f" (first {len(report.results)}; more in the input, raise --limit)" if report.more else ""
    lines.append(f"{len(report.results)} records{more}: {summary}.")
    return "\n".join(lines) + "\n"
