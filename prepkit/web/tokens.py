"""Bearer tokens: the per-role token file of `prepkit serve`, and constant-time lookup.

A token file holds one `ROLE TOKEN` pair per line (`#` starts a comment). It is read from a file, never from the
command line (where `ps` and shell history would show it), and must not be readable by group or others.
"""

from __future__ import annotations

import hmac
import os
import re
import secrets
import stat
from pathlib import Path

from prepkit.errors import PrepkitError

MIN_TOKEN_CHARS = 24
_ROLE = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")


class TokenError(PrepkitError):
    """The token file is missing, unsafe or malformed. Messages name the file and line, never a token."""


def read_token_file(path: str | Path) -> dict[str, str]:
    """{token: role} from a token file; raises TokenError naming file and line."""
    p = Path(path)
    try:
        st = p.stat()
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TokenError(f"token file {p} does not exist (create one with `prepkit serve-tokens {p} --role R`)") \
            from None
    except (OSError, UnicodeDecodeError) as e:
        raise TokenError(f"token file {p} cannot be read: {type(e).__name__}") from None
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise TokenError(f"token file {p} is readable by others (mode {stat.S_IMODE(st.st_mode):o}); "
                         f"run `chmod 600 {p}`")
    tokens: dict[str, str] = {}
    for n, line in enumerate(text.splitlines(), 1):
        body = line.split("#", 1)[0].strip()
        if not body:
            continue
        parts = body.split()
        if len(parts) != 2:
            raise TokenError(f"{p}:{n}: expected `ROLE TOKEN` (two fields), found {len(parts)}")
        role, token = parts
        if not _ROLE.match(role):
            raise TokenError(f"{p}:{n}: role must be 1-64 letters, digits, '_', '-' or '.'")
        if len(token) < MIN_TOKEN_CHARS:
            raise TokenError(f"{p}:{n}: token for role {role} is shorter than {MIN_TOKEN_CHARS} characters")
        if token in tokens:
            raise TokenError(f"{p}:{n}: the token for role {role} is also given to role {tokens[token]}")
        tokens[token] = role
    if not tokens:
        raise TokenError(f"token file {p} holds no `ROLE TOKEN` line")
    return tokens


def write_token_file(path: str | Path, roles: list[str]) -> Path:
    """A new owner-only token file with a random token per role; refuses to overwrite."""
    p = Path(path)
    for role in roles:
        if not _ROLE.match(role):
            raise TokenError(f"role {role!r}: must be 1-64 letters, digits, '_', '-' or '.'")
    p.parent.mkdir(parents=True, exist_ok=True)
    try:
        fd = os.open(p, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise TokenError(f"token file {p} already exists; edit it or choose another name") from None
    with os.fdopen(fd, "w") as f:
        f.write("# prepkit serve: one `ROLE TOKEN` per line; give each application only its role's token\n")
        for role in dict.fromkeys(roles):
            f.write(f"{role} {secrets.token_urlsafe(32)}\n")
    return p


def role_for(tokens: dict[str, str], presented: str | None) -> str | None:
    """The role of a presented token, comparing against every token in constant time; None when unknown."""
    found = None
    given = (presented or "").encode()
    for token, role in tokens.items():
        if hmac.compare_digest(token.encode(), given):
            found = role
    return found


def bearer(header: str | None) -> str | None:
    """The token of an `Authorization: Bearer TOKEN` header, or None."""
    if not header:
        return None
    scheme, _, value = header.partition(" ")
    return value.strip() or None if scheme.lower() == "bearer" else None
