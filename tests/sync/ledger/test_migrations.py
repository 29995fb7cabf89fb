"""Schema migrations: a fresh ledger, an upgrade that keeps data, a failing migration rolled back,
a ledger newer than the code refused, and a migration list that is not numbered in order."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import Connection, inspect

from rules.errors import StoreError
from sync.ledger import schema as store_schema
from sync.ledger.ledger import Ledger
from sync.ledger.migrations import MIGRATIONS, Migration
from sync.ledger.model import AbsenceInput, Change
from tests.sync.ledger_helpers import JOURNAL, at, cell


def add_comment_column(connection: Connection) -> None:
    """A test-only migration 2: a new column with a backfill, as a real upgrade would do."""
    connection.exec_driver_sql("ALTER TABLE entries ADD COLUMN comment TEXT NOT NULL DEFAULT ''")
    connection.exec_driver_sql("UPDATE entries SET comment = 'до обновления'")


def half_then_fail(connection: Connection) -> None:
    connection.exec_driver_sql("CREATE TABLE half_done (x INTEGER)")
    connection.exec_driver_sql("ALTER TABLE entries ADD COLUMN oops TEXT")
    raise RuntimeError("disk went away in the middle")


LATEST = len(MIGRATIONS)
NEXT = LATEST + 1
UPGRADE = (*MIGRATIONS, Migration(NEXT, "entry comments", add_comment_column))
FAILING = (*MIGRATIONS, Migration(NEXT, "half then fail", half_then_fail))
APPLIED = [(m.number, m.name) for m in MIGRATIONS]


def versions(path: Path) -> list[tuple[int, str]]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(
            "SELECT version, name FROM schema_version ORDER BY version"
        ).fetchall()
    finally:
        connection.close()


def columns(path: Path, table: str) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        return [row[1] for row in connection.execute(f"PRAGMA table_info({table})")]
    finally:
        connection.close()


def tables(path: Path) -> list[str]:
    connection = sqlite3.connect(path)
    try:
        return [
            row[0]
            for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        ]
    finally:
        connection.close()


def test_fresh_ledger_has_exactly_the_declared_schema(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "l.sqlite3", now=at()) as ledger:
        assert ledger.schema_version() == LATEST
        with ledger.engine.connect() as connection:
            found = inspect(connection)
            assert set(found.get_table_names()) == set(store_schema.metadata.tables)
            for name, table in store_schema.metadata.tables.items():
                assert [c["name"] for c in found.get_columns(name)] == [
                    c.name for c in table.columns
                ]
            triggers = (
                connection.exec_driver_sql(
                    "SELECT name FROM sqlite_master WHERE type = 'trigger' ORDER BY name"
                )
                .scalars()
                .all()
            )
    assert triggers == ["audit_no_delete", "audit_no_update"]
    assert versions(tmp_path / "l.sqlite3") == APPLIED


def test_reopening_applies_nothing_twice(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    for _ in range(3):
        Ledger.open(path).close()
    assert versions(path) == APPLIED


def test_upgrade_keeps_the_data(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    with Ledger.open(path) as ledger:
        with ledger.transaction() as tx:
            tx.accept_entries(JOURNAL, [cell("p1", "5"), cell("p2", "н")], at())
            tx.state_set("drive.token", "77", at())
        head = ledger.audit_head()
    with Ledger.open(path, migrations=UPGRADE) as ledger:
        assert ledger.schema_version() == NEXT
        assert ledger.audit_verify().ok and ledger.audit_head() == head
        with ledger.transaction() as tx:
            assert [(e.pupil_id, e.value) for e in tx.entries(JOURNAL)] == [
                ("p1", "5"),
                ("p2", "н"),
            ]
            assert tx.state_get("drive.token") == "77"
            assert tx.accept_entry(JOURNAL, cell("p3", "4"), at(hour=11)) is Change.NEW
            comments = (
                tx._db.exec_driver_sql("SELECT comment FROM entries ORDER BY pupil_id")
                .scalars()
                .all()
            )
    assert comments == ["до обновления", "до обновления", ""]
    assert versions(path) == [*APPLIED, (NEXT, "entry comments")]


def test_failing_migration_is_rolled_back_and_named(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    with Ledger.open(path) as ledger, ledger.transaction() as tx:
        tx.accept_entry(JOURNAL, cell("p1", "5"), at())
    with pytest.raises(StoreError) as caught:
        Ledger.open(path, migrations=FAILING)
    assert f"migration {NEXT:04d} (half then fail) failed and was rolled back" in caught.value.message
    assert "disk went away" in caught.value.message
    assert caught.value.hint is not None and f"schema version {LATEST}" in caught.value.hint
    assert versions(path) == APPLIED
    assert "oops" not in columns(path, "entries")
    assert "half_done" not in tables(path)
    with Ledger.open(path) as ledger, ledger.snapshot() as tx:  # the old code still works
        assert [e.value for e in tx.entries(JOURNAL)] == ["5"]


def test_ledger_newer_than_the_code_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    Ledger.open(path, migrations=UPGRADE).close()
    with pytest.raises(StoreError) as caught:
        Ledger.open(path)
    assert f"schema version {NEXT}, newer than this ejournal knows ({LATEST})" in caught.value.message
    assert caught.value.hint is not None and "upgrade ejournal" in caught.value.hint
    assert versions(path) == [*APPLIED, (NEXT, "entry comments")]  # untouched


def test_a_version_1_ledger_gains_the_absence_tables_and_keeps_its_data(tmp_path: Path) -> None:
    path = tmp_path / "l.sqlite3"
    with Ledger.open(path, migrations=MIGRATIONS[:1]) as ledger:
        with ledger.transaction() as tx:
            tx.accept_entries(JOURNAL, [cell("p1", "5")], at())
        head = ledger.audit_head()
    assert "absence_reasons" not in tables(path)
    with Ledger.open(path) as ledger:
        assert ledger.schema_version() == LATEST and ledger.audit_head() == head
        with ledger.transaction() as tx:
            assert [e.value for e in tx.entries(JOURNAL)] == ["5"]
            tx.accept_absences("7Б", [AbsenceInput("p1", at().date(), "б", "б")], at(hour=11))
            assert [a.reason for a in tx.absences("7Б")] == ["б"]
        assert ledger.audit_verify().ok
    assert columns(path, "absence_reasons") == [
        c.name for c in store_schema.absence_reasons.columns
    ]
    assert versions(path) == APPLIED


@pytest.mark.parametrize("numbers", [(2,), (1, 3), (1, 1)], ids=["starts-at-2", "gap", "repeat"])
def test_migrations_must_be_numbered_in_order(tmp_path: Path, numbers: tuple[int, ...]) -> None:
    bad = tuple(Migration(n, f"m{n}", add_comment_column) for n in numbers)
    with pytest.raises(StoreError, match="numbered 1, 2, 3"):
        Ledger.open(tmp_path / "l.sqlite3", migrations=bad)
