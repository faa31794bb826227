"""One run over a folder of hostile inputs: identifiers that carry personal data (record ids, file and folder
names, chat roles, CSV header names), duplicated ids within and across files, a line that is not JSON, and a
policy that lets unverified records into the RAG store. Every record is accounted for, no canary is written
outside quarantine (the encrypted store's text aside, where this policy sends unverified records), and the exit
code says how it went (2: an input line was rejected)."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from prepkit.cli import main
from prepkit.keys import KeyRing
from prepkit.rag import open_store
from tests.conftest import TEST_KEY

POLICY = """\
version: 1
name: careless
detection: {entities: [PERSON, EMAIL_ADDRESS]}
actions:
  PERSON: {operator: synthesize}
  EMAIL_ADDRESS: {operator: mask, count: 1}
routing:
  default: {route: rag, reason: everything to the store, labels: [internal]}
access:
  roles: {support: [internal]}
"""
CANARIES = ("kowalski", "maria lopez", "maria_lopez", "nna.kowalski@example", "555-867-5309")


def _inputs(root: Path) -> int:
    (root / "anna_kowalski_medical.jsonl").write_text("".join(json.dumps(r) + "\n" for r in [
        {"id": "anna.kowalski@example.com", "text": "Please reset the VPN token for the night shift."},
        {"id": "dup", "messages": [{"role": "Anna Kowalski", "content": "My laptop will not boot."},
                                   {"role": "assistant", "content": "Hold the power button for ten seconds."}]},
        # the mask leaves the address readable, and its copy in `doc_type` fails verification: unverified, and
        # still routed to the store by this policy; the report and the cache must not show it
        {"id": "dup", "text": "Write to anna.kowalski@example.com about the parking permit.",
         "doc_type": "anna.kowalski@example.com"},
    ]) + "{not json\n")
    hr = root / "hr"
    hr.mkdir()
    (hr / "maria_lopez.csv").write_text("id,notes,Maria Lopez\ndup,Badge renewal is due in May,yes\n"
                                        "555-867-5309,Locker 14 is free again,no\n")
    return 3 + 1 + 2  # three records, one rejected line, two rows


def test_adversarial_folder(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.mkdir()
    expected = _inputs(src)
    pol = tmp_path / "careless.yaml"
    pol.write_text(POLICY)
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["run", "-p", str(pol), "-i", str(src), "-o", str(out), "--json"])
    assert res.exit_code == 2, res.output  # the run completes; a rejected input line makes it exit 2
    summary = json.loads(res.stdout)
    assert summary["records_in"] == expected and summary["conservation"]["ok"]
    assert sum(summary["routes"].values()) == expected and summary["routes"]["rejected"] == 1
    assert summary["identifiers"]["duplicate_ids_renamed"] == 2
    assert set(summary["identifiers"]["pseudonymized"]) == {"column", "file", "id", "role"}

    # nothing outside quarantine holds a canary: files (hidden ones, the cache's last-run state included) and
    # the console output
    leaks = []
    for p in out.rglob("*"):
        rel = p.relative_to(out).as_posix()
        if p.is_file() and not rel.startswith("quarantine/") and p.suffix != ".lock":
            data = p.read_bytes().lower()
            leaks += [(rel, c) for c in CANARIES if c.encode() in data]
        leaks += [(rel, "path") for c in CANARIES if c in rel.lower()]
    leaks += [("console", c) for c in CANARIES if c in res.output.lower()]
    assert not leaks

    # the store's metadata (ids, sources, roles, segment keys) holds none either
    store = open_store(out, KeyRing.from_bytes(bytes.fromhex(TEST_KEY)))
    try:
        rows = store.db.execute("SELECT record_id, source, segment, role FROM chunks").fetchall()  # type: ignore[attr-defined]
    finally:
        store.close()
    meta = json.dumps(rows).lower()
    assert rows and not [c for c in CANARIES if c in meta]
    ids = {r[0] for r in rows}
    assert len(ids) == summary["routes"]["rag"]  # none replaced another
