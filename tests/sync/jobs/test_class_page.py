"""The class teacher's page over the emulator: the register of parents on «Список класса» decides
who reads each diary (consent given → shared in the same cycle, withdrawn → unshared), bad input
gets a finding on the class page's own «Замечания» and changes nobody's access, pupil rows are
protected, and the «н» of the subject journals show on «Посещаемость» until a reason is given —
which then reaches the diary.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import gspread
import pytest

from sync.backends.protocol import CellRange, Grid
from sync.jobs.cycle import run_cycle
from sync.layout.class_sheet.spec import parse_class
from sync.layout.labels import RU
from sync.ledger.model import FileKind
from tests.sync.access_invariants import assert_invariants
from tests.sync.engine_fixtures import DAY, ORGANIZER, EngineRig, at
from tests.sync.jobs.diary_helpers import diaries, diary_rig, diary_writes, read_diary

CLASS = "7Б"


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[EngineRig]:
    rig = diary_rig(tmp_path)
    rig.set_now(at(DAY, 9))
    assert run_cycle(rig.svc).ok  # diaries made, the class pages read once
    rig.set_now(at(DAY, 10))
    rig.emu.reset_counters()
    yield rig
    try:
        assert_invariants(rig)  # after every test: nobody reads or writes what they must not
    finally:
        rig.close()
    assert rig.emu.bugs == []


def page(rig: EngineRig) -> str:
    with rig.svc.ledger.snapshot() as tx:
        record = tx.file_for(FileKind.CLASS, CLASS)
    assert record is not None
    return record.id


def class_teacher(rig: EngineRig) -> str:
    school_class = rig.school.school_class(CLASS)
    assert school_class is not None and school_class.class_teacher_id
    teacher = rig.school.teacher(school_class.class_teacher_id)
    assert teacher is not None
    return teacher.email


def roster_cell(rig: EngineRig, pupil: str, column: str) -> CellRange:
    grids = rig.inspector.read(page(rig), [RU.roster_tab, RU.attendance_tab])
    where = parse_class(grids, rig.school, CLASS).map.roster
    assert where is not None
    row, col = where.rows[pupil], where.columns[column]
    return CellRange(RU.roster_tab, row, col, row + 1, col + 1)


def type_roster(rig: EngineRig, pupil: str, column: str, value: str) -> None:
    rig.type(class_teacher(rig), page(rig), roster_cell(rig, pupil, column), value)


def readers(rig: EngineRig, pupil: str) -> set[str]:
    f = rig.emu.files[diaries(rig)[pupil]]
    return {p.email_address for p in f.permissions if p.role == "reader"}


def remarks(rig: EngineRig) -> list[str]:
    grid = rig.inspector.read(page(rig), [RU.findings_tab])[RU.findings_tab]
    return [row[1] for row in grid[1:] if len(row) > 1]


def pupil_without_consent(rig: EngineRig) -> str:
    """A 7Б pupil whose parents had not applied by DAY (their page shows no date)."""
    for p in rig.school.pupils_in(CLASS):
        parents = rig.school.parents_of(p.id)
        if parents and all(x.consent is None or x.consent > DAY for x in parents):
            return p.id
    raise AssertionError("the example has such a pupil")


def test_consent_given_shares_and_withdrawn_unshares_in_the_same_cycle(rig: EngineRig) -> None:
    pupil = pupil_without_consent(rig)
    parent = rig.school.parents_of(pupil)[0].email.lower()
    assert readers(rig, pupil) == set()  # no application: the diary exists, shared with nobody
    with pytest.raises(gspread.exceptions.APIError):
        read_diary(rig, parent, pupil)
    type_roster(rig, pupil, "parent_consent:1", "08.09.2026")

    summary = run_cycle(rig.svc)

    assert readers(rig, pupil) == {parent}
    assert read_diary(rig, parent, pupil)[0][0] == "Дневник"
    assert summary.diaries is not None and summary.diaries["granted"] == 1
    assert diary_writes(rig) == {}  # the diary's content did not change
    rig.set_now(at(DAY, 11))
    type_roster(rig, pupil, "parent_consent:1", "")  # the application is withdrawn

    withdrawn = run_cycle(rig.svc)

    assert readers(rig, pupil) == set() and withdrawn.diaries is not None
    assert withdrawn.diaries["revoked"] == 1
    with pytest.raises(gspread.exceptions.APIError) as refused:
        read_diary(rig, parent, pupil)
    assert refused.value.response.status_code in (403, 404)
    file_id = diaries(rig)[pupil]
    with rig.svc.ledger.snapshot() as tx:
        left = tx.acl(file_id)
    assert left == []  # nothing desired, nothing observed: the register and Drive agree


def test_a_bad_email_is_a_finding_and_a_corrected_one_moves_access(rig: EngineRig) -> None:
    pupil = next(p.id for p in rig.school.pupils_in(CLASS) if rig.school.parents_of(p.id)
                 and readers(rig, p.id))
    old = rig.school.parents_of(pupil)[0].email.lower()
    assert old in readers(rig, pupil)
    type_roster(rig, pupil, "parent_email:1", "mama@gmail")  # not an address

    run_cycle(rig.svc)

    assert old in readers(rig, pupil)  # a typo takes nobody's access away
    found = remarks(rig)
    where = roster_cell(rig, pupil, "parent_email:1").a1().rpartition("!")[2].split(":")[0]
    assert any(f"ячейка {where}" in m and "не адрес электронной почты" in m for m in found)
    rig.set_now(at(DAY, 11))
    type_roster(rig, pupil, "parent_email:1", "Mama.New@gmail.com")

    run_cycle(rig.svc)

    assert "mama.new@gmail.com" in readers(rig, pupil) and old not in readers(rig, pupil)
    assert not any("не адрес" in m for m in remarks(rig))
    assert read_diary(rig, "mama.new@gmail.com", pupil)[0][0] == "Дневник"


def test_a_future_date_and_a_duplicate_are_findings(rig: EngineRig) -> None:
    pupil = pupil_without_consent(rig)
    type_roster(rig, pupil, "parent_consent:1", "20.09.2026")
    other = next(p.id for p in rig.school.pupils_in(CLASS) if len(rig.school.parents_of(p.id)) == 2)
    first = rig.school.parents_of(other)[0].email
    type_roster(rig, other, "parent_email:2", first.upper())

    run_cycle(rig.svc)

    found = remarks(rig)
    assert any("дата заявления 20.09.2026 ещё не наступила" in m for m in found)
    assert any(f"адрес {first.lower()} уже записан у родителя 1" in m for m in found)
    assert readers(rig, pupil) == set()


def test_pupil_rows_are_protected_and_contacts_are_open(rig: EngineRig) -> None:
    pupil = rig.school.pupils_in(CLASS)[0].id
    with pytest.raises(gspread.exceptions.APIError) as refused:
        type_roster(rig, pupil, "last_name", "Иванов")  # admission orders: the configuration
    assert "protected" in str(refused.value)
    type_roster(rig, pupil, "parent_name:2", "Алексеева Мария Ивановна")  # allowed


def need_column(rig: EngineRig) -> dict[str, str]:
    grid: Grid = rig.inspector.read(page(rig), [RU.attendance_tab])[RU.attendance_tab]
    return {row[0]: (row[3] if len(row) > 3 else "") for row in grid[1:] if row}


def test_a_journal_absence_shows_on_the_class_page_and_its_reason_reaches_the_diary(
        rig: EngineRig) -> None:
    pupil = rig.school.pupils_in(CLASS)[4].id
    teacher = rig.teacher_email(CLASS, "algebra")
    rig.type(teacher, rig.journal(CLASS, "algebra").id, rig.cell(CLASS, "algebra", pupil, DAY),
             "н")

    run_cycle(rig.svc)  # only the journal was read; the class page follows

    assert need_column(rig)[pupil] == "08.09 (1 ур.)"
    assert rig.calls()["sheets_read"] == 1
    lesson_no = rig.lesson_on(CLASS, "algebra", DAY).lesson_no
    assert [f"{lesson_no}. Алгебра", "н, причина не указана"] in read_diary(rig, ORGANIZER, pupil)
    rig.set_now(at(DAY, 12))
    from tests.sync.jobs.test_cycle_classes import type_reason

    type_reason(rig, pupil, DAY, "у")

    run_cycle(rig.svc)

    assert need_column(rig)[pupil] == ""
    assert [f"{lesson_no}. Алгебра", "н, по уважительной причине"] in read_diary(
        rig, ORGANIZER, pupil)


def test_pupils_may_view_their_own_diary_where_the_school_allows(tmp_path: Path) -> None:
    rig = diary_rig(tmp_path, pupils_may_view=True)
    try:
        rig.set_now(at(DAY, 9))
        run_cycle(rig.svc)
        pupil = rig.school.pupils_in(CLASS)[0].id
        rig.set_now(at(DAY, 10))
        type_roster(rig, pupil, "pupil_email", "ivan.pupil@gmail.com")
        type_roster(rig, pupil, "may_view", "да")
        run_cycle(rig.svc)
        assert "ivan.pupil@gmail.com" in readers(rig, pupil)
        assert read_diary(rig, "ivan.pupil@gmail.com", pupil)[0][0] == "Дневник"
        with pytest.raises(gspread.exceptions.APIError):  # a pupil never sees a journal
            rig.client("ivan.pupil@gmail.com").http_client.values_get(
                rig.journal(CLASS, "algebra").id, "'Уроки'")
        rig.set_now(at(DAY, 11))
        type_roster(rig, pupil, "may_view", "нет")
        run_cycle(rig.svc)
        assert "ivan.pupil@gmail.com" not in readers(rig, pupil)
    finally:
        rig.close()


def test_dates_of_the_example_keep_their_meaning(rig: EngineRig) -> None:
    """parents.csv lists applications made later in the year: the page shows only those made
    by the day it was created, so nobody is shared a diary before applying."""
    later = [p for p in rig.school.parents if p.consent is not None and p.consent > DAY
             and rig.school.pupil(p.pupil_id) is not None]
    assert later
    for p in later:
        assert p.email.lower() not in readers(rig, p.pupil_id)
    assert date(2026, 9, 8) == DAY


def test_a_deleted_roster_comes_back_with_the_class_teachers_entries(rig: EngineRig) -> None:
    pupil = rig.school.pupils_in(CLASS)[2].id
    type_roster(rig, pupil, "parent_email:1", "papa.new@gmail.com")
    run_cycle(rig.svc)
    sheets = rig.emu.files[page(rig)].spreadsheet.sheets
    roster = next(s for s in sheets if s.title == RU.roster_tab)
    rig.client(ORGANIZER).http_client.batch_update(page(rig), {"requests": [
        {"deleteSheet": {"sheetId": roster.sheet_id}}]})
    rig.set_now(at(DAY, 11))

    run_cycle(rig.svc)  # the page is repaired from the ledger's register

    grids = rig.inspector.read(page(rig), [RU.roster_tab, RU.attendance_tab])
    reading = parse_class(grids, rig.school, CLASS)
    (row,) = [r for r in reading.roster if r.pupil_id == pupil]
    assert row.parents[0].email == "papa.new@gmail.com"
    assert "papa.new@gmail.com" in readers(rig, pupil)
