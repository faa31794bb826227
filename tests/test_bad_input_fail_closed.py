"""Fail closed: when a stage raises for a record — here a real policy regex that runs past its time limit on one
input — that record is quarantined with the error class (never its message), the rest of its batch routes
normally and the run goes on. Risky regexes are refused when the policy is loaded."""

from __future__ import annotations

import json
import time
from pathlib import Path

import pytest
import yaml

from prepkit.detect.safe_pattern import SafePatternRecognizer
from prepkit.keys import KeyRing
from prepkit.policy import PolicyError, load_policy
from prepkit.runner import RunConfig, run
from prepkit.safe_regex import RegexTimeout, risky
from prepkit.sinks.quarantine import read_quarantine
from tests.conftest import DEFAULT_POLICY, TEST_KEY

# Written in `regex`-module syntax (\p{L}), which the static check cannot parse, and backtracking exponentially on
# a long run of letters that does not end a line: only the run-time limit stops it.
SLOW = r"(\p{L}|\p{L}\p{L})+$"


def _policy_with(tmp_path: Path, regex: str) -> Path:
    doc = yaml.safe_load(DEFAULT_POLICY.read_text(encoding="utf-8"))
    doc["detection"]["entities"].append("LETTER_RUN")
    doc["detection"]["recognizers"].append(
        {"name": "letter_runs", "entity_type": "LETTER_RUN", "patterns": [{"name": "run", "regex": regex,
                                                                          "score": 0.9}]})
    p = tmp_path / "policy.yaml"
    p.write_text(yaml.safe_dump(doc, sort_keys=False), encoding="utf-8")
    return p


def test_regex_time_limit_quarantines_only_the_record_that_hit_it(tmp_path, monkeypatch):
    monkeypatch.setenv("PREPKIT_REGEX_TIMEOUT", "0.2")
    policy = _policy_with(tmp_path, SLOW)
    inp = tmp_path / "in.jsonl"
    evil = "Zq" * 40 + "!"
    rows = [{"id": "ok1", "messages": [{"role": "user", "content": "The dashboard export works again."}]},
            {"id": "slow", "messages": [{"role": "user", "content": f"Note {evil} end"}]},
            {"id": "ok2", "messages": [{"role": "user", "content": "Thanks, the invoice arrived on time."}]}]
    inp.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    t = time.monotonic()
    outcome = run(RunConfig(policy=policy, inputs=[inp], out=tmp_path / "out", cache=False))
    assert time.monotonic() - t < 60
    s = outcome.summary
    assert outcome.exit_code == 0 and s["conservation"]["ok"] and s["records_in"] == 3
    assert s["errors"] == {"detect:RegexTimeout": 1}
    q = [e.data for e in read_quarantine(outcome.out_dir, KeyRing.from_bytes(bytes.fromhex(TEST_KEY)))]
    [slow] = [r for r in q if r["id"] == "slow"]
    assert slow["error"] == "detect:RegexTimeout" and "fail closed" in slow["reason"]
    assert s["routes"]["finetune"] == 2  # the rest of the batch was retried alone and routed normally
    for name in ("audit.jsonl", "summary.json"):
        assert evil not in (outcome.out_dir / name).read_text(encoding="utf-8")


def test_recognizer_raises_instead_of_skipping_the_pattern():
    rec = SafePatternRecognizer(supported_entity="X", name="r", patterns=[__import__("presidio_analyzer").Pattern(
        "p", SLOW, 0.9)], timeout=0.05)
    assert rec.analyze("Alpha beta", ["X"])  # quick on ordinary text: "beta" at the end of the text
    t = time.monotonic()
    with pytest.raises(RegexTimeout) as e:
        rec.analyze("Zq" * 40 + "!", ["X"])
    assert time.monotonic() - t < 5
    assert "Zq" not in str(e.value)  # names the pattern, never the text


@pytest.mark.parametrize("regex", [r"(a+)+b", r"(\w+\s?)*$", r"(a|aa)+$", r"(?:x|x?)+y"])
def test_risky_policy_regex_is_refused_at_load_with_its_line(tmp_path, regex):
    with pytest.raises(PolicyError) as e:
        load_policy(_policy_with(tmp_path, regex))
    msg = str(e.value)
    assert "regex refused" in msg and "patterns[0].regex" in msg and "policy.yaml:" in msg


@pytest.mark.parametrize("regex", [r"\bEMP-\d{6}\b", r"(?:\d{3}[- ]?)+", r"\b[A-Z]{2}\d{6,8}\b", r"(\d|-)+"])
def test_ordinary_patterns_pass_the_static_check(regex):
    assert risky(regex) is None


def test_invalid_regex_is_a_policy_error(tmp_path):
    with pytest.raises(PolicyError, match="not a valid regular expression"):
        load_policy(_policy_with(tmp_path, r"(unclosed"))
