"""Periods per grade band (``AcademicYear.bands``): grade 10 in a half-year beside grade 7 in
quarters, in the test year of ``test_calendar`` (its docstring draws the calendar).

Hand count, math on Tuesday lesson 2 and Thursday lesson 3 for both classes:
7Б (quarters) — 16 lessons in «1 четверть» + 7 in «2 четверть» = 23, none on 03.11 (a school
day outside both quarters). 10А (one half-year 01.09–30.11) — Tuesdays 01.09…20.10 (8), 03.11,
10, 17, 24.11 (4) and Thursdays 03.09…22.10 (8), 05…26.11 (4): 24 lessons, all «1 полугодие».
"""

from __future__ import annotations

from datetime import date

from rules.calendar import lessons, period_of
from rules.model import Period, PeriodBand, PeriodKind, TimetableSlot
from tests.rules.test_calendar import P1, P2, make_year

H1 = Period("1 полугодие", date(2026, 9, 1), date(2026, 11, 30))
BAND = PeriodBand(10, 11, (H1,), PeriodKind.HALF_YEAR)
YEAR = make_year(bands=(BAND,))
SLOTS = [TimetableSlot(wd, no, cls, "math", "t1")
         for cls in ("7Б", "10А") for wd, no in ((2, 2), (4, 3))]


def test_each_grade_gets_its_bands_periods() -> None:
    assert YEAR.for_grade(10).periods == (H1,)
    assert YEAR.for_grade(11).period_kind is PeriodKind.HALF_YEAR
    assert YEAR.for_grade(7).periods == (P1, P2)
    assert YEAR.for_grade(7).period_kind is PeriodKind.QUARTER
    assert make_year().for_grade(10).periods == (P1, P2)  # no bands: one school-wide scheme
    assert [p.name for p in YEAR.all_periods] == ["1 полугодие", "1 четверть", "2 четверть"]


def test_half_year_lessons_beside_quarter_lessons() -> None:
    seven = lessons(YEAR.for_grade(7), SLOTS, [], "7Б", "math")
    ten = lessons(YEAR.for_grade(10), SLOTS, [], "10А", "math")
    assert len(seven) == 23 and len(ten) == 24
    assert sum(x.period == "1 четверть" for x in seven) == 16
    assert {x.period for x in ten} == {"1 полугодие"}
    assert [x.number for x in ten] == list(range(1, 25))
    between = date(2026, 11, 3)  # between the quarters, inside the half-year
    assert [x.day for x in ten if x.day == between] == [between]
    assert not [x for x in seven if x.day == between]
    assert period_of(YEAR.for_grade(10), between) == H1
    assert period_of(YEAR.for_grade(7), between) is None
