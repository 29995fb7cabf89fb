"""The ``[year]`` section of ``school.toml``: periods, holidays, transfers, go-live day and the
grade bands with periods of their own (half-years in 10–11 beside quarters), checked and built."""

from __future__ import annotations

import itertools
from typing import Any, Protocol

from config.schema import Loc, SchoolToml
from rules.model import AcademicYear, Holiday, Period, PeriodBand, PeriodKind

_WEEKDAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday")


class Where(Protocol):
    """Where problems go (``config.settings``' collector)."""

    def add(self, loc: Loc, message: str) -> None: ...


def academic_year(doc: SchoolToml, where: Where) -> AcademicYear:
    """The ``[year]`` section checked (every problem added to ``where``) and built."""
    y = doc.year
    if y.start >= y.end:
        where.add(("year", "end"), f"the year ends ({y.end}) before it starts ({y.start})")
    periods = _periods(y.periods, y, ("year",), where)
    holidays = tuple(Holiday(h.name, h.start, h.end) for h in y.holidays)
    _within(holidays, y, ("year", "holidays"), where)
    bands = tuple(
        PeriodBand(b.min_grade, b.max_grade, _periods(b.periods, y, ("year", "bands", i), where),
                   PeriodKind(b.period_kind))
        for i, b in enumerate(y.bands)
    )
    for i, b in enumerate(y.bands):
        if b.min_grade > b.max_grade:
            where.add(("year", "bands", i, "max_grade"),
                      f"grades run backwards ({b.min_grade} > {b.max_grade})")
        clash = next((j for j, o in enumerate(y.bands[:i])
                      if o.min_grade <= b.max_grade and b.min_grade <= o.max_grade), None)
        if clash is not None:
            where.add(("year", "bands", i, "min_grade"),
                      f"grades {b.min_grade}–{b.max_grade} are already in bands[{clash}]")
        for j, p in enumerate(b.periods):
            same = next((q for q in periods if q.name == p.name), None)
            if same is not None and (same.start, same.end) != (p.start, p.end):
                where.add(("year", "bands", i, "periods", j, "name"),
                          f"period {p.name!r} has other dates than the school's {p.name!r}"
                          f" (a report of {p.name!r} would mix them); name it apart")
    for i, day in enumerate(y.extra_school_days):
        if not y.start <= day <= y.end:
            where.add(("year", "extra_school_days", i), f"{day} is outside the year")
    for i, t in enumerate(y.transfers):
        if not y.start <= t.day <= y.end:
            where.add(("year", "transfers", i, "day"), f"{t.day} is outside the year")
        if any(h.start <= t.day <= h.end for h in y.holidays):
            where.add(("year", "transfers", i, "day"), f"{t.day} is in a holiday")
        if [u.day for u in y.transfers].count(t.day) > 1:
            where.add(("year", "transfers", i, "day"), f"{t.day} is transferred twice")
    if y.journal_start is not None and not y.start <= y.journal_start <= y.end:
        where.add(
            ("year", "journal_start"),
            f"journal_start {y.journal_start} is outside the year ({y.start}..{y.end})",
        )
    extra: dict[str, Any] = {}
    if y.week_days is not None:
        extra["week_days"] = y.week_days
    if y.period_kind is not None:
        extra["period_kind"] = PeriodKind(y.period_kind)
    return AcademicYear(
        name=y.name,
        start=y.start,
        end=y.end,
        periods=periods,
        holidays=holidays,
        extra_school_days=tuple(y.extra_school_days),
        transfers=tuple((t.day, _WEEKDAY_NAMES.index(t.timetable) + 1) for t in y.transfers),
        journal_start=y.journal_start,
        bands=bands,
        **extra,
    )


def _periods(items: list[Any], y: Any, loc: Loc, where: Where) -> tuple[Period, ...]:
    """Study periods checked: inside the year, ends after starts, no overlap, unique names."""
    periods = tuple(Period(p.name, p.start, p.end) for p in items)
    _within(periods, y, (*loc, "periods"), where)
    ordered = sorted(enumerate(periods), key=lambda ip: ip[1].start)
    for (_, a), (j, b) in itertools.pairwise(ordered):
        if b.start <= a.end:
            where.add((*loc, "periods", j, "start"),
                      f"period {b.name!r} overlaps period {a.name!r}")
    names = [p.name for p in periods]
    for i, name in enumerate(names):
        if name in names[:i]:
            where.add((*loc, "periods", i, "name"), f"duplicate period name {name!r}")
    return periods


def _within(items: tuple[Period | Holiday, ...], y: Any, loc: Loc, where: Where) -> None:
    for i, item in enumerate(items):
        if item.start > item.end:
            where.add((*loc, i, "end"), f"{item.name!r} ends before it starts")
        elif item.start < y.start or item.end > y.end:
            where.add(
                (*loc, i, "start" if item.start < y.start else "end"),
                f"{item.name!r} ({item.start}..{item.end}) is outside the year "
                f"({y.start}..{y.end})",
            )


