"""Score PII detection against labeled gold data (the JSONL format of `shared/eval/`).

Scoring follows `shared/eval/README.md`: a predicted span is a true positive when it overlaps (>= 1 character) a
gold span of the same label; a gold span is recalled when a same-label prediction overlaps it; micro-averaged.
Precision counts only predictions whose label the dataset annotates (a DATE_TIME on a dataset that never labels
dates is neither right nor wrong). Any-PII recall is the share of gold spans overlapped by a prediction of any
label: how much personal data would leak through.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BETA = 2.0  # F2: a missed name is a leak, a false alarm only costs utility


class GoldError(ValueError):
    """A gold file that cannot be read; the message names file and line, never quotes the text."""


@dataclass(frozen=True, slots=True)
class Span:
    start: int
    end: int
    label: str

    def overlaps(self, other: Span) -> bool:
        return self.start < other.end and other.start < self.end


@dataclass(frozen=True, slots=True)
class GoldDoc:
    id: str
    text: str
    spans: tuple[Span, ...]


def load_gold(path: str | Path, limit: int | None = None) -> list[GoldDoc]:
    """Read `{"id","text","spans":[{start,end,label}]}` lines; every malformed line is an error naming its line."""
    p = Path(path)
    docs: list[GoldDoc] = []
    try:
        fh = p.open(encoding="utf-8")
    except OSError as e:
        raise GoldError(f"{path}: cannot read gold file: {e.strerror}") from None
    with fh:
        for n, line in enumerate(fh, 1):
            if limit is not None and len(docs) >= limit:
                break
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                raise GoldError(f"{path}:{n}: not valid JSON ({e.msg})") from None
            docs.append(_parse_doc(obj, f"{path}:{n}"))
    return docs


def _parse_doc(obj: Any, where: str) -> GoldDoc:
    if not isinstance(obj, dict):
        raise GoldError(f"{where}: expected a JSON object")
    text = obj.get("text")
    if not isinstance(text, str):
        raise GoldError(f"{where}: text: expected a string")
    doc_id = obj.get("id")
    if not isinstance(doc_id, str | int):
        raise GoldError(f"{where}: id: expected a string")
    raw_spans = obj.get("spans", [])
    if not isinstance(raw_spans, list):
        raise GoldError(f"{where}: spans: expected a list")
    spans = []
    for i, s in enumerate(raw_spans):
        try:
            start, end, label = int(s["start"]), int(s["end"]), str(s["label"])
        except (KeyError, TypeError, ValueError):
            raise GoldError(f"{where}: spans[{i}]: needs integer start, end and a label") from None
        if not 0 <= start < end <= len(text):
            raise GoldError(f"{where}: spans[{i}]: offsets {start}..{end} outside the text (length {len(text)})")
        spans.append(Span(start, end, label))
    return GoldDoc(str(doc_id), text, tuple(spans))


@dataclass(slots=True)
class Counts:
    """Precision is counted over predictions, recall over gold spans, so the two numerators differ."""

    pred: int = 0  # predictions of this label
    pred_correct: int = 0  # ... that overlap a gold span of the same label
    gold: int = 0  # gold spans of this label
    gold_found: int = 0  # ... overlapped by a same-label prediction
    gold_any: int = 0  # ... overlapped by a prediction of any label

    @property
    def precision(self) -> float:
        return self.pred_correct / self.pred if self.pred else 0.0

    @property
    def recall(self) -> float:
        return self.gold_found / self.gold if self.gold else 0.0

    @property
    def any_recall(self) -> float:
        return self.gold_any / self.gold if self.gold else 0.0

    @property
    def f2(self) -> float:
        return f_beta(self.precision, self.recall)

    def add(self, other: Counts) -> None:
        self.pred += other.pred
        self.pred_correct += other.pred_correct
        self.gold += other.gold
        self.gold_found += other.gold_found
        self.gold_any += other.gold_any

    def as_dict(self) -> dict[str, Any]:
        return {
            "precision": round(self.precision, 4), "recall": round(self.recall, 4), "f2": round(self.f2, 4),
            "any_pii_recall": round(self.any_recall, 4), "predicted": self.pred, "predicted_correct":
            self.pred_correct, "gold": self.gold, "gold_found": self.gold_found, "gold_any": self.gold_any,
        }


def f_beta(p: float, r: float, beta: float = BETA) -> float:
    b2 = beta * beta
    return (1 + b2) * p * r / (b2 * p + r) if p + r else 0.0


@dataclass(frozen=True, slots=True)
class MissedDoc:
    id: str
    missed: tuple[Span, ...]  # gold spans no same-label prediction overlapped
    text: str


@dataclass(slots=True)
class EvalReport:
    dataset: str
    documents: int
    labels: tuple[str, ...]  # the labels the dataset annotates
    overall: Counts
    per_entity: dict[str, Counts]
    unscored: dict[str, int]  # predictions of labels the dataset never annotates, by label
    worst: list[MissedDoc] = field(default_factory=list)
    policy: dict[str, str] = field(default_factory=dict)
    seconds: float = 0.0

    def as_dict(self, show_text: bool = False) -> dict[str, Any]:
        worst = []
        for d in self.worst:
            item: dict[str, Any] = {
                "id": d.id, "missed": len(d.missed), "labels": sorted({s.label for s in d.missed}),
            }
            if show_text:
                item["spans"] = [{"start": s.start, "end": s.end, "label": s.label, "text": d.text[s.start:s.end]}
                                 for s in d.missed]
            worst.append(item)
        return {
            "dataset": self.dataset, "documents": self.documents, "labels": list(self.labels),
            "policy": self.policy, "seconds": round(self.seconds, 2),
            "overall": self.overall.as_dict(),
            "per_entity": {k: v.as_dict() for k, v in sorted(self.per_entity.items())},
            "unscored_predictions": dict(sorted(self.unscored.items())),
            "most_missed": worst,
        }


def score(docs: Sequence[GoldDoc], preds: Sequence[Iterable[Span]], worst: int = 10,
          labels: Iterable[str] | None = None, dataset: str = "") -> EvalReport:
    """Score predictions against gold; `labels` defaults to every label that occurs in the gold spans."""
    if len(docs) != len(preds):
        raise ValueError(f"{len(docs)} documents but {len(preds)} prediction lists")
    annotated = tuple(sorted(set(labels) if labels is not None else {s.label for d in docs for s in d.spans}))
    per: dict[str, Counts] = {lab: Counts() for lab in annotated}
    unscored: dict[str, int] = {}
    missed_docs: list[MissedDoc] = []
    for doc, doc_preds in zip(docs, preds, strict=True):
        ps = list(doc_preds)
        for p in ps:
            if p.label not in per:
                unscored[p.label] = unscored.get(p.label, 0) + 1
                continue
            c = per[p.label]
            c.pred += 1
            c.pred_correct += any(p.label == g.label and p.overlaps(g) for g in doc.spans)
        missed = []
        for g in doc.spans:
            c = per.setdefault(g.label, Counts())
            c.gold += 1
            found = any(p.label == g.label and p.overlaps(g) for p in ps)
            c.gold_found += found
            c.gold_any += any(p.overlaps(g) for p in ps)
            if not found:
                missed.append(g)
        if missed:
            missed_docs.append(MissedDoc(doc.id, tuple(missed), doc.text))
    overall = Counts()
    for c in per.values():
        overall.add(c)
    # Stable order: most misses first, then file order, so the list is reproducible run to run.
    order = {d.id: i for i, d in enumerate(docs)}
    missed_docs.sort(key=lambda d: (-len(d.missed), order[d.id]))
    return EvalReport(dataset, len(docs), annotated, overall, per, unscored, missed_docs[:worst])


Detect = Callable[[list[str]], list[list[Span]]]


def evaluate(docs: Sequence[GoldDoc], detect: Detect, worst: int = 10, dataset: str = "") -> EvalReport:
    import time

    t0 = time.perf_counter()
    preds = detect([d.text for d in docs])
    report = score(docs, preds, worst=worst, dataset=dataset)
    report.seconds = time.perf_counter() - t0
    return report


def policy_detector(policy: Any, spacy_model: str | None = None) -> Detect:
    """Detection exactly as a run would do it: the policy's analyzer, entities, thresholds and allow list."""
    from prepkit.detect.engine import Detector
    from prepkit.records import Record, Segment

    detector = Detector(policy, spacy_model)

    def detect(texts: list[str]) -> list[list[Span]]:
        records = [Record(id=str(i), source="eval", kind="text", segments=[Segment("text", t)])
                   for i, t in enumerate(texts)]
        return [[Span(f.start, f.end, f.entity_type) for f in fs] for fs in detector.detect(records)]

    return detect


def format_text(report: EvalReport, show_text: bool = False) -> str:
    lines = [f"dataset {report.dataset}: {report.documents} documents, labels scored: {', '.join(report.labels)}"]
    if report.policy:
        lines.append(f"policy {report.policy.get('name', '')} v{report.policy.get('version', '')} "
                     f"sha256 {report.policy.get('sha256', '')[:12]}")
    lines.append(f"{'entity':<20} {'P':>6} {'R':>6} {'F2':>6} {'anyR':>6} {'pred':>6} {'gold':>6}")
    rows = sorted(report.per_entity.items(), key=lambda kv: -kv[1].gold)
    for label, c in [*rows, ("OVERALL", report.overall)]:
        lines.append(f"{label:<20} {c.precision:6.3f} {c.recall:6.3f} {c.f2:6.3f} {c.any_recall:6.3f} "
                     f"{c.pred:6d} {c.gold:6d}")
    lines.append(f"any-PII recall: {report.overall.any_recall:.3f}")
    if report.unscored:
        lines.append("not scored (labels this dataset does not annotate): "
                     + ", ".join(f"{k} {v}" for k, v in sorted(report.unscored.items())))
    if report.worst:
        lines.append("documents with the most missed spans:")
        for d in report.worst:
            counts: dict[str, int] = {}
            for s in d.missed:
                counts[s.label] = counts.get(s.label, 0) + 1
            lines.append(f"  {d.id}: {len(d.missed)} missed (" + ", ".join(f"{k} {v}" for k, v in
                                                                            sorted(counts.items())) + ")")
            if show_text:
                for s in d.missed:
                    lines.append(f"      {s.label}: {d.text[s.start:s.end]!r}")
    lines.append(f"time: {report.seconds:.1f} s")
    return "\n".join(lines)
