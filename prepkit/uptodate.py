"""Run-level short cut: when nothing a run depends on has changed since the last complete run into the same OUT,
and OUT still holds exactly what that run wrote, that run's outputs *are* the outputs of a fresh run.

What "nothing changed" covers, as one keyed fingerprint (an HMAC under the master key, so another key never
matches): the bytes of every input file (sha256) and their names, the policy's sha256, the software and model
versions, the run options that change outputs (field overrides, fine-tune format, strict, sync, model), and the
date when a routing rule depends on it (`updated_within_days`). What "still holds" covers: every deliverable the
last run listed in `manifest.json` has the same sha256 now, and no deliverable was added. Files every run rewrites
(summary, report, audit log, manifest) are not compared.

Any difference, however small, falls back to the normal run, where the per-record result cache
(`prepkit.cache`) recomputes exactly the records that changed. Not used with a PostgreSQL RAG store (its state
lives outside OUT and cannot be hashed here), with `--no-cache` or `--resume`, or after an interrupted or failed
run. The short-cut run still writes its own audit entries, summary, report and manifest.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import stat
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from prepkit.keys import KeyRing
from prepkit.policy import LoadedPolicy
from prepkit.sinks.files import write_json

STATE_FILE = Path(".cache") / "last_run.json"
REWRITTEN = frozenset({"audit.jsonl", "summary.json", "report.html", "manifest.json"})
_CHUNK = 1 << 20


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(_CHUNK):
            h.update(block)
    return h.hexdigest()


def date_dependent(loaded: LoadedPolicy) -> bool:
    return any(rule.when.updated_within_days is not None for rule in loaded.policy.routing.rules)


def fingerprint(keyring: KeyRing, loaded: LoadedPolicy, versions: dict[str, str],
                inputs: Iterable[tuple[Path, str]], options: dict[str, Any], today: str | None) -> str | None:
    """None when an input is not a regular readable file (a FIFO, a broken link): such a run is never skipped,
    and reading a FIFO here would consume or block on it."""
    digests = []
    for path, name in inputs:
        try:
            if not stat.S_ISREG(path.stat().st_mode):
                return None
            digests.append([name, file_sha256(path)])
        except OSError:
            return None
    payload = {"policy": loaded.sha256, "versions": versions, "options": options, "today": today,
               "inputs": digests}
    data = json.dumps(payload, sort_keys=True, default=str).encode()
    return hmac.new(keyring.derive("cache-index"), b"up-to-date:" + data, hashlib.sha256).hexdigest()


def deliverables(out: Path) -> dict[str, Path]:
    """What manifest.json lists: every file of OUT outside hidden folders."""
    found = {}
    for p in out.rglob("*"):
        rel = p.relative_to(out)
        if p.is_file() and not any(part.startswith(".") for part in rel.parts):
            found[rel.as_posix()] = p
    return found


def manifest_files(out: Path) -> dict[str, str]:
    """sha256 of every deliverable but manifest.json itself, by path relative to OUT."""
    return {rel: file_sha256(p) for rel, p in sorted(deliverables(out).items()) if rel != "manifest.json"}


def refresh_manifest(out: Path, **updates: Any) -> None:
    """After a later change to OUT (an erasure): re-hash the deliverables and merge `updates` into manifest.json.
    The run state is dropped too, so the next run is a full one."""
    path = out / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # not a run's folder (or an old one without a manifest): nothing to refresh
    manifest.update(updates)
    manifest["files"] = manifest_files(out)
    write_json(path, manifest)
    forget(out)


def previous(out: Path, fp: str) -> dict[str, Any] | None:
    """The last run's {"summary", "examples"} if it ran under `fp` and OUT is as it left it; else None."""
    try:
        state = json.loads((out / STATE_FILE).read_text(encoding="utf-8"))
        manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not isinstance(manifest, dict) \
            or not hmac.compare_digest(str(state.get("fingerprint", "")), fp) \
            or state.get("run_id") != manifest.get("run_id") or not isinstance(manifest.get("files"), dict):
        return None
    listed = {k: v for k, v in manifest["files"].items() if k not in REWRITTEN}
    present = {k: p for k, p in deliverables(out).items() if k not in REWRITTEN}
    if set(listed) != set(present):
        return None
    for rel, digest in listed.items():
        if file_sha256(present[rel]) != digest:
            return None
    return {"summary": state.get("summary"), "examples": state.get("examples") or []}


def remember(out: Path, fp: str, run_id: str, summary: dict[str, Any], examples: list[dict[str, Any]]) -> None:
    """Record a complete run for the next one. The examples are those of the report: already masked."""
    write_json(out / STATE_FILE, {"fingerprint": fp, "run_id": run_id, "summary": summary, "examples": examples})


def forget(out: Path) -> None:
    (out / STATE_FILE).unlink(missing_ok=True)
