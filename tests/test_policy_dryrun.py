"""`prepkit policy test`: a dry run through the real pipeline that shows findings, before/after and the route,
and writes nothing."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from prepkit.cli.base import main

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "tests" / "golden" / "policy" / "review-v1.yaml"

RECORDS = [
    {"id": "r1", "text": "My SSN is 219-09-9999, call me back."},
    {"id": "r2", "text": "Card 4111 1111 1111 1111 was charged twice."},
    {"id": "r3", "doc_type": "auto_reply", "text": "Out of office until Monday."},
    {"id": "r4", "text": "How do I export a report?"},
]


def snapshot(d: Path) -> dict[str, float]:
    return {str(p): p.stat().st_mtime for p in d.rglob("*")}


@pytest.fixture()
def sample(tmp_path: Path) -> Path:
    f = tmp_path / "in" / "sample.jsonl"
    f.parent.mkdir()
    f.write_text("".join(json.dumps(r) + "\n" for r in RECORDS))
    return f


def test_dry_run_text_ephemeral_key_colour_and_nothing_written(sample: Path, tmp_path: Path,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PREPKIT_KEY", raising=False)
    monkeypatch.delenv("PREPKIT_KEY_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    before = snapshot(tmp_path)
    r = CliRunner().invoke(main, ["policy", "test", str(POLICY), "--input", str(sample), "--limit", "3", "--color"])
    assert r.exit_code == 0, r.output
    assert snapshot(tmp_path) == before  # no outputs, audit log or cache anywhere
    assert "random one-off key" in r.stderr
    out = r.stdout
    assert "\x1b[" in out  # highlighted
    plain = click_unstyle(out)
    assert "→ quarantine (rule ssn): Social security numbers need review." in plain
    assert "→ drop (rule bots): Automated messages carry no value." in plain
    assert "text after:  Card **** **** **** 1111 was charged twice." in plain
    assert "219-09-9999" in plain.split("text after")[0]  # the author sees their sample...
    assert "3 records (first 3; more in the input, raise --limit)" in plain
    assert "r4" not in plain


def test_dry_run_json_with_configured_key(sample: Path) -> None:
    assert os.environ.get("PREPKIT_KEY")  # set by conftest
    r = CliRunner().invoke(main, ["policy", "test", str(POLICY), "-i", str(sample), "--format", "json"])
    assert r.exit_code == 0, r.output
    assert "random one-off key" not in r.stderr
    doc = json.loads(r.stdout)
    routes = {x["id"]: (x["route"], x["rule"]) for x in doc["records"]}
    assert routes["r1"] == ("quarantine", "ssn") and routes["r3"] == ("drop", "bots")
    assert routes["r4"] == ("finetune", None)
    [seg] = [x for x in doc["records"] if x["id"] == "r2"][0]["segments"]
    assert [f["entity_type"] for f in seg["findings"]] == ["CREDIT_CARD"]
    assert seg["after"] == "Card **** **** **** 1111 was charged twice."
    assert doc["policy"]["name"] == "review" and len(doc["policy"]["sha256"]) == 64


def test_dry_run_bad_input_is_an_error() -> None:
    r = CliRunner().invoke(main, ["policy", "test", str(POLICY), "-i", "does/not/exist.jsonl"])
    assert r.exit_code == 2


def click_unstyle(s: str) -> str:
    import click

    return click.unstyle(s)
