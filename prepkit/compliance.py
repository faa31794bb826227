"""Compliance records from a run: `OUT/compliance/` as Markdown and HTML.

- a GDPR Art. 30 record of processing activities,
- a DPIA annex (Art. 35(7)): risks and the measures this run took, with detection figures measured by
  `prepkit eval` (bench/EVAL.md) when given,
- an EU AI Act Art. 10(2) data-governance sheet for the fine-tuning set.

Each is built from the policy, summary.json, the fine-tune manifest and the audit log, and says plainly what a
person must still fill in: prepkit knows what it did to the data, not why the organisation processes it, who the
controller is, or how long it keeps it. The articles are paraphrased; a reviewer checks against the text of the
regulation. No record text, no raw value and no key material goes into these files (counts, types, ids of rules).
"""

from __future__ import annotations

import datetime as dt
import html
import json
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prepkit.policy import LoadedPolicy
from prepkit.report import plain
from prepkit.sinks.files import AtomicFile, ensure_private_dir

FILL = "TO FILL IN"

# Entity types → GDPR data categories (Art. 4(1) identifiers; Art. 9 special categories where a type is one).
CATEGORIES = {
    "PERSON": "names", "EMAIL_ADDRESS": "contact details (e-mail)", "PHONE_NUMBER": "contact details (phone)",
    "LOCATION": "location data and addresses", "ADDRESS": "location data and addresses",
    "DATE_TIME": "dates relating to a person", "DATE_OF_BIRTH": "dates of birth", "AGE": "age",
    "US_SSN": "national identification numbers", "US_PASSPORT": "passport numbers",
    "US_DRIVER_LICENSE": "driving licence numbers", "NRP": "nationality, religious or political group (Art. 9)",
    "CREDIT_CARD": "payment card numbers", "IBAN_CODE": "bank account numbers", "US_BANK_NUMBER": "bank account numbers",
    "IP_ADDRESS": "online identifiers (IP addresses)", "URL": "online identifiers (URLs)",
    "MEDICAL_LICENSE": "licence numbers", "ORGANIZATION": "employer and organisation names",
    "MEDICAL_RECORD_NUMBER": "health data: medical record numbers (Art. 9)",
}


@dataclass
class Doc:
    """A document as blocks, rendered to Markdown and HTML alike."""

    title: str
    blocks: list[tuple[Any, ...]] = field(default_factory=list)

    def h(self, text: str) -> None:
        self.blocks.append(("h", text))

    def p(self, text: str) -> None:
        self.blocks.append(("p", text))

    def fill(self, text: str) -> None:
        self.blocks.append(("fill", text))

    def items(self, items: list[str]) -> None:
        self.blocks.append(("ul", items))

    def table(self, head: list[str], rows: list[list[Any]]) -> None:
        self.blocks.append(("table", head, rows))

    def markdown(self) -> str:
        out = [f"# {self.title}", ""]
        for b in self.blocks:
            if b[0] == "h":
                out += [f"## {b[1]}", ""]
            elif b[0] == "p":
                out += [b[1], ""]
            elif b[0] == "fill":
                out += [f"> **{FILL}:** {b[1]}", ""]
            elif b[0] == "ul":
                out += [f"- {i}" for i in b[1]] + [""]
            else:
                out += ["| " + " | ".join(b[1]) + " |", "|" + "---|" * len(b[1])]
                out += ["| " + " | ".join(_md_cell(c) for c in r) + " |" for r in b[2]] + [""]
        return "\n".join(out).rstrip() + "\n"

    def html(self) -> str:
        e = html.escape
        out = [f"<h1>{e(self.title)}</h1>"]
        for b in self.blocks:
            if b[0] == "h":
                out.append(f"<h2>{e(b[1])}</h2>")
            elif b[0] == "p":
                out.append(f"<p>{e(b[1])}</p>")
            elif b[0] == "fill":
                out.append(f'<p class="fill"><strong>{FILL}:</strong> {e(b[1])}</p>')
            elif b[0] == "ul":
                out.append("<ul>" + "".join(f"<li>{e(i)}</li>" for i in b[1]) + "</ul>")
            else:
                out.append("<table><thead><tr>" + "".join(f"<th>{e(h)}</th>" for h in b[1]) + "</tr></thead><tbody>"
                           + "".join("<tr>" + "".join(f"<td>{e(_cell(c))}</td>" for c in r) + "</tr>" for r in b[2])
                           + "</tbody></table>")
        return ('<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
                "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">"
                f"<title>{e(self.title)}</title><style>{CSS}</style></head><body><main>{''.join(out)}</main></body></html>\n")


CSS = ("body{font:15px/1.5 system-ui,sans-serif;color:#1f2933;background:#f5f7fa;margin:0}"
       "main{max-width:960px;margin:0 auto;padding:24px 28px;background:#fff}"
       "h1{font-size:22px}h2{font-size:17px;border-bottom:2px solid #d9e2ec;padding-bottom:3px;margin-top:26px}"
       "table{border-collapse:collapse;margin:8px 0}th,td{border-bottom:1px solid #d9e2ec;padding:4px 10px;"
       "text-align:left;vertical-align:top}th{background:#f0f4f8}"
       ".fill{background:#fff4e5;border-left:4px solid #ef6c00;padding:6px 10px}")


def _cell(c: Any) -> str:
    return c if isinstance(c, str) else plain(c)


def _md_cell(c: Any) -> str:
    return _cell(c).replace("|", "\\|").replace("\n", " ")


# ------------------------------------------------------------------------------------------------- inputs


def _json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    return data if isinstance(data, dict) else {}


def _audit_events(out: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    path = out / "audit.jsonl"
    if path.is_file():
        with path.open(encoding="utf-8") as f:
            for line in f:
                try:
                    counts[str(json.loads(line).get("event"))] += 1
                except ValueError:
                    continue
    return counts


def eval_figures(path: Path | None, policy_name: str) -> list[list[str]]:
    """Rows (data set, policy, P, R, F2, any-PII recall) of the first "Overall" table of an EVAL.md, for this
    policy when it was measured, else every row; [] when there is no such file or table. Columns are found by
    their header, so added columns do not matter."""
    if path is None or not path.is_file():
        return []
    want = {"set": ("set", "dataset"), "policy": ("policy",), "P": ("p",), "R": ("r",), "F2": ("f2",),
            "any": ("any-pii r", "any-pii recall")}
    rows: list[list[str]] = []
    cols: dict[str, int] | None = None
    in_overall = False
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("## "):
            if rows:
                break
            in_overall = line[3:].strip().lower().startswith("overall")
            cols = None
            continue
        if not in_overall or not line.startswith("|") or re.match(r"^\|\s*:?-", line):
            continue
        cells = [c.strip().strip("*") for c in line.strip().strip("|").split("|")]
        if cols is None:
            low = [c.lower() for c in cells]
            found = {k: next((low.index(n) for n in names if n in low), -1) for k, names in want.items()}
            cols = found if min(found.values()) >= 0 else None
            continue
        if len(cells) > max(cols.values()):
            rows.append([cells[cols[k]] for k in want])
    mine = [r for r in rows if r[1] == policy_name]
    return mine or rows


# ------------------------------------------------------------------------------------------------ documents


def _entity_rows(loaded: LoadedPolicy, summary: dict[str, Any]) -> list[list[Any]]:
    p = loaded.policy
    found = summary.get("entities_before") or {}
    return [[t, CATEGORIES.get(t, "other identifiers"), found.get(t, 0), p.action_for(t).operator]
            for t in sorted(set(p.detection.entities) | set(found))]


def art30(loaded: LoadedPolicy, summary: dict[str, Any], out: Path) -> Doc:
    p = loaded.policy
    routes = summary.get("routes") or {}
    d = Doc(f"Record of processing activities (GDPR Art. 30): {p.name}")
    d.p(f"Generated by prepkit from run {summary.get('run_id', 'not recorded')} of policy {p.name} "
        f"version {p.policy_version} (sha256 {loaded.sha256}) on {dt.date.today().isoformat()}. "
        "Art. 30(1) asks a controller to record the items below; prepkit fills what the run shows.")
    d.h("(a) Controller")
    d.fill("name and contact details of the controller, any joint controller or representative, and of the data "
           f"protection officer. The policy names its owner as: {p.owner or 'nobody (policy.owner is empty)'}.")
    d.h("(b) Purposes of the processing")
    d.p("Preparing enterprise text for use with language models: anonymising or pseudonymising personal data, "
        "then routing each record to a fine-tuning data set, an encrypted retrieval (RAG) store, human review "
        "(quarantine) or deletion, as the policy says." + (f" Policy description: {p.description}" if p.description else ""))
    d.fill("the business purpose of the model or application these data feed, and the lawful basis (Art. 6, and "
           "Art. 9(2) for special categories) for each purpose.")
    d.h("(c) Categories of data subjects and of personal data")
    d.fill("categories of data subjects (for example customers, employees, applicants) whose text is in the input.")
    d.p("Categories of personal data, from the entity types the policy detects and what this run found:")
    d.table(["entity type", "category", "found in this run", "operator applied"], _entity_rows(loaded, summary))
    d.h("(d) Recipients")
    d.table(["route", "records", "who receives it"], [
        ["finetune", routes.get("finetune", 0), "model training (anonymised, verified text only)"],
        ["rag", routes.get("rag", 0), "applications reading the encrypted store, by role: " + (
            "; ".join(f"{r} reads {', '.join(ls) or 'nothing'}" for r, ls in sorted(p.access.roles.items()))
            or "no role granted")],
        ["quarantine", routes.get("quarantine", 0), "reviewers with the key (prepkit review)"],
        ["drop", routes.get("drop", 0), "nobody (not written)"],
        ["rejected", routes.get("rejected", 0), "nobody (unreadable input; location and reason only)"],
    ])
    d.fill("the people, teams and processors behind each route and role, and any transfer to a third country with "
           "its safeguards (Art. 30(1)(e)).")
    d.h("(f) Time limits for erasure")
    d.p("prepkit supports erasure of a data subject on request (`prepkit forget`, Art. 17) from the RAG store and "
        "the fine-tuning set; the run itself sets no retention period.")
    d.fill("how long each output (fine-tuning set, RAG store, quarantine, audit log) is kept.")
    d.h("(g) Technical and organisational security measures (Art. 32)")
    d.items(_measures(loaded))
    d.fill("organisational measures: who holds the master key and the audit signing key, access reviews, training.")
    return d


def _measures(loaded: LoadedPolicy) -> list[str]:
    p = loaded.policy
    v = p.verification
    checks = [n for n, on in (("original values", v.original_values), ("pattern re-scan", v.pattern_rescan),
                              ("full re-scan", v.full_rescan)) if on]
    return [
        "Detection of personal data with Presidio and spaCy, per the policy's entity types and thresholds.",
        "Anonymisation or pseudonymisation (Art. 4(5)) with keyed operators; keys derived from one master key "
        "kept outside the policy.",
        f"Verification of every anonymised record before it may reach fine-tuning: {', '.join(checks) or 'none'}; "
        "a record that fails is quarantined (fail closed).",
        "Encryption at rest: the RAG store, its subject index, the result cache and the quarantine.",
        "Role-based access to the RAG store by label; every query audited (`prepkit serve` holds the key, "
        "applications hold only a role token).",
        "A hash-chained, HMAC'd audit log of every decision, with signed checkpoints when a signing key is set.",
        "Human review of quarantined records, each decision audited with the reviewer's name.",
        "Data minimisation (Art. 5(1)(c)): automated and duplicate records dropped per the policy.",
    ]


def dpia(loaded: LoadedPolicy, summary: dict[str, Any], events: Counter[str], figures: list[list[str]],
         eval_path: Path | None) -> Doc:
    p = loaded.policy
    routes = summary.get("routes") or {}
    vf = (summary.get("verification_failures") or {}).get("by_check") or {}
    d = Doc(f"DPIA annex: {p.name}")
    d.p(f"Annex to the data protection impact assessment (GDPR Art. 35) for run {summary.get('run_id', '?')}: "
        "the processing as performed, the risks prepkit addresses and the measures taken, with figures.")
    d.h("Processing performed")
    d.table(["figure", "value"], [
        ["records read", summary.get("records_in", 0)],
        *[[f"records routed to {r}", routes.get(r, 0)] for r in ("finetune", "rag", "quarantine", "drop", "rejected")],
        ["every record accounted for", (summary.get("conservation") or {}).get("ok")],
        ["verification failures (records quarantined by them)", sum(vf.values())],
        ["quarantine decisions by reviewers (audit log)", events.get("review_decision", 0)],
        ["RAG queries (audit log)", events.get("rag_query", 0)],
        ["erasure requests carried out (audit log)", events.get("erasure", 0)],
    ])
    d.h("Detection quality measured")
    if figures:
        d.p(f"From {eval_path} (prepkit eval on labelled data sets; P precision, R recall, F2 weighs recall, "
            "any-PII recall counts a gold span found under any type):")
        d.table(["dataset", "policy", "P", "R", "F2", "any-PII recall"], figures)
        d.p("Recall below 1.0 means some personal data goes undetected: the verification re-scan, quarantine "
            "and the access controls of the RAG store are the measures against that residual risk.")
    else:
        d.fill("detection figures: run `prepkit eval --gold FILE --policy POLICY` on labelled data like yours "
               "and give its report (bench/EVAL.md) with --eval.")
    d.h("Risks and measures")
    d.table(["risk to data subjects", "measure in this run"], [
        ["personal data memorised by a fine-tuned model", "only anonymised text that passed verification reaches "
         f"fine-tuning ({routes.get('finetune', 0)} records); failures are quarantined"],
        ["undetected personal data (missed by detection)", "verification re-scan; reviewers; detection figures above"],
        ["unauthorised reading of retrieved knowledge", "encrypted store, label grants per role, audited queries"],
        ["re-identification from pseudonyms", "keyed surrogates; keys kept apart from the data; reidentify only "
         "with the key"],
        ["exposure of raw text held for review", "quarantine encrypted at rest; decisions delete it"],
        ["inability to honour erasure requests", "prepkit forget over the store and the fine-tuning set"],
        ["undetected tampering with the record of decisions", "hash-chained, HMAC'd audit log; signed checkpoints"],
    ])
    d.fill("the likelihood and severity of each risk for your data subjects, the necessity and proportionality "
           "assessment (Art. 35(7)(b)), the views of data subjects or the DPO, and the residual-risk sign-off.")
    return d


def ai_act(loaded: LoadedPolicy, summary: dict[str, Any], ft: dict[str, Any], out: Path) -> Doc:
    p = loaded.policy
    spec = p.outputs.finetune
    card = ft.get("card") or {}
    splits = {k: (v or {}).get("rows", 0) for k, v in (ft.get("splits") or {}).items()}
    d = Doc(f"Data governance sheet (EU AI Act Art. 10(2)): fine-tuning set of {p.name}")
    d.p("For training, validation and testing data of a high-risk AI system, Art. 10(2) asks for data governance "
        "and management practices covering the points below. prepkit documents the preparation it did; the "
        "provider of the system fills in the rest.")
    d.h("(a) Design choices")
    d.p(f"Format {spec.format}; split validation {spec.split.validation}, test {spec.split.test}, seed "
        f"{spec.split.seed}; exact dedupe {plain(spec.dedupe.exact)}, near dedupe {plain(spec.dedupe.near)}; "
        f"records shorter than {spec.min_chars} characters withheld.")
    d.fill("why these data and this format suit the intended purpose of the system.")
    d.h("(b) Data collection and origin")
    d.p("Inputs of the run:")
    d.items([str(i) for i in summary.get("inputs") or []] or ["not recorded"])
    d.fill("where each input comes from, how it was collected and, for personal data, the original purpose of "
           "its collection.")
    d.h("(c) Preparation operations")
    d.items([f"personal data detected and transformed (operators applied: {plain(summary.get('operators') or {})})",
             "each record verified after anonymisation; failures held for human review",
             f"routing by {len(p.routing.rules)} policy rule(s); only verified records may reach fine-tuning",
             f"fine-tune filters withheld: {plain((summary.get('finetune') or {}).get('withheld') or {})}",
             f"rows written per split: {plain(splits or (summary.get('finetune') or {}).get('written') or {})}"
             + (f"; {card.get('reviewed_in')} added by reviewers" if card.get("reviewed_in") else "")])
    d.h("(d) Assumptions")
    d.fill("what the data are supposed to measure and represent.")
    d.h("(e) Availability, quantity and suitability")
    d.p(f"{summary.get('records_in', 0)} records read, {(summary.get('routes') or {}).get('finetune', 0)} routed to "
        "fine-tuning.")
    d.fill("whether that quantity and coverage suit the purpose.")
    d.h("(f, g) Possible biases and measures")
    d.p("Anonymisation changes names, places and dates; surrogates follow the policy's locale "
        f"({p.locale}), which can shift the demographic signal of the text.")
    d.fill("the examination for biases affecting health, safety or fundamental rights, and the measures taken.")
    d.h("(h) Data gaps and shortcomings")
    d.p(f"Records not in the set: {(summary.get('routes') or {}).get('quarantine', 0)} quarantined, "
        f"{(summary.get('routes') or {}).get('drop', 0)} dropped, {(summary.get('routes') or {}).get('rejected', 0)} "
        "unreadable.")
    d.fill("gaps that keep the set from serving its purpose, and how they will be closed.")
    d.h("Dataset card")
    d.p("The fine-tuning set's card is finetune/README.md beside its manifest (finetune/manifest.json).")
    return d


def write_compliance(out: Path, loaded: LoadedPolicy, *, eval_path: Path | None = None) -> list[Path]:
    """Write the three records to OUT/compliance/ as .md and .html; returns the files."""
    summary = _json(out / "summary.json")
    if not summary:
        raise ValueError(f"{out}: no summary.json (is it the output folder of `prepkit run`?)")
    ft = _json(out / "finetune" / "manifest.json")
    figures = eval_figures(eval_path, Path(loaded.path).stem)
    docs = {"gdpr-art30-record": art30(loaded, summary, out),
            "dpia-annex": dpia(loaded, summary, _audit_events(out), figures, eval_path),
            "ai-act-art10-data-governance": ai_act(loaded, summary, ft, out)}
    folder = ensure_private_dir(out / "compliance")
    written = []
    for name, doc in docs.items():
        for ext, text in (("md", doc.markdown()), ("html", doc.html())):
            f = AtomicFile(folder / f"{name}.{ext}")
            f.write(text)
            written.append(f.commit())
    return written
