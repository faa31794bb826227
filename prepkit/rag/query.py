"""Role-filtered retrieval with an audit entry per query."""

from __future__ import annotations

import sys
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prepkit import __version__
from prepkit.embed import get_embedder
from prepkit.keys import KeyRing
from prepkit.rag.store import Hit, StoreError, is_url, open_store, store_path


@dataclass(frozen=True, slots=True)
class QueryResult:
    role: str
    labels: list[str]  # labels the role may read
    hits: list[Hit]
    store: str
    seconds: float

    def to_json(self, *, with_text: bool = True) -> dict[str, Any]:
        return {"role": self.role, "labels": self.labels, "store": self.store,
                "hits": [{**h.chunk.public(), "score": round(h.score, 4),
                          **({"text": h.chunk.text} if with_text else {})} for h in self.hits]}


def default_audit_path(location: str | Path) -> Path | None:
    """OUT/audit.jsonl for a store at OUT/rag/store.db; None for a URL (the caller must say where)."""
    if is_url(location):
        return None
    p = store_path(location).resolve()
    return p.parent.parent / "audit.jsonl" if p.parent.name == "rag" else p.parent / "audit.jsonl"


def audit_event(path: Path, keyring: KeyRing, event: str, policy: dict[str, str], **fields: Any) -> dict[str, Any]:
    """Append one event as a run of its own; returns the new audit checkpoint."""
    from prepkit.audit import AuditLog

    log = AuditLog(path, keyring=keyring, run_id=f"{event}-{uuid.uuid4().hex[:12]}", policy=policy,
                   versions={"prepkit": __version__})
    try:
        log.append(event, **fields)
    except BaseException:
        log.__exit__(*sys.exc_info())
        raise
    checkpoint = log.close()
    advance_checkpoint(path.parent, checkpoint)
    return checkpoint


def advance_checkpoint(run_dir: Path, checkpoint: dict[str, Any]) -> None:
    """Entries appended after a run (queries, grant changes, erasures) are covered by the checkpoint in the run's
    manifest.json too: move it forward (signed when a signing key is set; AuditLog signs it) and re-hash
    audit.jsonl in the file list. The up-to-date check ignores audit.jsonl, so the next run can still skip."""
    import json

    from prepkit.sinks.files import write_json
    from prepkit.uptodate import file_sha256

    path = run_dir / "manifest.json"
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # not a run folder (a PostgreSQL store's --audit log elsewhere): the caller got the checkpoint
    if not isinstance(manifest, dict):
        return
    old = manifest.get("audit_checkpoint")
    if isinstance(old, dict) and isinstance(old.get("seq"), int) and old["seq"] >= checkpoint["seq"]:
        return  # a later writer already moved it further
    manifest["audit_checkpoint"] = checkpoint
    audit_file = Path(str(checkpoint.get("file", "")))
    if isinstance(manifest.get("files"), dict) and audit_file.parent == run_dir and audit_file.is_file():
        manifest["files"][audit_file.name] = file_sha256(audit_file)
    write_json(path, manifest)


def run_query(location: str | Path, question: str, role: str, keyring: KeyRing, *, k: int = 5,
              audit_path: Path | None, policy_identity: dict[str, str] | None = None,
              store_query_text: bool = False) -> QueryResult:
    if k < 1:
        raise StoreError("k must be at least 1")
    store = open_store(location, keyring)
    try:
        t0 = time.perf_counter()
        meta = store.meta()
        grants = store.grants()
        labels = sorted(grants.get(role, []))
        if role not in grants:
            # A typo'd or unknown role would otherwise read as "no results" and exit 0. The refusal is audited
            # like a query: someone asked the store for data under a role it does not know.
            if audit_path is not None:
                audit_event(audit_path, keyring, "rag_query", policy_identity or {}, store=store.location,
                            role=role, labels=[], k=k, hits=0, chunk_ids=[], record_ids=[], unknown_role=True)
            known = ", ".join(sorted(grants)) or "none (run `prepkit rag grants` with the policy)"
            raise StoreError(f"{store.location}: role not granted by this store (roles: {known})")
        if "embedder" in meta:
            vec = get_embedder(meta["embedder"]).embed([question])[0]
            hits = store.query(vec, role, k)
        else:
            hits = []  # an empty store (no RAG record yet)
        took = time.perf_counter() - t0
        where = store.location
    finally:
        store.close()
    if audit_path is not None:
        fields: dict[str, Any] = {
            "store": where, "role": role, "labels": labels, "k": k, "hits": len(hits),
            "chunk_ids": [h.chunk.chunk_id for h in hits],
            "record_ids": sorted({h.chunk.record_id for h in hits}),
        }
        if store_query_text:
            fields["query_text"] = question
        audit_event(audit_path, keyring, "rag_query", policy_identity or {}, **fields)
    return QueryResult(role, labels, hits, where, took)


def example_command(out_dir: Path, roles: dict[str, list[str]], question: str = "How do I claim travel expenses?") -> str | None:
    """A `prepkit rag query` line that works on a run's output, for the end of `prepkit run` (None if no role)."""
    if not roles:
        return None
    role = max(sorted(roles), key=lambda r: len(set(roles[r])))  # the widest reader shows the most
    return f'prepkit rag query {out_dir} "{question}" --role {role}'
