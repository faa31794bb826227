"""`prepkit serve` over real HTTP: the real CLI in a subprocess (uvicorn on a free port), a real httpx client, a
real encrypted store and audit log."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from prepkit.cli import main
from prepkit.policy import load_policy
from prepkit.rag import RagWriter
from prepkit.web.tokens import read_token_file

sys.path.insert(0, str(Path(__file__).resolve().parent))
from test_rag_store import BOTH, KEY, PAYROLL, POLICY, VPN, result  # noqa: E402
from webtools import free_port, start, stop  # noqa: E402


@pytest.fixture(scope="module")
def service(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("serve")
    policy = tmp / "policy.yaml"
    policy.write_text(POLICY)
    out = tmp / "out"
    w = RagWriter(out, load_policy(policy, run_checks=False), KEY)
    for r in [result("vpn", VPN), result("pay", PAYROLL, ("hr",)), result("leave", BOTH, ("hr", "internal"))]:
        w.add(r)
        w.index_subjects(r)
    w.close()
    tokens = tmp / "serve.tokens"
    r = CliRunner().invoke(main, ["serve-tokens", str(tokens), "--role", "support", "--role", "hr"])
    assert r.exit_code == 0, r.output
    by_role = {role: tok for tok, role in read_token_file(tokens).items()}
    port = free_port()
    proc = start(["serve", str(out), "--tokens", str(tokens), "--port", str(port)], port)
    yield f"http://127.0.0.1:{port}", by_role, out
    stop(proc)


def entries(out: Path, event: str) -> list[dict]:
    return [e for e in map(json.loads, (out / "audit.jsonl").read_text().splitlines()) if e["event"] == event]


def ask(base: str, token: str | None, question: str, **extra: object) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    return httpx.post(f"{base}/v1/query", json={"question": question, **extra}, headers=headers, timeout=30)


def test_the_token_decides_the_role_and_the_store_filters(service):
    base, tok, out = service
    r = ask(base, tok["support"], "salary review bonus payroll", k=10)
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["role"] == "support" and body["labels"] == ["internal"]
    assert {h["record_id"] for h in body["hits"]} == {"vpn"}  # pay (hr) and leave (hr+internal) stay hidden
    # A role named in the request is not a credential: the support token stays support.
    r = ask(base, tok["support"], "salary review bonus payroll", k=10, role="hr")
    assert r.status_code == 200 and r.json()["role"] == "support"
    r = ask(base, tok["hr"], "salary review bonus payroll", k=10)
    assert r.status_code == 200 and {h["record_id"] for h in r.json()["hits"]} == {"vpn", "pay", "leave"}
    assert r.json()["hits"][0]["record_id"] == "pay" and "four percent" in r.json()["hits"][0]["text"]


def test_unknown_or_missing_token_is_401_and_audited_without_the_token(service):
    base, tok, out = service
    before = len(entries(out, "serve_denied"))
    forged = tok["hr"][:-1] + ("x" if tok["hr"][-1] != "x" else "y")
    for token in (None, forged, "support"):
        r = ask(base, token, "salary")
        assert r.status_code == 401 and r.headers["www-authenticate"] == "Bearer" and "hits" not in r.json()
    r = httpx.get(f"{base}/v1/whoami", headers={"Authorization": "Basic c3VwcG9ydA=="})
    assert r.status_code == 401
    denied = entries(out, "serve_denied")[before:]
    assert [d["reason"] for d in denied] == ["missing bearer token", "unknown token", "unknown token",
                                             "missing bearer token"]
    log = (out / "audit.jsonl").read_text()
    assert forged not in log and tok["hr"] not in log and tok["support"] not in log


def test_every_query_is_audited_with_role_and_chunks_but_not_the_question(service):
    base, tok, out = service
    before = len(entries(out, "rag_query"))
    r = ask(base, tok["hr"], "parental leave weeks", k=2)
    assert r.status_code == 200
    q = entries(out, "rag_query")[before:]
    assert len(q) == 1 and q[0]["role"] == "hr" and q[0]["k"] == 2
    assert q[0]["chunk_ids"] == [h["chunk_id"] for h in r.json()["hits"]]
    assert "parental leave weeks" not in (out / "audit.jsonl").read_text()
    assert entries(out, "serve_start")[0]["roles"] == ["hr", "support"]
    assert entries(out, "serve_start")[0]["loopback"] is True


def test_whoami_and_openapi(service):
    base, tok, _ = service
    r = httpx.get(f"{base}/v1/whoami", headers={"Authorization": f"Bearer {tok['hr']}"})
    assert r.json() == {"role": "hr", "labels": ["hr", "internal"]}
    spec = httpx.get(f"{base}/openapi.json").json()
    assert "/v1/query" in spec["paths"] and spec["components"]["securitySchemes"]["HTTPBearer"]["scheme"] == "bearer"
    assert httpx.get(f"{base}/docs").status_code == 404  # the Swagger page would load scripts from a CDN


def test_bad_requests_are_422_not_500(service):
    base, tok, _ = service
    assert ask(base, tok["hr"], "").status_code == 422
    assert ask(base, tok["hr"], "q", k=0).status_code == 422


def test_a_query_whose_audit_entry_cannot_be_written_gets_no_answer(service):
    base, tok, out = service
    log = out / "audit.jsonl"
    saved = log.read_bytes()
    log.unlink()
    log.mkdir()  # appending now fails
    try:
        r = ask(base, tok["hr"], "salary review")
        assert r.status_code == 503 and "hits" not in r.text and "four percent" not in r.text
    finally:
        log.rmdir()
        log.write_bytes(saved)
        log.chmod(0o600)


def test_token_file_rules(tmp_path: Path):
    f = tmp_path / "t"
    f.write_text("support short\n")
    f.chmod(0o600)
    r = CliRunner().invoke(main, ["serve", str(tmp_path), "--tokens", str(f)])
    assert r.exit_code == 2 and f"{f}:1: token for role support is shorter" in r.output
    f.write_text("support " + "a" * 30 + "\n")
    f.chmod(0o644)
    r = CliRunner().invoke(main, ["serve", str(tmp_path), "--tokens", str(f)])
    assert r.exit_code == 2 and "readable by others" in r.output and "a" * 30 not in r.output
    f.chmod(0o600)
    r = CliRunner().invoke(main, ["serve", str(tmp_path), "--tokens", str(f)])
    assert r.exit_code == 2 and "no RAG store there" in r.output
    r = CliRunner().invoke(main, ["serve-tokens", str(f), "--role", "x"])
    assert r.exit_code == 2 and "already exists" in r.output
