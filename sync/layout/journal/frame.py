"""The frame of a journal parse: what the journal should contain, and how tab parsers report.

:class:`JournalFrame` holds the expected lessons (with each day's ordinal, for "02.09 (2)"), the
class's pupils, the work types and the КТП topics; :class:`TabResult` collects what one tab yields,
and the helpers here record ignored cells and problems. Shared by ``period_tab`` (period
tabs) and ``lessons`` ("Уроки").
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date

from config.school import School
from rules.model import Lesson, Pupil
from rules.plan import plan_topics
from sync.backends.protocol import Grid, column_letter
from sync.layout.common import (
    DateRange,
    IgnoredCell,
    ProblemKind,
    StructureProblem,
    a1,
    at,
    is_blank,
    row_width,
)
from sync.layout.journal.map import (
    LessonKey,
    LessonsTabMap,
    PeriodTabMap,
    ordinals,
    period_pupils,
)
from sync.layout.labels import Labels, normalize_label

REPAIR = "Сервис восстановит лист по сохранённым данным."


def planned_topics(
    school: School, class_id: str, subject_id: str, lessons: Sequence[Lesson]
) -> dict[LessonKey, str]:
    """The КТП topic of each lesson: the year's n-th lesson takes the plan item covering n
    (an item numbered 4 with 3 hours covers lessons 4, 5 and 6)."""
    by_number = plan_topics(school.plan(class_id, subject_id))
    ordered = sorted(lessons, key=lambda x: (x.day, x.lesson_no))
    return {(x.day, x.lesson_no): by_number.get(i, "") for i, x in enumerate(ordered, start=1)}


@dataclass(frozen=True)
class JournalFrame:
    """What a journal should contain: its lessons, pupils, work types, labels."""

    labels: Labels
    lessons: dict[LessonKey, Lesson]
    ordinal: dict[LessonKey, int]
    key_at: dict[tuple[date, int], LessonKey]  # (day, ordinal) → lesson
    pupils: dict[str, Pupil]  # every pupil of the class
    expected: dict[str, list[Pupil]]  # period name → pupils in its tab
    year_range: DateRange
    work_types: frozenset[str]  # normalized codes and names
    planned: dict[LessonKey, str]
    period_label: str
    by_name: dict[str, list[str]]  # normalized full name → pupil ids (a row's visible name)
    averages: bool = True  # the period tabs carry «Средний балл» and «Рекомендуемая»

    @classmethod
    def build(
        cls,
        school: School,
        class_id: str,
        subject_id: str,
        lessons: Sequence[Lesson],
        labels: Labels,
    ) -> JournalFrame:
        ordinal = ordinals(lessons)
        return cls(
            labels=labels,
            lessons={(x.day, x.lesson_no): x for x in lessons},
            ordinal=ordinal,
            key_at={(key[0], n): key for key, n in ordinal.items()},
            pupils={p.id: p for p in school.pupils_in(class_id)},
            expected={p.name: period_pupils(school, class_id, p)
                      for p in school.periods_of(class_id)},
            year_range=(school.year.start, school.year.end),
            work_types=frozenset(
                normalize_label(text)
                for wt in school.policies.work_types
                for text in (wt.code, wt.name)
            ),
            planned=planned_topics(school, class_id, subject_id, lessons),
            period_label=labels.period_column(school.year_of(class_id).period_kind),
            by_name=_by_name(school.pupils_in(class_id)),
            averages=school.has_averages(class_id, subject_id),
        )

    def lesson_days(self) -> set[date]:
        return {key[0] for key in self.lessons}


def _by_name(pupils: Iterable[Pupil]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for pupil in pupils:
        out.setdefault(normalize_label(pupil.full_name), []).append(pupil.id)
    return out


def same_name(shown: object, pupil: Pupil) -> bool:
    """Whether a row's visible name is ``pupil``'s (up to case, spacing and "ё")."""
    return normalize_label(shown) == normalize_label(pupil.full_name)


@dataclass
class TabResult:
    entries: list[tuple[str, LessonKey, object, str]] = field(default_factory=list)
    period_marks: list[tuple[str, str, object, str]] = field(default_factory=list)
    stray: list[tuple[str, date, object, str]] = field(default_factory=list)
    ignored: list[IgnoredCell] = field(default_factory=list)
    problems: list[StructureProblem] = field(default_factory=list)
    duplicates: set[str] = field(default_factory=set)


@dataclass
class ParsedPeriodTab:
    map: PeriodTabMap | None
    result: TabResult


@dataclass
class ParsedLessonsTab:
    map: LessonsTabMap | None
    facts: dict[LessonKey, tuple[tuple[str, str, str, str], dict[str, str]]]
    result: TabResult


def ref(row: int, col: int) -> str:
    return f"{column_letter(col)}{row + 1}"


def problem(
    res: TabResult,
    kind: ProblemKind,
    tab: str,
    text: str,
    cell: str | None = None,
    repair: bool = False,
) -> None:
    res.problems.append(StructureProblem(kind, tab, text, cell, repair))


def ignore_cells(
    res: TabResult,
    grid: Grid,
    title: str,
    row: int,
    cols: Iterable[int],
    kind: ProblemKind = ProblemKind.OUTSIDE_GRID,
) -> int:
    """Record the non-empty cells of ``row`` in columns ``cols`` as ignored; their count."""
    count = 0
    for col in sorted(cols):
        value = at(grid, row, col)
        if not is_blank(value):
            res.ignored.append(IgnoredCell(a1(title, row, col), value, kind))
            count += 1
    return count


def ignore_row(res: TabResult, grid: Grid, title: str, row: int, kind: ProblemKind) -> int:
    """Record every non-empty cell of ``row`` as ignored; their count."""
    return ignore_cells(res, grid, title, row, range(row_width(grid, row)), kind)


def unknown_cols(grid: Grid, row: int, known: set[int]) -> list[int]:
    return [col for col in range(row_width(grid, row)) if col not in known]
