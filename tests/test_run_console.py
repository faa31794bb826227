"""What `prepkit run` tells its operator: warnings when the fine-tune set is empty or every input was rejected,
`--fail-on` conditions for pipelines (exit 1), and a refusal to mix two policies' outputs in one OUT.
(The Ctrl-C warning is checked on a real interrupted run in tests/test_resume.py.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from prepkit.cli.base import main
from tests.conftest import DEFAULT_POLICY


def _run(*args: str):
    return CliRunner().invoke(main, ["run", "--workers", "1", *args])


@pytest.fixture(scope="module")
def inputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    d = tmp_path_factory.mktemp("in")
    short = d / "short.jsonl"
    short.write_text(json.dumps({"id": "s1", "text": "ok"}) + "\n", encoding="utf-8")
    bad = d / "bad.jsonl"
    bad.write_text("{not json\n[1, 2]\n", encoding="utf-8")
    return {"short": short, "bad": bad}


def test_empty_finetune_warns_and_fail_on_exits_1(inputs, tmp_path):
    r = _run("-p", str(DEFAULT_POLICY), "-i", str(inputs["short"]), "-o", str(tmp_path / "out"), "--json",
             "--fail-on", "empty-finetune,any-rejection", "--fail-on", "any-quarantine")
    assert r.exit_code == 1, r.output
    s = json.loads(r.stdout)
    assert s["routes"]["finetune"] == 0 and s["routes"]["drop"] == 1
    assert s["fail_on"] == ["empty-finetune"]  # nothing was rejected or quarantined
    assert "warning: the fine-tune set is empty: the 1 record(s) routed to it were all withheld by its filters " \
           "(too_short 1" in r.stderr
    assert "fail-on empty-finetune: the fine-tune set is empty" in r.stderr
    assert "fail-on any-rejection" not in r.stderr and "fail-on any-quarantine" not in r.stderr
    assert s["warnings"] and all(w in r.stderr for w in s["warnings"])
    # without --fail-on the same run is a success that says what happened
    r = _run("-p", str(DEFAULT_POLICY), "-i", str(inputs["short"]), "-o", str(tmp_path / "out2"))
    assert r.exit_code == 0 and "warning: the fine-tune set is empty" in r.stderr


def test_every_input_rejected_is_said_and_unknown_conditions_refused(inputs, tmp_path):
    r = _run("-p", str(DEFAULT_POLICY), "-i", str(inputs["bad"]), "-o", str(tmp_path / "out"))
    assert r.exit_code == 2, r.output  # rejected input is an error
    assert f"warning: every input record was rejected (2): nothing was processed; the reasons are in " \
           f"{tmp_path / 'out'}/rejected.jsonl" in r.stderr
    assert "fine-tune set is empty" not in r.stderr  # one cause, one warning
    r = _run("-p", str(DEFAULT_POLICY), "-i", str(inputs["bad"]), "-o", str(tmp_path / "o2"), "--fail-on", "typo")
    assert r.exit_code == 2 and "unknown condition typo" in r.stderr


def test_another_policy_into_the_same_out_is_refused_unless_allowed(inputs, tmp_path):
    out = tmp_path / "out"
    assert _run("-p", str(DEFAULT_POLICY), "-i", str(inputs["short"]), "-o", str(out)).exit_code == 0
    other = tmp_path / "other.yaml"
    other.write_text(DEFAULT_POLICY.read_text(encoding="utf-8").replace("min_chars: 20", "min_chars: 30", 1),
                     encoding="utf-8")
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    r = _run("-p", str(other), "-i", str(inputs["short"]), "-o", str(out))
    assert r.exit_code == 2
    assert "would mix records of both policies" in r.stderr and "--allow-policy-change" in r.stderr
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before  # nothing touched
    r = _run("-p", str(other), "-i", str(inputs["short"]), "-o", str(out), "--allow-policy-change")
    assert r.exit_code == 0, r.output
    # the same policy again needs no flag
    assert _run("-p", str(other), "-i", str(inputs["short"]), "-o", str(out)).exit_code == 0
