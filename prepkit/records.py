"""The one set of types every stage reads and yields.

A record is a list of text *segments* (a plain document has one, a chat transcript one per turn, a table row one
per scanned column) plus pass-through metadata. Stages address text by (segment index, start, end), so chat turns
and CSV columns are anonymized in place and written back in their own shape.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any, Literal

RecordKind = Literal["text", "chat", "table"]


class Route(StrEnum):
    FINETUNE = "finetune"
    RAG = "rag"
    QUARANTINE = "quarantine"
    DROP = "drop"
    REJECTED = "rejected"


@dataclass(slots=True)
class Segment:
    key: str  # "text", "messages[2].content", or a column name
    text: str
    role: str | None = None  # chat role, kept as-is


@dataclass(slots=True)
class Record:
    id: str
    source: str  # input file, relative to the input root when one was given
    kind: RecordKind
    segments: list[Segment]
    metadata: dict[str, Any] = field(default_factory=dict)  # non-text fields of the input, passed through
    line: int | None = None  # 1-based line (JSONL/CSV row) or None for whole files
    input_sha256: str = ""

    @property
    def char_count(self) -> int:
        return sum(len(s.text) for s in self.segments)


@dataclass(slots=True, frozen=True)
class Finding:
    segment: int
    start: int
    end: int
    entity_type: str
    score: float
    detector: str = ""


@dataclass(slots=True, frozen=True)
class Applied:
    """One operator application; offsets are into the *output* segment text."""

    segment: int
    start: int
    end: int
    entity_type: str
    operator: str


@dataclass(slots=True, frozen=True)
class VerifyFailure:
    check: str  # "original_value" | "pattern_rescan" | "full_rescan"
    entity_type: str
    segment: int


@dataclass(slots=True)
class Verification:
    passed: bool = True
    failures: list[VerifyFailure] = field(default_factory=list)
    checks: tuple[str, ...] = ()


@dataclass(slots=True, frozen=True)
class Decision:
    route: Route
    reason: str
    rule: str | None = None  # name of the routing rule that matched; None for the default or a failure
    labels: tuple[str, ...] = ()


@dataclass(slots=True)
class Transformed:
    texts: list[str]  # one output text per input segment
    applied: list[Applied] = field(default_factory=list)
    subject_hashes: list[str] = field(default_factory=list)  # keyed hashes of detected values, for `forget`


@dataclass(slots=True, frozen=True)
class Result:
    """A record and what the steps made of it. Frozen: a decision is changed only by making a new Result
    (`with_decision`), in one place (prepkit.route.Router), before any sink sees it."""

    record: Record
    findings: list[Finding]
    transformed: Transformed | None
    verification: Verification
    decision: Decision
    error: str | None = None  # exception class name when the record failed closed; never the message
    # (step name, seconds) spent on this record in the pipeline; a batch step's time is shared by characters
    timings: tuple[tuple[str, float], ...] = ()

    def with_decision(self, decision: Decision) -> Result:
        return replace(self, decision=decision)

    @property
    def entity_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for f in self.findings:
            counts[f.entity_type] = counts.get(f.entity_type, 0) + 1
        return dict(sorted(counts.items()))

    @property
    def operators(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for a in self.transformed.applied if self.transformed else []:
            counts[a.operator] = counts.get(a.operator, 0) + 1
        return dict(sorted(counts.items()))


@dataclass(slots=True, frozen=True)
class Redo:
    """Work for an engine: transform, verify and route a record again with findings its own detection missed
    (corpus recall); detection does not run again."""

    record: Record
    findings: list[Finding]


@dataclass(slots=True, frozen=True)
class Rejected:
    """Input that could not be read as a record. `reason` never quotes the input's content."""

    source: str
    line: int | None
    field: str | None
    reason: str
    raw_sha256: str = ""

    def location(self) -> str:
        loc = self.source
        if self.line is not None:
            loc += f":{self.line}"
        if self.field:
            loc += f": {self.field}"
        return loc
