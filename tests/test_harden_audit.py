"""A torn last audit line (a full disk, a crash inside a write) is recovered by the next writer; tampering is not;
a disk-full run ends with a message and exit 2, not a traceback."""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
from pathlib import Path

import pytest

from prepkit.audit import AuditError, AuditLog, load_signing_key, read_entries, verify
from tests.conftest import DEFAULT_POLICY, ROOT, TEST_KEY
from tests.test_audit import KEY, POLICY, VERSIONS, make_result, write_run


def _tear(p: Path, keep: int) -> bytes:
    """Cut the log `keep` bytes into its last line, as a write that ran out of disk would."""
    data = p.read_bytes()
    start = data.rstrip(b"\n").rfind(b"\n") + 1
    p.write_bytes(data[:start + keep])
    return data[:start]


def test_next_writer_verifies_truncates_and_records_a_torn_tail(tmp_path: Path) -> None:
    p = tmp_path / "audit.jsonl"
    write_run(p, "run-a", 4)
    log = AuditLog(p, keyring=KEY, run_id="run-b", policy=POLICY, versions=VERSIONS, signing_key=None)
    log.append("run_start", inputs=["in.jsonl"], workers=1)
    for i in range(3):
        log.record(make_result(i))
    log._release()  # the process dies: no run_end  # noqa: SLF001
    intact = _tear(p, 57)
    torn = len(p.read_bytes()) - len(intact)
    assert not verify(p, None, KEY).ok

    cp = write_run(p, "run-c", 2)
    assert p.read_bytes().startswith(intact)  # what preceded the cut is kept byte for byte
    rep = verify(p, cp, KEY)
    assert rep.ok and rep.checkpoint == "matched", rep.message
    assert any("run-b has no run_end" in w for w in rep.warnings)
    entries = read_entries(p)
    rec = [e for e in entries if e["event"] == "audit_recovered"]
    assert len(rec) == 1 and rec[0]["run_id"] == "run-c" and rec[0]["action"] == "truncated"
    assert rec[0]["torn_bytes"] == torn and rec[0]["after_seq"] == json.loads(intact.splitlines()[-1])["seq"]
    assert entries[entries.index(rec[0]) - 1]["event"] == "run_start"


def test_a_whole_entry_missing_only_its_newline_is_kept(tmp_path: Path) -> None:
    p = tmp_path / "audit.jsonl"
    write_run(p, "run-a", 2)
    p.write_bytes(p.read_bytes()[:-1])
    write_run(p, "run-b", 1)
    rep = verify(p, None, KEY)
    assert rep.ok and rep.runs == 2 and not rep.warnings
    assert [e["action"] for e in read_entries(p) if e["event"] == "audit_recovered"] == ["completed"]


def test_a_torn_tail_after_tampering_is_not_recovered(tmp_path: Path) -> None:
    p = tmp_path / "audit.jsonl"
    write_run(p, "run-a", 4)
    text = p.read_text().replace('"rec-1"', '"rec-9"')
    p.write_text(text[:-20])
    before = p.read_bytes()
    with pytest.raises(AuditError, match="do not verify"):
        AuditLog(p, keyring=KEY, run_id="run-b", policy=POLICY, versions=VERSIONS, signing_key=None)
    assert p.read_bytes() == before


def test_a_torn_tail_with_the_wrong_hmac_key_is_not_recovered(tmp_path: Path) -> None:
    from tests.test_audit import OTHER_KEY

    p = tmp_path / "audit.jsonl"
    write_run(p, "run-a", 3)
    _tear(p, 10)
    with pytest.raises(AuditError, match="bad_hmac"):
        AuditLog(p, keyring=OTHER_KEY, run_id="run-b", policy=POLICY, versions=VERSIONS, signing_key=None)


def _prepkit(*args: str, fsize: int | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PREPKIT_KEY": TEST_KEY, "PYTHONPATH": str(ROOT)}
    env.pop("PREPKIT_KEY_FILE", None)

    def limit() -> None:
        if fsize is not None:  # every file write past this size fails, as on a full disk
            resource.setrlimit(resource.RLIMIT_FSIZE, (fsize, fsize))

    return subprocess.run([sys.executable, "-c", "from prepkit.cli import main; main()", *args],
                          capture_output=True, text=True, env=env, preexec_fn=limit, timeout=300, check=False)


@pytest.fixture(scope="module")
def small_input(tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("in") / "notes.jsonl"
    src.write_text("".join(json.dumps({"id": f"n{i}", "text": f"Ticket {i}: the VPN token expired again, "
                                       "please reset it. " * 3}) + "\n" for i in range(40)))
    return src


def test_run_resumes_after_a_torn_audit_tail(tmp_path: Path, small_input: Path) -> None:
    out = tmp_path / "out"
    first = _prepkit("run", "-p", str(DEFAULT_POLICY), "-i", str(small_input), "-o", str(out), "--quiet")
    assert first.returncode == 0, first.stderr
    _tear(out / "audit.jsonl", 33)
    again = _prepkit("run", "-p", str(DEFAULT_POLICY), "-i", str(small_input), "-o", str(out), "--resume",
                     "--quiet")
    assert again.returncode == 0, again.stderr
    check = _prepkit("audit", "verify", str(out / "audit.jsonl"), "--checkpoint", str(out / "manifest.json"))
    assert check.returncode == 0, check.stdout
    assert [e["action"] for e in read_entries(out / "audit.jsonl") if e["event"] == "audit_recovered"] == \
        ["truncated"]


def test_disk_full_is_a_message_and_exit_2_not_a_traceback(tmp_path: Path, small_input: Path) -> None:
    # 12 KiB: the first write to fail is the encrypted store's (SQLite reports its own I/O error class)
    res = _prepkit("run", "-p", str(DEFAULT_POLICY), "-i", str(small_input), "-o", str(tmp_path / "out"),
                   "--quiet", "--no-cache", fsize=12 * 1024)
    assert res.returncode == 2, res.stderr
    assert "Traceback" not in res.stderr
    assert res.stderr.startswith("error: ") and "full" in res.stderr


def test_weak_signing_seed_is_refused(tmp_path: Path) -> None:
    seed = tmp_path / "seed"
    seed.write_text("00" * 32)
    with pytest.raises(AuditError, match="not random"):
        load_signing_key(seed)


def test_a_second_run_into_the_same_out_is_refused_with_exit_2(tmp_path: Path, small_input: Path) -> None:
    from prepkit.runlock import LOCK_FILE, RunLock

    out = tmp_path / "out"
    out.mkdir()
    with RunLock() as held:  # a first run holds OUT
        held.acquire(out)
        res = _prepkit("run", "-p", str(DEFAULT_POLICY), "-i", str(small_input), "-o", str(out), "--quiet")
        assert res.returncode == 2, res.stderr
        assert "another prepkit process" in res.stderr and str(os.getpid()) in res.stderr
        assert "Traceback" not in res.stderr
    assert sorted(p.name for p in out.iterdir()) == [LOCK_FILE]  # the refused run wrote nothing
