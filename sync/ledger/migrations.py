"""Numbered schema migrations of the ledger, recorded in ``schema_version``.

Each :class:`Migration` is a number, a name and a function of a connection. :func:`migrate` applies
the pending ones in order, each in its own transaction together with its ``schema_version`` row, so a
failure rolls back that migration alone (SQLite DDL is transactional) and raises a StoreError naming
it; earlier migrations stay applied. A database whose version is newer than the code is refused.

Migration 1 creates the schema as declared in ``sync.ledger.schema`` plus the audit triggers, minus
the tables later migrations add (:data:`LATER_TABLES`). When a later migration changes a table,
freeze that table's version-1 definition into migration 1 first (``test_migrations`` checks that a
fresh database ends with exactly the declared schema). Migration 2 adds the class teacher's
absence reasons and the locked attendance days; migration 3 the late entries
(``sync.ledger.late``). Migration 4 adds the ``seal`` column to every table the audit chain covers
and seals the rows as they are (``sync.ledger.seals``: events written before it cannot re-prove
them); migrations 1 and 2 create those tables without it (:data:`LATER_COLUMNS`),
so a fresh ledger takes the same steps as an old one. Migration 5 adds the weekly analyses'
remarks and the outbox of report deliveries; migration 6 what was written to each diary and
the class pages' register of parents. A ``timed`` migration is also given ``now``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, Index, MetaData, Table, insert, inspect, select
from sqlalchemy.exc import SQLAlchemyError

from rules.errors import StoreError
from sync.ledger import schema as t
from sync.ledger.db import BEGIN_OPTION, store_error
from sync.ledger.seals import COVERED, seal_existing

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Migration:
    number: int
    name: str
    apply: Callable[..., None]  # (connection), or (connection, now) when ``timed``
    timed: bool = False

    def __str__(self) -> str:
        return f"migration {self.number:04d} ({self.name})"


AUDIT_TRIGGERS_SQLITE = (
    """CREATE TRIGGER audit_no_update BEFORE UPDATE ON audit
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only: UPDATE refused'); END""",
    """CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit
       BEGIN SELECT RAISE(ABORT, 'audit log is append-only: DELETE refused'); END""",
)


def _create_schema(connection: Connection) -> None:
    """Version 1: every table of ``schema`` and the append-only triggers on ``audit``."""
    if connection.dialect.name != "sqlite":
        raise StoreError(
            f"the audit triggers are written for SQLite only, not {connection.dialect.name}",
            "PostgreSQL support (DESIGN.md §8) needs its own trigger DDL in migration 1",
        )
    later = {table.name for table in LATER_TABLES}
    tables = [
        table
        for table in t.metadata.sorted_tables
        if table is not t.schema_version and table.name not in later
    ]
    _create(connection, tables)
    for statement in AUDIT_TRIGGERS_SQLITE:
        connection.exec_driver_sql(statement)


def _absence_reasons(connection: Connection) -> None:
    """Version 2: absence reasons from the class spreadsheets, and their locked days."""
    _create(connection, [t.absence_reasons, t.absence_locks])


def _data_seals(connection: Connection, now: datetime) -> None:
    """Version 4: a ``seal`` on every covered row; the rows as they are sealed into the chain."""
    for covered in COVERED:
        connection.exec_driver_sql(f"ALTER TABLE {covered.name} ADD COLUMN seal VARCHAR(32)")
    partitions = seal_existing(connection, now)
    logger.info("ledger rows sealed into the audit chain: %d partitions", partitions)


def _late_entries(connection: Connection) -> None:
    """Version 3: values typed into a closed cell that no read could prove in time."""
    t.metadata.create_all(connection, tables=[t.late_entries])


LATER_TABLES = (  # created by migrations after 1
    t.absence_reasons, t.absence_locks, t.late_entries, t.remarks, t.report_deliveries,
    t.diaries, t.contacts,
)
LATER_COLUMNS = {c.name: ("seal",) for c in COVERED}  # added to these tables by migration 4


def _create(connection: Connection, tables: list[Table]) -> None:
    """Create ``tables`` as declared, minus the columns later migrations add to them."""
    plain = [table for table in tables if table.name not in LATER_COLUMNS]
    t.metadata.create_all(connection, tables=plain)
    earlier = MetaData()
    for table in tables:
        if table.name in LATER_COLUMNS:
            _without(table, LATER_COLUMNS[table.name], earlier).create(connection)


def _without(table: Table, names: tuple[str, ...], metadata: MetaData) -> Table:
    """A copy of ``table`` without the columns ``names`` (no foreign keys: covered tables have none)."""
    columns: list[Any] = [c._copy() for c in table.columns if c.name not in names]
    indexes = [Index(ix.name, *(c.name for c in ix.columns)) for ix in table.indexes]
    return Table(table.name, metadata, *columns, *indexes)

def _reports(connection: Connection) -> None:
    """Version 5: the weekly analyses' remarks and the outbox of report deliveries."""
    t.metadata.create_all(connection, tables=[t.remarks, t.report_deliveries])


def _diaries(connection: Connection) -> None:
    """Version 6: what the service last wrote to each pupil's diary, and who may read it."""
    t.metadata.create_all(connection, tables=[t.diaries, t.contacts])



MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "initial schema", _create_schema),
    Migration(2, "absence reasons", _absence_reasons),
    Migration(3, "late entries", _late_entries),
    Migration(4, "data seals", _data_seals, timed=True),
    Migration(5, "report remarks and deliveries", _reports),
    Migration(6, "diaries and contacts", _diaries),
)


def current_version(connection: Connection) -> int:
    """The highest applied migration number (0 for an empty database)."""
    if not inspect(connection).has_table(t.schema_version.name):
        return 0
    version = connection.execute(
        select(t.schema_version.c.version).order_by(t.schema_version.c.version.desc()).limit(1)
    ).scalar()
    return int(version or 0)


def _check(migrations: Sequence[Migration]) -> None:
    numbers = [m.number for m in migrations]
    if numbers != list(range(1, len(numbers) + 1)):
        raise StoreError(
            f"migrations must be numbered 1, 2, 3, … in order; got {numbers}",
            "this is a bug in ejournal's migration list",
        )


def migrate(
    engine: Engine, now: datetime, migrations: Sequence[Migration] = MIGRATIONS, *, where: str = ""
) -> int:
    """Apply pending migrations in order, each in its own transaction; return the final version."""
    _check(migrations)
    where = where or str(engine.url.database)
    try:  # a read transaction: opening a current ledger never waits for the writer
        with engine.connect() as connection:
            connection.execution_options(**{BEGIN_OPTION: "DEFERRED"})
            with connection.begin():
                version = current_version(connection)
    except SQLAlchemyError as exc:
        raise store_error(exc, where) from exc
    known = len(migrations)
    if version > known:
        raise StoreError(
            f"ledger {where} has schema version {version}, newer than this ejournal knows ({known})",
            "it was written by a newer ejournal: upgrade ejournal, or restore a backup made by this"
            " version",
        )
    for migration in migrations[version:]:
        try:
            with engine.begin() as connection:
                t.schema_version.create(connection, checkfirst=True)
                if current_version(connection) >= migration.number:
                    continue  # another process applied it meanwhile
                if migration.timed:
                    migration.apply(connection, now)
                else:
                    migration.apply(connection)
                connection.execute(
                    insert(t.schema_version).values(
                        version=migration.number, name=migration.name, applied_at=now
                    )
                )
        except Exception as exc:
            cause = exc.message if isinstance(exc, StoreError) else str(store_error(exc, where))
            raise StoreError(
                f"ledger {where}: {migration} failed and was rolled back: {cause}",
                f"the ledger stays at schema version {migration.number - 1}; fix the cause and"
                " start again (a backup is the safe way back)",
            ) from exc
        logger.info("ledger %s: applied %s", where, migration)
        version = migration.number
    return version
