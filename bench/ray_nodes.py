"""`prepkit run --engine ray` on a real Ray cluster of 1 node, then 2 nodes, on this machine: throughput per node count.

    python -m bench.ray_nodes [--mb 1] [--nodes 1,2] [--cpus-per-node 1]

Each node is its own `ray start` (bench/ray_cluster.py) with `--cpus-per-node` CPUs; the run uses one actor per
CPU of the cluster. Reported per case: wall seconds of the driver, records/s and characters/s, the CPU seconds of
every process of the cluster and the driver (sampled, own time), characters per CPU second, where the batches ran,
and the load average before and after (on a shared machine wall clock depends on what else runs; CPU seconds
less so). Input: Faker tickets and documents (bench/corpus.py), made once under build/bench/corpus-ray-<mb>mb.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

from bench.corpus import generate
from bench.ray_cluster import LocalRayCluster

ROOT = Path(__file__).resolve().parent.parent
POLICY = ROOT / "policies" / "default.yaml"


def _tree_cpu(pids: list[int], seen: dict[int, float], owner: dict[int, int] | None = None) -> None:
    for i, pid in enumerate(pids):
        try:
            p = psutil.Process(pid)
            procs = [p, *p.children(recursive=True)]
        except psutil.Error:
            continue
        for q in procs:
            try:
                t = q.cpu_times()
                seen[q.pid] = t.user + t.system  # own time only: children_* would count reaped workers twice
                if owner is not None:
                    owner.setdefault(q.pid, i)
            except psutil.Error:
                continue


def run_case(nodes: int, cpus: int, corpus: Path, out: Path, stats: dict[str, Any]) -> dict[str, Any]:
    load_before = os.getloadavg()
    with LocalRayCluster([{"CPU": cpus} for _ in range(nodes)]) as cluster:
        env = cluster.client_env()
        env.setdefault("PREPKIT_KEY", hashlib.sha256(b"prepkit-bench-ray-nodes").hexdigest())
        env.pop("PREPKIT_KEY_FILE", None)
        cmd = [sys.executable, "-c", "from prepkit.cli import main; main()", "run", "--policy", str(POLICY), "--input", str(corpus),
               "--out", str(out), "--engine", "ray", "--workers", str(nodes * cpus), "--no-cache", "--force",
               "--json"]
        cpu: dict[int, float] = {}
        baseline: dict[int, float] = {}
        _tree_cpu([p.pid for p in cluster.procs], baseline)  # the idle cluster's own start-up is not the run's
        started = time.monotonic()
        owner: dict[int, int] = {}  # pid -> 0 for the driver, i for node i
        # to files, not pipes: the summary alone can fill a pipe nobody reads while we sample
        with tempfile.TemporaryFile("w+") as out_f, tempfile.TemporaryFile("w+") as err_f:
            proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out_f, stderr=err_f, text=True)
            while proc.poll() is None:
                _tree_cpu([proc.pid, *(p.pid for p in cluster.procs)], cpu, owner)
                time.sleep(0.2)
            seconds = time.monotonic() - started
            out_f.seek(0)
            err_f.seek(0)
            stdout, stderr = out_f.read(), err_f.read()
        if proc.returncode not in (0, 2):
            raise RuntimeError(f"run on {nodes} node(s) exited {proc.returncode}:\n{stderr[-3000:]}")
    summary = json.loads(stdout)
    cpu_s = sum(v - baseline.get(pid, 0.0) for pid, v in cpu.items())
    parts = [0.0] * (nodes + 1)
    for pid, v in cpu.items():
        parts[owner.get(pid, 0)] += v - baseline.get(pid, 0.0)
    placement = next((line.split("ray engine: ", 1)[1] for line in stderr.splitlines() if "ray engine: " in line), "")
    return {"nodes": nodes, "cpus_per_node": cpus, "actors": nodes * cpus, "records": summary["records_in"],
            "chars": summary["chars"], "seconds": round(seconds, 1),
            "records_per_s": round(summary["records_in"] / seconds, 1), "chars_per_s": round(summary["chars"] / seconds),
            "cpu_seconds": round(cpu_s, 1), "chars_per_cpu_s": round(summary["chars"] / cpu_s) if cpu_s else None,
            "placement": placement, "cpu_seconds_driver": round(parts[0], 1),
            "cpu_seconds_per_node": [round(x, 1) for x in parts[1:]], "load_before": [round(x, 2) for x in load_before],
            "load_after": [round(x, 2) for x in os.getloadavg()], "corpus_bytes": stats["bytes"]}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--mb", type=float, default=1.0, help="corpus size in MB (default 1)")
    ap.add_argument("--nodes", default="1,2", help="node counts to run, comma-separated (default 1,2)")
    ap.add_argument("--cpus-per-node", type=int, default=1)
    ap.add_argument("--json", type=Path, help="also write the rows here")
    args = ap.parse_args(argv)
    corpus = ROOT / "build" / "bench" / f"corpus-ray-{args.mb:g}mb"
    stats = generate(corpus, int(args.mb * 1_000_000))
    rows = []
    for n in (int(x) for x in args.nodes.split(",")):
        row = run_case(n, args.cpus_per_node, corpus, ROOT / "build" / "bench" / f"ray-{n}node", stats)
        rows.append(row)
        print(json.dumps(row), flush=True)
    print("\n| nodes | actors | records | wall s | records/s | chars/s | CPU s (driver; per node) | chars/CPU-s | batches "
          "| load avg 1 min before/after |\n|---|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        print(f"| {r['nodes']} | {r['actors']} | {r['records']} | {r['seconds']} | {r['records_per_s']} | "
              f"{r['chars_per_s']} | {r['cpu_seconds']} ({r['cpu_seconds_driver']}; {r['cpu_seconds_per_node']}) | "
              f"{r['chars_per_cpu_s']} | {r['placement']} | "
              f"{r['load_before'][0]} / {r['load_after'][0]} |")
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2) + "\n")


if __name__ == "__main__":
    main()
