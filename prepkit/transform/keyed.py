"""HMAC-SHA256 with the key's padded states kept, for the transformation's many short messages.

Every surrogate seed and every subject hash is an HMAC of a few dozen bytes under one of a few keys. Through
OpenSSL 3 each call costs about 7 µs, most of it fetching the algorithm again; HMAC is
H((K ^ opad) || H((K ^ ipad) || m)), so with the two padded states hashed once per key a call is two copies, two
updates and two digests (under 1 µs), with the same bytes out (tests/test_transform_faker_draws.py compares them
with the hmac module's).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from typing import Any

_BLOCK = 64  # SHA-256's block size


@lru_cache(maxsize=16)  # a worker holds a few keys (surrogate, subject...); never the values
def _pads(key: bytes) -> tuple[Any, Any]:
    if len(key) > _BLOCK:
        key = hashlib.sha256(key).digest()
    key = key.ljust(_BLOCK, b"\0")
    return (hashlib.sha256(bytes(b ^ 0x36 for b in key)), hashlib.sha256(bytes(b ^ 0x5C for b in key)))


def hmac_sha256(key: bytes, msg: bytes) -> bytes:
    inner_pad, outer_pad = _pads(key)
    inner = inner_pad.copy()
    inner.update(msg)
    outer = outer_pad.copy()
    outer.update(inner.digest())
    return outer.digest()
