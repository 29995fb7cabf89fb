"""The deputy's corrections: signed rows of "Исправления" change locked cells, audited, answered.

Over the emulator with the real gspread client: the deputy types rows into the admin spreadsheet as
their own principal; the service (``process_corrections``) applies or rejects them, writes the new
value into the journal cell where it is NOW, and answers each row. One test repeats the main path on
the local backend (the deputy edits the xlsx with openpyxl).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from config.school import School
from sync.backends.local.backend import LocalBackend
from sync.backends.protocol import Backend, CellRange, Grid, Role
from sync.jobs.corrections import process_corrections
from sync.jobs.service import Service
from sync.layout.admin.spec import admin_spec, parse_corrections
from sync.layout.journal.spec import JournalValues, LessonFacts, journal_spec, parse_journal
from sync.ledger.ledger import Ledger
from sync.ledger.model import CellRef, CorrectionStatus, EntryInput, Field, FileKind, LessonInput
from sync.ledger.state import CORRECTIONS_DEFERRED_KEY
from tests.emulator import GoogleEmulator
from tests.sync.backend_helpers import google_rig, local_teacher_edit
from tests.sync.layout_helpers import example_school

DEPUTY = "zavuch@school.ru"
TAB = "Исправления"
JOURNAL = "7Б/algebra"
TITLE = "7Б · Алгебра"
DAY = date(2026, 9, 8)  # 7Б algebra: lesson 5 (Tuesday)
PUPIL = "s0027"  # Алексеев Иван Кириллович
OTHER = "s0028"
TODAY = date(2026, 9, 21)  # the 08.09 column is long locked


class Clock:
    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current


@dataclass
class Rig:
    svc: Service
    backend: Backend
    emu: GoogleEmulator | None
    journal_id: str
    admin_id: str
    clock: Clock

    @property
    def school(self) -> School:
        return self.svc.school

    def now(self) -> datetime:
        return self.svc.now()

    def deputy_types(self, row: int, values: list[Any]) -> None:
        """The deputy fills row ``row`` (0-based; 1 = first under the header), columns B…I."""
        if self.emu is not None:
            target = CellRange(TAB, row, 1, row + 1, 1 + len(values)).a1()
            self.emu.client(DEPUTY).http_client.values_update(
                self.admin_id,
                target,
                params={"valueInputOption": "USER_ENTERED"},
                body={"values": [values]},
            )
        else:
            for offset, value in enumerate(values):
                local_teacher_edit(self.backend, self.admin_id, TAB, row, 1 + offset, str(value))

    def admin_grid(self) -> Grid:
        return self.backend.read(self.admin_id, [TAB])[TAB]

    def process(self) -> Any:
        return process_corrections(self.svc, self.admin_grid(), now=self.now())

    def journal(self) -> Any:
        school = self.school
        tabs = [p.name for p in school.year.periods] + ["Уроки"]
        grids = self.backend.read(self.journal_id, tabs)
        lessons = school.lessons()[("7Б", "algebra")]
        return parse_journal(grids, school, "7Б", "algebra", lessons), grids


def row(
    *,
    journal: str = TITLE,
    day: str = "08.09.2026",
    pupil: str = PUPIL,
    what: str = "отметка",
    value: str = "4",
    reason: str = "ошибка при вводе",
    order: str = "45-к",
    signed: str = "да",
) -> list[Any]:
    return [journal, day, pupil, what, value, reason, order, signed]


def make_rig(backend: Backend, emu: GoogleEmulator | None, tmp_path: Path) -> Rig:
    school = example_school()
    clock = Clock(datetime(2026, 9, 21, 10, 0, tzinfo=school.timezone))
    if isinstance(backend, LocalBackend):
        backend.clock = clock  # its own writes are stamped with the simulated time
    ledger = Ledger.open(tmp_path / "ledger.sqlite3", now=clock())
    svc = Service(school=school, backend=backend, ledger=ledger, clock=clock)
    lessons = school.lessons()[("7Б", "algebra")]
    values = JournalValues(
        entries={(PUPIL, DAY, 5): "3", (OTHER, DAY, 5): "5"},
        period_marks={},
        lessons={(DAY, 5): LessonFacts(topic="Дроби")},  # the sheet shows what the ledger locked
    )
    spec = journal_spec(school, "7Б", "algebra", lessons, today=TODAY, existing=values)
    journal = backend.create(spec)
    admin = backend.create(admin_spec(school))
    backend.grant(admin.id, DEPUTY, Role.WRITER)
    now = clock()
    with ledger.transaction() as tx:
        tx.register_file(
            journal.id, FileKind.JOURNAL, JOURNAL, spec.name, now, protections=journal.protections
        )
        tx.register_file(
            admin.id, FileKind.ADMIN, "admin", "Администрация", now, protections=admin.protections
        )
        tx.upsert_lesson(JOURNAL, LessonInput(DAY, 5, "1 четверть", topic="Дроби"), now)
        tx.accept_entries(
            JOURNAL,
            [
                EntryInput(PUPIL, DAY, 5, "3", "3", "mark"),
                EntryInput(OTHER, DAY, 5, "5", "5", "mark"),
            ],
            now,
        )
        tx.lock_day(JOURNAL, DAY, now, lesson_nos=[5])
    return Rig(svc, backend, emu, journal.id, admin.id, clock)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    google = google_rig()
    built = make_rig(google.backend, google.emu, tmp_path)
    yield built
    built.svc.ledger.close()
    google.close()


def status_of(grid: Grid, row: int) -> tuple[str, str, str]:
    line = list(grid[row]) + [""] * 11
    return str(line[9] or ""), str(line[10] or ""), str(line[0] or "")


def mark_in_sheet(rig: Rig, pupil: str) -> str | None:
    reading, _ = rig.journal()
    found = [e for e in reading.entries if (e.pupil_id, e.day, e.lesson_no) == (pupil, DAY, 5)]
    return str(found[0].raw) if found else None


def audit_kinds(rig: Rig) -> list[str]:
    from sqlalchemy import text

    with rig.svc.ledger.engine.connect() as db:
        query = "SELECT kind FROM audit WHERE kind != 'data.sealed' ORDER BY id"  # ledger seals
        return [r[0] for r in db.execute(text(query))]


# --------------------------------------------------------------------------- applied


def test_a_signed_row_is_applied_to_the_ledger_the_journal_and_answered(rig: Rig) -> None:
    rig.deputy_types(1, row())
    grid = rig.admin_grid()
    assert rig.emu is not None
    rig.emu.reset_counters()
    summary = process_corrections(rig.svc, grid, now=rig.now())
    svc = rig.emu.service_principal
    # budget: one read of the journal, one write to it, one write of the answers; no Drive call
    assert [rig.emu.calls_total(k, svc) for k in ("sheets_read", "sheets_write", "drive")] == [
        1,
        2,
        0,
    ]

    assert (summary.applied, summary.rejected, summary.cells_written) == (1, 0, 1)
    with rig.svc.ledger.snapshot() as tx:
        entry = next(e for e in tx.entries(JOURNAL) if e.pupil_id == PUPIL)
        (record,) = tx.corrections()
    assert (entry.value, entry.kind, entry.accepted_by) == ("4", "mark", "correction:45-к")
    assert entry.locked_at is not None  # still locked: only another correction changes it
    assert (record.status, record.old_value, record.new_value) == (
        CorrectionStatus.APPLIED,
        "3",
        "4",
    )
    assert mark_in_sheet(rig, PUPIL) == "4"
    assert mark_in_sheet(rig, OTHER) == "5"  # the neighbour is untouched
    status, processed, key = status_of(rig.admin_grid(), 1)
    assert status == "применено"
    assert processed == "21.09.2026 10:00"
    assert key == record.source_key
    kinds = audit_kinds(rig)  # then the journal as corrected goes through the cycle's step:
    assert kinds.count("correction.applied") == 1  # what had closed by now is locked there
    assert set(kinds[kinds.index("correction.applied") + 1:]) <= {"lock.applied"}
    assert rig.svc.ledger.audit_verify().ok


def test_the_value_lands_in_the_pupils_current_row_after_sorting(rig: Rig) -> None:
    """The owner sorted the pupils' rows (descending): the correction follows the hidden id."""
    tab = "1 четверть"
    grid = rig.backend.read(rig.journal_id, [tab])[tab]
    body = sorted((list(r) for r in grid[2:]), key=lambda r: str(r[2]), reverse=True)
    width = max(len(r) for r in body)
    padded = [r + [""] * (width - len(r)) for r in body]
    rig.backend.write(rig.journal_id, [(CellRange(tab, 2, 0, 2 + len(padded), width), padded)])
    reading, _ = rig.journal()
    row_before = reading.map.periods[tab].rows[PUPIL]
    assert row_before != 2 + [r[0] for r in grid[2:]].index(PUPIL)  # it did move

    rig.deputy_types(1, row(value="5/4"))
    assert rig.process().applied == 1

    reading, grids = rig.journal()
    col = reading.map.periods[tab].columns[(DAY, 5)]
    assert grids[tab][row_before][col] == "5/4"
    assert grids[tab][row_before][0] == PUPIL
    assert mark_in_sheet(rig, OTHER) == "5"


def test_period_mark_and_lesson_topic_corrections_go_to_their_cells(rig: Rig) -> None:
    rig.deputy_types(1, row(what="четвертная", day="1 четверть", value="4"))
    rig.deputy_types(2, row(what="тема", pupil="", value="Обыкновенные дроби"))
    summary = rig.process()
    assert (summary.applied, summary.rejected) == (2, 0)

    reading, _ = rig.journal()
    (period_mark,) = [p for p in reading.period_marks if p.pupil_id == PUPIL]
    assert (period_mark.period, str(period_mark.raw)) == ("1 четверть", "4")
    assert reading.lessons[(DAY, 5)].topic == "Обыкновенные дроби"
    with rig.svc.ledger.snapshot() as tx:
        (lesson,) = [x for x in tx.lessons(JOURNAL) if x.facts.day == DAY]
        (pm,) = tx.period_marks(JOURNAL)
    assert lesson.facts.topic == "Обыкновенные дроби"
    assert (pm.pupil_id, pm.value) == (PUPIL, "4")


def test_work_type_correction_also_fills_the_row_under_the_dates(rig: Rig) -> None:
    rig.deputy_types(1, row(what="вид работы", pupil="", value="control"))
    assert rig.process().applied == 1
    reading, grids = rig.journal()
    assert reading.lessons[(DAY, 5)].work_type == "Контрольная работа"
    under = reading.map.work_type_cell((DAY, 5))
    assert under is not None
    assert grids[under.tab][under.start_row][under.start_col] == "Контрольная работа"


# --------------------------------------------------------------------------- idempotent


def test_processing_twice_applies_once_and_writes_nothing_more(rig: Rig) -> None:
    rig.deputy_types(1, row())
    stale = rig.admin_grid()  # as read before the service answered the row
    assert rig.process().applied == 1
    events = len(audit_kinds(rig))
    assert rig.emu is not None
    rig.emu.reset_counters()

    again = rig.process()  # the answered sheet: nothing is ready
    assert (again.applied, again.restated, again.writes, again.reads) == (0, 0, 0, 0)
    assert rig.emu.calls_total(kind="sheets_write") == 0

    # the status write was lost (the same unanswered grid comes again): answered, not re-applied
    lost = process_corrections(rig.svc, stale, now=rig.now() + timedelta(minutes=5))
    assert (lost.applied, lost.restated, lost.cells_written) == (0, 1, 0)
    assert len(audit_kinds(rig)) == events
    with rig.svc.ledger.snapshot() as tx:
        assert len(tx.corrections()) == 1
    assert status_of(rig.admin_grid(), 1)[0] == "применено"


def test_a_lost_journal_write_is_repeated_when_the_row_is_answered_again(rig: Rig) -> None:
    """Crash after the commit, before any write: the next pass writes the cell and the status."""
    rig.deputy_types(1, row(value="2"))
    grid = rig.admin_grid()
    (parsed,) = parse_corrections(grid, rig.school)
    with rig.svc.ledger.transaction() as tx:  # what the crashed pass had committed
        target = CellRef(Field.MARK, PUPIL, DAY, 5)
        tx.record_correction(parsed.key, JOURNAL, target, "2", "r", "45-к", rig.now())
        tx.apply_correction(parsed.key, rig.now(), value="2", kind="mark", raw="2")
    assert mark_in_sheet(rig, PUPIL) == "3"

    summary = process_corrections(rig.svc, grid, now=rig.now())
    assert (summary.applied, summary.restated, summary.cells_written) == (0, 1, 1)
    assert mark_in_sheet(rig, PUPIL) == "2"
    assert status_of(rig.admin_grid(), 1)[0] == "применено"


def test_a_copied_row_is_answered_as_a_duplicate_and_applied_once(rig: Rig) -> None:
    rig.deputy_types(1, row())
    rig.deputy_types(2, row())
    summary = rig.process()
    assert (summary.applied, summary.duplicates) == (1, 1)
    grid = rig.admin_grid()
    assert status_of(grid, 1)[0] == "применено"
    assert status_of(grid, 2)[0] == "отклонено: повторяет строку 2"
    assert audit_kinds(rig).count("correction.applied") == 1
    assert rig.process().writes == 0  # both rows are answered now


# --------------------------------------------------------------------------- rejected


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"value": "6"}, "«6»"),
        ({"reason": ""}, "не указана причина исправления"),
        ({"order": ""}, "не указан номер приказа"),
        ({"journal": "7Б · Химия"}, "журнал «7Б · Химия» не найден"),
        ({"day": "12.09.2026"}, "12.09.2026 в этом журнале нет урока"),
        ({"pupil": "Неизвестный Ученик"}, "нет ученика «Неизвестный Ученик»"),
        ({"day": "22.09.2026"}, "урок 22.09.2026 ещё не проведён"),
    ],
    ids=["bad-value", "no-reason", "no-order", "no-journal", "no-lesson", "no-pupil", "future"],
)
def test_a_bad_row_is_rejected_with_a_russian_reason(
    rig: Rig, changes: dict[str, str], reason: str
) -> None:
    rig.deputy_types(1, row(**changes))
    summary = rig.process()
    assert (summary.applied, summary.rejected, summary.cells_written) == (0, 1, 0)
    status = status_of(rig.admin_grid(), 1)[0]
    assert status.startswith("отклонено: ")
    assert reason in status
    with rig.svc.ledger.snapshot() as tx:
        (record,) = tx.corrections()
        entry = next(e for e in tx.entries(JOURNAL) if e.pupil_id == PUPIL)
    assert record.status is CorrectionStatus.REJECTED and reason in (record.reject_reason or "")
    assert entry.value == "3"  # nothing else changed
    assert mark_in_sheet(rig, PUPIL) == "3"
    assert audit_kinds(rig)[-1] == "correction.rejected"


def test_an_unsigned_row_waits_without_an_answer(rig: Rig) -> None:
    rig.deputy_types(1, row(signed="нет"))
    summary = rig.process()
    assert (summary.waiting, summary.applied, summary.rejected, summary.writes) == (1, 0, 0, 0)
    assert status_of(rig.admin_grid(), 1)[0] == ""
    rig.deputy_types(1, row(signed="да"))  # signed later: applied then
    assert rig.process().applied == 1
    assert mark_in_sheet(rig, PUPIL) == "4"


def test_a_pupil_who_had_left_cannot_get_a_mark(rig: Rig) -> None:
    import dataclasses

    school = rig.school
    pupils = tuple(
        dataclasses.replace(p, left=date(2026, 9, 4)) if p.id == PUPIL else p for p in school.pupils
    )
    rig.svc.school = dataclasses.replace(school, pupils=pupils)
    rig.deputy_types(1, row())
    assert rig.process().rejected == 1
    assert "не числится в классе 08.09.2026" in status_of(rig.admin_grid(), 1)[0]


# --------------------------------------------------------------------------- journal unreadable


def test_a_journal_that_cannot_be_read_defers_the_row(rig: Rig) -> None:
    assert rig.emu is not None
    rig.deputy_types(1, row())
    rig.emu.faults.add("503", match=rig.journal_id, times=None)
    summary = rig.process()
    assert (summary.applied, summary.deferred, summary.writes) == (0, 1, 0)
    assert summary.errors and rig.journal_id in summary.errors[0]
    assert status_of(rig.admin_grid(), 1)[0] == ""  # unanswered: retried
    with rig.svc.ledger.snapshot() as tx:
        assert tx.corrections() == []
        assert tx.state_get(CORRECTIONS_DEFERRED_KEY) == "1"

    rig.emu.faults.clear()
    done = rig.process()
    assert (done.applied, done.deferred) == (1, 0)
    assert mark_in_sheet(rig, PUPIL) == "4"
    with rig.svc.ledger.snapshot() as tx:
        assert tx.state_get(CORRECTIONS_DEFERRED_KEY) == "0"


def test_without_an_admin_file_it_says_to_run_setup(rig: Rig, tmp_path: Path) -> None:
    from rules.errors import StoreError

    bare = Ledger.open(tmp_path / "bare.sqlite3", now=rig.now())
    svc = Service(school=rig.school, backend=rig.backend, ledger=bare, clock=rig.clock)
    try:
        with pytest.raises(StoreError, match="no admin spreadsheet") as info:
            process_corrections(svc, rig.admin_grid(), now=rig.now())
        assert "ejournal setup" in (info.value.hint or "")
    finally:
        bare.close()


# --------------------------------------------------------------------------- local backend


def test_local_backend_without_a_private_folder_applies_no_correction(tmp_path: Path) -> None:
    """The admin workbook in the teachers' folder: a teacher's own «да» row changes nothing."""
    backend = LocalBackend(tmp_path / "sheets")
    built = make_rig(backend, None, tmp_path)
    school = built.svc.school
    built.svc.school = dataclasses.replace(
        school, backend=dataclasses.replace(school.backend, private_folder=None))
    try:
        built.deputy_types(1, row(value="5"))  # typed by anyone: the file names nobody
        summary = built.process()
        assert (summary.applied, summary.rejected, summary.cells_written) == (0, 1, 0)
        assert mark_in_sheet(built, PUPIL) == "3"
        status = status_of(built.admin_grid(), 1)[0]
        assert status.startswith("отклонено: книга с листом «Исправления» лежит в папке учителей")
        assert "private_folder" in status
        with built.svc.ledger.snapshot() as tx:
            (mark,) = [e for e in tx.entries(JOURNAL) if e.pupil_id == PUPIL]
        assert mark.value == "3"
        assert "correction.applied" not in audit_kinds(built)
    finally:
        built.svc.ledger.close()


def test_local_backend_applies_a_correction(tmp_path: Path) -> None:
    backend = LocalBackend(tmp_path / "sheets", private_folder=tmp_path / "private")
    built = make_rig(backend, None, tmp_path)
    school = built.svc.school  # the admin workbook lives in the deputies' private folder
    built.svc.school = dataclasses.replace(school, backend=dataclasses.replace(
        school.backend, private_folder=tmp_path / "private"))
    try:
        built.deputy_types(1, row(value="5"))
        summary = built.process()
        assert (summary.applied, summary.cells_written) == (1, 1)
        assert mark_in_sheet(built, PUPIL) == "5"
        assert status_of(built.admin_grid(), 1)[0] == "применено"
        assert mark_in_sheet(built, OTHER) == "5"
    finally:
        built.svc.ledger.close()
