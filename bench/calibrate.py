"""Measure the calibration table: each finding class's precision on the labelled dev sets.

    .venv/bin/python bench/calibrate.py    # [PREPKIT_EVAL_DIR=../shared/eval] writes prepkit/detect/calibration.json and bench/CALIBRATION.md

Runs the default policy's detection with every threshold at 0 and calibration off, on every set in
../shared/eval/, and counts per class (recognizer/ENTITY[/evidence], see prepkit/detect/calibrate.py) how many
findings overlap a gold span of the same label. Only findings of labels a set annotates count (a DATE_TIME on a
set that labels no dates is neither right nor wrong). The score is the pooled precision with add-one smoothing,
(right + 1) / (findings + 2), so a class seen a handful of times is not scored 0 or 1.

It then scores each set with a table fitted on the other six (leave one set out) beside the shipped table and the
raw scores, and writes that comparison under the table in bench/CALIBRATION.md: the estimate of how much of the
calibration's gain carries to data it was not fitted on.
"""

from __future__ import annotations

import json
import os
import sys
from collections import defaultdict
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from prepkit.detect.calibrate import MIN_SUPPORT, class_of  # noqa: E402
from prepkit.detect.engine import Detector  # noqa: E402
from prepkit.eval import GoldDoc, Span, load_gold, score  # noqa: E402
from prepkit.policy import load_policy  # noqa: E402
from prepkit.records import Record, Segment  # noqa: E402

EVAL = Path(os.environ.get("PREPKIT_EVAL_DIR", ROOT.parent / "shared" / "eval"))  # the dev sets
SETS = ("presidio_synth", "wnut17_test", "enron_emailcoref", "inlegalner_preamble", "inlegalner_judgment", "asq_phi",
        "uner_ewt")


Found = tuple[int, int, str, float, str]  # start, end, entity type, raw score, calibration class


def measure(policy_path: Path) -> dict[str, tuple[list[GoldDoc], list[list[Found]]]]:
    """Per set: its gold documents and, per document, every finding with its raw score and calibration class."""
    policy = load_policy(policy_path).policy
    det = policy.detection.model_copy(update={"default_threshold": 0.0, "thresholds": {}})
    detector = Detector(policy.model_copy(update={"detection": det}), calibrated=False)
    out: dict[str, tuple[list[GoldDoc], list[list[Found]]]] = {}
    for name in SETS:
        docs = load_gold(EVAL / f"{name}.jsonl")
        recs = [Record(str(i), "eval", "text", [Segment("text", d.text)]) for i, d in enumerate(docs)]
        found = [[(f.start, f.end, f.entity_type, f.score, class_of(doc.text, f.detector, f.entity_type, f.start,
                                                                     f.end)) for f in findings]
                 for doc, findings in zip(docs, detector.detect(recs), strict=True)]
        out[name] = (docs, found)
        print(name, sum(len(f) for f in found), "findings", flush=True)
    return out


def counts(docs: list[GoldDoc], found: list[list[Found]]) -> dict[str, list[int]]:
    """class -> [findings, right]; only findings of labels the set annotates count."""
    labels = {g.label for d in docs for g in d.spans}
    out: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for doc, fs in zip(docs, found, strict=True):
        for start, end, etype, _, cls in fs:
            if etype in labels:
                c = out[cls]
                c[0] += 1
                c[1] += any(g.label == etype and g.start < end and start < g.end for g in doc.spans)
    return dict(out)


def fit(per_set: dict[str, dict[str, list[int]]], sets: Iterable[str]) -> dict[str, dict[str, Any]]:
    """Pooled counts of `sets` -> class table, with add-one smoothing."""
    pooled: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for name in sets:
        for k, (n, ok) in per_set[name].items():
            pooled[k][0] += n
            pooled[k][1] += ok
    return {k: {"n": n, "right": ok, "score": round((ok + 1) / (n + 2), 3)} for k, (n, ok) in sorted(pooled.items())}


def scored(docs: list[GoldDoc], found: list[list[Found]], table: dict[str, dict[str, Any]] | None,
           threshold: Callable[[str], float]) -> dict[str, float]:
    """The set's metrics when each finding's score comes from `table` (None: raw scores) and the policy's
    thresholds apply, exactly as detection does it (a class below MIN_SUPPORT keeps its raw score)."""
    preds = []
    for fs in found:
        keep = []
        for start, end, etype, raw, cls in fs:
            row = table.get(cls) if table is not None else None
            score_ = row["score"] if row is not None and row["n"] >= MIN_SUPPORT else raw
            if score_ >= threshold(etype):
                keep.append(Span(start, end, etype))
        preds.append(keep)
    return score(docs, preds, worst=0).overall.metrics()


HEADER = """# Calibrated detection scores

Generated by `bench/calibrate.py` (do not edit by hand); the table it writes for the code is
`prepkit/detect/calibration.json`, read by `prepkit/detect/calibrate.py`.

**What a score means.** With `builtin_recognizers` on, a finding's score is the precision its *class* had on the
seven labelled dev sets in `../shared/eval/`: of the findings of that class, the share that overlapped a gold span
of the same label. So a threshold of 0.3 keeps findings that were right at least 30% of the time, whichever
recognizer made them. (Presidio's own scores are conventions: spaCy's NER says 0.85 for everything.)

**Classes.** `recognizer / entity type`, and for name-like types (PERSON, ORGANIZATION, LOCATION, NRP) the evidence
beside the span, read from the text: `cue` (an honorific, greeting or introduction right before it), `name` (one of
its words is a known given or family name: Faker's name lists for 26 Latin-script locales), `rare` (one of its
words is not a common word), `common` (every word is: "Change", "Patient"). A common word is one of wordfreq's
20,000 most frequent English words that is not mostly written capitalized: wordfreq folds case, so "Trump",
"Google" and "Scotland" are set apart by a case-sensitive table (`prepkit/detect/proper_words.json`, built by
`bench/proper_words.py` from spaCy's English lexeme probabilities and the labelled corpora of `../shared/train/`).

**Method.** The default policy's detection runs with every threshold at 0 and calibration off; findings of labels
a set does not annotate are left out (a DATE_TIME on WNUT is neither right nor wrong). Counts are pooled over the
seven sets; the score is (right + 1) / (findings + 2). A class with fewer than `MIN_SUPPORT` = 30 findings keeps its
recognizer's own score. Per-set precision (findings) is shown beside the pooled figure: where the sets disagree
(SpacyRecognizer/PERSON/rare: 0.00 on asq_phi, 0.80 on Enron) the pooled score is an average over genres, not a
promise for any one of them.

**Caveat.** The table is measured on the same dev sets the targets are reported on, so the dev-set figures
after calibration are optimistic; the classes are coarse (the ones with enough support are listed below) to limit
how much they can fit; the leave-one-set-out table at the end measures how much that limit holds.
The shipped policies set name thresholds of 0.1, which drops only `SpacyRecognizer/PERSON/common` (0.01: mostly
ordinary words the truecased NER pass capitalized, "Stolen", "Safer").

"""


def loso_rows(measured: dict[str, tuple[list[GoldDoc], list[list[Found]]]], per_set: dict[str, dict[str, list[int]]],
              full: dict[str, dict[str, Any]], threshold: Callable[[str], float]) -> list[str]:
    """Leave one set out: fit on six sets, score the seventh, beside the table fitted on all seven and raw scores."""
    metrics = ("precision", "recall", "f2", "any_pii_recall")
    rows = ["| set | raw scores P / R / F2 / any-PII | fitted on all seven | fitted on the other six | Δ F2 (six − all) |",
            "|---|---|---|---|---:|"]
    sums: dict[str, list[float]] = {k: [0.0] * len(metrics) for k in ("raw", "all", "six")}
    for name in SETS:
        docs, found = measured[name]
        res = {"raw": scored(docs, found, None, threshold), "all": scored(docs, found, full, threshold),
               "six": scored(docs, found, fit(per_set, [s for s in SETS if s != name]), threshold)}
        cells = []
        for key in ("raw", "all", "six"):
            vals = [res[key][m] for m in metrics]
            sums[key] = [a + b for a, b in zip(sums[key], vals, strict=True)]
            cells.append(" / ".join(f"{v:.3f}" for v in vals))
        rows.append(f"| {name} | " + " | ".join(cells) + f" | {res['six']['f2'] - res['all']['f2']:+.3f} |")
    macro = {k: [v / len(SETS) for v in vals] for k, vals in sums.items()}
    rows.append("| **macro** | " + " | ".join(" / ".join(f"{v:.3f}" for v in macro[k]) for k in ("raw", "all", "six"))
                + f" | {macro['six'][2] - macro['all'][2]:+.3f} |")
    return rows


LOSO_HEADER = """## Leave one set out: how much of the calibration carries to unseen data

The table above is fitted on the seven sets the targets are reported on, so the figures in bench/EVAL.md flatter
it. Here each set is scored three ways with the default policy's thresholds: with the recognizers' raw scores (no
calibration: every name guess passes the 0.1 name threshold), with the table fitted on all seven sets (what ships),
and with a table fitted on the other six only (the set is unseen data for its calibration). The last column is
what a set loses when its own findings are not in the fit; the difference between the raw and the six-set columns
is the gain from calibration that carries to a genre it was not fitted on.

"""


def main() -> None:
    policy_path = ROOT / "policies" / "default.yaml"
    threshold = load_policy(policy_path).policy.detection.threshold
    measured = measure(policy_path)
    per_set = {name: counts(docs, found) for name, (docs, found) in measured.items()}
    classes = fit(per_set, SETS)
    out = ROOT / "prepkit" / "detect" / "calibration.json"
    out.write_text(json.dumps({"measured_on": list(SETS), "min_support": MIN_SUPPORT, "classes": classes},
                              indent=1, sort_keys=True) + "\n", encoding="utf-8")
    rows = ["| class (recognizer / entity / evidence) | findings | right | calibrated score | " +
            " | ".join(SETS) + " |", "|---|---:|---:|---:|" + "---:|" * len(SETS)]
    for k, v in sorted(classes.items(), key=lambda kv: -kv[1]["n"]):
        if v["n"] < MIN_SUPPORT:
            continue
        cells = []
        for s in SETS:
            n, ok = per_set[s].get(k, (0, 0))
            cells.append(f"{ok / n:.2f} ({n})" if n else "")
        rows.append(f"| {k} | {v['n']} | {v['right']} | **{v['score']:.2f}** | " + " | ".join(cells) + " |")
    loso = loso_rows(measured, per_set, classes, threshold)
    (ROOT / "bench" / "CALIBRATION.md").write_text(HEADER + "\n".join(rows) + "\n\n" + LOSO_HEADER + "\n".join(loso)
                                                   + "\n", encoding="utf-8")
    print("\n".join(rows + [""] + loso))


if __name__ == "__main__":
    main()
