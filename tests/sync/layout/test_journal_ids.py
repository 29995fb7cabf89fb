"""A journal row's hidden pupil id must match its visible name: a swapped id never sends marks to
another pupil. The row is not read, the «Замечания» finding names it, and the id the visible name
shows is written back (or, when the name shows nobody for sure, the tab is re-laid out).
"""

from __future__ import annotations

from datetime import date

import pytest

from config.school import School
from sync.backends.protocol import CellRange, Grid
from sync.layout.common import ProblemKind, spec_grids, stale_updates
from sync.layout.journal.spec import (
    JournalReading,
    JournalValues,
    ServiceValues,
    journal_spec,
    parse_journal,
    render_service_columns,
)
from sync.layout.labels import RU
from tests.sync.layout_helpers import example_school, find_col, set_cell

CLASS, SUBJECT = "7Б", "algebra"
Q1 = "1 четверть"
TODAY = date(2026, 9, 8)
MARKS = ("5", "4", "3", "2", "н")


def lessons(school: School) -> list:
    return school.lessons()[(CLASS, SUBJECT)]


@pytest.fixture(scope="module")
def school() -> School:
    return example_school()


@pytest.fixture(scope="module")
def values(school: School) -> JournalValues:
    """A mark for every pupil in each of the first lessons (so every row has values)."""
    entries = {(p.id, x.day, x.lesson_no): MARKS[(i + j) % len(MARKS)]
               for i, p in enumerate(school.pupils_in(CLASS))
               for j, x in enumerate(lessons(school)[:6])}
    return JournalValues(entries, {}, {})


@pytest.fixture(scope="module")
def grids(school: School, values: JournalValues) -> dict[str, Grid]:
    spec = journal_spec(school, CLASS, SUBJECT, lessons(school), today=TODAY, existing=values)
    return spec_grids(spec)


def parse(school: School, grids: dict[str, Grid]) -> JournalReading:
    return parse_journal(grids, school, CLASS, SUBJECT, lessons(school))


def read(reading: JournalReading) -> dict[tuple[str, date, int], object]:
    return {(e.pupil_id, e.day, e.lesson_no): e.raw for e in reading.entries}


def row_of(grid: Grid, pupil_id: str) -> int:
    return next(i for i, r in enumerate(grid) if r and r[0] == pupil_id)


def name_col(grid: Grid) -> int:
    return find_col(grid, 2, RU.pupil)  # the header row, under the dates' serials and months


def of(values: JournalValues, *pupils: str) -> dict[tuple[str, date, int], object]:
    return {k: v for k, v in values.entries.items() if k[0] not in pupils}


def kinds(reading: JournalReading) -> set[ProblemKind]:
    return {p.kind for p in reading.problems}


def mismatches(reading: JournalReading) -> list:
    return [p for p in reading.problems if p.kind is ProblemKind.ID_MISMATCH]


def test_an_intact_journal_has_no_mismatch(school, values, grids) -> None:
    reading = parse(school, grids)
    assert read(reading) == values.entries and not mismatches(reading)


def test_a_name_differing_only_in_case_spacing_and_yo_still_matches(school, values,
                                                                    grids) -> None:
    pupil = school.pupils_in(CLASS)[3]
    grid = grids[Q1]
    shown = "  " + pupil.full_name.upper().replace("Е", "Ё").replace(" ", "   ") + " "
    reading = parse(school, {**grids, Q1: set_cell(grid, row_of(grid, pupil.id),
                                                   name_col(grid), shown)})
    assert read(reading) == values.entries and not mismatches(reading)


def test_a_row_given_another_pupils_id_is_not_read_and_gets_its_id_back(school, values,
                                                                        grids) -> None:
    """Ivanov's row gets Petrov's hidden id while it still shows Ivanov: nothing of the row goes
    to Petrov (whose own row reads as usual), nothing to Ivanov until the id is back; the finding
    names the row and the name; the service writes Ivanov's id back into that hidden cell."""
    shown, other = school.pupils_in(CLASS)[2], school.pupils_in(CLASS)[5]
    grid = grids[Q1]
    row = row_of(grid, shown.id)
    swapped = {**grids, Q1: set_cell(grid, row, 0, other.id)}
    reading = parse(school, swapped)

    q1 = {(x.day, x.lesson_no) for x in lessons(school) if x.period == Q1}
    assert read(reading) == {k: v for k, v in values.entries.items()
                             if not (k[0] == shown.id and (k[1], k[2]) in q1)}
    (problem,) = mismatches(reading)
    assert problem.message.startswith(f"Лист «{Q1}», строка {row + 1}: скрытый код ученика не "
                                      f"совпадает с именем «{shown.full_name}» в этой строке; "
                                      "отметки строки не приняты.")
    assert problem.message.endswith(f"Сервис восстановит в этой строке код ученика "
                                    f"«{shown.full_name}»; после этого отметки строки будут "
                                    "приняты.")
    assert problem.cell == f"'{Q1}'!C{row + 1}" and not problem.repair  # the visible name
    assert kinds(reading) == {ProblemKind.ID_MISMATCH}  # no missing pupil, no duplicate
    assert not reading.needs_repair
    tab = reading.map.periods[Q1]
    assert tab.id_fixes == {row: shown.id} and shown.id not in tab.rows
    assert tab.rows[other.id] == row_of(grid, other.id) and row not in tab.pupil_at
    assert {i.cell for i in reading.ignored} >= {f"'{Q1}'!A{row + 1}"}

    writes = stale_updates(swapped, render_service_columns(reading.map, ServiceValues()))
    assert (CellRange(Q1, row, 0, row + 1, 1), [[shown.id]]) in writes
    fixed = parse(school, {**swapped, Q1: set_cell(swapped[Q1], row, 0, shown.id)})
    assert read(fixed) == values.entries and not fixed.problems



def test_two_swapped_ids_read_neither_row_and_put_both_back(school, values, grids) -> None:
    a, b = school.pupils_in(CLASS)[0], school.pupils_in(CLASS)[1]
    grid = grids[Q1]
    ra, rb = row_of(grid, a.id), row_of(grid, b.id)
    swapped = {**grids, Q1: set_cell(set_cell(grid, ra, 0, b.id), rb, 0, a.id)}
    reading = parse(school, swapped)
    q1 = {(x.day, x.lesson_no) for x in lessons(school) if x.period == Q1}
    assert read(reading) == {k: v for k, v in values.entries.items()
                             if not (k[0] in (a.id, b.id) and (k[1], k[2]) in q1)}
    assert [p.cell for p in mismatches(reading)] == [f"'{Q1}'!C{ra + 1}", f"'{Q1}'!C{rb + 1}"]
    assert reading.map.periods[Q1].id_fixes == {ra: a.id, rb: b.id}
    assert not reading.needs_repair


def test_visible_columns_sorted_without_the_hidden_one_lose_nothing_once_ids_are_back(
        school, values, grids) -> None:
    """A teacher sorts only the visible columns (names and marks move, the hidden ids stay):
    every moved row is refused — not one mark goes to the pupil whose id was left there — and
    once the service wrote back the ids the names show, every mark reads for the pupil named."""
    grid = [list(r) for r in grids[Q1]]
    ids = {p.id for p in school.pupils_in(CLASS)}
    pupil_rows = [i for i, r in enumerate(grid) if r and r[0] in ids]
    first, last = pupil_rows[0], pupil_rows[-1]
    assert pupil_rows == list(range(first, last + 1))
    block = [r[1:] for r in grid[first:last + 1]]
    block.reverse()  # sort by name, descending, hidden column A not selected
    for i, rest in enumerate(block):
        grid[first + i] = [grid[first + i][0], *rest]
    reading = parse(school, {**grids, Q1: grid})
    col = name_col(grid)
    moved = [r for r in range(first, last + 1) if grid[r][col] != grids[Q1][r][col]]
    assert len(mismatches(reading)) == len(moved) > 20
    q1 = {(x.day, x.lesson_no) for x in lessons(school) if x.period == Q1}
    for (pupil, day, no), raw in read(reading).items():
        if (day, no) in q1:
            assert values.entries[(pupil, day, no)] == raw  # only unmoved rows read, as they were
    fixes = reading.map.periods[Q1].id_fixes
    assert sorted(fixes) == moved and not reading.needs_repair
    for row, pupil in fixes.items():
        grid[row][0] = pupil
    fixed = parse(school, {**grids, Q1: grid})
    assert read(fixed) == values.entries and not fixed.problems


def test_a_name_that_shows_nobody_for_sure_makes_the_tab_re_laid_out(school, values,
                                                                     grids) -> None:
    pupil = school.pupils_in(CLASS)[4]
    grid = grids[Q1]
    row = row_of(grid, pupil.id)
    for shown in ("", "Неизвестный Ученик"):
        reading = parse(school, {**grids, Q1: set_cell(grid, row, name_col(grid), shown)})
        (problem,) = mismatches(reading)
        assert problem.repair and reading.repair_tabs == (Q1,)
        assert ("с пустым именем" if not shown else f"с именем «{shown}»") in problem.message
        assert "придётся ввести ещё раз" in problem.message
        assert ProblemKind.MISSING_PUPIL in kinds(reading)
        assert reading.map.periods[Q1].id_fixes == {}
        assert all(e.pupil_id != pupil.id for e in reading.entries if e.cell.startswith(f"'{Q1}'!"))


def test_two_rows_showing_one_name_get_no_id_back(school, grids) -> None:
    """Both rows show pupil 6's name with others' ids: which one is pupil 6's is unsure."""
    pupils = school.pupils_in(CLASS)
    grid = grids[Q1]
    col = name_col(grid)
    grid = set_cell(grid, row_of(grid, pupils[6].id), 0, pupils[7].id)
    grid = set_cell(grid, row_of(grid, pupils[8].id), col, pupils[6].full_name)
    reading = parse(school, {**grids, Q1: grid})
    assert len(mismatches(reading)) == 2 and all(p.repair for p in mismatches(reading))
    assert reading.map.periods[Q1].id_fixes == {}
