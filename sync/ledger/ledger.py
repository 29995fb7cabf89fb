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
``locks``, ``findings`` (findings, violations), ``late`` (late entries), ``corrections`` and
``absences`` (the class teacher's absence reasons), ``reports`` (weekly remarks, the delivery
outbox), ``diaries`` (what was written to each pupil's diary), ``contacts`` (the class pages'
register of parents), all on top of
``audit.AuditLog``; ``seals`` reseals the rows a transaction changed just before it commits, so the
chain covers the data. Opened with an ``anchor`` path, the ledger refuses a write transaction while
its chain does not extend the anchored head and re-anchors after every commit, but never re-makes an
anchor it wrote once that is gone (``anchor_lost``; ``sync.ledger.anchor``).
The database file and its ``-wal``/``-shm`` are created 0600.
Every time-dependent method takes ``now`` (tz-aware): the engine owns the clock.
"""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType

from sqlalchemy import Connection, Engine

from rules.errors import StoreError
from sync.ledger import anchor as anchors
from sync.ledger import audit, seals
from sync.ledger.absences import AbsencesPart
from sync.ledger.contacts import ContactsPart
from sync.ledger.corrections import CorrectionsPart
from sync.ledger.db import BEGIN_OPTION, WAL_LIMIT, keep_wal_small, make_engine, raw_of, translate
from sync.ledger.diaries import DiariesPart
from sync.ledger.files import AclPart, FilesPart, RunsPart
from sync.ledger.findings import FindingsPart, ViolationsPart
from sync.ledger.late import LateEntriesPart
from sync.ledger.locks import LocksPart
from sync.ledger.migrations import MIGRATIONS, Migration, current_version, migrate
from sync.ledger.reports import DeliveriesPart, RemarksPart, ReportReadsPart
from sync.ledger.state import ANCHORED_KEY, get_state, put_state
from sync.ledger.verify import Verified, verify_database

logger = logging.getLogger(__name__)

DEFAULT_BUSY_TIMEOUT = 10.0  # seconds a transaction waits for another writer before giving up


class Tx(
    seals.SealsPart,
    FilesPart,
    AclPart,
    RunsPart,
    LocksPart,
    FindingsPart,
    ViolationsPart,
    LateEntriesPart,
    CorrectionsPart,
    AbsencesPart,
    RemarksPart,
    ReportReadsPart,
    DeliveriesPart,
    DiariesPart,
    ContactsPart,
):
    """One unit of work on the ledger; valid only inside its ``with`` block."""

    def __init__(self, connection: Connection, *, sealed: bool = False) -> None:
        super().__init__(connection, sealed=sealed)
        self._after: list[Callable[[], None]] = []

    def after_commit(self, action: Callable[[], None]) -> None:
        """Run ``action`` once this transaction has committed (never after a rollback): for what
        the process keeps in memory about the ledger's state, which must not run ahead of it."""
        self._after.append(action)


class Ledger:
    """An open ledger file. Not shared between threads; one writer transaction at a time."""

    def __init__(
        self, path: Path, engine: Engine, *, sealed: bool = False, anchor: Path | None = None
    ) -> None:
        self.path = path
        self.anchor = anchor  # where the chain head is anchored (None: not anchored)
        self.anchor_lost: str | None = None  # the anchor it wrote is gone: not re-made (why)
        self._engine: Engine | None = engine
        self._active = False
        self._sealed = sealed  # the schema has the seal columns (migration "data seals")
        self.wal_limit = WAL_LIMIT  # the WAL is truncated after a commit that grew it above

    @classmethod
    def open(
        cls,
        path: Path | str,
        *,
        busy_timeout: float = DEFAULT_BUSY_TIMEOUT,
        migrations: Sequence[Migration] = MIGRATIONS,
        now: datetime | None = None,
        anchor: Path | None = None,
        make_anchor: bool = True,
    ) -> Ledger:
        """Open (creating folder and file if needed) and migrate the ledger at ``path``.

        ``now`` stamps applied migrations (the service clock if omitted: schema bookkeeping only).
        ``anchor``: the file the chain head is anchored in (see the module); written now if missing
        unless ``make_anchor`` is False (``audit verify`` reports it missing instead).
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
        refuse_empty(path)
        anchors.create_private(path)
        anchors.make_private(path)
        engine = make_engine(path, busy_timeout, seals.register_functions)
        try:
            version = migrate(engine, now or datetime.now(UTC), migrations, where=str(path))
            with translate(path), engine.connect() as connection:
                sealed = seals.has_seals(raw_of(connection))
            ledger = cls(path, engine, sealed=sealed, anchor=anchor)
            if make_anchor:
                ledger.anchor_if_missing(now)
        except BaseException:
            engine.dispose()
            raise
        logger.info("ledger %s open at schema version %d", path, version)
        return ledger

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
        after: list[Callable[[], None]] = []
        tx: Tx | None = None
        mark: anchors.Mark | None = None
        try:
            with translate(self.path), self.engine.connect() as connection:
                connection.execution_options(**{BEGIN_OPTION: begin})
                raw = raw_of(connection)
                if commit and self._sealed and not connection.info.get("sealing"):
                    seals.install(raw)
                    connection.info["sealing"] = True
                with connection.begin() as db_tx:
                    lost = self._guard(raw, connection) if commit else None
                    tx = Tx(connection, sealed=self._sealed and commit)
                    yield tx
                    if commit:
                        tx._flush()
                        mark = anchors.head_mark(raw) if tx._appended and not lost else None
                        if mark is not None and self.anchor is not None:
                            put_state(connection, ANCHORED_KEY, anchors.record(self.anchor, mark),
                                      tx._now or datetime.now(UTC))
                    else:
                        db_tx.rollback()
                if commit:
                    keep_wal_small(raw, self.path, self.wal_limit)
            if mark is not None and self.anchor is not None:
                self._write_anchor(mark, tx._now if tx is not None else None)
            after = tx._after if commit and tx is not None else []
        finally:
            if tx is not None:
                tx._end()
            self._active = False
        for action in after:  # committed: the ledger is free again for what they do
            action()

    def _guard(self, raw: sqlite3.Connection, connection: Connection) -> str | None:
        """Refuse to write on a chain that does not extend the anchored head; an anchor gone after
        the ledger wrote it is returned (the work goes on, the anchor is not re-made)."""
        if self.anchor is None:
            return None
        mark = anchors.read_mark(self.anchor)
        if mark is None:
            return self._lost(connection)
        trouble = anchors.problem(raw, mark, f"anchored in {self.anchor}") if mark else None
        if trouble:
            raise StoreError(
                f"ledger {self.path}: {trouble}; nothing was written",
                "run `ejournal audit verify`, then restore the newest good backup (`ejournal"
                " restore PATH` re-anchors); if the ledger was replaced on purpose by hand, delete"
                f" {self.anchor} and run `ejournal audit verify --reanchor`",
            )
        return None

    def _lost(self, connection: Connection) -> str | None:
        """Why the missing anchor file may not be re-made (the ledger recorded writing it), or
        None (a ledger that never wrote one); logged once per open ledger."""
        assert self.anchor is not None
        recorded = get_state(connection, ANCHORED_KEY)
        lost = anchors.lost(self.anchor, recorded) if recorded else None
        if lost and lost != self.anchor_lost:
            logger.error("ledger %s: %s; run `ejournal audit verify --reanchor`", self.path, lost)
        self.anchor_lost = lost
        return lost

    def _write_anchor(self, mark: anchors.Mark, now: datetime | None) -> None:
        """After a commit: the anchor follows the head (a failure is logged, the data is safe)."""
        assert self.anchor is not None
        try:
            current = anchors.read_mark(self.anchor)
            if current is None or current.event <= mark.event:
                anchors.write_mark(self.anchor, mark, now)
        except StoreError as exc:
            logger.error("ledger %s: the audit anchor was not updated: %s", self.path, exc.message)

    def anchor_if_missing(self, now: datetime | None, *, deliberate: bool = False) -> None:
        """Anchor the current head when the anchor file is missing: a ledger's first anchor, or
        any when ``deliberate`` (``audit verify --reanchor``); never one the ledger wrote before."""
        if self.anchor is None or anchors.read_mark(self.anchor) is not None:
            return
        with self.snapshot() as tx:
            mark = anchors.head_mark(raw_of(tx._db))
            lost = None if deliberate else self._lost(tx._db)
        if mark is not None and lost is None:
            self.anchor_lost = None
            logger.warning(
                "ledger %s: no audit anchor at %s; anchoring the current head (event %d)",
                self.path, self.anchor, mark.event,
            )
            anchors.write_mark(self.anchor, mark, now)

    def anchor_check(self) -> tuple[anchors.Mark | None, str | None]:
        """The anchored head and why the chain does not extend it (None, None: no anchor)."""
        if self.anchor is None:
            return None, None
        mark = anchors.read_mark(self.anchor)
        if mark is None:
            with self.snapshot() as tx:
                return None, self._lost(tx._db)
        with self.snapshot() as tx:
            return mark, anchors.problem(raw_of(tx._db), mark, f"anchored in {self.anchor}")

    def audit_verify(self) -> audit.AuditReport:
        """Check the chain, the data against it and the anchor (streamed, read snapshot);
        ``ok`` False: ``problems`` names each bad event, row or partition."""
        return self.verify().report

    def verify(self) -> Verified:
        """:meth:`audit_verify` with the number of rows checked."""
        with self.snapshot() as tx:
            result = verify_database(raw_of(tx._db), self.anchor)
        report = result.report
        if report.ok:
            logger.info(
                "ledger %s: audit chain ok, %d events, %d rows checked against it",
                self.path, report.events, result.rows,
            )
        else:
            logger.warning(
                "ledger %s: audit failed, %d problems, first: %s",
                self.path, len(report.problems), report.problem,
            )
        return result

    def audit_head(self) -> str:
        """Hash of the newest audit event (for the quarter print-out)."""
        with self.snapshot() as tx:
            return tx.audit_head()

    def audit_events(self) -> int:
        """The id of the newest audit event (0 for an empty log)."""
        with self.snapshot() as tx:
            mark = anchors.head_mark(raw_of(tx._db))
        return mark.event if mark else 0

    def schema_version(self) -> int:
        """The applied schema version."""
        with translate(self.path), self.engine.connect() as connection:
            return current_version(connection)


def refuse_empty(path: Path) -> None:
    """Only a missing ledger is a new one: an existing empty file (truncated, or copied wrong) is
    refused, never taken for a new school (whose setup would re-create every spreadsheet)."""
    try:
        empty = path.stat().st_size == 0
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StoreError(f"cannot read the ledger {path} ({exc.strerror})",
                         "check [ledger] path in school.toml and the service user's permissions"
                         ) from exc
    if empty:
        raise StoreError(
            f"ledger {path} is empty (0 bytes): a damaged ledger, not a new one",
            "restore the newest good backup: `ejournal backup --list`, then `ejournal restore "
            "BACKUP` (the empty file is kept); only if this school never had a ledger (its first "
            "setup was interrupted), delete the empty file and run `ejournal setup` again",
        )
