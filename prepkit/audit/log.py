"""The audit log writer: append-only JSON lines, hash-chained, HMAC'd per entry when a key is configured, under an
exclusive lock, continuing the chain of an existing log.

A log whose last line was cut mid-write (a full disk, a crash inside a write) is recovered when it is next opened:
the entries before the cut are verified (chain and HMACs), the torn bytes are truncated, and the first entry the
new writer appends after its run_start is an `audit_recovered` entry saying how many bytes were cut and their
sha256. A log whose earlier entries do not verify is never touched: that is tampering, for `prepkit audit verify`.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import hmac as hmac_mod
import json
import os
import time
from pathlib import Path
from typing import IO, Any, Literal

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from prepkit.audit.fields import (
    FORMAT_VERSION,
    GENESIS,
    HMAC_PURPOSE,
    RESERVED,
    AuditError,
    AuditFieldError,
    canonical,
    check_fields,
    clean_fields,
    now_iso,
)
from prepkit.audit.signing import sign_checkpoint, signing_key_from_env
from prepkit.audit.verify import VerifyReport, check_chain
from prepkit.keys import KeyRing
from prepkit.records import Result


def recover_torn_tail(path: Path, hkey: bytes | None) -> dict[str, Any] | None:
    """If the log's last line was cut mid-write, verify everything before it and cut the torn bytes off (or, if
    only the newline is missing from an entry that chains, add it). Returns what was done, for the
    `audit_recovered` entry, or None for an intact tail. The caller holds the log's lock."""
    size = path.stat().st_size
    if size == 0:
        return None
    with path.open("rb") as f:
        f.seek(size - 1)
        if f.read(1) == b"\n":
            return None
        f.seek(0)
        data = f.read()
    cut = data.rfind(b"\n") + 1
    torn = data[cut:]
    lines = data[:cut].split(b"\n")[:-1]
    whole = VerifyReport(ok=True, entries=0)
    if check_chain([*lines, torn], hkey, whole) is not None:
        with path.open("ab") as f:  # the entry is whole; only its newline is missing
            f.write(b"\n")
        return {"action": "completed", "torn_bytes": len(torn), "torn_sha256": hashlib.sha256(torn).hexdigest(),
                "after_seq": whole.last_seq}
    rep = VerifyReport(ok=True, entries=0)
    if check_chain(lines, hkey, rep) is None:
        raise AuditError(f"{path}: the last entry is incomplete and the entries before it do not verify "
                         f"({rep.kind} at entry {rep.first_bad_seq}); not recovering: run `prepkit audit verify "
                         f"{path}`")
    os.truncate(path, cut)
    return {"action": "truncated", "torn_bytes": len(torn), "torn_sha256": hashlib.sha256(torn).hexdigest(),
            "after_seq": rep.last_seq}


def _read_tail(path: Path) -> dict[str, Any] | None:
    """The last entry of an existing log, reading backwards from the end so big logs open fast."""
    size = path.stat().st_size
    if size == 0:
        return None
    with path.open("rb") as f:
        block = 8192
        buf = b""
        pos = size
        while pos > 0:
            step = min(block, pos)
            pos -= step
            f.seek(pos)
            buf = f.read(step) + buf
            body = buf.rstrip(b"\n")
            if not buf.endswith(b"\n"):
                raise AuditError(f"{path}: the last entry is incomplete (no newline); run `prepkit audit verify "
                                 f"{path}` before appending")  # recover_torn_tail() runs first, so: a race
            nl = body.rfind(b"\n")
            if nl >= 0 or pos == 0:
                line = body[nl + 1:]
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    raise AuditError(f"{path}: the last entry is not valid JSON; run `prepkit audit verify "
                                     f"{path}`") from None
                if not isinstance(entry, dict) or not isinstance(entry.get("seq"), int) or "hash" not in entry:
                    raise AuditError(f"{path}: the last entry has no seq/hash; not a prepkit audit log?")
                return entry
            block *= 2
    return None


class AuditLog:
    """Append-only writer for one run. Use as a context manager, or call `close()`; on an exception inside
    `with`, a `run_end` with status "aborted" is still written so the run is not mistaken for a truncated log.

    Holds an exclusive lock on the file while open: two runs appending at once would fork the chain.
    """

    def __init__(self, path: str | Path, *, keyring: KeyRing | None, run_id: str, policy: dict[str, str],
                 versions: dict[str, str], fsync: bool = False,
                 signing_key: Ed25519PrivateKey | None | Literal["env"] = "env", lock_timeout: float = 10.0) -> None:
        self.path = Path(path)
        self.run_id = run_id
        self.policy = dict(policy)
        self.versions = dict(versions)
        self.fsync = fsync
        self._hmac_key = keyring.derive(HMAC_PURPOSE) if keyring else None
        self._key_id = keyring.key_id if keyring else None
        self._signing_key = signing_key_from_env() if signing_key == "env" else signing_key
        check_fields({"run_id": run_id, "policy": self.policy, "versions": self.versions})
        if self.path.exists() and not self.path.is_file():
            # /dev/null, a FIFO, a directory: entries would vanish or block; the chain needs a file it can re-read
            raise AuditError(f"{self.path}: not a regular file; an audit log must be a file")
        self.path.parent.mkdir(parents=True, exist_ok=True)
        # 0600 like every other run output: the log names sources and record ids
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        self._f: IO[bytes] | None = os.fdopen(fd, "ab")
        # Short writers (a RAG query, an erasure) wait their turn; a run holds the lock for its whole length.
        deadline = time.monotonic() + lock_timeout
        while True:
            try:
                fcntl.flock(self._f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    self._f.close()
                    raise AuditError(f"{self.path}: another prepkit process is appending to this audit log "
                                     f"(waited {lock_timeout:g} s)") from None
                time.sleep(0.05)
        try:
            self._recovered = recover_torn_tail(self.path, self._hmac_key)
            tail = _read_tail(self.path)
        except (AuditError, OSError):
            self._f.close()
            raise
        self.seq = int(tail["seq"]) if tail else 0
        self.head = str(tail["hash"]) if tail else GENESIS
        self.count = 0  # entries written by this run
        self.closed = False

    # The pipeline calls these three -------------------------------------------------------------------

    def append(self, event: str, **fields: Any) -> dict[str, Any]:
        if self._f is None:
            raise AuditError(f"{self.path}: audit log already closed")
        fields = clean_fields(fields)
        if self.count == 0 and event != "run_start":
            self._write("run_start", {})
        return self._write(event, fields)

    def record(self, result: Result) -> dict[str, Any]:
        r, v, d = result.record, result.verification, result.decision
        fields: dict[str, Any] = {
            "record_id": r.id, "source": r.source, "kind": r.kind, "input_sha256": r.input_sha256,
            "chars": r.char_count, "entities": result.entity_counts, "operators": result.operators,
            "route": str(d.route), "reason": d.reason,
            "verification": {
                "passed": v.passed, "checks": list(v.checks),
                "failures": [{"check": f.check, "entity_type": f.entity_type, "segment": f.segment}
                             for f in v.failures],
            },
        }
        if r.line is not None:
            fields["line"] = r.line
        if d.rule is not None:
            fields["rule"] = d.rule
        if d.labels:
            fields["labels"] = list(d.labels)
        if result.error:
            fields["error"] = result.error
        if self._f is None:
            raise AuditError(f"{self.path}: audit log already closed")
        if self.count == 0:
            self._write("run_start", {})
        return self._write("record", fields)

    def close(self, **fields: Any) -> dict[str, Any]:
        """Write run_end (count of this run's entries before it, and the chain head it follows); return the
        checkpoint the caller keeps outside the log."""
        if self._f is None:
            raise AuditError(f"{self.path}: audit log already closed")
        if self.count == 0:
            self._write("run_start", {})
        fields.setdefault("status", "interrupted" if fields.get("interrupted") else "ok")
        fields = clean_fields(fields)
        end = self._write("run_end", {**fields, "run_count": self.count, "head": self.head})
        self._release()
        cp: dict[str, Any] = {"file": str(self.path), "seq": end["seq"], "head": end["hash"],
                              "count": end["seq"], "run_id": self.run_id, "run_count": end["run_count"]}
        if self._signing_key is not None:
            cp = sign_checkpoint(cp, self._signing_key)
        return cp

    def __enter__(self) -> AuditLog:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if self._f is None:
            return
        if exc_type is None:
            self.close()
        else:
            with contextlib.suppress(Exception):
                self.close(status="aborted", error=exc_type.__name__)
            self._release()

    # ------------------------------------------------------------------------------------------------------

    def _write(self, event: str, fields: dict[str, Any]) -> dict[str, Any]:
        """Fields must already have passed clean_fields (record() builds its own from typed values)."""
        clash = RESERVED & fields.keys()
        if clash:
            raise AuditFieldError(f"audit fields {sorted(clash)} are set by the log itself")
        if event == "run_start" and self._key_id:
            fields = {**fields, "key_id": self._key_id}
        entry: dict[str, Any] = {
            "v": FORMAT_VERSION, "seq": self.seq + 1, "ts": now_iso(), "run_id": self.run_id, "event": event,
            **fields, "policy": self.policy, "versions": self.versions, "prev": self.head,
        }
        # One serialization per entry: the canonical body is hashed, HMAC'd and written, with hash/hmac
        # appended as the last keys (verify re-canonicalizes, so their position does not matter).
        body = canonical(entry)
        entry["hash"] = hashlib.sha256(body).hexdigest()
        tail = f',"hash":"{entry["hash"]}"'
        if self._hmac_key is not None:
            entry["hmac"] = hmac_mod.new(self._hmac_key, body, hashlib.sha256).hexdigest()
            tail += f',"hmac":"{entry["hmac"]}"'
        assert self._f is not None
        self._f.write(body[:-1] + tail.encode() + b"}\n")
        # flush per entry so a crash leaves whole lines behind; fsync per entry only when the policy asks
        self._f.flush()
        if self.fsync:
            os.fsync(self._f.fileno())
        self.seq += 1
        self.head = entry["hash"]
        self.count += 1
        if event == "run_start" and self._recovered is not None:
            # the first thing this run says: the log it continues had a torn tail, and what was done about it
            recovered, self._recovered = self._recovered, None
            self._write("audit_recovered", clean_fields(recovered))
        return entry

    def _release(self) -> None:
        if self._f is not None:
            self._f.flush()
            os.fsync(self._f.fileno())  # once per run: the run_end must survive a crash right after
            fcntl.flock(self._f.fileno(), fcntl.LOCK_UN)
            self._f.close()
            self._f = None
            self.closed = True
