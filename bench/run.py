"""`make bench`: vanilla Presidio vs `prepkit run`, same model, same machine, one session → bench/RESULTS.md.

    python -m bench.run                      # the full set (tens of minutes on 2 cores)
    python -m bench.run --quick              # a smoke run on small corpora
    python -m bench.run --only eval          # one corpus; results merge into bench/out/results.json

Every case runs as a child process (models loaded inside, as a user would run it), measured by bench.measure.
Quote the ratios: absolute times on a shared machine are noisy.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shutil
import sys
from pathlib import Path
from typing import Any

from bench.corpus import eval_corpus, generate
from bench.measure import as_row, run_measured
from prepkit.engine import cpu_count

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"
POLICY = ROOT / "bench" / "policy.yaml"
SHARED_EVAL = ROOT.parent / "shared" / "eval"
PY = sys.executable
PREPKIT = str(Path(sys.executable).parent / "prepkit")
MB = 1_000_000


def _prefix(src: Path, dst: Path, mb: float) -> Path:
    """The first `mb` MB of a generated corpus (each file cut at a line boundary in proportion)."""
    if (dst / ".complete").exists():
        return dst
    dst.mkdir(parents=True, exist_ok=True)
    files = sorted(src.glob("*.jsonl"))
    total = sum(f.stat().st_size for f in files)
    for f in files:
        budget = int(f.stat().st_size * mb * MB / total)
        with f.open("rb") as fi, (dst / f.name).open("wb") as fo:
            n = 0
            for line in fi:
                if n >= budget:
                    break
                fo.write(line)
                n += len(line)
    (dst / ".complete").write_text("{}")
    return dst


def _count(corpus: Path) -> tuple[int, int]:
    records = chars = 0
    for f in sorted(corpus.glob("*.jsonl")):
        with f.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    records += 1
                    chars += len(json.loads(line)["text"])
    return records, chars


def vanilla(mode: str, corpus: Path) -> dict[str, Any]:
    files = [str(f) for f in sorted(corpus.glob("*.jsonl"))]
    m = run_measured([PY, "-m", "bench.vanilla", mode, *files])
    info = json.loads(m.stdout)
    return as_row(m, info["records"], info["chars"], load_seconds=round(info["load_seconds"], 2))


def prepkit(corpus: Path, workers: int, engine: str = "local", tag: str = "") -> dict[str, Any]:
    out = OUT / "runs" / f"{corpus.name}-{engine}-w{workers}{tag}"
    shutil.rmtree(out, ignore_errors=True)
    key = OUT / "bench.key"
    if not key.exists():
        from prepkit.keys import write_key_file

        write_key_file(key)
    env = {**os.environ, "PREPKIT_KEY_FILE": str(key)}
    env.pop("PREPKIT_KEY", None)
    cmd = [PREPKIT, "run", "--policy", str(POLICY), "--input", str(corpus), "--out", str(out),
           "--workers", str(workers), "--engine", engine, "--quiet"]
    if "--no-cache" in _run_help():
        cmd.append("--no-cache")  # a first run: measure the work, not a cache write
    m = run_measured(cmd, env=env)
    s = json.loads((out / "summary.json").read_text())
    shutil.rmtree(out / "rag", ignore_errors=True)
    return as_row(m, s["records_in"], s["chars"], workers=workers, engine=engine,
                  routes={k: v for k, v in s["routes"].items() if v})


_HELP: list[str] = []


def _run_help() -> str:
    if not _HELP:
        import subprocess

        _HELP.append(subprocess.run([PREPKIT, "run", "--help"], capture_output=True,
                                    text=True).stdout)
    return _HELP[0]


def main() -> None:
    ap = argparse.ArgumentParser(prog="python -m bench.run")
    ap.add_argument("--quick", action="store_true", help="small corpora, for a smoke run")
    ap.add_argument("--only", nargs="*", default=None,
                    help="corpora to run: eval, 10mb, 100mb, streaming (default: all)")
    ap.add_argument("--record-mb", type=float, default=2.0,
                    help="per-record vanilla and 1-worker prepkit run on this prefix of the 10 MB corpus")
    ap.add_argument("--main-mb", type=float, default=None,
                    help="vanilla batch and N-worker prepkit run on this prefix of the 10 MB corpus (default: all "
                         "of it; use a prefix when the machine is too busy to finish)")
    ap.add_argument("--big-mb", type=float, default=20.0,
                    help="the 100 MB case runs prepkit on this prefix; the rest is extrapolated linearly")
    ap.add_argument("--ray", action="store_true", help="also run --engine ray on the eval texts")
    ap.add_argument("--skip-done", action="store_true",
                    help="keep cases already in bench/out/results.json (resume an interrupted bench)")
    args = ap.parse_args()
    cores = cpu_count()
    OUT.mkdir(parents=True, exist_ok=True)
    results_file = OUT / ("results-quick.json" if args.quick else "results.json")
    results: dict[str, Any] = json.loads(results_file.read_text()) if results_file.exists() else {}
    results["machine"] = {"cores": cores, "cpu": _cpu_model(), "python": platform.python_version(),
                          "load_at_start": os.getloadavg()[0], "date": dt.datetime.now(dt.UTC).isoformat()[:16]}

    def save() -> None:
        results_file.write_text(json.dumps(results, indent=2))
        if not args.quick:
            from bench.report import write_results

            write_results(results, ROOT / "bench" / "RESULTS.md")

    def case(corpus_name: str, name: str, fn: Any, *a: Any, **kw: Any) -> None:
        if args.skip_done and name in results.get(corpus_name, {}):
            return
        print(f"[bench] {corpus_name} / {name} ...", file=sys.stderr, flush=True)
        row = fn(*a, **kw)
        row["load_avg"] = round(os.getloadavg()[0], 2)
        results.setdefault(corpus_name, {})[name] = row
        print(f"[bench]   {row['chars_per_s']} chars/s, {row['records_per_s']} rec/s, "
              f"{row['peak_rss_mb']} MB peak", file=sys.stderr, flush=True)
        save()

    want = set(args.only or ["eval", "10mb", "100mb", "streaming"])
    size10 = 0.3 if args.quick else 10
    record_mb = 0.1 if args.quick else args.record_mb
    if "eval" in want:
        ev = OUT / "corpus-eval"
        results.setdefault("corpora", {})["eval"] = eval_corpus(ev, SHARED_EVAL)
        case("eval", "vanilla_record", vanilla, "record", ev)
        case("eval", "vanilla_batch", vanilla, "batch", ev)
        case("eval", "prepkit_w1", prepkit, ev, 1)
        case("eval", f"prepkit_w{cores}", prepkit, ev, cores)
        if args.ray:
            case("eval", f"prepkit_ray_w{cores}", prepkit, ev, cores, "ray")
    c10 = OUT / f"corpus-{size10:g}mb"
    if want & {"10mb", "streaming"}:
        results.setdefault("corpora", {})["10mb"] = generate(c10, int(size10 * MB))
    if "10mb" in want:
        small = _prefix(c10, OUT / f"corpus-{size10:g}mb-prefix{record_mb:g}", record_mb)
        recs, chars = _count(small)
        results.setdefault("corpora", {})["10mb_prefix"] = {"mb": record_mb, "records": recs, "chars": chars}
        case("10mb_prefix", "vanilla_record", vanilla, "record", small)
        case("10mb_prefix", "vanilla_batch", vanilla, "batch", small)
        case("10mb_prefix", "prepkit_w1", prepkit, small, 1)
        case("10mb_prefix", f"prepkit_w{cores}", prepkit, small, cores)
        main_c = c10
        if args.main_mb and args.main_mb < size10:
            main_c = _prefix(c10, OUT / f"corpus-{size10:g}mb-prefix{args.main_mb:g}", args.main_mb)
        recs, chars = _count(main_c)
        results["corpora"]["10mb_main"] = {"mb": args.main_mb or size10, "records": recs, "chars": chars}
        case("10mb", "vanilla_batch", vanilla, "batch", main_c)
        case("10mb", f"prepkit_w{cores}", prepkit, main_c, cores)
    if want & {"100mb", "streaming"}:
        big_mb = 1.0 if args.quick else args.big_mb
        c100 = OUT / ("corpus-3mb" if args.quick else "corpus-100mb")
        results.setdefault("corpora", {})["100mb"] = generate(c100, (3 if args.quick else 100) * MB)
        part = _prefix(c100, OUT / f"{c100.name}-prefix{big_mb:g}", big_mb)
        recs, chars = _count(part)
        results["corpora"]["100mb_prefix"] = {"mb": big_mb, "records": recs, "chars": chars}
        case("100mb_prefix", f"prepkit_w{cores}", prepkit, part, cores)
    save()
    print(f"[bench] wrote {results_file}" + ("" if args.quick else " and bench/RESULTS.md"), file=sys.stderr)


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


if __name__ == "__main__":
    main()
