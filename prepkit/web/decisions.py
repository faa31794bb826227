"""Review decisions on quarantined records, applied through the run's own sinks and written to the audit log.

- release to RAG: the run's anonymised text goes to the encrypted store with the labels the reviewer chose
  (RagWriter, as in a run; subjects are indexed, so `prepkit forget` reaches it);
- release to fine-tuning: the reviewer's edit of the anonymised text is re-verified with the policy's verifier
  and accepted only when it passes and the fine-tune filters keep it (FinetuneWriter, as in a run);
- drop: the entry is deleted from the quarantine (data minimisation);
- keep: the entry stays in quarantine, marked as reviewed.

A released or dropped entry leaves the quarantine file, so raw text does not outlive the decision. The audit
entry names the reviewer, the record id and hash and the decision; never text. Decisions belong to the run
that quarantined the records: a new run into the same folder writes a new quarantine and starts a new queue.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prepkit.errors import PrepkitError
from prepkit.keys import KeyRing
from prepkit.policy import LoadedPolicy
from prepkit.records import Decision, Result, Route, Transformed, Verification
from prepkit.sinks.files import AtomicFile, dumps
from prepkit.sinks.quarantine import DECISIONS_FILE, QUARANTINE_FILE, QuarantineEntry, read_quarantine

ACTIONS = ("release_rag", "release_finetune", "drop", "keep")
MAX_REVIEWER_CHARS = 100


class DecisionError(PrepkitError):
    """A decision cannot be applied as asked. The message is for the reviewer and never holds record text."""


@dataclass(frozen=True)
class Applied:
    action: str
    record_id: str
    detail: str  # what happened, for the reviewer ("released to RAG with labels hr")


def check_reviewer(name: str | None) -> str:
    n = " ".join((name or "").split())
    if not n:
        raise DecisionError("enter your name: every decision is recorded with the reviewer's name")
    if len(n) > MAX_REVIEWER_CHARS:
        raise DecisionError(f"the reviewer name is longer than {MAX_REVIEWER_CHARS} characters")
    return n


class Reviewer:
    """Applies decisions on one run's quarantine. One decision at a time (a lock): each rewrites files."""

    def __init__(self, out_dir: Path, keyring: KeyRing, loaded: LoadedPolicy) -> None:
        self.out = Path(out_dir)
        self.keyring = keyring
        self.loaded = loaded
        self._lock = threading.Lock()
        self._pipeline: Any = None

    # -- reading ----------------------------------------------------------------------------------------
    def entries(self) -> list[QuarantineEntry]:
        return read_quarantine(self.out, self.keyring)

    def entry(self, qid: str) -> QuarantineEntry | None:
        return next((e for e in self.entries() if e.qid == qid), None)

    def decisions(self) -> list[dict[str, Any]]:
        path = self.out / DECISIONS_FILE
        if not path.is_file():
            return []
        return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]

    def kept(self) -> dict[str, dict[str, Any]]:
        return {d["qid"]: d for d in self.decisions() if d["action"] == "keep"}

    def labels(self) -> list[str]:
        """Every label a role can read or a rule assigns, for the reviewer to choose from."""
        p = self.loaded.policy
        found = {label for ls in p.access.roles.values() for label in ls}
        found.update(p.outputs.rag.default_labels)
        for rule in p.routing.rules:
            found.update(rule.labels or [])
        return sorted(found)

    # -- deciding ---------------------------------------------------------------------------------------
    def decide(self, qid: str, action: str, reviewer: str | None, *, labels: list[str] | None = None,
               texts: list[str] | None = None) -> Applied:
        name = check_reviewer(reviewer)
        if action not in ACTIONS:
            raise DecisionError(f"unknown decision {action!r}; one of {', '.join(ACTIONS)}")
        with self._lock:
            entry = self.entry(qid)
            if entry is None:
                raise DecisionError(f"no quarantined record {qid} (already decided, or a newer run replaced it)")
            if action == "release_rag":
                return self._release_rag(entry, name, labels or [])
            if action == "release_finetune":
                return self._release_finetune(entry, name, texts)
            if action == "drop":
                self._remove(entry)
                self._record(entry, name, "drop", route="drop")
                return Applied(action, entry.record_id, "dropped; its raw text was deleted from the quarantine")
            self._record(entry, name, "keep", route="quarantine")
            return Applied(action, entry.record_id, "kept in quarantine and marked as reviewed")

    def _release_rag(self, entry: QuarantineEntry, name: str, labels: list[str]) -> Applied:
        from prepkit.rag import RagWriter

        chosen = sorted(set(labels))
        allowed = set(self.labels())
        if not chosen:
            raise DecisionError("choose at least one label: an unlabelled chunk is readable by no role")
        unknown = [label for label in chosen if label not in allowed]
        if unknown:
            raise DecisionError(f"label(s) {', '.join(unknown)} are not in the policy (known: {', '.join(sorted(allowed))})")
        transformed = entry.transformed()
        if transformed is None:
            raise DecisionError("this record failed processing and has no anonymised text; drop it, keep it, or "
                                "release it to fine-tuning with a text you write")
        result = Result(entry.to_record(), [], transformed, _verification(entry),
                        Decision(Route.RAG, "released from quarantine by a reviewer", "review", tuple(chosen)))
        writer = RagWriter(self.out, self.loaded, self.keyring)
        try:
            writer.add(result)
            writer.index_subjects(result)
        finally:
            stats = writer.close()
        self._remove(entry)
        self._record(entry, name, "release_rag", route="rag", labels=chosen,
                     chunks=int(stats.get("chunks_written", 0)))
        return Applied("release_rag", entry.record_id, f"released to RAG with label(s) {', '.join(chosen)}")

    def _release_finetune(self, entry: QuarantineEntry, name: str, texts: list[str] | None) -> Applied:
        record = entry.to_record()
        if texts is None or len(texts) != len(record.segments):
            raise DecisionError(f"give the edited text of all {len(record.segments)} segment(s)")
        texts = [t.replace("\r\n", "\n") for t in texts]
        old = entry.transformed()
        edited = Transformed(texts, [], list(old.subject_hashes) if old else [])
        findings = _findings(entry)
        verification = self._verifier().verify(record, findings, edited)
        if not verification.passed:
            failed = sorted({f.entity_type for f in verification.failures})
            checks = sorted({f.check for f in verification.failures})
            self._audit(entry, name, "release_finetune", result="refused", route="quarantine",
                        checks=checks, entity_types=failed)
            raise DecisionError(f"the edited text failed verification ({', '.join(checks)}: "
                                f"{', '.join(failed)} still found); edit it again, or keep or drop the record")
        result = Result(record, findings, edited, verification,
                        Decision(Route.FINETUNE, "released from quarantine by a reviewer", "review"))
        split, withheld = _append_finetune(self.out, self.loaded, result)
        if split is None:
            self._audit(entry, name, "release_finetune", result="refused", route="quarantine", status=withheld)
            raise DecisionError(f"the fine-tune filters kept the edited record out ({withheld})")
        self._remove(entry)
        self._record(entry, name, "release_finetune", route="finetune", split=split)
        return Applied("release_finetune", entry.record_id, f"re-verified and added to the {split} split")

    def _verifier(self) -> Any:
        if self._pipeline is None:
            from prepkit.pipeline import Pipeline  # loads spaCy (seconds); only a fine-tune release needs it

            self._pipeline = Pipeline(self.loaded, self.keyring)
        return self._pipeline.verifier

    # -- bookkeeping ------------------------------------------------------------------------------------
    def _remove(self, entry: QuarantineEntry) -> None:
        path = self.out / QUARANTINE_FILE
        lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
        f = AtomicFile(path)
        try:
            for line in lines:
                if _qid_of(line) != entry.qid:
                    f.write(line)
        except BaseException:
            f.abort()
            raise
        f.commit()

    def _audit(self, entry: QuarantineEntry, name: str, action: str, **fields: Any) -> dict[str, Any]:
        from prepkit.rag.query import audit_event

        return audit_event(self.out / "audit.jsonl", self.keyring, "review_decision", self.loaded.identity,
                           action=action, reviewer=name, queue_id=entry.qid, record_id=entry.record_id,
                           input_sha256=entry.data.get("input_sha256") or "", **fields)

    def _record(self, entry: QuarantineEntry, name: str, action: str, **fields: Any) -> None:
        from prepkit.uptodate import refresh_manifest

        checkpoint = self._audit(entry, name, action, result="accepted", **fields)
        path = self.out / DECISIONS_FILE
        fd = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        with os.fdopen(fd, "a", encoding="utf-8") as f:
            f.write(dumps({"qid": entry.qid, "action": action, "reviewer": name,
                           "at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                           "input_sha256": entry.data.get("input_sha256") or "",
                           **{k: v for k, v in fields.items() if k in ("labels", "split")}}) + "\n")
        _count_in_summary(self.out, action)
        refresh_manifest(self.out, audit_checkpoint=checkpoint)


def _qid_of(line: str) -> str | None:
    import base64

    try:
        return base64.b64decode(json.loads(line)["nonce"]).hex()
    except (ValueError, KeyError, TypeError):
        return None


def _verification(entry: QuarantineEntry) -> Verification:
    v = entry.data.get("verification") or {}
    return Verification(bool(v.get("passed")))


def _findings(entry: QuarantineEntry) -> list[Any]:
    from prepkit.records import Finding

    return [Finding(f["segment"], f["start"], f["end"], f["entity_type"], float(f["score"]))
            for f in entry.data.get("findings") or []]


def _count_in_summary(out: Path, action: str) -> None:
    """summary.json keeps the run's routes as they were; `review` counts what reviewers decided since."""
    from prepkit.sinks.files import write_json

    path = out / "summary.json"
    try:
        summary = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return
    review = summary.setdefault("review", {a: 0 for a in ACTIONS})
    review[action] = int(review.get(action, 0)) + 1
    write_json(path, summary)


def _append_finetune(out: Path, loaded: LoadedPolicy, result: Result) -> tuple[str | None, str | None]:
    """Place one reviewed record with the run's FinetuneWriter (same filters, split and row shape) and append its
    row to the run's split file. Returns (split, None) or (None, reason withheld)."""
    from prepkit.sinks.card import read_manifest, write_card_and_manifest
    from prepkit.sinks.finetune import FINETUNE_DIR, FinetuneWriter, file_name

    spec = loaded.policy.outputs.finetune
    if spec.format == "parquet":
        raise DecisionError("this run writes the fine-tune set as Parquet; release to fine-tuning supports the "
                            "JSONL formats only")
    ft_dir = out / FINETUNE_DIR
    with tempfile.TemporaryDirectory(dir=out, prefix=".review-") as tmp:
        writer = FinetuneWriter(Path(tmp), spec, policy=loaded)
        placed = writer.check(result)  # the dataset filters first, then the write (issue 14: decide, then sink)
        if placed.split is not None:
            writer.add(result)
        writer.close()
        if placed.split is None:
            return None, placed.reason
        row = (Path(tmp) / FINETUNE_DIR / file_name(placed.split, spec.format)).read_text(encoding="utf-8")
    target = ft_dir / file_name(placed.split, spec.format)
    existing = target.read_text(encoding="utf-8") if target.is_file() else ""
    if any(json.loads(line).get("id") == result.record.id for line in existing.splitlines() if line.strip()):
        return None, "a row with this record id is already in the fine-tune set"
    f = AtomicFile(target)
    f.write(existing + row)
    f.commit()
    manifest = read_manifest(ft_dir)
    if manifest is not None:
        split = manifest.setdefault("splits", {}).setdefault(placed.split, {"file": target.name, "rows": 0})
        split["rows"] = int(split.get("rows", 0)) + 1
        card = manifest.setdefault("card", {})
        card["reviewed_in"] = int(card.get("reviewed_in", 0)) + 1
        manifest.pop("files", None)
        write_card_and_manifest(ft_dir, manifest)
    return placed.split, None
