"""Where things are in a journal right now: the map the parser builds from a read.

A teacher may sort rows, insert or move columns, so positions are never assumed: the parser locates
every pupil row by its hidden id and every lesson column by its date header, and records them in a
:class:`JournalMap`. The engine uses the map for everything it writes (tamper reverts, service
cells, the open ranges of the nightly lock job), always at the positions of its latest read.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from config.school import School
from rules.model import Lesson, Period, Pupil
from sync.backends.protocol import CellRange
from sync.layout.common import runs

LessonKey = tuple[date, int]  # (day, lesson_no): one lesson of the journal


class LessonField(StrEnum):
    """Teacher-entered cells of a lesson on "Уроки" (values match ``rules.EntryField`` names)."""

    TOPIC = "topic"
    CLASSWORK = "classwork"
    WORK_TYPE = "work_type"
    HOMEWORK = "homework"


class ServiceColumn(StrEnum):
    """Service-written columns of "Уроки"."""

    DATE = "date"
    NUMBER = "number"
    PLANNED = "planned"
    STATUS = "status"


# --------------------------------------------------------------------------- lessons and pupils


def ordinals(lessons: Iterable[Lesson]) -> dict[LessonKey, int]:
    """Each lesson's place among the journal's lessons of its day: 1, or 2 for "02.09 (2)"."""
    out: dict[LessonKey, int] = {}
    seen: dict[date, int] = {}
    for lesson in sorted(lessons, key=lambda x: (x.day, x.lesson_no)):
        seen[lesson.day] = seen.get(lesson.day, 0) + 1
        out[(lesson.day, lesson.lesson_no)] = seen[lesson.day]
    return out


def roster_key(pupil: Pupil) -> tuple[str, str, str, str]:
    """Roster order: by last, first and middle name ("ё" sorts as "е"), then id."""
    names = (pupil.last_name, pupil.first_name, pupil.middle_name)
    folded = tuple(n.casefold().replace("ё", "е") for n in names)
    return folded[0], folded[1], folded[2], pupil.id


def period_pupils(school: School, class_id: str, period: Period) -> list[Pupil]:
    """Pupils of the class at any time during ``period``, in roster order."""
    return sorted(
        (
            p
            for p in school.pupils_in(class_id)
            if p.enrolled <= period.end and (p.left is None or p.left >= period.start)
        ),
        key=roster_key,
    )


# --------------------------------------------------------------------------- maps


@dataclass(frozen=True, slots=True)
class PeriodTabMap:
    """One period tab ("1 четверть"): its header row, id column, pupil rows and lesson columns.

    ``rows`` gives each pupil's first row; ``pupil_at`` every pupil row, duplicates included.
    ``end_row`` is the first row below everything read (where a missing pupil's row may go).
    ``id_fixes``: rows whose hidden id is another pupil's than the visible name's (not read, not
    in ``rows``): the id of the pupil the name shows, which the service writes back.
    """

    title: str
    period: str
    header_row: int
    id_col: int
    rows: Mapping[str, int]
    pupil_at: Mapping[int, str]
    columns: Mapping[LessonKey, int]
    work_type_row: int | None
    average_col: int | None
    recommended_col: int | None
    period_col: int | None
    end_row: int
    id_fixes: Mapping[int, str] = field(default_factory=dict)  # row → the id its name shows

    def pupil_runs(self) -> list[tuple[int, int]]:
        return runs(self.pupil_at)

    def cell(self, pupil_id: str, key: LessonKey) -> CellRange | None:
        row, col = self.rows.get(pupil_id), self.columns.get(key)
        if row is None or col is None:
            return None
        return CellRange(self.title, row, col, row + 1, col + 1)

    def column(self, col: int | None) -> list[CellRange]:
        """The pupil rows of a column, one range per run of consecutive rows."""
        if col is None:
            return []
        return [CellRange(self.title, a, col, b, col + 1) for a, b in self.pupil_runs()]


@dataclass(frozen=True, slots=True)
class LessonsTabMap:
    """The "Уроки" tab: the row of each lesson and the column of each field (by label)."""

    title: str
    header_row: int
    rows: Mapping[LessonKey, int]
    columns: Mapping[str, int]  # LessonField / ServiceColumn value → column
    end_row: int

    def cell(self, key: LessonKey, name: str) -> CellRange | None:
        row, col = self.rows.get(key), self.columns.get(name)
        if row is None or col is None:
            return None
        return CellRange(self.title, row, col, row + 1, col + 1)


@dataclass(frozen=True, slots=True)
class JournalMap:
    """Current positions in one journal; every method answers None / [] for what is not there."""

    periods: Mapping[str, PeriodTabMap] = field(default_factory=dict)  # by period name
    lessons_tab: LessonsTabMap | None = None
    findings_tab: str | None = None

    def tab_of(self, key: LessonKey) -> PeriodTabMap | None:
        return next((t for t in self.periods.values() if key in t.columns), None)

    def cell(self, pupil_id: str, key: LessonKey) -> CellRange | None:
        """The mark cell of a pupil and lesson (the pupil's first row if duplicated)."""
        tab = self.tab_of(key)
        return None if tab is None else tab.cell(pupil_id, key)

    def lesson_column(self, key: LessonKey) -> list[CellRange]:
        """The mark cells of a lesson (pupil rows only)."""
        tab = self.tab_of(key)
        return [] if tab is None else tab.column(tab.columns[key])

    def work_type_cell(self, key: LessonKey) -> CellRange | None:
        tab = self.tab_of(key)
        if tab is None or tab.work_type_row is None:
            return None
        row, col = tab.work_type_row, tab.columns[key]
        return CellRange(tab.title, row, col, row + 1, col + 1)

    def lesson_field(self, key: LessonKey, name: LessonField | ServiceColumn) -> CellRange | None:
        """One cell of the lesson's row on "Уроки"."""
        return None if self.lessons_tab is None else self.lessons_tab.cell(key, name)

    def lesson_row(self, key: LessonKey) -> list[CellRange]:
        """The teacher-entered cells of a lesson's "Уроки" row, one range per adjacent run."""
        tab = self.lessons_tab
        if tab is None or key not in tab.rows:
            return []
        row = tab.rows[key]
        cols = [tab.columns[f] for f in LessonField if f in tab.columns]
        return [CellRange(tab.title, row, a, row + 1, b) for a, b in runs(cols)]

    def period_mark_cell(self, pupil_id: str, period: str) -> CellRange | None:
        tab = self.periods.get(period)
        if tab is None or tab.period_col is None or pupil_id not in tab.rows:
            return None
        row = tab.rows[pupil_id]
        return CellRange(tab.title, row, tab.period_col, row + 1, tab.period_col + 1)

    def period_mark_column(self, period: str) -> list[CellRange]:
        tab = self.periods.get(period)
        return [] if tab is None else tab.column(tab.period_col)


def open_ranges(
    journal: JournalMap,
    lessons: Sequence[Lesson],
    open_days: Collection[date],
    period_mark_open_periods: Collection[str],
    *,
    info_days: Collection[date],
) -> dict[str, list[CellRange]]:
    """The cells teachers may edit, per tab title, for ``Backend.set_open_ranges``.

    ``open_days``: lesson days whose MARK cells are open (``rules.open_lessons``: the day itself and
    grace windows of written works); ``info_days``: days whose "Уроки" row is open (the lesson day
    only); ``period_mark_open_periods``: periods whose period-mark column is in its window. Every
    mapped tab is listed, with [] when nothing is open, so stale openings are closed. Adjacent open
    columns share one range; non-pupil rows (junk typed between pupils) are never opened.
    """
    out: dict[str, list[CellRange]] = {}
    keys = [(x.day, x.lesson_no) for x in sorted(lessons, key=lambda x: (x.day, x.lesson_no))]
    for tab in journal.periods.values():
        cols = [tab.columns[k] for k in keys if k[0] in open_days and k in tab.columns]
        if tab.period in period_mark_open_periods and tab.period_col is not None:
            cols.append(tab.period_col)
        out[tab.title] = [
            CellRange(tab.title, r0, a, r1, b) for a, b in runs(cols) for r0, r1 in tab.pupil_runs()
        ]
    if journal.lessons_tab is not None:
        out[journal.lessons_tab.title] = [
            r for key in keys if key[0] in info_days for r in journal.lesson_row(key)
        ]
    if journal.findings_tab is not None:
        out[journal.findings_tab] = []
    return out
