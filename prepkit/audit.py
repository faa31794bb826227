"""Tamper-evident audit log: append-only JSON lines, hash-chained, HMAC'd per entry when a key is configured.

Every entry holds `prev` (the previous entry's hash) and `hash` = sha256 over the entry's canonical JSON (sorted
keys, compact separators) without `hash` and `hmac`; `hmac` is HMAC-SHA256 over the same bytes with the subkey
`keyring.derive("audit-hmac")`. The chain runs across runs: opening an existing log continues from its last entry.

What the chain catches and what it cannot:
- edits, deletions, insertions, reorderings inside the file: the hash chain, seq numbers and HMACs;
- a run cut short: every run ends with a `run_end` entry holding the run's entry count and the chain head;
- whole runs removed from the tail: only the checkpoint kept outside the log (the run manifest), Ed25519-signed
  when a signing key is configured — the signing key is separate from the HMAC key so a holder of the data key
  cannot forge checkpoints;
- an attacker without the HMAC key who rewrites the chain from some entry on: the HMACs (and the checkpoint).

Entries never hold raw values. `append()` enforces it structurally: numbers and booleans are allowed anywhere,
but a string may only sit under a key known to hold identifiers, hashes, types or policy-defined text (see
`SAFE_STRING_KEYS`); anything else raises `AuditFieldError`, so a free-text field cannot slip in by accident.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import fcntl
import hashlib
import hmac as hmac_mod
import json
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path, PurePath
from typing import IO, Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from prepkit.errors import PrepkitError
from prepkit.keys import ENV_SIGNING_FILE, KeyRing
from prepkit.records import Result

HMAC_PURPOSE = "audit-hmac"
GENESIS = "0" * 64
FORMAT_VERSION = 1

# Keys whose string values are safe: identifiers, hashes, enum-like types, file locations and policy-defined
# text (routing reasons are written by the policy author, not taken from the data). Keys ending in one of
# SAFE_SUFFIXES are safe too. Everything else may hold only numbers, booleans or None.
SAFE_STRING_KEYS = frozenset({
    "event", "run_id", "ts", "prev", "hash", "hmac", "key_id",
    "record_id", "source", "kind", "route", "reason", "rule", "labels", "label", "status", "error",
    "operator", "operators", "check", "checks", "entity_type", "entity_types", "types", "detector",
    "name", "version", "sha256", "policy", "versions", "prepkit", "presidio", "spacy_model", "model",
    "store", "backend", "collection", "role", "roles", "mode", "engine", "command", "format", "formats",
    "inputs", "input", "out", "output", "out_dir", "file", "files", "split", "result", "action", "head",
    "field", "fields", "column", "columns", "text_field", "id_field", "scope",
    # The question text of a RAG query, written only when the policy opts in (outputs.rag.store_query_text);
    # the caller checks the policy, as the question is the user's, not the corpus's.
    "query_text",
    # People who decide: a reviewer of quarantined records, an approver of a policy (prepkit review / approve).
    "reviewer", "approver",
})
SAFE_SUFFIXES = ("_id", "_ids", "_sha256", "_hash", "_hashes", "_path", "_paths", "_version", "_type", "_types",
                 "_route", "_reason", "_status", "_at")
RESERVED = frozenset({"seq", "ts", "run_id", "event", "policy", "versions", "prev", "hash", "hmac", "v"})

ProblemKind = Literal["edited", "deleted", "inserted", "reordered", "truncated", "bad_hmac", "bad_signature",
                      "malformed", "checkpoint_mismatch"]


class AuditError(PrepkitError):
    """The audit log cannot be opened, read or appended to. Messages name the file, never an entry's content."""


class AuditFieldError(AuditError, ValueError):
    """A field would put free text (possibly a raw value) into the audit log."""


def canonical(obj: Any) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def entry_hash(entry: dict[str, Any]) -> str:
    body = {k: v for k, v in entry.items() if k not in ("hash", "hmac")}
    return hashlib.sha256(canonical(body)).hexdigest()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


def _string_safe(key: str) -> bool:
    return key in SAFE_STRING_KEYS or key.endswith(SAFE_SUFFIXES)


def clean_fields(fields: dict[str, Any], _path: str = "", _safe: bool = False) -> dict[str, Any]:
    """A JSON-ready copy of `fields` (sets become sorted lists, tuples lists, paths strings), or AuditFieldError
    if a string sits under a key not known to hold identifiers, hashes or types."""
    out: dict[str, Any] = {}
    for k, v in fields.items():
        if not isinstance(k, str):
            raise AuditFieldError(f"audit field {_path}{k!r}: keys must be strings")
        out[k] = _clean_value(v, f"{_path}{k}", _safe or _string_safe(k))
    return out


def check_fields(fields: dict[str, Any]) -> None:
    clean_fields(fields)


def _clean_value(v: Any, path: str, safe: bool) -> Any:
    if v is None or isinstance(v, bool | int):
        return v
    if isinstance(v, float):
        if v != v or v in (float("inf"), float("-inf")):
            raise AuditFieldError(f"audit field {path!r}: NaN/infinite numbers cannot be hashed canonically")
        return v
    if isinstance(v, str | PurePath):
        if not safe:
            raise AuditFieldError(
                f"audit field {path!r} would hold free text; audit entries hold only ids, hashes, types and "
                "counts (pass a sha256 or a count, or use a field named *_id / *_sha256 / *_type)"
            )
        return str(v)
    if isinstance(v, set | frozenset):
        v = sorted(v, key=lambda x: (type(x).__name__, str(x)))  # canonical order
    if isinstance(v, list | tuple):
        return [_clean_value(item, f"{path}[{i}]", safe) for i, item in enumerate(v)]
    if isinstance(v, dict):
        # Dict keys are types or ids (entity types, check names); their values follow the parent's rule.
        return clean_fields(v, f"{path}.", safe)
    raise AuditFieldError(f"audit field {path!r}: type {type(v).__name__} is not allowed (JSON scalars, lists, dicts)")


# --------------------------------------------------------------------------------------------- signing keys


def _read_key_file(p: Path, what: str) -> bytes:
    try:
        return p.read_bytes()
    except OSError as e:
        raise AuditError(f"{what} file {p} cannot be read: {type(e).__name__}") from None


def _decode_32(text: str) -> bytes | None:
    """32 key bytes written as hex or base64, or None."""
    for decoder in (bytes.fromhex, base64.b64decode, base64.urlsafe_b64decode):
        try:
            raw = decoder(text)
        except (ValueError, binascii.Error):
            continue
        if len(raw) == 32:
            return raw
    return None


def load_signing_key(path: str | Path) -> Ed25519PrivateKey:
    """An Ed25519 private key from a PEM file (PKCS8, unencrypted) or a raw 32-byte seed in hex or base64."""
    p = Path(path)
    data = _read_key_file(p, "signing key")
    if b"-----BEGIN" in data:
        try:
            key = serialization.load_pem_private_key(data, password=None)
        except (ValueError, TypeError) as e:
            raise AuditError(f"signing key file {p}: not an unencrypted PEM private key ({type(e).__name__})") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise AuditError(f"signing key file {p}: expected an Ed25519 key, got {type(key).__name__}")
        return key
    raw = data.strip()
    if len(raw) == 32:
        return Ed25519PrivateKey.from_private_bytes(raw)
    seed = _decode_32(raw.decode("ascii", errors="replace"))
    if seed is not None:
        return Ed25519PrivateKey.from_private_bytes(seed)
    raise AuditError(f"signing key file {p}: expected a PEM Ed25519 private key or a 32-byte seed (hex/base64)")


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """A trusted Ed25519 public key: PEM, raw 32 bytes as hex/base64, or a private key file (public part used)."""
    p = Path(path)
    data = _read_key_file(p, "public key")
    if b"PRIVATE KEY" in data:
        return load_signing_key(p).public_key()
    if b"-----BEGIN" in data:
        try:
            key = serialization.load_pem_public_key(data)
        except ValueError as e:
            raise AuditError(f"public key file {p}: not a PEM public key ({type(e).__name__})") from None
        if not isinstance(key, Ed25519PublicKey):
            raise AuditError(f"public key file {p}: expected an Ed25519 key, got {type(key).__name__}")
        return key
    raw = _decode_32(data.strip().decode("ascii", errors="replace"))
    if raw is not None:
        return Ed25519PublicKey.from_public_bytes(raw)
    raise AuditError(f"public key file {p}: expected a PEM Ed25519 public key or 32 bytes as hex/base64")


def signing_key_from_env() -> Ed25519PrivateKey | None:
    path = os.environ.get(ENV_SIGNING_FILE)
    return load_signing_key(path) if path else None


def write_signing_key(path: str | Path) -> str:
    """Create a new Ed25519 private key (PEM, mode 0600, refuses to overwrite) and FILE.pub; returns the public
    key in hex (public, safe to print)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption())
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise AuditError(f"signing key file {p} already exists; refusing to overwrite") from None
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
    pub = key.public_key()
    pub_pem = pub.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    Path(str(p) + ".pub").write_bytes(pub_pem)
    return _pub_hex(pub)


def _pub_hex(pub: Ed25519PublicKey) -> str:
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


_SIGNED_FIELDS = ("file", "seq", "head", "count", "run_id", "run_count")


def _checkpoint_payload(cp: dict[str, Any]) -> bytes:
    return canonical({"prepkit-audit-checkpoint": FORMAT_VERSION, **{k: cp.get(k) for k in _SIGNED_FIELDS}})


def sign_checkpoint(cp: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    return {**cp, "signature": key.sign(_checkpoint_payload(cp)).hex(), "public_key": _pub_hex(key.public_key())}


# ------------------------------------------------------------------------------------------------- writer


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
                                 f"{path}` before appending")
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
            tail = _read_tail(self.path)
        except AuditError:
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
            "v": FORMAT_VERSION, "seq": self.seq + 1, "ts": _now(), "run_id": self.run_id, "event": event,
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
        return entry

    def _release(self) -> None:
        if self._f is not None:
            self._f.flush()
            os.fsync(self._f.fileno())  # once per run: the run_end must survive a crash right after
            fcntl.flock(self._f.fileno(), fcntl.LOCK_UN)
            self._f.close()
            self._f = None
            self.closed = True


# ------------------------------------------------------------------------------------------------- reading


def read_entries(path: str | Path) -> list[dict[str, Any]]:
    """All entries; raises AuditError naming the line of the first unparsable one (for `show`, not `verify`)."""
    p = Path(path)
    out: list[dict[str, Any]] = []
    try:
        with p.open("rb") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    entry = json.loads(line)
                except json.JSONDecodeError:
                    raise AuditError(f"{p}:{n}: not valid JSON") from None
                if not isinstance(entry, dict):
                    raise AuditError(f"{p}:{n}: not a JSON object")
                out.append(entry)
    except OSError as e:
        raise AuditError(f"{p}: cannot be read: {type(e).__name__}") from None
    return out


def load_checkpoint(path: str | Path) -> dict[str, Any]:
    """A checkpoint JSON file, or a run manifest.json holding it under "audit_checkpoint"."""
    p = Path(path)
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise AuditError(f"checkpoint file {p} cannot be read: {type(e).__name__}") from None
    except (json.JSONDecodeError, UnicodeDecodeError):
        raise AuditError(f"checkpoint file {p}: not valid JSON") from None
    if isinstance(data, dict) and isinstance(data.get("audit_checkpoint"), dict):
        data = data["audit_checkpoint"]
    if not isinstance(data, dict) or not isinstance(data.get("seq"), int) or not isinstance(data.get("head"), str):
        raise AuditError(f"checkpoint file {p}: expected an object with integer 'seq' and string 'head' "
                         "(or a manifest with 'audit_checkpoint')")
    return data


# ------------------------------------------------------------------------------------------------ verifying


@dataclass
class VerifyReport:
    ok: bool
    entries: int  # entries checked (parsed lines)
    runs: int = 0
    first_bad_seq: int | None = None
    kind: ProblemKind | None = None
    message: str = ""
    hmac_checked: bool = False
    checkpoint: Literal["absent", "matched", "failed"] = "absent"
    signature: Literal["absent", "valid", "valid-untrusted", "invalid"] = "absent"
    head: str | None = None
    last_seq: int = 0
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _fail(rep: VerifyReport, kind: ProblemKind, seq: int | None, message: str) -> VerifyReport:
    rep.ok, rep.kind, rep.first_bad_seq, rep.message = False, kind, seq, message
    return rep


def verify(path: str | Path, checkpoint: dict[str, Any] | None = None, keyring: KeyRing | None = None,
           public_key: Ed25519PublicKey | None = None) -> VerifyReport:
    """Walk the chain and report the first problem. `public_key` is the trusted checkpoint-signing key; without
    it a signature is checked against the key embedded in the checkpoint, which only proves integrity."""
    p = Path(path)
    rep = VerifyReport(ok=True, entries=0)
    hkey = keyring.derive(HMAC_PURPOSE) if keyring else None
    rep.hmac_checked = hkey is not None

    if checkpoint is not None and "signature" in checkpoint:
        _check_signature(rep, checkpoint, public_key)
        if not rep.ok:
            return rep
    elif checkpoint is not None and public_key is not None:
        return _fail(rep, "bad_signature", None, "a trusted public key was given but the checkpoint is unsigned")

    try:
        raw_lines = p.read_bytes().split(b"\n")
    except OSError as err:
        raise AuditError(f"{p}: cannot be read: {type(err).__name__}") from None
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    elif raw_lines:  # a last line without newline was cut mid-write
        rep.warnings.append("the last line has no trailing newline")

    entries: list[dict[str, Any] | None] = []
    for line in raw_lines:
        try:
            parsed = json.loads(line)
        except (json.JSONDecodeError, UnicodeDecodeError):
            parsed = None
        entries.append(parsed if isinstance(parsed, dict) and isinstance(parsed.get("seq"), int) else None)
    seq_counts = Counter(e["seq"] for e in entries if e is not None)
    last_pos = {e["seq"]: i for i, e in enumerate(entries) if e is not None}  # to tell a move from a deletion

    prev_hash, prev_seq = GENESIS, 0
    run_open: dict[str, Any] | None = None  # {"run_id", "count"}
    for i, e in enumerate(entries):
        rep.entries = i + 1
        expected = prev_seq + 1
        if e is None:
            return _fail(rep, "malformed", expected, f"line {i + 1} is not a valid audit entry (edited or cut)")
        seq = e["seq"]
        body = canonical({k: v for k, v in e.items() if k != "hash" and k != "hmac"})
        if e.get("hash") != hashlib.sha256(body).hexdigest():
            kind: ProblemKind = "inserted" if seq_counts[seq] > 1 else "edited"
            return _fail(rep, kind, seq, f"entry {seq} does not match its hash ({kind})")
        if seq == expected and e.get("prev") != prev_hash:
            if seq_counts[seq] > 1:
                return _fail(rep, "inserted", seq, f"entry {seq} appears twice; one copy was inserted")
            return _fail(rep, "edited", prev_seq or seq,
                         f"entry {seq} does not chain to entry {prev_seq}: entry {prev_seq} was rewritten")
        if seq > expected:
            if last_pos.get(expected, -1) > i:
                return _fail(rep, "reordered", expected, f"entry {seq} appears where entry {expected} belongs")
            missing = f"{expected}" if seq == expected + 1 else f"{expected}..{seq - 1}"
            return _fail(rep, "deleted", expected, f"entries {missing} are missing")
        if seq < expected:
            if seq_counts[seq] > 1:
                return _fail(rep, "inserted", seq, f"entry {seq} appears twice; one copy was inserted")
            return _fail(rep, "reordered", seq, f"entry {seq} appears after entry {prev_seq}")
        if hkey is not None:
            mac = e.get("hmac")
            if not isinstance(mac, str) or not hmac_mod.compare_digest(
                    mac, hmac_mod.new(hkey, body, hashlib.sha256).hexdigest()):
                why = "has no HMAC" if mac is None else "has an HMAC that does not match the key"
                return _fail(rep, "bad_hmac", seq, f"entry {seq} {why} (wrong key, or forged entry)")

        ev = e.get("event")
        if ev == "run_start":
            if run_open is not None:
                rep.warnings.append(f"run {run_open['run_id']} has no run_end before entry {seq} (crashed?)")
            run_open = {"run_id": e.get("run_id"), "count": 0}
            rep.runs += 1
        elif run_open is None:
            return _fail(rep, "malformed", seq, f"entry {seq} ({ev}) is outside any run (no run_start)")
        if run_open is not None and e.get("run_id") != run_open["run_id"]:
            return _fail(rep, "malformed", seq, f"entry {seq} belongs to another run than its run_start")
        if ev == "run_end":
            if e.get("run_count") != run_open["count"] or e.get("head") != prev_hash:
                return _fail(rep, "edited", seq, f"run_end entry {seq} disagrees with the run's entry count/head")
            run_open = None
        else:
            run_open["count"] += 1
        prev_hash, prev_seq = e["hash"], seq

    rep.head, rep.last_seq = (prev_hash if entries else None), prev_seq
    if checkpoint is not None:
        cp_seq, cp_head = checkpoint.get("seq"), checkpoint.get("head")
        if not isinstance(cp_seq, int) or not isinstance(cp_head, str):
            raise AuditError("checkpoint lacks integer 'seq' / string 'head'")
        if cp_seq < 1:
            raise AuditError("checkpoint 'seq' must be a positive entry number")
        if prev_seq < cp_seq:
            rep.checkpoint = "failed"
            return _fail(rep, "truncated", prev_seq + 1,
                         f"the log ends at entry {prev_seq} but the checkpoint records entry {cp_seq}: "
                         f"entries {prev_seq + 1}..{cp_seq} were removed from the tail")
        found = next(e for e in entries if e is not None and e["seq"] == cp_seq)
        if found["hash"] != cp_head:
            rep.checkpoint = "failed"
            return _fail(rep, "checkpoint_mismatch", cp_seq,
                         f"entry {cp_seq} differs from the checkpoint's chain head: the log was rewritten")
        rep.checkpoint = "matched"
    if run_open is not None:
        return _fail(rep, "truncated", prev_seq + 1,
                     f"run {run_open['run_id']} has no run_end: the log was cut after entry {prev_seq} "
                     "(or the run crashed / is still running)")
    return rep


def _check_signature(rep: VerifyReport, cp: dict[str, Any], trusted: Ed25519PublicKey | None) -> None:
    try:
        embedded = Ed25519PublicKey.from_public_bytes(bytes.fromhex(str(cp.get("public_key", ""))))
        sig = bytes.fromhex(str(cp["signature"]))
    except ValueError:
        rep.signature = "invalid"
        _fail(rep, "bad_signature", None, "checkpoint signature or public key is not valid hex")
        return
    if trusted is not None and _pub_hex(trusted) != _pub_hex(embedded):
        rep.signature = "invalid"
        _fail(rep, "bad_signature", None, "checkpoint was signed with a key other than the trusted public key")
        return
    try:
        embedded.verify(sig, _checkpoint_payload(cp))
    except InvalidSignature:
        rep.signature = "invalid"
        _fail(rep, "bad_signature", None, "checkpoint signature does not match its contents (checkpoint edited)")
        return
    rep.signature = "valid" if trusted is not None else "valid-untrusted"


# ----------------------------------------------------------------------------------------- reviewing/export


def select_entries(entries: list[dict[str, Any]], *, record_id: str | None = None, run_id: str | None = None,
                   event: str | None = None) -> list[dict[str, Any]]:
    return [e for e in entries
            if (record_id is None or e.get("record_id") == record_id)
            and (run_id is None or e.get("run_id") == run_id)
            and (event is None or e.get("event") == event)]


CSV_COLUMNS = ("seq", "ts", "run_id", "event", "record_id", "source", "line", "input_sha256", "route", "reason",
               "rule", "labels", "entities", "operators", "verification_passed", "verification_failures", "error",
               "policy_name", "policy_version", "policy_sha256", "prepkit_version", "other", "prev", "hash", "hmac")
_CSV_DIRECT = {"seq", "ts", "run_id", "event", "record_id", "source", "line", "input_sha256", "route", "reason",
               "rule", "error", "prev", "hash", "hmac"}
_CSV_CONSUMED = _CSV_DIRECT | {"labels", "entities", "operators", "verification", "policy", "versions", "v"}


def _dict(v: Any) -> dict[str, Any]:
    return v if isinstance(v, dict) else {}


def _counts(d: Any) -> str:
    return ";".join(f"{k}={v}" for k, v in d.items()) if isinstance(d, dict) else ""


def csv_row(e: dict[str, Any]) -> dict[str, Any]:
    """One flat row per entry, for compliance tooling; nested counts become `TYPE=n;TYPE=n`."""
    row: dict[str, Any] = {k: e.get(k, "") for k in _CSV_DIRECT}
    ver, pol, vers = _dict(e.get("verification")), _dict(e.get("policy")), _dict(e.get("versions"))
    row.update({
        "labels": ";".join(map(str, e.get("labels") or [])),
        "entities": _counts(e.get("entities")),
        "operators": _counts(e.get("operators")),
        "verification_passed": "" if "passed" not in ver else str(bool(ver["passed"])).lower(),
        "verification_failures": ";".join(f"{f.get('check')}:{f.get('entity_type')}"
                                          for f in ver.get("failures", []) if isinstance(f, dict)),
        "policy_name": pol.get("name", ""), "policy_version": pol.get("version", ""),
        "policy_sha256": pol.get("sha256", ""), "prepkit_version": vers.get("prepkit", ""),
        "other": json.dumps({k: v for k, v in e.items() if k not in _CSV_CONSUMED}, sort_keys=True,
                            separators=(",", ":")),
    })
    return row


def text_line(e: dict[str, Any]) -> str:
    """One line per entry for a reviewer's terminal: what happened to which record and why."""
    head = f"{e.get('seq', '?'):>6} {e.get('ts', '')} {e.get('event', '?'):<10}"
    ev = e.get("event")
    if ev == "record":
        ver = _dict(e.get("verification"))
        vtxt = "verified" if ver.get("passed", True) else "VERIFY-FAILED " + ",".join(
            f"{f.get('check')}:{f.get('entity_type')}" for f in ver.get("failures", []) if isinstance(f, dict))
        loc = f"{e.get('source', '')}" + (f":{e['line']}" if e.get("line") is not None else "")
        return (f"{head} {e.get('record_id', '')} [{loc}] -> {e.get('route', '')} ({e.get('reason', '')}) "
                f"entities[{_counts(e.get('entities')) or '-'}] ops[{_counts(e.get('operators')) or '-'}] {vtxt}"
                + (f" error={e['error']}" if e.get("error") else ""))
    skip = {"seq", "ts", "event", "prev", "hash", "hmac", "v", "policy", "versions"}
    rest = " ".join(f"{k}={json.dumps(v, sort_keys=True, separators=(',', ':'))}"
                    for k, v in e.items() if k not in skip)
    if ev == "run_start" and isinstance(e.get("policy"), dict):
        pol = e["policy"]
        rest += f" policy={pol.get('name')}@{pol.get('version')} sha256={str(pol.get('sha256', ''))[:12]}"
    return f"{head} {rest}"
