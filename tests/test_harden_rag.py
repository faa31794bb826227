"""Ids unique per run (the RAG store neither crashes nor silently replaces), erasure that finds a subject in any
spelling a detector cut and reaches every output, grant changes and queries audited and covered by the
checkpoint, and a query's audit entry that cannot be sent elsewhere."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import prepkit.rag.writer
from prepkit.audit import AuditError, AuditLog, read_entries
from prepkit.cli import main
from prepkit.ids import RunIds
from prepkit.keys import KeyRing
from prepkit.policy import load_policy
from prepkit.rag import open_store
from prepkit.rag.subjects_index import SubjectIndex
from prepkit.records import Finding, Record, Segment
from prepkit.runner import RunConfig, run
from prepkit.sinks.quarantine import read_quarantine
from prepkit.transform import Transformer
from prepkit.transform.subjects import lookup_hashes
from tests.conftest import DEFAULT_POLICY, TEST_KEY

KEY = KeyRing.from_bytes(bytes.fromhex(TEST_KEY), "test")
RAG_POLICY = """\
version: 1
name: all-to-rag
detection: {entities: [PERSON, EMAIL_ADDRESS, US_SSN]}
actions: {DEFAULT: {operator: redact}, PERSON: {operator: synthesize}}
routing:
  rules:
    - {name: ids, when: {any_entity: [US_SSN]}, route: quarantine, reason: government id}
  default: {route: rag, reason: knowledge}
outputs:
  rag: {chunk_size: 200, chunk_overlap: 40, default_labels: [internal]}
access:
  roles: {support: [internal]}
"""
DOC = "Runbook {i}: to reset the VPN token, open the self-service portal and choose Reset token."


def _write_jsonl(p: Path, rows: list[dict[str, object]]) -> Path:
    p.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return p


def _store_ids(out: Path) -> set[str]:
    s = open_store(out, KEY)
    try:
        return set(s.records())
    finally:
        s.close()


def test_unique_ids_are_deterministic_and_never_reuse_an_id() -> None:
    def rec(rid: str) -> Record:
        return Record(rid, "f", "text", [Segment("text", "x")])

    u = RunIds(KEY)
    got = [u.admit(rec(i)).id for i in ["a", "a", "a#2", "b", "a"]]  # type: ignore[union-attr]
    assert got == ["a", "a#2", "a#2#2", "b", "a#3"] and len(set(got)) == len(got) and u.renamed == 3


@pytest.mark.parametrize("batch_chunks", [512, 1], ids=["one-write-batch", "a-batch-per-record"])
def test_duplicate_ids_all_reach_the_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                           batch_chunks: int) -> None:
    monkeypatch.setattr(prepkit.rag.writer, "BATCH_CHUNKS", batch_chunks)
    pol = tmp_path / "p.yaml"
    pol.write_text(RAG_POLICY)
    src = tmp_path / "in"
    src.mkdir()
    _write_jsonl(src / "a.jsonl", [{"id": "1", "text": DOC.format(i=i)} for i in range(3)])
    _write_jsonl(src / "b.jsonl", [{"id": "1", "text": DOC.format(i=9)}])  # another file's record "1"
    outcome = run(RunConfig(policy=pol, inputs=[src], out=tmp_path / "out", cache=False))
    s = outcome.summary
    assert s["routes"]["rag"] == 4 and s["rag"]["records_total"] == 4
    assert _store_ids(tmp_path / "out") == {"1", "1#2", "1#3", "1#4"}
    index = SubjectIndex.in_out_dir(tmp_path / "out", KEY)
    try:
        assert index.record_ids() == {"1", "1#2", "1#3", "1#4"}
    finally:
        index.close()


def test_rag_writer_refuses_an_id_twice_rather_than_replace_it(tmp_path: Path) -> None:
    from tests.test_rag_store import POLICY, VPN, result

    p = tmp_path / "p.yaml"
    p.write_text(POLICY)
    w = prepkit.rag.writer.RagWriter(tmp_path / "out", load_policy(p, run_checks=False), KEY)
    try:
        w.add(result("r1", VPN, ("internal",)))
        with pytest.raises(ValueError, match="twice"):
            w.add(result("r1", VPN + " Again.", ("internal",)))
    finally:
        w.close()


@pytest.mark.parametrize("span", ["Anna Kowalski's", "ANNA KOWALSKI -", "Dr. Anna Kowalski", "(Anna Kowalski)"])
def test_a_subject_is_found_whatever_the_detector_cut(tmp_path: Path, span: str) -> None:
    p = tmp_path / "p.yaml"
    p.write_text(RAG_POLICY)
    t = Transformer(load_policy(p), KEY)
    text = f"Ticket from {span} about the VPN."
    start = text.index(span)
    rec = Record("r", "f", "text", [Segment("text", text)])
    hashes = t.transform(rec, [Finding(0, start, start + len(span), "PERSON", 0.9)]).subject_hashes
    assert set(lookup_hashes(KEY, "Anna Kowalski")) & set(hashes)
    assert not set(lookup_hashes(KEY, "Anna Nowak")) & set(hashes)


@pytest.fixture()
def run_out(tmp_path: Path) -> tuple[Path, Path]:
    pol = tmp_path / "p.yaml"
    pol.write_text(RAG_POLICY)
    src = tmp_path / "in"
    src.mkdir()
    _write_jsonl(src / "a.jsonl", [
        {"id": "k1", "text": "Anna Kowalski's laptop needs a new VPN token before Monday."},
        {"id": "k2", "text": "ANNA KOWALSKI - requested parking access for the north garage."},
        {"id": "k3", "text": "Anna Kowalski gave her SSN 219-09-9999 on the phone, please remove it."},
        {"id": "n1", "text": DOC.format(i=1)},
    ])
    out = tmp_path / "out"
    run(RunConfig(policy=pol, inputs=[src], out=out))
    return out, pol


def test_forget_reaches_store_quarantine_cache_and_report(run_out: tuple[Path, Path]) -> None:
    out, pol = run_out
    assert "k3" in {e.record_id for e in read_quarantine(out, KEY)} and (out / ".cache").is_dir()
    r = CliRunner().invoke(main, ["forget", "--out", str(out), "--subject", "Anna Kowalski", "--format", "json"])
    assert r.exit_code == 0, r.output
    rep = json.loads(r.output)
    assert set(rep["record_ids"]) >= {"k1", "k2", "k3"} and "n1" not in rep["record_ids"]
    assert rep["quarantine_removed"] == 1 and rep["cache_cleared"] and rep["report_rewritten"]
    assert _store_ids(out) == {"n1"}
    assert not [e for e in read_quarantine(out, KEY) if "Kowalski" in json.dumps(e.data)]
    assert not (out / ".cache").exists()
    erasure = [e for e in read_entries(out / "audit.jsonl") if e["event"] == "erasure"]
    assert erasure and erasure[-1]["quarantine_removed"] == 1


def test_grant_changes_and_queries_are_audited_and_checkpointed(run_out: tuple[Path, Path], tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    out, pol = run_out
    sk = tmp_path / "sign.pem"
    assert CliRunner().invoke(main, ["audit", "keygen-signing", str(sk)]).exit_code == 0
    monkeypatch.setenv("PREPKIT_SIGNING_KEY_FILE", str(sk))
    wider = tmp_path / "wider.yaml"
    wider.write_text(RAG_POLICY.replace("roles: {support: [internal]}", "roles: {support: [internal], guest: [internal]}"))
    cli = CliRunner()
    r = cli.invoke(main, ["rag", "grants", str(out), "--policy", str(wider)])
    assert r.exit_code == 0, r.output
    change = [e for e in read_entries(out / "audit.jsonl") if e["event"] == "grants_changed"]
    assert len(change) == 1 and change[0]["roles"] == {"guest": ["internal"], "support": ["internal"]}
    assert change[0]["previous_roles"] == {"support": ["internal"]}
    r = cli.invoke(main, ["rag", "query", str(out), "reset the VPN token", "--role", "guest"])
    assert r.exit_code == 0, r.output
    last = read_entries(out / "audit.jsonl")[-1]
    manifest = json.loads((out / "manifest.json").read_text())
    cp = manifest["audit_checkpoint"]
    assert cp["seq"] == last["seq"] and cp["head"] == last["hash"] and "signature" in cp
    v = cli.invoke(main, ["audit", "verify", str(out / "audit.jsonl"), "--checkpoint", str(out / "manifest.json"),
                          "--public-key", str(sk) + ".pub"])
    assert v.exit_code == 0 and "checkpoint: matched; signature: valid" in v.output, v.output


def test_a_query_audit_entry_cannot_be_sent_elsewhere(run_out: tuple[Path, Path], tmp_path: Path) -> None:
    out, _ = run_out
    before = len(read_entries(out / "audit.jsonl"))
    for target in (str(tmp_path / "elsewhere.jsonl"), "/dev/null"):
        r = CliRunner().invoke(main, ["rag", "query", str(out), "VPN", "--role", "support", "--audit", target])
        assert r.exit_code == 2 and "audited to" in r.output and "Traceback" not in r.output
    assert len(read_entries(out / "audit.jsonl")) == before
    assert not (tmp_path / "elsewhere.jsonl").exists()
    with pytest.raises(AuditError, match="not a regular file"):
        AuditLog("/dev/null", keyring=None, run_id="q", policy={}, versions={})


def test_default_policy_still_runs_into_a_locked_out_after_release(tmp_path: Path) -> None:
    src = _write_jsonl(tmp_path / "in.jsonl", [{"id": "x", "text": DOC.format(i=0)}])
    for _ in range(2):  # the lock of the first run is released when it returns
        assert run(RunConfig(policy=DEFAULT_POLICY, inputs=[src], out=tmp_path / "out", cache=False)).exit_code == 0


def test_the_name_words_are_fakers_name_lists() -> None:
    from faker.providers.person.en_US import Provider

    from prepkit.name_words import NAME_WORDS

    faker = {n.lower() for n in (*Provider.first_names_female, *Provider.first_names_male, *Provider.last_names)}
    assert {n for n in faker if len(n) >= 3} == NAME_WORDS
