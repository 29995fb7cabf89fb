"""Findings moved with their cells when a journal tab is re-laid out (pure, no I/O).

A cell is known by what it holds — a pupil's mark of a lesson, a period mark, a lesson's field on
«Уроки» — so a finding read at N8 of a sorted tab is named at O4 once the tab is back in roster
order, and one whose cell the re-layout removes (a stray date column) has no place any more.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import replace
from typing import TypeVar

from rules.model import Finding
from sync.layout.common import a1
from sync.layout.journal.map import JournalMap

T = TypeVar("T")
Place = tuple[object, ...]  # what a cell holds, independent of where: ("mark", pupil, day, no) …


def tab_of(cell: str) -> str:
    """The tab title of an A1 reference ("'1 четверть'!E5" → "1 четверть")."""
    tab = cell.rpartition("!")[0]
    if len(tab) >= 2 and tab.startswith("'") and tab.endswith("'"):
        tab = tab[1:-1].replace("''", "'")
    return tab


def _places(where: JournalMap) -> dict[str, Place]:
    """Every located cell of a map (A1) → what it holds."""
    out: dict[str, Place] = {}
    for tab in where.periods.values():
        for pid, row in tab.rows.items():
            for lesson, col in tab.columns.items():
                out[a1(tab.title, row, col)] = ("mark", pid, *lesson)
            for role, col in (("period", tab.period_col), ("average", tab.average_col),
                              ("recommended", tab.recommended_col)):
                if col is not None:
                    out[a1(tab.title, row, col)] = (role, pid, tab.period)
        if tab.work_type_row is not None:
            for lesson, col in tab.columns.items():
                out[a1(tab.title, tab.work_type_row, col)] = ("work_type", *lesson)
    lessons = where.lessons_tab
    if lessons is not None:
        for lesson, row in lessons.rows.items():
            for name, col in lessons.columns.items():
                out[a1(lessons.title, row, col)] = ("lesson", name, *lesson)
    return out


def relocate(findings: Iterable[Finding], old: JournalMap, new: JournalMap,
             tabs: Collection[str]) -> list[Finding]:
    """The findings with their cells on ``tabs`` moved from ``old`` positions to ``new`` ones;
    those whose cell has no place after the repair are left out."""
    return [f for f, _ in relocate_pairs(((f, None) for f in findings), old, new, tabs)]


def relocate_pairs(items: Iterable[tuple[Finding, T]], old: JournalMap, new: JournalMap,
                   tabs: Collection[str]) -> list[tuple[Finding, T]]:
    """:func:`relocate` over (finding, anything) pairs."""
    before = _places(old)
    after = {place: cell for cell, place in _places(new).items()}
    out = []
    for f, extra in items:
        cell = f.location.cell
        if cell and tab_of(cell) in tabs:
            place = before.get(cell)
            moved = after.get(place) if place is not None else None
            if moved is None:
                continue
            f = replace(f, location=replace(f.location, cell=moved))
        out.append((f, extra))
    return out




def placed(items: Iterable[tuple[Finding, T]], where: JournalMap,
           tabs: Collection[str]) -> list[tuple[Finding, T]]:
    """The findings on ``tabs`` named at the cells ``where`` gives their pupil, date and field —
    for findings recorded at a read older than ``where`` (``rebuild``), whose cells may have
    moved since. A finding that names no such place keeps its cell."""
    out = []
    for f, extra in items:
        cell, loc = f.location.cell, f.location
        if cell and tab_of(cell) in tabs:
            found = _place_of(where, tab_of(cell), loc.pupil_id, loc.day, loc.field, cell)
            if found is not None:
                f = replace(f, location=replace(loc, cell=found))
        out.append((f, extra))
    return out


def _place_of(where: JournalMap, tab: str, pupil: str | None, day: object, field: str | None,
              cell: str) -> str | None:
    if field == "mark" and pupil:
        cells = [a1(t.title, t.rows[pupil], col) for t in where.periods.values()
                 if pupil in t.rows for key, col in t.columns.items() if key[0] == day]
        return cell if cell in cells else (cells[0] if cells else None)
    if field == "period_mark" and pupil:
        for t in where.periods.values():
            if t.title == tab and t.period_col is not None and pupil in t.rows:
                return a1(t.title, t.rows[pupil], t.period_col)
        return None
    lessons = where.lessons_tab
    if lessons is not None and field in lessons.columns and day is not None:
        rows = [row for key, row in lessons.rows.items() if key[0] == day]
        return a1(lessons.title, rows[0], lessons.columns[field]) if rows else None
    return None
