"""Fine-tuning dataset writer (minimal: chat/text JSONL with a deterministic split). Deepened by issue 5."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from prepkit.policy.model import FinetuneOutput
from prepkit.records import Result
from prepkit.sinks.files import JsonlSink


def split_of(record_id: str, spec: Any) -> str:
    """Deterministic split from a hash of the id and the seed: re-runs never move a record between splits."""
    h = int.from_bytes(hashlib.sha256(f"{spec.seed}:{record_id}".encode()).digest()[:8], "big") / 2**64
    if h < spec.validation:
        return "validation"
    if h < spec.validation + spec.test:
        return "test"
    return "train"


class FinetuneWriter:
    def __init__(self, out_dir: Path, spec: FinetuneOutput) -> None:
        self.dir = out_dir / "finetune"
        self.spec = spec
        names = ["train", "validation"] + (["test"] if spec.split.test > 0 else [])
        self.sinks = {n: JsonlSink(self.dir / f"{n}.jsonl") for n in names}

    def add(self, result: Result) -> str:
        assert result.transformed is not None
        rec = result.record
        texts = result.transformed.texts
        row: dict[str, Any] = {"id": rec.id}
        if rec.kind == "chat":
            row["messages"] = [{"role": s.role, "content": t}
                               for s, t in zip(rec.segments, texts, strict=True) if s.role is not None]
        else:
            row["text"] = "\n".join(texts)
        split = split_of(rec.id, self.spec.split)
        self.sinks[split].write(row)
        return split

    def close(self) -> dict[str, int]:
        for s in self.sinks.values():
            s.close()
        return {n: s.count for n, s in self.sinks.items()}
