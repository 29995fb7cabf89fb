"""Which stretch of the school year a report covers: one study period, the whole year, a week or
a month — and the day its figures are counted up to.

A report built while its span is still running counts only what has happened: lessons up to the
build day (``Span.until``). Lessons before the school's go-live day (``[year] journal_start``) were
kept in the paper journal and count nowhere.
"""

from __future__ import annotations

import calendar as _calendar
from dataclasses import dataclass
from datetime import date, timedelta

from config.school import School
from rules.errors import ReportError
from rules.model import Period

YEAR_NAMES = ("год", "year")
MONTHS = (
    "январь", "февраль", "март", "апрель", "май", "июнь",
    "июль", "август", "сентябрь", "октябрь", "ноябрь", "декабрь",
)


@dataclass(frozen=True, slots=True)
class Span:
    """A named stretch of days (both ends inclusive) and the study periods it touches."""

    name: str  # "1 четверть", "2026/27 учебный год", "неделя 07.09–13.09.2026", "сентябрь 2026"
    start: date
    end: date
    periods: tuple[Period, ...]
    whole_year: bool = False

    def until(self, today: date) -> date:
        """The last day counted: the span's end, or the day before ``today`` while it runs
        (today's lessons are still open)."""
        return min(self.end, today - timedelta(days=1))

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


def period_span(school: School, name: str | None) -> Span:
    """The span of a study period by its name ("1 четверть", case and spaces ignored) or of the
    whole year (``None``, "год", "year")."""
    year = school.year
    if name is None or " ".join(name.split()).casefold() in YEAR_NAMES:
        return Span(f"{year.name} учебный год", year.start, year.end, year.all_periods, True)
    wanted = " ".join(name.split()).casefold()
    for period in year.all_periods:  # a grade band's too: its report holds that band's journals
        if " ".join(period.name.split()).casefold() == wanted:
            return Span(period.name, period.start, period.end, (period,))
    known = ", ".join(f"«{p.name}»" for p in year.all_periods)
    raise ReportError(
        f"unknown period {name!r}", f"use one of {known} or «год» for the whole year"
    )


def week_span(school: School, monday: date) -> Span:
    """The school week starting on ``monday`` (any day of the week is moved to its Monday)."""
    start = monday - timedelta(days=monday.weekday())
    end = start + timedelta(days=6)
    _inside_year(school, start, end, "week")
    name = f"неделя {start:%d.%m}–{end:%d.%m.%Y}"
    return Span(name, start, end, _touching(school, start, end))


def month_span(school: School, first: date) -> Span:
    """The calendar month containing ``first``."""
    start = first.replace(day=1)
    end = start.replace(day=_calendar.monthrange(start.year, start.month)[1])
    _inside_year(school, start, end, "month")
    return Span(f"{MONTHS[start.month - 1]} {start.year}", start, end, _touching(school, start, end))


def _touching(school: School, start: date, end: date) -> tuple[Period, ...]:
    return tuple(p for p in school.year.all_periods if p.start <= end and start <= p.end)


def _inside_year(school: School, start: date, end: date, what: str) -> None:
    year = school.year
    if end < year.start or start > year.end:
        raise ReportError(
            f"the {what} {start.isoformat()}..{end.isoformat()} is outside the school year "
            f"{year.start.isoformat()}..{year.end.isoformat()}",
            f"give a {what} inside the year {year.name}",
        )
