"""Erase a data subject (GDPR art. 17) from a run's outputs: RAG chunks, fine-tune records, subject index.

The subject is found by keyed hash only; the value itself is never stored, logged or printed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from prepkit.keys import KeyRing
from prepkit.rag.query import audit_event
from prepkit.rag.store import STORE_FILE, StoreError, open_store
from prepkit.rag.subjects_index import INDEX_FILE, SubjectIndex
from prepkit.runlock import RunLock
from prepkit.sinks.quarantine import remove_quarantined
from prepkit.transform.subjects import lookup_hashes


@dataclass
class ForgetReport:
    record_ids: list[str]
    routes: dict[str, int]
    chunks_deleted: int = 0
    finetune_removed: int = 0
    quarantine_removed: int = 0
    cache_cleared: bool = False
    report_rewritten: bool = False
    notes: list[str] = field(default_factory=list)
    complete: bool = True  # False when some output could not be erased (see notes)

    def to_json(self) -> dict[str, Any]:
        return {"records": len(self.record_ids), "record_ids": self.record_ids, "routes": self.routes,
                "chunks_deleted": self.chunks_deleted, "finetune_removed": self.finetune_removed,
                "quarantine_removed": self.quarantine_removed, "cache_cleared": self.cache_cleared,
                "report_rewritten": self.report_rewritten,
                "complete": self.complete, "notes": self.notes}


def forget(out_dir: Path, keyring: KeyRing, value: str, entity_type: str | None = None, *,
           rag_url: str | None = None, policy_identity: dict[str, str] | None = None) -> ForgetReport:
    """Erase every record that held the subject from every output of OUT. Holds OUT's run lock: a run writing
    OUT at the same time would put the records back."""
    with RunLock() as lock:
        lock.acquire(Path(out_dir), what="erasure")
        return _forget(Path(out_dir), keyring, value, entity_type, rag_url=rag_url, policy_identity=policy_identity)


def _forget(out_dir: Path, keyring: KeyRing, value: str, entity_type: str | None, *,
            rag_url: str | None, policy_identity: dict[str, str] | None) -> ForgetReport:
    if not (out_dir / "rag" / INDEX_FILE).is_file():
        raise StoreError(f"{out_dir}: no subjects index at rag/{INDEX_FILE} (was this folder written by prepkit run?)")
    hashes = lookup_hashes(keyring, value, entity_type)
    index = SubjectIndex.in_out_dir(out_dir, keyring)
    try:
        matches = index.records_for(hashes)
        meta = index.meta()
        ids = sorted(matches)
        routes: dict[str, int] = {}
        for r in matches.values():
            routes[r] = routes.get(r, 0) + 1
        report = ForgetReport(ids, dict(sorted(routes.items())))

        url = rag_url or meta.get("url")
        if meta.get("backend") == "postgres" and not url:
            raise StoreError("the RAG store of this run is in PostgreSQL: give its URL with --rag-url")
        location: str | Path = url if url else out_dir / "rag" / STORE_FILE
        if ids and (url or Path(location).is_file()):
            store = open_store(location, keyring)
            try:
                report.chunks_deleted = store.delete_records(ids)
            finally:
                store.close()

        if ids:
            report.quarantine_removed = remove_quarantined(out_dir, set(ids), keyring)
            removed = _remove_finetune(out_dir, set(ids))
            if removed is None:
                report.complete = "finetune" not in routes
                if not report.complete:
                    report.notes.append("fine-tune erasure is not available in this build "
                                        "(prepkit.sinks.finetune.remove_records is missing): fine-tune files were "
                                        "NOT changed")
            else:
                report.finetune_removed = removed
        # Remember the hashes so a re-run over the same sources does not put the subject back into the store.
        index.mark_erased(hashes)
        index.remove_records(ids)
    finally:
        index.close()
    if ids:
        report.cache_cleared = _clear_cache(out_dir)
        report.report_rewritten = _rewrite_report(out_dir)
    checkpoint = audit_event(out_dir / "audit.jsonl", keyring, "erasure", policy_identity or {},
                             entity_type=entity_type, record_ids=ids, routes=report.routes,
                             chunks_deleted=report.chunks_deleted, finetune_removed=report.finetune_removed,
                             quarantine_removed=report.quarantine_removed, cache_cleared=report.cache_cleared,
                             report_rewritten=report.report_rewritten,
                             status="ok" if report.complete else "incomplete")
    # manifest.json must describe the folder as it now is (it listed the run's files before the erasure)
    from prepkit.uptodate import refresh_manifest

    refresh_manifest(out_dir, audit_checkpoint=checkpoint)
    return report


def _clear_cache(out_dir: Path) -> bool:
    """The result cache holds every record's findings and transformed text (encrypted) and the last run's
    examples: the erased records' entries go with it. It is keyed by content, not id, so the whole cache goes;
    the next run recomputes everything."""
    import shutil

    from prepkit.cache import CACHE_DIR

    cache = out_dir / CACHE_DIR
    if not cache.is_dir():
        return False
    shutil.rmtree(cache)
    return True


def _rewrite_report(out_dir: Path) -> bool:
    """report.html shows example records (masked before, transformed after): rewrite it from summary.json with no
    examples, as they may be the erased subject's."""
    import json

    from prepkit.report import write_report

    try:
        summary = json.loads((out_dir / "summary.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return False
    if not isinstance(summary, dict) or not (out_dir / "report.html").exists():
        return False
    write_report(out_dir, summary, [])
    return True


def _remove_finetune(out_dir: Path, ids: set[str]) -> int | None:
    """Fine-tune erasure belongs to the fine-tune sink; None if this build's sink cannot do it."""
    import importlib

    remove_records = getattr(importlib.import_module("prepkit.sinks.finetune"), "remove_records", None)
    if remove_records is None:
        return None
    return int(remove_records(out_dir, ids))
