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

Formats follow TRL's dataset formats (https://huggingface.co/docs/trl/dataset_formats); each row keeps the input
record's `id`:
- auto (the default): the shape follows the data. Chat transcripts → conversational language modeling
  `{"id", "messages": [{"role", "content"}]}`; plain documents and table rows → standard language modeling
  `{"id", "text"}`. A run whose fine-tune records are all of one shape writes `<split>.jsonl`; a run with both
  writes chats to `<split>.jsonl` and the text rows to `text-<split>.jsonl` (two dataset configs, `messages` and
  `text`), since a trainer decides the shape of a dataset from its columns and one file cannot hold both.
- chat: conversational `messages` only. A plain document or table row is withheld (`not_chat`): made into a lone
  assistant turn it would break chat templates that require a user turn first (Llama 2, Mistral, ...).
- prompt_completion: conversational prompt/completion, `{"id", "prompt": [turns before the last assistant turn],
  "completion": [that assistant turn]}`. Chats without an assistant turn and records that are not chats (no prompt
  to complete) are withheld.
- text: standard language modeling `{"id", "text"}`; chats rendered as `role: content` paragraphs.
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
from prepkit.records import Decision, Record, Result, Route
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


def file_name(split: str, fmt: str, shape: str | None = None) -> str:
    """`<split>.jsonl` (`.parquet`); `text-<split>.jsonl` for the text rows of an auto-format run that also wrote
    chats (which keep the plain name)."""
    prefix = "text-" if shape == "text" else ""
    return f"{prefix}{split}.{'parquet' if fmt == 'parquet' else 'jsonl'}"


AUTO_SHAPES = ("messages", "text")


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


def prompt_completion(rec: Record, texts: list[str]) -> tuple[list[dict[str, str]], list[dict[str, str]]] | None:
    """TRL's conversational prompt/completion: the turns before the last assistant turn, and that turn. None when
    the record is not a chat or has no assistant turn (nothing to complete)."""
    if rec.kind != "chat":
        return None
    msgs = messages_of(rec, texts)
    last = max((i for i, m in enumerate(msgs) if m["role"] == "assistant"), default=None)
    if last is None or last == 0:
        return None
    return msgs[:last], [msgs[last]]


def shape_of(fmt: str, rec: Record) -> str:
    """The row shape a record gets in a format: "messages", "text", "prompt_completion" or "parquet"."""
    if fmt == "auto":
        return "messages" if rec.kind == "chat" else "text"
    return {"chat": "messages"}.get(fmt, fmt)


def row_of(fmt: str, rec: Record, texts: list[str]) -> dict[str, Any] | str:
    """The dataset row for a record, or the withheld reason code when the format has no place for it."""
    shape = shape_of(fmt, rec)
    if shape == "messages":
        return {"id": rec.id, "messages": messages_of(rec, texts)} if rec.kind == "chat" else "not_chat"
    if shape == "text":
        return {"id": rec.id, "text": plain_text(rec, texts)}
    if shape == "parquet":
        return {"id": rec.id, "kind": rec.kind, "text": plain_text(rec, texts),
                "messages": messages_of(rec, texts) if rec.kind == "chat" else None}
    pc = prompt_completion(rec, texts)
    if pc is None:
        has_answer = rec.kind == "chat" and any(s.role == "assistant" for s in rec.segments)
        return "no_assistant_turn" if rec.kind == "chat" and not has_answer else "no_prompt"
    return {"id": rec.id, "prompt": pc[0], "completion": pc[1]}


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
def screen(result: Result, spec: FinetuneOutput) -> tuple[str | None, int]:
    """The filters a record routed to fine-tuning meets before it is written, in the writer's order (duplicates
    aside, which depend on the rest of the run): (withheld reason code or None, characters written).

    `prepkit policy test` calls this too, so it says what the writer will do."""
    assert result.transformed is not None
    rec, texts = result.record, result.transformed.texts
    chars = sum(len(texts[i]) for i in _written_segments(rec))
    if not result.verification.passed or result.error is not None:
        # Routing already keeps these out; the writer fails closed too, for callers that route themselves.
        return "unverified", chars
    if not any(texts[i].strip() for i in _written_segments(rec)):
        return "empty", chars
    if chars < spec.min_chars:
        return "too_short", chars
    if spec.max_chars is not None and chars > spec.max_chars:
        return "too_long", chars
    if redacted_fraction(result) >= spec.max_redacted_fraction:
        return "mostly_redacted", chars
    row = row_of(spec.format, rec, texts)
    return (row if isinstance(row, str) else None), chars


FORMAT_WORDS = {
    "auto": "chat transcripts as conversational `messages`, documents and table rows as plain `text`",
    "chat": "conversational `messages`; documents and table rows are withheld (not_chat)",
    "prompt_completion": "conversational prompt/completion message lists; documents, table rows and chats without "
                         "an assistant answer are withheld",
    "text": "plain `text` (chats as `role: content` paragraphs, table rows as `column: value` lines)",
    "parquet": "one Parquet file with kind, messages (chats) and text (every record)",
}


def describe_filters(spec: FinetuneOutput) -> str:
    """The fine-tune format and every filter the writer applies, in words (`prepkit policy show`)."""
    limits = [f"fewer than {spec.min_chars} characters"] if spec.min_chars > 1 else []  # 1: the empty check
    if spec.max_chars is not None:
        limits.append(f"more than {spec.max_chars} characters")
    limits.append(f"{spec.max_redacted_fraction:.0%} or more anonymized")
    dups = [k for k, on in (("exact", spec.dedupe.exact), ("near", spec.dedupe.near)) if on]
    return (f"{spec.format} format: {FORMAT_WORDS[spec.format]}; {spec.split.validation:.0%} validation / "
            f"{spec.split.test:.0%} test split; records with {' or '.join(limits)} are withheld"
            + (f", as are {' and '.join(dups)} duplicates of a record kept earlier" if dups else "")
            + " (a withheld record is counted as drop, with the reason)")


class DatasetFilter:
    """The fine-tune dataset's filters, format and duplicate check as a pre-sink step (prepkit.route.Filter): a
    record they withhold is dropped with the reason before any sink sees it, so routes, audit log and
    conservation agree with what was written. Duplicates are first-wins in the order records are checked: check
    each once, in input order. `prepkit policy test` uses one too, so it shows what a run does."""

    name = "finetune_filter"
    routes = frozenset({Route.FINETUNE})

    def __init__(self, spec: FinetuneOutput, *, memo: SignatureMemo | None = None,
                 stats: CardStats | None = None) -> None:
        self.spec = spec
        self.dedupe = Deduper(exact=spec.dedupe.exact, near=spec.dedupe.near,
                              threshold=spec.dedupe.near_threshold, memo=memo) \
            if spec.dedupe.exact or spec.dedupe.near else None
        self.stats = stats if stats is not None else CardStats()

    def check(self, result: Result) -> Placement:
        if result.transformed is None:
            reason: str | None = "unverified"
        else:
            reason, _ = screen(result, self.spec)
            if reason is None and self.dedupe is not None:
                dup = self.dedupe.check(plain_text(result.record, result.transformed.texts))
                reason = dup.kind if dup is not None else None
        if reason is not None:
            self.stats.withheld[reason] += 1
            return Placement(withheld=reason)
        return Placement(split=split_of(result.record.id, self.spec.split))

    def __call__(self, result: Result) -> tuple[bool, str]:
        placed = self.check(result)
        return (False, placed.withheld) if placed.withheld is not None else (True, "")

    def withheld(self, result: Result, reason: str) -> Decision:
        return Decision(Route.DROP, Placement(withheld=reason).reason, rule=f"finetune-filter:{reason}",
                        labels=result.decision.labels)


Screen = DatasetFilter  # the name `prepkit policy test` first used


class FinetuneWriter:
    """See the module docstring. `policy` (a LoadedPolicy) is optional and only feeds the card's policy identity.
    `filter` is the step that decides, before add(), which records routed here are withheld."""

    def __init__(self, out_dir: Path, spec: FinetuneOutput, *, policy: Any = None,
                 memo: SignatureMemo | None = None) -> None:
        self.dir = Path(out_dir) / FINETUNE_DIR
        self.spec = spec
        self.identity: dict[str, str] | None = getattr(policy, "identity", None)
        self._policy = getattr(policy, "policy", None)
        # auto: one set of split files per shape, named by shape until close() knows whether both were used
        shapes: tuple[str | None, ...] = AUTO_SHAPES if spec.format == "auto" else (None,)
        self.sinks: dict[tuple[str | None, str], JsonlSink | ParquetSink] = {}
        for shape in shapes:
            for n in split_names(spec):
                path = self.dir / file_name(n, spec.format, shape)
                self.sinks[shape, n] = ParquetSink(path) if spec.format == "parquet" else JsonlSink(path)
        self.stats = CardStats()
        self.filter = DatasetFilter(spec, memo=memo, stats=self.stats)  # its withheld counts are the card's
        self._closed = False
        self._files: dict[str, dict[str, Any]] = {}

    def check(self, result: Result) -> Placement:
        return self.filter.check(result)

    def add(self, result: Result) -> None:
        """Write a record check() placed in a split."""
        if self._closed:
            raise RuntimeError("FinetuneWriter.add() after close()")
        if result.transformed is None:
            raise ValueError(f"record {result.record.id!r}: routed to fine-tune without a transformed text")
        rec, texts = result.record, result.transformed.texts
        reason, chars = screen(result, self.spec)
        row = row_of(self.spec.format, rec, texts)
        if reason is not None or isinstance(row, str):  # the filter step was skipped: fail closed, write nothing
            raise ValueError(f"record {rec.id!r}: routed to fine-tune but the dataset filters withhold it")
        split = split_of(rec.id, self.spec.split)
        shape = shape_of(self.spec.format, rec) if self.spec.format == "auto" else None
        self.sinks[shape, split].write(row)
        self.stats.count_written(result, chars)

    def close(self, run: dict[str, Any] | None = None) -> dict[str, Any]:
        """Rename the split files into place, write the card and manifest; return counts for the run summary.

        `run` (optional): {"routes": {route: n}, "reasons": {reason text: n}, "inputs": [file names]} of the run."""
        for s in self.sinks.values():
            s.close()
        self._closed = True
        fmt = self.spec.format
        used = [sh for sh in dict.fromkeys(k[0] for k in self.sinks) if any(
            s.count for (sh2, _), s in self.sinks.items() if sh2 == sh)]
        # files: config (shape, or "default") -> split -> {"file", "rows"}
        files: dict[str, dict[str, dict[str, Any]]] = {}
        if fmt == "auto" and len(used) < 2:
            keep = used[0] if used else AUTO_SHAPES[0]
            for (shape, n), s in self.sinks.items():
                if shape == "text":  # text rows alone take the plain names; else the (empty) text files go
                    if keep == "text":
                        os.replace(s.path, self.dir / file_name(n, fmt))
                    else:
                        s.path.unlink()
            files["default"] = {n: {"file": file_name(n, fmt), "rows": s.count}
                                for (shape, n), s in self.sinks.items() if shape == keep}
            self.shapes = [keep]
        elif fmt == "auto":
            for (shape, n), s in self.sinks.items():
                files.setdefault(str(shape), {})[n] = {"file": s.path.name, "rows": s.count}
            self.shapes = list(AUTO_SHAPES)
        else:
            files["default"] = {n: {"file": s.path.name, "rows": s.count} for (_, n), s in self.sinks.items()}
            self.shapes = [shape_of(fmt, _CHAT_PROBE)]
        self._files = files
        # A split file this run did not write (another format or split setting of an earlier run into the same
        # folder) would be stale data next to the new set: remove it.
        current = {f["file"] for cfg in files.values() for f in cfg.values()}
        for p in _split_files(self.dir):
            if p.name not in current:
                p.unlink()
        self.stats.written = {n: sum(cfg[n]["rows"] for cfg in files.values() if n in cfg)
                              for n in split_names(self.spec)}
        manifest = self._manifest()
        if run:
            manifest["run"] = {"routes": dict(sorted((run.get("routes") or {}).items())),
                               "reasons": dict(sorted((run.get("reasons") or {}).items())),
                               "inputs": list(run.get("inputs") or [])}
        write_card_and_manifest(self.dir, manifest)
        return {"format": fmt, "shapes": list(self.shapes), "written": dict(self.stats.written),
                "withheld": dict(sorted(self.stats.withheld.items())),
                "files": [f["file"] for cfg in files.values() for f in cfg.values()]}

    def abort(self) -> None:
        for s in self.sinks.values():
            s.abort()

    def _manifest(self) -> dict[str, Any]:
        spec = self.spec
        m: dict[str, Any] = {"format": spec.format, "shapes": list(self.shapes)}
        if list(self._files) == ["default"]:
            m["splits"] = self._files["default"]
        else:
            m["configs"] = self._files
            m["splits"] = {n: {"rows": self.stats.written.get(n, 0)} for n in split_names(spec)}
        m.update({
            "split": {"seed": spec.split.seed, "validation": spec.split.validation, "test": spec.split.test},
            "dedupe": {"exact": spec.dedupe.exact, "near": spec.dedupe.near,
                       "near_threshold": spec.dedupe.near_threshold},
            "filters": {"min_chars": spec.min_chars, "max_chars": spec.max_chars,
                        "max_redacted_fraction": spec.max_redacted_fraction},
            "policy": self.identity,
            "card": {**self.stats.to_json(), "actions": self._actions()},
        })
        return m

    def _actions(self) -> dict[str, str]:
        """The policy's operator for each entity type found in the written records (names only, no parameters)."""
        if self._policy is None:
            return {}
        return {et: self._policy.action_for(et).operator for et in sorted(self.stats.entities_before)}


_CHAT_PROBE = Record("", "", "chat", [])


# -- erasure ---------------------------------------------------------------------------------------------------
def remove_records(out_dir: Path, ids: set[str]) -> int:
    """Remove fine-tune rows whose id is in `ids` from every split file of a run's output folder (any format).

    Files are rewritten atomically; the manifest's counts and hashes and the card are refreshed. Returns the
    number of rows removed (0 when the folder has no fine-tune output)."""
    ft_dir = Path(out_dir) / FINETUNE_DIR
    if not ft_dir.is_dir() or not ids:
        return 0
    manifest = read_manifest(ft_dir)
    removed = 0
    rows: dict[str, int] = {}
    for path in _split_files(ft_dir):
        n, kept = _remove_parquet(path, ids) if path.suffix == ".parquet" else _remove_jsonl(path, ids)
        removed += n
        rows[path.name] = kept
    if manifest is not None and removed:
        written: dict[str, int] = {}
        for cfg in [manifest.get("splits", {}), *manifest.get("configs", {}).values()]:
            for name, s in cfg.items():
                if s.get("file") in rows:
                    s["rows"] = rows[s["file"]]
                    written[name] = written.get(name, 0) + s["rows"]
        for name, s in manifest.get("splits", {}).items():
            s["rows"] = written.get(name, 0)
        card = manifest.setdefault("card", {})
        card["erased"] = int(card.get("erased", 0)) + removed
        card["written"] = written
        manifest.pop("files", None)
        write_card_and_manifest(ft_dir, manifest)
    return removed


def _split_files(ft_dir: Path) -> list[Path]:
    def is_split(stem: str) -> bool:
        shape, _, split = stem.rpartition("-")
        return split in SPLITS and shape in ("", *AUTO_SHAPES)

    return sorted(p for p in ft_dir.iterdir() if p.is_file() and is_split(p.stem)
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

