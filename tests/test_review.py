"""`prepkit review` over real HTTP (the real CLI in a subprocess, httpx), on a real run's encrypted quarantine;
and policy sign-off (`prepkit policy approve`, `prepkit run --require-approved`)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from prepkit.cli import main
from prepkit.keys import KeyRing
from prepkit.rag import run_query
from prepkit.sinks.quarantine import read_quarantine
from tests.conftest import DEFAULT_POLICY, TEST_KEY, fixed_key
from tests.webtools import IBAN_VALUE, SSN_VALUE, audit_entries, copy_run, start_review, stop

KEY = KeyRing.from_bytes(bytes.fromhex(TEST_KEY))


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory, quarantine_run: Path):
    out = copy_run(quarantine_run, tmp_path_factory.mktemp("review"))
    proc, url = start_review(out)
    base = url.split("/queue")[0]
    client = httpx.Client(base_url=base, timeout=120)
    r = client.get(url.removeprefix(base), follow_redirects=True)  # the token URL: sets the session cookie, redirects without it
    assert r.status_code == 200 and "token=" not in str(r.url) and "prepkit_review" in client.cookies
    yield client, out, url
    client.close()
    err = stop(proc)
    assert SSN_VALUE not in err and IBAN_VALUE not in err


def qid_of(client: httpx.Client, record_id: str) -> str:
    m = re.search(r'href="/queue/([0-9a-f]+)">' + re.escape(record_id) + "<", client.get("/queue").text)
    assert m, record_id
    return m.group(1)


def test_quarantine_is_encrypted_at_rest_and_readable_with_the_key(app):
    _, out, _ = app
    raw = (out / "quarantine" / "records.jsonl").read_bytes()
    assert SSN_VALUE.encode() not in raw and b"Gonzalez" not in raw and b"t-ssn" not in raw
    entries = read_quarantine(out, KEY)
    assert {e.record_id for e in entries} == {"t-ssn", "t-iban"}
    r = CliRunner().invoke(main, ["quarantine", "show", str(out), "--format", "jsonl"])
    assert r.exit_code == 0 and SSN_VALUE in r.output
    r = CliRunner().invoke(main, ["quarantine", "show", str(out)], env={"PREPKIT_KEY": fixed_key("01")})
    assert r.exit_code == 2 and "records.jsonl:1: cannot be decrypted with this key" in r.output


def test_requests_without_the_token_are_refused(app):
    client, _, url = app
    base = str(client.base_url)
    for path in ("/queue", "/report", "/policy", f"/queue/{qid_of(client, 't-ssn')}"):
        assert httpx.get(base + path).status_code == 403
        assert httpx.get(base + path, cookies={"prepkit_review": "wrong"}).status_code == 403
    assert httpx.get(url.replace("token=", "token=x")).status_code == 403
    r = httpx.post(f"{base}/policy/approve", data={"approver": "Mallory"})
    assert r.status_code == 403
    # the session cookie does not help a form posted from another site
    r = client.post("/policy/approve", data={"approver": "Mallory"}, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403


def test_record_page_shows_findings_rule_reason_and_verification(app):
    client, _, _ = app
    page = client.get(f"/queue/{qid_of(client, 't-ssn')}").text
    assert re.search(r'data-type="US_SSN"[^>]*>' + re.escape(SSN_VALUE), page)
    assert 'data-type="PERSON"' in page
    assert "government-and-bank-ids" in page and "a person must review it" in page
    assert 'id="verification"' in page and ">passed<" in page


def test_release_to_rag_goes_through_the_store_and_the_audit_log(app):
    client, out, _ = app
    qid = qid_of(client, "t-iban")
    r = client.post(f"/queue/{qid}/decide", data={"action": "release_rag", "labels": ["hr"],
                                                  "reviewer_name": "Ana Reviewer"}, follow_redirects=True)
    assert r.status_code == 200 and "t-iban: released to RAG with label(s) hr" in r.text
    [entry] = [e for e in audit_entries(out, "review_decision") if e["queue_id"] == qid]
    assert entry["reviewer"] == "Ana Reviewer" and entry["action"] == "release_rag" and entry["labels"] == ["hr"]
    assert entry["record_id"] == "t-iban" and re.fullmatch(r"[0-9a-f]{64}", entry["input_sha256"])
    log = (out / "audit.jsonl").read_text()
    assert IBAN_VALUE not in log and "Peter Novak" not in log
    hr = run_query(out, "refund scheduled", "hr", KEY, audit_path=None)
    assert [h.chunk.record_id for h in hr.hits] == ["t-iban"] and IBAN_VALUE not in hr.hits[0].chunk.text
    assert run_query(out, "refund scheduled", "support", KEY, audit_path=None).hits == []  # no hr grant
    assert "t-iban" not in {e.record_id for e in read_quarantine(out, KEY)}  # raw text left the quarantine
    assert json.loads((out / "summary.json").read_text())["review"]["release_rag"] == 1
    r = CliRunner().invoke(main, ["audit", "verify", str(out / "audit.jsonl"), "--checkpoint",
                                  str(out / "manifest.json")])
    assert r.exit_code == 0, r.output


def test_a_decision_needs_a_name_a_known_label_and_a_queued_record(app):
    client, out, _ = app
    r = client.post("/queue/0123456789abcdef01234567/decide", data={"action": "drop", "reviewer_name": "A"})
    assert r.status_code == 404
    qid = qid_of(client, "t-ssn")
    r = client.post(f"/queue/{qid}/decide", data={"action": "keep", "reviewer_name": "  "})
    assert r.status_code == 422 and "enter your name" in r.text
    r = client.post(f"/queue/{qid}/decide", data={"action": "release_rag", "labels": ["secret"],
                                                  "reviewer_name": "A"})
    assert r.status_code == 422 and "not in the policy" in r.text


def test_keep_then_compliance_records_from_the_app(app):
    client, out, _ = app
    qid = qid_of(client, "t-ssn")
    r = client.post(f"/queue/{qid}/decide", data={"action": "keep", "reviewer_name": "Bo Reviewer"},
                    follow_redirects=True)
    assert r.status_code == 200 and 'id="kept"' in r.text and "Bo Reviewer" in r.text
    assert 'value="Bo Reviewer"' in client.get(f"/queue/{qid}").text  # the name is offered for the next form
    assert qid in {e.qid for e in read_quarantine(out, KEY)}  # kept: still (encrypted) in quarantine
    r = client.post("/compliance/generate", follow_redirects=True)
    assert r.status_code == 200 and "gdpr-art30-record.html" in r.text
    assert "TO FILL IN" in client.get("/compliance/gdpr-art30-record.html").text
    assert client.get("/compliance/..%2Fsummary.json").status_code == 404


def test_release_to_finetune_is_reverified(app):
    client, out, _ = app
    qid = qid_of(client, "t-ssn")
    still = [f"My SSN is {SSN_VALUE} and my address changed.", "Thanks, I have updated the address on file."]
    r = client.post(f"/queue/{qid}/decide", data={"action": "release_finetune", "texts": still,
                                                  "reviewer_name": "Ana Reviewer"})
    assert r.status_code == 422 and "failed verification" in r.text
    refused = [e for e in audit_entries(out, "review_decision") if e["queue_id"] == qid]
    assert refused[-1]["result"] == "refused" and "US_SSN" in refused[-1]["entity_types"]
    clean = ["Hi, this is a customer. My address changed.", "Thanks, I have updated the address on file."]
    r = client.post(f"/queue/{qid}/decide", data={"action": "release_finetune", "texts": clean,
                                                  "reviewer_name": "Ana Reviewer"}, follow_redirects=True)
    assert r.status_code == 200 and "re-verified and added to the" in r.text
    rows = [json.loads(x) for p in (out / "finetune").glob("*.jsonl") for x in p.read_text().splitlines()]
    [row] = [x for x in rows if x["id"] == "t-ssn"]
    assert row["messages"][0]["content"] == clean[0]
    assert (out / "quarantine" / "records.jsonl").read_text().strip() == ""  # queue empty, raw text gone
    assert "The queue is empty" in client.get("/queue").text


def test_approve_in_the_app_and_require_approved(app, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    client, out, _ = app
    # The app was started without a signing key: approval is refused with the reason.
    r = client.post("/policy/approve", data={"approver": "Clara Compliance"})
    assert r.status_code == 422 and "PREPKIT_SIGNING_KEY_FILE" in r.text


def test_policy_approve_cli_and_run_require_approved(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    policy = tmp_path / "policy.yaml"
    policy.write_text(DEFAULT_POLICY.read_text())
    key = tmp_path / "signing.pem"
    assert CliRunner().invoke(main, ["audit", "keygen-signing", str(key)]).exit_code == 0
    monkeypatch.setenv("PREPKIT_SIGNING_KEY_FILE", str(key))
    missing = str(tmp_path / "no-input")

    def run_required() -> str:
        r = CliRunner().invoke(main, ["run", "--policy", str(policy), "--input", missing, "--out",
                                      str(tmp_path / "out"), "--require-approved"])
        assert r.exit_code == 2
        return r.output

    assert "has no approval signed with the audit signing key" in run_required()
    r = CliRunner().invoke(main, ["policy", "approve", str(policy), "--by", "Clara Compliance"])
    assert r.exit_code == 0, r.output
    assert "has no approval" not in run_required()  # approved: the run gets as far as the missing input
    approvals = json.loads((tmp_path / "policy.yaml.approvals.json").read_text())
    [a] = approvals["approvals"]
    assert a["approved_by"] == "Clara Compliance" and len(a["policy_sha256"]) == 64
    [entry] = audit_entries(tmp_path, "policy_approved")
    assert entry["approver"] == "Clara Compliance" and entry["policy_sha256"] == a["policy_sha256"]
    # an edited policy is a new sha256: not approved
    policy.write_text(policy.read_text() + "\n# edited\n")
    assert "has no approval" in run_required()
    policy.write_text(DEFAULT_POLICY.read_text())
    # a hand-edited approval (another name) no longer verifies
    a["approved_by"] = "Mallory"
    (tmp_path / "policy.yaml.approvals.json").write_text(json.dumps(approvals))
    assert "has no approval" in run_required()
    # approvals signed by another key approve nothing here
    other = tmp_path / "other.pem"
    assert CliRunner().invoke(main, ["audit", "keygen-signing", str(other)]).exit_code == 0
    monkeypatch.setenv("PREPKIT_SIGNING_KEY_FILE", str(other))
    r = CliRunner().invoke(main, ["policy", "approve", str(policy), "--by", "Eve"])
    assert r.exit_code == 0
    monkeypatch.setenv("PREPKIT_SIGNING_KEY_FILE", str(key))
    assert "has no approval" in run_required()
