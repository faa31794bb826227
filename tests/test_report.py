"""report.html: self-contained (no network references), charts present as valid inline SVG with one bar per
value, reproducible bytes, defensive about the summary's shape, escapes everything, masks example values."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from prepkit import svgchart
from prepkit.report import mask_spans, mask_value, render_report, write_report

NS = "{http://www.w3.org/2000/svg}"

SUMMARY: dict[str, Any] = {
    "run_id": "run-123",
    "policy": {"name": "corp-policy", "version": "2.1.0", "sha256": "cd" * 32},
    "inputs": ["data/tickets.jsonl", "data/hr.csv"],
    "records_in": 100,
    "routes": {"finetune": 60, "rag": 25, "quarantine": 8, "drop": 5, "rejected": 2},
    "conservation": {"ok": True, "records_in": 100, "accounted": 100},
    "entities_before": {"PERSON": 140, "EMAIL_ADDRESS": 70, "US_SSN": 3},
    "entities_after": {"PERSON": 2},
    "verification_failures": {"by_check": {"original_values": 2}, "by_entity": {"PERSON": 2}},
    "reasons": {"default: clean": 60, "HR data stays in the store": 25, "<script>alert(1)</script> rule": 8},
    "scores": {"PERSON": [0.85, 0.85, 0.6, 0.99], "EMAIL_ADDRESS": {"0.9-1.0": 70},
               "US_SSN": {"edges": [0.0, 0.5, 1.0], "counts": [1, 2]}},
    "operators": {"synthesize": 200, "redact": 13},
    "rejected_reasons": {"invalid JSON": 2},
    "duration_s": 2.5, "chars": 50000,
    "finetune": {"train": 57, "validation": 3}, "rag": {"records_written": 25, "backend": "sqlite"},
}
EXAMPLES = [{"record_id": "t-1", "route": "finetune", "before": "Hi, I'm J*** D**", "after": "Hi, I'm Ann Lee",
             "entities": ["PERSON"]}]


def _svgs(html: str) -> list[str]:
    return re.findall(r"<svg\b.*?</svg>", html, flags=re.S)


def assert_self_contained(html: str) -> None:
    assert not re.search(r"""(?:src|href|action|poster|data)\s*=\s*["']?\s*(?:https?:)?//""", html, re.I)
    assert not re.search(r"url\(\s*['\"]?\s*(?:https?:)?//", html, re.I)
    assert not re.search(r"<(?:script|link|iframe|object|embed|img)\b", html, re.I)
    assert "@import" not in html
    # every in-page reference (clip paths, glyphs) points at an id defined exactly once in the page
    ids = re.findall(r'\bid="([^"]+)"', html)
    for ref in set(re.findall(r"url\(#([^)]+)\)", html) + re.findall(r'href="#([^"]+)"', html)):
        assert ids.count(ref) == 1, ref


@pytest.mark.parametrize(
    ("value", "masked"),
    [("John Doe", "J*** D**"), ("jane.doe@example.com", "j***.d**@e******.c**"), ("415-555-0199", "4**-5**-0***"),
     ("José Ñúñez", "J*** Ñ****"), ("A", "A"), ("", ""), ("  O'Neil ", "  O'N*** ")],
)
def test_mask_value(value: str, masked: str) -> None:
    assert mask_value(value) == masked


def test_mask_spans() -> None:
    text = "Call Jane Doe at 555-0100 today"
    assert mask_spans(text, [(17, 25), (5, 13), (8, 12)]) == "Call J*** D** at 5**-0*** today"


def test_full_report_is_self_contained_with_charts(tmp_path: Path) -> None:
    path = write_report(tmp_path, SUMMARY, EXAMPLES)
    assert path == tmp_path / "report.html" and oct(path.stat().st_mode & 0o777) == "0o600"
    html = path.read_text()
    assert_self_contained(html)
    svgs = _svgs(html)
    assert len(svgs) == 5  # routes, entities, verification failures, reasons, scores
    for svg in svgs:
        root = ET.fromstring(svg)  # well-formed
        assert root.tag.endswith("svg") and root.get("role") == "img" and root.get("aria-label")
    for text in ("corp-policy", "2.1.0", "cd" * 32, "run-123", "every record accounted for",
                 "2 verification failure(s)", "Hi, I&#x27;m J*** D**", "Hi, I&#x27;m Ann Lee", "invalid JSON",
                 "records written", "data/hr.csv"):
        assert text in html, text
    # policy-defined text is escaped, never markup
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; rule" in html
    # routes table holds the counts and shares
    assert re.search(r"<td>quarantine</td><td>8</td><td>8\.0%</td>", html)


def test_missing_and_odd_summary_keys_do_not_break_the_report() -> None:
    html = render_report({}, [])
    assert_self_contained(html)
    assert "not recorded" in html and "No entities detected" in html and not _svgs(html)
    odd = {"routes": {"finetune": 3, "weird": 1}, "scores": {"PERSON": "n/a", "X": {"bad-bin": 1}},
           "conservation": {"ok": False, "records_in": 5, "accounted": 4}, "entities_before": {"PERSON": "many"},
           "inputs": "not-a-list", "interrupted": True}
    html = render_report(odd, [{"record_id": "<b>x</b>"}])
    assert "RECORDS UNACCOUNTED: 4 routed of 5 read" in html and "run interrupted" in html
    assert "weird" in html and "&lt;b&gt;x&lt;/b&gt;" in html
    assert len(_svgs(html)) == 1  # only the routes chart has usable data


def test_report_of_a_real_run(sample_run: Any) -> None:
    html = (Path(sample_run.out_dir) / "report.html").read_text()
    assert_self_contained(html)
    assert len(_svgs(html)) >= 3
    summary = sample_run.summary
    assert summary["policy"]["sha256"] in html
    for route, n in summary["routes"].items():
        assert re.search(rf"<td>{route}</td><td>{n}</td>", html), route


def _charts(html: str) -> dict[str, ET.Element]:
    """Each chart of a page parsed on its own (so each must be well-formed XML), keyed by its aria-label."""
    out = {}
    for svg in _svgs(html):
        root = ET.fromstring(svg)
        assert root.get("class") == "chart" and root.get("role") == "img"
        assert re.fullmatch(r"0 0 [0-9.]+ [0-9.]+", root.get("viewBox") or "")
        out[root.get("aria-label") or ""] = root
    return out


def _bars(root: ET.Element) -> list[ET.Element]:
    return root.findall(f".//{NS}rect[@class='bar']")


def _texts(root: ET.Element) -> list[str]:
    return [t.text or "" for t in root.iter(f"{NS}text")]


def test_each_chart_draws_one_bar_per_value_to_scale() -> None:
    charts = _charts(render_report(SUMMARY, EXAMPLES))
    routes = _bars(charts["Bar chart of records per route"])
    assert len(routes) == 5  # finetune, rag, quarantine, drop, rejected
    widths = [float(r.get("width") or 0) for r in routes]
    assert widths[0] / widths[1] == pytest.approx(60 / 25, rel=0.02)  # finetune 60 vs rag 25
    assert [r.get("fill") for r in routes[:2]] == ["#2e7d32", "#1565c0"]
    entities = charts["Grouped bar chart of entities by type before and after anonymization"]
    assert len(_bars(entities)) == 3 * 2  # three types, before and after each
    assert {"found in input", "still found after anonymization (verification)"} <= set(_texts(entities))
    assert len(_bars(charts["Bar charts of verification failures by check and by entity type"])) == 1 + 1
    assert len(_bars(charts["Bar chart of the most frequent routing reasons"])) == 3
    scores = charts["Histograms of detection confidence scores per entity type"]
    # PERSON's raw scores fill bins 0.6, 0.8 and 0.9; EMAIL one bin; US_SSN two
    assert len(_bars(scores)) == 3 + 1 + 2
    assert {"PERSON (n=4)", "EMAIL_ADDRESS (n=70)", "US_SSN (n=3)"} <= set(_texts(scores))


def test_hostile_labels_are_escaped_text_in_charts() -> None:
    hostile = '<script>alert("x")</script> & <img src=x onerror=alert(1)>'
    summary = {"routes": {"finetune": 1}, "reasons": {hostile: 3, "ctl\x00\x1b\ud800 chars": 1},
               "entities_before": {"</svg><script>": 2}, "verification_failures": {"by_entity": {"A&B": 1}}}
    html = render_report(summary, [])
    assert_self_contained(html)
    assert "<script" not in html and "<img" not in html
    charts = _charts(html)  # parses: no raw markup or XML-forbidden characters broke out
    reasons = _texts(charts["Bar chart of the most frequent routing reasons"])
    assert hostile in reasons  # the reader sees the text itself
    assert "ctl\ufffd\ufffd\ufffd chars" in reasons
    assert "</svg><script>" in _texts(charts["Grouped bar chart of entities by type before and after anonymization"])
    assert "A&B" in _texts(charts["Bar charts of verification failures by check and by entity type"])


def test_long_labels_are_cut_to_fit() -> None:
    reason = "Withheld because " + "very " * 40 + "long"
    entity = "X" * 80
    charts = _charts(render_report({"reasons": {reason: 2}, "entities_before": {entity: 1}}, []))
    shown = [t for t in _texts(charts["Bar chart of the most frequent routing reasons"]) if t.startswith("Withheld")]
    assert len(shown) == 1 and shown[0].endswith("...") and len(shown[0]) <= 60
    ent = [t for t in _texts(charts["Grouped bar chart of entities by type before and after anonymization"])
           if t.startswith("XXX")]
    assert len(ent) == 1 and ent[0].endswith("...") and len(ent[0]) <= 40


def _chart_bytes(seed: str) -> str:
    code = ("import json, re, sys; from prepkit.report import render_report; "
            "h = render_report(json.loads(sys.stdin.read()), []); "
            "print(''.join(re.findall(r'<svg\\b.*?</svg>', h, flags=re.S)))")
    env = {**os.environ, "PYTHONHASHSEED": seed}
    return subprocess.run([sys.executable, "-c", code], input=json.dumps(SUMMARY), capture_output=True, text=True,
                          check=True, env=env).stdout


def test_charts_are_byte_identical_across_runs() -> None:
    a, b = _chart_bytes("1"), _chart_bytes("2")  # different set/dict hashing between processes
    assert len(_svgs(a)) == 5 and a == b
    assert a == "".join(_svgs(render_report(json.loads(json.dumps(SUMMARY)), []))) + "\n"


def test_empty_zero_and_non_finite_data_draw_without_error() -> None:
    zero = {"routes": {"finetune": 0, "rag": 0}, "reasons": {"r": 0}, "entities_after": {"PERSON": 0},
            "verification_failures": {"by_check": {"original_values": 0}},
            "scores": {"PERSON": [float("nan"), 0.5], "X": {"edges": [1.5, 2.0, 3.0], "counts": [1, 5]},
                       "Y": {"0.9-1.0": float("inf")}},
            "entities_before": {"EMAIL_ADDRESS": float("inf")}}
    charts = _charts(render_report(zero, []))
    assert all(r.get("width") == "0" for r in _bars(charts["Bar chart of records per route"]))
    assert len(_bars(charts["Bar chart of records per route"])) == 2
    failures = charts["Bar charts of verification failures by check and by entity type"]
    assert len(_bars(failures)) == 1 and "none recorded" in _texts(failures)  # the by-entity side is empty
    # NaN score skipped; the X bins lie beyond the 0..1 axis, so only PERSON's 0.5 bin is drawn
    assert len(_bars(charts["Histograms of detection confidence scores per entity type"])) == 1
    for chart in (svgchart.bar_chart("t", [], [], "#000", "empty"),
                  svgchart.grouped_bar_chart("t", [], [], "empty"),
                  svgchart.histogram_grid("t", [], "#000", "empty"),
                  svgchart.bar_charts_side_by_side([], "empty")):
        root = ET.fromstring(chart)
        assert root.get("aria-label") == "empty" and not _bars(root)
