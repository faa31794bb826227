"""Ablation and throughput of the social-media detection changes (bench/EVAL.md, "Social-media round").

    .venv/bin/python bench/social_round.py               # P / R / F2 / any-PII with each change switched off
    .venv/bin/python bench/social_round.py --throughput  # chars per CPU-second with/without the truecased pass

Switches a change off by replacing its function in this process only (nothing on disk changes).
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import prepkit.detect.engine as eng  # noqa: E402
import prepkit.detect.propernoun as pn  # noqa: E402
import prepkit.detect.refine as rf  # noqa: E402
from prepkit.eval import Span, load_gold, score  # noqa: E402
from prepkit.policy import load_policy  # noqa: E402
from prepkit.records import Record, Segment  # noqa: E402

DATASETS = ("presidio_synth", "wnut17_test")
ORIG = (eng.case_mode, rf._LONE_NAME, pn._possessive_or_verb_after, pn._headline_case, rf._AT_PLACE,
        rf._ORG_HANDLE, rf._COMMON_ACRONYMS)
NEVER = re.compile(r"(?!)")


def _reset() -> None:
    (eng.case_mode, rf._LONE_NAME, pn._possessive_or_verb_after, pn._headline_case, rf._AT_PLACE, rf._ORG_HANDLE,
     rf._COMMON_ACRONYMS) = ORIG


VARIANTS: dict[str, Callable[[], None]] = {
    "all on": lambda: None,
    "- truecased NER pass": lambda: setattr(eng, "case_mode", lambda t: None),
    "- lone-word ORG -> PERSON": lambda: setattr(rf, "_LONE_NAME", NEVER),
    "- sentence-initial name before a verb": lambda: setattr(pn, "_possessive_or_verb_after", lambda d, j: False),
    "- headline-case rule": lambda: setattr(pn, "_headline_case", lambda d: False),
    "- PERSON after in/at/near -> LOCATION": lambda: setattr(rf, "_AT_PLACE", NEVER),
    "- outlet/company handle -> ORGANIZATION": lambda: setattr(rf, "_ORG_HANDLE", NEVER),
    "- common abbreviations are no names": lambda: setattr(rf, "_COMMON_ACRONYMS", set()),
}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--shared", type=Path, default=ROOT.parent / "shared")
    ap.add_argument("--throughput", action="store_true")
    args = ap.parse_args()
    det = eng.Detector(load_policy(ROOT / "policies" / "default.yaml").policy)
    data = {ds: load_gold(args.shared / "eval" / f"{ds}.jsonl") for ds in DATASETS}
    recs = {ds: [Record(str(i), "e", "text", [Segment("text", d.text)]) for i, d in enumerate(docs)]
            for ds, docs in data.items()}
    if args.throughput:
        for ds, rs in recs.items():
            chars = sum(len(d.text) for d in data[ds])
            best = {"without": float("inf"), "with": float("inf")}
            det.detect(rs[:50])  # warm-up
            for _ in range(3):  # interleaved, so machine load hits both alike
                for name in best:
                    _reset()
                    if name == "without":
                        VARIANTS["- truecased NER pass"]()
                    t0 = time.process_time()
                    det.detect(rs)
                    best[name] = min(best[name], time.process_time() - t0)
            print(ds, {k: f"{chars / v:,.0f} chars/CPU-s" for k, v in best.items()})
        return
    print("| variant | " + " | ".join(DATASETS) + " |\n|---|---|---|")
    for name, switch_off in VARIANTS.items():
        _reset()
        switch_off()
        cells = []
        for ds, docs in data.items():
            found = det.detect(recs[ds])
            o = score(docs, [[Span(f.start, f.end, f.entity_type) for f in fs] for fs in found]).overall
            cells.append(f"{o.precision:.3f} / {o.recall:.3f} / {o.f2:.3f} / {o.any_recall:.3f}")
        print(f"| {name} | " + " | ".join(cells) + " |", flush=True)


if __name__ == "__main__":
    main()
