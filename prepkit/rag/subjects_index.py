"""Per-record keyed hashes of detected values (never the values), so `prepkit forget` can find a data subject.

Kept in its own encrypted file, OUT/rag/subjects.db, whatever the RAG backend: it covers every record of the run
(fine-tune, RAG, quarantine), and `forget` works from the output folder alone. It also remembers erased subjects,
so a later run over the same sources does not put their records back into the store.
"""

from __future__ import annotations

import contextlib
import datetime as dt
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import apsw

from prepkit.keys import KeyRing
from prepkit.rag.encdb import EncryptedDBError, connect
from prepkit.rag.store import StoreError

INDEX_FILE = "subjects.db"
KEY_PURPOSE = "subject-index"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS records(record_id TEXT PRIMARY KEY, route TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS subjects(hash TEXT NOT NULL, record_id TEXT NOT NULL, PRIMARY KEY(hash, record_id))
  WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS subjects_record ON subjects(record_id);
CREATE TABLE IF NOT EXISTS erased(hash TEXT PRIMARY KEY, erased_at TEXT NOT NULL);
"""


def _chunks(items: list[str], n: int = 500) -> Iterable[list[str]]:
    for i in range(0, len(items), n):
        yield items[i : i + n]


class SubjectIndex:
    def __init__(self, path: Path, keyring: KeyRing, *, create: bool = False) -> None:
        self.path = path
        try:
            self.db = connect(path, keyring.derive(KEY_PURPOSE), create=create, what="subjects index", cache_mb=16)
        except EncryptedDBError as e:
            raise StoreError(str(e)) from None
        with self.db:
            self._q(_SCHEMA)

    @classmethod
    def in_out_dir(cls, out_dir: Path, keyring: KeyRing, *, create: bool = False) -> SubjectIndex:
        return cls(out_dir / "rag" / INDEX_FILE, keyring, create=create)

    def meta(self) -> dict[str, str]:
        return dict(self._q("SELECT key, value FROM meta").fetchall())

    def set_meta(self, **values: str) -> None:
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO meta VALUES (?, ?)", list(values.items()))

    def set_records(self, items: list[tuple[str, str, list[str]]]) -> None:
        """(record_id, route, subject hashes) for a batch of records, replacing what was indexed for them."""
        with self.db:
            for rid, route, hashes in items:
                self._q("DELETE FROM subjects WHERE record_id = ?", (rid,))
                self._q("INSERT OR REPLACE INTO records VALUES (?, ?)", (rid, route))
                self.db.executemany("INSERT OR IGNORE INTO subjects VALUES (?, ?)", [(h, rid) for h in set(hashes)])

    def records_for(self, hashes: Iterable[str]) -> dict[str, str]:
        """record id -> route of every record that contained any of the hashes."""
        out: dict[str, str] = {}
        for part in _chunks(sorted(set(hashes))):
            marks = ",".join("?" * len(part))
            for rid, route in self._q(
                f"SELECT DISTINCT s.record_id, r.route FROM subjects s JOIN records r USING (record_id) "
                f"WHERE s.hash IN ({marks})", part):
                out[rid] = route
        return out

    def record_ids(self) -> set[str]:
        return {r for (r,) in self._q("SELECT record_id FROM records")}

    def remove_records(self, record_ids: Iterable[str]) -> int:
        ids = sorted(set(record_ids))
        with self.db:
            for part in _chunks(ids):
                marks = ",".join("?" * len(part))
                self._q(f"DELETE FROM subjects WHERE record_id IN ({marks})", part)
                self._q(f"DELETE FROM records WHERE record_id IN ({marks})", part)
        return len(ids)

    def mark_erased(self, hashes: Iterable[str]) -> None:
        now = dt.datetime.now(dt.UTC).isoformat(timespec="seconds")
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO erased VALUES (?, ?)", [(h, now) for h in set(hashes)])

    def erased(self) -> set[str]:
        return {h for (h,) in self._q("SELECT hash FROM erased")}

    def _q(self, sql: str, args: Any = ()) -> Any:
        # apsw's cursor rows are typed loosely; callers know their columns.
        return self.db.execute(sql, args)

    def close(self) -> None:
        with contextlib.suppress(apsw.Error):
            self.db.close()
