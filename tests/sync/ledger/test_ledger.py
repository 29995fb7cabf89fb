"""The ledger on a real SQLite file: units of work, entries, lessons, locks, findings, violations,
corrections, the registry, state, ACL, runs, and the errors a sysadmin sees."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from rules.errors import StoreError
from rules.model import Finding, Location, Severity
from sync.backends.protocol import Grant, Role
from sync.ledger.ledger import Ledger
from sync.ledger.migrations import MIGRATIONS
from sync.ledger.model import (
    INVALID_KIND,
    CellRef,
    Change,
    CorrectionStatus,
    Field,
    FileKind,
    FileStatus,
    LockCounts,
    PeriodMarkInput,
)
from tests.sync.ledger_helpers import DAY, JOURNAL, at, cell, lesson

NEXT_DAY = DAY + timedelta(days=1)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(tmp_path / "var" / "ledger.sqlite3") as opened:
        yield opened


def audit_kinds(ledger: Ledger) -> list[str]:
    with sqlite3.connect(ledger.path) as raw:
        query = "SELECT kind FROM audit WHERE kind != 'data.sealed' ORDER BY id"  # see test_seals
        rows = raw.execute(query).fetchall()
    raw.close()
    return [kind for (kind,) in rows]


# --------------------------------------------------------------------------- opening


def test_open_creates_folder_and_sets_wal_and_foreign_keys(tmp_path: Path) -> None:
    path = tmp_path / "a" / "b" / "ledger.sqlite3"
    with Ledger.open(path) as ledger:
        assert path.is_file()
        with ledger.engine.connect() as connection:
            assert connection.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
            assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert connection.exec_driver_sql("PRAGMA busy_timeout").scalar() == 10000
        assert ledger.schema_version() == len(MIGRATIONS)


def test_closed_ledger_refuses_work(tmp_path: Path) -> None:
    ledger = Ledger.open(tmp_path / "l.sqlite3")
    ledger.close()
    ledger.close()  # idempotent
    with pytest.raises(StoreError, match="closed"), ledger.transaction():
        pass


def test_corrupt_file_gives_store_error_with_hint(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    path.write_bytes(b"this is not a database, it is a shopping list\n" * 200)
    with pytest.raises(StoreError) as caught:
        Ledger.open(path)
    assert "not a SQLite database or is damaged" in caught.value.message
    assert caught.value.hint is not None and "ejournal restore" in caught.value.hint
    assert "Traceback" not in str(caught.value) and "SELECT" not in str(caught.value)
    assert path.read_bytes().startswith(b"this is not a database")  # nothing lost


def test_folder_as_ledger_path_is_refused(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a folder"):
        Ledger.open(tmp_path)


def test_locked_database_after_busy_timeout(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    Ledger.open(path).close()
    other = sqlite3.connect(path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")  # another process holds the write lock
        with Ledger.open(path, busy_timeout=0.2) as ledger:
            with pytest.raises(StoreError) as caught, ledger.transaction() as tx:
                tx.state_set("k", "v", at())
            assert "locked by another process" in caught.value.message
            assert caught.value.hint is not None
            other.execute("ROLLBACK")
            with ledger.transaction() as tx:  # free again: works
                tx.state_set("k", "v", at())
    finally:
        other.close()


def test_naive_datetime_is_refused(ledger: Ledger) -> None:
    with pytest.raises(StoreError, match="naive datetime"), ledger.transaction() as tx:
        tx.accept_entry(JOURNAL, cell("p1", "5"), datetime(2026, 9, 8, 10))  # noqa: DTZ001


# --------------------------------------------------------------------------- units of work


def test_exception_rolls_back_the_whole_cycle(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        tx.accept_entries(JOURNAL, [cell("p1", "5"), cell("p2", "4")], at())
        tx.state_set("drive.token", "100", at())
    head = ledger.audit_head()

    class Crash(Exception):
        pass

    with pytest.raises(Crash), ledger.transaction() as tx:
        tx.accept_entries(JOURNAL, [cell("p1", "3"), cell("p3", "5")], at(hour=11))
        tx.upsert_lesson(JOURNAL, lesson(topic="Дроби"), at(hour=11))
        tx.state_set("drive.token", "200", at(hour=11))
        tx.lock_day(JOURNAL, DAY, at(hour=11))
        raise Crash

    assert ledger.audit_head() == head
    assert ledger.audit_verify().ok
    with ledger.snapshot() as tx:
        assert [(e.pupil_id, e.value) for e in tx.entries(JOURNAL)] == [("p1", "5"), ("p2", "4")]
        assert tx.lessons(JOURNAL) == []
        assert tx.state_get("drive.token") == "100"
        assert tx.locked_value(JOURNAL, "p1", DAY, 1) is None


def test_after_commit_runs_once_committed_and_never_after_a_rollback(ledger: Ledger) -> None:
    seen: list[str | None] = []

    def look() -> None:  # runs outside the transaction: a fresh snapshot sees the commit
        with ledger.snapshot() as tx:
            seen.append(tx.state_get("drive.token"))

    with ledger.transaction() as tx:
        tx.state_set("drive.token", "100", at())
        tx.after_commit(look)
        assert seen == []
    assert seen == ["100"]

    class Crash(Exception):
        pass

    with pytest.raises(Crash), ledger.transaction() as tx:
        tx.state_set("drive.token", "200", at(hour=11))
        tx.after_commit(look)
        raise Crash
    assert seen == ["100"]


def test_transaction_object_is_dead_after_its_block(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        tx.state_set("a", "1", at())
    with pytest.raises(StoreError, match="used after it ended"):
        tx.state_get("a")


def test_transactions_do_not_nest(ledger: Ledger) -> None:
    with (
        ledger.transaction(),
        pytest.raises(StoreError, match="already open"),
        ledger.transaction(),
    ):
        pass


def test_snapshot_sees_committed_state_and_keeps_nothing(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        tx.state_set("a", "1", at())
    with ledger.snapshot() as tx:
        assert tx.state_get("a") == "1"
        tx.state_set("a", "2", at())  # a snapshot is rolled back at its end
    with ledger.snapshot() as tx:
        assert tx.state_get("a") == "1"


def test_duplicate_cell_in_one_batch_is_refused(ledger: Ledger) -> None:
    with pytest.raises(StoreError, match="offered twice"), ledger.transaction() as tx:
        tx.accept_entries(JOURNAL, [cell("p1", "5"), cell("p1", "4")], at())


# --------------------------------------------------------------------------- entries


def test_accept_new_changed_unchanged_keeps_first_seen(ledger: Ledger) -> None:
    first, second, third = at(hour=9), at(hour=10), at(hour=11)
    with ledger.transaction() as tx:
        assert tx.accept_entry(JOURNAL, cell("p1", "5"), first, accepted_by="t1") is Change.NEW
    with ledger.transaction() as tx:
        assert tx.accept_entry(JOURNAL, cell("p1", "5", raw=" 5 "), second) is Change.UNCHANGED
        assert tx.accept_entry(JOURNAL, cell("p1", "4"), second, accepted_by="t2") is Change.CHANGED
    with ledger.transaction() as tx:
        assert tx.accept_entry(JOURNAL, cell("p1", "4"), third) is Change.UNCHANGED
        (entry,) = tx.entries(JOURNAL)
    assert (entry.value, entry.raw, entry.kind, entry.accepted_by) == ("4", "4", "mark", "t2")
    assert entry.first_seen == first and entry.last_changed == second
    assert entry.first_seen.tzinfo is not None and entry.locked_at is None
    assert audit_kinds(ledger) == ["entry.accepted", "entry.changed"]


def test_batch_returns_one_change_per_cell_in_order(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        tx.accept_entries(JOURNAL, [cell("p1", "5"), cell("p2", "н")], at())
        changes = tx.accept_entries(
            JOURNAL,
            [cell("p3", "3"), cell("p1", "5"), cell("p2", "4"), cell("p4", "")],
            at(hour=11),
        )
    assert changes == [Change.NEW, Change.UNCHANGED, Change.CHANGED, Change.UNCHANGED]


def test_erased_cell_is_a_change_and_hidden_from_rendering(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        tx.accept_entry(JOURNAL, cell("p1", "5"), at())
        assert tx.accept_entry(JOURNAL, cell("p1", ""), at(hour=11)) is Change.CHANGED
        assert tx.entries(JOURNAL) == []
        (erased,) = tx.entries(JOURNAL, include_empty=True)
    assert (erased.value, erased.kind) == ("", "empty")
    assert audit_kinds(ledger) == ["entry.accepted", "entry.changed"]


def test_entries_by_date_range_and_by_pupil(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        tx.accept_entries(JOURNAL, [cell("p1", "5"), cell("p2", "4")], at())
        tx.accept_entries(JOURNAL, [cell("p1", "3", day=NEXT_DAY)], at(NEXT_DAY))
        tx.accept_entries("7Б/rus", [cell("p1", "н")], at())
        assert [e.day for e in tx.entries(JOURNAL, since=NEXT_DAY)] == [NEXT_DAY]
        assert [e.pupil_id for e in tx.entries(JOURNAL, until=DAY)] == ["p1", "p2"]
        mine = tx.pupil_entries("p1")
    assert [(e.journal, e.day, e.value) for e in mine] == [
        ("7Б/math", DAY, "5"),
        ("7Б/rus", DAY, "н"),
        ("7Б/math", NEXT_DAY, "3"),
    ]


# --------------------------------------------------------------------------- lessons and locks


def test_lesson_facts_new_changed_unchanged_with_audited_diff(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        assert tx.upsert_lesson(JOURNAL, lesson(topic="Дроби"), at()) is Change.NEW
        assert tx.upsert_lesson(JOURNAL, lesson(topic="Дроби"), at()) is Change.UNCHANGED
        changed = lesson(topic="Дроби", homework="№ 12")
        assert tx.upsert_lesson(JOURNAL, changed, at(hour=12)) is Change.CHANGED
        (record,) = tx.lessons(JOURNAL)
    assert record.facts == changed
    assert (record.first_seen, record.last_changed) == (at(), at(hour=12))
    with sqlite3.connect(ledger.path) as raw:
        last = "SELECT payload FROM audit WHERE kind != 'data.sealed' ORDER BY id DESC LIMIT 1"
        payload = raw.execute(last).fetchone()[0]
    raw.close()
    assert '"new":{"homework":"№ 12"}' in payload and '"old":{"homework":""}' in payload


def test_lock_day_freezes_marks_and_lesson_facts(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        tx.upsert_lesson(JOURNAL, lesson(topic="Дроби"), at())
        tx.accept_entries(JOURNAL, [cell("p1", "5"), cell("p2", "н")], at())
        counts = tx.lock_day(JOURNAL, DAY, at(hour=23, minute=59), lesson_nos=[1, 2])
    assert counts == LockCounts(lessons=2, entries=2)
    with ledger.transaction() as tx:
        assert tx.accept_entry(JOURNAL, cell("p1", "3"), at(NEXT_DAY)) is Change.LOCKED
        assert tx.accept_entry(JOURNAL, cell("p1", "5"), at(NEXT_DAY)) is Change.UNCHANGED
        assert tx.accept_entry(JOURNAL, cell("p3", "4"), at(NEXT_DAY)) is Change.LOCKED
        assert tx.accept_entry(JOURNAL, cell("p3", "4", lesson_no=2), at(NEXT_DAY)) is Change.LOCKED
        assert tx.upsert_lesson(JOURNAL, lesson(topic="Другое"), at(NEXT_DAY)) is Change.LOCKED
        assert tx.accept_entry(JOURNAL, cell("p1", "4", day=NEXT_DAY), at(NEXT_DAY)) is Change.NEW
        assert tx.locked_value(JOURNAL, "p1", DAY, 1) == "5"
        assert tx.locked_value(JOURNAL, "p3", DAY, 1) == ""  # locked empty
        assert tx.locked_value(JOURNAL, "p1", NEXT_DAY, 1) is None  # still open
        assert tx.lock_day(JOURNAL, DAY, at(NEXT_DAY)) == LockCounts()  # idempotent
        assert [e.value for e in tx.entries(JOURNAL, until=DAY)] == ["5", "н"]
    assert audit_kinds(ledger).count("lock.applied") == 1


def test_grace_lock_info_first_marks_later(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        tx.upsert_lesson(JOURNAL, lesson(topic="Контрольная", work_type="control"), at())
        assert tx.lock_day(JOURNAL, DAY, at(hour=23, minute=59), marks=False) == LockCounts(1, 0)
    with ledger.transaction() as tx:  # a week of grace: marks still come in
        assert tx.accept_entry(JOURNAL, cell("p1", "4"), at(DAY + timedelta(days=3))) is Change.NEW
        assert tx.upsert_lesson(JOURNAL, lesson(topic="Иначе"), at(NEXT_DAY)) is Change.LOCKED
        assert tx.locked_value(JOURNAL, "p1", DAY, 1) is None
        tx.lock_day(JOURNAL, DAY, at(DAY + timedelta(days=7), 23, 59), info=False)
        view = tx.locked(JOURNAL)
    assert view.mark("p1", DAY, 1) == "4" and view.mark("p9", DAY, 1) == ""
    assert view.mark("p1", NEXT_DAY, 1) is None
    assert view.info[(DAY, 1)].topic == "Контрольная"


def test_light_reads_give_the_cells_values_and_lock_flags(ledger: Ledger) -> None:
    """``entry_values`` (grading, rendering) and ``lesson_states`` (time locks) read what
    ``entries`` and ``lessons`` hold, without the timestamps."""
    with ledger.transaction() as tx:
        tx.upsert_lesson(JOURNAL, lesson(topic="Контрольная", work_type="control"), at())
        tx.upsert_lesson(JOURNAL, lesson(topic="Дроби", lesson_no=2), at())
        tx.accept_entries(JOURNAL, [cell("p2", "4"), cell("p1", "5/4"), cell("p3", "н"),
                                    cell("p1", "3", day=NEXT_DAY)], at())
        tx.accept_entries(JOURNAL, [cell("p3", "")], at(hour=11))  # erased: not a value
        tx.lock_day(JOURNAL, DAY, at(hour=23, minute=59), marks=False)
    with ledger.snapshot() as tx:
        assert tx.entry_values(JOURNAL) == [("p1", DAY, 1, "5/4"), ("p2", DAY, 1, "4"),
                                            ("p1", NEXT_DAY, 1, "3")]
        assert tx.lesson_states(JOURNAL) == {(DAY, 1): ("control", True, False),
                                             (DAY, 2): ("", True, False)}


def test_locked_view_holds_only_what_is_locked(ledger: Ledger) -> None:
    """The view compared with every read: DAY's facts and marks locked (one cell holding the
    invalid text it locked with), NEXT_DAY's facts only (its marks in grace), the day after open."""
    later = NEXT_DAY + timedelta(days=1)
    with ledger.transaction() as tx:
        tx.upsert_lesson(JOURNAL, lesson(topic="Дроби"), at())
        tx.upsert_lesson(JOURNAL, lesson(NEXT_DAY, topic="Контрольная", work_type="control"), at())
        tx.upsert_lesson(JOURNAL, lesson(later, topic="Открыт"), at())
        tx.accept_entries(JOURNAL, [cell("p1", "5"), cell("p2", "", raw="5-", kind=INVALID_KIND),
                                    cell("p1", "4", day=NEXT_DAY), cell("p1", "3", day=later)],
                          at())
        tx.lock_day(JOURNAL, DAY, at(hour=23, minute=59), lesson_nos=[1, 2])
        tx.lock_day(JOURNAL, NEXT_DAY, at(NEXT_DAY, 23, 59), marks=False)
        view = tx.locked(JOURNAL)
    assert view.marks == {("p1", DAY, 1): "5", ("p2", DAY, 1): "5-"}
    assert view.invalid == {("p2", DAY, 1)}
    assert view.mark_lessons == {(DAY, 1), (DAY, 2)}  # lesson 2: an empty row, locked empty
    assert view.mark("p9", DAY, 2) == "" and view.mark("p1", NEXT_DAY, 1) is None
    assert sorted(view.info) == [(DAY, 1), (DAY, 2), (NEXT_DAY, 1)]
    assert view.info[(NEXT_DAY, 1)] == lesson(NEXT_DAY, topic="Контрольная", work_type="control")
    assert view.info[(DAY, 2)].topic == ""
    assert view.mark("p1", later, 1) is None and not view.periods


def test_period_is_calendar_data_not_a_locked_fact(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        tx.lock_day(JOURNAL, DAY, at(hour=23, minute=59), lesson_nos=[1])  # placeholder row
        assert (
            tx.upsert_lesson(JOURNAL, lesson(period="1 четверть"), at(NEXT_DAY)) is Change.UNCHANGED
        )
        assert tx.upsert_lesson(JOURNAL, lesson(topic="Поздно"), at(NEXT_DAY)) is Change.LOCKED
        (record,) = tx.lessons(JOURNAL)
    assert (record.facts.period, record.facts.topic) == ("1 четверть", "")
    assert audit_kinds(ledger) == ["lock.applied"]


def test_period_marks_accept_lock_and_view(ledger: Ledger) -> None:
    quarter = "1 четверть"
    with ledger.transaction() as tx:
        changes = tx.accept_period_marks(
            JOURNAL,
            [
                PeriodMarkInput("p1", quarter, "5", "5", "mark"),
                PeriodMarkInput("p2", quarter, "н/а", "н/а", "period_code"),
            ],
            at(),
        )
        assert changes == [Change.NEW, Change.NEW]
        again = [PeriodMarkInput("p1", quarter, "4", "4", "mark")]
        assert tx.accept_period_marks(JOURNAL, again, at(hour=11)) == [Change.CHANGED]
        assert tx.lock_period(JOURNAL, quarter, at(hour=12)) == LockCounts(period_marks=2)
        assert tx.lock_period(JOURNAL, quarter, at(hour=13)) == LockCounts()
        late = [
            PeriodMarkInput("p3", quarter, "3", "3", "mark"),
            PeriodMarkInput("p1", quarter, "5", "5", "mark"),
        ]
        assert tx.accept_period_marks(JOURNAL, late, at(hour=14)) == [Change.LOCKED, Change.LOCKED]
        view = tx.locked(JOURNAL)
        assert [(m.pupil_id, m.value) for m in tx.period_marks(JOURNAL)] == [
            ("p1", "4"),
            ("p2", "н/а"),
        ]
    assert view.period_mark("p1", quarter) == "4"
    assert view.period_mark("p3", quarter) == ""
    assert view.period_mark("p1", "2 четверть") is None
    kinds = audit_kinds(ledger)
    assert kinds == ["period_mark.accepted"] * 2 + ["period_mark.changed", "lock.applied"]


# --------------------------------------------------------------------------- findings


def finding(rule: str, pupil: str, message: str, cell_ref: str = "D5") -> Finding:
    location = Location(JOURNAL, pupil, DAY, "mark", cell_ref)
    return Finding(rule, Severity.ERROR, location, message)


def test_findings_open_resolve_and_keep_opened(ledger: Ledger) -> None:
    bad6 = finding("mark.grammar", "p1", "«6»: такой отметки нет")
    absent5 = finding("mark.absent", "p2", "отметка вместе с «н»")
    with ledger.transaction() as tx:
        assert tx.sync_findings(JOURNAL, [bad6, absent5], at(hour=9)) == (2, 0)
    moved = finding("mark.grammar", "p1", "«6»: такой отметки нет", cell_ref="D6")  # row moved
    with ledger.transaction() as tx:
        assert tx.sync_findings(JOURNAL, [moved, absent5], at(hour=10)) == (0, 0)
        assert tx.sync_findings(JOURNAL, [moved], at(hour=11)) == (0, 1)
        (still,) = tx.findings(JOURNAL)
        assert tx.sync_findings(JOURNAL, [moved, absent5], at(hour=12)) == (1, 0)  # back again
        every = tx.findings(JOURNAL, include_resolved=True)
        records, rows = tx.findings(JOURNAL), tx.open_findings(JOURNAL)
        assert tx.sync_findings("7Б/rus", [], at(hour=12)) == (0, 0)
    # the open findings without their times: the same findings, the same order
    assert [(r.id, r.rule, r.severity, r.pupil_id, r.day, r.field, r.cell, r.message)
            for r in records] == [tuple(r)[:1] + tuple(r)[2:] for r in rows]
    assert [r.rule for r in rows] == ["mark.grammar", "mark.absent"]
    assert (still.rule, still.cell, still.opened) == ("mark.grammar", "D6", at(hour=9))
    assert [(f.rule, f.opened, f.resolved) for f in every] == [
        ("mark.grammar", at(hour=9), None),
        ("mark.absent", at(hour=9), at(hour=11)),
        ("mark.absent", at(hour=12), None),
    ]


def test_same_finding_twice_counts_once(ledger: Ledger) -> None:
    bad = finding("mark.grammar", "p1", "«6»: такой отметки нет")
    with ledger.transaction() as tx:
        assert tx.sync_findings(JOURNAL, [bad, bad], at()) == (1, 0)


# --------------------------------------------------------------------------- violations


def test_violation_recorded_once_then_reverted(ledger: Ledger) -> None:
    target = CellRef(Field.MARK, "p1", DAY, 1, cell="D5")
    with ledger.transaction() as tx:
        first = tx.record_violation(JOURNAL, target, "3", "5", at(NEXT_DAY))
        again = tx.record_violation(JOURNAL, target, "3", "5", at(NEXT_DAY, 11))  # revert failed
        other = tx.record_violation(JOURNAL, target, "3", "4", at(NEXT_DAY, 11))
        assert first == again != other
        assert [v.id for v in tx.violations(JOURNAL, unreverted=True)] == [first, other]
        tx.violation_reverted(first, at(NEXT_DAY, 12))
        with pytest.raises(StoreError, match="already reverted"):
            tx.violation_reverted(first, at(NEXT_DAY, 12))
        (open_one,) = tx.violations(unreverted=True)
        everything = tx.violations(JOURNAL)
    assert open_one.id == other and open_one.target == target
    assert everything[0].reverted_at == at(NEXT_DAY, 12)
    assert (everything[0].locked_value, everything[0].attempted_value) == ("3", "5")
    assert audit_kinds(ledger) == ["violation.detected", "violation.detected", "violation.reverted"]


# --------------------------------------------------------------------------- corrections


def test_correction_changes_a_locked_mark_and_is_audited(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        tx.accept_entry(JOURNAL, cell("p1", "2"), at())
        tx.lock_day(JOURNAL, DAY, at(hour=23, minute=59))
    target = CellRef(Field.MARK, "p1", DAY, 1)
    with ledger.transaction() as tx:
        recorded = tx.record_correction(
            "row-2", JOURNAL, target, "4", "ошибка ввода", "17-у", at(NEXT_DAY)
        )
        same = tx.record_correction("row-2", JOURNAL, target, "5", "другое", "18-у", at(NEXT_DAY))
        assert recorded == same and recorded.status is CorrectionStatus.PENDING
        assert [c.source_key for c in tx.corrections(pending=True)] == ["row-2"]
        applied = tx.apply_correction("row-2", at(NEXT_DAY, 12), value="4", kind="mark")
        assert tx.corrections(pending=True) == []
        assert tx.locked_value(JOURNAL, "p1", DAY, 1) == "4"
        (entry,) = tx.entries(JOURNAL)
        with pytest.raises(StoreError, match="already applied"):
            tx.reject_correction("row-2", "нет приказа", at(NEXT_DAY, 13))
    assert (applied.status, applied.old_value, applied.processed_at) == (
        CorrectionStatus.APPLIED,
        "2",
        at(NEXT_DAY, 12),
    )
    assert entry.accepted_by == "correction:17-у" and entry.locked_at is not None
    assert audit_kinds(ledger)[-1] == "correction.applied"


def test_correction_of_an_empty_locked_cell_and_of_a_topic(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        tx.upsert_lesson(JOURNAL, lesson(topic="Дроби"), at())
        tx.lock_day(JOURNAL, DAY, at(hour=23, minute=59))
        tx.record_correction(
            "r1", JOURNAL, CellRef(Field.MARK, "p7", DAY, 1), "5", "болел", "1", at(NEXT_DAY)
        )
        tx.record_correction(
            "r2",
            JOURNAL,
            CellRef(Field.TOPIC, day=DAY, lesson_no=1),
            "Десятичные дроби",
            "опечатка",
            "2",
            at(NEXT_DAY),
        )
        assert tx.apply_correction("r1", at(NEXT_DAY), value="5", kind="mark").old_value == ""
        assert (
            tx.apply_correction("r2", at(NEXT_DAY), value="Десятичные дроби").old_value == "Дроби"
        )
        assert tx.locked(JOURNAL).mark("p7", DAY, 1) == "5"
        (record,) = tx.lessons(JOURNAL)
    assert record.facts.topic == "Десятичные дроби" and record.info_locked_at is not None


def test_correction_rejected_and_incomplete_target(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        tx.record_correction("r1", JOURNAL, CellRef(Field.MARK, "p1"), "5", "причина", "3", at())
        with pytest.raises(StoreError, match="needs the pupil, the date and the lesson number"):
            tx.apply_correction("r1", at(), value="5", kind="mark")
        rejected = tx.reject_correction("r1", "не указана дата урока", at(hour=11))
        with pytest.raises(StoreError, match="never recorded"):
            tx.apply_correction("nope", at(), value="5")
    assert (rejected.status, rejected.reject_reason) == (
        CorrectionStatus.REJECTED,
        "не указана дата урока",
    )
    assert audit_kinds(ledger) == ["correction.rejected"]


# --------------------------------------------------------------------------- registry, state


def test_file_registry_lookups_seen_versions_and_tab_hashes(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        journal = tx.register_file(
            "f1",
            FileKind.JOURNAL,
            JOURNAL,
            "Журнал 7Б · Математика",
            at(),
            protections={"1 четверть": 11, "Уроки": 12},
        )
        tx.register_file("f2", FileKind.DIARY, "p1", "Дневник · p1", at())
        tx.register_file("f3", FileKind.JOURNAL, "7Б/rus", "Журнал 7Б · Русский", at())
        tx.file_seen("f1", "v7", at(hour=11))
        tx.set_tab_hash("f1", "Замечания", "abc", at(hour=11))
        assert tx.tab_hash("f1", "Замечания") == "abc"
        assert tx.tab_hash("f1", "Уроки") is None
        assert tx.protections("f1") == {"1 четверть": 11, "Уроки": 12}
        tx.set_file_status("f1", FileStatus.NEEDS_REPAIR, layout_version=2)
        seen = tx.file("f1")
        assert [f.id for f in tx.files(FileKind.JOURNAL)] == ["f1", "f3"]  # by key: math < rus
        assert len(tx.files()) == 3
        assert tx.file_for(FileKind.DIARY, "p1") is not None
        assert tx.file_for(FileKind.DIARY, "p2") is None and tx.file("zz") is None
    assert journal.status is FileStatus.OK and journal.created_at == at()
    assert seen is not None
    assert (seen.last_seen_version, seen.last_read_at, seen.status, seen.layout_version) == (
        "v7",
        at(hour=11),
        FileStatus.NEEDS_REPAIR,
        2,
    )


def test_recreated_file_replaces_the_old_registration(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        tx.register_file("old", FileKind.JOURNAL, JOURNAL, "Журнал", at())
        tx.set_tab_hash("old", "Уроки", "h1", at())
        tx.register_file("new", FileKind.JOURNAL, JOURNAL, "Журнал", at(hour=12))
        current = tx.file_for(FileKind.JOURNAL, JOURNAL)
        assert tx.file("old") is None and tx.tab_hash("new", "Уроки") is None
        with pytest.raises(StoreError, match="already registered"):
            tx.register_file("new", FileKind.JOURNAL, JOURNAL, "Журнал", at(hour=12))
    assert current is not None and current.id == "new"
    assert audit_kinds(ledger) == ["setup.created", "setup.created"]


def test_unknown_file_is_a_store_error(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        with pytest.raises(StoreError, match="not registered"):
            tx.file_seen("ghost", "v1", at())
        with pytest.raises(StoreError, match="not registered"):
            tx.set_tab_hash("ghost", "Уроки", "h", at())


def test_state_get_set(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        assert tx.state_get("drive.token") is None
        assert tx.state_get("drive.token", "start") == "start"
        tx.state_set("drive.token", "41", at())
        tx.state_set("drive.token", "42", at(hour=11))
    with ledger.snapshot() as tx:
        assert tx.state_get("drive.token") == "42"


# --------------------------------------------------------------------------- ACL, runs


def test_acl_desired_vs_observed_drift(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        tx.register_file("d1", FileKind.DIARY, "p1", "Дневник", at())
        tx.set_desired_acl(
            "d1", {"Mama@example.ru": Role.READER, "papa@example.ru": Role.READER}, at()
        )
        tx.set_observed_acl(
            "d1",
            [
                Grant("g1", "mama@example.ru", Role.READER),
                Grant("g2", "pupil@example.ru", Role.WRITER),
            ],
            at(),
        )
        drift = {(a.email, a.desired_role, a.observed_role) for a in tx.acl_drift()}
        assert drift == {("papa@example.ru", "reader", None), ("pupil@example.ru", None, "writer")}
        tx.set_observed_acl(
            "d1",
            [
                Grant("g1", "mama@example.ru", Role.READER),
                Grant("g3", "papa@example.ru", Role.READER),
            ],
            at(hour=11),
        )
        assert tx.acl_drift() == []
        rows = tx.acl("d1")
    assert [(a.email, a.grant_id, a.drift) for a in rows] == [
        ("mama@example.ru", "g1", False),
        ("papa@example.ru", "g3", False),
    ]


def test_runs_started_finished_with_counters(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        ok_run = tx.run_started("sync", at(hour=10))
        tx.run_finished(ok_run, at(hour=10, minute=1), {"reads": 3, "writes": 1, "entries": 40})
        failed = tx.run_started("sync", at(hour=10, minute=5))
        tx.run_finished(failed, at(hour=10, minute=6), {"reads": 1}, error="RateLimited: quota")
        tx.run_started("lock", at(hour=23, minute=59))  # never finished: the process died
        last_ok = tx.last_run("sync", ok_only=True)
        last = tx.last_run("sync")
        recent = tx.recent_runs(limit=2)
        with pytest.raises(StoreError, match="does not exist"):
            tx.run_finished(999, at(), {})
    assert last_ok is not None and last is not None
    assert (last_ok.id, last_ok.ok, last_ok.counters) == (
        ok_run,
        True,
        {"entries": 40, "reads": 3, "writes": 1},
    )
    assert (last.id, last.ok, last.error) == (failed, False, "RateLimited: quota")
    assert [(r.kind, r.ok, r.finished) for r in recent] == [
        ("lock", None, None),
        ("sync", False, at(hour=10, minute=6)),
    ]


def test_times_come_back_aware_and_equal(ledger: Ledger) -> None:
    local = at(hour=15)
    with ledger.transaction() as tx:
        tx.accept_entry(JOURNAL, cell("p1", "5"), local)
        (entry,) = tx.entries(JOURNAL)
    assert entry.first_seen == local and entry.first_seen.tzinfo is UTC
    assert entry.day == date(2026, 9, 8)


def test_damaged_pages_give_store_error_with_hint(tmp_path: Path) -> None:
    path = tmp_path / "ledger.sqlite3"
    with Ledger.open(path) as ledger, ledger.transaction() as tx:
        cells = [cell(f"p{i:03d}", "5", day=DAY + timedelta(days=i % 30)) for i in range(3000)]
        tx.accept_entries(JOURNAL, cells, at())
    data = bytearray(path.read_bytes())
    page = 4096
    data[2 * page : len(data) - page] = b"\xff" * (len(data) - 3 * page)  # keep the header page
    path.write_bytes(bytes(data))
    # opening or the first read notices it, whichever touches a damaged page first
    with pytest.raises(StoreError) as caught, Ledger.open(path) as ledger, ledger.snapshot() as tx:
        tx.entries(JOURNAL)
    assert "damaged" in caught.value.message
    assert caught.value.hint is not None and "restore" in caught.value.hint
