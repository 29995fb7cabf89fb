"""The class spreadsheet: roster and attendance, spec → grids → parse, intact and damaged."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.school import School
from rules.model import AbsenceReason
from sync.backends.protocol import CellRange, Grid
from sync.layout.class_sheet.spec import (
    ClassReading,
    ClassValues,
    attendance_days,
    class_open_ranges,
    class_spec,
    parse_class,
    parse_reason,
)
from sync.layout.common import ProblemKind, header_text, spec_grids
from tests.emulator.cellvalues import date_to_serial
from tests.sync.layout_helpers import (
    delete_col,
    delete_row,
    example_school,
    find_col,
    insert_col,
    insert_row,
    set_cell,
    sort_rows,
    swap_cols,
)

CLASS = "7Б"
ROSTER, ATTENDANCE = "Список класса", "Посещаемость"
TODAY = date(2026, 9, 10)


@pytest.fixture(scope="module")
def school() -> School:
    return example_school()


@pytest.fixture(scope="module")
def reasons(school: School) -> dict[tuple[str, date], str]:
    days = attendance_days(school)
    pupils = school.pupils_in(CLASS)
    codes = ("б", "у", "н")
    return {(p.id, days[(i * 5) % 40]): codes[i % 3] for i, p in enumerate(pupils)}


@pytest.fixture(scope="module")
def grids(school: School, reasons) -> dict[str, Grid]:
    return spec_grids(class_spec(school, CLASS, today=TODAY, existing=ClassValues(reasons)))


def parse(school: School, grids: dict[str, Grid]) -> ClassReading:
    return parse_class(grids, school, CLASS)


def kinds(reading: ClassReading) -> set[ProblemKind]:
    return {p.kind for p in reading.problems}


def roster_facts(reading: ClassReading) -> dict[str | None, tuple]:
    return {
        r.pupil_id: (
            r.last_name,
            r.first_name,
            r.middle_name,
            r.enrolled,
            r.left,
            r.email,
            tuple((p.parent_id, p.full_name, p.email, p.consent) for p in r.parents),
        )
        for r in reading.roster
    }


def config_facts(school: School) -> dict[str | None, tuple]:
    out = {}
    for p in school.pupils_in(CLASS):
        parents = sorted(school.parents_of(p.id), key=lambda x: x.id)
        out[p.id] = (
            p.last_name,
            p.first_name,
            p.middle_name,
            p.enrolled,
            p.left,
            p.email or "",
            # an application dated after the day the page was made is not shown (not made yet)
            tuple((x.id, x.full_name, x.email, x.consent if x.consent and x.consent <= TODAY
                   else None) for x in parents),
        )
    return out


def absences(reading: ClassReading) -> dict[tuple[str, date], str]:
    return {(a.pupil_id, a.day): a.raw for a in reading.attendance}


def row_of(grid: Grid, pupil_id: str) -> int:
    return next(i for i, r in enumerate(grid) if r and r[0] == pupil_id)


# --------------------------------------------------------------------------- spec and roundtrip


def test_spec_lays_out_roster_and_attendance(school: School) -> None:
    spec = class_spec(school, CLASS, today=TODAY)
    assert spec.name == "Класс 7Б · 2026/27"
    roster, attendance, remarks = spec.tabs
    assert (roster.title, attendance.title, remarks.title) == (ROSTER, ATTENDANCE, "Замечания")
    assert remarks.rows == [["Ячейка", "Замечание", "С какого числа"], ["", "Замечаний нет", ""]]
    assert roster.rows[0][:4] == ["Код", "Код родителя 1", "Код родителя 2", "№"]
    assert "Заявление родителя 2" in roster.rows[0]
    assert roster.hidden_cols == (0, 1, 2)
    # the contact columns (pupil's e-mail, parents) of the 25 pupils' rows: names and
    # enrolment belong to the configuration
    assert roster.rows[0][9:] == ["E-mail ученика", "Родитель 1", "E-mail родителя 1",
                                  "Заявление родителя 1", "Родитель 2", "E-mail родителя 2",
                                  "Заявление родителя 2"]
    assert roster.open_ranges == (CellRange(ROSTER, 1, 9, 26, 16),)
    days = attendance_days(school)
    assert attendance.rows[0][3] == "Нужна причина (дни с «н»)"
    assert attendance.rows[0][4:] == [header_text(d) for d in days]
    # weekdays of the four quarters minus 23.02, 08.03, 03.05, 10.05 (counted by hand)
    assert len(days) == 167 and date(2027, 2, 23) not in days
    assert attendance.dropdowns[0].values == ("б", "у", "н")
    # 10.09 with 7 open days: 03.09 … 10.09 (6 school days), one range
    assert attendance.open_ranges == (CellRange(ATTENDANCE, 1, 6, 26, 12),)
    assert all(t.protected for t in spec.tabs)


def test_roundtrip(school: School, reasons, grids) -> None:
    reading = parse(school, grids)
    assert roster_facts(reading) == config_facts(school)
    assert absences(reading) == reasons
    assert {a.reason for a in reading.attendance} == set(AbsenceReason)
    assert reading.problems == () and not reading.needs_repair


# --------------------------------------------------------------------------- damage


def test_sorted_and_moved_columns_read_the_same(school, reasons, grids) -> None:
    roster = sort_rows(grids[ROSTER], 1, key=lambda r: str(r[4]), reverse=True)
    roster = swap_cols(roster, 4, 5)  # Фамилия ↔ Имя, headers with them
    attendance = sort_rows(grids[ATTENDANCE], 1, key=lambda r: str(r[2]), reverse=True)
    attendance = swap_cols(attendance, 3, 20)
    attendance = insert_col(attendance, 10, {0: "примечание", 3: "справка"})
    reading = parse(school, {ROSTER: roster, ATTENDANCE: attendance})
    assert roster_facts(reading) == config_facts(school)
    assert absences(reading) == reasons
    assert [i.raw for i in reading.ignored] == ["справка"]


def test_deleted_row_and_id_column(school, reasons, grids) -> None:
    pupil = school.pupils_in(CLASS)[2]
    attendance = delete_row(grids[ATTENDANCE], row_of(grids[ATTENDANCE], pupil.id))
    reading = parse(school, {ROSTER: delete_col(grids[ROSTER], 0), ATTENDANCE: attendance})
    assert reading.roster == () and reading.map.roster is None
    assert absences(reading) == {k: v for k, v in reasons.items() if k[0] != pupil.id}
    assert kinds(reading) == {ProblemKind.NO_ID_COLUMN, ProblemKind.MISSING_PUPIL}
    assert reading.repair_tabs == (ROSTER, ATTENDANCE)


def test_missing_tab(school, grids) -> None:
    reading = parse(school, {ROSTER: grids[ROSTER]})
    assert [(p.kind, p.tab) for p in reading.problems] == [(ProblemKind.MISSING_TAB, ATTENDANCE)]
    assert len(reading.roster) == len(school.pupils_in(CLASS))


def test_newcomer_row_is_kept_for_the_sysadmin(school, grids) -> None:
    row = [None] * 4 + ["Новикова", "Ольга", "Петровна", "14.09.2026"]
    reading = parse(school, {**grids, ROSTER: insert_row(grids[ROSTER], 5, row)})
    newcomer = next(r for r in reading.roster if r.pupil_id is None)
    assert (newcomer.last_name, newcomer.enrolled, newcomer.row) == (
        "Новикова",
        date(2026, 9, 14),
        5,
    )
    problem = next(iter(reading.problems))
    assert problem.kind is ProblemKind.UNKNOWN_PUPIL and not problem.repair
    assert "администратор" in problem.message


def test_bad_dates_and_emails_are_reported(school, grids) -> None:
    roster = grids[ROSTER]
    header = roster[0]
    row = row_of(roster, school.pupils_in(CLASS)[0].id)
    roster = set_cell(roster, row, header.index("Выбыл"), "вчера")
    roster = set_cell(roster, row, header.index("E-mail родителя 1"), "мама на gmail")
    roster = set_cell(roster, row, header.index("Зачислен"), date_to_serial(date(2026, 9, 2)))
    reading = parse(school, {**grids, ROSTER: roster})
    first = next(r for r in reading.roster if r.row == row)
    assert (first.left, first.enrolled, first.parents[0].email) == (None, date(2026, 9, 2), "")
    assert [p.kind for p in reading.problems] == [ProblemKind.INVALID_VALUE] * 2
    assert any("вчера" in p.message for p in reading.problems)


def test_parent_id_of_another_pupil_becomes_a_new_parent(school, grids) -> None:
    roster = grids[ROSTER]
    row = row_of(roster, school.pupils_in(CLASS)[0].id)
    other = school.parents_of(school.pupils_in(CLASS)[1].id)[0].id
    reading = parse(school, {**grids, ROSTER: set_cell(roster, row, 1, other)})
    first = next(r for r in reading.roster if r.row == row)
    assert first.parents[0].parent_id is None
    assert [p.kind for p in reading.problems] == [ProblemKind.INVALID_VALUE]


def test_attendance_headers_retyped_and_extra_days(school, reasons, grids) -> None:
    attendance = grids[ATTENDANCE]
    days = attendance_days(school)
    col = find_col(attendance, 0, header_text(days[5]))
    attendance = set_cell(attendance, 0, col, date_to_serial(days[5]))
    sunday = date(2026, 9, 6)
    attendance = insert_col(attendance, 8, {0: header_text(sunday), 1: "б"})
    reading = parse(school, {**grids, ATTENDANCE: attendance})
    assert absences(reading) == reasons
    assert kinds(reading) == {ProblemKind.HEADER_RETYPED, ProblemKind.EXTRA_DATE}
    assert [i.raw for i in reading.ignored] == ["б"]


def test_unreadable_reason_is_explained(school, grids) -> None:
    attendance = grids[ATTENDANCE]
    row = row_of(attendance, school.pupils_in(CLASS)[0].id)
    reading = parse(school, {**grids, ATTENDANCE: set_cell(attendance, row, 4, "болел")})
    entry = next(a for a in reading.attendance if a.raw == "болел")
    assert entry.reason is None and "б — болезнь" in (entry.message or "")


@pytest.mark.parametrize(
    ("raw", "want"),
    [
        ("б", "б"),
        ("Б", "б"),
        (" у ", "у"),
        ("y", "у"),
        ("H", "н"),
        ("6", "б"),
        ("н.", "н"),
        (6, "б"),
        ("x", None),
        ("болезнь", None),
        (True, None),
        ("", None),
    ],
)
def test_parse_reason(raw, want) -> None:
    reason, message = parse_reason(raw)
    assert (reason.value if reason else None) == want
    assert (message is None) == (want is not None)


def test_open_ranges_follow_positions(school, grids) -> None:
    attendance = swap_cols(grids[ATTENDANCE], 6, 30)  # 03.09 moved far right
    reading = parse(school, {**grids, ATTENDANCE: attendance})
    ranges = class_open_ranges(reading.map, today=date(2026, 9, 4), open_days=1)
    assert ranges[ATTENDANCE] == [
        CellRange(ATTENDANCE, 1, 7, 26, 8),
        CellRange(ATTENDANCE, 1, 30, 26, 31),
    ]
    assert ranges[ROSTER] == [CellRange(ROSTER, 1, 9, 26, 16)]


# --------------------------------------------------------------------------- properties


cells = st.one_of(
    st.none(),
    st.text(max_size=10),
    st.integers(-(10**6), 10**6),
    st.floats(),
    st.booleans(),
    st.sampled_from(["Код", "s0027", "p0036", "02.09", "б", "Фамилия", "Родитель 1"]),
)
grid = st.lists(st.lists(cells, max_size=10), max_size=10)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.dictionaries(st.sampled_from([ROSTER, ATTENDANCE, "Лист1"]), grid, max_size=3))
def test_random_grids_never_crash(school, grids) -> None:
    reading = parse(school, grids)
    known = {p.id for p in school.pupils_in(CLASS)}
    assert {a.pupil_id for a in reading.attendance} <= known
    assert {r.pupil_id for r in reading.roster} <= known | {None}
