"""report.html: one self-contained page a compliance reviewer can read offline.

No network, no CDN, no scripts: inline CSS, and charts as inline SVG written by `prepkit.svgchart` (plain rects
and text; a plotting library's import alone cost more than the rest of a cached re-run). The report is built from
the run's summary (counts, types, policy-defined reasons) and from examples whose `before` text the pipeline has
already masked with `mask_value`, so no raw value reaches it. Every piece of text, in tables and charts alike, is
HTML-escaped. Missing summary keys are shown as "not recorded" rather than failing the run.
"""

from __future__ import annotations

import datetime as dt
import html
import math
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from prepkit import __version__, svgchart

ROUTE_ORDER = ("finetune", "rag", "quarantine", "drop", "rejected")
ROUTE_COLORS = {"finetune": "#2e7d32", "rag": "#1565c0", "quarantine": "#ef6c00", "drop": "#757575",
                "rejected": "#c62828"}
BEFORE_COLOR, AFTER_COLOR = "#5c6bc0", "#d32f2f"
_WORD = re.compile(r"[^\W_]+")


def mask_value(s: str) -> str:
    """Keep the first character of each word, star the rest ("Jane Doe" -> "J*** D**"); punctuation stays, so
    a reviewer still sees the shape of an email or phone number but not the value."""
    return _WORD.sub(lambda m: m.group(0)[0] + "*" * (len(m.group(0)) - 1), s)


def mask_spans(text: str, spans: Sequence[tuple[int, int]]) -> str:
    """`text` with each (start, end) span passed through mask_value; overlapping spans are merged."""
    out, last = [], 0
    for start, end in sorted(spans):
        start = max(start, last)
        if end <= start:
            continue
        out += [text[last:start], mask_value(text[start:end])]
        last = end
    out.append(text[last:])
    return "".join(out)


# ------------------------------------------------------------------------------------------- run notes

MAX_EXAMPLES = 6
MAX_QUARANTINED_LISTED = 500
# A share of records dropped or rejected above these is unusual enough for a red badge.
UNUSUAL_DROP_SHARE = 0.30
UNUSUAL_REJECTED_SHARE = 0.05
DEFAULT_RULE = "(default route)"
FAILED_RULE = "(failed closed)"


def rule_key(rule: str | None, error: str | None) -> str:
    """The routing rule a count is kept under: its name, or what sent the record when no rule did."""
    return rule or (FAILED_RULE if error else DEFAULT_RULE)


class ReportNotes:
    """What the report shows beyond the summary's counts, gathered while a run routes records: counts per
    routing rule, the quarantined records (ids, rules and policy-written reasons; never text) and examples
    that differ from each other (another route, entity mix or source), not the first few of one kind."""

    def __init__(self) -> None:
        self.rules: dict[str, int] = {}
        self.quarantined: list[dict[str, Any]] = []
        self.quarantined_total = 0
        self.examples: list[dict[str, Any]] = []
        self._kinds: set[tuple[Any, ...]] = set()
        self._spare: list[dict[str, Any]] = []

    def observe(self, result: Any, make_example: Any) -> None:
        d = result.decision
        key = rule_key(d.rule, result.error)
        self.rules[key] = self.rules.get(key, 0) + 1
        if str(d.route) == "quarantine":
            self.quarantined_total += 1
            if len(self.quarantined) < MAX_QUARANTINED_LISTED:
                self.quarantined.append({"record_id": result.record.id, "rule": key, "reason": d.reason})
        # only verified records: a policy may route unverified ones to the store, but the report and the cache's
        # copy of its examples must never show text that may still hold raw values
        if not (result.findings and result.transformed is not None and result.verification.passed
                and result.error is None and str(d.route) in ("finetune", "rag")):
            return
        kind = (str(d.route), tuple(sorted({f.entity_type for f in result.findings})), result.record.source)
        if kind not in self._kinds and len(self.examples) < MAX_EXAMPLES:
            self._kinds.add(kind)
            self.examples.append(make_example(result))
        elif len(self._spare) < MAX_EXAMPLES:
            self._spare.append(make_example(result))

    def final_examples(self) -> list[dict[str, Any]]:
        """The varied examples, topped up with others when the corpus has fewer than MAX_EXAMPLES kinds."""
        return (self.examples + self._spare)[:MAX_EXAMPLES]

    def summary(self) -> dict[str, Any]:
        return {"rules": dict(sorted(self.rules.items(), key=lambda kv: (-kv[1], kv[0]))),
                "quarantined": {"total": self.quarantined_total, "listed": self.quarantined}}


# ------------------------------------------------------------------------------------------------- charts


def _routes_chart(routes: Mapping[str, int]) -> str:
    names = [r for r in ROUTE_ORDER if r in routes] + [r for r in routes if r not in ROUTE_ORDER]
    return svgchart.bar_chart("Records per route", names, [routes[n] for n in names],
                              [ROUTE_COLORS.get(n, "#888") for n in names], "Bar chart of records per route",
                              xlabel="records", width=560)


def _entities_chart(before: Mapping[str, int], after: Mapping[str, int]) -> str:
    types = sorted(set(before) | set(after), key=lambda t: (-before.get(t, 0), t))[:25]
    series = [svgchart.Series("found in input", [before.get(t, 0) for t in types], BEFORE_COLOR, label_zero=True),
              svgchart.Series("still found after anonymization (verification)", [after.get(t, 0) for t in types],
                              AFTER_COLOR)]
    return svgchart.grouped_bar_chart(
        "Entities by type: before and after", [_clip(t) for t in types], series,
        "Grouped bar chart of entities by type before and after anonymization", xlabel="entities", width=720)


def _failures_chart(by_check: Mapping[str, int], by_entity: Mapping[str, int]) -> str:
    panels = []
    for data, title in ((by_check, "by check"), (by_entity, "by entity type")):
        items = sorted(data.items(), key=lambda kv: (-kv[1], kv[0]))[:15]
        panels.append(svgchart.BarPanel(f"Verification failures {title}", [_clip(k) for k, _ in items],
                                        [v for _, v in items], AFTER_COLOR, xlabel="records"))
    return svgchart.bar_charts_side_by_side(
        panels, "Bar charts of verification failures by check and by entity type")


def _reasons_chart(reasons: Mapping[str, int], top: int = 10) -> str:
    items = sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:top]
    return svgchart.bar_chart(f"Top {len(items)} routing reasons", [_clip(k, 60) for k, _ in items],
                              [v for _, v in items], "#546e7a", "Bar chart of the most frequent routing reasons",
                              xlabel="records", width=900)


def _rules_chart(rules: Mapping[str, int]) -> str:
    items = sorted(rules.items(), key=lambda kv: (-kv[1], kv[0]))[:15]
    return svgchart.bar_chart("Records per routing rule", [_clip(k, 60) for k, _ in items], [v for _, v in items],
                              "#546e7a", "Bar chart of records per routing rule", xlabel="records", width=900)


def alarms(routes: Mapping[str, int]) -> list[str]:
    """Red-badge conditions a reviewer should not miss."""
    total = sum(routes.values())
    if not total:
        return []
    out = []
    if routes.get("finetune", 0) == 0:
        out.append("fine-tuning received nothing")
    for route, limit in (("drop", UNUSUAL_DROP_SHARE), ("rejected", UNUSUAL_REJECTED_SHARE)):
        share = routes.get(route, 0) / total
        if share > limit:
            out.append(f"{share:.0%} of records {'dropped' if route == 'drop' else 'rejected'} "
                       f"(more than {limit:.0%})")
    return out


def _clip(label: str, limit: int = 40) -> str:
    return label if len(label) <= limit else label[:limit - 3] + "..."


def _histogram(data: Any) -> tuple[list[float], list[float], list[float]] | None:
    """(left edges, widths, counts) from raw scores, {"0.8-0.9": n} bins, or {"edges": [...], "counts": [...]}."""
    if isinstance(data, list) and data and all(isinstance(x, int | float) for x in data):
        edges = [i / 10 for i in range(11)]
        counts = [0.0] * 10
        for x in data:
            if math.isfinite(x):
                counts[min(max(int(float(x) * 10), 0), 9)] += 1
        return edges[:-1], [0.1] * 10, counts
    if isinstance(data, dict) and isinstance(data.get("counts"), list):
        bounds = data.get("edges") or data.get("bins")
        tallies = data["counts"]
        if isinstance(bounds, list) and len(bounds) == len(tallies) + 1:
            return ([float(e) for e in bounds[:-1]],
                    [float(b) - float(a) for a, b in zip(bounds, bounds[1:], strict=False)],
                    [float(c) for c in tallies])
        return None
    if isinstance(data, dict) and data:
        lefts, widths, counts = [], [], []
        for k, v in data.items():
            m = re.fullmatch(r"\s*([0-9.]+)\s*[-–]\s*([0-9.]+)\s*", str(k))
            if not m or not isinstance(v, int | float):
                return None
            lo, hi = float(m.group(1)), float(m.group(2))
            lefts.append(lo)
            widths.append(hi - lo)
            counts.append(float(v))
        return lefts, widths, counts
    return None


def _scores_chart(scores: Mapping[str, Any]) -> str | None:
    hists = [(t, h) for t, d in sorted(scores.items())
             if (h := _histogram(d)) is not None and math.isfinite(sum(h[2])) and sum(h[2]) > 0]
    if not hists:
        return None
    panels = [svgchart.Histogram(f"{_clip(t, 24)} (n={int(sum(counts))})", lefts, widths, counts)
              for t, (lefts, widths, counts) in hists[:16]]
    return svgchart.histogram_grid("Detection score distribution per entity type", panels, BEFORE_COLOR,
                                   "Histograms of detection confidence scores per entity type")


# --------------------------------------------------------------------------------------------------- html


def _e(v: Any) -> str:
    return html.escape(str(v), quote=True)


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _ints(v: Any) -> dict[str, int]:
    # NaN or infinity (json.loads accepts both) would make int() raise and take the whole report down
    return {str(k): int(x) for k, x in _dict(v).items()
            if isinstance(x, int | float) and not isinstance(x, bool) and math.isfinite(x)}


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]], cls: str = "") -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{c if isinstance(c, _Raw) else _e(c if isinstance(c, str) else plain(c))}</td>"
                                    for c in r) + "</tr>"
                   for r in rows)
    return f'<table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


class _Raw(str):
    """Already-escaped HTML for a table cell."""


def plain(v: Any) -> str:
    """A value as a reader expects it, never a Python or JSON literal: yes/no, "none", "train 30, validation 3",
    a comma list, thousands separators."""
    if v is None:
        return "none"
    if isinstance(v, bool):
        return "yes" if v else "no"
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.3f}".rstrip("0").rstrip(".") if math.isfinite(v) else "not recorded"
    if isinstance(v, Mapping):
        return ", ".join(f"{k.replace('_', ' ')} {plain(x)}" for k, x in v.items()) or "none"
    if isinstance(v, list | tuple | set):
        return ", ".join(plain(x) for x in v) or "none"
    return str(v)


def _kv(d: Mapping[str, Any]) -> str:
    rows = [(str(k).replace("_", " "), v if isinstance(v, _Raw) else plain(v)) for k, v in d.items()]
    return _table(("field", "value"), rows, "kv")


def _section(title: str, body: str, sid: str) -> str:
    return f'<section id="{sid}"><h2>{_e(title)}</h2>{body}</section>'


def _none(text: str) -> str:
    return f'<p class="muted">{_e(text)}</p>'


CSS = """
:root{--fg:#1f2933;--muted:#616e7c;--line:#d9e2ec;--ok:#2e7d32;--bad:#c62828;--warn:#ef6c00}
*{box-sizing:border-box}
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:var(--fg);
 margin:0;background:#f5f7fa}
main{max-width:1100px;margin:0 auto;padding:24px 28px 48px;background:#fff}
h1{font-size:24px;margin:0 0 4px} h2{font-size:18px;margin:28px 0 10px;border-bottom:2px solid var(--line);
 padding-bottom:4px} h3{font-size:15px;margin:16px 0 6px}
.muted{color:var(--muted)} code,.mono{font-family:ui-monospace,"DejaVu Sans Mono",monospace;font-size:12px}
.cards{display:grid;grid-template-columns:repeat(auto-fit,minmax(150px,1fr));gap:10px;margin:16px 0}
.card{border:1px solid var(--line);border-radius:6px;padding:10px 12px}
.card .n{font-size:22px;font-weight:600} .card .l{color:var(--muted);font-size:12px}
.badge{display:inline-block;padding:2px 10px;border-radius:12px;color:#fff;font-weight:600;font-size:12px}
.badge.ok{background:var(--ok)} .badge.bad{background:var(--bad)} .badge.warn{background:var(--warn)}
table{border-collapse:collapse;margin:8px 0 12px;min-width:40%}
th,td{border-bottom:1px solid var(--line);padding:4px 10px;text-align:left;vertical-align:top}
th{background:#f0f4f8;font-weight:600} td.num,th.num{text-align:right}
table.kv td:first-child{color:var(--muted);white-space:nowrap}
.charts{display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start}
svg.chart{max-width:100%;height:auto}
.example{border:1px solid var(--line);border-radius:6px;margin:10px 0;overflow:hidden}
.example header{background:#f0f4f8;padding:6px 10px;font-size:12px}
.example .cols{display:grid;grid-template-columns:1fr 1fr}
.example pre{margin:0;padding:8px 10px;white-space:pre-wrap;word-break:break-word;font-size:12px}
.example .before{border-right:1px solid var(--line);background:#fffaf0}
.example .after{background:#f1f8f1}
.example .tag{font-size:11px;color:var(--muted);padding:4px 10px 0}
.after-bad{color:var(--bad);font-weight:600}
footer{margin-top:32px;color:var(--muted);font-size:12px}
@media print{body{background:#fff} main{padding:0}}
"""


def render_report(summary: Mapping[str, Any], examples: Sequence[Mapping[str, Any]]) -> str:
    s = dict(summary)
    routes = _ints(s.get("routes"))
    records_in = s.get("records_in", sum(routes.values()))
    policy = _dict(s.get("policy"))
    cons = _dict(s.get("conservation"))
    before, after = _ints(s.get("entities_before")), _ints(s.get("entities_after"))
    vf = _dict(s.get("verification_failures"))
    by_check, by_entity = _ints(vf.get("by_check")), _ints(vf.get("by_entity"))
    reasons, rejected = _ints(s.get("reasons")), _ints(s.get("rejected_reasons"))
    operators = _ints(s.get("operators"))
    scores = _dict(s.get("scores"))
    parts: list[str] = []

    # -- header and key figures
    if not cons:
        cons_badge = '<span class="badge warn">conservation not recorded</span>'
    elif cons.get("ok"):
        cons_badge = (f'<span class="badge ok">every record accounted for: {_e(cons.get("accounted"))} of '
                      f'{_e(cons.get("records_in"))}</span>')
    else:
        cons_badge = (f'<span class="badge bad">RECORDS UNACCOUNTED: {_e(cons.get("accounted"))} routed of '
                      f'{_e(cons.get("records_in"))} read</span>')
    fail_total = sum(by_check.values())
    fail_badge = ('<span class="badge ok">no verification failures</span>' if not fail_total else
                  f'<span class="badge bad">{fail_total} verification failure(s)</span>')
    if s.get("interrupted"):
        fail_badge += ' <span class="badge warn">run interrupted</span>'
    fail_badge += "".join(f' <span class="badge bad">{_e(b)}</span>' for b in alarms(routes))
    dur = s.get("duration_s")
    chars = s.get("chars")
    cards = [("records in", records_in)] + [(r, routes.get(r, 0)) for r in ROUTE_ORDER if r in routes]
    if isinstance(chars, int):
        cards.append(("characters", f"{chars:,}"))
    if isinstance(dur, int | float):
        cards.append(("duration", f"{dur:.1f} s"))
        if isinstance(chars, int) and dur > 0:
            cards.append(("characters/s", f"{chars / dur:,.0f}"))
    card_html = "".join(f'<div class="card"><div class="n">{_e(v)}</div><div class="l">{_e(k)}</div></div>'
                        for k, v in cards)
    raw_inputs = s.get("inputs")
    inputs: list[Any] = raw_inputs if isinstance(raw_inputs, list) else []
    inputs_txt = ", ".join(map(str, inputs[:20])) + (f" and {len(inputs) - 20} more" if len(inputs) > 20 else "")
    parts.append(
        f'<h1>prepkit run report</h1><p class="muted">run <code>{_e(s.get("run_id", "not recorded"))}</code> · '
        f'generated {_e(dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))} · prepkit {_e(__version__)}</p>'
        f"<p>{cons_badge} {fail_badge}</p><div class=\"cards\">{card_html}</div>"
    )
    parts.append(_section("Policy", _kv({
        "name": policy.get("name", "not recorded"), "version": policy.get("version", "not recorded"),
        "sha256": _Raw(f'<span class="mono">{_e(policy.get("sha256", "not recorded"))}</span>'),
        "inputs": inputs_txt or "not recorded",
    }), "policy"))

    # -- routes
    if routes:
        total = sum(routes.values()) or 1
        rows: list[tuple[Any, ...]] = [
            (r, routes[r], f"{100 * routes[r] / total:.1f}%")
                for r in [*[x for x in ROUTE_ORDER if x in routes], *[x for x in routes if x not in ROUTE_ORDER]]]
        body = f'<div class="charts">{_routes_chart(routes)}{_table(("route", "records", "share"), rows)}</div>'
        if cons.get("equation"):
            body += f'<p class="muted">{_e(cons["equation"])}</p>'
    else:
        body = _none("Route counts not recorded.")
    parts.append(_section("Records per route", body, "routes"))

    # -- entities
    if before or after:
        rows = [
            (t, before.get(t, 0),
                 _Raw(f'<span class="after-bad">{after[t]}</span>') if after.get(t) else "0")
                for t in sorted(set(before) | set(after), key=lambda t: (-before.get(t, 0), t))]
        body = (_entities_chart(before, after) +
                _table(("entity type", "found in input", "found after (verification re-scan)"), rows) +
                '<p class="muted">"After" counts what the verification re-scan still found in anonymized output; '
                "such records fail closed (quarantine or drop) and never reach the fine-tuning set or RAG store."
                "</p>")
    else:
        body = _none("No entities detected.")
    parts.append(_section("Entities by type", body, "entities"))

    # -- verification failures
    if by_check or by_entity:
        body = _failures_chart(by_check, by_entity) + _table(
            ("check", "failures"), sorted(by_check.items(), key=lambda kv: -kv[1]))
    else:
        body = _none("No verification failures: every anonymized record passed the re-scan.")
    parts.append(_section("Verification failures", body, "verification"))

    # -- routing rules (the policy's rules by name; reason texts only for a summary without them)
    rules = _ints(s.get("rules"))
    if rules:
        total_r = sum(rules.values()) or 1
        body = (_rules_chart(rules) +
                _table(("routing rule", "records", "share"),
                       [(k, v, f"{100 * v / total_r:.1f}%") for k, v in sorted(rules.items(), key=lambda kv: (-kv[1], kv[0]))]) +
                f'<p class="muted">{_e(DEFAULT_RULE)}: no rule matched; {_e(FAILED_RULE)}: a stage failed and the '
                "record was quarantined before the rules ran.</p>")
        parts.append(_section("Records per routing rule", body, "rules"))
    quarantined = _dict(s.get("quarantined"))
    listed = [q for q in quarantined.get("listed") or [] if isinstance(q, dict)]
    if quarantined:
        qtotal = quarantined.get("total", len(listed))
        body = (_table(("record id", "routing rule", "reason"),
                       [(q.get("record_id", "?"), q.get("rule", "?"), q.get("reason", "")) for q in listed])
                if listed else _none("No record was quarantined."))
        if isinstance(qtotal, int) and qtotal > len(listed):
            body += _none(f"{qtotal - len(listed):,} more quarantined records are not listed here.")
        if listed:
            body += ('<p class="muted">Ids only; the records themselves are encrypted in quarantine/. Review '
                     "them with <code>prepkit review OUT --policy POLICY</code>.</p>")
        parts.append(_section(f"Quarantined records ({plain(qtotal)})", body, "quarantined"))

    # -- reasons: a summary written before runs counted per rule has reason texts only
    body = ""
    if not rules and reasons:
        body = _reasons_chart(reasons) + _table(("routing reason", "records"),
                                                sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))[:25])
        if len(reasons) > 25:
            body += _none(f"{len(reasons) - 25} less frequent reasons not shown (see summary.json).")
    elif not rules:
        body = _none("Routing reasons not recorded.")
    if rejected:
        body += ("<h3>Rejected inputs</h3>" if body else "") + _table(
            ("reason", "inputs"), sorted(rejected.items(), key=lambda kv: -kv[1]))
    if body:
        parts.append(_section("Rejected inputs" if rules else "Top routing reasons", body, "reasons"))

    # -- operators and scores
    body = (_table(("operator", "applications"), sorted(operators.items(), key=lambda kv: -kv[1]))
            if operators else _none("No operators applied."))
    parts.append(_section("Operators applied", body, "operators"))
    chart = _scores_chart(scores)
    parts.append(_section("Score distributions", chart or _none("No detection scores recorded."), "scores"))

    # -- examples
    ex_html = []
    for ex in list(examples)[:12]:
        ents = ", ".join(map(str, ex.get("entities") or [])) if isinstance(ex.get("entities"), list) else ""
        ex_html.append(
            f'<div class="example"><header><code>{_e(ex.get("record_id", "?"))}</code> → '
            f'<b>{_e(ex.get("route", "?"))}</b>{" · " + _e(ents) if ents else ""}</header>'
            f'<div class="cols"><div class="before"><div class="tag">before (values masked)</div>'
            f'<pre>{_e(ex.get("before", ""))}</pre></div><div class="after"><div class="tag">after</div>'
            f'<pre>{_e(ex.get("after", ""))}</pre></div></div></div>')
    parts.append(_section("Examples: before → after", "".join(ex_html) or _none("No examples recorded."),
                          "examples"))

    # -- output details
    for key, title in (("finetune", "Fine-tuning dataset"), ("rag", "RAG store")):
        d = _dict(s.get(key))
        if d:
            parts.append(_section(title, _kv(d), key))
    errors = _ints(s.get("errors"))
    if errors:
        parts.append(_section("Records that failed closed", _table(("error", "records"), list(errors.items())),
                              "errors"))

    parts.append('<footer>Generated offline by prepkit. The "before" text of examples is masked (first letter '
                 "of each word kept); no raw detected value is written to this report or the audit log. Verify "
                 "the audit log with <code>prepkit audit verify audit.jsonl --checkpoint manifest.json</code>."
                 "</footer>")
    title = f"prepkit report {s.get('run_id', '')}".strip()
    return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width,initial-scale=1">'
            "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; "
            "img-src data:\">"
            f"<title>{_e(title)}</title><style>{CSS}</style></head><body><main>{''.join(parts)}</main></body></html>\n")


def write_report(out_dir: Path, summary: dict[str, Any], examples: list[dict[str, Any]]) -> Path:
    out = Path(out_dir) / "report.html"
    tmp = out.with_name(".report.html.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8", errors="replace") as f:  # a lone surrogate in a reason must not lose the report
        f.write(render_report(summary, examples))
    tmp.replace(out)  # a reader never sees half a report
    return out
