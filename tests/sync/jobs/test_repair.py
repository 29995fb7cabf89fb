"""Structure damage repaired with no loss, over the emulator (real gspread; the damage is done by
people through their own clients) and on the local backend: rows sorted, a column inserted, a
tab renamed, a tab deleted, a row deleted, the whole file deleted, ``rebuild_all``; and the
backend's ``replace_tabs`` itself (call budgets, stale tab ids, one atomic save).

After every repair the journal, read back and parsed, holds exactly the ledger's accepted
entries, period marks and lesson facts at the right pupil and date.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import gspread
import openpyxl
import pytest
from sqlalchemy import text

from rules.errors import StoreError
from sync.backends.protocol import CellRange, TabMissing, TabSpec
from sync.jobs.cycle import run_cycle
from sync.jobs.journal_sync import journal_refs, journal_titles, read_journal
from sync.jobs.locking import run_locks
from sync.jobs.repair import rebuild_all, rebuild_file, repair_journal
from sync.jobs.service import Service
from sync.jobs.setup import run_setup
from sync.layout.class_sheet.spec import parse_class
from sync.layout.common import cell_text
from sync.layout.journal.map import LessonField
from sync.layout.journal.spec import JournalReading, parse_journal
from sync.layout.labels import RU
from sync.ledger.model import FileKind, FileRecord
from tests.sync.backend_helpers import (
    GRADES,
    LESSONS,
    google_rig,
    grades_tab,
    lessons_tab,
    local_teacher_edit,
    sample_spec,
)
from tests.sync.engine_fixtures import DAY, ORGANIZER, EngineRig, at, make_rig
from tests.sync.setup_helpers import FakeClock, local_service, small_school

CLASS, SUBJECT = "7Б", "algebra"
KEY = "7Б/algebra"
Q1 = "1 четверть"
NEXT = date(2026, 9, 9)  # the next algebra lesson of 7Б
MARKS_DAY = ["5", "4", "3", "2", "5/4"]
MARKS_NEXT = ["н", "н", "4", "5"]


# --------------------------------------------------------------------------- the rig


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[EngineRig]:
    """7Б algebra (+ the rig's other journals) with a locked day and an open day of marks."""
    rig = make_rig(tmp_path)
    run_cycle(rig.svc)
    who = rig.teacher_email(CLASS, SUBJECT)
    file_id = rig.journal(CLASS, SUBJECT).id
    pupils = [p.id for p in rig.school.pupils_in(CLASS)]
    for pupil, mark in zip(pupils[:5], MARKS_DAY, strict=True):
        rig.type(who, file_id, rig.cell(CLASS, SUBJECT, pupil, DAY), mark)
    rig.type(who, file_id, lesson_cell(rig, DAY, LessonField.TOPIC), "Дроби")
    run_cycle(rig.svc)
    rig.set_now(at(NEXT, 0, 30))
    assert run_locks(rig.svc).ok  # DAY is locked now
    rig.set_now(at(NEXT, 9))
    for pupil, mark in zip(pupils[3:7], MARKS_NEXT, strict=True):
        rig.type(who, file_id, rig.cell(CLASS, SUBJECT, pupil, NEXT), mark)
    rig.type(who, file_id, lesson_cell(rig, NEXT, LessonField.HOMEWORK), "№ 7")
    run_cycle(rig.svc)
    assert len(ledger_entries(rig.svc)) == 9
    rig.emu.reset_counters()
    yield rig
    rig.close()
    assert rig.emu.bugs == []


def lesson_cell(rig: EngineRig, day: date, name: LessonField) -> CellRange:
    lesson = rig.lesson_on(CLASS, SUBJECT, day)
    found = rig.reading(CLASS, SUBJECT).map.lesson_field((day, lesson.lesson_no), name)
    assert found is not None
    return found


def ledger_entries(svc: Service, key: str = KEY) -> dict[tuple[str, date, int], str]:
    with svc.ledger.snapshot() as tx:
        return {(e.pupil_id, e.day, e.lesson_no): e.value for e in tx.entries(key)}


def ledger_lessons(svc: Service, key: str = KEY) -> dict[tuple[date, int], tuple[str, ...]]:
    with svc.ledger.snapshot() as tx:
        return {
            (x.facts.day, x.facts.lesson_no): (x.facts.topic, x.facts.homework)
            for x in tx.lessons(key)
            if x.facts.topic or x.facts.homework
        }


def read_back(rig: EngineRig, key: str = KEY) -> JournalReading:
    """The journal as the organizer sees it now (not counted as the service's calls)."""
    class_id, subject_id = key.split("/")
    return rig.reading(class_id, subject_id)


def entries_of(reading: JournalReading) -> dict[tuple[str, date, int], str]:
    found: dict[tuple[str, date, int], str] = {}
    for e in reading.entries:
        assert (e.pupil_id, e.day, e.lesson_no) not in found
        found[(e.pupil_id, e.day, e.lesson_no)] = cell_text(e.raw)
    return found


def lessons_of(reading: JournalReading) -> dict[tuple[date, int], tuple[str, ...]]:
    return {k: (f.topic, f.homework) for k, f in reading.lessons.items() if f.topic or f.homework}


def assert_no_loss(rig: EngineRig, key: str = KEY) -> None:
    reading = read_back(rig, key)
    assert entries_of(reading) == ledger_entries(rig.svc, key)
    assert lessons_of(reading) == ledger_lessons(rig.svc, key)
    assert not reading.needs_repair, reading.problems


def service_reading(rig: EngineRig) -> JournalReading:
    """The cycle's own read of the journal (counted): TabMissing when a tab is gone."""
    (ref,) = journal_refs(rig.school, [rig.journal(CLASS, SUBJECT)]).values()
    return read_journal(rig.svc, ref).reading


def worksheet(rig: EngineRig, file_id: str, title: str = Q1) -> Any:
    return rig.client(ORGANIZER).open_by_key(file_id).worksheet(title)


def audit(svc: Service, kind: str) -> list[dict[str, Any]]:
    with svc.ledger.engine.connect() as db:
        rows = db.execute(text("SELECT payload FROM audit WHERE kind = :k ORDER BY id"), {"k": kind})
        return [json.loads(r[0]) for r in rows]


# --------------------------------------------------------------------------- damage


def test_sorted_rows_are_read_in_place_and_need_no_repair(rig: EngineRig) -> None:
    file = rig.journal(CLASS, SUBJECT)
    grid = rig.grids(file.id)[Q1]
    body = sorted(grid[5:], key=lambda r: str(r[2]), reverse=True)  # by name, Я → А
    width = max(len(r) for r in body)
    worksheet(rig, file.id).update([list(r) + [""] * (width - len(r)) for r in body], "A6",
                                   raw=True)
    reading = service_reading(rig)
    assert not reading.needs_repair
    outcome = repair_journal(rig.svc, file, reading, now=rig.now())
    assert not outcome.repaired and outcome.writes == 0
    assert entries_of(read_back(rig)) == ledger_entries(rig.svc)
    before = ledger_entries(rig.svc)
    summary = run_cycle(rig.svc)
    assert summary.tally.violations == 0 and ledger_entries(rig.svc) == before


def test_inserted_column_is_survived_or_repaired(rig: EngineRig) -> None:
    file = rig.journal(CLASS, SUBJECT)
    ws = worksheet(rig, file.id)
    # rows: hidden date serials, months, the header, weekdays, «Вид работы», the first pupil
    ws.insert_cols([["", "", "Примечание", "", "", "отл"]], col=5)  # a note column: read around
    reading = service_reading(rig)
    assert not reading.needs_repair and entries_of(reading) == ledger_entries(rig.svc)
    ws.insert_cols([["", "", "10.09", "", "", "5"]], col=5)  # no lesson: the tab is re-laid out
    reading = service_reading(rig)
    assert reading.repair_tabs == (Q1,)
    rig.emu.reset_counters()
    outcome = repair_journal(rig.svc, file, reading, now=rig.now())
    assert outcome.replaced == [Q1] and outcome.writes == 1
    assert rig.calls() == {"drive": 0, "sheets_read": 0, "sheets_write": 1}  # ids known: setup
    assert_no_loss(rig)
    header = rig.grids(file.id)[Q1][2]
    assert "Примечание" not in header and "10.09" not in header
    (event,) = audit(rig.svc, "repair.journal")
    assert event["replaced"] == [Q1]
    assert sorted(d["raw"] for d in event["dropped"]) == ["5", "отл"]  # typed text, kept here
    assert all(d["cell"].startswith(f"'{Q1}'!") for d in event["dropped"])


def test_renamed_tab_gets_its_title_back(rig: EngineRig) -> None:
    file = rig.journal(CLASS, SUBJECT)
    worksheet(rig, file.id).update_title("Оценки")
    with pytest.raises(TabMissing):
        rig.svc.backend.read(file.id, journal_titles(rig.school))
    rig.emu.reset_counters()
    outcome = repair_journal(rig.svc, file, None, now=rig.now())
    assert outcome.renamed == [("Оценки", Q1)] and outcome.replaced == []
    assert rig.calls() == {"drive": 0, "sheets_read": 2, "sheets_write": 1}  # tabs, read, rename
    titles = [ws.title for ws in rig.client(ORGANIZER).open_by_key(file.id).worksheets()]
    assert titles[0] == Q1 and "Оценки" not in titles
    assert_no_loss(rig)
    (event,) = audit(rig.svc, "repair.journal")
    assert event["renamed"] == [["Оценки", Q1]] and "dropped" not in event


def test_deleted_tab_is_rebuilt_from_the_ledger_and_its_locks_hold(rig: EngineRig) -> None:
    file = rig.journal(CLASS, SUBJECT)
    sheet = rig.client(ORGANIZER).open_by_key(file.id)
    sheet.del_worksheet(sheet.worksheet(Q1))
    with pytest.raises(TabMissing):
        rig.svc.backend.read(file.id, journal_titles(rig.school))
    outcome = repair_journal(rig.svc, file, None, now=rig.now())
    assert outcome.replaced == [Q1] and outcome.renamed == []
    assert_no_loss(rig)
    assert [ws.title for ws in sheet.worksheets()][-1] == Q1  # re-added (at the end)
    who = rig.teacher_email(CLASS, SUBJECT)
    pupil = rig.school.pupils_in(CLASS)[0].id
    with pytest.raises(gspread.exceptions.APIError, match="protected"):
        rig.type(who, file.id, rig.cell(CLASS, SUBJECT, pupil, DAY), "2")  # DAY stays locked
    rig.type(who, file.id, rig.cell(CLASS, SUBJECT, pupil, NEXT), "4")  # today's column is open
    with rig.svc.ledger.snapshot() as tx:
        protections = tx.protections(file.id)
        recorded = tx.recorded_open_ranges(file.id)
    assert recorded == ""  # the next lock run protects every tab again
    fresh = rig.backend()  # a new process: no cached ids, yet ONE write and no metadata read
    rig.emu.reset_counters()
    fresh.set_open_ranges(file.id, {Q1: []}, protections)
    assert rig.calls() == {"drive": 0, "sheets_read": 0, "sheets_write": 1}


def test_deleted_row_keeps_what_teachers_typed_in_open_cells(rig: EngineRig) -> None:
    file = rig.journal(CLASS, SUBJECT)
    pupils = [p.id for p in rig.school.pupils_in(CLASS)]
    who = rig.teacher_email(CLASS, SUBJECT)
    rig.type(who, file.id, rig.cell(CLASS, SUBJECT, pupils[8], NEXT), "3")  # not synced yet
    gone = rig.cell(CLASS, SUBJECT, pupils[0], DAY).start_row
    worksheet(rig, file.id).delete_rows(gone + 1)  # pupils[0]'s row with a locked "5"
    reading = service_reading(rig)
    assert reading.repair_tabs == (Q1,)
    repair_journal(rig.svc, file, reading, now=rig.now())
    after = entries_of(read_back(rig))
    lesson_no = rig.lesson_on(CLASS, SUBJECT, NEXT).lesson_no
    assert after == ledger_entries(rig.svc) | {(pupils[8], NEXT, lesson_no): "3"}
    assert (pupils[0], DAY, rig.lesson_on(CLASS, SUBJECT, DAY).lesson_no) in after


def test_deleted_findings_tab_comes_back_with_the_open_findings(rig: EngineRig) -> None:
    file = rig.journal(CLASS, SUBJECT)
    sheet = rig.client(ORGANIZER).open_by_key(file.id)
    sheet.del_worksheet(sheet.worksheet(RU.findings_tab))
    outcome = repair_journal(rig.svc, file, None, now=rig.now())
    assert outcome.replaced == [RU.findings_tab]
    with rig.svc.ledger.snapshot() as tx:
        open_findings = tx.findings(KEY)
        assert tx.tab_hash(file.id, RU.findings_tab) not in (None, "")  # written as it is shown
    assert open_findings, "the rig's journal has open findings (e.g. missing topics)"
    with rig.svc.ledger.snapshot() as tx:
        assert file.id in tx.dirty_files()  # the next cycle re-reads it (its last change is ours)
    shown = [row for row in rig.findings_tab(file.id) if any(str(c).strip() for c in row)]
    # filled at once, never blank until the next cycle: the header and one line per finding
    assert shown[0] == ["Ячейка", "Замечание", "С какого числа"]
    assert len(shown) == 1 + len(open_findings)
    run_cycle(rig.svc)
    again = [row for row in rig.findings_tab(file.id) if any(str(c).strip() for c in row)]
    assert again == shown


def test_deleted_file_is_rebuilt_registered_and_shared(rig: EngineRig) -> None:
    old = rig.journal(CLASS, SUBJECT)
    rig.client(ORGANIZER).del_spreadsheet(old.id)
    rig.emu.reset_counters()
    new = rebuild_file(rig.svc, old, now=rig.now())
    teachers = rig.school.teachers_of(CLASS, SUBJECT)
    assert rig.calls() == {"drive": 1 + len(teachers), "sheets_read": 0, "sheets_write": 1}
    assert (new.kind, new.key) == (old.kind, old.key) and new.id != old.id
    assert rig.journal(CLASS, SUBJECT).id == new.id
    assert rig.emu.role_of(rig.teacher_email(CLASS, SUBJECT), new.id) == "writer"
    assert_no_loss(rig)
    created = audit(rig.svc, "setup.created")
    assert created[-1] == {"file": new.id, "kind": "journal", "key": KEY, "replaces": old.id}
    with rig.svc.ledger.snapshot() as tx:
        assert new.id in tx.dirty_files()  # the next cycle writes its service cells
    assert rig.svc.ledger.audit_verify().ok


def test_the_cycle_rebuilds_a_deleted_file(rig: EngineRig) -> None:
    old = rig.journal(CLASS, SUBJECT)
    rig.client(ORGANIZER).del_spreadsheet(old.id)
    summary = run_cycle(rig.svc)
    new = rig.journal(CLASS, SUBJECT)
    assert summary.rebuilt == [new.id] and new.id != old.id
    assert rig.emu.files[new.id].name == old.name  # under its own name, never «(2)»
    assert [f.id for f in rig.emu.files.values() if f.name == old.name] == [new.id]  # one
    assert_no_loss(rig)


def test_rebuild_all_rerenders_every_spreadsheet(rig: EngineRig) -> None:
    algebra, russian = rig.journal(CLASS, SUBJECT), rig.journal(CLASS, "russian")
    worksheet(rig, algebra.id).update([["испорчено"]], "D2", raw=True)  # a service cell
    worksheet(rig, algebra.id).update_title("Оценки")
    rig.client(ORGANIZER).del_spreadsheet(russian.id)
    with rig.svc.ledger.snapshot() as tx:
        class_file = tx.file_for(FileKind.CLASS, CLASS)
        admin = tx.file_for(FileKind.ADMIN, "admin")
    assert class_file is not None and admin is not None
    reason_cell = _reason_cell(rig, class_file)
    rig.type(_class_teacher(rig), class_file.id, reason_cell, "б")
    worksheet(rig, class_file.id, RU.attendance_tab).delete_rows(reason_cell.start_row + 2)
    worksheet(rig, admin.id, RU.corrections_tab).update([["", ""]], "A1", raw=True)
    summary = rebuild_all(rig.svc, now=rig.now())
    assert summary.failed == [] and summary.created == []
    assert summary.rebuilt == ["journal 7Б/russian"]
    assert set(summary.rerendered) == {f"journal {k}" for k in ("7Б/algebra", "10А/algebra")} | {
        "class 7Б", "admin admin", "board board"}
    assert set(summary.intact) == {"class 5А", "class 10А"}
    for key in ("7Б/algebra", "7Б/russian", "10А/algebra"):
        assert_no_loss(rig, key)
    assert "испорчено" not in json.dumps(rig.grids(algebra.id), ensure_ascii=False)
    grids = rig.inspector.read(class_file.id, [RU.roster_tab, RU.attendance_tab])
    after = parse_class(grids, rig.school, CLASS)
    assert not after.needs_repair
    assert [(a.pupil_id, cell_text(a.raw)) for a in after.attendance] == [
        (_reason_pupil(rig), "б")]
    rows = rig.inspector.read(admin.id, [RU.corrections_tab])[RU.corrections_tab]
    assert rows[0][:2] == ["Код строки", "Журнал"]
    with rig.svc.ledger.snapshot() as tx:
        dirty = tx.dirty_files()
        new_russian = tx.file_for(FileKind.JOURNAL, "7Б/russian")
    assert new_russian is not None and {algebra.id, new_russian.id} <= dirty
    assert rig.svc.ledger.audit_verify().ok


def test_rebuild_refuses_a_forged_ledger_before_any_call(rig: EngineRig) -> None:
    """A locked 5 changed to 2 in the ledger by SQL is never published: rebuild verifies first."""
    pupil = rig.school.pupils_in(CLASS)[0].id
    connection = sqlite3.connect(rig.svc.ledger.path, isolation_level=None)
    try:
        where = "WHERE journal = ? AND day = ? AND pupil_id = ?", (KEY, DAY.isoformat(), pupil)
        (lesson_no,) = connection.execute(f"SELECT lesson_no FROM entries {where[0]}",
                                          where[1]).fetchone()
        connection.execute(f"UPDATE entries SET value = '2', raw = '2' {where[0]}", where[1])
    finally:
        connection.close()
    rig.emu.reset_counters()
    with pytest.raises(StoreError, match="rebuild refused: the ledger does not verify") as caught:
        rebuild_all(rig.svc, now=rig.now())
    row = f"entries (journal {KEY}, day {DAY.isoformat()}, lesson_no {lesson_no}, pupil_id {pupil})"
    assert f"{row}: the row does not match its seal" in caught.value.message
    assert rig.emu.calls_total() == 0


def _class_teacher(rig: EngineRig) -> str:
    school_class = rig.school.school_class(CLASS)
    assert school_class is not None and school_class.class_teacher_id
    teacher = rig.school.teacher(school_class.class_teacher_id)
    assert teacher is not None
    return teacher.email


def _reason_pupil(rig: EngineRig) -> str:
    return rig.school.pupils_in(CLASS)[2].id


def _reason_cell(rig: EngineRig, class_file: FileRecord) -> CellRange:
    grids = rig.inspector.read(class_file.id, [RU.roster_tab, RU.attendance_tab])
    attendance = parse_class(grids, rig.school, CLASS).map.attendance
    assert attendance is not None
    row, col = attendance.rows[_reason_pupil(rig)], attendance.columns[DAY]  # open 7 days
    return CellRange(attendance.title, row, col, row + 1, col + 1)


# --------------------------------------------------------------------------- local backend


def test_local_backend_repairs_and_rebuilds(tmp_path: Path) -> None:
    school = small_school(2)
    clock = FakeClock(at(DAY, 9))
    with local_service(tmp_path, school, clock) as svc:
        assert run_setup(svc).complete
        run_cycle(svc)
        key = "5А/russian"
        with svc.ledger.snapshot() as tx:
            file = tx.file_for(FileKind.JOURNAL, key)
        assert file is not None
        lessons = sorted(school.lessons()[("5А", "russian")], key=lambda x: (x.day, x.lesson_no))
        lesson = next(x for x in lessons if x.day >= DAY)
        clock.moment = at(lesson.day, 10)

        def reading() -> JournalReading:
            return _local_reading(svc, file, lessons)

        where = reading().map
        pupils = [p.id for p in school.pupils_in("5А", on=lesson.day)][:3]
        for pupil, mark in zip(pupils, ["5", "4", "н"], strict=True):
            cell = where.cell(pupil, (lesson.day, lesson.lesson_no))
            assert cell is not None
            local_teacher_edit(svc.backend, file.id, cell.tab, cell.start_row, cell.start_col, mark)
        run_cycle(svc)
        want = ledger_entries(svc, key)
        assert len(want) == 3

        path = svc.backend.path(file.id)  # type: ignore[attr-defined]
        wb = openpyxl.load_workbook(path)
        wb[Q1].title = "Оценки"
        wb.remove(wb[RU.lessons_tab])
        wb.save(path)
        with pytest.raises(TabMissing):
            svc.backend.read(file.id, journal_titles(school))
        outcome = repair_journal(svc, file, None, now=clock())
        assert outcome.renamed == [("Оценки", Q1)] and outcome.replaced == [RU.lessons_tab]
        assert svc.backend.tabs(file.id)[:2] == [Q1, "2 четверть"]
        assert entries_of(reading()) == want and not reading().needs_repair

        path.unlink()  # the whole file is gone
        new = rebuild_file(svc, file, now=clock())
        assert new.id != file.id and entries_of(_local_reading(svc, new, lessons)) == want
        summary = rebuild_all(svc, now=clock())
        assert summary.failed == [] and summary.rebuilt == []
        assert f"journal {key}" in summary.rerendered
        assert entries_of(_local_reading(svc, new, lessons)) == want


def _local_reading(svc: Service, file: FileRecord, lessons: list[Any]) -> JournalReading:
    class_id, subject_id = file.key.split("/")
    grids = svc.backend.read(file.id, [*journal_titles(svc.school), RU.findings_tab])
    return parse_journal(grids, svc.school, class_id, subject_id, lessons)


# --------------------------------------------------------------------------- replace_tabs


def test_google_replace_tabs_is_one_write() -> None:
    rig = google_rig()
    try:
        info = rig.backend.create(sample_spec())
        fresh = replace(grades_tab(), rows=[["id", "Ученик", "02.09"], ["p1", "Иванов Иван", "4"]])
        rig.emu.reset_counters()
        rig.backend.replace_tabs(info.id, [fresh])  # ids known since the create
        assert rig.emu.calls_total("sheets_write") == 1 and rig.emu.calls_total() == 1
        other = rig.another_backend()  # a new process: one metadata read first
        rig.emu.reset_counters()
        ids = other.replace_tabs(info.id, [grades_tab(), TabSpec("Замечания", [["x"]], 5, 3)])
        assert rig.emu.calls_total("sheets_read") == 1 and rig.emu.calls_total("sheets_write") == 1
        assert set(ids) == {GRADES, "Замечания"}
        # someone deletes the tab behind this process's back: stale ids, re-read once, retry
        sheet = rig.emu.client(rig.emu.service_principal).open_by_key(info.id)
        sheet.del_worksheet(sheet.worksheet(LESSONS))
        rig.emu.reset_counters()
        other.replace_tabs(info.id, [lessons_tab()])
        assert rig.emu.calls_total("sheets_read") == 1 and rig.emu.calls_total("sheets_write") == 2
        assert other.tabs(info.id) == [GRADES, "Замечания", LESSONS]
        assert other.read(info.id, [LESSONS])[LESSONS] == [
            ["Дата", "Тема", "Домашнее задание"], ["02.09", "Дроби", "№ 1"]]
        other.close()
        assert rig.emu.bugs == []
    finally:
        rig.close()


def test_local_replace_tabs_is_one_atomic_save(tmp_path: Path) -> None:
    from sync.backends.local.backend import LocalBackend

    backend = LocalBackend(tmp_path / "sheets")
    info = backend.create(sample_spec())
    token = backend.start_token()
    backend.replace_tabs(info.id, [replace(grades_tab(), open_ranges=())])
    changed, _ = backend.changes(token)
    assert [(c.id, c.by_me) for c in changed] == [(info.id, True)]  # one save, recognised as own
    assert backend.open_ranges(info.id)[GRADES] == []
    with pytest.raises(PermissionError):
        local_teacher_edit(backend, info.id, GRADES, 3, 3, "5")  # the open column is closed now
    assert [s.title for s in openpyxl.load_workbook(backend.path(info.id)).worksheets] == [
        GRADES, LESSONS]
