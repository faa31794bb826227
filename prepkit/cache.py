"""Encrypted per-record result cache: what makes re-runs incremental and `--resume` after a crash possible.

A run stores, for every record it processed, the stage outputs that cost time — findings, transformed texts,
verification — under a key derived from everything those outputs depend on: the record's content (id, source,
kind, segment keys/texts/roles, metadata), the policy's sha256, the software and model versions and the master
key (the lookup key is an HMAC, so a different key never hits). A later run over the same OUT replays a hit
through routing and the sinks and skips detection; a changed record, policy, model or key simply misses, so
exactly the affected records are recomputed.

Values are AES-GCM encrypted with `keyring.derive("cache")` — transformed text of a record that failed
verification may still hold personal data — and authenticated against their lookup key, so an entry cannot be
moved to another record. Entries are committed in batches while the run goes (SQLite transactions: a SIGKILL
loses at most the uncommitted batch, never corrupts what was committed). Records that failed closed (an error)
are not cached: the failure may be transient (a regex time limit), so they are retried on the next run.

The routing decision is *not* cached: it is recomputed on replay (it is cheap and may depend on the date).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import sqlite3
import zlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from prepkit.errors import PrepkitError
from prepkit.keys import KeyRing
from prepkit.policy.model import Policy
from prepkit.records import Applied, Finding, Record, Result, Transformed, Verification, VerifyFailure
from prepkit.route import decide

CACHE_DIR = ".cache"
CACHE_FILE = "results.db"
FORMAT = 1  # bump when the stored shape or the meaning of a stage output changes


class CacheError(PrepkitError):
    pass


class Cached:
    """The replayable part of a Result."""

    __slots__ = ("findings", "transformed", "verification")

    def __init__(self, findings: list[Finding], transformed: Transformed | None, verification: Verification):
        self.findings = findings
        self.transformed = transformed
        self.verification = verification


def record_digest(record: Record) -> str:
    """sha256 over everything of a record that stage outputs may depend on (not its line number)."""
    h = hashlib.sha256()
    payload = [record.id, record.source, record.kind, [[s.key, s.role] for s in record.segments],
               sorted((str(k), repr(v)) for k, v in record.metadata.items())]
    h.update(json.dumps(payload, ensure_ascii=False).encode("utf-8", "surrogatepass"))
    for s in record.segments:
        b = s.text.encode("utf-8", "surrogatepass")
        h.update(len(b).to_bytes(8, "big"))
        h.update(b)
    return h.hexdigest()


def _encode(findings: list[Finding], transformed: Transformed | None, verification: Verification) -> bytes:
    obj: dict[str, Any] = {
        "f": [[f.segment, f.start, f.end, f.entity_type, f.score, f.detector] for f in findings],
        "v": [verification.passed, [[x.check, x.entity_type, x.segment] for x in verification.failures],
              list(verification.checks)],
    }
    if transformed is not None:
        obj["t"] = [transformed.texts, [[a.segment, a.start, a.end, a.entity_type, a.operator]
                                        for a in transformed.applied], transformed.subject_hashes]
    return zlib.compress(json.dumps(obj, ensure_ascii=False, separators=(",", ":")).encode("utf-8",
                                                                                        "surrogatepass"), 1)


def _decode(data: bytes) -> Cached:
    obj = json.loads(zlib.decompress(data).decode("utf-8", "surrogatepass"))
    findings = [Finding(*f) for f in obj["f"]]
    passed, failures, checks = obj["v"]
    verification = Verification(passed, [VerifyFailure(*x) for x in failures], tuple(checks))
    transformed = None
    if "t" in obj:
        texts, applied, hashes = obj["t"]
        transformed = Transformed(texts, [Applied(*a) for a in applied], hashes)
    return Cached(findings, transformed, verification)


_KEY_BYTES = hashlib.sha256().digest_size


def _lookup_key(index_key: bytes, scope: bytes, record: Record) -> bytes:
    return hmac.new(index_key, scope + record_digest(record).encode(), hashlib.sha256).digest()


class CacheProbe:
    """Picklable: does the cache hold an entry for this record? The lookup keys only (HMACs, no values), for
    engines whose workers cannot open the cache file (`--engine ray`); the driver still reads the entries."""

    __slots__ = ("index_key", "keys", "scope")

    def __init__(self, index_key: bytes, scope: bytes, keys: bytes) -> None:
        self.index_key = index_key
        self.scope = scope
        # the sorted 32-byte keys end to end: 32 MB for a million records (a set of bytes objects takes ~3x that)
        self.keys = keys

    def holds(self, record: Record) -> bool:
        k = _lookup_key(self.index_key, self.scope, record)
        lo, hi = 0, len(self.keys) // _KEY_BYTES
        while lo < hi:  # binary search over the sorted keys
            mid = (lo + hi) // 2
            at = self.keys[mid * _KEY_BYTES:(mid + 1) * _KEY_BYTES]
            if at == k:
                return True
            if at < k:
                lo = mid + 1
            else:
                hi = mid
        return False


class ResultCache:
    """Open with `ResultCache.open(out_dir, keyring, scope)`; `scope` names everything outside the record the
    results depend on (policy sha256, versions), so a change there invalidates every entry at once."""

    def __init__(self, path: Path, keyring: KeyRing, scope: dict[str, Any], *, batch: int = 64) -> None:
        self.path = path
        self._index_key = keyring.derive("cache-index")
        self._aead = AESGCM(keyring.derive("cache"))
        self._scope = json.dumps([FORMAT, scope], sort_keys=True).encode()
        self._batch = batch
        self._pending: list[tuple[bytes, bytes]] = []
        self._memo_pending: dict[bytes, bytes] = {}
        self._memo_used: set[bytes] = set()
        self.hits = 0
        self.misses = 0
        self.stored = 0
        self.pruned = 0
        self._used: set[bytes] = set()  # keys this run read or wrote; the rest are stale after a complete run
        fresh = not path.exists()
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(path.parent, 0o700)
        try:
            self.db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
            if fresh:
                os.chmod(path, 0o600)
            # WAL + NORMAL: a commit survives a killed process (not necessarily a power cut, which only costs
            # a re-computation of the last entries — the cache is never the only copy of anything).
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.execute("CREATE TABLE IF NOT EXISTS results (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID")
            self.db.execute("CREATE TABLE IF NOT EXISTS memo (k BLOB PRIMARY KEY, v BLOB NOT NULL) WITHOUT ROWID")
        except sqlite3.DatabaseError as e:
            raise CacheError(f"{path}: cannot open the result cache ({type(e).__name__}); delete it or run with "
                             "--no-cache") from None

    @classmethod
    def open(cls, out_dir: Path, keyring: KeyRing, scope: dict[str, Any]) -> ResultCache:
        return cls(Path(out_dir) / CACHE_DIR / CACHE_FILE, keyring, scope)

    def key(self, record: Record) -> bytes:
        return _lookup_key(self._index_key, self._scope, record)

    def probe(self) -> CacheProbe | None:
        """What workers on other machines need to skip records this cache holds (None when it holds none)."""
        keys = b"".join(k for (k,) in self.db.execute("SELECT k FROM results ORDER BY k"))  # memcmp order
        return CacheProbe(self._index_key, self._scope, keys) if keys else None

    def get_many(self, records: Sequence[Record]) -> list[Cached | None]:
        keys = [self.key(r) for r in records]
        found: dict[bytes, bytes] = {}
        for i in range(0, len(keys), 500):  # SQLite's host-parameter limit
            part = keys[i:i + 500]
            q = f"SELECT k, v FROM results WHERE k IN ({','.join('?' * len(part))})"
            found.update(self.db.execute(q, part).fetchall())
        for k, v in self._pending:  # written this run but not yet committed (duplicate records in one input)
            found.setdefault(k, v)
        out: list[Cached | None] = []
        for k in keys:
            blob = found.get(k)
            hit = self._open(k, blob) if blob is not None else None
            out.append(hit)
            if hit is None:
                self.misses += 1
            else:
                self.hits += 1
                self._used.add(k)
        return out

    def _open(self, k: bytes, blob: bytes) -> Cached | None:
        try:
            return _decode(self._aead.decrypt(blob[:12], blob[12:], k))
        except (InvalidTag, ValueError, KeyError, TypeError, zlib.error):
            return None  # tampered or stale: recompute, never trust

    def put(self, record: Record, findings: list[Finding], transformed: Transformed | None,
            verification: Verification) -> None:
        k = self.key(record)
        self._used.add(k)
        nonce = os.urandom(12)
        self._pending.append((k, nonce + self._aead.encrypt(nonce, _encode(findings, transformed, verification), k)))
        if len(self._pending) >= self._batch:
            self.flush()

    def memo_get(self, key: bytes) -> bytes | None:
        """A derived value of *anonymized* output (a near-duplicate signature) stored by an earlier run. Values
        are not encrypted: they are computed from text the run writes out in the clear anyway; keys are HMACs so
        the table does not reveal which texts it holds."""
        k = self._memo_key(key)
        self._memo_used.add(k)
        v = self._memo_pending.get(k)
        if v is None:
            row = self.db.execute("SELECT v FROM memo WHERE k = ?", (k,)).fetchone()
            v = row[0] if row is not None else None
        return v

    def memo_put(self, key: bytes, value: bytes) -> None:
        k = self._memo_key(key)
        self._memo_used.add(k)
        self._memo_pending[k] = value
        if len(self._memo_pending) >= self._batch:
            self.flush()

    def _memo_key(self, key: bytes) -> bytes:
        return hmac.new(self._index_key, b"memo:" + self._scope + key, hashlib.sha256).digest()

    def flush(self) -> None:
        if not self._pending and not self._memo_pending:
            return
        try:
            self.db.execute("BEGIN")
            self.db.executemany("INSERT OR REPLACE INTO results (k, v) VALUES (?, ?)", self._pending)
            self.db.executemany("INSERT OR REPLACE INTO memo (k, v) VALUES (?, ?)", self._memo_pending.items())
            self.db.execute("COMMIT")
        except BaseException:
            # Ctrl-C mid-commit: roll back so close() can commit the batch whole (entries stay pending).
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")
            raise
        self.stored += len(self._pending)
        self._pending = []
        self._memo_pending = {}

    def entries(self) -> int:
        return int(self.db.execute("SELECT count(*) FROM results").fetchone()[0])

    def prune(self) -> int:
        """Drop entries this run did not use (records since changed or removed), so the cache does not grow
        without bound. Only after a complete run: an interrupted one has not seen every record."""
        self.flush()
        self.db.execute("CREATE TEMP TABLE IF NOT EXISTS used (k BLOB PRIMARY KEY) WITHOUT ROWID")
        self.db.execute("BEGIN")
        self.db.execute("DELETE FROM used")
        self.db.executemany("INSERT OR IGNORE INTO used (k) VALUES (?)", ((k,) for k in self._used))
        cur = self.db.execute("DELETE FROM results WHERE k NOT IN (SELECT k FROM used)")
        self.db.execute("DELETE FROM used")
        self.db.executemany("INSERT OR IGNORE INTO used (k) VALUES (?)", ((k,) for k in self._memo_used))
        self.db.execute("DELETE FROM memo WHERE k NOT IN (SELECT k FROM used)")
        self.db.execute("COMMIT")
        self.pruned = max(cur.rowcount, 0)
        return self.pruned

    def close(self, *, prune: bool = False) -> None:
        try:
            self.flush()
            if prune:
                self.prune()
        finally:
            self.db.close()

    def stats(self) -> dict[str, int]:
        return {"hits": self.hits, "misses": self.misses, "stored": self.stored, "pruned": self.pruned}


def replay(policy: Policy, record: Record, cached: Cached) -> Result:
    """A cached record's Result: the stored stage outputs, routed afresh (exactly what the pipeline would do)."""
    decision = decide(policy, record, cached.findings, cached.verification)
    return Result(record, cached.findings, cached.transformed, cached.verification, decision, None)


def clean_stale_temp_files(out_dir: Path) -> list[Path]:
    """Remove `.NAME.tmp-PID` files a killed run left behind (their PID no longer runs); returns what went."""
    removed: list[Path] = []
    for p in Path(out_dir).rglob(".*.tmp-*"):
        pid_s = p.name.rsplit(".tmp-", 1)[-1]
        if not pid_s.isdigit() or not p.is_file():
            continue
        pid = int(pid_s)
        if pid != os.getpid() and _alive(pid):
            continue
        p.unlink(missing_ok=True)
        removed.append(p)
    return removed


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
