"""The embedded store: one SQLite file encrypted as a whole (SQLite3 Multiple Ciphers) with sqlite-vec for search.

Access control happens inside the query: each chunk carries its label set as a vec0 metadata column, and the KNN
search is restricted to the label sets the role may read, so the k nearest *readable* chunks come back (not the k
nearest overall, filtered afterwards to fewer).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import apsw
import numpy as np
import sqlite_vec

from prepkit.rag.encdb import EncryptedDBError, connect
from prepkit.rag.store import (
    Chunk,
    Hit,
    RecordState,
    StoreError,
    built_with_other_embedder,
    labelset,
    readable,
)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records(
  record_id TEXT PRIMARY KEY, content_hash TEXT NOT NULL, source TEXT, chunk_count INTEGER NOT NULL,
  updated_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks(
  id INTEGER PRIMARY KEY, chunk_id TEXT UNIQUE NOT NULL, record_id TEXT NOT NULL, source TEXT, segment TEXT,
  segment_index INTEGER, role TEXT, start INTEGER, end INTEGER, labels TEXT NOT NULL, labelset TEXT NOT NULL,
  entity_types TEXT NOT NULL, text TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_record ON chunks(record_id);
CREATE INDEX IF NOT EXISTS chunks_labelset ON chunks(labelset);
CREATE TABLE IF NOT EXISTS grants(role TEXT PRIMARY KEY, labels TEXT NOT NULL);
"""

_COLS = "chunk_id, record_id, source, segment, segment_index, role, start, end, labels, entity_types, text"


def _chunk(row: tuple[Any, ...]) -> Chunk:
    cid, rid, src, seg, si, role, s, e, labels, types, text = row
    return Chunk(cid, rid, src, seg, si, role, s, e, tuple(json.loads(labels)), tuple(json.loads(types)), text)


class SqliteStore:
    def __init__(self, path: Path, key: bytes, *, create: bool = False) -> None:
        self.path = path
        self.location = str(path)
        try:
            self.db = connect(path, key, create=create, what="RAG store",
                              extensions=(sqlite_vec.loadable_path(),))
        except EncryptedDBError as e:
            raise StoreError(str(e)) from None
        with self.db:
            self._q(_SCHEMA)

    # -- metadata -------------------------------------------------------------------------------------------
    def meta(self) -> dict[str, str]:
        return dict(self._q("SELECT key, value FROM meta").fetchall())

    def prepare(self, embedder: str, dims: int) -> None:
        """Create the vector table for this embedder, or refuse if the store was built with another one."""
        if built_with_other_embedder(self.meta(), self.location, embedder, dims, "delete the store"):
            return
        with self.db:
            self._q(
                f"CREATE VIRTUAL TABLE vec_chunks USING vec0(embedding float[{int(dims)}] distance_metric=cosine, "
                "labelset text)"
            )
            self.db.executemany("INSERT INTO meta VALUES (?, ?)",
                                [("embedder", embedder), ("dims", str(dims)), ("schema", "1")])

    def records(self) -> dict[str, RecordState]:
        return {r: RecordState(h, n) for r, h, n in
                self._q("SELECT record_id, content_hash, chunk_count FROM records")}

    # -- writes ---------------------------------------------------------------------------------------------
    def _delete(self, record_ids: list[str]) -> int:
        n = 0
        for rid in record_ids:
            ids = [r for (r,) in self._q("SELECT id FROM chunks WHERE record_id = ?", (rid,))]
            if ids:
                self.db.executemany("DELETE FROM vec_chunks WHERE rowid = ?", [(i,) for i in ids])
                self._q("DELETE FROM chunks WHERE record_id = ?", (rid,))
            self._q("DELETE FROM records WHERE record_id = ?", (rid,))
            n += len(ids)
        return n

    def replace_records(self, items: list[tuple[str, str, list[Chunk]]], vectors: np.ndarray) -> None:
        """Replace the chunks of each (record_id, content_hash, chunks); vectors are in the same order as chunks."""
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        vecs = np.ascontiguousarray(vectors, dtype=np.float32)
        i = 0
        with self.db:
            self._delete([rid for rid, _, _ in items])
            for rid, content_hash, chunks in items:
                source = chunks[0].source if chunks else None
                self._q("INSERT INTO records VALUES (?, ?, ?, ?, ?)",
                                (rid, content_hash, source, len(chunks), now))
                for c in chunks:
                    self._q(
                        f"INSERT INTO chunks({_COLS}, labelset) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                        (c.chunk_id, c.record_id, c.source, c.segment, c.segment_index, c.role, c.start, c.end,
                         json.dumps(list(c.labels)), json.dumps(list(c.entity_types)), c.text, labelset(c.labels)))
                    self._q("INSERT INTO vec_chunks(rowid, embedding, labelset) VALUES (?, ?, ?)",
                                    (self.db.last_insert_rowid(), vecs[i].tobytes(), labelset(c.labels)))
                    i += 1

    def delete_records(self, record_ids: Iterable[str]) -> int:
        with self.db:
            n = self._delete(list(record_ids))
        return n

    def set_grants(self, roles: dict[str, list[str]]) -> None:
        with self.db:
            self._q("DELETE FROM grants")
            self.db.executemany("INSERT INTO grants VALUES (?, ?)",
                                [(r, json.dumps(sorted(set(ls)))) for r, ls in roles.items()])

    def grants(self) -> dict[str, list[str]]:
        return {r: json.loads(ls) for r, ls in self._q("SELECT role, labels FROM grants")}

    # -- reads ----------------------------------------------------------------------------------------------
    def query(self, vector: np.ndarray, role: str, k: int) -> list[Hit]:
        allowed = self.grants().get(role, [])
        sets = [ls for (ls,) in self._q("SELECT DISTINCT labelset FROM chunks")
                if readable(json.loads(ls), allowed)]
        if not sets or "embedder" not in self.meta():
            return []
        marks = ",".join("?" * len(sets))
        rows = self._q(
            "SELECT rowid, distance FROM vec_chunks WHERE embedding MATCH ? AND k = ? "
            f"AND labelset IN ({marks}) ORDER BY distance",
            (np.asarray(vector, dtype=np.float32).tobytes(), int(k), *sets),
        ).fetchall()
        hits = []
        for rowid, dist in rows:
            row = self._q(f"SELECT {_COLS} FROM chunks WHERE id = ?", (rowid,)).fetchone()
            chunk = _chunk(row)
            if readable(chunk.labels, allowed):  # belt and braces: the vec0 filter already guarantees this
                hits.append(Hit(chunk, 1.0 - float(dist)))
        return hits

    def stats(self) -> dict[str, Any]:
        m = self.meta()
        labelsets = dict(self._q("SELECT labelset, count(*) FROM chunks GROUP BY labelset").fetchall())
        return {
            "backend": "sqlite", "location": self.location, "embedder": m.get("embedder"),
            "dims": int(m["dims"]) if "dims" in m else None,
            "records": self._q("SELECT count(*) FROM records").fetchone()[0],
            "chunks": self._q("SELECT count(*) FROM chunks").fetchone()[0],
            "chunks_by_labels": {", ".join(json.loads(k)): v for k, v in sorted(labelsets.items())},
            "roles": self.grants(),
            "bytes": self.path.stat().st_size if self.path.exists() else 0,
        }

    def _q(self, sql: str, args: Any = ()) -> Any:
        # apsw's cursor rows are typed loosely; callers know their columns.
        return self.db.execute(sql, args)

    def close(self) -> None:
        with contextlib.suppress(apsw.Error):
            self.db.close()
