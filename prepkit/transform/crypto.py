"""Reversible, authenticated encryption of single values, and its inverse for key holders.

AES-SIV: deterministic (the same value under the same key gives the same token, so a corpus stays coherent) and
authenticated (a changed token fails to decrypt instead of yielding a wrong value). The token carries the
public key id, so `reidentify` can tell "wrong key" from "damaged token" and name the key that is needed.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable, Iterator

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

from prepkit.errors import PrepkitError
from prepkit.keys import KeyRing

VERSION = "v1"
OPEN, CLOSE = "\u27e6", "\u27e7"  # ⟦ ⟧: never produced by ordinary text, easy to find again
TOKEN = re.compile(OPEN + r"enc:v1:([0-9a-f]{16}):([A-Za-z0-9_]+):([A-Za-z0-9_-]+)" + CLOSE)


class DecryptError(PrepkitError):
    """A token cannot be decrypted: wrong key or damaged. Messages never carry plaintext or key material."""


def encryption_key(keyring: KeyRing) -> bytes:
    return keyring.derive("encrypt", 64)  # AES-SIV with a 512-bit key: two AES-256 halves


def _ad(key_id: str, entity_type: str) -> bytes:
    return f"prepkit-enc:{VERSION}:{key_id}:{entity_type}".encode()


def encrypt_value(key: bytes, key_id: str, entity_type: str, value: str) -> str:
    ct = AESSIV(key).encrypt(value.encode("utf-8"), [_ad(key_id, entity_type)])
    b64 = base64.urlsafe_b64encode(ct).decode().rstrip("=")
    return f"{OPEN}enc:{VERSION}:{key_id}:{entity_type}:{b64}{CLOSE}"


def decrypt_token(keyring: KeyRing, token: str) -> str:
    m = TOKEN.fullmatch(token)
    if not m:
        raise DecryptError("not an encryption token")
    return _decrypt(encryption_key(keyring), keyring.key_id, m)


def _decrypt(key: bytes, key_id: str, m: re.Match[str]) -> str:
    kid, etype, b64 = m.groups()
    if kid != key_id:
        raise DecryptError(f"token was encrypted with key id {kid}, but the key given has key id {key_id}")
    try:
        ct = base64.urlsafe_b64decode(b64 + "=" * (-len(b64) % 4))
        return AESSIV(key).decrypt(ct, [_ad(kid, etype)]).decode("utf-8")
    except (InvalidTag, ValueError, UnicodeDecodeError):
        raise DecryptError(f"a {etype} token failed authentication (damaged or altered)") from None


def decrypt_text(keyring: KeyRing, text: str) -> tuple[str, int]:
    """Replace every token in `text` by its plaintext; returns the text and the number of tokens reversed."""
    key = encryption_key(keyring)
    count = 0

    def sub(m: re.Match[str]) -> str:
        nonlocal count
        count += 1
        return _decrypt(key, keyring.key_id, m)

    return TOKEN.sub(sub, text), count


def _walk(keyring: KeyRing, value: object) -> tuple[object, int]:
    if isinstance(value, str):
        return decrypt_text(keyring, value)
    if isinstance(value, list):
        out, n = [], 0
        for v in value:
            w, k = _walk(keyring, v)
            out.append(w)
            n += k
        return out, n
    if isinstance(value, dict):
        d, n = {}, 0
        for key, v in value.items():
            w, k = _walk(keyring, v)
            d[key] = w
            n += k
        return d, n
    return value, 0


def reidentify_lines(keyring: KeyRing, lines: Iterable[str], *, jsonl: bool) -> Iterator[tuple[int, str, int]]:
    """Yield (line number, line with tokens reversed, tokens reversed) for each input line.

    JSONL lines are parsed so tokens written with JSON escapes (\\u27e6...) are found too, and written back with
    the same keys; a DecryptError names the line.
    """
    for no, line in enumerate(lines, 1):
        body = line.rstrip("\n")
        nl = line[len(body):]
        try:
            if jsonl and body.strip():
                try:
                    obj = json.loads(body)
                except json.JSONDecodeError:
                    text, n = decrypt_text(keyring, body)
                else:
                    if "enc:v1:" not in body:
                        yield no, line, 0
                        continue
                    new, n = _walk(keyring, obj)
                    text = json.dumps(new, ensure_ascii=False) if n else body
            else:
                text, n = decrypt_text(keyring, body)
        except DecryptError as e:
            raise DecryptError(f"line {no}: {e}") from None
        yield no, text + nl, n
