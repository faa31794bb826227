"""Is detection output unchanged? Detection findings (segment, span, type, score, detector) of `policies/default.yaml`
on every text of the seven ../shared/eval sets and of the bench shapes (bench/shapes.py, written at 0.5 MB).

    python -m bench.detect_equal save BEFORE.pkl [--shapes-dir DIR]   # on the old code
    python -m bench.detect_equal save AFTER.pkl [--shapes-dir DIR]    # on the new code
    python -m bench.detect_equal compare BEFORE.pkl AFTER.pkl         # exit 1 if any text's findings differ

Texts are detected in records of one segment, 64 records a batch, as `prepkit run` batches them.
"""

from __future__ import annotations

import argparse
import json
import pickle
import sys
import time
from pathlib import Path

from bench.shapes import SHAPES, SHARED, write

_SHAPE_BYTES = 500_000


def texts(shapes_dir: Path, eval_dir: Path) -> dict[str, list[str]]:
    """Corpus name -> its texts, in a fixed order."""
    out: dict[str, list[str]] = {}
    sets = sorted(eval_dir.glob("*.jsonl"))
    if len(sets) != 7:
        sys.exit(f"{eval_dir}: expected the seven eval sets, found {len(sets)}")
    for f in sets:
        out[f"eval/{f.stem}"] = [json.loads(line)["text"] for line in f.open(encoding="utf-8") if line.strip()]
    for shape in SHAPES:
        d = shapes_dir / shape
        if not (d / ".complete").exists():  # a write cut short leaves texts.jsonl behind, maybe empty
            write(shape, d, _SHAPE_BYTES)
        out[f"shape/{shape}"] = [json.loads(line)["text"] for line in (d / "texts.jsonl").open(encoding="utf-8")]
    return out


def save(path: Path, shapes_dir: Path, eval_dir: Path) -> None:
    from prepkit.detect import Detector
    from prepkit.policy import load_policy
    from prepkit.records import Record, Segment

    det = Detector(load_policy(Path(__file__).resolve().parent.parent / "policies" / "default.yaml").policy)
    found: dict[str, list[list[tuple[int, int, int, str, float, str]]]] = {}
    for name, ts in texts(shapes_dir, eval_dir).items():
        c0 = time.process_time()
        recs = [Record(str(i), name, "text", [Segment("text", t)], {}, i + 1) for i, t in enumerate(ts)]
        rows: list[list[tuple[int, int, int, str, float, str]]] = []
        for i in range(0, len(recs), 64):
            for fl in det.detect(recs[i:i + 64]):
                rows.append([(f.segment, f.start, f.end, f.entity_type, f.score, f.detector) for f in fl])
        found[name] = rows
        print(f"{name}: {len(ts)} texts, {sum(map(len, rows))} findings, {time.process_time() - c0:.1f} CPU-s",
              file=sys.stderr)
    path.write_bytes(pickle.dumps(found))


def compare(a: Path, b: Path) -> int:
    before, after = pickle.loads(a.read_bytes()), pickle.loads(b.read_bytes())
    bad = 0
    for name in sorted(set(before) | set(after)):
        x, y = before.get(name), after.get(name)
        if x is None or y is None or len(x) != len(y):
            print(f"{name}: present in one run only, or a different number of texts")
            bad += 1
            continue
        diff = [i for i, (p, q) in enumerate(zip(x, y, strict=True)) if p != q]
        print(f"{name}: {len(x)} texts, {sum(map(len, x))} findings, {len(diff)} texts differ"
              + (f" (first: text {diff[0]})" if diff else ""))
        bad += bool(diff)
    print("IDENTICAL" if not bad else f"DIFFERENT in {bad} corpora")
    return 1 if bad else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("save")
    s.add_argument("out", type=Path)
    s.add_argument("--shapes-dir", type=Path, default=Path(__file__).resolve().parent / "out" / "equal-shapes")
    s.add_argument("--eval-dir", type=Path, default=SHARED / "eval")
    c = sub.add_parser("compare")
    c.add_argument("before", type=Path)
    c.add_argument("after", type=Path)
    args = ap.parse_args()
    if args.cmd == "save":
        save(args.out, args.shapes_dir, args.eval_dir)
    else:
        sys.exit(compare(args.before, args.after))


if __name__ == "__main__":
    main()
