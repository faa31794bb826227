"""The pipeline end to end on real components: samples/ through `prepkit run`, the Python API, the polars helper."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl

from prepkit.keys import KeyRing
from prepkit.records import Route
from prepkit.sinks.quarantine import read_quarantine
from tests.conftest import SAMPLES, TEST_KEY


def _lines(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines() if x.strip()]


def _input_count() -> int:
    tickets = sum(1 for x in (SAMPLES / "tickets.jsonl").read_text().splitlines() if x.strip())
    hr_rows = sum(1 for _ in (SAMPLES / "hr_export.csv").read_text().splitlines()) - 1
    docs = len(list((SAMPLES / "docs").glob("*.md")))
    return tickets + hr_rows + docs


def test_run_writes_every_output_and_counts_add_up(sample_run):
    out = sample_run.out_dir
    for rel in ["finetune/train.jsonl", "finetune/validation.jsonl", "quarantine/records.jsonl", "rejected.jsonl",
                "audit.jsonl", "summary.json", "manifest.json"]:
        assert (out / rel).is_file(), rel
    s = json.loads((out / "summary.json").read_text())
    assert s["records_in"] == _input_count()
    routes = s["routes"]
    assert sum(routes.values()) == s["records_in"]
    assert s["conservation"]["ok"] is True
    assert sample_run.exit_code == 0
    # the samples are built so that every route but rejected is used
    for r in ("finetune", "rag", "quarantine", "drop"):
        assert routes[r] > 0, r


def test_every_record_decided_once_in_audit(sample_run):
    entries = _lines(sample_run.out_dir / "audit.jsonl")
    decided = [e for e in entries if e.get("event") == "record"]
    ids = [e["record_id"] for e in decided]
    assert len(ids) == len(set(ids)) == sample_run.summary["records_in"] - sample_run.summary["routes"]["rejected"]
    for e in decided:
        assert e["policy"]["sha256"] == sample_run.summary["policy"]["sha256"]


def test_chat_stays_chat_and_pii_is_replaced(sample_run):
    rows = _lines(sample_run.out_dir / "finetune" / "train.jsonl") + \
        _lines(sample_run.out_dir / "finetune" / "validation.jsonl")
    original = {json.loads(x)["id"]: json.loads(x) for x in (SAMPLES / "tickets.jsonl").read_text().splitlines()}
    chats = [r for r in rows if r["id"] in original]
    assert chats
    for row in chats:
        src = original[row["id"]]
        assert [m["role"] for m in row["messages"]] == [m["role"] for m in src["messages"]]
        for m in src["messages"]:
            # every e-mail address in the source was replaced
            for word in m["content"].split():
                if "@" in word:
                    assert word.strip(".,") not in json.dumps(row), row["id"]


def test_routes_follow_the_policy(sample_run):
    q = {e.record_id: e.data for e in read_quarantine(sample_run.out_dir, KeyRing.from_bytes(bytes.fromhex(TEST_KEY)))}
    # tickets with an SSN are quarantined by the government-id rule
    src = [json.loads(x) for x in (SAMPLES / "tickets.jsonl").read_text().splitlines()]
    with_ssn = [t["id"] for t in src if any("SSN" in m["content"] for m in t["messages"])]
    assert with_ssn and all(i in q for i in with_ssn)
    assert all("government" in q[i]["reason"] for i in with_ssn)
    entries = [e for e in _lines(sample_run.out_dir / "audit.jsonl") if e.get("event") == "record"]
    auto = [t["id"] for t in src if t["doc_type"] == "auto_reply"]
    routes = {e["record_id"]: e["route"] for e in entries}
    assert auto and all(routes[i] == "drop" for i in auto)
    hr = [e for e in entries if e["source"].endswith("hr_export.csv")]
    assert hr and all(e["route"] in ("rag", "quarantine") for e in hr)


def test_python_api_yields_results_in_order(default_pipeline):
    texts = ["Please call Maria Lopez at maria.lopez@example.com about the refund.",
             "The quarterly report is ready for review.",
             {"id": "c1", "messages": [{"role": "user", "content": "I'm John Carter, email jc@example.org"},
                                       {"role": "assistant", "content": "Thanks, John Carter."}]}]
    results = list(default_pipeline.process(texts))
    assert [r.record.id for r in results] == ["api:1", "api:2", "c1"]
    first = results[0]
    assert {f.entity_type for f in first.findings} >= {"PERSON", "EMAIL_ADDRESS"}
    assert "maria.lopez@example.com" not in first.transformed.texts[0]
    assert "Maria Lopez" not in first.transformed.texts[0]
    assert results[1].findings == [] and results[1].transformed.texts[0] == texts[1]
    chat = results[2]
    assert chat.record.kind == "chat" and len(chat.transformed.texts) == 2
    assert all("John Carter" not in t for t in chat.transformed.texts)
    assert first.decision.route in set(Route)


def test_polars_column_helper(default_pipeline):
    from prepkit.frame import anonymize_column

    df = pl.DataFrame({"id": [1, 2], "note": ["Email ann.lee@example.com now", "nothing here"]})
    out = anonymize_column(df, "note", default_pipeline)
    assert out.columns == ["id", "note", "note_route"]
    assert "ann.lee@example.com" not in out["note"][0]
    assert out["note"][1] == "nothing here"
    assert out["id"].to_list() == [1, 2]
