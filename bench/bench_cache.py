"""Incremental re-run speed-up: `prepkit run` over N Faker-made chat tickets, then again over the same input.

    .venv/bin/python bench/bench_cache.py [--records 5000] [--workdir /tmp/prepkit-bench-cache]

Prints the first-run and re-run times (in-process `runner.run` duration and whole-CLI wall time) and the ratio,
and checks the re-run's outputs are byte-identical to the first run's. Not part of `make test`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def make_tickets(path: Path, n: int, seed: int = 7) -> Path:
    from faker import Faker

    fake = Faker("en_US")
    Faker.seed(seed)
    rnd = random.Random(seed)
    issues = ["cannot log in after the password reset", "was charged twice this month",
              "needs the invoice for March resent", "sees an error when exporting reports"]
    with path.open("w", encoding="utf-8") as f:
        for i in range(n):
            name, email, phone = fake.name(), fake.email(), fake.phone_number()
            user = (f"Hi, this is {name}. I {rnd.choice(issues)}. Reach me at {email} or {phone}. "
                    f"I live at {fake.city()}.")
            agent = f"Thanks {name.split()[0]}, I have opened a case and will follow up by email."
            f.write(json.dumps({"id": f"t-{i:06d}", "doc_type": "chat", "messages": [
                {"role": "user", "content": user}, {"role": "assistant", "content": agent}]}) + "\n")
    return path


def digest_outputs(out: Path) -> dict[str, str]:
    files = ["finetune/train.jsonl", "finetune/validation.jsonl", "quarantine/records.jsonl", "rejected.jsonl"]
    return {f: hashlib.sha256((out / f).read_bytes()).hexdigest() for f in files if (out / f).exists()}


def cli_run(inp: Path, out: Path, env: dict[str, str]) -> tuple[float, dict]:
    t = time.perf_counter()
    p = subprocess.run([str(ROOT / ".venv/bin/prepkit"), "run", "--policy", str(ROOT / "policies/default.yaml"),
                        "--input", str(inp), "--out", str(out), "--json"], env=env, capture_output=True,
                       text=True, check=True)
    return time.perf_counter() - t, json.loads(p.stdout)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, default=5000)
    ap.add_argument("--workdir", default="/tmp/prepkit-bench-cache")
    a = ap.parse_args()
    work = Path(a.workdir)
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    inp = make_tickets(work / "tickets.jsonl", a.records)
    env = dict(os.environ)
    if not env.get("PREPKIT_KEY_FILE") and not env.get("PREPKIT_KEY"):
        env["PREPKIT_KEY"] = "5a" * 32
    out = work / "out"
    wall1, s1 = cli_run(inp, out, env)
    d1 = digest_outputs(out)
    wall2, s2 = cli_run(inp, out, env)
    d2 = digest_outputs(out)
    print(f"records: {a.records}, chars: {s1['chars']}, cores: {os.cpu_count()}")
    print(f"first run:  run() {s1['duration_s']:.2f} s, CLI wall {wall1:.2f} s, cache {s1['cache']}")
    print(f"re-run:     run() {s2['duration_s']:.3f} s, CLI wall {wall2:.2f} s, cache {s2['cache']}")
    print(f"speed-up:   run() {s1['duration_s'] / s2['duration_s']:.0f}x, CLI wall {wall1 / wall2:.1f}x")
    print(f"outputs identical: {d1 == d2}")
    sys.exit(0 if d1 == d2 else 1)


if __name__ == "__main__":
    main()
