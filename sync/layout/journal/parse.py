"""Reading a journal back: by hidden pupil ids and date headers, never by position.

``parse_journal`` takes the tabs as ``Backend.read`` returns them and produces the entries, period
marks and lesson facts, the :class:`~sync.layout.journal.map.JournalMap` of where they are now, and
every structure problem it met (Russian messages for the journal's "Замечания"). Rows may be sorted,
columns inserted, moved or deleted, headers retyped (even as date serials), a tab renamed: what can
be read is read, what cannot is reported, and a value is never given to the wrong pupil or lesson.
It never raises on any grid.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

from config.school import School
from rules.context import CellEntry, LessonInfo, PeriodEntry
from rules.model import Lesson
from sync.backends.protocol import Grid
from sync.layout.common import (
    IgnoredCell,
    ProblemKind,
    StructureProblem,
    find_header_row,
    repair_tabs,
)
from sync.layout.journal.frame import JournalFrame, TabResult
from sync.layout.journal.lessons import identify_tab, parse_lessons_tab
from sync.layout.journal.map import JournalMap, LessonKey, PeriodTabMap
from sync.layout.journal.period_tab import parse_period_tab
from sync.layout.labels import RU, Labels

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class MarkEntry:
    """A non-empty mark cell as read; an empty cell has no entry (the map says it was read)."""

    pupil_id: str
    day: date
    lesson_no: int
    raw: object
    cell: str


@dataclass(frozen=True, slots=True)
class PeriodMark:
    """A non-empty cell of the period-mark column."""

    pupil_id: str
    period: str
    raw: object
    cell: str


@dataclass(frozen=True, slots=True)
class StrayEntry:
    """A value in a date column that is not a lesson: never stored, but validated (the
    ``not_a_lesson_date`` rule tells the teacher)."""

    pupil_id: str
    day: date
    raw: object
    cell: str


@dataclass(frozen=True, slots=True)
class LessonFacts:
    """What the teacher recorded for a lesson on "Уроки"; ``cells`` maps a LessonField value to
    its A1 reference (filled by the parser, empty when rendering)."""

    topic: str = ""
    classwork: str = ""
    work_type: str = ""
    homework: str = ""
    cells: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class JournalReading:
    """Everything read from one journal. ``needs_repair`` when a tab must be re-rendered, re-added
    (``repair_tabs``) or renamed back (``renames``: current title → expected title)."""

    entries: tuple[MarkEntry, ...]
    period_marks: tuple[PeriodMark, ...]
    lessons: Mapping[LessonKey, LessonFacts]
    map: JournalMap
    problems: tuple[StructureProblem, ...]
    duplicate_rows: frozenset[str] = frozenset()
    stray: tuple[StrayEntry, ...] = ()
    ignored: tuple[IgnoredCell, ...] = ()
    renames: Mapping[str, str] = field(default_factory=dict)
    # period tabs not parsed: settled (``sync.jobs.settled``), their maps those of the last parse
    settled: frozenset[str] = frozenset()

    @property
    def repair_tabs(self) -> tuple[str, ...]:
        return repair_tabs(self.problems)

    @property
    def needs_repair(self) -> bool:
        return bool(self.repair_tabs or self.renames)

    def cell_entries(self) -> tuple[CellEntry, ...]:
        """Entries (and stray values) as ``rules.ValidationContext`` takes them, each with its
        lesson's ``lesson_no``; a stray value is on a day without lessons, so it keeps the default."""
        marks = [CellEntry(e.pupil_id, e.day, e.raw, e.cell, e.lesson_no) for e in self.entries]
        return (*marks, *(CellEntry(s.pupil_id, s.day, s.raw, s.cell) for s in self.stray))

    def period_entries(self) -> tuple[PeriodEntry, ...]:
        return tuple(PeriodEntry(p.pupil_id, p.period, p.raw, p.cell) for p in self.period_marks)

    def lesson_info(self) -> tuple[LessonInfo, ...]:
        """One ``LessonInfo`` per lesson, in lesson order (rules key them by ``(day, lesson_no)``)."""
        return tuple(
            LessonInfo(
                day, f.topic, f.classwork, f.work_type, f.homework, dict(f.cells), lesson_no=no
            )
            for (day, no), f in sorted(self.lessons.items())
        )


def parse_journal(
    grids: Mapping[str, Grid],
    school: School,
    class_id: str,
    subject_id: str,
    lessons: Sequence[Lesson],
    *,
    labels: Labels = RU,
    settled: Mapping[str, PeriodTabMap] | None = None,
) -> JournalReading:
    """Read one journal's tabs (title → grid, as ``Backend.read`` returns them).

    ``lessons`` are the journal's lessons (``school.lessons()[(class_id, subject_id)]``). Tabs
    are found by title; a tab missing under its title but recognisable by content (a renamed
    tab) is read and listed in ``renames``. ``settled``: period → its map, for period tabs
    found under their own title that are not parsed (their grids unchanged since a parse found
    them equal to the ledger); they add no cells.
    """
    settled = settled or {}
    frame = JournalFrame.build(school, class_id, subject_id, lessons, labels)
    expected = [p.name for p in school.periods_of(class_id)]
    titles = [*expected, labels.lessons_tab, labels.findings_tab]
    found = {t: t for t in titles if isinstance(grids.get(t), list)}
    renames: dict[str, str] = {}
    problems: list[StructureProblem] = []
    for title, grid in grids.items():
        if title in titles or not isinstance(grid, list):
            continue
        target = identify_tab(grid, frame, [t for t in titles if t not in found])
        if target is not None:
            found[target] = title
            renames[title] = target
        elif find_header_row(grid, labels.pupil_id) or find_header_row(grid, labels.date):
            text = (
                f"Лист «{title}» похож на лист журнала, но сервис его не читает: отметки и темы "
                "вносите на основные листы."
            )
            problems.append(StructureProblem(ProblemKind.OUTSIDE_GRID, title, text))

    out = TabResult()
    periods: dict[str, PeriodTabMap] = {}
    skipped: set[str] = set()
    for period in school.periods_of(class_id):
        source = found.get(period.name)
        if source is None:
            problems.append(_missing_tab(period.name, labels))
            continue
        if source == period.name and period.name in settled:
            periods[period.name] = settled[period.name]
            skipped.add(period.name)
            continue
        tab = parse_period_tab(grids[source], source, period, frame)
        _merge(out, tab.result)
        if tab.map is not None:
            periods[period.name] = tab.map
    lessons_source = found.get(labels.lessons_tab)
    lessons_map = None
    lesson_facts: dict[LessonKey, LessonFacts] = {}
    if lessons_source is None:
        problems.append(_missing_tab(labels.lessons_tab, labels))
    else:
        lessons_tab = parse_lessons_tab(grids[lessons_source], lessons_source, frame)
        _merge(out, lessons_tab.result)
        lessons_map = lessons_tab.map
        for key, (values, cells) in lessons_tab.facts.items():
            lesson_facts[key] = LessonFacts(*values, cells=cells)
    findings_source = found.get(labels.findings_tab)
    if findings_source is None:
        problems.append(_missing_tab(labels.findings_tab, labels))
    for old, new in renames.items():
        message = (
            f"Лист «{old}» переименован; его содержимое прочитано, название «{new}» будет "
            "возвращено."
        )
        problems.append(StructureProblem(ProblemKind.RENAMED_TAB, new, message))
    problems.extend(out.problems)

    journal_map = JournalMap(periods, lessons_map, findings_source)
    reading = JournalReading(
        entries=tuple(
            MarkEntry(pid, key[0], key[1], raw, cell) for pid, key, raw, cell in out.entries
        ),
        period_marks=tuple(PeriodMark(*item) for item in out.period_marks),
        lessons=lesson_facts,
        map=journal_map,
        problems=tuple(problems),
        duplicate_rows=frozenset(out.duplicates),
        stray=tuple(StrayEntry(*item) for item in out.stray),
        ignored=tuple(out.ignored),
        renames=renames,
        settled=frozenset(skipped),
    )
    log.debug(
        "journal %s/%s read: %d entries, %d period marks, %d lessons, %d problems",
        class_id,
        subject_id,
        len(reading.entries),
        len(reading.period_marks),
        len(lesson_facts),
        len(reading.problems),
    )
    return reading


def _merge(out: TabResult, result: TabResult) -> None:
    out.entries.extend(result.entries)
    out.period_marks.extend(result.period_marks)
    out.stray.extend(result.stray)
    out.ignored.extend(result.ignored)
    out.problems.extend(result.problems)
    out.duplicates.update(result.duplicates)


def _missing_tab(title: str, labels: Labels) -> StructureProblem:
    if title == labels.findings_tab:
        text = f"Нет листа «{title}»; сервис создаст его заново."
    else:
        text = (
            f"Нет листа «{title}»: он удалён или переименован до неузнаваемости. Сервис создаст его "
            "заново с сохранёнными данными; значения, внесённые на него после последней проверки, "
            "придётся ввести ещё раз."
        )
    return StructureProblem(ProblemKind.MISSING_TAB, title, text, repair=True)
