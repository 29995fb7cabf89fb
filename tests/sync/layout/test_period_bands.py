"""A journal of grade 10 in half-years beside one of grade 5 in quarters: its period tabs, its
period-mark column, its period-mark windows and the parse of the rendered sheet."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time

from config.school import School
from rules.model import Period, PeriodBand
from sync.layout.class_sheet.attendance import attendance_days
from sync.layout.class_sheet.spec import class_spec
from sync.layout.common import spec_grids
from sync.layout.journal.spec import journal_spec, journal_windows, parse_journal
from sync.layout.labels import RU
from tests.sync.layout_helpers import example_school

H1 = Period("1 полугодие", date(2026, 9, 1), date(2026, 12, 29))
H2 = Period("2 полугодие", date(2027, 1, 11), date(2027, 5, 26))


def banded() -> School:
    base = example_school()
    year = dataclasses.replace(base.year, bands=(PeriodBand(10, 11, (H1, H2)),))
    return dataclasses.replace(base, year=year)  # a fresh School: its lesson cache is empty


def _lessons(school: School, key: tuple[str, str]) -> list:  # type: ignore[type-arg]
    return sorted(school.lessons()[key], key=lambda x: (x.day, x.lesson_no))


def test_grade_ten_journal_has_two_half_year_tabs() -> None:
    school = banded()
    lessons = _lessons(school, ("10А", "algebra"))
    spec = journal_spec(school, "10А", "algebra", lessons, today=date(2026, 12, 1))
    titles = [t.title for t in spec.tabs]
    assert titles == ["1 полугодие", "2 полугодие", RU.lessons_tab, RU.findings_tab]
    assert spec.active_tab == "1 полугодие"  # 1 December: inside the first half-year
    grid = spec_grids(spec)["1 полугодие"]
    assert "Полугодие" in grid[2] and "Четверть" not in grid[2]
    reading = parse_journal(spec_grids(spec), school, "10А", "algebra", lessons)
    assert not reading.problems
    first = reading.map.periods["1 полугодие"]
    in_h1 = [x for x in lessons if H1.contains(x.day)]
    assert len(first.columns) == len(in_h1) > 0  # every lesson of the half-year, on its tab
    five = journal_spec(school, "5А", "math", _lessons(school, ("5А", "math")),
                        today=date(2026, 12, 1))
    assert [t.title for t in five.tabs][:4] == [f"{n} четверть" for n in range(1, 5)]


def test_period_mark_windows_follow_the_half_years() -> None:
    school = banded()
    lessons = _lessons(school, ("10А", "algebra"))
    windows = journal_windows(school, "10А", lessons, work_types={})
    assert set(windows.periods) == {"1 полугодие", "2 полугодие"}
    lock = school.policies.lock
    tz = school.timezone
    opens, closes = windows.periods["1 полугодие"]
    # by hand: the window opens `before` days ahead of 29.12 and closes `after` days after it
    before = date(2026, 12, 29).toordinal() - lock.period_mark_open_before_days
    assert opens.astimezone(tz).date() == date.fromordinal(before)
    assert closes.astimezone(tz) > datetime.combine(date(2026, 12, 29), time(0), tzinfo=tz)


def test_attendance_days_follow_the_grades_periods() -> None:
    base = example_school()
    short = Period("1 полугодие", date(2026, 9, 1), date(2026, 12, 25))  # ends before Q2
    year = dataclasses.replace(base.year, bands=(PeriodBand(10, 11, (short, H2)),))
    school = dataclasses.replace(base, year=year)
    seven, ten = attendance_days(school, "7Б"), attendance_days(school, "10А")
    assert date(2026, 12, 28) in seven and date(2026, 12, 28) not in ten  # Monday, Q2's last week
    grid = spec_grids(class_spec(school, "10А", today=date(2026, 12, 1)))[RU.attendance_tab]
    headers = {str(v) for v in grid[0]} | {str(v) for row in grid[:3] for v in row}
    assert not any(h.startswith("28.12") for h in headers)
