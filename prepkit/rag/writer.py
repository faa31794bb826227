"""RagWriter: what the pipeline calls to chunk, embed and upsert RAG-routed records, and index subjects.

Upserts are by record id + content hash (of the transformed text, segment keys, labels and chunking settings):
unchanged records are skipped without re-embedding, changed ones have their chunks replaced, records that now
route elsewhere lose their chunks, and with sync=True records not seen in this run are deleted.
"""

from __future__ import annotations

import hashlib
import json
import time
from pathlib import Path
from typing import Any

import numpy as np

from prepkit.embed import get_embedder
from prepkit.keys import KeyRing
from prepkit.policy import LoadedPolicy
from prepkit.rag.chunk import Span, chunk_spans, document_locator, entity_types_in
from prepkit.rag.store import STORE_FILE, Chunk, StoreError, is_url, open_store, redact_url
from prepkit.rag.subjects_index import SubjectIndex
from prepkit.records import Result, Route

BATCH_CHUNKS = 512  # chunks embedded and written per transaction
BATCH_SUBJECTS = 2000


def content_hash(result: Result, labels: tuple[str, ...], size: int, overlap: int, embedder: str) -> str:
    assert result.transformed is not None
    payload = {"texts": result.transformed.texts, "keys": [s.key for s in result.record.segments],
               "roles": [s.role for s in result.record.segments], "source": result.record.source,
               "labels": sorted(labels), "chunking": [size, overlap], "embedder": embedder}
    return hashlib.sha256(json.dumps(payload, sort_keys=True).encode()).hexdigest()


def _chunk_id(rid: str, seg: int, start: int, end: int, chash: str) -> str:
    return hashlib.sha256(f"{rid}\0{seg}\0{start}\0{end}\0{chash}".encode()).hexdigest()[:24]


def make_chunks(result: Result, labels: tuple[str, ...], size: int, overlap: int, chash: str) -> list[Chunk]:
    """Plain documents: sentence chunks of the one segment. Chats and table rows: consecutive short segments are
    packed into one chunk as `role: text` / `column: text` lines (a chunk per chat turn or per cell would be too
    small to retrieve); a segment longer than a chunk gets sentence chunks of its own. A packed chunk's `segment`
    names its first and last segment ("messages[0].content..messages[3].content"), its offsets run from the start
    of the first to the end of the last."""
    assert result.transformed is not None
    rec = result.record
    texts = result.transformed.texts
    applied = result.transformed.applied
    finding_types = {si: sorted({f.entity_type for f in result.findings if f.segment == si})
                     for si in range(len(rec.segments))}

    def types_for(si: int, span: Span) -> list[str]:
        # Types of the operators applied inside the chunk (offsets into transformed text); a record with findings
        # but nothing applied (everything kept) falls back to the segment's finding types.
        return entity_types_in(applied, si, span) if applied else finding_types[si]

    locate = document_locator(rec.metadata, texts[0]) if rec.kind == "text" and len(texts) == 1 else None

    def single(si: int, span: Span) -> Chunk:
        seg = rec.segments[si]
        key = seg.key + (locate(span) if locate is not None else "")  # PDF pages / DOCX paragraphs covered
        return Chunk(_chunk_id(rec.id, si, span.start, span.end, chash), rec.id, rec.source, key, si, seg.role,
                     span.start, span.end, labels, tuple(types_for(si, span)), texts[si][span.start : span.end])

    if rec.kind == "text" or len(rec.segments) == 1:
        return [single(si, sp) for si in range(len(rec.segments)) for sp in chunk_spans(texts[si], size, overlap)]

    chunks: list[Chunk] = []
    group: list[int] = []

    def line(si: int) -> str:
        seg = rec.segments[si]
        return f"{seg.role or seg.key}: {texts[si].strip()}"

    def emit() -> None:
        if not group:
            return
        if len(group) == 1:
            t = texts[group[0]]
            lead = len(t) - len(t.lstrip())
            chunks.append(single(group[0], Span(lead, len(t.rstrip()))))
        else:
            a, b = group[0], group[-1]
            types = sorted({t for si in group for t in types_for(si, Span(0, len(texts[si])))})
            key = f"{rec.segments[a].key}..{rec.segments[b].key}"
            end = len(texts[b].rstrip())
            chunks.append(Chunk(_chunk_id(rec.id, a, 0, end, chash + str(b)), rec.id, rec.source, key, a, None,
                                0, end, labels, tuple(types), "\n".join(line(si) for si in group)))
        group.clear()

    used = 0
    for si, t in enumerate(texts):
        if not t.strip():
            continue
        n = len(line(si)) + 1
        if len(t) > size:
            emit()
            chunks.extend(single(si, sp) for sp in chunk_spans(t, size, overlap))
            used = 0
            continue
        if group and used + n > size:
            emit()
            used = 0
        group.append(si)
        used += n
    emit()
    return chunks


class RagWriter:
    def __init__(self, out_dir: Path, loaded_policy: LoadedPolicy, keyring: KeyRing, url: str | None = None) -> None:
        policy = loaded_policy.policy
        self.cfg = policy.outputs.rag
        self.out_dir = Path(out_dir)
        self.embedder = get_embedder(self.cfg.embedder)
        url = url or self.cfg.url
        if self.cfg.backend == "postgres" and not url:
            raise StoreError("outputs.rag.backend is postgres but no URL was given (--rag-url or outputs.rag.url)")
        if url and not is_url(url):
            raise StoreError(f"RAG URL {redact_url(url)!r} is not a postgresql:// URL")
        self.backend = "postgres" if url else "sqlite"
        location: str | Path = url if url else self.out_dir / "rag" / STORE_FILE
        self.index = SubjectIndex.in_out_dir(self.out_dir, keyring, create=True)
        try:
            self.store = open_store(location, keyring, create=True)
        except Exception:
            self.index.close()
            raise
        try:
            self.store.prepare(self.embedder.name, self.embedder.dims)
            self.store.set_grants({r: list(ls) for r, ls in policy.access.roles.items()})
        except Exception:
            self.store.close()
            self.index.close()
            raise
        # A URL with a password is never written down; forget then needs --rag-url again.
        meta = {"backend": self.backend}
        if url and redact_url(url) == url:
            meta["url"] = url
        self.index.set_meta(**meta)
        self.existing = self.store.records()
        self.erased = self.index.erased()
        self._pending: list[tuple[str, str, list[Chunk]]] = []
        self._pending_chunks = 0
        self._subjects: list[tuple[str, str, list[str]]] = []
        self.rag_ids: set[str] = set()
        self._added: set[str] = set()
        self.other_ids: set[str] = set()
        self.n = {"records_written": 0, "records_skipped": 0, "records_blocked_erased": 0, "chunks_written": 0,
                  "chunks_skipped": 0, "chunks_deleted": 0, "records_deleted": 0, "subjects_indexed": 0}
        self.embed_seconds = 0.0
        self.closed = False

    def erased_subject(self, result: Result) -> bool:
        """True if the record holds a subject erased by `prepkit forget` earlier: a re-run over the same sources
        should keep such a record out of every output (add() already keeps it out of the store)."""
        return bool(self.erased and result.transformed
                    and self.erased.intersection(result.transformed.subject_hashes))

    def add(self, result: Result) -> None:
        if result.decision.route != Route.RAG:
            raise ValueError(f"record {result.record.id}: RagWriter.add got route {result.decision.route}")
        if result.transformed is None:
            # Fail closed: only transformed (anonymized) text may enter the store.
            raise ValueError(f"record {result.record.id}: routed to rag without transformed text")
        rid = result.record.id
        if rid in self._added:
            # The store is keyed by record id: a second record with this id would replace the first (or, in one
            # write batch, break the store's primary key). A run makes ids unique first (prepkit.ids).
            raise ValueError(f"record id {rid!r} given twice to one RAG writer; ids must be unique per run")
        self._added.add(rid)
        self.rag_ids.add(rid)
        if self.erased_subject(result):
            self.n["records_blocked_erased"] += 1
            self.other_ids.add(rid)  # an erased subject's record must not come back: drop any chunks it has
            self.rag_ids.discard(rid)
            return
        labels = tuple(sorted(set(result.decision.labels or self.cfg.default_labels)))
        chash = content_hash(result, labels, self.cfg.chunk_size, self.cfg.chunk_overlap, self.embedder.name)
        prev = self.existing.get(rid)
        if prev is not None and prev.content_hash == chash:
            self.n["records_skipped"] += 1
            self.n["chunks_skipped"] += prev.chunk_count
            return
        chunks = make_chunks(result, labels, self.cfg.chunk_size, self.cfg.chunk_overlap, chash)
        self._pending.append((rid, chash, chunks))
        self._pending_chunks += len(chunks)
        if self._pending_chunks >= BATCH_CHUNKS:
            self._flush()

    def index_subjects(self, result: Result) -> None:
        rid = result.record.id
        route = str(result.decision.route)
        if result.decision.route != Route.RAG:
            self.other_ids.add(rid)
        hashes = list(result.transformed.subject_hashes) if result.transformed else []
        self._subjects.append((rid, route, hashes))
        if len(self._subjects) >= BATCH_SUBJECTS:
            self._flush_subjects()

    def _flush(self) -> None:
        if not self._pending:
            return
        texts = [c.text for _, _, chunks in self._pending for c in chunks]
        t0 = time.perf_counter()
        vectors = self.embedder.embed(texts) if texts else np.zeros((0, self.embedder.dims), dtype=np.float32)
        self.embed_seconds += time.perf_counter() - t0
        self.store.replace_records(self._pending, vectors)
        self.n["records_written"] += len(self._pending)
        self.n["chunks_written"] += len(texts)
        self._pending, self._pending_chunks = [], 0

    def _flush_subjects(self) -> None:
        if self._subjects:
            self.index.set_records(self._subjects)
            self.n["subjects_indexed"] += sum(len(set(h)) for _, _, h in self._subjects)
            self._subjects = []

    def _delete(self, ids: set[str]) -> None:
        present = sorted(i for i in ids if i in self.existing)
        if present:
            self.n["chunks_deleted"] += self.store.delete_records(present)
            self.n["records_deleted"] += len(present)
            for i in present:
                self.existing.pop(i, None)

    def close(self, sync: bool = False, seen_ids: set[str] | None = None) -> dict[str, Any]:
        """Flush, apply deletions and return stats for summary.json. sync=True deletes chunks (and subject index
        entries) of records not seen in this run: `seen_ids` if given, else every record passed to add() or
        index_subjects()."""
        if self.closed:
            raise RuntimeError("RagWriter already closed")
        try:
            self._flush()
            self._flush_subjects()
            self._delete(self.other_ids - self.rag_ids)
            if sync:
                seen = seen_ids if seen_ids is not None else self.rag_ids | self.other_ids
                self._delete(set(self.existing) - seen)
                stale = self.index.record_ids() - seen
                if stale:
                    self.index.remove_records(stale)
            stats = self.store.stats()
        finally:
            self.store.close()
            self.index.close()
            self.closed = True
        texts = self.n["chunks_written"]
        return {
            **self.n, "backend": self.backend, "store": stats["location"], "embedder": self.embedder.name,
            "dims": self.embedder.dims, "records_total": stats["records"], "chunks_total": stats["chunks"],
            "store_bytes": stats["bytes"], "embed_seconds": round(self.embed_seconds, 3),
            "chunks_per_second": round(texts / self.embed_seconds) if self.embed_seconds > 0 else None,
            "sync": sync,
        }
