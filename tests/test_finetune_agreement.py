"""What `policy show` and `policy test` say about fine-tuning is what `prepkit run` does: non-chat records routed to
fine-tuning are written by the default format, and a record a fine-tune filter withholds is shown as the drop the run
records."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
import pytest
from click.testing import CliRunner

from prepkit.cli.base import main

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_POLICY = ROOT / "policies" / "default.yaml"

TICKETS = [
    {"ticket": f"T-{min(i, 2)}", "subject": subject, "body": body}  # rows 2 and 3 are the same ticket twice
    for i, (subject, body) in enumerate([
        ("Export stuck", "The nightly export has been stuck in the queue since the upgrade to version 4.2."),
        ("Dashboard empty", "After clearing the browser cache the dashboard widgets load again as expected."),
        ("Token rotation", "Rotating an API token invalidates the old token after a grace period of one hour."),
        ("Token rotation", "Rotating an API token invalidates the old token after a grace period of one hour."),
        ("Short", "ok"),
    ])
]


@pytest.fixture(scope="module")
def tickets(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("in") / "tickets.parquet"
    pl.DataFrame(TICKETS).write_parquet(path)
    return path


def _policy_with(tmp_path: Path, fmt: str) -> Path:
    text = DEFAULT_POLICY.read_text(encoding="utf-8")
    text = text.replace("    format: auto", f"    format: {fmt}", 1)
    assert f"format: {fmt}" in text
    path = tmp_path / f"policy-{fmt}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def _dry_routes(policy: Path, tickets: Path) -> dict[str, tuple[str, str | None]]:
    r = CliRunner().invoke(main, ["policy", "test", str(policy), "--input", str(tickets), "--format", "json"])
    assert r.exit_code == 0, r.output
    return {x["id"]: (x["route"], x["rule"]) for x in json.loads(r.stdout)["records"]}


def _run_routes(policy: Path, tickets: Path, out: Path) -> tuple[dict[str, tuple[str, str | None]], dict]:
    r = CliRunner().invoke(main, ["run", "--policy", str(policy), "-i", str(tickets), "--out", str(out),
                                  "--workers", "1", "--json"])
    assert r.exit_code == 0, r.output
    summary = json.loads(r.stdout)
    audit = [json.loads(x) for x in (out / "audit.jsonl").read_text(encoding="utf-8").splitlines()]
    routes = {e["record_id"]: (e["route"], e.get("rule")) for e in audit if e.get("event") == "record"}
    return routes, summary


def test_table_rows_reach_the_default_finetune_set_and_policy_test_agrees(tickets, tmp_path):
    routes, summary = _run_routes(DEFAULT_POLICY, tickets, tmp_path / "out")
    assert summary["routes"]["finetune"] >= 2
    assert "not_chat" not in summary["finetune"]["withheld"]
    assert summary["finetune"]["shapes"] == ["text"]
    rows = [json.loads(x) for f in summary["finetune"]["files"]
            for x in (tmp_path / "out" / "finetune" / f).read_text(encoding="utf-8").splitlines()]
    assert rows and all(set(r) == {"id", "text"} and "body: " in r["text"] for r in rows)
    assert _dry_routes(DEFAULT_POLICY, tickets) == routes  # the dry run shows the duplicate and short-row drops too
    assert {rule for _, rule in routes.values()} >= {"finetune-filter:exact_duplicate", "finetune-filter:too_short"}


def test_a_chat_only_format_withholds_rows_and_policy_test_and_show_say_so(tickets, tmp_path):
    policy = _policy_with(tmp_path, "chat")
    routes, summary = _run_routes(policy, tickets, tmp_path / "out")
    assert summary["routes"]["finetune"] == 0 and summary["finetune"]["withheld"].get("not_chat", 0) >= 2
    dry = _dry_routes(policy, tickets)
    assert dry == routes
    assert ("drop", "finetune-filter:not_chat") in dry.values()
    r = CliRunner().invoke(main, ["policy", "show", str(policy)])
    assert "documents and table rows are withheld (not_chat)" in r.stdout
    r = CliRunner().invoke(main, ["policy", "show", str(DEFAULT_POLICY)])
    assert "documents and table rows as plain `text`" in r.stdout
    assert "fewer than 20 characters" in r.stdout and "exact and near duplicates" in r.stdout
