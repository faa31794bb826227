"""`prepkit rag query|info|grants` and `prepkit forget` on a real encrypted store."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from prepkit.cli import main
from prepkit.policy import load_policy
from prepkit.rag import RagWriter
from prepkit.records import Route

sys.path.insert(0, str(Path(__file__).resolve().parent))  # works whether or not tests/ is a package
from test_rag_store import BOTH, KEY, PAYROLL, POLICY, VPN, result  # noqa: E402

from tests.conftest import fixed_key  # noqa: E402

EMAIL = "jane.roe@example.com"


@pytest.fixture()
def run_dir(tmp_path: Path) -> tuple[Path, Path]:
    policy = tmp_path / "policy.yaml"
    policy.write_text(POLICY)
    out = tmp_path / "out"
    w = RagWriter(out, load_policy(policy, run_checks=False), KEY)
    for r in [result("vpn", VPN), result("pay", PAYROLL, ("hr",), subjects=(EMAIL,)),
              result("leave", BOTH, ("hr", "internal"))]:
        w.add(r)
        w.index_subjects(r)
    w.index_subjects(result("drop-1", "auto reply", route=Route.DROP, subjects=(EMAIL,)))
    w.close()
    return out, policy


def cli(*args: str, key: str | None = None):
    env = {"PREPKIT_KEY": key} if key else {}
    return CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)


def test_query_json_returns_only_readable_chunks_and_audits(run_dir):
    out, _ = run_dir
    r = cli("rag", "query", str(out), "how do I reset the VPN token", "--role", "support", "--format", "json")
    assert r.exit_code == 0, r.output
    data = json.loads(r.output)
    assert data["labels"] == ["internal"]
    assert [h["record_id"] for h in data["hits"]] == ["vpn"]
    assert data["hits"][0]["score"] > 0.3 and "self-service portal" in data["hits"][0]["text"]
    audit = (out / "audit.jsonl").read_text()
    assert '"rag_query"' in audit and "VPN token" not in audit


def test_query_text_output_and_a_role_without_grant(run_dir):
    out, _ = run_dir
    r = cli("rag", "query", str(out / "rag"), "parental leave", "--role", "hr", "-k", "1")
    assert r.exit_code == 0 and "record leave" in r.output and "sixteen weeks" in r.output
    r = cli("rag", "query", str(out), "parental leave", "--role", "nobody")  # declared, granted no label
    assert r.exit_code == 0 and "may read: nothing (no grant); 0 chunk(s)" in r.output


def test_an_unknown_role_is_an_error_and_is_audited(run_dir):
    out, _ = run_dir
    r = cli("rag", "query", str(out), "parental leave", "--role", "contractor")
    assert r.exit_code == 2 and r.stdout == ""
    assert "role not granted by this store (roles: hr, nobody, support)" in r.stderr
    last = [json.loads(x) for x in (out / "audit.jsonl").read_text().splitlines() if '"rag_query"' in x][-1]
    assert last["unknown_role"] is True and last["hits"] == 0


def test_question_is_audited_only_when_the_policy_allows(run_dir, tmp_path: Path):
    out, policy = run_dir
    allow = tmp_path / "allow.yaml"
    allow.write_text(policy.read_text().replace("rag: {", "rag: {store_query_text: true, "))
    assert cli("rag", "query", str(out), "bonus timing", "--role", "hr", "--policy", str(allow)).exit_code == 0
    q = [json.loads(x) for x in (out / "audit.jsonl").read_text().splitlines() if '"rag_query"' in x][-1]
    assert q["query_text"] == "bonus timing" and q["policy"]["name"] == "rag-test"


def test_wrong_key_and_missing_store_exit_2_without_traceback(run_dir, tmp_path: Path):
    out, _ = run_dir
    r = CliRunner().invoke(main, ["rag", "query", str(out), "q", "--role", "hr"], env={"PREPKIT_KEY": fixed_key("01")})
    assert r.exit_code == 2 and "wrong key" in r.output and "store.db" in r.output
    assert "Traceback" not in r.output
    r = cli("rag", "query", str(tmp_path / "nothing"), "q", "--role", "hr")
    assert r.exit_code == 2 and "no RAG store there" in r.output
    r = cli("rag", "query", "postgresql://u@/db?host=/nonexistent", "q", "--role", "hr")
    assert r.exit_code == 2 and "--audit" in r.output


def test_info_and_grants(run_dir, tmp_path: Path):
    out, policy = run_dir
    info = json.loads(cli("rag", "info", str(out), "--format", "json").output)
    assert info["records"] == 3 and info["embedder"] == "builtin:minilm-m2v"
    assert info["roles"]["support"] == ["internal"] and info["chunks_by_labels"]["hr"] >= 1
    wider = tmp_path / "wider.yaml"
    wider.write_text(policy.read_text().replace("support: [internal]", "support: [internal, hr]"))
    r = cli("rag", "grants", str(out), "--policy", str(wider))
    assert r.exit_code == 0 and "support: hr, internal" in r.output
    r = cli("rag", "query", str(out), "salary raise", "--role", "support", "--format", "json")
    assert "pay" in {h["record_id"] for h in json.loads(r.output)["hits"]}


def test_forget_prints_ids_never_the_value(run_dir):
    out, _ = run_dir
    r = cli("forget", "--out", str(out), "--subject", EMAIL.upper(), "--type", "EMAIL_ADDRESS")
    assert r.exit_code == 0, r.output
    assert "2 record(s)" in r.output and "pay" in r.output and "drop-1" in r.output
    assert EMAIL not in r.output.lower()
    r = cli("rag", "query", str(out), "salary raise", "--role", "hr", "--format", "json")
    assert "pay" not in {h["record_id"] for h in json.loads(r.output)["hits"]}
    assert EMAIL not in (out / "audit.jsonl").read_text().lower()
    again = cli("forget", "--out", str(out), "--subject", EMAIL, "--format", "json")
    assert again.exit_code == 0 and json.loads(again.output)["records"] == 0
    r = cli("forget", "--out", str(out.parent), "--subject", EMAIL)
    assert r.exit_code == 2 and "no subjects index" in r.output
