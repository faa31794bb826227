"""One very long record through `prepkit run` with its defaults: peak RSS and CPU time (issue 16: under 1.5 GB
for a 20M-character record).

    python -m bench.big_record --mchars 2 5          # one run per size, rows appended to bench/out/big_record.jsonl
    python -m bench.big_record --mchars 20 --keep    # keep the input and output folders under bench/out/

The record is the texts of the seven ../shared/eval dev sets (tweets, e-mail, court text, clinical queries,
Presidio's synthetic PII sentences) joined by blank lines, in a shuffled order, repeated (each round reshuffled)
until it holds the requested number of characters: real prose with real PII density, not one sentence copied.
Peak RSS is the peak of the sum over the process tree (driver + workers, polled every 0.1 s), and each process's
own peak as well (the largest single process is what a worker's memory limit meets).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import sys
from pathlib import Path
from typing import Any

from bench.measure import key_env, run_measured
from bench.shapes import SHARED

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
PREPKIT = str(Path(sys.executable).parent / "prepkit")
EVAL_SETS = ("asq_phi", "enron_emailcoref", "inlegalner_judgment", "inlegalner_preamble", "presidio_synth",
             "uner_ewt", "wnut17_test")


def big_text(chars: int, seed: int = 7) -> str:
    texts: list[str] = []
    for name in EVAL_SETS:
        with (SHARED / "eval" / f"{name}.jsonl").open(encoding="utf-8") as fh:
            texts.extend(json.loads(line)["text"] for line in fh if line.strip())
    rng = random.Random(seed)
    parts: list[str] = []
    size = 0
    while size < chars:
        rng.shuffle(texts)
        for t in texts:
            parts.append(t)
            size += len(t) + 2
            if size >= chars:
                break
    return "\n\n".join(parts)[:chars]


def write_input(path: Path, chars: int) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8") as fh:
        fh.write(json.dumps({"id": f"big-{chars}", "text": big_text(chars)}, ensure_ascii=False) + "\n")


def measure(cmd: list[str], env: dict[str, str]) -> dict[str, Any]:
    """Wall, CPU (own time of every process in the tree) and peak RSS (tree sum and per process)."""
    m = run_measured(cmd, env=env, ok_codes=(0, 1))
    return {"seconds": round(m.seconds, 1), "cpu_seconds": round(m.cpu_seconds, 1),
            "peak_rss_mb": round(m.peak_rss_mb), "per_process_peak_mb": m.per_process_peak_mb}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--mchars", type=float, nargs="+", default=[2.0, 5.0], help="record sizes, millions of chars")
    ap.add_argument("--keep", action="store_true", help="keep input and output folders")
    ap.add_argument("--label", default="", help="a note stored with each row (e.g. the commit measured)")
    args = ap.parse_args()
    env = key_env(OUT)
    for m in args.mchars:
        chars = int(m * 1_000_000)
        d = OUT / "big_record" / f"{m:g}m"
        src = d / "big.jsonl"
        if not src.exists():
            write_input(src, chars)
        out = d / "run"
        shutil.rmtree(out, ignore_errors=True)
        # defaults as a user types them (the result cache lives in OUT/.cache, removed before each run)
        cmd = [PREPKIT, "run", "--policy", str(ROOT / "policies" / "default.yaml"), "--input", str(src),
               "--out", str(out), "--quiet"]
        row = {"mchars": m, "chars": chars, **measure(cmd, env), "load_avg": round(os.getloadavg()[0], 2),
               "cores": os.cpu_count(), "label": args.label}
        s = json.loads((out / "summary.json").read_text())
        row["routes"] = {k: v for k, v in s["routes"].items() if v}
        row["chars_per_cpu_s"] = round(chars / row["cpu_seconds"]) if row["cpu_seconds"] else None
        print(json.dumps(row), flush=True)
        with (OUT / "big_record.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")
        if not args.keep:
            shutil.rmtree(out, ignore_errors=True)


if __name__ == "__main__":
    main()
