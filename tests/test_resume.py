"""Crash safety: a real `prepkit run` killed with SIGKILL, resumed, interrupted with Ctrl-C (SIGINT), resumed
again, ends with exactly the outputs of an uninterrupted run — no record twice, none missing."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from prepkit.keys import KeyRing
from prepkit.sinks.quarantine import read_quarantine
from tests.conftest import DEFAULT_POLICY, ROOT, TEST_KEY

N = 200
BATCH = 16
OUTPUTS = ["finetune/train.jsonl", "finetune/validation.jsonl", "quarantine/records.jsonl", "rejected.jsonl"]


def write_corpus(path: Path, n: int = N) -> Path:
    """Short records of every route, so the run is slow enough to interrupt but quick to finish."""
    first = ["Anna", "Ravi", "Mei", "Lukas", "Sofia", "Omar", "Jade", "Tomas"]
    last = ["Keller", "Iyer", "Tanaka", "Novak", "Rossi", "Haddad", "Moreau", "Silva"]
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            name = f"{first[i % 8]} {last[(i // 8) % 8]}"
            email = f"{first[i % 8].lower()}.{i}@example.com"
            k = i % 6
            if k == 5:
                f.write(json.dumps({"id": f"d{i}", "doc_type": "document",
                                    "text": f"Runbook {i}: restart the queue worker, then page {name}."}) + "\n")
            elif k == 4:
                f.write(json.dumps({"id": f"s{i}", "text": f"{name} gave SSN 123-45-{6000 + i:04d} for payroll."})
                        + "\n")
            elif k == 3 and i % 12 == 3:
                f.write("{broken json line\n")
            else:
                f.write(json.dumps({"id": f"c{i}", "messages": [
                    {"role": "user", "content": f"Hi, I am {name}, my email is {email}. Order {i} is late."},
                    {"role": "assistant", "content": "Sorry about that, I have escalated it."}]}) + "\n")
    return path


def _cmd(inp: Path, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-c", "from prepkit.cli import main; main()", "run", "--policy", str(DEFAULT_POLICY), "--input", str(inp),
            "--out", str(out), "--batch-size", str(BATCH), "--json",
            "--workers", "1", *extra]  # one process: the kill lands mid-run, never during a pool's start


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env.pop("PREPKIT_KEY_FILE", None)
    env["PREPKIT_KEY"] = TEST_KEY
    return env


def _cached(out: Path) -> int:
    db = out / ".cache" / "results.db"
    if not db.exists():
        return 0
    try:
        con = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=0.2)
        try:
            return int(con.execute("SELECT count(*) FROM results").fetchone()[0])
        finally:
            con.close()
    except sqlite3.Error:
        return 0


def _start_and_signal(cmd: list[str], out: Path, sig: int, at_least: int,
                      timeout: float = 60) -> tuple[int, str, str]:
    p = subprocess.Popen(cmd, env=_env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    deadline = time.monotonic() + timeout
    while _cached(out) < at_least:
        if p.poll() is not None:
            pytest.fail(f"run finished before it could be interrupted (rc {p.returncode}); make the corpus larger")
        if time.monotonic() > deadline:
            p.kill()
            pytest.fail("no cache entries appeared in time")
        time.sleep(0.05)
    p.send_signal(sig)
    stdout, stderr = p.communicate(timeout=60)
    return p.returncode, stdout, stderr


def _rag_records(out: Path) -> dict[str, str]:
    from prepkit.keys import KeyRing, _decode
    from prepkit.rag.store import STORE_FILE, open_store

    store = open_store(out / "rag" / STORE_FILE, KeyRing.from_bytes(_decode(TEST_KEY, "test"), "test"))
    try:
        return {rid: st.content_hash for rid, st in store.records().items()}
    finally:
        store.close()  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("resume")
    inp = write_corpus(root / "corpus.jsonl")
    ref_out, out = root / "reference", root / "resumed"
    # The uninterrupted reference runs alongside the interrupted sequence (two cores).
    ref = subprocess.Popen(_cmd(inp, ref_out, "--no-cache"), env=_env(), cwd=ROOT, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True)
    rc_kill, _, _ = _start_and_signal(_cmd(inp, out), out, signal.SIGKILL, at_least=64)
    after_kill = _cached(out)
    leftovers = sorted(p.name for p in out.rglob(".*.tmp-*"))
    real_after_kill = [rel for rel in OUTPUTS + ["summary.json", "manifest.json"] if (out / rel).exists()]
    rc_int, int_stdout, int_stderr = _start_and_signal(_cmd(inp, out, "--resume"), out, signal.SIGINT,
                                           at_least=after_kill + 64)
    final = subprocess.run(_cmd(inp, out, "--resume"), env=_env(), cwd=ROOT, capture_output=True, text=True,
                           timeout=300)
    ref_stdout, ref_stderr = ref.communicate(timeout=300)
    # 2: the corpus holds broken lines, which are rejected (the runs complete and say so)
    assert ref.returncode == 2, ref_stderr[-2000:]
    assert final.returncode == 2, final.stderr[-2000:]
    return {"inp": inp, "ref": ref_out, "out": out, "rc_kill": rc_kill, "after_kill": after_kill,
            "leftovers": leftovers, "real_after_kill": real_after_kill, "rc_int": rc_int, "int_summary": json.loads(int_stdout), "int_stderr": int_stderr,
            "final": json.loads(final.stdout), "reference": json.loads(ref_stdout)}


def test_sigkill_then_resume_gives_exactly_the_uninterrupted_outputs(runs):
    assert runs["rc_kill"] == -signal.SIGKILL
    assert 0 < runs["after_kill"] < N
    ref, out = runs["ref"], runs["out"]
    for rel in OUTPUTS:
        assert (out / rel).read_bytes() == (ref / rel).read_bytes(), rel
    assert _rag_records(out) == _rag_records(ref)
    final, reference = runs["final"], runs["reference"]
    assert final["routes"] == reference["routes"]
    assert final["records_in"] == reference["records_in"] == N
    assert final["conservation"]["ok"]
    # the resumed run reused the killed/interrupted runs' work rather than redoing it
    assert final["cache"]["hits"] >= runs["after_kill"] + 64


def test_no_record_twice_none_missing(runs):
    ids: list[str] = []
    for rel in OUTPUTS[:2]:
        ids += [json.loads(x)["id"] for x in (runs["out"] / rel).read_text().splitlines()]
    ids += [e.record_id for e in read_quarantine(runs["out"], KeyRing.from_bytes(bytes.fromhex(TEST_KEY)))]
    assert len(ids) == len(set(ids))
    src = [json.loads(x).get("id") for x in runs["inp"].read_text().splitlines() if x.startswith("{\"")]
    routed = set(ids) | set(_rag_records(runs["out"]))
    dropped = runs["final"]["routes"]["drop"]
    assert len(set(src) - routed) == dropped


def test_killed_run_leaves_only_temp_files_and_they_are_cleaned(runs):
    # A killed run never leaves a half-written output under its real name, only hidden temp files (the sinks
    # open theirs at the start; corpus recall's spill of parked results has no name at all, prepkit.spill)...
    assert runs["real_after_kill"] == []
    assert any(name.startswith(".train.jsonl.tmp-") for name in runs["leftovers"]), runs["leftovers"]
    # ...which a later run removes.
    assert not any(p.name.startswith(".") and ".tmp-" in p.name for p in runs["out"].rglob("*"))


def test_ctrl_c_stops_cleanly_with_a_partial_summary(runs):
    assert runs["rc_int"] == 130
    s = runs["int_summary"]
    assert s["interrupted"] is True
    # the console says so, and how to continue
    said = "warning: interrupted — the outputs hold only the records processed so far; run again with --resume"
    assert said in runs["int_stderr"] and said.removeprefix("warning: ") in s["warnings"][0]
    # interrupted while detecting: no output was final yet (corpus recall matches every record against the whole
    # run's dictionary first), so none was written; the resumed run replays the detected ones from the cache
    assert s["conservation"]["ok"] and s["records_in"] == 0
    saved = json.loads((runs["out"] / "audit.jsonl").read_text().splitlines()[0])
    assert saved["event"] == "run_start"


def test_a_later_run_removes_the_temp_files_of_a_killed_one(tmp_path):
    # A run killed while its sinks write (after detection) leaves `.NAME.tmp-PID` files; the next run's start
    # removes those of dead processes and leaves a live run's alone.
    from prepkit.cache import clean_stale_temp_files

    dead = subprocess.Popen([sys.executable, "-c", "pass"])
    dead.wait()
    live = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        (tmp_path / "finetune").mkdir()
        stale = tmp_path / "finetune" / f".train.jsonl.tmp-{dead.pid}"
        busy = tmp_path / f".summary.json.tmp-{live.pid}"
        stale.write_text("half")
        busy.write_text("half")
        assert clean_stale_temp_files(tmp_path) == [stale]
        assert busy.exists() and not stale.exists()
    finally:
        live.kill()
        live.wait()
