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
import re
import secrets
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from prepkit.errors import PrepkitError

ENV_FILE = "PREPKIT_KEY_FILE"
ENV_KEY = "PREPKIT_KEY"
ENV_SIGNING_FILE = "PREPKIT_SIGNING_KEY_FILE"  # Ed25519 key for audit checkpoints; kept apart from the HMAC key


class KeyError_(PrepkitError):
    """A key is missing, unreadable or malformed. Messages name the source, never the key."""


_HEX = re.compile(r"[0-9a-fA-F]+")
_B64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_B64URL = re.compile(r"[A-Za-z0-9_-]+={0,2}")
MIN_KEY_BYTES = 16


def strict_decode(s: str) -> bytes | None:
    """The bytes of one hex or base64 (standard or URL-safe) string, or None. Strict on purpose: the lenient
    decoders skip characters they do not know, which turned a shell script or an SSH .pub file into a "key"."""
    if _HEX.fullmatch(s) and len(s) % 2 == 0:
        return bytes.fromhex(s)
    for pattern, decode in ((_B64, base64.b64decode), (_B64URL, base64.urlsafe_b64decode)):
        if pattern.fullmatch(s) and len(s) % 4 == 0:
            try:
                return decode(s)
            except (ValueError, binascii.Error):
                continue
    return None


def weak_key_reason(key: bytes) -> str | None:
    """Why these bytes cannot be a random key, or None. Random bytes use many distinct values (32 random bytes
    have about 30, and fewer than 20 happens with a probability below 1e-9); a repeated character, zero bytes or
    a short repeated pattern use a handful."""
    if len(key) < MIN_KEY_BYTES:
        return f"too short ({len(key)} bytes; at least {MIN_KEY_BYTES} random bytes are needed)"
    distinct = len(set(key))
    need = min(len(key), 32) * 5 // 8
    if distinct < need:
        return (f"not random: only {distinct} distinct byte values in {len(key)} bytes (a repeated character, "
                "zero bytes or a pattern)")
    return None


def _decode(raw: str, where: str) -> bytes:
    s = raw.strip()
    key = strict_decode(s)
    if key is None:
        raise KeyError_(f"{where}: not a prepkit key: expected one line of hex or base64 (at least "
                        f"{MIN_KEY_BYTES} random bytes); make one with `prepkit keygen FILE`")
    why = weak_key_reason(key)
    if why is not None:
        raise KeyError_(f"{where}: the key is {why}; make one with `prepkit keygen FILE`")
    return key


@dataclass(frozen=True)
class KeyRing:
    master: bytes
    source: str  # where the key came from, for messages ("PREPKIT_KEY_FILE=/path"); never the key
    key_id: str  # public fingerprint, safe to record
    # derived keys by (purpose, length): a subject hash per detected value derived its key every time (HKDF)
    _derived: dict[tuple[str, int], bytes] = field(default_factory=dict, init=False, repr=False, compare=False)

    def derive(self, purpose: str, length: int = 32) -> bytes:
        key = self._derived.get((purpose, length))
        if key is None:
            key = self._derived[(purpose, length)] = HKDF(
                hashes.SHA256(), length, salt=b"prepkit-v1", info=purpose.encode()).derive(self.master)
        return key

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
