"""The admin spreadsheet: the "Исправления" tab, its rows resolved, keyed and answered."""

from __future__ import annotations

from datetime import date, datetime

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.school import School
from rules.errors import LayoutError
from sync.backends.protocol import CellRange, Grid
from sync.layout.admin.spec import (
    CorrectionField,
    admin_spec,
    parse_corrections,
    status_text,
)
from sync.layout.common import spec_grids
from tests.sync.layout_helpers import delete_col, example_school, set_cell, sort_rows, swap_cols

TAB = "Исправления"
ALGEBRA = "7Б · Алгебра"


@pytest.fixture(scope="module")
def school() -> School:
    return example_school()


@pytest.fixture(scope="module")
def empty(school: School) -> Grid:
    return spec_grids(admin_spec(school))[TAB]


def row(
    journal=ALGEBRA,
    day="08.09.2026",
    pupil="s0027",
    what="отметка",
    value="4",
    reason="ошибка при вводе",
    order="45-к",
    signed="да",
    row_id="",
    status="",
) -> list:
    return [row_id, journal, day, pupil, what, value, reason, order, signed, status]


def sheet(empty: Grid, *rows: list) -> Grid:
    return [*empty, *rows]


def test_spec(school: School) -> None:
    spec = admin_spec(school)
    assert spec.name == "Администрация · 2026/27"
    tab, lists = spec.tabs
    assert lists.title == "Списки" and lists.hidden
    assert tab.rows[0] == [
        "Код строки",
        "Журнал",
        "Дата урока или период",
        "Ученик (код или ФИО)",
        "Что исправить",
        "Новое значение",
        "Причина",
        "Приказ №",
        "Подписано зам. директора",
        "Статус",
        "Обработано",
    ]
    assert tab.hidden_cols == (0,) and tab.protected
    assert tab.open_ranges == (CellRange(TAB, 1, 1, None, 9),)  # not the id, status, time
    journals, pupils, fields, signed = tab.dropdowns
    assert len(journals.values) == 44 and ALGEBRA in journals.values
    assert journals.source == CellRange("Списки", 1, 0, 45, 1)  # the values under the header
    assert [r[0] for r in lists.rows[1:45]] == list(journals.values)
    assert pupils.source == CellRange("Списки", 1, 1, 1 + len(pupils.values), 2)
    assert fields.values == ("отметка", "четвертная", "тема", "работа на уроке", "вид работы", "ДЗ")
    assert signed.values == ("да", "нет")


def test_a_complete_row_resolves(school, empty) -> None:
    (found,) = parse_corrections(sheet(empty, row()), school)
    assert (found.journal, found.day, found.lesson_no, found.pupil_id) == (
        "7Б/algebra",
        date(2026, 9, 8),
        5,
        "s0027",
    )
    assert (found.field, found.new_value, found.order_no, found.signed) == (
        CorrectionField.MARK,
        "4",
        "45-к",
        True,
    )
    assert found.problems == () and found.ready and found.needs_id and not found.edited


@pytest.mark.parametrize(
    ("changes", "want"),
    [
        ({"pupil": "Алексеев Иван"}, ("s0027", CorrectionField.MARK, "4")),
        (
            {"pupil": "алексеев иван кириллович", "value": "5 / 4"},
            ("s0027", CorrectionField.MARK, "5/4"),
        ),
        ({"journal": "7б/algebra", "value": "удалить"}, ("s0027", CorrectionField.MARK, "")),
        (
            {"what": "четвертная", "day": "1 четверть", "value": "н/а"},
            ("s0027", CorrectionField.PERIOD_MARK, "н/а"),
        ),
        (
            {"what": "Тема урока", "pupil": "", "value": "Дроби"},
            (None, CorrectionField.TOPIC, "Дроби"),
        ),
        (
            {"what": "вид работы", "value": "control"},
            (None, CorrectionField.WORK_TYPE, "Контрольная работа"),
        ),
        ({"what": "ДЗ", "value": "§ 5"}, (None, CorrectionField.HOMEWORK, "§ 5")),
        ({"signed": True}, ("s0027", CorrectionField.MARK, "4")),
    ],
)
def test_lenient_forms(school, empty, changes, want) -> None:
    (found,) = parse_corrections(sheet(empty, row(**changes)), school)
    assert (found.pupil_id, found.field, found.new_value) == want
    assert found.problems == ()


def test_period_by_a_date_inside_it(school, empty) -> None:
    (found,) = parse_corrections(sheet(empty, row(what="четвертная", day="20.10.2026")), school)
    assert (found.period, found.day) == ("1 четверть", None)


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"journal": ""}, "не указан журнал"),
        ({"journal": "7Б · Астрономия"}, "журнал «7Б · Астрономия» не найден"),
        ({"what": "оценки"}, "не указано, что исправить"),
        ({"day": "05.09.2026"}, "05.09.2026 в этом журнале нет урока"),
        ({"day": "вчера"}, "не указана дата урока"),
        ({"pupil": "Иванов"}, "нет ученика «Иванов»"),
        ({"pupil": ""}, "не указан ученик"),
        ({"value": "6"}, "«6» — нет такой отметки"),
        ({"value": ""}, "не указано новое значение"),
        ({"reason": ""}, "не указана причина"),
        ({"order": ""}, "не указан номер приказа"),
        ({"signed": "нет"}, "нет подписи заместителя директора"),
        ({"what": "четвертная", "day": "осень"}, "не указан период"),
        ({"what": "вид работы", "value": "зачёт"}, "нет такого вида работы"),
    ],
)
def test_problems_in_russian(school, empty, changes, message) -> None:
    (found,) = parse_corrections(sheet(empty, row(**changes)), school)
    assert any(message in p for p in found.problems), found.problems
    assert status_text(found.problems).startswith("отклонено: ")


def test_second_lesson_of_a_day_needs_its_number(school, empty) -> None:
    base = {"journal": "10А · Алгебра", "pupil": school.pupils_in("10А")[0].id}
    ambiguous, second = parse_corrections(
        sheet(empty, row(day="17.12.2026", **base), row(day="17.12.2026 (2)", **base)), school
    )
    assert any("два урока" in p for p in ambiguous.problems)
    assert (second.day, second.lesson_no, second.problems) == (date(2026, 12, 17), 7, ())


def test_keys_survive_sorting_and_ids_are_written(school, empty) -> None:
    rows = [row(value=v, order=f"{n}-к") for n, v in enumerate("5432", start=1)]
    before = {r.order_no: r.key for r in parse_corrections(sheet(empty, *rows), school)}
    grid = sort_rows(sheet(empty, *rows), 1, key=lambda r: r[5])  # by new value
    after = parse_corrections(grid, school)
    assert {r.order_no: r.key for r in after} == before
    first = after[0]
    writes = first.status_update(status_text(), datetime(2026, 9, 20, 10, 5))  # noqa: DTZ001
    assert writes == [
        (CellRange(TAB, 1, 9, 2, 10), [["применено"]]),
        (CellRange(TAB, 1, 10, 2, 11), [["20.09.2026 10:05"]]),
        (CellRange(TAB, 1, 0, 2, 1), [[first.key]]),
    ]
    numbered = set_cell(set_cell(grid, 1, 0, first.key), 1, 9, "применено")
    again = parse_corrections(numbered, school)[0]
    assert (again.key, again.needs_id, again.done, again.ready) == (first.key, False, True, False)
    assert again.status_update("применено", "x") == [
        *writes[:1],
        (CellRange(TAB, 1, 10, 2, 11), [["x"]]),
    ]


def test_edited_after_processing_gets_a_new_key(school, empty) -> None:
    (first,) = parse_corrections(sheet(empty, row()), school)
    grid = sheet(empty, row(row_id=first.key, status="применено", value="3"))
    (edited,) = parse_corrections(grid, school)
    assert edited.edited and edited.key != first.key and not edited.done
    assert any("изменена после обработки" in p for p in edited.problems)


def test_duplicate_rows_are_flagged(school, empty) -> None:
    a, b = parse_corrections(sheet(empty, row(), row()), school)
    assert a.key == b.key and a.problems == () and b.problems == ("повторяет строку 2",)


def test_moved_columns_still_read(school, empty) -> None:
    grid = swap_cols(sheet(empty, row()), 5, 6)
    (found,) = parse_corrections(grid, school)
    assert (found.new_value, found.reason) == ("4", "ошибка при вводе")


def test_broken_header_raises_a_layout_error(school, empty) -> None:
    with pytest.raises(LayoutError, match="lacks columns: Причина"):
        parse_corrections(delete_col(sheet(empty, row()), 6), school)
    with pytest.raises(LayoutError, match="no header row"):
        parse_corrections([["что-то"], row()], school)


def test_empty_rows_are_skipped(school, empty) -> None:
    assert parse_corrections(sheet(empty, [], ["", "", None], row()), school)[0].row == 3


@settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    st.lists(
        st.lists(
            st.one_of(
                st.none(),
                st.text(max_size=12),
                st.integers(),
                st.floats(),
                st.booleans(),
                st.sampled_from([ALGEBRA, "02.09.2026", "s0027", "отметка", "да", "1 четверть"]),
            ),
            max_size=12,
        ),
        max_size=8,
    )
)
def test_random_rows_never_crash(school, empty, rows) -> None:
    for found in parse_corrections(sheet(empty, *rows), school):
        assert found.ready == (found.signed and not found.done)
        assert found.problems or found.journal is not None
