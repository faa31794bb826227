"""What every RAG store backend offers, and `open_store` to pick one from a path or a URL.

A store holds chunks (text, offsets, labels, entity types), their vectors, one row per record (its content hash,
for upserts) and the role grants it enforces. Access is decided inside the store: the embedded store filters on
label sets inside the encrypted database, PostgreSQL by row-level security per role.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from prepkit.errors import PrepkitError
from prepkit.keys import KeyRing

STORE_FILE = "store.db"
KEY_PURPOSE = "rag-store"


def built_with_other_embedder(meta: dict[str, str], location: str, embedder: str, dims: int,
                               rebuild: str) -> bool:
    """True when the store already has vectors (of this embedder); raises when they came from another one, since
    vectors of two models are not comparable. `rebuild` tells the user how to start over for this backend."""
    if "embedder" not in meta:
        return False
    if meta["embedder"] != embedder or int(meta["dims"]) != dims:
        raise StoreError(
            f"{location}: the store was built with embedder {meta['embedder']} ({meta['dims']} dims) but "
            f"the policy asks for {embedder} ({dims} dims); {rebuild} to rebuild it, or set outputs.rag.embedder back")
    return True


class StoreError(PrepkitError):
    """The store cannot be opened or used. Messages name the file or URL (without password), never content."""


@dataclass(frozen=True, slots=True)
class Chunk:
    chunk_id: str
    record_id: str
    source: str
    segment: str  # segment key: "text", "messages[2].content" or a column name
    segment_index: int
    role: str | None  # chat role of the segment
    start: int  # offsets into the transformed text of the segment
    end: int
    labels: tuple[str, ...]
    entity_types: tuple[str, ...]
    text: str

    def public(self) -> dict[str, Any]:
        return {"chunk_id": self.chunk_id, "record_id": self.record_id, "source": self.source,
                "segment": self.segment, "start": self.start, "end": self.end, "labels": list(self.labels),
                "entity_types": list(self.entity_types)}


@dataclass(frozen=True, slots=True)
class Hit:
    chunk: Chunk
    score: float  # cosine similarity, 1.0 = same direction


@dataclass(frozen=True, slots=True)
class RecordState:
    content_hash: str
    chunk_count: int


class Store(Protocol):
    location: str  # a path or a URL without password; safe to print

    def meta(self) -> dict[str, str]: ...
    def prepare(self, embedder: str, dims: int) -> None: ...
    def records(self) -> dict[str, RecordState]: ...
    def replace_records(self, items: list[tuple[str, str, list[Chunk]]], vectors: np.ndarray) -> None: ...
    def delete_records(self, record_ids: Iterable[str]) -> int: ...
    def set_grants(self, roles: dict[str, list[str]]) -> None: ...
    def grants(self) -> dict[str, list[str]]: ...
    def query(self, vector: np.ndarray, role: str, k: int) -> list[Hit]: ...
    def stats(self) -> dict[str, Any]: ...
    def close(self) -> None: ...


def labelset(labels: Iterable[str]) -> str:
    return json.dumps(sorted(set(labels)))


def readable(labels: Iterable[str], allowed: Iterable[str]) -> bool:
    """A chunk is readable when the role may read *every* label on it (an unlabelled chunk is readable by nobody)."""
    ls = set(labels)
    return bool(ls) and ls <= set(allowed)


_PW = re.compile(r"(://[^:/@]+):[^@]*@")


def redact_url(url: str) -> str:
    return _PW.sub(r"\1:***@", url) if ":@" not in url else url


def is_url(location: str | Path) -> bool:
    return isinstance(location, str) and location.startswith(("postgresql://", "postgres://"))


def store_path(location: str | Path) -> Path:
    """A store is named by its file, its rag/ folder or the run's output folder."""
    p = Path(location)
    if not p.is_dir():
        return p
    for cand in (p / STORE_FILE, p / "rag" / STORE_FILE):
        if cand.is_file():
            return cand
    return p / STORE_FILE if p.name == "rag" else p / "rag" / STORE_FILE


def open_store(location: str | Path, keyring: KeyRing, *, create: bool = False) -> Store:
    """Open (or with create=True, create) the store at a path (embedded, encrypted) or a postgresql:// URL."""
    if is_url(location):
        from prepkit.rag.pg_store import PgStore

        return PgStore(str(location), create=create)
    from prepkit.rag.sqlite_store import SqliteStore

    return SqliteStore(store_path(location), keyring.derive(KEY_PURPOSE), create=create)
