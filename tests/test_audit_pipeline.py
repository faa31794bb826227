"""End to end: planted values go through the real pipeline; none reaches the audit log, summary or report, and
the log the run wrote verifies against the checkpoint in its manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from prepkit.audit import load_checkpoint, verify
from prepkit.cli import main
from prepkit.keys import load_keyring

DEFAULT_POLICY = Path(__file__).resolve().parent.parent / "policies" / "default.yaml"

# Values a detector must catch (email, SSN, card, phone, a name in plain context) and the audit log must never hold.
PLANTED = {
    "Johanna Pemberton": "Hello, my name is Johanna Pemberton and I need help with my account.",
    "johanna.pemberton@globex-mail.com": "Please write to johanna.pemberton@globex-mail.com about the refund.",
    "078-05-1120": "For the tax form my social security number is 078-05-1120.",
    "4111 1111 1111 1111": "The card on file is 4111 1111 1111 1111, expiry 09/27.",
    "Bartholomew Quisling": "Bartholomew Quisling called twice about the delayed shipment.",
}


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from prepkit.runner import RunConfig, run

    base = tmp_path_factory.mktemp("planted")
    inp = base / "planted.jsonl"
    inp.write_text("".join(json.dumps({"id": f"p{i}", "text": t}) + "\n" for i, t in enumerate(PLANTED.values())))
    out = base / "out"
    run(RunConfig(policy=DEFAULT_POLICY, inputs=[inp], out=out))
    return out


def _fragments(value: str) -> list[str]:
    # the value itself and each distinctive part of it (a surname alone is still a raw value)
    parts = [value] + [p for p in value.replace("@", " ").replace(".", " ").split() if len(p) >= 5]
    return [p for p in parts if not p.isdigit() or len(p) >= 4]


def test_no_planted_value_reaches_audit_summary_or_report(planted_run: Path) -> None:
    audit_text = (planted_run / "audit.jsonl").read_text()
    entries = [json.loads(x) for x in audit_text.splitlines()]
    records = [e for e in entries if e["event"] == "record"]
    assert sorted(e["record_id"] for e in records) == [f"p{i}" for i in range(len(PLANTED))]
    # the pipeline really saw the values: every record has detected entities recorded as counts
    assert all(e["entities"] and all(isinstance(n, int) for n in e["entities"].values()) for e in records)
    summary = (planted_run / "summary.json").read_text()
    report = (planted_run / "report.html").read_text()
    for value in PLANTED:
        for frag in _fragments(value):
            assert frag not in audit_text, f"planted value fragment {frag!r} in audit.jsonl"
            assert frag not in summary, f"planted value fragment {frag!r} in summary.json"
            assert frag not in report, f"planted value fragment {frag!r} in report.html"


def test_run_log_verifies_against_its_manifest(planted_run: Path) -> None:
    log, manifest = planted_run / "audit.jsonl", planted_run / "manifest.json"
    cp = load_checkpoint(manifest)
    rep = verify(log, cp, load_keyring(required=False))
    assert rep.ok and rep.hmac_checked and rep.checkpoint == "matched", rep.message
    assert rep.entries == cp["count"] == len(PLANTED) + 2
    res = CliRunner().invoke(main, ["audit", "verify", str(log), "--checkpoint", str(manifest)])
    assert res.exit_code == 0, res.output
    # cut the run's tail (records + run_end): reported with the first missing sequence number
    lines = log.read_text().splitlines(keepends=True)
    log.write_text("".join(lines[:3]))
    try:
        res = CliRunner().invoke(main, ["audit", "verify", str(log), "--checkpoint", str(manifest)])
        assert res.exit_code == 1 and "truncated at entry 4" in res.output
    finally:
        log.write_text("".join(lines))
