"""Fine-tuning dataset writer: formats, deterministic split, quality filters, dataset card and manifest.

    writer = FinetuneWriter(out_dir, policy.outputs.finetune, policy=loaded)   # loaded: LoadedPolicy (for the card)
    placement = writer.add(result)      # in input order; Placement(split=...) or Placement(withheld=<reason code>)
    stats = writer.close(run={"routes": {...}, "reasons": {...}, "inputs": [...]})
                                        # → {"format", "written": {split: n}, "withheld": {reason: n}, "files": [...]}

`close(run=...)` is optional: the run's route counts, decision reasons and input files so far, for the card's
"where the other records went" section (e.g. how many were quarantined because verification failed).

Filters are decided in `add()`, so the caller can account for a withheld record (the runner turns it into a
`drop` decision with the reason before auditing it). Duplicate removal is first-wins in input order across the
whole output (all splits), which is what deciding at close would give, without buffering records.

Formats (each row keeps the input record's `id`):
- chat: `{"id", "messages": [{"role", "content"}]}`. A plain document or table row is withheld (`not_chat`): made
  into a lone assistant turn it would break chat templates that require a user turn first (Llama 2, Mistral, ...).
- prompt_completion: strings; chat → prompt = turns before the last assistant turn as `role: content` paragraphs
  ending in `assistant:`, completion = " " + that turn; a plain document → prompt "" and completion = the text
  (plain language-model training on the whole document). Chats without an assistant turn are withheld.
- text: `{"id", "text"}`; chat rendered as `role: content` paragraphs.
- parquet: columns id, kind, messages (null for non-chat records), text (every record), written deterministically
  with pyarrow: one file serves both chat and plain-text training (filter on `kind`).
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prepkit.policy.model import FinetuneOutput
from prepkit.records import Record, Result
from prepkit.sinks.card import REASONS, CardStats, read_manifest, write_card_and_manifest
from prepkit.sinks.dedupe import Deduper, SignatureMemo
from prepkit.sinks.files import AtomicFile, JsonlSink, ensure_private_dir

FINETUNE_DIR = "finetune"
SPLITS = ("train", "validation", "test")


@functools.cache
def parquet_schema() -> Any:
    """The fine-tune Parquet schema. pyarrow is imported on first use: only the parquet format needs it, and its
    import is a tenth of a second every other run would pay."""
    import pyarrow as pa

    messages = pa.list_(pa.struct([("role", pa.string()), ("content", pa.string())]))
    return pa.schema([("id", pa.string()), ("kind", pa.string()), ("messages", messages), ("text", pa.string())])


_ROW_GROUP = 10_000


def split_of(record_id: str, spec: Any) -> str:
    """Deterministic split from a hash of the id and the seed: re-runs never move a record between splits."""
    h = int.from_bytes(hashlib.sha256(f"{spec.seed}:{record_id}".encode()).digest()[:8], "big") / 2**64
    if h < spec.validation:
        return "validation"
    if h < spec.validation + spec.test:
        return "test"
    return "train"


def split_names(spec: FinetuneOutput) -> list[str]:
    return ["train"] + (["validation"] if spec.split.validation > 0 else []) + (["test"] if spec.split.test > 0 else [])


def file_name(split: str, fmt: str) -> str:
    return f"{split}.{'parquet' if fmt == 'parquet' else 'jsonl'}"


@dataclass(frozen=True, slots=True)
class Placement:
    split: str | None = None
    withheld: str | None = None  # a key of card.REASONS

    @property
    def reason(self) -> str:
        """The human reason the runner records for a withheld record (constant per code, so counts group)."""
        return f"Withheld from the fine-tune set: {REASONS.get(self.withheld or '', self.withheld)}."


# -- shaping rows ----------------------------------------------------------------------------------------------
def messages_of(rec: Record, texts: list[str]) -> list[dict[str, str]]:
    return [{"role": s.role, "content": t} for s, t in zip(rec.segments, texts, strict=True) if s.role is not None]


def plain_text(rec: Record, texts: list[str]) -> str:
    if rec.kind == "chat":
        return render_turns(messages_of(rec, texts))
    if rec.kind == "table":
        return "\n".join(f"{s.key}: {t}" for s, t in zip(rec.segments, texts, strict=True))
    return texts[0] if texts else ""


def render_turns(messages: list[dict[str, str]]) -> str:
    return "\n\n".join(f"{m['role']}: {m['content']}" for m in messages)


def prompt_completion(rec: Record, texts: list[str]) -> tuple[str, str] | None:
    if rec.kind != "chat":
        return "", plain_text(rec, texts)
    msgs = messages_of(rec, texts)
    last = max((i for i, m in enumerate(msgs) if m["role"] == "assistant"), default=None)
    if last is None:
        return None
    head = render_turns(msgs[:last])
    return (head + "\n\n" if head else "") + "assistant:", " " + msgs[last]["content"]


def _written_segments(rec: Record) -> list[int]:
    """Segments that reach the dataset. Other string fields of a JSONL record (after the text, or without a chat
    role) are scanned for PII but not written: the dataset carries the text itself (data minimisation)."""
    if rec.kind == "chat":
        return [i for i, s in enumerate(rec.segments) if s.role is not None]
    if rec.kind == "text":
        return [0] if rec.segments else []
    return list(range(len(rec.segments)))


def redacted_fraction(result: Result) -> float:
    """Share of the written output characters that anonymization inserted (union of applied spans)."""
    assert result.transformed is not None
    segs = set(_written_segments(result.record))
    total = sum(len(result.transformed.texts[i]) for i in segs)
    if total == 0:
        return 0.0
    spans: dict[int, list[tuple[int, int]]] = {}
    for a in result.transformed.applied:
        if a.segment in segs:
            spans.setdefault(a.segment, []).append((a.start, a.end))
    covered = 0
    for seg, items in spans.items():
        limit = len(result.transformed.texts[seg])
        end = 0
        for s, e in sorted(items):
            s, e = max(s, end), min(e, limit)
            if e > s:
                covered += e - s
                end = e
    return covered / total


# -- sinks -----------------------------------------------------------------------------------------------------
class ParquetSink:
    """Rows buffered into row groups and written with pyarrow to a private temp file, renamed into place on close.

    Fixed schema, compression and no wall-clock metadata: the same rows give the same bytes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        ensure_private_dir(path.parent)
        self.tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
        fd = os.open(self.tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        os.close(fd)
        import pyarrow.parquet as pq

        self._writer = pq.ParquetWriter(str(self.tmp), parquet_schema(), compression="zstd")
        self._rows: list[dict[str, Any]] = []
        self.count = 0

    def write(self, row: dict[str, Any]) -> None:
        self._rows.append(row)
        self.count += 1
        if len(self._rows) >= _ROW_GROUP:
            self._flush()

    def write_table(self, table: Any) -> None:
        self._flush()
        self._writer.write_table(table)
        self.count += table.num_rows

    def _flush(self) -> None:
        if self._rows:
            import pyarrow as pa

            self._writer.write_table(pa.Table.from_pylist(self._rows, schema=parquet_schema()))
            self._rows = []

    def close(self) -> Path:
        self._flush()
        self._writer.close()
        with open(self.tmp, "rb+") as f:
            os.fsync(f.fileno())
        os.replace(self.tmp, self.path)
        return self.path

    def abort(self) -> None:
        try:
            self._writer.close()
        finally:
            self.tmp.unlink(missing_ok=True)


# -- the writer ------------------------------------------------------------------------------------------------
class FinetuneWriter:
    """See the module docstring. `policy` (a LoadedPolicy) is optional and only feeds the card's policy identity."""

    def __init__(self, out_dir: Path, spec: FinetuneOutput, *, policy: Any = None,
                 memo: SignatureMemo | None = None) -> None:
        self.dir = Path(out_dir) / FINETUNE_DIR
        self.spec = spec
        self.identity: dict[str, str] | None = getattr(policy, "identity", None)
        self._policy = getattr(policy, "policy", None)
        self.sinks: dict[str, JsonlSink | ParquetSink] = {}
        for n in split_names(spec):
            path = self.dir / file_name(n, spec.format)
            self.sinks[n] = ParquetSink(path) if spec.format == "parquet" else JsonlSink(path)
        self.dedupe = Deduper(exact=spec.dedupe.exact, near=spec.dedupe.near,
                              threshold=spec.dedupe.near_threshold, memo=memo) \
            if spec.dedupe.exact or spec.dedupe.near else None
        self.stats = CardStats()
        self._closed = False

    def _row(self, rec: Record, texts: list[str]) -> dict[str, Any] | None:
        fmt = self.spec.format
        if fmt == "chat":
            return {"id": rec.id, "messages": messages_of(rec, texts)} if rec.kind == "chat" else None
        if fmt == "text":
            return {"id": rec.id, "text": plain_text(rec, texts)}
        if fmt == "parquet":
            return {"id": rec.id, "kind": rec.kind, "text": plain_text(rec, texts),
                    "messages": messages_of(rec, texts) if rec.kind == "chat" else None}
        pc = prompt_completion(rec, texts)
        if pc is None:
            return None
        return {"id": rec.id, "prompt": pc[0], "completion": pc[1]}

    def _filter(self, result: Result) -> tuple[str | None, int]:
        assert result.transformed is not None
        rec, texts = result.record, result.transformed.texts
        chars = sum(len(texts[i]) for i in _written_segments(rec))
        if not result.verification.passed or result.error is not None:
            # Routing already keeps these out; the writer fails closed too, for callers that route themselves.
            return "unverified", chars
        if not any(texts[i].strip() for i in _written_segments(rec)):
            return "empty", chars
        if chars < self.spec.min_chars:
            return "too_short", chars
        if self.spec.max_chars is not None and chars > self.spec.max_chars:
            return "too_long", chars
        if redacted_fraction(result) >= self.spec.max_redacted_fraction:
            return "mostly_redacted", chars
        return None, chars

    def add(self, result: Result) -> Placement:
        if self._closed:
            raise RuntimeError("FinetuneWriter.add() after close()")
        if result.transformed is None:
            raise ValueError(f"record {result.record.id!r}: routed to fine-tune without a transformed text")
        rec, texts = result.record, result.transformed.texts
        row: dict[str, Any] | None = None
        reason, chars = self._filter(result)
        if reason is None:
            row = self._row(rec, texts)
            if row is None:
                reason = "not_chat" if self.spec.format == "chat" else "no_assistant_turn"
        if reason is None and self.dedupe is not None:
            dup = self.dedupe.check(plain_text(rec, texts))
            if dup is not None:
                reason = dup.kind
        if reason is not None or row is None:
            code = reason or "empty"
            self.stats.withheld[code] += 1
            return Placement(withheld=code)
        split = split_of(rec.id, self.spec.split)
        self.sinks[split].write(row)
        self.stats.count_written(result, chars)
        return Placement(split=split)

    def close(self, run: dict[str, Any] | None = None) -> dict[str, Any]:
        """Rename the split files into place, write the card and manifest; return counts for the run summary.

        `run` (optional): {"routes": {route: n}, "reasons": {reason text: n}, "inputs": [file names]} of the run."""
        for s in self.sinks.values():
            s.close()
        self._closed = True
        # A split file this run did not write (another format or split setting of an earlier run into the same
        # folder) would be stale data next to the new set: remove it.
        current = {file_name(n, self.spec.format) for n in self.sinks}
        for p in _split_files(self.dir):
            if p.name not in current:
                p.unlink()
        self.stats.written = {n: s.count for n, s in self.sinks.items()}
        manifest = self._manifest()
        if run:
            manifest["run"] = {"routes": dict(sorted((run.get("routes") or {}).items())),
                               "reasons": dict(sorted((run.get("reasons") or {}).items())),
                               "inputs": list(run.get("inputs") or [])}
        write_card_and_manifest(self.dir, manifest)
        return {"format": self.spec.format, "written": dict(self.stats.written),
                "withheld": dict(sorted(self.stats.withheld.items())),
                "files": [file_name(n, self.spec.format) for n in self.sinks]}

    def abort(self) -> None:
        for s in self.sinks.values():
            s.abort()

    def _manifest(self) -> dict[str, Any]:
        spec = self.spec
        return {
            "format": spec.format,
            "splits": {n: {"file": file_name(n, spec.format), "rows": s.count} for n, s in self.sinks.items()},
            "split": {"seed": spec.split.seed, "validation": spec.split.validation, "test": spec.split.test},
            "dedupe": {"exact": spec.dedupe.exact, "near": spec.dedupe.near,
                       "near_threshold": spec.dedupe.near_threshold},
            "filters": {"min_chars": spec.min_chars, "max_chars": spec.max_chars,
                        "max_redacted_fraction": spec.max_redacted_fraction},
            "policy": self.identity,
            "card": {**self.stats.to_json(), "actions": self._actions()},
        }

    def _actions(self) -> dict[str, str]:
        """The policy's operator for each entity type found in the written records (names only, no parameters)."""
        if self._policy is None:
            return {}
        return {et: self._policy.action_for(et).operator for et in sorted(self.stats.entities_before)}


# -- erasure ---------------------------------------------------------------------------------------------------
def remove_records(out_dir: Path, ids: set[str]) -> int:
    """Remove fine-tune rows whose id is in `ids` from every split file of a run's output folder (any format).

    Files are rewritten atomically; the manifest's counts and hashes and the card are refreshed. Returns the
    number of rows removed (0 when the folder has no fine-tune output)."""
    ft_dir = Path(out_dir) / FINETUNE_DIR
    if not ft_dir.is_dir() or not ids:
        return 0
    manifest = read_manifest(ft_dir)
    files = _split_files(ft_dir)
    removed = 0
    rows: dict[str, int] = {}
    for path in files:
        n, kept = _remove_parquet(path, ids) if path.suffix == ".parquet" else _remove_jsonl(path, ids)
        removed += n
        rows[path.stem] = kept
    if manifest is not None and removed:
        for name, s in manifest.get("splits", {}).items():
            if name in rows:
                s["rows"] = rows[name]
        card = manifest.setdefault("card", {})
        card["erased"] = int(card.get("erased", 0)) + removed
        card["written"] = {k: v for k, v in rows.items()}
        manifest.pop("files", None)
        write_card_and_manifest(ft_dir, manifest)
    return removed


def _split_files(ft_dir: Path) -> list[Path]:
    return sorted(p for p in ft_dir.iterdir() if p.is_file() and p.stem in SPLITS
                  and p.suffix in (".jsonl", ".parquet"))


def _remove_jsonl(path: Path, ids: set[str]) -> tuple[int, int]:
    # Two streaming passes (count, then rewrite only if needed) keep memory flat and leave untouched files alone.
    hits = total = 0
    with path.open("r", encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            total += 1
            if _line_id(path, lineno, line) in ids:
                hits += 1
    if not hits:
        return 0, total
    out = AtomicFile(path)
    try:
        with path.open("r", encoding="utf-8") as f:
            for lineno, line in enumerate(f, 1):
                if _line_id(path, lineno, line) not in ids:
                    out.write(line)
    except BaseException:
        out.abort()
        raise
    out.commit()
    return hits, total - hits


def _line_id(path: Path, lineno: int, line: str) -> Any:
    try:
        row = json.loads(line)
    except json.JSONDecodeError:
        raise ValueError(f"{path}:{lineno}: not a fine-tune JSON line") from None
    if not isinstance(row, dict) or not isinstance(row.get("id"), str):
        raise ValueError(f"{path}:{lineno}: fine-tune row without a string `id`")
    return row["id"]


def _remove_parquet(path: Path, ids: set[str]) -> tuple[int, int]:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq

    table = pq.read_table(path, schema=parquet_schema())
    mask = pc.is_in(table["id"], value_set=pa.array(sorted(ids), pa.string()))
    hits = int(pc.sum(mask).as_py() or 0)
    if not hits:
        return 0, table.num_rows
    kept = table.filter(pc.invert(mask)).combine_chunks()
    sink = ParquetSink(path)
    try:
        for off in range(0, kept.num_rows, _ROW_GROUP):  # same row groups a fresh write of these rows gives
            sink.write_table(kept.slice(off, _ROW_GROUP))
    except BaseException:
        sink.abort()
        raise
    sink.close()
    return hits, kept.num_rows

