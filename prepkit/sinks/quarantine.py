"""Quarantine: records a human must review. The one output that keeps raw text, so it is owner-only."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prepkit.records import Record, Rejected, Result
from prepkit.sinks.files import JsonlSink


def record_shape(record: Record, texts: list[str] | None = None) -> dict[str, Any]:
    """The record in its input shape (chat stays chat, a row stays a row), with `texts` replacing segment texts."""
    texts = texts if texts is not None else [s.text for s in record.segments]
    if record.kind == "chat":
        msgs = [{"role": s.role, "content": t} for s, t in zip(record.segments, texts, strict=True)
                if s.role is not None]
        out: dict[str, Any] = {"messages": msgs}
        extra = {s.key: t for s, t in zip(record.segments, texts, strict=True) if s.role is None}
        out.update(extra)
        return out
    return {s.key: t for s, t in zip(record.segments, texts, strict=True)}


class QuarantineWriter:
    def __init__(self, out_dir: Path) -> None:
        self.sink = JsonlSink(out_dir / "quarantine" / "records.jsonl")

    def add(self, result: Result) -> None:
        r = result.record
        self.sink.write({
            "id": r.id, "source": r.source, "line": r.line, "input_sha256": r.input_sha256,
            "reason": result.decision.reason, "rule": result.decision.rule, "error": result.error,
            "verification": {"passed": result.verification.passed,
                             "failures": [{"check": f.check, "entity_type": f.entity_type, "segment": f.segment}
                                          for f in result.verification.failures]},
            "findings": [{"segment": f.segment, "start": f.start, "end": f.end, "entity_type": f.entity_type,
                          "score": f.score} for f in result.findings],
            "record": record_shape(r), "metadata": r.metadata,
        })

    def close(self) -> int:
        self.sink.close()
        return self.sink.count


class RejectedWriter:
    def __init__(self, out_dir: Path) -> None:
        self.sink = JsonlSink(out_dir / "rejected.jsonl")

    def add(self, rej: Rejected) -> None:
        self.sink.write({"file": rej.source, "line": rej.line, "field": rej.field, "reason": rej.reason,
                         "raw_sha256": rej.raw_sha256})

    def close(self) -> int:
        self.sink.close()
        return self.sink.count
