"""Open SQLite databases encrypted as a whole with SQLite3 Multiple Ciphers (apsw-sqlite3mc).

The key is a subkey of the prepkit master key, given to the cipher as a hex passphrase. Page data, indexes, the
vector tables and the rollback journal are all encrypted; temp files are kept in memory so nothing spills to disk
unencrypted, and secure_delete overwrites freed pages so deleted chunks do not linger in the file.
"""

from __future__ import annotations

import os
from pathlib import Path

import apsw

from prepkit.errors import PrepkitError


class EncryptedDBError(PrepkitError):
    pass


def connect(path: Path, key: bytes, *, create: bool, what: str, cache_mb: int = 64,
            extensions: tuple[str, ...] = ()) -> apsw.Connection:
    if not create and not path.is_file():
        raise EncryptedDBError(f"{path}: no {what} here")
    fresh = not path.exists()
    if fresh:
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        os.chmod(path.parent, 0o700)  # mkdir's mode is masked by the umask and ignored for existing folders
    flags = apsw.SQLITE_OPEN_READWRITE | (apsw.SQLITE_OPEN_CREATE if create else 0)
    try:
        conn = apsw.Connection(str(path), flags=flags)
    except apsw.Error as e:
        raise EncryptedDBError(f"{path}: cannot open {what}: {type(e).__name__}") from None
    conn.execute(f"PRAGMA key = '{key.hex()}'")
    try:
        # The first read decrypts page 1: a wrong key (or a file that is not ours) fails here, before anything else.
        conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
    except (apsw.NotADBError, apsw.CorruptError):
        conn.close()
        raise EncryptedDBError(
            f"{path}: cannot decrypt {what}: wrong key (check PREPKIT_KEY_FILE / PREPKIT_KEY) or not a prepkit file"
        ) from None
    if fresh:
        os.chmod(path, 0o600)
    conn.execute("PRAGMA secure_delete = ON")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute(f"PRAGMA cache_size = -{cache_mb * 1024}")  # KiB; the default cache made queries 20x slower
    conn.execute("PRAGMA foreign_keys = ON")
    if extensions:
        conn.enable_load_extension(True)
        for ext in extensions:
            conn.load_extension(ext)
        conn.enable_load_extension(False)
    return conn
