"""Reading and verifying the audit log: walk the hash chain, HMACs and run boundaries, and compare with a
checkpoint kept outside the log. Reports the first problem by kind; never quotes an entry's content."""

from __future__ import annotations

import hashlib
import hmac as hmac_mod
import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from prepkit.audit.fields import GENESIS, HMAC_PURPOSE, AuditError, ProblemKind, canonical
from prepkit.audit.signing import checkpoint_payload, pub_hex
from prepkit.keys import KeyRing


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


@dataclass
class Chain:
    run_open: dict[str, Any] | None  # the run still open at the end (no run_end yet): {"run_id", "count"}
    hashes: dict[int, str]  # entry hash by seq


def _fail_open(rep: VerifyReport, kind: ProblemKind, seq: int | None, message: str) -> Chain | None:
    _fail(rep, kind, seq, message)
    return None


def check_chain(raw_lines: list[bytes], hkey: bytes | None, rep: VerifyReport) -> Chain | None:
    """Walk entries (one JSON line each) from the genesis on, filling `rep` (ok or the first problem, entries,
    runs, head, last_seq, warnings); None when a problem was found."""
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
    hashes: dict[int, str] = {}
    for i, e in enumerate(entries):
        rep.entries = i + 1
        expected = prev_seq + 1
        if e is None:
            return _fail_open(rep, "malformed", expected, f"line {i + 1} is not a valid audit entry (edited or cut)")
        seq = e["seq"]
        body = canonical({k: v for k, v in e.items() if k != "hash" and k != "hmac"})
        if e.get("hash") != hashlib.sha256(body).hexdigest():
            kind: ProblemKind = "inserted" if seq_counts[seq] > 1 else "edited"
            return _fail_open(rep, kind, seq, f"entry {seq} does not match its hash ({kind})")
        if seq == expected and e.get("prev") != prev_hash:
            if seq_counts[seq] > 1:
                return _fail_open(rep, "inserted", seq, f"entry {seq} appears twice; one copy was inserted")
            return _fail_open(rep, "edited", prev_seq or seq,
                              f"entry {seq} does not chain to entry {prev_seq}: entry {prev_seq} was rewritten")
        if seq > expected:
            if last_pos.get(expected, -1) > i:
                return _fail_open(rep, "reordered", expected, f"entry {seq} appears where entry {expected} belongs")
            missing = f"{expected}" if seq == expected + 1 else f"{expected}..{seq - 1}"
            return _fail_open(rep, "deleted", expected, f"entries {missing} are missing")
        if seq < expected:
            if seq_counts[seq] > 1:
                return _fail_open(rep, "inserted", seq, f"entry {seq} appears twice; one copy was inserted")
            return _fail_open(rep, "reordered", seq, f"entry {seq} appears after entry {prev_seq}")
        if hkey is not None:
            mac = e.get("hmac")
            if not isinstance(mac, str) or not hmac_mod.compare_digest(
                    mac, hmac_mod.new(hkey, body, hashlib.sha256).hexdigest()):
                why = "has no HMAC" if mac is None else "has an HMAC that does not match the key"
                return _fail_open(rep, "bad_hmac", seq, f"entry {seq} {why} (wrong key, or forged entry)")

        ev = e.get("event")
        if ev == "run_start":
            if run_open is not None:
                rep.warnings.append(f"run {run_open['run_id']} has no run_end before entry {seq} (crashed?)")
            run_open = {"run_id": e.get("run_id"), "count": 0}
            rep.runs += 1
        elif run_open is None:
            return _fail_open(rep, "malformed", seq, f"entry {seq} ({ev}) is outside any run (no run_start)")
        if run_open is not None and e.get("run_id") != run_open["run_id"]:
            return _fail_open(rep, "malformed", seq, f"entry {seq} belongs to another run than its run_start")
        if ev == "run_end":
            if e.get("run_count") != run_open["count"] or e.get("head") != prev_hash:
                return _fail_open(rep, "edited", seq, f"run_end entry {seq} disagrees with the run's entry count/head")
            run_open = None
        else:
            run_open["count"] += 1
        prev_hash, prev_seq = e["hash"], seq
        hashes[seq] = prev_hash

    rep.head, rep.last_seq = (prev_hash if entries else None), prev_seq
    return Chain(run_open, hashes)


def verify(path: str | Path, checkpoint: dict[str, Any] | None = None, keyring: KeyRing | None = None,
           public_key: Ed25519PublicKey | None = None) -> VerifyReport:
    """Walk the chain and report the first problem. `public_key` is the trusted checkpoint-signing key; without
    it a signature is checked against the key embedded in the checkpoint, which only proves integrity."""
    p = Path(path)
    rep = VerifyReport(ok=True, entries=0)
    hkey = keyring.derive(HMAC_PURPOSE) if keyring else None
    rep.hmac_checked = hkey is not None

    if checkpoint is not None and "signature" in checkpoint:
        check_signature(rep, checkpoint, public_key)
        if not rep.ok:
            return rep
    elif checkpoint is not None and public_key is not None:
        return _fail(rep, "bad_signature", None, "a trusted public key was given but the checkpoint is unsigned")

    try:
        data = p.read_bytes()
    except OSError as err:
        raise AuditError(f"{p}: cannot be read: {type(err).__name__}") from None
    raw_lines = data.split(b"\n")
    if raw_lines and raw_lines[-1] == b"":
        raw_lines.pop()
    elif raw_lines:  # a last line without newline was cut mid-write
        rep.warnings.append("the last line has no trailing newline")
    chain = check_chain(raw_lines, hkey, rep)
    if chain is None:
        return rep
    prev_seq, run_open = rep.last_seq, chain.run_open
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
        if chain.hashes.get(cp_seq) != cp_head:
            rep.checkpoint = "failed"
            return _fail(rep, "checkpoint_mismatch", cp_seq,
                         f"entry {cp_seq} differs from the checkpoint's chain head: the log was rewritten")
        rep.checkpoint = "matched"
    if run_open is not None:
        return _fail(rep, "truncated", prev_seq + 1,
                     f"run {run_open['run_id']} has no run_end: the log was cut after entry {prev_seq} "
                     "(or the run crashed / is still running)")
    return rep


def check_signature(rep: VerifyReport, cp: dict[str, Any], trusted: Ed25519PublicKey | None) -> None:
    try:
        embedded = Ed25519PublicKey.from_public_bytes(bytes.fromhex(str(cp.get("public_key", ""))))
        sig = bytes.fromhex(str(cp["signature"]))
    except ValueError:
        rep.signature = "invalid"
        _fail(rep, "bad_signature", None, "checkpoint signature or public key is not valid hex")
        return
    if trusted is not None and pub_hex(trusted) != pub_hex(embedded):
        rep.signature = "invalid"
        _fail(rep, "bad_signature", None, "checkpoint was signed with a key other than the trusted public key")
        return
    try:
        embedded.verify(sig, checkpoint_payload(cp))
    except InvalidSignature:
        rep.signature = "invalid"
        _fail(rep, "bad_signature", None, "checkpoint signature does not match its contents (checkpoint edited)")
        return
    rep.signature = "valid" if trusted is not None else "valid-untrusted"


