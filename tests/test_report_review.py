"""What issue 18 asks of the run report: counts per routing rule, the quarantined records (ids, not text), red
badges for an empty fine-tuning set or unusual drop/reject shares, plain-language cells, varied examples; and
the compliance records written from a run."""

from __future__ import annotations

import json
import re
from pathlib import Path
from types import SimpleNamespace

from click.testing import CliRunner

from prepkit.cli import main
from prepkit.records import Decision, Finding, Record, Route, Segment, Transformed, Verification
from prepkit.report import ReportNotes, plain, render_report
from tests.conftest import DEFAULT_POLICY
from tests.webtools import SSN_VALUE, copy_run

BASE = {"run_id": "r1", "records_in": 10, "conservation": {"ok": True, "records_in": 10, "accounted": 10},
        "routes": {"finetune": 6, "rag": 2, "quarantine": 1, "drop": 1, "rejected": 0}}


def badges(html: str) -> list[str]:
    return re.findall(r'<span class="badge bad">([^<]*)</span>', html)


def test_red_badges_for_nothing_in_finetuning_and_unusual_drop_or_reject_shares():
    assert badges(render_report(BASE, [])) == []
    empty = {**BASE, "routes": {"finetune": 0, "rag": 8, "quarantine": 1, "drop": 1, "rejected": 0}}
    assert badges(render_report(empty, [])) == ["fine-tuning received nothing"]
    dropped = {**BASE, "routes": {"finetune": 5, "rag": 0, "quarantine": 0, "drop": 4, "rejected": 1}}
    assert badges(render_report(dropped, [])) == ["40% of records dropped (more than 30%)",
                                                  "10% of records rejected (more than 5%)"]


def test_counts_per_rule_and_quarantined_ids_not_reason_texts():
    s = {**BASE, "reasons": {"reason text A": 6, "reason text B": 4},
         "rules": {"(default route)": 6, "government-and-bank-ids": 1, "internal-knowledge": 2, "drop-auto": 1},
         "quarantined": {"total": 3, "listed": [{"record_id": "t-7", "rule": "government-and-bank-ids",
                                                 "reason": "Holds a government id"}]}}
    html = render_report(s, [])
    assert 'id="rules"' in html and "<td>government-and-bank-ids</td><td>1</td><td>10.0%</td>" in html
    assert "Top routing reasons" not in html and "reason text A" not in html
    assert 'id="quarantined"' in html and "<td>t-7</td>" in html and "2 more quarantined records" in html


def test_cells_hold_no_python_or_json_literals():
    s = {**BASE, "interrupted": False, "finetune": {"written": {"train": 30, "validation": 3}, "sync": False,
                                                    "withheld": {}, "chunks_per_second": None}}
    html = render_report(s, [])
    cells = re.findall(r"<td>([^<]*)</td>", html)
    for bad in ("False", "True", "None", "{", "}", "[", "]"):
        assert not any(bad in c for c in cells), (bad, [c for c in cells if bad in c])
    assert "<td>train 30, validation 3</td>" in html and "<td>no</td>" in html
    assert plain({"a_b": 1234, "c": [1.5, True]}) == "a b 1,234, c 1.5, yes"


def _result(rid: str, route: Route, types: list[str], source: str = "a.jsonl") -> SimpleNamespace:
    rec = Record(rid, source, "text", [Segment("text", "x" * 40)])
    return SimpleNamespace(record=rec, decision=Decision(route, "r", "rule-" + route.value), error=None,
                           findings=[Finding(0, 0, 1, t, 0.9) for t in types], verification=Verification(),
                           transformed=Transformed(["y" * 40]))


def test_examples_differ_in_route_entities_or_source():
    notes = ReportNotes()
    results = [_result(f"p{i}", Route.FINETUNE, ["PERSON"]) for i in range(10)]
    results += [_result("e1", Route.FINETUNE, ["EMAIL_ADDRESS"]), _result("r1", Route.RAG, ["PERSON"]),
                _result("c1", Route.FINETUNE, ["PERSON"], "b.csv")]
    for r in results:
        notes.observe(r, lambda res: {"record_id": res.record.id})
    ids = [e["record_id"] for e in notes.final_examples()]
    assert ids[:4] == ["p0", "e1", "r1", "c1"] and len(ids) == 6  # one of each kind first, then topped up
    assert notes.summary()["rules"] == {"rule-finetune": 12, "rule-rag": 1}


def test_a_run_reports_rules_and_quarantined_ids(quarantine_run: Path):
    s = json.loads((quarantine_run / "summary.json").read_text())
    assert s["rules"] == {"(default route)": 2, "government-and-bank-ids": 2}
    assert sorted(q["record_id"] for q in s["quarantined"]["listed"]) == ["t-iban", "t-ssn"]
    html = (quarantine_run / "report.html").read_text()
    assert "t-ssn" in html and SSN_VALUE not in html


def test_compliance_records(quarantine_run: Path, tmp_path: Path):
    out = copy_run(quarantine_run, tmp_path)
    evals = tmp_path / "EVAL.md"
    evals.write_text("# x\n\n## Overall\n\n| dataset | policy | P | R | F2 | any-PII recall | seconds |\n"
                     "|---|---|---:|---:|---:|---:|---:|\n| synth | vanilla | 0.4 | 0.4 | 0.4 | 0.7 | 1 |\n"
                     "| synth | default | 0.676 | 0.826 | 0.791 | 0.964 | 6 |\n\n## Other\n| a | b |\n")
    r = CliRunner().invoke(main, ["compliance", str(out), "--policy", str(DEFAULT_POLICY), "--eval", str(evals)])
    assert r.exit_code == 0, r.output
    names = sorted(p.name for p in (out / "compliance").iterdir())
    assert names == sorted(f"{n}.{e}" for n in ("gdpr-art30-record", "dpia-annex", "ai-act-art10-data-governance")
                           for e in ("md", "html"))
    art30 = (out / "compliance" / "gdpr-art30-record.md").read_text()
    assert "TO FILL IN" in art30 and "controller" in art30 and "| US_SSN | national identification numbers |" in art30
    assert "support reads internal" in art30
    dpia = (out / "compliance" / "dpia-annex.md").read_text()
    assert "| synth | default | 0.676 | 0.826 | 0.791 | 0.964 |" in dpia and "vanilla" not in dpia
    sheet = (out / "compliance" / "ai-act-art10-data-governance.html").read_text()
    assert "<strong>TO FILL IN:</strong>" in sheet and "finetune/README.md" in sheet
    for p in (out / "compliance").iterdir():
        text = p.read_text()
        assert SSN_VALUE not in text and "Gonzalez" not in text
    r = CliRunner().invoke(main, ["compliance", str(out), "--policy", str(DEFAULT_POLICY)])
    assert r.exit_code == 0  # without figures, the DPIA says how to get them
    assert "prepkit eval --gold" in (out / "compliance" / "dpia-annex.md").read_text() or \
        "Detection quality measured" in (out / "compliance" / "dpia-annex.md").read_text()
