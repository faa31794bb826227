"""Score PII detection against labeled gold data (the JSONL format of `shared/eval/`).

Scoring follows `shared/eval/README.md`: a predicted span is a true positive when it overlaps (>= 1 character) a
gold span of the same label; a gold span is recalled when a same-label prediction overlaps it; micro-averaged.
Precision counts only predictions whose label the dataset annotates (a DATE_TIME on a dataset that never labels
dates is neither right nor wrong). Any-PII recall is the share of gold spans overlapped by a prediction of any
label: how much personal data would leak through.

Entity-level protection (the Text Anonymization Benchmark's measure) asks whether a person could be re-identified:
a gold entity is protected only when every one of its mentions in the document is masked. The gold sets carry no
coreference ids, so an entity here is the group of a document's gold spans with the same label and the same
normalised surface text (case-folded, whitespace collapsed, edge punctuation stripped): "Smith" and "John Smith"
are two entities, two different people called "Anna" in one document are one. A mention is masked when every
non-space character of it lies inside some prediction of any label (a partly masked name still leaks). The share
of gold characters masked is reported beside it.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from prepkit.errors import PrepkitError

BETA = 2.0  # F2: a missed name is a leak, a false alarm only costs utility
METRICS = ("precision", "recall", "f2", "any_pii_recall", "entity_protection", "chars_masked")


class GoldError(PrepkitError, ValueError):
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


def gold_files(paths: Iterable[str | Path]) -> list[Path]:
    """Each path as given, a folder as its `*.jsonl` files in name order; an empty folder is an error."""
    out: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if p.is_dir():
            found = sorted(q for q in p.glob("*.jsonl") if q.is_file())
            if not found:
                raise GoldError(f"{p}: no .jsonl gold files in this folder")
            out += found
        elif p.is_file():
            out.append(p)
        else:
            raise GoldError(f"{p}: no such gold file or folder")
    names = [set_name(p) for p in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise GoldError(f"two gold files are both named {dup[0]!r}: rename one, a set is reported by file name")
    return out


def set_name(path: Path) -> str:
    return path.stem


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
    entities: int = 0  # gold entities: (document, label, normalised text) groups of gold spans
    entities_protected: int = 0  # ... every mention of which is fully masked
    chars: int = 0  # non-space characters inside gold spans
    chars_masked: int = 0  # ... covered by a prediction of any label

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

    @property
    def protection(self) -> float:
        return self.entities_protected / self.entities if self.entities else 0.0

    @property
    def masked_share(self) -> float:
        return self.chars_masked / self.chars if self.chars else 0.0

    def metrics(self) -> dict[str, float]:
        return {"precision": self.precision, "recall": self.recall, "f2": self.f2,
                "any_pii_recall": self.any_recall, "entity_protection": self.protection,
                "chars_masked": self.masked_share}

    def add(self, other: Counts) -> None:
        for f in fields(self):  # every field is a count
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {k: round(v, 4) for k, v in self.metrics().items()}
        out.update(predicted=self.pred, predicted_correct=self.pred_correct, gold=self.gold,
                   gold_found=self.gold_found, gold_any=self.gold_any, entities=self.entities,
                   entities_protected=self.entities_protected, gold_chars=self.chars,
                   gold_chars_masked=self.chars_masked)
        return out


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


_EDGE_PUNCT = ".,;:!?'\"()[]{}<>«»“”‘’-–—"


def normalise_surface(text: str) -> str:
    """The key that groups mentions into one entity: case-folded, whitespace collapsed, edge punctuation gone."""
    return " ".join(text.casefold().split()).strip(_EDGE_PUNCT + " ")


def _coverage(length: int, preds: Iterable[Span]) -> bytearray:
    """1 for every character inside some prediction, whatever its label."""
    mask = bytearray(length)
    for p in preds:
        lo, hi = max(p.start, 0), min(p.end, length)
        if lo < hi:
            mask[lo:hi] = b"\x01" * (hi - lo)
    return mask


def _masked(text: str, start: int, end: int, mask: bytearray) -> tuple[int, int]:
    """(non-space characters of text[start:end], how many of them the mask covers)."""
    total = masked = 0
    for i in range(start, end):
        if not text[i].isspace():
            total += 1
            masked += mask[i]
    return total, masked


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
        mask = _coverage(len(doc.text), ps)
        entities: dict[tuple[str, str], bool] = {}  # (label, surface) -> every mention so far fully masked
        for g in doc.spans:
            c = per.setdefault(g.label, Counts())
            c.gold += 1
            found = any(p.label == g.label and p.overlaps(g) for p in ps)
            c.gold_found += found
            c.gold_any += any(p.overlaps(g) for p in ps)
            total, masked = _masked(doc.text, g.start, g.end, mask)
            c.chars += total
            c.chars_masked += masked
            key = (g.label, normalise_surface(doc.text[g.start:g.end]))
            entities[key] = entities.get(key, True) and masked == total
            if not found:
                missed.append(g)
        for (label, _), protected in entities.items():
            per[label].entities += 1
            per[label].entities_protected += protected
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
    from prepkit.detect import Detector
    from prepkit.detect.corpus import for_policy
    from prepkit.records import Record, Segment

    detector = Detector(policy, spacy_model)

    def detect(texts: list[str]) -> list[list[Span]]:
        records = [Record(id=str(i), source="eval", kind="text", segments=[Segment("text", t)])
                   for i, t in enumerate(texts)]
        found = detector.detect(records)
        # One call is one set, scored as a run over it would be: with the policy's corpus recall
        recall = for_policy(policy)
        if recall is not None:
            for t, fs in zip(texts, found, strict=True):
                recall.learn([t], fs)
            found = [fs + recall.match([t], fs) for t, fs in zip(texts, found, strict=True)]
        return [[Span(f.start, f.end, f.entity_type) for f in fs] for fs in found]

    return detect


# -- several sets ------------------------------------------------------------------------------------------

@dataclass(slots=True)
class SuiteReport:
    """One policy on several gold sets, optionally beside a baseline policy on the same sets."""

    sets: list[EvalReport]
    baseline: list[EvalReport] | None = None

    def macro(self, which: str = "sets") -> dict[str, float]:
        """Unweighted mean over the sets: each genre counts once, whatever its size."""
        reps = self.sets if which == "sets" else (self.baseline or [])
        if not reps:
            return {}
        return {m: sum(r.overall.metrics()[m] for r in reps) / len(reps) for m in METRICS}

    def as_dict(self, show_text: bool = False) -> dict[str, Any]:
        sets = []
        for i, rep in enumerate(self.sets):
            d = rep.as_dict(show_text=show_text)
            if self.baseline is not None:
                b = self.baseline[i]
                d["baseline"] = {"policy": b.policy, "overall": b.overall.as_dict(),
                                 "per_entity": {k: v.as_dict() for k, v in sorted(b.per_entity.items())}}
                d["delta"] = _delta(rep.overall.metrics(), b.overall.metrics())
            sets.append(d)
        out: dict[str, Any] = {"policy": self.sets[0].policy if self.sets else {}, "sets": sets,
                               "macro": _rounded(self.macro())}
        if self.baseline is not None:
            out["baseline_policy"] = self.baseline[0].policy if self.baseline else {}
            out["baseline_macro"] = _rounded(self.macro("baseline"))
            out["macro_delta"] = _delta(self.macro(), self.macro("baseline"))
        return out


def _rounded(m: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in m.items()}


def _delta(a: dict[str, float], b: dict[str, float]) -> dict[str, float]:
    return {k: round(a[k] - b[k], 4) for k in a}


def evaluate_suite(sets: Sequence[tuple[str, Sequence[GoldDoc]]], detect: Detect, baseline: Detect | None = None,
                   worst: int = 10) -> SuiteReport:
    reps = [evaluate(docs, detect, worst=worst, dataset=name) for name, docs in sets]
    base = [evaluate(docs, baseline, worst=0, dataset=name) for name, docs in sets] if baseline else None
    return SuiteReport(reps, base)


# -- text output -------------------------------------------------------------------------------------------

_SHORT = {"precision": "P", "recall": "R", "f2": "F2", "any_pii_recall": "anyR", "entity_protection": "prot",
          "chars_masked": "chars"}


def format_suite(suite: SuiteReport, show_text: bool = False) -> str:
    head = suite.sets[0].policy if suite.sets else {}
    lines = []
    if head:
        lines.append(f"policy {head.get('name', '')} v{head.get('version', '')} sha256 {head.get('sha256', '')[:12]}")
    if suite.baseline:
        b = suite.baseline[0].policy
        lines.append(f"baseline {b.get('name', '')} v{b.get('version', '')} sha256 {b.get('sha256', '')[:12]} "
                     "(Δ = policy − baseline)")
    lines.append("P/R/F2 same label; anyR = gold spans overlapped by any prediction; prot = gold entities every "
                 "mention of which is fully masked; chars = gold characters masked")
    cols = [_SHORT[m] for m in METRICS]
    hdr = f"{'set':<22} {'docs':>5} " + " ".join(f"{c:>6}" for c in cols)
    if suite.baseline:
        hdr += "  " + " ".join(f"{'Δ' + c:>7}" for c in cols)
    lines += [hdr, "-" * len(hdr)]

    def row(name: str, docs: str, m: dict[str, float], b: dict[str, float] | None) -> str:
        s = f"{name:<22} {docs:>5} " + " ".join(f"{m[k]:6.3f}" for k in METRICS)
        if b is not None:
            s += "  " + " ".join(f"{m[k] - b[k]:+7.3f}" for k in METRICS)
        return s

    for i, rep in enumerate(suite.sets):
        base = suite.baseline[i].overall.metrics() if suite.baseline else None
        lines.append(row(rep.dataset, str(rep.documents), rep.overall.metrics(), base))
    if len(suite.sets) > 1:
        lines.append("-" * len(hdr))
        lines.append(row("macro (mean of sets)", "", suite.macro(), suite.macro("baseline") if suite.baseline
                         else None))
    for i, rep in enumerate(suite.sets):
        lines.append("")
        lines.append(format_text(rep, show_text=show_text,
                                 baseline=suite.baseline[i] if suite.baseline else None, policy_line=False))
    return "\n".join(lines)


def format_text(report: EvalReport, show_text: bool = False, baseline: EvalReport | None = None,
                policy_line: bool = True) -> str:
    lines = [f"dataset {report.dataset}: {report.documents} documents, labels scored: {', '.join(report.labels)}"]
    if report.policy and policy_line:
        lines.append(f"policy {report.policy.get('name', '')} v{report.policy.get('version', '')} "
                     f"sha256 {report.policy.get('sha256', '')[:12]}")
    hdr = f"{'entity':<22} {'P':>6} {'R':>6} {'F2':>6} {'anyR':>6} {'prot':>6} {'chars':>6} {'pred':>6} {'gold':>6}"
    if baseline is not None:
        hdr += f" {'ΔF2':>7} {'ΔanyR':>7} {'Δprot':>7}"
    lines.append(hdr)
    rows = sorted(report.per_entity.items(), key=lambda kv: -kv[1].gold)
    for label, c in [*rows, ("OVERALL", report.overall)]:
        line = (f"{label:<22} {c.precision:6.3f} {c.recall:6.3f} {c.f2:6.3f} {c.any_recall:6.3f} "
                f"{c.protection:6.3f} {c.masked_share:6.3f} {c.pred:6d} {c.gold:6d}")
        if baseline is not None:
            b = baseline.overall if label == "OVERALL" else baseline.per_entity.get(label, Counts())
            line += f" {c.f2 - b.f2:+7.3f} {c.any_recall - b.any_recall:+7.3f} {c.protection - b.protection:+7.3f}"
        lines.append(line)
    lines.append(f"any-PII recall: {report.overall.any_recall:.3f}; entities protected: "
                 f"{report.overall.entities_protected} of {report.overall.entities} ({report.overall.protection:.3f})")
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
