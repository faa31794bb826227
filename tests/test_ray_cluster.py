"""`prepkit run --engine ray` on a real two-node Ray cluster on this machine (`ray start --head` plus a second
`ray start --address=...` with its own CPU and a custom resource), against the in-process engine on the same input.

The cluster reads the files itself (JSONL with broken lines, Parquet, CSV), actors on both nodes compute, and the
driver writes: fine-tune, quarantine and rejected files byte for byte, RAG rows, audit decisions and summary
counts must equal the local engine's. A `--force` re-run over the same OUT computes only the one record whose
cache entry was spoiled (every other comes from the result cache), and standard input (read by the driver, fed to
the same kind of stream) matches too.
The cluster lives under a private --temp-dir and is stopped by killing exactly the processes it started
(bench/ray_cluster.py), never with `ray stop`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bench.ray_cluster import LocalRayCluster
from tests.conftest import DEFAULT_POLICY, ROOT, TEST_KEY
from tests.test_resume import _rag_records, write_corpus

pytestmark = pytest.mark.slow  # ~1 minute: a cluster start, three runs on it (still run by `make test`)

BATCH = "6"
DATA_FILES = ("finetune/train.jsonl", "finetune/validation.jsonl", "quarantine/records.jsonl", "rejected.jsonl")


def _inputs(root: Path) -> Path:
    inp = root / "in"
    inp.mkdir()
    write_corpus(inp / "chats.jsonl", 30)  # chats, SSNs, runbooks and broken JSON lines
    pq.write_table(pa.table({"id": ["p1", "p2", "p3", "p4"],
                             "note": ["Call Mei Tanaka on 212-555-0147 about the refund.", "",
                                      "Server rack B is out of warranty.", "Email omar.haddad@example.com today."],
                             "doc_type": ["ticket", "ticket", "document", "ticket"]}), inp / "notes.parquet")
    (inp / "rows.csv").write_text("id,text\nr1,Lukas Novak moved to 44 Elm Street.\nr2,\nr3,The build is green.\n",
                                  encoding="utf-8")
    return inp


def _cmd(inp: str, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-c", "from prepkit.cli import main; main()", "run", "--policy", str(DEFAULT_POLICY),
            "--input", inp, "--out", str(out), "--batch-size", BATCH, "--json", *extra]


def _env(base: dict[str, str] | None = None) -> dict[str, str]:
    env = dict(base if base is not None else os.environ)
    env.pop("PREPKIT_KEY_FILE", None)
    env["PREPKIT_KEY"] = TEST_KEY
    if base is None:
        env.pop("RAY_ADDRESS", None)
    return env


def _finish(p: subprocess.Popen[str], timeout: float = 300) -> tuple[dict[str, object], str]:
    stdout, stderr = p.communicate(timeout=timeout)
    assert p.returncode == 2, stderr[-3000:]  # 2: the input holds rejected lines, on purpose
    return json.loads(stdout), stderr


def _same_outputs(a: Path, b: Path, sa: dict[str, object], sb: dict[str, object]) -> None:
    for name in DATA_FILES:
        assert (a / name).exists() == (b / name).exists(), name
        if (a / name).exists():
            assert (a / name).read_bytes() == (b / name).read_bytes(), name
    assert _rag_records(a) == _rag_records(b)
    keys = ("records_in", "routes", "entities_before", "entities_after", "operators", "chars", "reasons",
            "rejected_reasons", "identifiers", "inputs", "conservation")
    assert {k: sa[k] for k in keys} == {k: sb[k] for k in keys}
    assert _decisions(a, sa["run_id"]) == _decisions(b, sb["run_id"])


def _decisions(out: Path, run_id: object) -> list[tuple[object, ...]]:
    """One run's record and rejection events (a re-run over the same OUT appends to the same log)."""
    rows = [json.loads(line) for line in (out / "audit.jsonl").read_text().splitlines() if line.strip()]
    assert any(r.get("run_id") == run_id for r in rows)
    return [(r.get("event"), r.get("record_id"), r.get("route"), r.get("reason"), r.get("source"), r.get("line"), r.get("field"))
            for r in rows if r.get("run_id") == run_id and (r.get("record_id") or r.get("event") == "rejected")]


def _spoil_one_cache_entry(out: Path) -> None:
    """An entry whose key is there but whose value no longer decrypts: the actors skip the record (the key says
    cached), the driver cannot replay it, so it is computed on the driver - and outputs still do not change."""
    con = sqlite3.connect(out / ".cache" / "results.db")
    try:
        with con:
            (k,) = con.execute("SELECT k FROM results ORDER BY k LIMIT 1").fetchone()
            con.execute("UPDATE results SET v = ? WHERE k = ?", (b"\0" * 40, k))
    finally:
        con.close()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, object]:
    root = tmp_path_factory.mktemp("raycluster")
    inp = _inputs(root)
    stdin_data = (inp / "chats.jsonl").read_bytes()
    # the in-process references run while the cluster starts
    local = subprocess.Popen(_cmd(str(inp), root / "local", "--engine", "local", "--workers", "1", "--no-cache"),
                             env=_env(), cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    with (inp / "chats.jsonl").open("rb") as stdin:
        local_stdin = subprocess.Popen(_cmd("-", root / "local-stdin", "--engine", "local", "--workers", "1",
                                            "--no-cache"), env=_env(), cwd=ROOT, stdin=stdin,
                                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # head: 1 CPU; second node: 1 CPU and a resource of its own. One actor per CPU, so both nodes must work.
    with LocalRayCluster([{"CPU": 1}, {"CPU": 1, "second_node": 1}]) as cluster:
        env = _env(cluster.client_env())
        ray = subprocess.Popen(_cmd(str(inp), root / "ray", "--engine", "ray", "--workers", "2"), env=env, cwd=ROOT,
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        ray_summary, ray_err = _finish(ray)
        _spoil_one_cache_entry(root / "ray")
        again = subprocess.Popen(_cmd(str(inp), root / "ray", "--engine", "ray", "--workers", "2", "--force"),
                                 env=env, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        again_summary, _ = _finish(again)
        fed = subprocess.run(_cmd("-", root / "ray-stdin", "--engine", "ray", "--workers", "1", "--no-cache"),
                             env=env, cwd=ROOT, input=stdin_data, capture_output=True, timeout=300)
        assert fed.returncode == 2, fed.stderr.decode()[-3000:]
    local_summary, _ = _finish(local)
    local_stdin_summary, _ = _finish(local_stdin)
    return {"root": root, "local": local_summary, "ray": ray_summary, "ray_err": ray_err, "again": again_summary,
            "local_stdin": local_stdin_summary, "ray_stdin": json.loads(fed.stdout),
            "ray_stdin_err": fed.stderr.decode()}


def test_cluster_output_is_identical_to_local(runs):
    root: Path = runs["root"]  # type: ignore[assignment]
    _same_outputs(root / "ray", root / "local", runs["ray"], runs["local"])  # type: ignore[arg-type]
    ray = runs["ray"]
    assert ray["routes"]["rejected"] >= 4 and ray["routes"]["finetune"] > 0  # type: ignore[index]
    rejected = (root / "ray" / "rejected.jsonl").read_text()
    assert "chats.jsonl" in rejected and "notes.parquet" in rejected and "rows.csv" in rejected


def test_both_nodes_computed(runs):
    # one actor per node (each asks for a whole CPU; each node has one): the engine says where batches ran
    assert "ray engine:" in runs["ray_err"] and " on 2 nodes (" in runs["ray_err"], runs["ray_err"][-2000:]
    assert runs["ray"]["engine"] == {"name": "ray", "workers": 2, "nodes": 2}  # type: ignore[index]


def test_forced_rerun_computes_only_what_the_cache_cannot_replay(runs):
    root: Path = runs["root"]  # type: ignore[assignment]
    again, first = runs["again"], runs["ray"]
    records = sum(v for k, v in first["routes"].items() if k != "rejected")  # type: ignore[union-attr]
    assert first["steps"]["detect"]["records"] == records  # type: ignore[index]
    # every record but the spoiled one came from the cache; that one alone was detected again
    assert again["cache"]["hits"] == records - 1 and again["cache"]["misses"] == 1  # type: ignore[index]
    assert again["steps"]["detect"]["records"] == 1  # type: ignore[index]
    _same_outputs(root / "ray", root / "local", again, runs["local"])  # type: ignore[arg-type]


def test_standard_input_streams_through_the_cluster(runs):
    root: Path = runs["root"]  # type: ignore[assignment]
    _same_outputs(root / "ray-stdin", root / "local-stdin", runs["ray_stdin"], runs["local_stdin"])  # type: ignore[arg-type]
    assert "ray engine:" in runs["ray_stdin_err"]
