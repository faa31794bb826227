"""report.html: self-contained (no network references), charts present as valid inline SVG, defensive about the
summary's shape, escapes everything, masks example values."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from prepkit.report import mask_spans, mask_value, render_report, write_report

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
                 "records_written", "data/hr.csv"):
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
