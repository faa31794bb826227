"""The fine-tune dataset card (`finetune/README.md`) and manifest (`finetune/manifest.json`).

The manifest is the source of truth: it holds the card's statistics and the sha256 of every other file in
`finetune/`; the README is rendered from it, so `remove_records` can refresh both after an erasure. Neither file
holds a timestamp, a run id or any record text (only ids appear in split files; the card holds counts, entity
type names, operator names, source file names and the policy identity), so re-runs are byte-identical.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prepkit.records import Result
from prepkit.sinks.files import AtomicFile

CARD_FILE = "README.md"
MANIFEST_FILE = "manifest.json"

REASONS: dict[str, str] = {
    "unverified": "the verification re-scan did not pass (or a stage failed): never written",
    "empty": "no text left after anonymization",
    "too_short": "shorter than `min_chars`",
    "too_long": "longer than `max_chars`",
    "mostly_redacted": "share of text replaced by anonymization ≥ `max_redacted_fraction` (mostly personal data)",
    "no_assistant_turn": "chat without an assistant turn (prompt/completion format needs one)",
    "no_prompt": "no prompt to complete: a document, a table row or a chat that opens with the assistant "
                 "(prompt/completion format; format auto or text keeps it)",
    "not_chat": "plain document or table row in a chat-format dataset (format auto, text or parquet keeps it)",
    "exact_duplicate": "same normalized text as a record kept earlier",
    "near_duplicate": "near-duplicate (MinHash/LSH estimated Jaccard ≥ threshold) of a record kept earlier",
}

COLUMNS: dict[str, dict[str, str]] = {
    "chat": {"id": "string: the input record id", "messages": "list of {role, content}: the anonymized turns"},
    "auto": {"id": "string: the input record id",
             "messages": "list of {role, content}: the anonymized turns (chat transcripts)",
             "text": "string: the anonymized text (documents and table rows)"},
    "prompt_completion": {"id": "string: the input record id",
                          "prompt": "list of {role, content}: the turns before the last assistant turn",
                          "completion": "list of one {role: assistant, content}: the last assistant turn"},
    "text": {"id": "string: the input record id", "text": "string: the anonymized text"},
    "parquet": {"id": "string: the input record id", "kind": "string: chat, text or table",
                "messages": "list of {role, content}: the anonymized turns (null unless kind is chat)",
                "text": "string: the anonymized text (chat rendered as `role: content` paragraphs)"},
}


@dataclass
class CardStats:
    """Counts over the records *written* to the fine-tune set (and the ones withheld)."""

    written: dict[str, int] = field(default_factory=dict)
    withheld: Counter[str] = field(default_factory=Counter)
    entities_before: Counter[str] = field(default_factory=Counter)
    entities_after: Counter[str] = field(default_factory=Counter)
    operators: Counter[str] = field(default_factory=Counter)
    sources: Counter[str] = field(default_factory=Counter)
    kinds: Counter[str] = field(default_factory=Counter)
    checks: set[str] = field(default_factory=set)
    chars: int = 0

    def count_written(self, result: Result, chars: int) -> None:
        self.entities_before.update(f.entity_type for f in result.findings)
        self.entities_after.update(f.entity_type for f in result.verification.failures)
        self.operators.update(result.operators)
        self.sources[result.record.source] += 1
        self.kinds[result.record.kind] += 1
        self.checks.update(result.verification.checks)
        self.chars += chars

    def to_json(self) -> dict[str, Any]:
        return {
            "written": dict(self.written),
            "withheld": dict(sorted(self.withheld.items())),
            "entities_before": dict(sorted(self.entities_before.items())),
            "entities_after": dict(sorted(self.entities_after.items())),
            "operators": dict(sorted(self.operators.items())),
            "sources": dict(sorted(self.sources.items())),
            "kinds": dict(sorted(self.kinds.items())),
            "verification_checks": sorted(self.checks),
            "chars": self.chars,
            "erased": 0,
        }


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_card_and_manifest(ft_dir: Path, manifest: dict[str, Any]) -> dict[str, Any]:
    """Render README.md from `manifest`, then write manifest.json with the sha256 of every file in `ft_dir`."""
    _write(ft_dir / CARD_FILE, render_card(manifest))
    files = {p.name: sha256_file(p) for p in sorted(ft_dir.iterdir())
             if p.is_file() and p.name != MANIFEST_FILE and not p.name.startswith(".")}
    manifest = {**manifest, "files": files}
    _write(ft_dir / MANIFEST_FILE, json.dumps(manifest, ensure_ascii=False, sort_keys=True, indent=2) + "\n")
    return manifest


def read_manifest(ft_dir: Path) -> dict[str, Any] | None:
    path = ft_dir / MANIFEST_FILE
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise ValueError(f"{path}: not a readable fine-tune manifest ({type(e).__name__})") from None
    if not isinstance(data, dict):
        raise ValueError(f"{path}: not a readable fine-tune manifest (top level is not an object)")
    return data


def _write(path: Path, text: str) -> None:
    f = AtomicFile(path)
    f.write(text)
    f.commit()


def _table(head: tuple[str, ...], rows: list[tuple[Any, ...]]) -> str:
    if not rows:
        return "_none_\n"
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    out += ["| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |" for r in rows]
    return "\n".join(out) + "\n"


def render_card(m: dict[str, Any]) -> str:
    """Markdown with Hugging Face YAML front matter, so `load_dataset("<out>/finetune")` finds the splits."""
    card: dict[str, Any] = m.get("card", {})
    splits: dict[str, dict[str, Any]] = m.get("splits", {})
    fmt = str(m.get("format", ""))
    policy: dict[str, Any] = m.get("policy") or {}
    written = {k: int(v.get("rows", 0)) for k, v in splits.items()}
    withheld: dict[str, int] = card.get("withheld", {})
    total = sum(written.values())

    # `datasets` refuses a split with no rows ("corresponds to no data"), so only non-empty splits are listed.
    fm = ["---"]
    configs: dict[str, dict[str, dict[str, Any]]] = m.get("configs") or {"default": splits}
    listed = {c: [(name, s) for name, s in cfg.items() if int(s.get("rows", 0)) > 0] for c, cfg in configs.items()}
    if any(listed.values()):
        fm += ["configs:"]
        first = True
        for c, items in listed.items():
            if not items:
                continue
            fm += [f"- config_name: {c}"] + (["  default: true"] if first and c != "default" else [])
            fm += ["  data_files:"]
            first = False
            for name, s in items:
                fm += [f"  - split: {name}", f"    path: {s['file']}"]
    fm += ["tags:", "- prepkit", "- anonymized", "---", ""]

    body = [f"# Fine-tuning dataset ({fmt})", "",
            f"{total} records, anonymized by prepkit and verified clean by the re-scan before they were written. "
            "Every row keeps the `id` of its input record, so any row can be traced back through the run's audit "
            "log (`audit.jsonl`).", "",
            "## Splits", "",
            "Deterministic: a record's split is fixed by a hash of its id and the seed, so re-runs and incremental "
            "runs never move a record between splits.", "",
            _table(("config", "split", "file", "records"), [(c, k, v["file"], v.get("rows", 0))
                                                             for c, cfg in configs.items() for k, v in cfg.items()]),
            f"Seed {m.get('split', {}).get('seed', '')}, validation fraction {m.get('split', {}).get('validation', '')}"
            f", test fraction {m.get('split', {}).get('test', '')}.", "",
            "## Columns", "",
            _table(("column", "meaning"), list(COLUMNS.get(fmt, {}).items())),
            _format_note(fmt), "",
            "## Policy", "",
            _table(("name", "version", "sha256"),
                   [(policy.get("name", ""), policy.get("version", ""), policy.get("sha256", ""))] if policy else []),
            "## Records withheld", "",
            "Records the policy routed to fine-tuning but the dataset filters kept out (counted as `drop` in the "
            "run summary and audit log, with the reason):", "",
            _table(("reason", "records", "meaning"),
                   [(k, v, REASONS.get(k, "")) for k, v in sorted(withheld.items())]),
            f"Filters: exact dedupe {'on' if m.get('dedupe', {}).get('exact') else 'off'}, near dedupe "
            f"{'on (threshold ' + str(m.get('dedupe', {}).get('near_threshold')) + ')' if m.get('dedupe', {}).get('near') else 'off'}"
            f", min_chars {m.get('filters', {}).get('min_chars')}, "
            f"max_chars {m.get('filters', {}).get('max_chars') or 'none'}, "
            f"max_redacted_fraction {m.get('filters', {}).get('max_redacted_fraction')}. Duplicates are decided "
            "across all splits (the first record in input order is kept).", "",
            ]
    run: dict[str, Any] = m.get("run") or {}
    if run:
        body += ["## Where the run's other records went", "",
                 "Every input record of the run, by route (fine-tune counts the records written here; records "
                 "withheld by the filters above count as drop):", "",
                 _table(("route", "records"), list(run.get("routes", {}).items())),
                 _table(("decision reason", "records"), list(run.get("reasons", {}).items())),
                 f"Inputs of the run: {', '.join(f'`{x}`' for x in run.get('inputs', [])) or 'none'}.", ""]
    if card.get("erased"):
        body += [f"**{card['erased']} record(s) erased on request after the run** (`prepkit forget`); the split "
                 "counts above are current, the statistics below describe the run before the erasure.", ""]
    before: dict[str, int] = card.get("entities_before", {})
    after: dict[str, int] = card.get("entities_after", {})
    actions: dict[str, str] = card.get("actions", {})
    body += ["## Personal data: before and after", "",
             "Entities detected in the written records before anonymization, and found by the verification "
             f"re-scan after it (checks: {', '.join(card.get('verification_checks', [])) or 'none'}):", "",
             _table(("entity type", "detected before", "policy operator", "remaining after"),
                    [(k, before.get(k, 0), actions.get(k, "") or "-", after.get(k, 0))
                     for k in sorted(set(before) | set(after))]),
             "## Operators used", "",
             _table(("operator", "applications"), sorted(card.get("operators", {}).items())),
             "## Input sources", "",
             _table(("source", "records"), sorted(card.get("sources", {}).items())),
             f"Record kinds: {', '.join(f'{k} {v}' for k, v in sorted(card.get('kinds', {}).items())) or 'none'}. "
             f"Characters written: {card.get('chars', 0)}.", "",
             "## Integrity", "",
             "`manifest.json` lists the sha256 of every file in this folder.", ""]
    return "\n".join(fm + body)


def _format_note(fmt: str) -> str:
    # the shapes are TRL's dataset formats: https://huggingface.co/docs/trl/dataset_formats
    if fmt == "auto":
        return ("The shape follows the data: chat transcripts keep their turns and roles in `messages` (conversational "
                "language modeling); documents and table rows are plain `text` (table rows as `column: value` "
                "lines). When a run has both, each shape has its own files and dataset config (`messages`, the "
                "default, and `text`).")
    if fmt == "prompt_completion":
        return ("Conversational prompt/completion: `prompt` is the list of turns before the last assistant turn, "
                "`completion` that assistant turn (turns after it are not used). Records with no prompt to complete "
                "(documents, table rows, chats without a user turn before an assistant turn) are withheld.")
    if fmt == "chat":
        return ("Chat transcripts keep their turns and roles. Plain documents and table rows are withheld "
                "(`not_chat`): chat templates that need a user turn first would reject a lone assistant turn.")
    if fmt == "parquet":
        return ("Chat transcripts keep their turns and roles in `messages`; every record also has `text` (chat "
                "rendered as `role: content` paragraphs, table rows as `column: value` lines).")
    if fmt == "text":
        return "Chat transcripts are rendered as `role: content` paragraphs; table rows as `column: value` lines."
    return ""
