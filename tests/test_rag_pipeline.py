"""End to end through the real pipeline (spaCy, Presidio, routing, sinks): a run fills the store, a query as a
role finds the RAG record, `forget` removes the subject's records from the store and the fine-tune set."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from click.testing import CliRunner

from prepkit.cli import main
from prepkit.runner import RunConfig, run

ROOT = Path(__file__).resolve().parent.parent
EMAIL = "jane.roe@example.com"
ROWS = [
    {"id": "t1", "messages": [
        {"role": "user", "content": f"Hi, this is Jane Roe, my email is {EMAIL}. How do I reset my password?"},
        {"role": "assistant", "content": "I have sent a reset link to the address on your account."}]},
    {"id": "t2", "messages": [
        {"role": "user", "content": "How do I update the billing address on my invoices?"},
        {"role": "assistant", "content": "Open Settings, then Billing, and edit the address there."}]},
    {"id": "d1", "doc_type": "policy",
     "text": f"Expense policy. Receipts are required for every claim above 25 EUR. Questions go to {EMAIL}."},
]


def _ids(out: Path) -> set[str]:
    return {json.loads(line)["id"] for f in (out / "finetune").glob("*.jsonl") for line in f.read_text().splitlines()}


def test_run_query_forget(tmp_path: Path):
    src = tmp_path / "in.jsonl"
    src.write_text("".join(json.dumps(r) + "\n" for r in ROWS))
    out = tmp_path / "out"
    outcome = run(RunConfig(policy=ROOT / "policies" / "default.yaml", inputs=[src], out=out, cache=False))
    rag = outcome.summary["rag"]
    assert rag["records_written"] == 1 and rag["chunks_total"] >= 1 and rag["backend"] == "sqlite"
    assert _ids(out) == {"t1", "t2"}

    cli = CliRunner()
    r = cli.invoke(main, ["rag", "query", str(out), "do I need a receipt for my claim", "--role", "support",
                          "--format", "json"])
    assert r.exit_code == 0, r.output
    hits = json.loads(r.output)["hits"]
    assert hits[0]["record_id"] == "d1" and "EMAIL_ADDRESS" in hits[0]["entity_types"]
    assert EMAIL not in hits[0]["text"]  # the store holds the anonymized text

    r = cli.invoke(main, ["forget", "--out", str(out), "--subject", EMAIL, "--type", "EMAIL_ADDRESS",
                          "--format", "json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.output)
    assert rep["record_ids"] == ["d1", "t1"] and rep["finetune_removed"] == 1 and rep["chunks_deleted"] >= 1
    assert rep["complete"] is True
    assert _ids(out) == {"t2"}
    r = cli.invoke(main, ["rag", "query", str(out), "receipt claim", "--role", "support", "--format", "json"])
    assert json.loads(r.output)["hits"] == []
    assert EMAIL not in (out / "audit.jsonl").read_text()
    verify = cli.invoke(main, ["audit", "verify", str(out / "audit.jsonl")])
    assert verify.exit_code == 0, verify.output  # queries and the erasure continued the hash chain
    # manifest.json describes the folder after the erasure: current hashes and the audit log's new head
    manifest = json.loads((out / "manifest.json").read_text())
    for rel, digest in manifest["files"].items():  # audit.jsonl too: the query after the erasure re-hashed it
        assert hashlib.sha256((out / rel).read_bytes()).hexdigest() == digest, rel
    entries = [json.loads(line) for line in (out / "audit.jsonl").read_text().splitlines()]
    query_end = entries[-1]  # the last query is covered by the checkpoint like the erasure before it
    assert query_end["event"] == "run_end" and query_end["run_id"].startswith("rag_query-")
    assert manifest["audit_checkpoint"]["head"] == query_end["hash"]
