"""The ledger: the school's master copy of its journals (152-ФЗ: it stays on the school's server).

Google Sheets (or the xlsx folder) is only the surface; everything accepted lives here, with an
append-only hash-chained audit log (``sync.ledger.audit``). SQLAlchemy Core on SQLite in WAL mode; the
queries are portable so PostgreSQL can follow (DESIGN.md §8).

Usage — one sync cycle is one unit of work, committed once after its reads::

    with Ledger.open(school.ledger_path) as ledger:
        with ledger.transaction() as tx:
            changes = tx.accept_entries("7Б/math", cells, now)
            tx.sync_findings("7Б/math", findings, now)
        # committed here; an exception inside rolled the whole cycle back

The transaction object :class:`Tx` carries every domain method, grouped by concept in
``files`` (registry, state, ACL, runs), ``entries`` (lessons, entries, period marks),
``locks``, ``findings`` (findings, violations), ``corrections`` and
``absences`` (the class teacher's absence reasons), ``diaries`` (what was written to each
pupil's diary), ``contacts`` (the class pages' register of parents), all on top of
``audit.AuditLog``.
Every time-dependent method takes ``now`` (tz-aware): the engine owns the clock.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from sqlalchemy import Connection, Engine

from rules.errors import StoreError
from sync.ledger import audit
from sync.ledger.absences import AbsencesPart
from sync.ledger.contacts import ContactsPart
from sync.ledger.corrections import CorrectionsPart
from sync.ledger.db import BEGIN_OPTION, make_engine, translate
from sync.ledger.diaries import DiariesPart
from sync.ledger.files import AclPart, FilesPart, RunsPart
from sync.ledger.findings import FindingsPart, ViolationsPart
from sync.ledger.locks import LocksPart
from sync.ledger.migrations import MIGRATIONS, Migration, current_version, migrate

logger = logging.getLogger(__name__)

DEFAULT_BUSY_TIMEOUT = 10.0  # seconds a transaction waits for another writer before giving up


class Tx(
    FilesPart,
    AclPart,
    RunsPart,
    LocksPart,
    FindingsPart,
    ViolationsPart,
    CorrectionsPart,
    AbsencesPart,
    DiariesPart,
    ContactsPart,
):
    """One unit of work on the ledger; valid only inside its ``with`` block."""

    def __init__(self, connection: Connection) -> None:
        super().__init__(connection)


class Ledger:
    """An open ledger file. Not shared between threads; one writer transaction at a time."""

    def __init__(self, path: Path, engine: Engine) -> None:
        self.path = path
        self._engine: Engine | None = engine
        self._active = False

    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        migrations: Sequence[Migration] = MIGRATIONS,
        now: datetime | None = None,
    ) -> Ledger:
        """Open (creating folder and file if needed) and migrate the ledger at ``path``.

        ``now`` stamps applied migrations (the service clock if omitted: schema bookkeeping only).
        """
        path = Path(path)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise StoreError(
                f"cannot create the ledger folder {path.parent} ({exc.strerror})",
                "check [ledger] path in school.toml and the service user's permissions",
            ) from exc
        if path.is_dir():
            raise StoreError(
                f"ledger path {path} is a folder", "point [ledger] path at a file name"
            )
        engine = make_engine(path, busy_timeout)
        try:
            version = migrate(engine, now or datetime.now(UTC), migrations, where=str(path))
        except BaseException:
            engine.dispose()
            raise
        logger.info("ledger %s open at schema version %d", path, version)
        return cls(path, engine)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            raise StoreError(f"ledger {self.path} is closed", "open it again with Ledger.open()")
        return self._engine

    def close(self) -> None:
        """Release the database (idempotent)."""
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None

    def __enter__(self) -> Ledger:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[Tx]:
        """A write unit of work: commits at the end of the block, rolls back on any exception."""
        with self._unit("IMMEDIATE", commit=True) as tx:
            yield tx

    @contextmanager
    def snapshot(self) -> Iterator[Tx]:
        """A read-only consistent view (reports, rendering) that never blocks the writer."""
        with self._unit("DEFERRED", commit=False) as tx:
            yield tx

    @contextmanager
    def _unit(self, begin: str, *, commit: bool) -> Iterator[Tx]:
        if self._active:
            raise StoreError(
                "a ledger transaction is already open on this Ledger",
                "finish the current 'with ledger.transaction()' block first (no nesting)",
            )
        self._active = True
        tx: Tx | None = None
        try:
            with translate(self.path), self.engine.connect() as connection:
                connection.execution_options(**{BEGIN_OPTION: begin})
                with connection.begin() as db_tx:
                    tx = Tx(connection)
                    yield tx
                    if commit:
                        tx._flush()
                    else:
                        db_tx.rollback()
        finally:
            if tx is not None:
                tx._end()
            self._active = False

    def audit_verify(self) -> audit.AuditReport:
        """Re-walk the whole audit chain (streamed); ``ok`` False names the first bad event."""
        with self.snapshot() as tx:
            report = audit.verify(tx._db)
        if report.ok:
            logger.info("ledger %s: audit chain ok, %d events", self.path, report.events)
        else:
            logger.warning("ledger %s: audit chain broken: %s", self.path, report.problem)
        return report

    def audit_head(self) -> str:
        """Hash of the newest audit event (for the quarter print-out)."""
        with self.snapshot() as tx:
            return tx.audit_head()

    def schema_version(self) -> int:
        """The applied schema version."""
        with translate(self.path), self.engine.connect() as connection:
            return current_version(connection)
