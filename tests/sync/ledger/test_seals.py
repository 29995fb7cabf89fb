"""The audit chain covers the data: every direct SQL edit of a covered table is reported, naming the
table and the row (or the partition and the event that sealed it); the service refuses to build on
an edited row; the seal formula is the documented one; an old ledger is sealed by its migration.

The attacker works as one with file access does: a plain ``sqlite3`` connection (no ejournal
triggers), the audit triggers dropped when the audit table is touched.
"""

from __future__ import annotations

import hashlib
import json
import shutil
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection

from rules.errors import StoreError
from sync.ledger.ledger import Ledger
from sync.ledger.migrations import MIGRATIONS, Migration
from sync.ledger.model import AbsenceInput, CellRef, Field, PeriodMarkInput
from sync.ledger.seals import seal_existing
from tests.sync.ledger_helpers import DAY, JOURNAL, at, build_history, cell

CLASS = "7Б"
PERIOD = "1 четверть"
OPEN_DAY = date(2026, 10, 1)  # a day no history touches: its cells stay open


def build(path: Path) -> None:
    """History in every covered table: lessons, entries, locks, period marks and their lock,
    absence reasons and their locked day, an applied correction, and an open day."""
    with Ledger.open(path) as ledger:
        build_history(ledger, 150)
        with ledger.transaction() as tx:
            marks = [PeriodMarkInput(f"p{i:02d}", PERIOD, "5", "5", "mark") for i in range(4)]
            tx.accept_period_marks(JOURNAL, marks, at(hour=16))
            tx.lock_period(JOURNAL, PERIOD, at(hour=17))
            reasons = [AbsenceInput(f"p{i:02d}", DAY, "б", "б") for i in range(3)]
            tx.accept_absences(CLASS, reasons, at(hour=16))
            tx.lock_absence_days(CLASS, [DAY], at(hour=23))
            target = CellRef(Field.MARK, "p01", DAY, 1)
            tx.record_correction("row-1", JOURNAL, target, "4", "ошибка", "12-к", at(hour=18))
            tx.apply_correction("row-1", at(hour=18), value="4", kind="mark")
        with ledger.transaction() as tx:
            tx.accept_entries(JOURNAL, [cell("p01", "5", day=OPEN_DAY)], at(OPEN_DAY))


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("sealed") / "ledger.sqlite3"
    build(path)
    return path


@pytest.fixture
def path(built: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "ledger.sqlite3"
    shutil.copyfile(built, copy)
    return copy


def edit(path: Path, *statements: tuple[str, tuple[Any, ...]]) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        for sql, params in statements:
            connection.execute(sql, params)
    finally:
        connection.close()


def one(path: Path, sql: str, params: tuple[Any, ...] = ()) -> Any:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql, params).fetchone()
    finally:
        connection.close()


def problems(path: Path) -> tuple[str, ...]:
    with Ledger.open(path) as ledger:
        report = ledger.audit_verify()
    assert report.ok is (not report.problems)
    return report.problems


def seal_of(table: str, values: list[Any]) -> str:
    """The documented row seal, computed here independently."""
    text = json.dumps([table, *values], ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:32]


ENTRY_KEY = "journal = ? AND day = ? AND lesson_no = 1 AND pupil_id = ?"


def test_a_sealed_history_verifies_and_counts_every_covered_row(path: Path) -> None:
    with Ledger.open(path) as ledger:
        result = ledger.verify()
    assert result.report.ok and result.report.problems == ()
    tables = ["lessons", "entries", "period_marks", "period_locks", "absence_reasons",
              "absence_locks"]
    total = sum(one(path, f"SELECT count(*) FROM {name}")[0] for name in tables)
    assert result.rows == total > 100
    assert one(path, "SELECT count(*) FROM period_locks")[0] == 1
    assert one(path, "SELECT count(*) FROM absence_locks")[0] == 1
    assert one(path, "SELECT count(*) FROM entries WHERE seal IS NULL")[0] == 0


def test_the_seal_is_the_documented_formula(path: Path) -> None:
    columns = ("journal, day, lesson_no, pupil_id, raw, value, kind, first_seen, last_changed,"
               " accepted_by, locked_at")
    row = one(path, f"SELECT {columns}, seal FROM entries WHERE {ENTRY_KEY}",
              (JOURNAL, DAY.isoformat(), "p01"))
    assert row[5] == "4" and row[9] == "correction:12-к"  # the correction's value
    assert seal_of("entries", list(row[:-1])) == row[-1]


WHERE_P01 = (JOURNAL, DAY.isoformat(), "p01")
ROW_P01 = f"entries (journal {JOURNAL}, day {DAY.isoformat()}, lesson_no 1, pupil_id p01)"
LESSON = f"lessons (journal {JOURNAL}, day {DAY.isoformat()}, lesson_no 1)"
PMARK = f"period_marks (journal {JOURNAL}, period {PERIOD}, pupil_id p02)"
REASON = f"absence_reasons (class_id {CLASS}, pupil_id p01, day {DAY.isoformat()})"
CHANGED = "the row does not match its seal — changed outside ejournal"

ROW_EDITS = {
    "entry value": (f"UPDATE entries SET value = '2' WHERE {ENTRY_KEY}", WHERE_P01, ROW_P01),
    "entry raw": (f"UPDATE entries SET raw = '2' WHERE {ENTRY_KEY}", WHERE_P01, ROW_P01),
    "entry unlocked": (f"UPDATE entries SET locked_at = NULL WHERE {ENTRY_KEY}", WHERE_P01,
                       ROW_P01),
    "entry signer": (f"UPDATE entries SET accepted_by = 't-petrova' WHERE {ENTRY_KEY}",
                     WHERE_P01, ROW_P01),
    "lesson topic": ("UPDATE lessons SET topic = 'Другая' WHERE journal = ? AND day = ?",
                     (JOURNAL, DAY.isoformat()), LESSON),
    "lesson marks unlocked": (
        "UPDATE lessons SET marks_locked_at = NULL WHERE journal = ? AND day = ?",
        (JOURNAL, DAY.isoformat()), LESSON),
    "lesson info unlocked": (
        "UPDATE lessons SET info_locked_at = NULL WHERE journal = ? AND day = ?",
        (JOURNAL, DAY.isoformat()), LESSON),
    "period mark": ("UPDATE period_marks SET value = '2' WHERE pupil_id = 'p02'", (), PMARK),
    "period mark unlocked": ("UPDATE period_marks SET locked_at = NULL WHERE pupil_id = 'p02'",
                             (), PMARK),
    "period lock moved": ("UPDATE period_locks SET locked_at = '2027-01-01 00:00:00.000000'",
                          (), f"period_locks (journal {JOURNAL}, period {PERIOD})"),
    "absence reason": ("UPDATE absence_reasons SET reason = 'у' WHERE pupil_id = 'p01'", (),
                       REASON),
    "absence unlocked": ("UPDATE absence_reasons SET locked_at = NULL WHERE pupil_id = 'p01'",
                         (), REASON),
    "absence lock moved": ("UPDATE absence_locks SET locked_at = '2027-01-01 00:00:00.000000'",
                           (), f"absence_locks (class_id {CLASS}, day {DAY.isoformat()})"),
}


@pytest.mark.parametrize("attack", sorted(ROW_EDITS))
def test_a_direct_update_is_reported_with_its_row(path: Path, attack: str) -> None:
    sql, params, row = ROW_EDITS[attack]
    assert problems(path) == ()
    edit(path, (sql, params))
    assert problems(path) == (f"{row}: {CHANGED}",)


def sealing_event(path: Path, table: str, part: list[Any]) -> int:
    """The newest data.sealed event that sealed this partition (read independently)."""
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute(
            "SELECT id, payload FROM audit WHERE kind = 'data.sealed' ORDER BY id DESC"
        ).fetchall()
    finally:
        connection.close()
    for event_id, payload in rows:
        if any(r[0] == table and r[1] == part for r in json.loads(payload)["seals"]):
            return int(event_id)
    raise AssertionError(f"no seal of {table} {part}")


def test_a_deleted_row_is_reported_with_its_partition_and_sealing_event(path: Path) -> None:
    part = [JOURNAL, DAY.isoformat()]
    count = one(path, "SELECT count(*) FROM entries WHERE journal = ? AND day = ?", tuple(part))[0]
    event = sealing_event(path, "entries", part)
    edit(path, (f"DELETE FROM entries WHERE {ENTRY_KEY}", WHERE_P01))
    assert problems(path) == (
        f"entries (journal {JOURNAL}, day {DAY.isoformat()}): {count - 1} rows where event"
        f" {event} sealed {count} — 1 deleted outside ejournal",
    )


@pytest.mark.parametrize(
    ("table", "where", "label"),
    [
        ("period_locks", "1", f"period_locks (journal {JOURNAL})"),
        ("absence_locks", "1", f"absence_locks (class_id {CLASS})"),
        ("lessons", f"journal = '{JOURNAL}' AND day = '{DAY.isoformat()}'",
         f"lessons (journal {JOURNAL}, day {DAY.isoformat()})"),
    ],
)
def test_a_partition_deleted_whole_is_reported(path: Path, table: str, where: str,
                                               label: str) -> None:
    count = one(path, f"SELECT count(*) FROM {table} WHERE {where}")[0]
    assert count >= 1
    edit(path, (f"DELETE FROM {table} WHERE {where}", ()))
    (line,) = problems(path)
    assert line.startswith(f"{label}: event ")
    assert line.endswith(f"sealed {count} rows, none is left — deleted outside ejournal")


def test_an_inserted_row_is_reported_with_its_row(path: Path) -> None:
    later = DAY + timedelta(days=1)
    edit(path, ("INSERT INTO entries (journal, day, lesson_no, pupil_id, raw, value, kind,"
                " first_seen, last_changed) VALUES (?, ?, 1, 'p24', '5', '5', 'mark',"
                " '2026-09-09 10:00:00.000000', '2026-09-09 10:00:00.000000')",
                (JOURNAL, later.isoformat())))
    assert problems(path) == (
        f"entries (journal {JOURNAL}, day {later.isoformat()}, lesson_no 1, pupil_id p24):"
        " a row the chain never sealed — inserted outside ejournal",
    )


def test_an_inserted_row_with_a_forged_seal_is_reported_with_its_partition(path: Path) -> None:
    values = [JOURNAL, DAY.isoformat(), 1, "p24", "5", "5", "mark",
              "2026-09-08 10:00:00.000000", "2026-09-08 10:00:00.000000", None, None]
    count = one(path, "SELECT count(*) FROM entries WHERE journal = ? AND day = ?",
                (JOURNAL, DAY.isoformat()))[0]
    event = sealing_event(path, "entries", [JOURNAL, DAY.isoformat()])
    edit(path, ("INSERT INTO entries (journal, day, lesson_no, pupil_id, raw, value, kind,"
                " first_seen, last_changed, accepted_by, locked_at, seal)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (*values, seal_of("entries", values))))
    assert problems(path) == (
        f"entries (journal {JOURNAL}, day {DAY.isoformat()}): {count + 1} rows where event"
        f" {event} sealed {count} — 1 inserted outside ejournal",
    )


def forge_row(path: Path, value: str) -> None:
    """Change p01's mark and recompute its seal, as an attacker who read this module would."""
    columns = ("journal, day, lesson_no, pupil_id, raw, value, kind, first_seen, last_changed,"
               " accepted_by, locked_at")
    row = list(one(path, f"SELECT {columns} FROM entries WHERE {ENTRY_KEY}", WHERE_P01))
    row[4] = row[5] = value
    edit(path, (f"UPDATE entries SET raw = ?, value = ?, seal = ? WHERE {ENTRY_KEY}",
                (value, value, seal_of("entries", row), *WHERE_P01)))


def test_a_row_changed_with_its_seal_is_reported_with_its_partition(path: Path) -> None:
    event = sealing_event(path, "entries", [JOURNAL, DAY.isoformat()])
    forge_row(path, "2")
    assert problems(path) == (
        f"entries (journal {JOURNAL}, day {DAY.isoformat()}): its rows are not the ones event"
        f" {event} sealed — changed together with their seals outside ejournal",
    )


def test_the_service_refuses_to_build_on_an_edited_row(path: Path) -> None:
    edit(path, (f"UPDATE entries SET value = '2' WHERE {ENTRY_KEY}",
                (JOURNAL, OPEN_DAY.isoformat(), "p01")))
    with Ledger.open(path) as ledger:
        head = ledger.audit_head()
        for offer in (
            lambda tx: tx.accept_entries(JOURNAL, [cell("p01", "3", day=OPEN_DAY)], at(OPEN_DAY)),
            lambda tx: tx.lock_day(JOURNAL, OPEN_DAY, at(OPEN_DAY, 23)),
        ):
            with pytest.raises(StoreError) as caught, ledger.transaction() as tx:
                offer(tx)
            assert "a row of entries was changed outside ejournal; nothing was written" in (
                caught.value.message)
            assert caught.value.hint is not None and "audit verify" in caught.value.hint
        assert ledger.audit_head() == head  # rolled back whole
        with ledger.snapshot() as tx:
            (entry,) = tx.entries(JOURNAL, since=OPEN_DAY)
            assert (entry.value, entry.locked_at) == ("2", None)  # the forgery, not laundered


def test_a_forged_partition_stays_reported_after_the_service_writes_on_it(path: Path) -> None:
    """Rows and seals forged consistently, then a legitimate write in the same partition: the
    partition's chained digest no longer continues from the one the chain holds."""
    event = sealing_event(path, "entries", [JOURNAL, DAY.isoformat()])
    forge_row(path, "2")
    with Ledger.open(path) as ledger, ledger.transaction() as tx:
        target = CellRef(Field.MARK, "p02", DAY, 1)
        tx.record_correction("row-2", JOURNAL, target, "3", "ошибка", "13-к", at(hour=19))
        tx.apply_correction("row-2", at(hour=19), value="3", kind="mark")
    later = sealing_event(path, "entries", [JOURNAL, DAY.isoformat()])
    assert later > event
    assert problems(path) == (
        f"event {later}: entries (journal {JOURNAL}, day {DAY.isoformat()}) had changed since"
        f" event {event} sealed it — rows were edited outside ejournal in between",
    )


def test_every_write_path_keeps_the_seals_right(path: Path) -> None:
    """A day of legitimate writes of every kind verifies (no false alarm)."""
    day = OPEN_DAY + timedelta(days=1)
    with Ledger.open(path) as ledger:
        with ledger.transaction() as tx:
            tx.upsert_lessons(JOURNAL, [], at(day))
            tx.accept_entries(JOURNAL, [cell("p03", "5", day=day), cell("p04", "н", day=day)],
                              at(day))
            tx.accept_entries(JOURNAL, [cell("p03", "", day=day)], at(day, 11))  # erased
            tx.accept_absences(CLASS, [AbsenceInput("p03", day, "у", "у")], at(day))
        with ledger.transaction() as tx:
            tx.lock_day(JOURNAL, day, at(day, 23), lesson_nos=[1, 2])
            tx.lock_absence_days(CLASS, [day], at(day, 23))
            tx.accept_period_marks(JOURNAL, [PeriodMarkInput("p09", "2 четверть", "4", "4",
                                                             "mark")], at(day, 23))
        assert ledger.audit_verify().problems == ()


def test_a_schema_2_ledger_is_sealed_by_its_migration(tmp_path: Path) -> None:
    """Rows written before the chain covered the data are sealed as they are (one migration event
    per 1,000 partitions, "before" None); any later edit is caught."""
    path = tmp_path / "old.sqlite3"
    with Ledger.open(path, migrations=MIGRATIONS[:2]) as ledger, ledger.transaction() as tx:
        for n in range(1200):  # 1,200 days: 1,200 entries partitions
            tx.accept_entries(JOURNAL, [cell("p01", "5", day=DAY + timedelta(days=n))], at())
    edit(path, ("INSERT INTO absence_reasons VALUES ('7Б', 'p01', '2026-09-08', 'б', 'б',"
                " '2026-09-08 10:00:00.000000', '2026-09-08 10:00:00.000000', NULL)", ()))
    before = one(path, "SELECT max(id) FROM audit")[0]
    with Ledger.open(path, now=at(hour=20)) as ledger:
        assert ledger.audit_verify().problems == ()
    events = sqlite3.connect(path)
    try:
        sealed = events.execute("SELECT payload FROM audit WHERE id > ? ORDER BY id",
                                (before,)).fetchall()
    finally:
        events.close()
    records = [json.loads(p)["seals"] for (p,) in sealed]
    assert [len(r) for r in records] == [1000, 201]
    assert all(json.loads(p)["migration"] is True for (p,) in sealed)
    assert all(rec[4] is None for batch in records for rec in batch)
    assert sorted(rec[0] for batch in records for rec in batch).count("absence_reasons") == 1
    edit(path, ("UPDATE absence_reasons SET reason = 'у'", ()))
    assert problems(path) == (
        "absence_reasons (class_id 7Б, pupil_id p01, day 2026-09-08): " + CHANGED,
    )


def test_a_later_migration_that_rewrites_rows_reseals_them(path: Path) -> None:
    """A migration's connection has no triggers: one that rewrites covered rows reseals them
    (seal_existing chains each partition from its last digest); one that forgets is caught."""
    def rewrite(connection: Connection, now: datetime) -> None:
        connection.exec_driver_sql("UPDATE entries SET accepted_by = 'import'")
        seal_existing(connection, now)

    def forgetful(connection: Connection) -> None:
        connection.exec_driver_sql("UPDATE entries SET accepted_by = 'import'")

    number = len(MIGRATIONS) + 1
    entries = one(path, "SELECT count(*) FROM entries")[0]
    partitions = one(path, "SELECT count(*) FROM (SELECT DISTINCT journal, day FROM entries)")[0]
    forgot = path.with_name("forgot.sqlite3")
    shutil.copyfile(path, forgot)
    before = one(path, "SELECT max(id) FROM audit")[0]
    upgrade = (*MIGRATIONS, Migration(number, "rewrite", rewrite, timed=True))
    with Ledger.open(path, migrations=upgrade, now=at(hour=22)) as ledger:
        assert ledger.audit_verify().problems == ()
    payloads = [json.loads(p) for (p,) in sqlite3.connect(path).execute(
        "SELECT payload FROM audit WHERE id > ?", (before,))]
    assert [len(p["seals"]) for p in payloads] == [partitions]  # every entries partition
    assert all(record[4] is not None for record in payloads[0]["seals"])  # chained, not anew
    forgetting = (*MIGRATIONS, Migration(number, "forgot", forgetful))
    with Ledger.open(forgot, migrations=forgetting) as ledger:
        found = ledger.audit_verify().problems
    assert entries > 100  # so the listing is cut: 100 rows named, the rest counted
    assert len(found) == 101 and all(CHANGED in line for line in found[:100])
    assert found[100] == f"… and {entries - 100} more problems"
