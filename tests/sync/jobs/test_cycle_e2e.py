"""End to end over the Google emulator with the real gspread client (and once on the local backend):
teachers type into their journals as themselves, the cycle accepts or reports, the nightly lock job
protects and locks, the emulator refuses a teacher's edit of yesterday, an owner-level edit of a
locked cell is reverted and audited (a typo left when the day locked is kept, not reverted), a
deputy's correction goes through the cycle, and the audit chain verifies — until one byte of it
is altered.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import gspread
import openpyxl
import pytest
from sqlalchemy import text

from sync.backends.local.backend import LocalBackend
from sync.backends.protocol import CellRange, Grid
from sync.jobs.cycle import run_cycle
from sync.jobs.locking import run_locks
from sync.jobs.service import Service
from sync.layout.journal.map import LessonField
from sync.layout.journal.spec import JournalReading, parse_journal
from sync.layout.labels import RU
from sync.ledger.model import FileKind
from tests.sync.backend_helpers import local_teacher_edit
from tests.sync.engine_fixtures import (
    DAY,
    ORGANIZER,
    EngineRig,
    at,
    make_rig,
    school_for,
    setup_school,
)

DEPUTY = "zamestitel.uvr.example@gmail.com"
CLASS, SUBJECT = "7Б", "algebra"
KEY = "7Б/algebra"
Q1 = "1 четверть"
NEXT = date(2026, 9, 9)  # 7Б's next algebra lesson after DAY (08.09, lesson 5)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[EngineRig]:
    rig = make_rig(tmp_path)
    run_cycle(rig.svc)  # the first cycle: every registered file read once
    yield rig
    rig.close()
    assert rig.emu.bugs == []


def pupils(rig: EngineRig, n: int = 4) -> list[str]:
    return [p.id for p in rig.school.pupils_in(CLASS)[:n]]


def teacher(rig: EngineRig) -> str:
    return rig.teacher_email(CLASS, SUBJECT)


def type_mark(rig: EngineRig, who: str, pupil: str, value: str, day: date = DAY) -> CellRange:
    where = rig.cell(CLASS, SUBJECT, pupil, day)
    rig.type(who, rig.journal(CLASS, SUBJECT).id, where, value)
    return where


def lesson_cell(rig: EngineRig, day: date, name: LessonField) -> CellRange:
    lesson = rig.lesson_on(CLASS, SUBJECT, day)
    found = rig.reading(CLASS, SUBJECT).map.lesson_field((day, lesson.lesson_no), name)
    assert found is not None
    return found


def value_at(grids: dict[str, Grid], where: CellRange) -> Any:
    grid = grids.get(where.tab, [])
    row = grid[where.start_row] if where.start_row < len(grid) else []
    return row[where.start_col] if where.start_col < len(row) else None


def entries(rig: EngineRig) -> dict[str, Any]:
    with rig.svc.ledger.snapshot() as tx:
        return {e.pupil_id: e for e in tx.entries(KEY) if e.day == DAY}


def audit_events(svc: Service) -> list[tuple[int, str, dict[str, Any]]]:
    with svc.ledger.engine.connect() as db:
        rows = db.execute(text("SELECT id, kind, payload FROM audit ORDER BY id"))
        return [(r[0], r[1], json.loads(r[2])) for r in rows]


def lock_through(rig: EngineRig, day: date) -> None:
    """The nightly lock job at 00:15 of ``day`` (after the previous day's end)."""
    rig.set_now(at(day, 0, 15))
    summary = run_locks(rig.svc)
    assert summary.ok, summary.to_json()


# --------------------------------------------------------------------------- entering


def test_teachers_entries_are_accepted_with_first_seen_and_attribution(rig: EngineRig) -> None:
    rig.set_now(at(DAY, 10, 5))
    p = pupils(rig)
    for pupil, value in zip(p, ["5", "н", "5/4", " 4 "], strict=True):
        type_mark(rig, teacher(rig), pupil, value)
    journal = rig.journal(CLASS, SUBJECT).id
    rig.type(teacher(rig), journal, lesson_cell(rig, DAY, LessonField.TOPIC), "Дроби")
    rig.type(teacher(rig), journal, lesson_cell(rig, DAY, LessonField.WORK_TYPE),
             "Контрольная работа")
    rig.type(teacher(rig), journal, lesson_cell(rig, DAY, LessonField.HOMEWORK), "№ 12")
    other = rig.cell(CLASS, "russian", p[0], DAY)  # another teacher, another journal
    rig.type(rig.teacher_email(CLASS, "russian"), rig.journal(CLASS, "russian").id, other, "4")

    summary = run_cycle(rig.svc)

    assert summary.ok, summary.to_json()
    assert summary.tally.journals_read == 2
    assert summary.tally.entries_accepted == 5
    assert summary.tally.lessons_changed == 1
    assert summary.tally.violations == 0
    got = entries(rig)
    assert {pid: (e.value, e.kind) for pid, e in got.items()} == {
        p[0]: ("5", "mark"), p[1]: ("н", "absent"), p[2]: ("5/4", "mark"), p[3]: ("4", "mark"),
    }
    assert {e.first_seen for e in got.values()} == {summary.started}
    assert {e.accepted_by for e in got.values()} == {"kuznetsov"}
    assert all(e.locked_at is None for e in got.values())
    with rig.svc.ledger.snapshot() as tx:
        (lesson,) = [x for x in tx.lessons(KEY) if x.facts.day == DAY]
        russian = [e for e in tx.entries("7Б/russian") if e.day == DAY]
        open_findings = tx.findings(KEY)
    assert (lesson.facts.topic, lesson.facts.work_type, lesson.facts.homework) == (
        "Дроби", "Контрольная работа", "№ 12")
    assert [(e.pupil_id, e.value, e.accepted_by) for e in russian] == [(p[0], "4", "morozova")]
    assert not [f for f in open_findings if f.day == DAY]  # nothing wrong with today's cells
    # the service cells follow: the work type under the date, the recommendation column
    reading = rig.reading(CLASS, SUBJECT)
    grids = rig.grids(journal)
    lesson_no = rig.lesson_on(CLASS, SUBJECT, DAY).lesson_no
    work_cell = reading.map.work_type_cell((DAY, lesson_no))
    assert work_cell is not None and value_at(grids, work_cell) == "Контрольная работа"
    tab = reading.map.periods[Q1]
    assert tab.recommended_col is not None
    row = grids[Q1][tab.rows[p[0]]]
    assert row[tab.recommended_col] == "н/а"  # one mark is below the minimum of three


def test_invalid_input_becomes_findings_and_changes_nothing_else(rig: EngineRig) -> None:
    rig.set_now(at(DAY, 10))
    p = pupils(rig)
    type_mark(rig, teacher(rig), p[0], "5")
    run_cycle(rig.svc)
    rig.set_now(at(DAY, 11))
    first = type_mark(rig, teacher(rig), p[0], "6")  # over an accepted "5"
    type_mark(rig, teacher(rig), p[1], "5-")
    type_mark(rig, teacher(rig), p[2], "н5")
    journal = rig.journal(CLASS, SUBJECT).id
    before = rig.grids(journal, findings=False)

    summary = run_cycle(rig.svc)

    assert summary.tally.findings_opened == 3
    assert summary.tally.entries_accepted == 0
    got = entries(rig)
    assert (got[p[0]].value, set(got)) == ("5", {p[0]})  # the valid mark is kept, nothing added
    with rig.svc.ledger.snapshot() as tx:
        today = {f.pupil_id: f for f in tx.findings(KEY) if f.day == DAY}
    assert {pid: f.rule for pid, f in today.items()} == {
        p[0]: "invalid_value", p[1]: "invalid_value", p[2]: "mark_with_absence"}
    assert "«6»" in today[p[0]].message and "нет такой отметки" in today[p[0]].message
    assert "«5-»" in today[p[1]].message
    assert "«н5»" in today[p[2]].message
    shown = rig.findings_tab(journal)
    assert shown[0] == ["Ячейка", "Замечание", "С какого числа"]
    lines = {line[1]: line for line in shown[1:] if len(line) > 1}
    assert lines[today[p[0]].message][0] == f"{Q1}, {first.a1().split('!')[1].split(':')[0]}"
    assert lines[today[p[0]].message][2] == "08.09.2026"
    # nothing else changed: the typed values stay, and only service cells may differ
    after = rig.grids(journal, findings=False)
    reading = parse_journal(after, rig.school, CLASS, SUBJECT, rig.lessons(CLASS, SUBJECT))
    service = _service_cells(reading)
    changed = _diff(before, after)
    assert changed <= service, changed - service
    for pupil, value in zip(p[:3], ["6", "5-", "н5"], strict=True):
        assert value_at(after, reading.map.cell(pupil, (DAY, 5))) == value  # type: ignore[arg-type]

    rig.set_now(at(DAY, 12))
    type_mark(rig, teacher(rig), p[0], "4")  # the teacher fixes it
    summary = run_cycle(rig.svc)
    assert summary.tally.findings_resolved == 1
    assert entries(rig)[p[0]].value == "4"
    assert all("«6»" not in line[1] for line in rig.findings_tab(journal)[1:] if len(line) > 1)


def _service_cells(reading: JournalReading) -> set[tuple[str, int, int]]:
    out: set[tuple[str, int, int]] = set()
    for tab in reading.map.periods.values():
        for row in range(tab.end_row + 1):
            for col in (tab.average_col, tab.recommended_col):
                if col is not None:
                    out.add((tab.title, row, col))
        if tab.work_type_row is not None:
            out.update((tab.title, tab.work_type_row, c) for c in tab.columns.values())
    lessons = reading.map.lessons_tab
    if lessons is not None and "status" in lessons.columns:
        out.update((lessons.title, r, lessons.columns["status"]) for r in lessons.rows.values())
    return out


def _diff(a: dict[str, Grid], b: dict[str, Grid]) -> set[tuple[str, int, int]]:
    out: set[tuple[str, int, int]] = set()
    for tab in a.keys() | b.keys():
        ga, gb = a.get(tab, []), b.get(tab, [])
        for r in range(max(len(ga), len(gb))):
            ra = ga[r] if r < len(ga) else []
            rb = gb[r] if r < len(gb) else []
            for c in range(max(len(ra), len(rb))):
                va = ra[c] if c < len(ra) else ""
                vb = rb[c] if c < len(rb) else ""
                if (va or "") != (vb or ""):
                    out.add((tab, r, c))
    return out


# --------------------------------------------------------------------------- locks


def test_after_the_lock_job_a_teachers_edit_of_yesterday_is_refused(rig: EngineRig) -> None:
    rig.set_now(at(DAY, 10))
    p = pupils(rig)
    where = type_mark(rig, teacher(rig), p[0], "5")
    run_cycle(rig.svc)

    lock_through(rig, NEXT)

    with pytest.raises(gspread.exceptions.APIError, match="protected"):
        rig.type(teacher(rig), rig.journal(CLASS, SUBJECT).id, where, "4")
    with pytest.raises(gspread.exceptions.APIError, match="protected"):
        rig.type(teacher(rig), rig.journal(CLASS, SUBJECT).id,
                 lesson_cell(rig, DAY, LessonField.TOPIC), "задним числом")
    rig.set_now(at(NEXT, 9))
    type_mark(rig, teacher(rig), p[0], "3", day=NEXT)  # today's column is open
    assert value_at(rig.grids(rig.journal(CLASS, SUBJECT).id), where) == "5"
    got = entries(rig)
    assert got[p[0]].value == "5" and got[p[0]].locked_at is not None
    with rig.svc.ledger.snapshot() as tx:
        (lesson,) = [x for x in tx.lessons(KEY) if x.facts.day == DAY]
    assert lesson.info_locked_at is not None and lesson.marks_locked_at is not None


def test_an_owner_edit_of_a_locked_cell_is_reverted_and_audited(rig: EngineRig) -> None:
    rig.set_now(at(DAY, 10))
    p = pupils(rig)
    journal = rig.journal(CLASS, SUBJECT).id
    where = type_mark(rig, teacher(rig), p[0], "5")
    topic = lesson_cell(rig, DAY, LessonField.TOPIC)
    rig.type(teacher(rig), journal, topic, "Дроби")
    run_cycle(rig.svc)
    lock_through(rig, NEXT)
    run_cycle(rig.svc)  # the lock run's follow-up (findings of the day that passed)

    rig.set_now(at(NEXT, 10))
    rig.type(ORGANIZER, journal, where, "2")  # owner-level: the protection lets it through
    rig.type(ORGANIZER, journal, topic, "Другая тема")
    empty = rig.cell(CLASS, SUBJECT, p[1], DAY)
    rig.type(ORGANIZER, journal, empty, "4")  # a mark typed into a cell locked empty
    summary = run_cycle(rig.svc)

    assert (summary.tally.violations, summary.reverts) == (3, 3)
    grids = rig.grids(journal)
    assert (value_at(grids, where), value_at(grids, topic), value_at(grids, empty)) == (
        "5", "Дроби", None)
    with rig.svc.ledger.snapshot() as tx:
        found = {(v.target.field.value, v.target.pupil_id): v for v in tx.violations(KEY)}
    assert {k: (v.locked_value, v.attempted_value) for k, v in found.items()} == {
        ("mark", p[0]): ("5", "2"), ("topic", None): ("Дроби", "Другая тема"),
        ("mark", p[1]): ("", "4"),
    }
    assert all(v.reverted_at is not None for v in found.values())
    assert entries(rig)[p[0]].value == "5"
    events = audit_events(rig.svc)
    detected = [e for e in events if e[1] == "violation.detected"]
    reverted = [e for e in events if e[1] == "violation.reverted"]
    assert len(detected) == 3 and len(reverted) == 3
    assert {e[2]["attempted"] for e in detected} == {"2", "Другая тема", "4"}
    assert rig.svc.ledger.audit_verify().ok

    rig.emu.reset_counters()
    again = run_cycle(rig.svc)  # own writes are not re-read; nothing more to do
    assert again.tally.violations == 0 and again.writes == 0
    assert rig.calls() == {"drive": 1, "sheets_read": 0, "sheets_write": 0}


def test_a_deputys_correction_goes_through_the_cycle(rig: EngineRig) -> None:
    rig.set_now(at(DAY, 10))
    p = pupils(rig)
    where = type_mark(rig, teacher(rig), p[0], "3")
    run_cycle(rig.svc)
    lock_through(rig, NEXT)
    run_cycle(rig.svc)
    rig.set_now(at(NEXT, 11))
    with rig.svc.ledger.snapshot() as tx:
        (admin,) = tx.files(FileKind.ADMIN)
    row = ["7Б · Алгебра", "08.09.2026", p[0], "отметка", "4", "ошибка при вводе", "45-к", "да"]
    rig.client(DEPUTY).http_client.values_update(  # the deputy signs
        admin.id, CellRange(RU.corrections_tab, 1, 1, 2, 1 + len(row)).a1(),
        params={"valueInputOption": "USER_ENTERED"}, body={"values": [row]})

    summary = run_cycle(rig.svc)

    assert summary.corrections is not None and summary.corrections["applied"] == 1
    assert summary.tally.violations == 0  # the corrected cell is not mistaken for tampering
    assert entries(rig)[p[0]].value == "4"
    assert value_at(rig.grids(rig.journal(CLASS, SUBJECT).id), where) == "4"
    assert "correction.applied" in [e[1] for e in audit_events(rig.svc)]
    tab = rig.reading(CLASS, SUBJECT).map.periods[Q1]
    assert tab.average_col is not None
    average = (Q1, tab.rows[p[0]], tab.average_col)
    assert _at(rig, average) == "4"  # in the correction's own write, not one cycle later
    rig.emu.reset_counters()
    again = run_cycle(rig.svc)  # the corrected journal is re-read once: nothing left to write
    assert (again.tally.journals_read, again.writes, again.corrections) == (1, 0, None)
    assert again.tally.violations == 0
    assert _at(rig, average) == "4"
    assert rig.calls()["sheets_read"] == 1
    rig.emu.reset_counters()
    idle = run_cycle(rig.svc)
    assert (idle.tally.journals_read, idle.writes) == (0, 0)
    assert rig.calls()["sheets_read"] == 0
    assert rig.svc.ledger.audit_verify().ok


def test_a_corrected_typo_leaves_the_findings_in_the_same_cycle(rig: EngineRig) -> None:
    rig.set_now(at(DAY, 10))
    p = pupils(rig)
    type_mark(rig, teacher(rig), p[0], "Z")  # a typo, left when the day locks
    run_cycle(rig.svc)
    lock_through(rig, NEXT)
    run_cycle(rig.svc)
    file_id = rig.journal(CLASS, SUBJECT).id
    assert any("«Z»" in str(row[1]) for row in rig.findings_tab(file_id)[1:])
    rig.set_now(at(NEXT, 11))
    with rig.svc.ledger.snapshot() as tx:
        (admin,) = tx.files(FileKind.ADMIN)
    row = ["7Б · Алгебра", "08.09.2026", p[0], "отметка", "4", "ошибка при вводе", "46-к", "да"]
    rig.client(DEPUTY).http_client.values_update(
        admin.id, CellRange(RU.corrections_tab, 1, 1, 2, 1 + len(row)).a1(),
        params={"valueInputOption": "USER_ENTERED"}, body={"values": [row]})
    rig.emu.reset_counters()

    summary = run_cycle(rig.svc)

    assert summary.corrections is not None and summary.corrections["applied"] == 1
    assert not any("«Z»" in str(row[1]) for row in rig.findings_tab(file_id)[1:])
    tab = rig.reading(CLASS, SUBJECT).map.periods[Q1]
    assert tab.average_col is not None
    assert _at(rig, (Q1, tab.rows[p[0]], tab.average_col)) == "4"  # the one mark: 4
    assert summary.corrections["writes"] == 2  # the journal (cell, findings, average) + the admin


def _at(rig: EngineRig, where: tuple[str, int, int]) -> str:
    tab, row, col = where
    grid = rig.grids(rig.journal(CLASS, SUBJECT).id, findings=False)[tab]
    return str(grid[row][col]) if row < len(grid) and col < len(grid[row]) else ""


# --------------------------------------------------------------------------- audit chain


def test_audit_verify_passes_and_fails_after_one_byte_is_altered(rig: EngineRig) -> None:
    rig.set_now(at(DAY, 10))
    for pupil in pupils(rig):
        type_mark(rig, teacher(rig), pupil, "5")
    run_cycle(rig.svc)
    lock_through(rig, NEXT)
    report = rig.svc.ledger.audit_verify()
    assert report.ok and report.events > 5

    accepted = next(e for e in audit_events(rig.svc) if e[1] == "entry.accepted")
    # what someone with file access does: drop the append-only triggers, change one byte, leave
    connection = sqlite3.connect(rig.ledger_path, isolation_level=None)
    try:
        payload = connection.execute("SELECT payload FROM audit WHERE id = ?",
                                     (accepted[0],)).fetchone()[0]
        at_byte = payload.index('"value":"5"') + len('"value":"')
        altered = payload[:at_byte] + "4" + payload[at_byte + 1:]
        assert len(altered.encode()) == len(payload.encode())
        connection.execute("DROP TRIGGER audit_no_update")
        connection.execute("UPDATE audit SET payload = ? WHERE id = ?", (altered, accepted[0]))
    finally:
        connection.close()

    broken = rig.svc.ledger.audit_verify()
    assert not broken.ok
    assert broken.first_bad_id == accepted[0]


# --------------------------------------------------------------------------- local backend


class _Clock:
    def __init__(self, start: datetime) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now


def test_the_same_story_on_the_local_backend(tmp_path: Path) -> None:
    """Accept, lock (xlsx sheet protection refuses the teacher), revert an owner's edit."""
    school = school_for(tmp_path / "ledger.sqlite3", journals=[(CLASS, SUBJECT)])
    clock = _Clock(at(DAY, 8))
    backend = LocalBackend(tmp_path / "sheets", settle_seconds=0, clock=clock)
    with Service.open(school, backend=backend, clock=clock) as svc:
        setup_school(svc)
        run_cycle(svc)
        with svc.ledger.snapshot() as tx:
            journal = tx.file_for(FileKind.JOURNAL, KEY)
        assert journal is not None
        lessons = sorted(school.lessons()[(CLASS, SUBJECT)], key=lambda x: (x.day, x.lesson_no))
        titles = [q.name for q in school.year.periods] + [RU.lessons_tab]
        reading = parse_journal(backend.read(journal.id, titles), school, CLASS, SUBJECT, lessons)
        pupil = school.pupils_in(CLASS)[0].id
        where = reading.map.cell(pupil, (DAY, 5))
        assert where is not None

        clock.now = at(DAY, 10)
        local_teacher_edit(backend, journal.id, where.tab, where.start_row, where.start_col, "5")
        summary = run_cycle(svc)
        assert summary.tally.entries_accepted == 1

        clock.now = at(NEXT, 0, 15)
        assert run_locks(svc).ok
        with pytest.raises(PermissionError, match="protected"):
            local_teacher_edit(backend, journal.id, where.tab, where.start_row, where.start_col,
                               "4")
        _owner_edit(backend.path(journal.id), where, "2")  # Excel's owner removes the protection
        clock.now = at(NEXT, 10)
        summary = run_cycle(svc)
        assert (summary.tally.violations, summary.reverts) == (1, 1)
        after = backend.read(journal.id, [where.tab])[where.tab]
        assert after[where.start_row][where.start_col] == "5"
        with svc.ledger.snapshot() as tx:
            (violation,) = tx.violations(KEY)
        assert (violation.attempted_value, violation.reverted_at is not None) == ("2", True)
        assert svc.ledger.audit_verify().ok


def test_a_typo_locked_on_the_local_backend_is_kept_and_only_tampering_is_reverted(
        tmp_path: Path) -> None:
    """«отл» left at day end stays after the lock (no revert, no violation); an owner's later
    edit of the cell is reverted to «отл»."""
    school = school_for(tmp_path / "ledger.sqlite3", journals=[(CLASS, SUBJECT)])
    clock = _Clock(at(DAY, 8))
    backend = LocalBackend(tmp_path / "sheets", settle_seconds=0, clock=clock)
    with Service.open(school, backend=backend, clock=clock) as svc:
        setup_school(svc)
        with svc.ledger.snapshot() as tx:
            journal = tx.file_for(FileKind.JOURNAL, KEY)
        assert journal is not None
        lessons = sorted(school.lessons()[(CLASS, SUBJECT)], key=lambda x: (x.day, x.lesson_no))
        reading = parse_journal(backend.read(journal.id, [Q1]), school, CLASS, SUBJECT, lessons)
        pupil = school.pupils_in(CLASS)[0].id
        where = reading.map.cell(pupil, (DAY, 5))
        assert where is not None

        clock.now = at(DAY, 10)
        local_teacher_edit(backend, journal.id, where.tab, where.start_row, where.start_col, "отл")
        assert run_cycle(svc).tally.entries_accepted == 0
        clock.now = at(NEXT, 0, 15)
        assert run_locks(svc).ok
        clock.now = at(NEXT, 8)
        summary = run_cycle(svc)
        assert (summary.tally.violations, summary.reverts) == (0, 0)
        assert backend.read(journal.id, [Q1])[Q1][where.start_row][where.start_col] == "отл"

        _owner_edit(backend.path(journal.id), where, "5")
        clock.now = at(NEXT, 10)
        summary = run_cycle(svc)
        assert (summary.tally.violations, summary.reverts) == (1, 1)
        assert backend.read(journal.id, [Q1])[Q1][where.start_row][where.start_col] == "отл"
        with svc.ledger.snapshot() as tx:
            (violation,) = tx.violations(KEY)
            (finding,) = [f for f in tx.findings(KEY) if f.pupil_id == pupil]
        assert (violation.locked_value, violation.attempted_value) == ("отл", "5")
        assert finding.rule == "invalid_value" and "«Исправления»" in finding.message
        assert svc.ledger.audit_verify().ok


def _owner_edit(path: Path, where: CellRange, value: str) -> None:
    wb = openpyxl.load_workbook(path)
    try:
        wb[where.tab].cell(where.start_row + 1, where.start_col + 1).value = value
        wb.save(path)
    finally:
        wb.close()


def test_a_mark_erased_before_its_lock_is_erased_in_the_ledger(rig: EngineRig) -> None:
    """A teacher erases a mark the ledger took (the cell still open): the next cycle stores the
    erasure (the entry kept, empty), and the pupil's other marks and the empty cells beside it
    are left as they were."""
    rig.set_now(at(DAY, 10))
    p = pupils(rig, 2)
    where = type_mark(rig, teacher(rig), p[0], "5")
    type_mark(rig, teacher(rig), p[1], "4")
    assert run_cycle(rig.svc).tally.entries_accepted == 2
    rig.set_now(at(DAY, 11))
    rig.type(teacher(rig), rig.journal(CLASS, SUBJECT).id, where, "")

    summary = run_cycle(rig.svc)

    assert summary.ok, summary.to_json()
    assert summary.tally.entries_accepted == 1
    assert {pid: e.value for pid, e in entries(rig).items()} == {p[1]: "4"}
    with rig.svc.ledger.snapshot() as tx:
        erased = [(e.pupil_id, e.value, e.kind) for e in tx.entries(KEY, include_empty=True)
                  if e.day == DAY and e.value == ""]
    assert erased == [(p[0], "", "empty")]


def test_first_seen_is_the_cycle_that_saw_it(rig: EngineRig) -> None:
    """Marks typed at 10:00 and seen at 10:00 and 14:00 keep their first-seen time; a mark typed
    later is first seen by the later cycle."""
    rig.set_now(at(DAY, 10))
    p = pupils(rig)
    type_mark(rig, teacher(rig), p[0], "5")
    first = run_cycle(rig.svc)
    rig.set_now(at(DAY, 14))
    type_mark(rig, teacher(rig), p[1], "4")
    second = run_cycle(rig.svc)
    got = entries(rig)
    assert got[p[0]].first_seen == first.started
    assert got[p[1]].first_seen == second.started
    assert second.started - first.started == timedelta(hours=4)


def test_a_period_mark_far_from_the_recommendation_is_remarked(rig: EngineRig) -> None:
    """Marks 3, 3, 2 recommend a 3; a period mark of 5 is accepted (the teacher decides) and
    remarked in "Замечания"; the recommendation column shows 3."""
    p = pupils(rig, 1)[0]
    for day, value in ((DAY, "3"), (NEXT, "3"), (date(2026, 9, 14), "2")):
        if day != DAY:
            lock_through(rig, day)
        rig.set_now(at(day, 10))
        type_mark(rig, teacher(rig), p, value, day=day)
        assert run_cycle(rig.svc).tally.entries_accepted == 1
    lock_through(rig, date(2026, 10, 16))  # the first quarter's period-mark window opens
    run_cycle(rig.svc)
    rig.set_now(at(date(2026, 10, 16), 12))
    journal = rig.journal(CLASS, SUBJECT).id
    reading = rig.reading(CLASS, SUBJECT)
    where = reading.map.period_mark_cell(p, Q1)
    assert where is not None
    rig.type(teacher(rig), journal, where, "5")

    summary = run_cycle(rig.svc)

    assert summary.tally.entries_accepted == 1
    with rig.svc.ledger.snapshot() as tx:
        (mark,) = tx.period_marks(KEY)
        remarks = [f for f in tx.findings(KEY) if f.rule == "period_mark_deviation"]
    assert (mark.pupil_id, mark.value) == (p, "5")
    assert len(remarks) == 1 and remarks[0].pupil_id == p
    assert "отличается от рекомендуемой 3 на 2" in remarks[0].message
    assert any(remarks[0].message == line[1] for line in rig.findings_tab(journal)[1:]
               if len(line) > 1)
    tab = reading.map.periods[Q1]
    assert tab.recommended_col is not None
    assert rig.grids(journal)[Q1][tab.rows[p]][tab.recommended_col] == "3"
