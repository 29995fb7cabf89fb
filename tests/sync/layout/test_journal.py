"""The journal layout: spec → grids (as a backend returns them) → parse, intact and damaged.

Damage is what teachers and owners do to a shared spreadsheet: sort rows, insert, swap or delete
columns, delete or copy rows, rename tabs, delete the hidden id column, retype a header. Each case
is either read correctly or reported with the right problem; a value never lands on the wrong
pupil or lesson.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from fractions import Fraction

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.school import School
from rules.context import ValidationContext
from rules.grading import Recommendation
from rules.model import Finding, Location, Severity
from rules.validation import validate
from sync.backends.protocol import CellRange, Grid
from sync.layout.common import (
    ProblemKind,
    header_text,
    parse_date_header,
    spec_grids,
    stale_updates,
)
from sync.layout.journal.map import ordinals
from sync.layout.journal.spec import (
    JournalReading,
    JournalValues,
    LessonFacts,
    ServiceValues,
    journal_open_state,
    journal_spec,
    open_ranges,
    parse_journal,
    render_findings,
    render_service_columns,
)
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

CLASS, SUBJECT = "7Б", "algebra"
Q1 = "1 четверть"
MARKS = ("5", "4", "3", "2", "н", "5/4", "оп", "•")
TODAY = date(2026, 9, 8)
HEAD, TYPES, FIRST = 2, 4, 5  # a period tab's header row, «Вид работы» row, first pupil row


def lessons(school: School, class_id: str = CLASS, subject_id: str = SUBJECT) -> list:
    return school.lessons()[(class_id, subject_id)]


def sample_values(school: School) -> JournalValues:
    """Deterministic marks for every 3rd pupil × lesson, period marks, lesson facts."""
    entries = {}
    for i, pupil in enumerate(school.pupils_in(CLASS)):
        for j, lesson in enumerate(lessons(school)):
            if (i + j) % 3 == 0:
                entries[(pupil.id, lesson.day, lesson.lesson_no)] = MARKS[(i * 7 + j) % len(MARKS)]
    period_marks = {(p.id, Q1): "4" for p in school.pupils_in(CLASS)[:5]}
    facts = {
        (x.day, x.lesson_no): LessonFacts(f"Тема {x.number}", "№ 1–3", "Контрольная работа", "§ 2")
        for x in lessons(school)[:6]
    }
    return JournalValues(entries, period_marks, facts)


@pytest.fixture(scope="module")
def school() -> School:
    return example_school()


@pytest.fixture(scope="module")
def values(school: School) -> JournalValues:
    return sample_values(school)


@pytest.fixture(scope="module")
def grids(school: School, values: JournalValues) -> dict[str, Grid]:
    spec = journal_spec(school, CLASS, SUBJECT, lessons(school), today=TODAY, existing=values)
    return spec_grids(spec)


def parse(school: School, grids: dict[str, Grid]) -> JournalReading:
    return parse_journal(grids, school, CLASS, SUBJECT, lessons(school))


def read_entries(reading: JournalReading) -> dict[tuple[str, date, int], object]:
    out = {}
    for e in reading.entries:
        assert (e.pupil_id, e.day, e.lesson_no) not in out, "one value per pupil and lesson"
        out[(e.pupil_id, e.day, e.lesson_no)] = e.raw
    return out


def kinds(reading: JournalReading) -> set[ProblemKind]:
    return {p.kind for p in reading.problems}


def damaged(grids: dict[str, Grid], tab: str, grid: Grid) -> dict[str, Grid]:
    return {**grids, tab: grid}


def col_of(grid: Grid, day: date, ordinal: int = 1) -> int:
    return find_col(grid, HEAD, header_text(day, ordinal))


def row_of(grid: Grid, pupil_id: str) -> int:
    return next(i for i, r in enumerate(grid) if r and r[0] == pupil_id)


# --------------------------------------------------------------------------- the spec


def test_spec_lays_out_the_journal(school: School) -> None:
    spec = journal_spec(school, CLASS, SUBJECT, lessons(school), today=TODAY)
    assert spec.name == "Журнал 7Б · Алгебра · 2026/27"
    assert [t.title for t in spec.tabs] == [
        "1 четверть",
        "2 четверть",
        "3 четверть",
        "4 четверть",
        "Уроки",
        "Замечания",
    ]
    q1 = spec.tabs[0]
    assert q1.rows[HEAD][:5] == ["Код", "№", "Ученик", "01.09", "02.09"]
    assert q1.rows[HEAD][-3:] == ["Средний балл", "Рекомендуемая", "Четверть"]
    assert q1.rows[HEAD + 1][2:5] == ["День недели", "вт", "ср"]  # 01.09.2026 is a Tuesday
    assert q1.rows[1][3] == "Сентябрь"  # the month above its first date
    assert q1.rows[TYPES][2] == "Вид работы"
    assert q1.rows[FIRST][:3] == ["s0027", 1, "Алексеев Иван Кириллович"]
    assert (q1.hidden_cols, q1.frozen_rows, q1.frozen_cols) == ((0,), FIRST, 3)
    assert all(t.protected for t in spec.tabs)
    marks = q1.dropdowns[0]
    assert marks.values == ("5", "4", "3", "2", "н", "оп", "•") and not marks.strict
    assert q1.dropdowns[1].values == ("5", "4", "3", "2", "н/а", "осв", "зач")
    assert marks.range in q1.text_ranges
    assert {(h.equals, h.range) for h in q1.highlights} == {("2", marks.range), ("н", marks.range)}
    names = [wt.name for wt in school.policies.work_types]
    assert spec.tabs[4].dropdowns[0].values == tuple(names)
    assert spec.tabs[5].rows == [
        ["Ячейка", "Замечание", "С какого числа"],
        ["", "Замечаний нет", ""],
    ]


def test_pupils_per_period_follow_enrolment(school: School) -> None:
    """s0040 left on 13.11: in the 1st and 2nd quarter tabs, not in the 3rd."""
    grids = spec_grids(journal_spec(school, CLASS, SUBJECT, lessons(school), today=TODAY))
    ids = {t: {r[0] for r in g[FIRST:]} for t, g in grids.items() if "четверть" in t}
    assert "s0040" in ids["1 четверть"] and "s0040" in ids["2 четверть"]
    assert "s0040" not in ids["3 четверть"]
    assert len(ids["1 четверть"]) == len(school.pupils_in(CLASS))


def test_headers_resolve_the_calendar_year_from_the_period(school: School) -> None:
    grids = spec_grids(journal_spec(school, CLASS, SUBJECT, lessons(school), today=TODAY))
    q3 = grids["3 четверть"]
    first = next(x for x in lessons(school) if x.period == "3 четверть")
    assert first.day.year == 2027 and q3[HEAD][3] == header_text(first.day)
    reading = parse(school, grids)
    assert reading.map.periods["3 четверть"].columns[(first.day, first.lesson_no)] == 3


def test_second_lesson_of_a_day_gets_an_ordinal(school: School) -> None:
    ls = lessons(school, "10А", "algebra")
    spec = journal_spec(school, "10А", "algebra", ls, today=TODAY)
    q2 = spec_grids(spec)["2 четверть"]
    assert "17.12" in q2[HEAD] and "17.12 (2)" in q2[HEAD]
    values = {("s0050", date(2026, 12, 17), 5): "4", ("s0050", date(2026, 12, 17), 7): "5"}
    pupil = school.pupils_in("10А")[0].id
    values = {(pupil, d, n): v for (_, d, n), v in values.items()}
    spec = journal_spec(school, "10А", "algebra", ls, today=TODAY, existing=JournalValues(values))
    reading = parse_journal(spec_grids(spec), school, "10А", "algebra", ls)
    assert read_entries(reading) == values
    lessons_rows = [r[0] for r in spec_grids(spec)["Уроки"][1:]]
    assert "17.12.2026" in lessons_rows and "17.12.2026 (2)" in lessons_rows


def test_two_lessons_of_a_day_stay_apart_through_validation(school: School) -> None:
    """17.12 has algebra as the 5th and the 7th lesson ("17.12", "17.12 (2)"): cells and "Уроки"
    facts keep their lesson_no into ValidationContext, so only the control work is checked."""
    ls = lessons(school, "10А", "algebra")
    day = date(2026, 12, 17)
    assert [x.lesson_no for x in ls if x.day == day] == [5, 7]
    first, second = school.pupils_in("10А")[:2]
    values = JournalValues(
        {(first.id, day, 5): "5", (second.id, day, 7): "4"},
        lessons={
            (day, 5): LessonFacts("Тема А", "", "Устный ответ", "§ 1"),
            (day, 7): LessonFacts("Тема Б", "", "Контрольная работа", "—"),
        },
    )
    spec = journal_spec(school, "10А", "algebra", ls, today=TODAY, existing=values)
    reading = parse_journal(spec_grids(spec), school, "10А", "algebra", ls)

    entries = [e for e in reading.cell_entries() if e.day == day]
    assert sorted((e.pupil_id, e.lesson_no, e.raw) for e in entries) == [
        (first.id, 5, "5"),
        (second.id, 7, "4"),
    ]
    assert len({e.cell for e in entries}) == 2
    infos = [i for i in reading.lesson_info() if i.day == day]
    assert [(i.lesson_no, i.topic, i.work_type) for i in infos] == [
        (5, "Тема А", "Устный ответ"),
        (7, "Тема Б", "Контрольная работа"),
    ]
    assert infos[0].cells["topic"] != infos[1].cells["topic"]

    today = date(2026, 12, 25)
    ctx = ValidationContext(
        journal="10А/algebra",
        grade=10,
        today=today,
        now=datetime.combine(today, time(12), tzinfo=school.timezone),
        policies=school.policies,
        pupils=(first, second),
        lessons=tuple(ls),
        lesson_info=reading.lesson_info(),
        entries=reading.cell_entries(),
    )
    findings = validate(ctx, enabled=["control_work_without_marks", "not_a_lesson_date"])
    assert [(f.rule, f.location.pupil_id, f.location.day) for f in findings] == [
        ("control_work_without_marks", first.id, day)
    ]
    assert findings[0].message.startswith(f"{first.last_name} {first.first_name}, 17.12.2026 (2):")


def test_planned_topics_follow_the_plan_hours(school: School) -> None:
    grid = spec_grids(journal_spec(school, CLASS, SUBJECT, lessons(school), today=TODAY))["Уроки"]
    plan = school.plan(CLASS, SUBJECT)
    assert [r[2] for r in grid[1:4]] == [plan[0].topic] * 3  # item 1: 3 hours
    assert grid[4][2] == plan[1].topic == "Входная контрольная работа"
    assert [r[1] for r in grid[1:4]] == [1, 2, 3]


def test_existing_values_fill_the_journal(school: School, values: JournalValues) -> None:
    spec = journal_spec(school, CLASS, SUBJECT, lessons(school), today=TODAY, existing=values)
    first = lessons(school)[0]
    q1 = spec.tabs[0]
    assert q1.rows[TYPES][3] == "Контрольная работа"  # the work-type row shows the name
    lessons_row = spec.tabs[4].rows[1]
    assert lessons_row[3:7] == ["Тема 1", "№ 1–3", "Контрольная работа", "§ 2"]
    pupil = school.pupils_in(CLASS)[0]
    assert q1.rows[FIRST][3] == values.entries[(pupil.id, first.day, first.lesson_no)]


# --------------------------------------------------------------------------- roundtrip


def test_roundtrip_reads_back_every_value(
    school: School, values: JournalValues, grids: dict[str, Grid]
) -> None:
    reading = parse(school, grids)
    assert read_entries(reading) == dict(values.entries)
    assert {(p.pupil_id, p.period): p.raw for p in reading.period_marks} == values.period_marks
    facts = {k: (f.topic, f.classwork, f.work_type, f.homework) for k, f in reading.lessons.items()}
    for key, want in values.lessons.items():
        assert facts[key] == (want.topic, want.classwork, want.work_type, want.homework)
    assert len(reading.lessons) == len(lessons(school))
    assert reading.problems == () and not reading.needs_repair and reading.ignored == ()


def test_entries_carry_their_cells(school: School, grids: dict[str, Grid]) -> None:
    reading = parse(school, grids)
    entry = reading.entries[0]
    q1 = grids[Q1]
    assert entry.cell == f"'{Q1}'!D6" and q1[FIRST][3] == entry.raw
    facts = reading.lessons[(lessons(school)[0].day, lessons(school)[0].lesson_no)]
    assert facts.cells == {
        "topic": "'Уроки'!D2",
        "classwork": "'Уроки'!E2",
        "work_type": "'Уроки'!F2",
        "homework": "'Уроки'!G2",
    }


def test_reading_feeds_validation(school: School, grids: dict[str, Grid]) -> None:
    """The conversions build a ValidationContext; a "5/4" etc. are accepted, a stray date is not."""
    q1 = grids[Q1]
    saturday = date(2026, 9, 5)
    grid = insert_col(q1, 5, {HEAD: header_text(saturday), FIRST: "5"})
    reading = parse(school, damaged(grids, Q1, grid))
    ctx = ValidationContext(
        journal="7Б/algebra",
        grade=7,
        today=date(2026, 9, 20),
        now=datetime.combine(date(2026, 9, 20), time(12), tzinfo=school.timezone),
        policies=school.policies,
        pupils=school.pupils_in(CLASS),
        lessons=tuple(lessons(school)),
        lesson_info=reading.lesson_info(),
        entries=reading.cell_entries(),
        period_entries=reading.period_entries(),
    )
    findings = validate(ctx, enabled=["not_a_lesson_date", "invalid_value"])
    assert [(f.rule, f.location.cell) for f in findings] == [("not_a_lesson_date", f"'{Q1}'!F6")]


# --------------------------------------------------------------------------- damage


def test_rows_sorted_descending_read_the_same(school, values, grids) -> None:
    grid = sort_rows(grids[Q1], FIRST, key=lambda r: r[2], reverse=True)
    assert grid[FIRST][0] != grids[Q1][FIRST][0]
    reading = parse(school, damaged(grids, Q1, grid))
    assert read_entries(reading) == dict(values.entries)
    assert reading.problems == ()
    pupil = school.pupils_in(CLASS)[0].id
    assert reading.map.periods[Q1].rows[pupil] == row_of(grid, pupil)


def test_inserted_column_shifts_nothing_and_its_values_are_reported(school, values, grids) -> None:
    grid = insert_col(grids[Q1], 8, {HEAD: "заметки", FIRST: "не забыть", FIRST + 3: "5"})
    reading = parse(school, damaged(grids, Q1, grid))
    assert read_entries(reading) == dict(values.entries)
    assert kinds(reading) == {ProblemKind.OUTSIDE_GRID}
    assert {(i.cell, i.raw) for i in reading.ignored} == {
        (f"'{Q1}'!I6", "не забыть"),
        (f"'{Q1}'!I9", "5"),
    }
    assert not reading.needs_repair


def test_swapped_columns_read_the_same(school, values, grids) -> None:
    grid = swap_cols(grids[Q1], 3, 7)
    reading = parse(school, damaged(grids, Q1, grid))
    assert read_entries(reading) == dict(values.entries)
    assert reading.problems == ()
    first = lessons(school)[0]
    assert reading.map.cell(school.pupils_in(CLASS)[0].id, (first.day, first.lesson_no)) == (
        CellRange(Q1, FIRST, 7, FIRST + 1, 8)
    )


def test_deleted_lesson_column_is_missing_and_repaired(school, values, grids) -> None:
    gone = lessons(school)[1]
    grid = delete_col(grids[Q1], col_of(grids[Q1], gone.day))
    reading = parse(school, damaged(grids, Q1, grid))
    want = {k: v for k, v in values.entries.items() if (k[1], k[2]) != (gone.day, gone.lesson_no)}
    assert read_entries(reading) == want
    problem = next(p for p in reading.problems if p.kind is ProblemKind.MISSING_LESSON)
    assert problem.tab == Q1 and "02.09" in problem.message and problem.repair
    assert reading.repair_tabs == (Q1,) and reading.needs_repair
    assert reading.map.lesson_column((gone.day, gone.lesson_no)) == []


def test_deleted_pupil_row_is_missing(school, values, grids) -> None:
    pupil = school.pupils_in(CLASS)[3]
    grid = delete_row(grids[Q1], row_of(grids[Q1], pupil.id))
    reading = parse(school, damaged(grids, Q1, grid))
    q1_days = {(x.day, x.lesson_no) for x in lessons(school) if x.period == Q1}
    want = {
        k: v
        for k, v in values.entries.items()
        if not (k[0] == pupil.id and (k[1], k[2]) in q1_days)
    }
    assert read_entries(reading) == want
    problem = next(p for p in reading.problems if p.kind is ProblemKind.MISSING_PUPIL)
    assert pupil.id in problem.message and problem.repair
    assert (
        reading.map.cell(pupil.id, (lessons(school)[0].day, lessons(school)[0].lesson_no)) is None
    )


def test_duplicate_row_keeps_both_and_flags_the_pupil(school, values, grids) -> None:
    pupil = school.pupils_in(CLASS)[0]
    row = row_of(grids[Q1], pupil.id)
    copy_row = list(grids[Q1][row])
    copy_row[4] = "3"
    grid = insert_row(grids[Q1], len(grids[Q1]), copy_row)
    reading = parse(school, damaged(grids, Q1, grid))
    assert reading.duplicate_rows == {pupil.id}
    second = lessons(school)[1]
    cells = {
        e.cell: e.raw
        for e in reading.entries
        if (e.pupil_id, e.day, e.lesson_no) == (pupil.id, second.day, second.lesson_no)
    }
    original = grids[Q1][row][4] if len(grids[Q1][row]) > 4 else ""
    want = {f"'{Q1}'!E{len(grids[Q1]) + 1}": "3"}
    if original:
        want[f"'{Q1}'!E{row + 1}"] = original
    assert cells == want
    assert ProblemKind.DUPLICATE_PUPIL in kinds(reading)
    assert reading.map.periods[Q1].rows[pupil.id] == row  # writes go to the first row


def test_renamed_tab_is_read_and_renamed_back(school, values, grids) -> None:
    renamed = {("Четверть один" if t == Q1 else t): g for t, g in grids.items()}
    reading = parse(school, renamed)
    assert read_entries(reading) == dict(values.entries)
    assert reading.renames == {"Четверть один": Q1}
    assert kinds(reading) == {ProblemKind.RENAMED_TAB} and reading.needs_repair
    assert reading.repair_tabs == ()
    assert reading.map.periods[Q1].title == "Четверть один"


def test_deleted_tab_is_missing(school, values, grids) -> None:
    reading = parse(school, {t: g for t, g in grids.items() if t != "2 четверть"})
    q2 = {(x.day, x.lesson_no) for x in lessons(school) if x.period == "2 четверть"}
    assert read_entries(reading) == {
        k: v for k, v in values.entries.items() if (k[1], k[2]) not in q2
    }
    problem = next(iter(reading.problems))
    assert (problem.kind, problem.tab, problem.repair) == (
        ProblemKind.MISSING_TAB,
        "2 четверть",
        True,
    )


def test_unrelated_extra_tab_is_ignored(school, values, grids) -> None:
    reading = parse(school, {**grids, "Черновик": [["что-то", 5]]})
    assert read_entries(reading) == dict(values.entries) and reading.problems == ()


def test_copied_tab_is_reported_not_read(school, values, grids) -> None:
    copy = [list(r) for r in grids[Q1]]
    copy[FIRST][3] = "2"  # a teacher typing into the copy
    reading = parse(school, {**grids, "1 четверть (копия)": copy})
    assert read_entries(reading) == dict(values.entries)
    (problem,) = reading.problems
    assert (problem.kind, problem.tab) == (ProblemKind.OUTSIDE_GRID, "1 четверть (копия)")
    assert "не читает" in problem.message and not reading.needs_repair


def test_deleted_id_column_makes_the_tab_unreadable(school, values, grids) -> None:
    reading = parse(school, damaged(grids, Q1, delete_col(grids[Q1], 0)))
    q1 = {(x.day, x.lesson_no) for x in lessons(school) if x.period == Q1}
    assert read_entries(reading) == {
        k: v for k, v in values.entries.items() if (k[1], k[2]) not in q1
    }
    problem = next(p for p in reading.problems if p.kind is ProblemKind.NO_ID_COLUMN)
    assert "Код" in problem.message and problem.repair and Q1 not in reading.map.periods


def test_header_retyped_as_a_serial_is_still_read(school, values, grids) -> None:
    day = lessons(school)[2].day  # 07.09.2026
    col = col_of(grids[Q1], day)
    wrong_year = date(2027, day.month, day.day)  # retyped during the spring term
    for serial in (date_to_serial(day), date_to_serial(wrong_year), float(date_to_serial(day))):
        reading = parse(school, damaged(grids, Q1, set_cell(grids[Q1], HEAD, col, serial)))
        assert read_entries(reading) == dict(values.entries)
        assert kinds(reading) == {ProblemKind.HEADER_RETYPED}
        assert reading.repair_tabs == (Q1,)


@pytest.mark.parametrize("text", ["07.09.2026", "2026-09-07", "7.9", "07.09.", " 07.09 "])
def test_header_in_other_date_forms_is_read(school, values, grids, text) -> None:
    col = col_of(grids[Q1], date(2026, 9, 7))
    reading = parse(school, damaged(grids, Q1, set_cell(grids[Q1], HEAD, col, text)))
    assert read_entries(reading) == dict(values.entries)
    assert kinds(reading) == {ProblemKind.HEADER_RETYPED}


def test_unknown_pupil_row_is_ignored(school, values, grids) -> None:
    stranger = school.pupils_in("5А")[0].id
    grid = insert_row(grids[Q1], FIRST + 2, [stranger, 99, "Чужой Ученик", "5", "4"])
    reading = parse(school, damaged(grids, Q1, grid))
    assert read_entries(reading) == dict(values.entries)
    problem = next(p for p in reading.problems if p.kind is ProblemKind.UNKNOWN_PUPIL)
    assert stranger in problem.message and problem.cell == f"'{Q1}'!A8"
    assert {i.raw for i in reading.ignored} == {stranger, 99, "Чужой Ученик", "5", "4"}


def test_text_in_service_columns_is_ignored(school, values, grids) -> None:
    grid = grids[Q1]
    avg = find_col(grid, HEAD, "Средний балл")
    grid = set_cell(grid, FIRST + 1, avg, "отлично")
    grid = set_cell(grid, FIRST + 2, avg + 1, "4")  # a recommendation's look: for stale_updates
    grid = set_cell(grid, TYPES, 3, "проверить тетради")
    grid = set_cell(grid, TYPES, 4, "Самостоятельная работа")  # a known work type name
    reading = parse(school, damaged(grids, Q1, grid))
    assert read_entries(reading) == dict(values.entries)
    assert [p.kind for p in reading.problems] == [ProblemKind.SERVICE_TEXT] * 2
    assert {i.raw for i in reading.ignored} == {"отлично", "проверить тетради"}
    assert not reading.needs_repair


def test_values_below_and_right_of_the_grid_are_reported(school, values, grids) -> None:
    grid = grids[Q1]
    below = len(grid) + 2
    grid = set_cell(grid, below, 2, "Новенький Пётр")
    grid = set_cell(grid, below, 3, "5")
    right = max(len(r) for r in grid) + 1
    grid = set_cell(grid, FIRST + 3, right, "4")
    reading = parse(school, damaged(grids, Q1, grid))
    assert read_entries(reading) == dict(values.entries)
    assert {i.raw for i in reading.ignored} == {"Новенький Пётр", "5", "4"}
    assert kinds(reading) == {ProblemKind.OUTSIDE_GRID}


def test_duplicate_lesson_column_keeps_the_first(school, values, grids) -> None:
    grid = grids[Q1]
    first = lessons(school)[0]
    grid = insert_col(grid, 6, {HEAD: header_text(first.day), FIRST: "2", FIRST + 1: "3"})
    reading = parse(school, damaged(grids, Q1, grid))
    assert read_entries(reading) == dict(values.entries)
    assert ProblemKind.DUPLICATE_LESSON in kinds(reading) and reading.needs_repair
    assert {i.raw for i in reading.ignored} == {"2", "3"}


def test_lesson_of_another_period_in_a_tab_is_extra(school, values, grids) -> None:
    q2_first = next(x for x in lessons(school) if x.period == "2 четверть")
    grid = insert_col(grids[Q1], 5, {HEAD: header_text(q2_first.day), FIRST: "5"})
    reading = parse(school, damaged(grids, Q1, grid))
    assert read_entries(reading) == dict(values.entries)
    assert kinds(reading) == {ProblemKind.EXTRA_DATE} and reading.stray == ()
    assert [i.raw for i in reading.ignored] == ["5"]


def test_lessons_tab_survives_sorting_and_moved_columns(school, values, grids) -> None:
    grid = sort_rows(grids["Уроки"], 1, key=lambda r: str(r[3] or ""), reverse=True)
    grid = swap_cols(grid, 3, 6)  # "Тема урока" ↔ "Домашнее задание"
    reading = parse(school, damaged(grids, "Уроки", grid))
    for key, want in values.lessons.items():
        got = reading.lessons[key]
        assert (got.topic, got.homework, got.work_type) == (
            want.topic,
            want.homework,
            want.work_type,
        )
    assert reading.problems == ()


def test_lessons_tab_damage_is_reported(school, values, grids) -> None:
    grid = grids["Уроки"]
    grid = set_cell(grid, 2, 2, "Своя тема плана")  # the КТП column is the service's
    grid = delete_row(grid, 5)
    reading = parse(school, damaged(grids, "Уроки", grid))
    assert kinds(reading) == {ProblemKind.SERVICE_TEXT, ProblemKind.MISSING_LESSON}
    assert reading.repair_tabs == ("Уроки",)
    gone = lessons(school)[4]  # row 5 of the grid, under the header
    assert (gone.day, gone.lesson_no) not in reading.lessons
    assert (lessons(school)[3].day, lessons(school)[3].lesson_no) in reading.lessons


def test_lessons_tab_without_date_column_is_unreadable(school, grids) -> None:
    reading = parse(school, damaged(grids, "Уроки", delete_col(grids["Уроки"], 0)))
    assert reading.lessons == {} and ProblemKind.NO_ID_COLUMN in kinds(reading)
    assert reading.map.lessons_tab is None


# --------------------------------------------------------------------------- dates


@pytest.mark.parametrize(
    ("value", "want"),
    [
        ("02.09", (date(2026, 9, 2), 1)),
        ("02.09 (2)", (date(2026, 9, 2), 2)),
        ("02.09(3)", (date(2026, 9, 2), 3)),
        ("11.01", (date(2027, 1, 11), 1)),
        ("02.09.2026", (date(2026, 9, 2), 1)),
        ("02.09.26", (date(2026, 9, 2), 1)),
        ("2026-09-02 (2)", (date(2026, 9, 2), 2)),
        (46267, (date(2026, 9, 2), 1)),
        (46267.75, (date(2026, 9, 2), 1)),
        (date(2026, 9, 2), (date(2026, 9, 2), 1)),
        (
            datetime(2027, 9, 2, 10, 0, tzinfo=UTC),
            (date(2026, 9, 2), 1),
        ),  # a retyped "02.09" a year late
        ("31.02", None),
        ("02.09 (0)", None),
        ("2,09", None),
        (2.09, None),
        (True, None),
        (None, None),
        ("Средний балл", None),
        (float("nan"), None),
        (10**12, None),
    ],
)
def test_parse_date_header(value, want) -> None:
    year = (date(2026, 9, 1), date(2027, 5, 31))
    assert parse_date_header(value, [year]) == want


def test_serial_of_the_emulator_is_a_sheets_serial() -> None:
    assert date_to_serial(date(2026, 9, 2)) == 46267


# --------------------------------------------------------------------------- open ranges


def test_open_ranges_follow_locks_and_positions(school, values, grids) -> None:
    ls = lessons(school)
    control = ls[3]  # 08.09, "Контрольная работа": 7 days of grace in grade 7
    reading = parse(school, damaged(grids, Q1, swap_cols(grids[Q1], 3, 6)))
    work = {(control.day, control.lesson_no): "Контрольная работа"}
    now = datetime.combine(date(2026, 9, 14), time(9), tzinfo=school.timezone)
    state = journal_open_state(school, CLASS, ls, now=now, work_types=work)
    assert control.day in state.mark_days and date(2026, 9, 14) in state.mark_days
    assert state.info_days == {date(2026, 9, 14)} and state.periods == frozenset()
    ranges = open_ranges(reading.map, ls, state.mark_days, state.periods, info_days=state.info_days)
    q1 = reading.map.periods[Q1]
    assert ranges[Q1] == [
        CellRange(
            Q1,
            FIRST,
            q1.columns[(control.day, control.lesson_no)],
            30,
            q1.columns[(control.day, control.lesson_no)] + 1,
        ),
        CellRange(
            Q1,
            FIRST,
            q1.columns[(date(2026, 9, 14), ls[5].lesson_no)],
            30,
            q1.columns[(date(2026, 9, 14), ls[5].lesson_no)] + 1,
        ),
    ]
    assert ranges["Уроки"] == reading.map.lesson_row((date(2026, 9, 14), ls[5].lesson_no))
    assert ranges["Уроки"] == [CellRange("Уроки", 6, 3, 7, 7)]
    assert ranges["2 четверть"] == [] and ranges["Замечания"] == []


def test_period_mark_column_opens_in_its_window(school, grids) -> None:
    ls = lessons(school)
    now = datetime.combine(date(2026, 10, 20), time(9), tzinfo=school.timezone)
    state = journal_open_state(school, CLASS, ls, now=now, work_types={})
    assert state.periods == {Q1}
    reading = parse(school, grids)
    ranges = open_ranges(reading.map, ls, set(), state.periods, info_days=set())
    col = reading.map.periods[Q1].period_col
    assert ranges[Q1] == [CellRange(Q1, FIRST, col, 30, col + 1)]


def test_spec_opens_todays_cells(school) -> None:
    spec = journal_spec(school, CLASS, SUBJECT, lessons(school), today=date(2026, 9, 2))
    assert spec.tabs[0].open_ranges == (CellRange(Q1, FIRST, 4, 30, 5),)
    assert spec.tabs[4].open_ranges == (CellRange("Уроки", 2, 3, 3, 7),)
    assert all(t.open_ranges == () for t in spec.tabs[1:4])


def test_open_ranges_skip_non_pupil_rows(school, grids) -> None:
    """A junk row between pupils (after sorting) is never opened."""
    grid = insert_row(grids[Q1], 13, ["", "", "итого"])
    reading = parse(school, damaged(grids, Q1, grid))
    first = lessons(school)[0]
    ranges = open_ranges(reading.map, lessons(school), {first.day}, (), info_days=())
    assert ranges[Q1] == [CellRange(Q1, FIRST, 3, 13, 4), CellRange(Q1, 14, 3, 31, 4)]


# --------------------------------------------------------------------------- service cells


def test_service_columns_land_at_current_positions(school, values, grids) -> None:
    grid = sort_rows(grids[Q1], FIRST, key=lambda r: r[2], reverse=True)
    grid = swap_cols(grid, 3, 5)
    reading = parse(school, damaged(grids, Q1, grid))
    pupil = school.pupils_in(CLASS)[0].id
    first = lessons(school)[0]
    rec = Recommendation("4", 4.647, "rule", 5, 5)
    service = ServiceValues(
        work_types={(first.day, first.lesson_no): "Устный ответ"},
        recommendations={(Q1, pupil): rec},
        statuses={(first.day, first.lesson_no): "заполнено"},
    )
    updates = render_service_columns(reading.map, service, school=school)
    cells = {}
    for target, rows in updates:
        for r, line in enumerate(rows):
            for c, value in enumerate(line):
                cells[(target.tab, target.start_row + r, target.start_col + c)] = value
    q1 = reading.map.periods[Q1]
    row = q1.rows[pupil]
    assert cells[(Q1, TYPES, q1.columns[(first.day, first.lesson_no)])] == "Устный ответ"
    assert cells[(Q1, row, q1.average_col)] == "4,647"  # 4,65 would contradict the "4"
    assert cells[(Q1, row, q1.recommended_col)] == "4"
    other = school.pupils_in(CLASS)[1].id
    assert cells[(Q1, q1.rows[other], q1.average_col)] == ""
    status_col = reading.map.lessons_tab.columns["status"]
    assert cells[("Уроки", 1, status_col)] == "заполнено"
    assert len(updates) == 4 * 3 + 1  # per period tab: work types, averages, recommendations


def test_stale_updates_skip_what_is_already_there(school, grids) -> None:
    fresh = spec_grids(journal_spec(school, CLASS, SUBJECT, lessons(school), today=TODAY))
    reading = parse(school, fresh)
    updates = render_service_columns(reading.map, ServiceValues())
    assert len(updates) == 13
    assert stale_updates(fresh, updates) == []  # the fresh journal already shows empty cells
    first = lessons(school)[0]
    service = ServiceValues(work_types={(first.day, first.lesson_no): "Устный ответ"})
    changed = stale_updates(fresh, render_service_columns(reading.map, service))
    assert [u[0] for u in changed] == [CellRange(Q1, TYPES, 3, TYPES + 1, 26)]


def test_average_shows_two_decimals_without_thresholds(school, grids) -> None:
    reading = parse(school, grids)
    pupil = school.pupils_in(CLASS)[0].id
    rec = Recommendation("5", float(Fraction(14, 3)), "rule", 3, 5)
    updates = render_service_columns(reading.map, ServiceValues(recommendations={(Q1, pupil): rec}))
    q1 = reading.map.periods[Q1]
    column = next(rows for t, rows in updates if t.tab == Q1 and t.start_col == q1.average_col)
    assert column[0] == ["4,67"]


def test_render_findings_sorted_with_cells_and_dates() -> None:
    def finding(cell: str | None, message: str) -> Finding:
        return Finding("r", Severity.ERROR, Location("7Б/algebra", cell=cell), message)

    rows = render_findings(
        [
            (finding("'1 четверть'!E12", "третье"), date(2026, 9, 3)),
            (finding("'1 четверть'!AA2", "второе"), date(2026, 9, 2)),
            (finding("'1 четверть'!E3", "первое"), date(2026, 9, 2)),
            (finding(None, "без ячейки"), date(2026, 9, 4)),
        ],
        clear_rows=7,
    )
    assert rows == [
        ["Ячейка", "Замечание", "С какого числа"],
        ["1 четверть, AA2", "второе", "02.09.2026"],  # row by row, as a teacher reads
        ["1 четверть, E3", "первое", "02.09.2026"],
        ["1 четверть, E12", "третье", "03.09.2026"],
        ["", "без ячейки", "04.09.2026"],
        ["", "", ""],
        ["", "", ""],
    ]


def test_render_findings_empty() -> None:
    assert render_findings([]) == [
        ["Ячейка", "Замечание", "С какого числа"],
        ["", "Замечаний нет", ""],
    ]


# --------------------------------------------------------------------------- properties


cell_values = st.one_of(
    st.none(),
    st.text(max_size=12),
    st.sampled_from(["Код", "Ученик", "Дата", "Четверть", "02.09", "02.09 (2)", "s0027", "5"]),
    st.integers(min_value=-(10**15), max_value=10**15),
    st.floats(allow_nan=True, allow_infinity=True),
    st.booleans(),
)
random_grid = st.lists(st.lists(cell_values, max_size=12), max_size=12)
titles = st.sampled_from(
    ["1 четверть", "2 четверть", "Уроки", "Замечания", "Лист1", "Четверть один"]
)


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.dictionaries(titles, random_grid, max_size=5))
def test_random_grids_never_crash(school, grids) -> None:
    reading = parse(school, grids)
    assert isinstance(reading, JournalReading)
    known = {p.id for p in school.pupils_in(CLASS)}
    assert {e.pupil_id for e in reading.entries} <= known


_damage = st.sampled_from(["sort", "swap", "delete_col", "insert_col", "delete_row", "dup_row"])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(st.lists(st.tuples(_damage, st.integers(0, 40), st.integers(0, 40)), max_size=6))
def test_random_damage_never_misassigns(school, values, grids, steps) -> None:
    """After any sequence of damage, every value read is the value that pupil had for that lesson;
    a value is missing only if its row or column was deleted (and then a problem says so)."""
    grid = grids[Q1]
    for kind, a, b in steps:
        width = max(len(r) for r in grid)
        if kind == "sort":
            grid = sort_rows(
                grid, 2, key=lambda r, a=a: str(r[a % width] if a % width < len(r) else "")
            )
        elif kind == "swap":
            grid = swap_cols(grid, a % width, b % width)
        elif kind == "delete_col":
            grid = delete_col(grid, a % width)
        elif kind == "insert_col":
            grid = insert_col(grid, a % (width + 1), {b % max(len(grid), 1): "x"})
        elif kind == "delete_row":
            grid = delete_row(grid, a % len(grid))
        else:
            grid = insert_row(grid, b % len(grid), list(grid[a % len(grid)]))
        if not grid:
            break
    reading = parse(school, damaged(grids, Q1, grid))
    for e in reading.entries:
        assert values.entries.get((e.pupil_id, e.day, e.lesson_no)) == e.raw
    q1_keys = {(x.day, x.lesson_no) for x in lessons(school) if x.period == Q1}
    read = {(e.pupil_id, e.day, e.lesson_no) for e in reading.entries}
    lost = {k for k in values.entries if (k[1], k[2]) in q1_keys} - read
    if lost:
        assert kinds(reading) & {
            ProblemKind.MISSING_LESSON,
            ProblemKind.MISSING_PUPIL,
            ProblemKind.NO_ID_COLUMN,
        }
    assert ordinals(lessons(school))  # the lesson list itself is untouched
    assert all(isinstance(p.message, str) and p.message for p in reading.problems)


# --------------------------------------------------------------------------- through the emulator


def test_journal_through_the_google_backend(school, values) -> None:
    """Create the journal on the Sheets emulator (real gspread underneath), let a teacher type into
    today's open column and into a future (locked) one, read it back: the parse sees exactly the
    accepted values plus the new mark, and the locked cell was refused by the protection."""
    from tests.sync.backend_helpers import google_rig, google_teacher_edit

    rig = google_rig()
    try:
        ls = lessons(school)
        today = ls[1].day  # 02.09: its column is open
        spec = journal_spec(school, CLASS, SUBJECT, ls, today=today, existing=values)
        info = rig.backend.create(spec)
        titles = [t.title for t in spec.tabs]
        pupil = school.pupils_in(CLASS)[1]
        reading = parse(school, rig.backend.read(info.id, titles))
        cell = reading.map.cell(pupil.id, (today, ls[1].lesson_no))
        google_teacher_edit(rig.backend, info.id, Q1, cell.start_row, cell.start_col, "5/4")
        locked = reading.map.cell(pupil.id, (ls[10].day, ls[10].lesson_no))
        with pytest.raises(Exception, match="protected"):
            google_teacher_edit(rig.backend, info.id, Q1, locked.start_row, locked.start_col, "2")
        after = parse(school, rig.backend.read(info.id, titles))
        want = dict(values.entries) | {(pupil.id, today, ls[1].lesson_no): "5/4"}
        assert read_entries(after) == want
        assert after.problems == ()
    finally:
        rig.close()
