"""Ed25519 keys for audit checkpoints (kept apart from the HMAC key, so a holder of the data key cannot forge a
checkpoint), and the signed checkpoint format."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from prepkit.audit.fields import FORMAT_VERSION, AuditError, canonical
from prepkit.keys import ENV_SIGNING_FILE, strict_decode, weak_key_reason


def _read_key_file(p: Path, what: str) -> bytes:
    try:
        return p.read_bytes()
    except OSError as e:
        raise AuditError(f"{what} file {p} cannot be read: {type(e).__name__}") from None


def _decode_32(text: str) -> bytes | None:
    """32 key bytes written as hex or base64, or None (strictly: lenient decoders skip unknown characters)."""
    raw = strict_decode(text.strip())
    return raw if raw is not None and len(raw) == 32 else None


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
    seed = _decode_32(raw.decode("ascii", errors="replace"))
    if seed is None and len(data) == 32:
        seed = data  # a raw binary seed
    if seed is not None:
        why = weak_key_reason(seed)
        if why is not None:
            raise AuditError(f"signing key file {p}: the seed is {why}; make one with `prepkit audit keygen-signing`")
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
    return pub_hex(pub)


def pub_hex(pub: Ed25519PublicKey) -> str:
    return pub.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()


SIGNED_FIELDS = ("file", "seq", "head", "count", "run_id", "run_count")


def checkpoint_payload(cp: dict[str, Any]) -> bytes:
    return canonical({"prepkit-audit-checkpoint": FORMAT_VERSION, **{k: cp.get(k) for k in SIGNED_FIELDS}})


def sign_checkpoint(cp: dict[str, Any], key: Ed25519PrivateKey) -> dict[str, Any]:
    return {**cp, "signature": key.sign(checkpoint_payload(cp)).hex(), "public_key": pub_hex(key.public_key())}
