"""The team backend: PostgreSQL + pgvector, access enforced by row-level security per role.

Every prepkit role becomes a PostgreSQL role (NOLOGIN) with one SELECT policy on the chunks table:
`labels <@ ARRAY[readable labels]` — a chunk is visible only if the role may read every label on it. Queries run
after `SET LOCAL ROLE`, with no label filter in our SQL at all, so a bug here cannot widen access; a role without
a grant has no policy and sees no row. The writing connection owns the tables (owners bypass RLS, which writes
need) and must be able to create roles.

Chunk text is stored in the clear in PostgreSQL: encryption at rest is the server's job (disk/TDE); the policy's
`url` must not carry a password (use PGPASSFILE or a service file).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
from collections.abc import Iterable
from typing import Any

import numpy as np

from prepkit.rag.store import Chunk, Hit, RecordState, StoreError, built_with_other_embedder, redact_url

SCHEMA = "prepkit"
_ROLE_PREFIX = "prepkit_"


def pg_role(role: str) -> str:
    """PostgreSQL role for a prepkit role; names that are not plain identifiers get a hash suffix so they stay
    unique after sanitizing (roles are cluster-wide, so the prefix keeps them apart from real users)."""
    base = re.sub(r"[^a-z0-9_]", "_", role.lower())[:40]
    if base == role and base:
        return _ROLE_PREFIX + base
    return f"{_ROLE_PREFIX}{base}_{hashlib.sha256(role.encode()).hexdigest()[:8]}"


def _vec(v: np.ndarray) -> str:
    return "[" + ",".join(f"{x:.7g}" for x in np.asarray(v, dtype=np.float32)) + "]"


class PgStore:
    def __init__(self, url: str, *, create: bool = False) -> None:
        try:
            import psycopg
            from psycopg import sql
        except ImportError:
            raise StoreError("the postgres backend needs psycopg: pip install 'prepkit[postgres]'") from None
        self.sql = sql
        self._errors = psycopg.errors
        self.location = redact_url(url)
        try:
            # prepare_threshold=None: psycopg would otherwise prepare statements after 5 runs, after which planner
            # settings changed per session are silently ignored. Autocommit, so every `transaction()` block below is
            # a real transaction and `SET LOCAL ROLE` ends with it.
            self.db = psycopg.connect(url, prepare_threshold=None, autocommit=True, connect_timeout=10)
        except psycopg.Error as e:
            raise StoreError(f"{self.location}: cannot connect: {str(e).strip().splitlines()[0]}") from None
        exists = self._one("SELECT to_regclass('prepkit.chunks') IS NOT NULL")
        if not exists and not create:
            self.db.close()
            raise StoreError(f"{self.location}: no prepkit RAG store in this database (schema {SCHEMA})")
        if create:
            self._init_schema()

    def _one(self, q: Any, args: Any = None) -> Any:
        row = self.db.execute(q, args).fetchone()
        return row[0] if row else None

    def _init_schema(self) -> None:
        with self.db.transaction():
            self.db.execute("CREATE EXTENSION IF NOT EXISTS vector")
            self.db.execute(f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}")
            self.db.execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.meta(key text PRIMARY KEY, value text NOT NULL)")
            self.db.execute(
                f"CREATE TABLE IF NOT EXISTS {SCHEMA}.records(record_id text PRIMARY KEY, content_hash text NOT NULL,"
                " source text, chunk_count int NOT NULL, updated_at timestamptz NOT NULL)")
            self.db.execute(f"CREATE TABLE IF NOT EXISTS {SCHEMA}.grants(role text PRIMARY KEY, labels text[] NOT NULL)")

    def meta(self) -> dict[str, str]:
        return dict(self.db.execute(f"SELECT key, value FROM {SCHEMA}.meta").fetchall())

    def prepare(self, embedder: str, dims: int) -> None:
        if built_with_other_embedder(self.meta(), self.location, embedder, dims, f"drop schema {SCHEMA}"):
            return
        with self.db.transaction():
            self.db.execute(
                f"CREATE TABLE {SCHEMA}.chunks(chunk_id text PRIMARY KEY, record_id text NOT NULL, source text,"
                " segment text, segment_index int, role text, start_off int, end_off int, labels text[] NOT NULL,"
                f" entity_types text[] NOT NULL, text text NOT NULL, embedding vector({int(dims)}) NOT NULL)")
            # pgvector stores vectors out of line (EXTERNAL); with ~1 KB of chunk text beside them every row's
            # vector went to TOAST and an exact search read 14x the pages (116 ms vs 28 ms at 20k chunks).
            self.db.execute(f"ALTER TABLE {SCHEMA}.chunks ALTER COLUMN embedding SET STORAGE MAIN")
            self.db.execute(f"CREATE INDEX chunks_record ON {SCHEMA}.chunks(record_id)")
            self.db.execute(f"ALTER TABLE {SCHEMA}.chunks ENABLE ROW LEVEL SECURITY")
            self.db.execute(f"INSERT INTO {SCHEMA}.meta VALUES ('embedder', %s), ('dims', %s), ('schema', '1')",
                            (embedder, str(dims)))

    def records(self) -> dict[str, RecordState]:
        return {r: RecordState(h, n) for r, h, n in
                self.db.execute(f"SELECT record_id, content_hash, chunk_count FROM {SCHEMA}.records")}

    def _delete(self, record_ids: list[str]) -> int:
        if not record_ids:
            return 0
        cur = self.db.execute(f"DELETE FROM {SCHEMA}.chunks WHERE record_id = ANY(%s)", (record_ids,))
        self.db.execute(f"DELETE FROM {SCHEMA}.records WHERE record_id = ANY(%s)", (record_ids,))
        return cur.rowcount

    def replace_records(self, items: list[tuple[str, str, list[Chunk]]], vectors: np.ndarray) -> None:
        now = dt.datetime.now(dt.UTC)
        rows, recs, i = [], [], 0
        for rid, content_hash, chunks in items:
            recs.append((rid, content_hash, chunks[0].source if chunks else None, len(chunks), now))
            for c in chunks:
                rows.append((c.chunk_id, c.record_id, c.source, c.segment, c.segment_index, c.role, c.start, c.end,
                             list(c.labels), list(c.entity_types), c.text, _vec(vectors[i])))
                i += 1
        with self.db.transaction(), self.db.cursor() as cur:
            self._delete([r[0] for r in recs])
            cur.executemany(f"INSERT INTO {SCHEMA}.records VALUES (%s, %s, %s, %s, %s)", recs)
            cur.executemany(
                f"INSERT INTO {SCHEMA}.chunks VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s, %s::vector)", rows)

    def delete_records(self, record_ids: Iterable[str]) -> int:
        with self.db.transaction():
            n = self._delete(list(record_ids))
        return n

    def set_grants(self, roles: dict[str, list[str]]) -> None:
        """Make the database's roles and RLS policies match the policy's `access.roles` exactly."""
        sql = self.sql
        table = sql.Identifier(SCHEMA, "chunks")
        with self.db.transaction():
            superuser = self._one("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
            for (name,) in self.db.execute(
                    "SELECT policyname FROM pg_policies WHERE schemaname = %s AND tablename = 'chunks'", (SCHEMA,)
            ).fetchall():
                self.db.execute(sql.SQL("DROP POLICY {} ON {}").format(sql.Identifier(name), table))
            old = [r for (r,) in self.db.execute(f"SELECT role FROM {SCHEMA}.grants").fetchall()]
            for role in old:
                if role not in roles and self._one("SELECT 1 FROM pg_roles WHERE rolname = %s", (pg_role(role),)):
                    self.db.execute(sql.SQL("REVOKE ALL ON {} FROM {}").format(table, sql.Identifier(pg_role(role))))
            self.db.execute(f"DELETE FROM {SCHEMA}.grants")
            for role, labels in sorted(roles.items()):
                r = sql.Identifier(pg_role(role))
                if not self._one("SELECT 1 FROM pg_roles WHERE rolname = %s", (pg_role(role),)):
                    self.db.execute(sql.SQL("CREATE ROLE {} NOLOGIN").format(r))
                    if not superuser:  # PostgreSQL 16+ does not let a role creator SET ROLE to it by default
                        self.db.execute(sql.SQL("GRANT {} TO CURRENT_USER WITH SET TRUE").format(r))
                self.db.execute(sql.SQL("GRANT USAGE ON SCHEMA {} TO {}").format(sql.Identifier(SCHEMA), r))
                self.db.execute(sql.SQL("GRANT SELECT ON {} TO {}").format(table, r))
                allowed = sorted(set(labels))
                self.db.execute(
                    sql.SQL("CREATE POLICY {} ON {} FOR SELECT TO {} USING "
                            "(cardinality(labels) > 0 AND labels <@ {}::text[])").format(
                        sql.Identifier("read_" + pg_role(role)), table, r, sql.Literal(allowed)))
                self.db.execute(f"INSERT INTO {SCHEMA}.grants VALUES (%s, %s)", (role, allowed))

    def grants(self) -> dict[str, list[str]]:
        return {r: list(ls) for r, ls in self.db.execute(f"SELECT role, labels FROM {SCHEMA}.grants")}

    def query(self, vector: np.ndarray, role: str, k: int) -> list[Hit]:
        sql = self.sql
        if "embedder" not in self.meta():
            return []
        name = pg_role(role)
        # Roles are cluster-wide and outlive grants; a role this store does not grant has nothing to ask. (Were
        # it asked anyway, PostgreSQL itself refuses: no SELECT privilege, or no policy, hence no rows.)
        if role not in self.grants() or not self._one("SELECT 1 FROM pg_roles WHERE rolname = %s", (name,)):
            return []
        v = _vec(vector)
        try:
            with self.db.transaction():
                self.db.execute(sql.SQL("SET LOCAL ROLE {}").format(sql.Identifier(name)))
                rows = self.db.execute(
                    "SELECT chunk_id, record_id, source, segment, segment_index, role, start_off, end_off, labels,"
                    f" entity_types, text, 1 - (embedding <=> %s::vector) FROM {SCHEMA}.chunks"
                    " ORDER BY embedding <=> %s::vector LIMIT %s", (v, v, int(k))).fetchall()
        except self._errors.InsufficientPrivilege:
            return []
        return [Hit(Chunk(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], tuple(r[8]), tuple(r[9]), r[10]),
                    float(r[11])) for r in rows]

    def stats(self) -> dict[str, Any]:
        m = self.meta()
        has_chunks = "embedder" in m
        by: dict[str, int] = dict(self.db.execute(
            f"SELECT array_to_string(labels, ', '), count(*) FROM {SCHEMA}.chunks GROUP BY 1").fetchall()
        ) if has_chunks else {}
        out = {
            "backend": "postgres", "location": self.location, "embedder": m.get("embedder"),
            "dims": int(m["dims"]) if "dims" in m else None,
            "records": self._one(f"SELECT count(*) FROM {SCHEMA}.records"),
            "chunks": self._one(f"SELECT count(*) FROM {SCHEMA}.chunks") if has_chunks else 0,
            "chunks_by_labels": dict(sorted(by.items())), "roles": self.grants(),
            "bytes": self._one(f"SELECT pg_total_relation_size('{SCHEMA}.chunks')") if has_chunks else 0,
        }
        return out

    def close(self) -> None:
        self.db.close()
