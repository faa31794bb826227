"""Policy sign-off: who approved which policy (by sha256) and when, in an approvals file signed with the audit
signing key, and a matching `policy_approved` entry in the audit log.

The approvals file sits beside the policy (`POLICY.approvals.json`) unless told otherwise. Each approval is signed
on its own (Ed25519 over the canonical JSON of its fields), so adding one never re-signs another. A run with
`--require-approved` accepts a policy only when an approval for its exact sha256 carries a valid signature by the
signing key configured for this machine (PREPKIT_SIGNING_KEY_FILE): a file edited by hand, or signed with some
other key, approves nothing.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from prepkit.audit import canonical
from prepkit.errors import PrepkitError
from prepkit.keys import ENV_SIGNING_FILE
from prepkit.policy import LoadedPolicy
from prepkit.sinks.files import write_json

FORMAT = "prepkit-policy-approvals-v1"
_SIGNED = ("policy_sha256", "policy_name", "policy_version", "approved_by", "approved_at")


class ApprovalError(PrepkitError):
    """An approval cannot be made or checked. Messages name the file and what is wrong, never key material."""


@dataclass(frozen=True)
class Approval:
    policy_sha256: str
    policy_name: str
    policy_version: str
    approved_by: str
    approved_at: str
    public_key: str
    signature: str

    def payload(self) -> bytes:
        return canonical({"format": FORMAT, **{k: getattr(self, k) for k in _SIGNED}})

    def valid_for(self, trusted: Ed25519PublicKey) -> bool:
        if self.public_key != _pub_hex(trusted):
            return False
        try:
            trusted.verify(bytes.fromhex(self.signature), self.payload())
        except (InvalidSignature, ValueError):
            return False
        return True


def _pub_hex(pub: Ed25519PublicKey) -> str:
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


def default_path(policy_path: str | Path) -> Path:
    p = Path(policy_path)
    return p.with_name(p.name + ".approvals.json")


def signing_key() -> Ed25519PrivateKey:
    from prepkit.audit import AuditError, signing_key_from_env

    try:
        key = signing_key_from_env()
    except AuditError as e:
        raise ApprovalError(str(e)) from None
    if key is None:
        raise ApprovalError(f"approvals are signed with the audit signing key: set {ENV_SIGNING_FILE} "
                            "(create one with `prepkit audit keygen-signing FILE`)")
    return key


def read(path: str | Path) -> list[Approval]:
    p = Path(path)
    if not p.is_file():
        return []
    try:
        data = json.loads(p.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(data.get("approvals"), list):
            raise ValueError("not an approvals file")
        return [Approval(**{k: str(a[k]) for k in (*_SIGNED, "public_key", "signature")})
                for a in data["approvals"]]
    except (OSError, ValueError, KeyError, TypeError) as e:
        raise ApprovalError(f"{p}: not a readable approvals file ({type(e).__name__})") from None


def approve(loaded: LoadedPolicy, by: str, path: str | Path | None = None, *,
            key: Ed25519PrivateKey | None = None) -> tuple[Approval, Path]:
    """Sign and append an approval of `loaded` by `by`; returns it and the approvals file."""
    name = " ".join(by.split())
    if not name:
        raise ApprovalError("--by: the approver's name is required")
    key = key or signing_key()
    target = Path(path) if path else default_path(loaded.path)
    existing = read(target)
    unsigned = Approval(loaded.sha256, loaded.policy.name, str(loaded.policy.policy_version), name,
                        dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z"),
                        _pub_hex(key.public_key()), "")
    approval = Approval(**{**unsigned.__dict__, "signature": key.sign(unsigned.payload()).hex()})
    write_json(target, {"format": FORMAT, "approvals": [a.__dict__ for a in [*existing, approval]]})
    return approval, target


def approved(loaded: LoadedPolicy, path: str | Path | None = None,
             trusted: Ed25519PublicKey | None = None) -> list[Approval]:
    """Valid approvals of exactly this policy (by sha256), signed by the trusted key (the configured signing
    key's public half by default)."""
    trusted = trusted or signing_key().public_key()
    target = Path(path) if path else default_path(loaded.path)
    return [a for a in read(target) if a.policy_sha256 == loaded.sha256 and a.valid_for(trusted)]


def audit_approval(audit_path: Path, approval: Approval, keyring: Any, identity: dict[str, str],
                   approvals_file: Path) -> dict[str, Any]:
    from prepkit.rag.query import audit_event

    return audit_event(audit_path, keyring, "policy_approved", identity, approver=approval.approved_by,
                       policy_sha256=approval.policy_sha256, approved_at=approval.approved_at,
                       signature_sha256=hashlib.sha256(approval.signature.encode()).hexdigest(),
                       file=str(approvals_file))
