"""The ledger's database boundary: engine setup (PRAGMAs, explicit BEGIN) and error translation.

SQLite runs in WAL mode (readers never block the writer), with foreign keys on, a busy timeout and
``synchronous=FULL`` (the ledger is the master copy: a committed cycle must survive a power cut).
pysqlite's own transaction handling is switched off and every transaction starts with an explicit
``BEGIN IMMEDIATE`` (writers) or ``BEGIN`` (read snapshots), so a cycle that reads then writes
never fails half-way with a stale snapshot, and DDL in migrations is transactional.

Every SQLAlchemy or sqlite3 error leaving the ledger passes :func:`translate` and becomes a
:class:`~rules.errors.StoreError` with a hint; its message carries the driver's text only, never the
SQL statement or its parameters (they may hold pupils' marks).
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from rules.errors import StoreError

logger = logging.getLogger(__name__)

WAL_LIMIT = 64 * 2**20  # bytes the WAL may keep after a commit (see keep_wal_small)
BEGIN_OPTION = "ledger_begin"  # execution option: "IMMEDIATE" (default) or "DEFERRED"
REFUSED = "ejournal-seal"  # a seal trigger's RAISE message starts so (sync.ledger.seals)


def make_engine(
    path: Path, busy_timeout: float, functions: Callable[[Any], None] | None = None
) -> Engine:
    """An engine on the SQLite file ``path`` with the ledger's PRAGMAs on every connection, and
    ``functions`` called to register SQL functions on each."""
    engine = create_engine(f"sqlite+pysqlite:///{path}")
    timeout_ms = max(0, int(busy_timeout * 1000))

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves (see module docstring)
        if functions is not None:
            functions(dbapi_connection)
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {timeout_ms}")
            cursor.execute("PRAGMA foreign_keys = ON")
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA synchronous = FULL")
            cursor.execute(f"PRAGMA journal_size_limit = {WAL_LIMIT}")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(BEGIN_OPTION, "IMMEDIATE")
        connection.exec_driver_sql(f"BEGIN {mode}")

    return engine


def keep_wal_small(raw: sqlite3.Connection, path: Path, limit: int = WAL_LIMIT) -> None:
    """After a commit: a WAL grown above ``limit`` (a large transaction: a catch-up cycle, a lock
    job) is checkpointed into the database and truncated, so it does not keep that size on disk.

    Costs one ``stat`` when the WAL is small. A reader in another process can hold the checkpoint
    back: then the WAL stays as it is (logged) and a later commit tries again; nothing is lost.
    """
    try:
        size = Path(f"{path}-wal").stat().st_size
    except OSError:
        return
    if size <= limit:
        return
    busy, pages, moved = raw.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
    if busy:
        logger.warning("ledger WAL of %d bytes not truncated: a reader holds it (%s of %s pages"
                       " checkpointed); retried after the next commit", size, moved, pages)


def raw_of(connection: Connection) -> sqlite3.Connection:
    """The sqlite3 connection under a SQLAlchemy one (same transaction): the seals and the
    verifier speak plain DB-API, so a backup file is checked by the same code."""
    return cast(sqlite3.Connection, connection.connection.dbapi_connection)


def _driver_message(exc: BaseException) -> str:
    """The driver's own text of an error, without SQL or parameters."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        return str(exc.orig)
    if isinstance(exc, SQLAlchemyError) and exc.__cause__ is not None:
        return str(exc.__cause__)
    return str(exc).splitlines()[0] if str(exc) else type(exc).__name__


def store_error(exc: BaseException, path: Path | str) -> StoreError:
    """The StoreError (message + hint) for a database error on the ledger at ``path``."""
    text = _driver_message(exc)
    low = text.lower()
    if REFUSED in low:
        return StoreError(
            f"ledger {path}: {text.removeprefix(REFUSED + ': ')}; nothing was written",
            "run `ejournal audit verify` to see which rows, then restore the newest good backup"
            " (`ejournal backup --list`, `ejournal restore PATH`)",
        )
    if "append-only" in low:
        return StoreError(
            f"ledger {path}: the audit log is append-only ({text})",
            "audit events are never changed or deleted; record a new event instead",
        )
    if "locked" in low or "busy" in low:
        return StoreError(
            f"ledger {path} is locked by another process (waited for the busy timeout)",
            "is another ejournal (daemon, sync, restore) running on this ledger? Stop it or retry",
        )
    if "not a database" in low or "malformed" in low or "corrupt" in low:
        return StoreError(
            f"ledger {path} is not a SQLite database or is damaged ({text})",
            "restore the newest good backup: ejournal restore BACKUP (the damaged file is kept)",
        )
    if "unable to open" in low or "readonly" in low or "read-only" in low:
        return StoreError(
            f"cannot open or write the ledger {path} ({text})",
            "check that the folder exists and the service user may write to it",
        )
    if "disk" in low and ("full" in low or "i/o" in low):
        return StoreError(
            f"ledger {path}: disk problem ({text})",
            "free disk space or check the disk; the last committed cycle is intact",
        )
    if "constraint" in low or "unique" in low or "foreign key" in low:
        return StoreError(
            f"ledger {path}: a write broke a consistency rule ({text})",
            "this is a bug in ejournal; the cycle was rolled back — please report it",
        )
    return StoreError(
        f"ledger {path}: database error ({text})", "see the log; the cycle was rolled back"
    )


@contextmanager
def translate(path: Path | str) -> Iterator[None]:
    """Turn SQLAlchemy/sqlite3 errors raised inside into StoreError (the one boundary)."""
    try:
        yield
    except (SQLAlchemyError, sqlite3.Error) as exc:
        error = store_error(exc, path)
        logger.warning("ledger error: %s", error.message)
        raise error from exc
