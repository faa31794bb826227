"""Are the post-detection stages' outputs unchanged? (transform, verification, routing and corpus recall, for a
change that must keep outputs byte-identical.)

    python -m bench.post_equal save /tmp/a.json                   # with this checkout
    PYTHONPATH=/path/to/other/checkout python -m bench.post_equal save /tmp/b.json
    python -m bench.post_equal compare /tmp/a.json /tmp/b.json    # exit 1 when a record differs

Every record of the bench shapes at 0.5 MB (bench/shapes.py) and of samples/ goes through what `prepkit run` does
after detection: learn every record's values into the corpus dictionary, match every record against it, then
transform, verify and route with the findings plus the matches (`Pipeline.finish`). Detection is held fixed: its
findings are computed once and cached (offsets only) under --cache, so a detection change made meanwhile by
someone else does not show up as a difference here. Stored per record: a SHA-256 of its route, rule, verification
failures, output texts and applied spans, never the texts themselves.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import sys
from pathlib import Path

from bench.shapes import SHAPES, write

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "bench" / "out"


def _inputs(shape: str) -> Path:
    if shape.startswith("samples/"):
        return ROOT / shape
    d = OUT / "matrix" / f"{shape}-0.5mb"
    write(shape, d, 500_000)
    return d / ("customers.csv" if shape == "csv" else f"{shape}.jsonl")


def save(path: Path, cache: Path, shapes: list[str]) -> None:
    from prepkit.detect.corpus import for_policy
    from prepkit.io.readers import read_inputs
    from prepkit.pipeline import Pipeline
    from prepkit.records import Record

    os.environ.setdefault("PREPKIT_KEY_FILE", str(OUT / "bench.key"))
    pipe = Pipeline(ROOT / "policies" / "default.yaml")
    cache.mkdir(parents=True, exist_ok=True)
    digests: dict[str, list[str]] = {}
    for shape in shapes:
        recs = [r for r in read_inputs([_inputs(shape)], pipe.options) if isinstance(r, Record)]
        cached = cache / f"{shape.replace('/', '_')}.findings.pkl"
        if cached.exists():
            findings = pickle.loads(cached.read_bytes())  # noqa: S301 - written by this script
        else:
            findings = []
            for i in range(0, len(recs), 64):
                findings += pipe.detector.detect(recs[i:i + 64])
            cached.write_bytes(pickle.dumps(findings))
        recall = for_policy(pipe.policy)  # (its key is drawn at random: digests never leave the run)
        assert recall is not None, "the default policy turns corpus recall on"
        for r, f in zip(recs, findings, strict=True):
            recall.learn([s.text for s in r.segments], f)
        out = []
        for r, f in zip(recs, findings, strict=True):
            extra = recall.match([s.text for s in r.segments], f)
            res = pipe.finish(r, f + extra)
            t = res.transformed
            blob = repr((res.decision.route, res.decision.rule, res.error,
                         [(x.check, x.entity_type, x.segment) for x in res.verification.failures],
                         None if t is None else (t.texts, [(a.segment, a.start, a.end, a.entity_type, a.operator)
                                                            for a in t.applied])))
            out.append(hashlib.sha256(blob.encode("utf-8", "surrogatepass")).hexdigest())
        digests[shape] = out
        print(shape, len(out), "records", flush=True)
    path.write_text(json.dumps(digests))


def compare(a: Path, b: Path) -> int:
    x, y = json.loads(a.read_text()), json.loads(b.read_text())
    bad = 0
    for shape in sorted(set(x) | set(y)):
        da, db = x.get(shape, []), y.get(shape, [])
        diff = sum(p != q for p, q in zip(da, db, strict=False)) + abs(len(da) - len(db))
        bad += diff
        print(f"{shape}: {len(da)} records, {diff} differ")
    return 1 if bad else 0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    s = sub.add_parser("save")
    s.add_argument("path", type=Path)
    s.add_argument("--cache", type=Path, default=OUT / "post_equal_cache")
    s.add_argument("--shapes", nargs="+", default=[*SHAPES, "samples/tickets.jsonl", "samples/hr_export.csv"])
    c = sub.add_parser("compare")
    c.add_argument("a", type=Path)
    c.add_argument("b", type=Path)
    args = ap.parse_args()
    if args.cmd == "save":
        save(args.path, args.cache, args.shapes)
    else:
        sys.exit(compare(args.a, args.b))


if __name__ == "__main__":
    main()
