"""One driver for `run`, `scan` and `policy test`; decisions final before any sink sees them; typed run stats
with per-step counts and times."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from prepkit.records import Decision, Record, Result, Route, Segment, Verification
from prepkit.route import ErasedSubjects, Router
from tests.conftest import DEFAULT_POLICY


def _result(route: Route = Route.FINETUNE, hashes: tuple[str, ...] = ()) -> Result:
    from prepkit.records import Transformed

    rec = Record("r1", "s.jsonl", "text", [Segment("text", "hello there")])
    return Result(rec, [], Transformed(["hello there"], [], list(hashes)), Verification(),
                  Decision(route, "rule says so", "r", ("internal",)))


def test_a_result_is_frozen_and_only_the_router_makes_a_new_decision() -> None:
    res = _result()
    with pytest.raises(dataclasses.FrozenInstanceError):
        res.decision = Decision(Route.DROP, "x")  # type: ignore[misc]
    router = Router([ErasedSubjects({"h1"})])
    kept = router.finalize(_result(hashes=("h2",)))
    assert kept.decision.route == Route.FINETUNE
    held = router.finalize(_result(Route.RAG, hashes=("h1", "h2")))
    assert held.decision == Decision(Route.DROP, "holds a data subject erased on request (GDPR art. 17)",
                                     rule="erased-subject")
    assert router.finalize(_result(Route.QUARANTINE, hashes=("h1",))).decision.route == Route.QUARANTINE


def test_the_summary_counts_every_step_and_agrees_with_the_sinks(sample_run) -> None:
    s = json.loads((sample_run.out_dir / "summary.json").read_text())
    steps, routes = s["steps"], s["routes"]
    processed = s["records_in"] - routes["rejected"]
    for name in ("detect", "transform", "verify", "route"):
        assert steps[name]["records"] == processed and steps[name]["seconds"] >= 0
    assert steps["detect"]["seconds"] > 0
    withheld = sum(s["finetune"]["withheld"].values())
    assert steps["finetune_filter"]["withheld"] == withheld > 0
    # a withheld record reaches the drop sink, never the fine-tune one
    for route in ("finetune", "rag", "quarantine", "drop"):
        assert steps.get(f"sink_{route}", {"records": 0})["records"] == routes[route]
    assert sum(s["finetune"]["written"].values()) == routes["finetune"]


def test_policy_test_shows_what_the_run_does_with_a_duplicate(tmp_path: Path) -> None:
    # `policy test` goes through the run's driver and filters: a duplicate routed to fine-tuning is a drop there
    # too, with the same rule the run's audit log records.
    from prepkit.policy import load_policy
    from prepkit.review.dryrun import dry_run

    ticket = {"id": "t1", "doc_type": "chat", "messages": [
        {"role": "user", "content": "How do I rotate an API token in Northwind Analytics Pro?"},
        {"role": "assistant", "content": "Open Settings, choose the relevant tab and follow the wizard."}]}
    f = tmp_path / "t.jsonl"
    f.write_text(json.dumps(ticket) + "\n" + json.dumps({**ticket, "id": "t2"}) + "\n", encoding="utf-8")
    report = dry_run(load_policy(DEFAULT_POLICY), [f])
    assert report.routes() == {"t1": "finetune", "t2": "drop"}
    assert report.results[1].decision.rule == "finetune-filter:exact_duplicate"


def test_batches_close_at_a_character_budget_so_long_documents_spread_over_workers() -> None:
    # 64 records of long documents in one batch left a core idle: a batch also closes at BATCH_CHARS characters.
    from prepkit.driver import BATCH_CHARS, Driver
    from prepkit.engine.local import LocalEngine
    from prepkit.records import Rejected

    long = [Record(f"d{i}", "s.jsonl", "text", [Segment("text", "x" * (BATCH_CHARS // 3 + 1))]) for i in range(10)]
    short = [Record(f"s{i}", "s.jsonl", "text", [Segment("text", "short text")]) for i in range(130)]
    bad = Rejected("s.jsonl", 3, "text", "not JSON")
    driver = Driver(LocalEngine.__new__(LocalEngine), batch_size=64)
    groups = list(driver._groups([*long[:2], bad, *long[2:], *short]))
    # three long records reach the budget; the rejected item rides with its neighbours; short ones stop at 64
    assert [len(g) for g in groups] == [4, 3, 3, 64, 64, 3]
    assert sum(len(g) for g in groups) == len(long) + len(short) + 1
    assert all(sum(r.char_count for r in g if isinstance(r, Record)) < BATCH_CHARS + BATCH_CHARS // 3 + 1
               for g in groups)
