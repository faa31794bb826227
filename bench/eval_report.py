"""Detection quality of prepkit's default policy beside vanilla Presidio, as markdown tables for bench/EVAL.md.

    .venv/bin/python bench/eval_report.py [--shared ../shared] [--policy policies/default.yaml] > /tmp/eval.md

Runs `prepkit.eval` (the same code as `prepkit eval`) for policies/vanilla.yaml and the given policy on both
shared datasets. Takes about a minute on 2 cores (four spaCy passes over ~580 KB of text).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prepkit.eval import EvalReport, evaluate, load_gold, policy_detector  # noqa: E402
from prepkit.policy import load_policy  # noqa: E402

DATASETS = ("presidio_synth", "wnut17_test")
TARGETS = {"presidio_synth": 0.95, "wnut17_test": 0.85}


def run(policy: Path, shared: Path) -> dict[str, EvalReport]:
    loaded = load_policy(policy)
    detect = policy_detector(loaded.policy)
    out = {}
    for name in DATASETS:
        rep = evaluate(load_gold(shared / "eval" / f"{name}.jsonl"), detect, dataset=name)
        rep.policy = loaded.identity
        out[name] = rep
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--policy", type=Path, default=ROOT / "policies" / "default.yaml")
    args = ap.parse_args()
    base = run(ROOT / "policies" / "vanilla.yaml", args.shared)
    ours = run(args.policy, args.shared)
    print("| dataset | policy | P | R | F2 | any-PII recall | seconds |")
    print("|---|---|---:|---:|---:|---:|---:|")
    for name in DATASETS:
        for label, rep in (("vanilla", base[name]), (args.policy.stem, ours[name])):
            o = rep.overall
            print(f"| {name} | {label} | {o.precision:.3f} | {o.recall:.3f} | {o.f2:.3f} | {o.any_recall:.3f} "
                  f"| {rep.seconds:.1f} |")
    print()
    for name in DATASETS:
        b, o = base[name].overall, ours[name].overall
        print(f"- {name}: F2 {b.f2:.3f} -> {o.f2:.3f} (target >= {b.f2 + 0.25:.3f}: "
              f"{'met' if o.f2 >= b.f2 + 0.25 else 'NOT met'}); any-PII recall {o.any_recall:.3f} "
              f"(target >= {TARGETS[name]:.2f}: {'met' if o.any_recall >= TARGETS[name] else 'NOT met'})")
    for name in DATASETS:
        print(f"\n#### {name}, per entity (vanilla -> {args.policy.stem})\n")
        print("| entity | gold | P | R | F2 | any-PII R |")
        print("|---|---:|---:|---:|---:|---:|")
        bp, op = base[name].per_entity, ours[name].per_entity
        for ent in sorted(op, key=lambda e: -op[e].gold):
            x, y = bp.get(ent), op[ent]
            if x is None:
                continue

            def pair(a: float, b: float) -> str:
                return f"{a:.3f} → **{b:.3f}**" if b > a + 0.0005 else f"{a:.3f} → {b:.3f}"

            print(f"| {ent} | {y.gold} | {pair(x.precision, y.precision)} | {pair(x.recall, y.recall)} | "
                  f"{pair(x.f2, y.f2)} | {pair(x.any_recall, y.any_recall)} |")


if __name__ == "__main__":
    main()
