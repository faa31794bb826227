"""Secret keys: read from PREPKIT_KEY_FILE or PREPKIT_KEY, or a key file the policy names — never from the policy.

One master key; each use gets its own subkey through HKDF, so a surrogate key, the hash operator's key, the
encryption key, the RAG database key and the audit HMAC key are independent even though the user manages one file.
Nothing here ever prints or logs key material.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from prepkit.errors import PrepkitError

ENV_FILE = "PREPKIT_KEY_FILE"
ENV_KEY = "PREPKIT_KEY"
ENV_SIGNING_FILE = "PREPKIT_SIGNING_KEY_FILE"  # Ed25519 key for audit checkpoints; kept apart from the HMAC key


class KeyError_(PrepkitError):
    """A key is missing, unreadable or malformed. Messages name the source, never the key."""


def _decode(raw: str, where: str) -> bytes:
    s = raw.strip()
    for decoder in (bytes.fromhex, base64.urlsafe_b64decode, base64.b64decode):
        try:
            key = decoder(s)
        except (ValueError, binascii.Error):
            continue
        if len(key) >= 16:
            return key
    raise KeyError_(f"{where}: key must be at least 16 bytes, hex or base64 encoded")


@dataclass(frozen=True)
class KeyRing:
    master: bytes
    source: str  # where the key came from, for messages ("PREPKIT_KEY_FILE=/path"); never the key
    key_id: str  # public fingerprint, safe to record

    def derive(self, purpose: str, length: int = 32) -> bytes:
        return HKDF(hashes.SHA256(), length, salt=b"prepkit-v1", info=purpose.encode()).derive(self.master)

    def hmac(self, purpose: str, data: bytes) -> bytes:
        return hmac.new(self.derive(purpose), data, hashlib.sha256).digest()

    @classmethod
    def from_bytes(cls, master: bytes, source: str = "bytes") -> KeyRing:
        fp = hashlib.sha256(b"prepkit-key-id" + master).hexdigest()[:16]
        return cls(master, source, fp)

    @classmethod
    def from_file(cls, path: str | Path) -> KeyRing:
        p = Path(path)
        try:
            raw = p.read_text(encoding="ascii")
        except FileNotFoundError:
            raise KeyError_(f"key file {p} does not exist (create one with `prepkit keygen {p}`)") from None
        except (OSError, UnicodeDecodeError) as e:
            raise KeyError_(f"key file {p} cannot be read: {type(e).__name__}") from None
        return cls.from_bytes(_decode(raw, f"key file {p}"), f"key file {p}")


def load_keyring(policy_key_file: str | None = None, *, required: bool = True) -> KeyRing | None:
    """Environment first (PREPKIT_KEY_FILE, then PREPKIT_KEY), then the policy's key file."""
    if os.environ.get(ENV_FILE):
        return KeyRing.from_file(os.environ[ENV_FILE])
    if os.environ.get(ENV_KEY):
        return KeyRing.from_bytes(_decode(os.environ[ENV_KEY], ENV_KEY), ENV_KEY)
    if policy_key_file:
        return KeyRing.from_file(policy_key_file)
    if required:
        raise KeyError_(
            f"no key configured: set {ENV_FILE} to a key file (make one with `prepkit keygen FILE`) or {ENV_KEY}"
        )
    return None


def write_key_file(path: str | Path) -> Path:
    """Create a new random 256-bit key file with mode 0600; refuses to overwrite."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(secrets.token_hex(32) + "\n")
    return p
