"""No leaks: canary values planted in every input kind appear, after a real `prepkit run`, only in the quarantine
output — never in fine-tuning data, the RAG store (plain bytes or decrypted chunks), the audit log, summary,
report, manifests, the cache, rejected.jsonl, stdout or stderr. Every file written is owner-only."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from prepkit.cli import main
from tests.conftest import DEFAULT_POLICY, TEST_KEY

NAMES = ["Margaret Holloway", "Daniel Okafor"]
EMAILS = ["margaret.holloway@canarymail.org", "d.okafor@canarymail.org"]
CARDS = ["4111 1111 1111 1111", "5555555555554444"]
SSNS = ["536-22-8745"]
PHONES = ["646-555-0142"]
CANARIES = NAMES + EMAILS + CARDS + SSNS + PHONES + ["canarymail", "4111111111111111"]


def _plant(d: Path) -> Path:
    d.mkdir()
    with (d / "notes.jsonl").open("w", encoding="utf-8") as f:
        f.write(json.dumps({"id": "j1", "text": f"Hello, my name is {NAMES[0]} and my email is {EMAILS[0]}."})
                + "\n")
        f.write(json.dumps({"id": "j2", "text": f"Please charge card {CARDS[0]} for {NAMES[1]}, SSN {SSNS[0]}."})
                + "\n")
        # unreadable line holding canaries: rejected, and the rejection must not quote it
        f.write('{"id": "j3", "text": "' + f"{NAMES[0]} {EMAILS[1]} {SSNS[0]}" + '"\n')
    with (d / "chats.jsonl").open("w", encoding="utf-8") as f:
        f.write(json.dumps({"id": "c1", "messages": [
            {"role": "user", "content": f"{NAMES[1]} wrote: call me at {PHONES[0]} or mail {EMAILS[1]}."},
            {"role": "assistant", "content": f"Thanks {NAMES[1].split()[0]}, I will call you."}]}) + "\n")
    (d / "hr.csv").write_text(
        "employee_id,name,email,notes\n"
        f"EMP-100001,{NAMES[0]},{EMAILS[0]},Card on file {CARDS[1]}.\n", encoding="utf-8")
    pq.write_table(pa.table({"id": ["p1"], "text": [f"Refund to {NAMES[1]} via card {CARDS[1]}, {EMAILS[1]}."]}),
                   d / "table.parquet")
    (d / "runbook.md").write_text(
        "---\ndoc_type: runbook\n---\n# Escalation\n\n"
        f"Page the on-call lead {NAMES[0]} at {PHONES[0]} or {EMAILS[0]} for outages.\n", encoding="utf-8")
    return d


@pytest.fixture(scope="module")
def canary_run(tmp_path_factory: pytest.TempPathFactory):
    root = tmp_path_factory.mktemp("canary")
    inp = _plant(root / "in")
    out = root / "out"
    res = CliRunner().invoke(main, ["run", "--policy", str(DEFAULT_POLICY), "--input", str(inp), "--out", str(out),
                                    "--json"], env={"PREPKIT_KEY": TEST_KEY})
    return res, out


def _hits(data: bytes) -> list[str]:
    low = data.lower()
    return [c for c in CANARIES if c.lower().encode() in low or json.dumps(c).strip('"').lower().encode() in low]


def test_run_succeeds_and_every_kind_was_read(canary_run):
    res, out = canary_run
    assert res.exit_code == 2, res.output  # one line was rejected: the run finishes, and its exit code says so
    s = json.loads((out / "summary.json").read_text())
    assert s["conservation"]["ok"]
    assert s["records_in"] == 7 and s["routes"]["rejected"] == 1
    assert s["routes"]["finetune"] + s["routes"]["rag"] >= 3  # canaries reached the non-quarantine outputs


def test_canaries_only_in_quarantine(canary_run):
    res, out = canary_run
    leaks: dict[str, list[str]] = {}
    seen_in_quarantine: set[str] = set()
    for p in sorted(out.rglob("*")):
        if not p.is_file():
            continue
        rel = p.relative_to(out).as_posix()
        hits = _hits(p.read_bytes())
        if hits:  # the quarantine too: it is encrypted at rest
            leaks[rel] = hits
    for stream in ("stdout", "stderr", "output"):
        text = getattr(res, stream, "") or ""
        if _hits(text.encode()):
            leaks[stream] = _hits(text.encode())
    assert not leaks, leaks
    # the test would notice: the decrypted quarantine holds canaries, so the search works
    from prepkit.keys import KeyRing, _decode
    from prepkit.sinks.quarantine import read_quarantine

    key = KeyRing.from_bytes(_decode(os.environ["PREPKIT_KEY"], "test"))
    for e in read_quarantine(out, key):
        seen_in_quarantine.update(_hits(json.dumps(e.data, ensure_ascii=False).encode()))
    assert {SSNS[0], CARDS[0]} <= seen_in_quarantine


def test_rag_store_holds_only_anonymized_text(canary_run):
    from prepkit.keys import KeyRing, _decode
    from prepkit.rag.store import STORE_FILE, open_store

    _, out = canary_run
    store = open_store(out / "rag" / STORE_FILE, KeyRing.from_bytes(_decode(TEST_KEY, "t"), "t"))
    try:
        texts = [t for (t,) in store._q("SELECT text FROM chunks")]  # type: ignore[attr-defined]
    finally:
        store.close()  # type: ignore[attr-defined]
    assert texts, "the runbook and HR row should be in the RAG store"
    for t in texts:
        assert not _hits(t.encode()), t


def test_every_output_file_is_owner_only(canary_run):
    _, out = canary_run
    for p in [out, *out.rglob("*")]:
        mode = stat.S_IMODE(os.lstat(p).st_mode)
        if p.is_file():
            assert mode & 0o077 == 0, f"{p.relative_to(out)} is {oct(mode)}"
    for d in (out, out / "finetune", out / "quarantine", out / ".cache", out / "rag"):
        assert stat.S_IMODE(d.stat().st_mode) == 0o700, d
