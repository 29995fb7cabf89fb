"""``[year] transfers``: a working day on another weekday's timetable (перенос), as loaded from
the example school and as ``ejournal check`` reports its mistakes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from config import load_school
from tests.config.helpers import find, problems_of, replace_once

EMPTY = "transfers = []"
SATURDAY = date(2026, 11, 7)  # the 2nd quarter's first Saturday (a 5-day week: no lessons)


def test_a_working_saturday_gets_mondays_lessons(school_dir: Path) -> None:
    before = load_school(school_dir, environ={})
    replace_once(school_dir / "school.toml", EMPTY,
                 'transfers = [{ day = 2026-11-07, timetable = "monday" }]')
    school = load_school(school_dir, environ={})
    assert school.year.transfers == ((SATURDAY, 1),)
    monday = {(s.class_id, s.subject_id, s.lesson_no) for s in school.slots if s.weekday == 1}
    on_saturday = {(x.class_id, x.subject_id, x.lesson_no)
                   for found in school.lessons().values() for x in found if x.day == SATURDAY}
    assert on_saturday == monday and monday  # every Monday lesson, nothing else
    assert not any(x.day == SATURDAY for found in before.lessons().values() for x in found)


def test_a_transfer_into_a_holiday_is_reported(school_dir: Path) -> None:
    line = replace_once(school_dir / "school.toml", EMPTY,
                        'transfers = [{ day = 2026-11-04, timetable = "monday" }]')
    find(problems_of(school_dir), "school.toml", f"line {line}", "2026-11-04 is in a holiday")


def test_an_unknown_weekday_is_reported(school_dir: Path) -> None:
    line = replace_once(school_dir / "school.toml", EMPTY,
                        'transfers = [{ day = 2026-11-07, timetable = "sunday" }]')
    find(problems_of(school_dir), "school.toml", f"line {line}", "monday")
