"""The bench matrix (issue 16): every corpus shape at every size, vanilla Presidio vs `prepkit run` with its
defaults (no --workers, no --no-cache: what a user types), → bench/MATRIX.md and bench/out/matrix.json.

    python -m bench.matrix                          # every shape at 0.5 and 10 MB (tens of minutes on 2 cores)
    python -m bench.matrix --sizes 0.5 --shapes dense long
    python -m bench.matrix --only prepkit           # keep the vanilla cells already measured, re-measure prepkit
    python -m bench.matrix --sizes 100 --shapes tickets --vanilla-from 10

Vanilla is `BatchAnalyzerEngine` + `AnonymizerEngine` in one process, as Presidio's docs show it, on the same
texts (bench/shapes.py). prepkit runs twice: `policies/default.yaml` (what users run: more recognizers, surrogates,
verification) and `bench/policy.yaml` (Presidio's recognizers and replacement, like for like). Each case is a
child process measured with its model load (bench/measure.py).

Vanilla is single-threaded: its wall time on an idle machine equals its CPU time, so the wall-clock ratio uses
vanilla's CPU seconds as its wall time. `--vanilla-from 10` extrapolates vanilla linearly (per character) from the
10 MB cell of the same shape, for sizes vanilla would take hours on; the report says where it did.

CPU seconds are not a constant of the code: they move with the load on the machine, the processor and the
harness. Vanilla cells kept through several `--only prepkit` runs were 24-38% slower than the same harness measures
on a quiet machine, and 10 MB cells measured at load 5-12 were 17-32% slower: both flattered prepkit's ratios. So
each side of a cell records when, at which commit and on which processor it was measured (and the load), and the
table prints it: a ratio is only as good as the pair of runs it divides. Measure both sides together.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from bench.measure import key_env, run_measured
from bench.run import _cpu_model
from bench.shapes import SHAPES, write
from prepkit.engine import cpu_count

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
RESULTS = OUT / "matrix.json"
PY = sys.executable
PREPKIT = str(Path(sys.executable).parent / "prepkit")
POLICIES = {"default": ROOT / "policies" / "default.yaml", "like-for-like": ROOT / "bench" / "policy.yaml"}
MB = 1_000_000


def _corpus(shape: str, size_mb: float) -> tuple[Path, dict[str, Any]]:
    d = OUT / "matrix" / f"{shape}-{size_mb:g}mb"
    return d, write(shape, d, int(size_mb * MB))


def _vanilla(d: Path) -> dict[str, Any]:
    m = run_measured([PY, "-m", "bench.vanilla", "batch", str(d / "texts.jsonl")])
    info = json.loads(m.stdout)
    return {"seconds": round(m.seconds, 2), "cpu_seconds": round(m.cpu_seconds, 2),
            "peak_rss_mb": round(m.peak_rss_mb), "chars": info["chars"], "load_seconds": round(info["load_seconds"], 2),
            "load_avg": round(os.getloadavg()[0], 2), **_provenance()}


def _provenance() -> dict[str, str]:
    """When, at which commit and on which processor a side of a cell was measured (see the docstring: CPU
    seconds drift, and sessions have run on different processor models)."""
    try:
        rev = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                             text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        rev = "?"
    return {"measured_at": dt.datetime.now(dt.UTC).isoformat()[:16], "revision": rev, "cpu": _cpu_model()}


def _prepkit(d: Path, shape: str, policy: str) -> dict[str, Any]:
    out = OUT / "matrix-runs" / f"{d.name}-{policy}"
    shutil.rmtree(out, ignore_errors=True)
    env = key_env(OUT)
    src = d / ("customers.csv" if shape == "csv" else f"{shape}.jsonl")
    cmd = [PREPKIT, "run", "--policy", str(POLICIES[policy]), "--input", str(src), "--out", str(out), "--quiet"]
    m = run_measured(cmd, env=env, ok_codes=(0, 1))
    s = json.loads((out / "summary.json").read_text())
    row = {"seconds": round(m.seconds, 2), "cpu_seconds": round(m.cpu_seconds, 2),
           "peak_rss_mb": round(m.peak_rss_mb), "records": s["records_in"], "chars": s["chars"],
           "workers": s["engine"]["workers"],  # what ran (auto may stay at one)
           "routes": {k: v for k, v in s["routes"].items() if v},
           "load_avg": round(os.getloadavg()[0], 2), **_provenance()}
    shutil.rmtree(out, ignore_errors=True)
    return row


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.matrix", description=__doc__.split("\n\n")[0])
    ap.add_argument("--shapes", nargs="*", default=list(SHAPES), choices=SHAPES)
    ap.add_argument("--sizes", nargs="*", type=float, default=[0.5, 10.0], help="input sizes in MB")
    ap.add_argument("--policies", nargs="*", default=list(POLICIES), choices=list(POLICIES))
    ap.add_argument("--only", choices=("vanilla", "prepkit"), help="measure one side, keep the other's cells (the table shows when each was measured)")
    ap.add_argument("--vanilla-from", type=float, default=None,
                    help="for sizes above this (MB), extrapolate vanilla from this size's cell instead of running it")
    args = ap.parse_args()
    res: dict[str, Any] = json.loads(RESULTS.read_text()) if RESULTS.exists() else {}
    res["machine"] = {"cores": cpu_count(), "cpu": _cpu_model(), "date": dt.datetime.now(dt.UTC).isoformat()[:16],
                      "load_at_start": round(os.getloadavg()[0], 2)}
    cells = res.setdefault("cells", {})

    def save() -> None:
        OUT.mkdir(parents=True, exist_ok=True)
        RESULTS.write_text(json.dumps(res, indent=2))
        write_report(res, ROOT / "bench" / "MATRIX.md")

    for size in args.sizes:
        for shape in args.shapes:
            d, stats = _corpus(shape, size)
            cell = cells.setdefault(f"{shape}@{size:g}", {"shape": shape, "mb": size, "corpus": stats})
            cell["corpus"] = stats
            if args.only != "prepkit":
                if args.vanilla_from is not None and size > args.vanilla_from:
                    base = cells.get(f"{shape}@{args.vanilla_from:g}", {}).get("vanilla")
                    if base:
                        f = stats["chars"] / base["chars"]
                        cell["vanilla"] = {**{k: base[k] * f for k in ("seconds", "cpu_seconds")},
                                           "chars": stats["chars"], "peak_rss_mb": None,
                                           "extrapolated_from_mb": args.vanilla_from}
                else:
                    print(f"[matrix] {shape} {size:g} MB: vanilla ...", file=sys.stderr, flush=True)
                    cell["vanilla"] = _vanilla(d)
                save()
            if args.only != "vanilla":
                for policy in args.policies:
                    print(f"[matrix] {shape} {size:g} MB: prepkit ({policy}) ...", file=sys.stderr, flush=True)
                    cell.setdefault("prepkit", {})[policy] = _prepkit(d, shape, policy)
                    save()
    save()


def _ratio(v: dict[str, Any] | None, p: dict[str, Any]) -> tuple[str, str]:
    if not v or not p.get("cpu_seconds"):
        return "–", "–"
    wall = v["cpu_seconds"] / p["seconds"]  # vanilla is one process: idle-machine wall = its CPU time
    cpu = v["cpu_seconds"] / p["cpu_seconds"]
    mark = lambda x, t: f"**{x:.2f}×**" if x >= t else f"{x:.2f}× (miss)"  # noqa: E731
    return mark(wall, 3.0), mark(cpu, 1.5)


def _when(side: dict[str, Any] | None) -> str:
    if not side:
        return "–"
    if side.get("extrapolated_from_mb"):
        return f"from {side['extrapolated_from_mb']:g} MB"
    at = side.get("measured_at")
    if not at:
        return "not recorded"
    return f"{at[5:10]} {at[11:16]} {side.get('revision', '')}".strip()


def write_report(res: dict[str, Any], path: Path) -> None:
    m = res.get("machine", {})
    lines = ["# Bench matrix: vanilla Presidio vs `prepkit run` (defaults), every corpus shape and size", "",
             "Generated by `python -m bench.matrix` (`make bench`); raw figures in `bench/out/matrix.json`. "
             "What the cells mean is in bench/matrix.py's docstring.", "",
             f"- Machine: **{m.get('cores', '?')} cores** ({m.get('cpu', '?')}), last run {m.get('date', '?')} UTC.",
             "- Targets (issue 16): ≥ 3× vanilla by wall clock and ≥ 1.5× per CPU-second on every cell; peak RSS "
             "< 1.5 GB.",
             "- Vanilla is one process: its wall time on an idle machine is its CPU time, so both ratios divide by "
             "vanilla's CPU seconds. **Quote ratios**; each row gives the 1-minute load average when it finished.",
             "", "| shape | MB | records | chars | policy | workers | prepkit wall s | prepkit CPU s | vanilla CPU s "
             "| × vanilla (wall) | × vanilla (per CPU-s) | peak RSS MB (prepkit / vanilla) | load | measured (prepkit / "
             "vanilla, UTC) |",
             "|---|---:|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---|"]
    for key in sorted(res.get("cells", {}), key=lambda k: (float(k.split("@")[1]), k)):
        c = res["cells"][key]
        v = c.get("vanilla")
        vcpu = "–" if not v else (f"{v['cpu_seconds']:.1f}" + (" (extrapolated)" if v.get("extrapolated_from_mb")
                                                              else ""))
        for policy, p in c.get("prepkit", {}).items():
            wall, cpu = _ratio(v, p)
            vr = v.get("peak_rss_mb") if v else None
            lines.append(f"| {c['shape']} | {c['mb']:g} | {p['records']:,} | {p['chars']:,} | {policy} "
                         f"| {p.get('workers', '?')} | {p['seconds']:.1f} | {p['cpu_seconds']:.1f} | {vcpu} | {wall} "
                         f"| {cpu} | {p['peak_rss_mb']} / {vr if vr is not None else '–'} | {p.get('load_avg', '?')} "
                         f"| {_when(p)} / {_when(v)} |")
        if not c.get("prepkit") and v:
            lines.append(f"| {c['shape']} | {c['mb']:g} | {c['corpus']['records']:,} | {v['chars']:,} | – | – | – "
                         f"| – | {vcpu} | – | – | – / {v.get('peak_rss_mb') or '–'} | {v.get('load_avg') or '–'} "
                         f"| – / {_when(v)} |")
    # the hand-written notes under the table (from "## Notes" on) survive a regeneration
    old = path.read_text(encoding="utf-8") if path.exists() else ""
    notes = old[old.index("\n## Notes"):] if "\n## Notes" in old else ""
    path.write_text("\n".join(lines) + "\n" + notes)


if __name__ == "__main__":
    main()
