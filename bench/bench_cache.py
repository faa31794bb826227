"""Incremental re-run speed-up: `prepkit run` over N Faker-made chat tickets, then again over the same input.

    .venv/bin/python bench/bench_cache.py [--records 5000] [--workdir /tmp/prepkit-bench-cache]

Runs: a first run; an unchanged re-run (the run-level up-to-date check); a `--force` re-run (every record replayed
from the per-record cache); a re-run after changing one record; and a fresh `--no-cache` run over the changed input.
Prints CLI wall times and ratios to the first run, and checks the outputs: first = unchanged = forced, and
one-changed = fresh. Not part of `make test`.
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


def cli_run(inp: Path, out: Path, env: dict[str, str], *extra: str) -> tuple[float, dict]:
    t = time.perf_counter()
    p = subprocess.run([str(ROOT / ".venv/bin/prepkit"), "run", "--policy", str(ROOT / "policies/default.yaml"),
                        "--input", str(inp), "--out", str(out), "--json", *extra], env=env, capture_output=True,
                       text=True, check=True)
    return time.perf_counter() - t, json.loads(p.stdout)


def change_one_record(inp: Path) -> None:
    lines = inp.read_text(encoding="utf-8").splitlines()
    rec = json.loads(lines[len(lines) // 2])
    rec["messages"][0]["content"] += " My colleague Ada Byron can confirm."
    lines[len(lines) // 2] = json.dumps(rec)
    inp.write_text("\n".join(lines) + "\n", encoding="utf-8")


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
    wall2, s2 = cli_run(inp, out, env)  # nothing changed: the run-level up-to-date check
    d2 = digest_outputs(out)
    wall3, s3 = cli_run(inp, out, env, "--force")  # every record replayed from the per-record cache
    d3 = digest_outputs(out)
    change_one_record(inp)
    wall4, s4 = cli_run(inp, out, env)  # one record changed: only it is recomputed
    d4 = digest_outputs(out)
    wall5, _ = cli_run(inp, work / "fresh", env, "--no-cache")
    d5 = digest_outputs(work / "fresh")
    print(f"records: {a.records}, chars: {s1['chars']}, cores: {os.cpu_count()}")
    print(f"first run:              CLI wall {wall1:7.2f} s   run() {s1['duration_s']:.2f} s")
    print(f"unchanged re-run:       CLI wall {wall2:7.2f} s   {wall1 / wall2:5.1f}x   up_to_date={bool(s2.get('up_to_date'))}")
    print(f"re-run --force:         CLI wall {wall3:7.2f} s   {wall1 / wall3:5.1f}x   cache {s3['cache']}")
    print(f"one record changed:     CLI wall {wall4:7.2f} s   {wall1 / wall4:5.1f}x   cache {s4['cache']}")
    print(f"fresh run (--no-cache): CLI wall {wall5:7.2f} s")
    same = d1 == d2 == d3 and d4 == d5
    print(f"outputs identical (first = unchanged = forced; one-changed = fresh): {same}")
    sys.exit(0 if same else 1)


if __name__ == "__main__":
    main()
