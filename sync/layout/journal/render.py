"""Service-written cells of a journal, at the positions the latest read found them.

:func:`render_service_columns` gives the work-type row, averages and recommended marks of every
period tab and the "Статус" column of "Уроки"; :func:`render_findings` the "Замечания" tab.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from functools import lru_cache

from config.school import School
from rules.grading import Recommendation, format_average
from rules.model import Finding
from sync.backends.protocol import CellRange, Grid
from sync.layout.common import date_text, runs
from sync.layout.journal.map import JournalMap, LessonKey, ServiceColumn
from sync.layout.labels import RU, Labels


@dataclass(frozen=True, slots=True)
class ServiceValues:
    """What the engine computed for the service cells.

    ``work_types``: the name shown under each lesson's date; ``recommendations``: per (period,
    pupil id), from ``rules.recommend`` (average and recommended mark); ``statuses``: the "Статус"
    text of each lesson on "Уроки". A key left out renders as an empty cell.
    """

    work_types: Mapping[LessonKey, str] = field(default_factory=dict)
    recommendations: Mapping[tuple[str, str], Recommendation] = field(default_factory=dict)
    statuses: Mapping[LessonKey, str] = field(default_factory=dict)


def render_service_columns(
    journal: JournalMap, values: ServiceValues, *, school: School | None = None
) -> list[tuple[CellRange, Grid]]:
    """The service cells at their current positions: the work-type row, averages and recommended
    marks of every period tab, the "Статус" column of "Уроки", and the hidden id of a row whose id
    did not match its visible name (``PeriodTabMap.id_fixes``). One range per run of adjacent
    cells; pass the result through ``stale_updates`` to write only what changed.

    ``school`` gives the grading thresholds, so a shown average never contradicts the
    recommendation (4.647 is shown as 4,647, not 4,65); without it averages show 2 decimals.
    """
    thresholds = _thresholds(school)
    updates: list[tuple[CellRange, Grid]] = []
    for tab in journal.periods.values():
        for row, pupil_id in sorted(tab.id_fixes.items()):  # a swapped hidden id, put back
            updates.append((CellRange(tab.title, row, tab.id_col, row + 1, tab.id_col + 1),
                            [[pupil_id]]))
        if tab.work_type_row is not None and tab.columns:
            by_col = {col: key for key, col in tab.columns.items()}
            for a, b in runs(by_col):
                line = [
                    values.work_types.get(by_col[c], "") if c in by_col else "" for c in range(a, b)
                ]
                updates.append(
                    (CellRange(tab.title, tab.work_type_row, a, tab.work_type_row + 1, b), [line])
                )
        for col, render in (
            (tab.average_col, _average_text),
            (tab.recommended_col, _recommended_text),
        ):
            if col is None:
                continue
            for a, b in tab.pupil_runs():
                column = [
                    [render(values.recommendations.get((tab.period, tab.pupil_at[r])), thresholds)]
                    for r in range(a, b)
                ]
                updates.append((CellRange(tab.title, a, col, b, col + 1), column))
    lessons_tab = journal.lessons_tab
    status_col = None if lessons_tab is None else lessons_tab.columns.get(ServiceColumn.STATUS)
    if lessons_tab is not None and status_col is not None:
        by_row = {row: key for key, row in lessons_tab.rows.items()}
        for a, b in runs(by_row):
            column = [[values.statuses.get(by_row[r], "")] for r in range(a, b)]
            updates.append((CellRange(lessons_tab.title, a, status_col, b, status_col + 1), column))
    return updates


def _thresholds(school: School | None) -> tuple[Fraction, ...]:
    if school is None:
        return ()
    return tuple(Fraction(repr(t)) for t in school.policies.grading.thresholds)


def _average_text(rec: Recommendation | None, thresholds: tuple[Fraction, ...]) -> str:
    if rec is None or rec.average is None:
        return ""
    return _average_shown(rec.average, thresholds)


@lru_cache(maxsize=4096)
def _average_shown(average: float, thresholds: tuple[Fraction, ...]) -> str:
    """An average as shown (memoised: a school's averages are a few hundred distinct values)."""
    return format_average(Fraction(repr(average)), *thresholds)


def _recommended_text(rec: Recommendation | None, thresholds: tuple[Fraction, ...]) -> str:
    del thresholds
    return "" if rec is None else rec.value


def render_findings(
    findings: Iterable[tuple[Finding, date]], *, clear_rows: int = 0, labels: Labels = RU
) -> Grid:
    """The "Замечания" tab: header, then one line per open finding (cell, message, since),
    oldest first, then by tab and cell; "Замечаний нет" when there are none. ``clear_rows`` pads
    with empty lines so a shorter list overwrites a longer one written before."""
    rows: Grid = [[labels.cell, labels.finding, labels.since]]
    ordered = sorted(
        findings, key=lambda item: (item[1], _cell_order(item[0].location.cell), item[0].message)
    )
    for finding, since in ordered:
        rows.append([_cell_shown(finding.location.cell), finding.message, date_text(since)])
    if len(rows) == 1:
        rows.append(["", labels.no_findings, ""])
    while len(rows) < clear_rows:
        rows.append(["", "", ""])
    return rows


def _split_ref(cell: str | None) -> tuple[str, str]:
    if not cell:
        return "", ""
    tab, _, ref = cell.rpartition("!")
    if tab.startswith("'") and tab.endswith("'") and len(tab) >= 2:
        tab = tab[1:-1].replace("''", "'")
    return tab, ref


def _cell_shown(cell: str | None) -> str:
    """ "'1 четверть'!E5" → "1 четверть, E5"; "" when the finding has no cell."""
    tab, ref = _split_ref(cell)
    return f"{tab}, {ref}" if tab else ref


def _cell_order(cell: str | None) -> tuple[str, int, int]:
    tab, ref = _split_ref(cell)
    letters = "".join(c for c in ref if c.isalpha())
    digits = "".join(c for c in ref if c.isdigit())
    col = 0
    for c in letters.upper():
        col = col * 26 + (ord(c) - 64)
    return tab, int(digits) if digits else 0, col
