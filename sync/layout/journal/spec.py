"""The journal spreadsheet "Журнал 7Б · Математика · 2026/27": its layout and its service cells.

One tab per period: a hidden "Код" column of pupil ids, "№" and "Ученик", one column per lesson
(header = the date, "02.09"; a day's second lesson "02.09 (2)"), a service-written row of work
types under the dates, then "Средний балл" and "Рекомендуемая" (service) and the teacher's period
mark ("Четверть"). "Уроки": one row per lesson of the year. "Замечания": the open findings.
Every tab is protected; only the cells open today are left editable (:func:`open_ranges`).

Pure functions, no I/O. Reading a journal back is :func:`parse_journal`
(``sync.layout.journal.parse``); positions for writes come from its :class:`JournalMap`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time

from config.school import School
from rules.errors import LayoutError
from rules.locks import lock_window
from rules.model import CellKind, Lesson, Policies
from sync.backends.protocol import CellRange, Dropdown, Grid, SpreadsheetSpec, TabSpec
from sync.layout.common import header_text, runs, spec_grids
from sync.layout.journal.frame import planned_topics
from sync.layout.journal.lessons import lessons_columns
from sync.layout.journal.map import (
    JournalMap,
    LessonField,
    LessonKey,
    ServiceColumn,
    open_ranges,
    ordinals,
)
from sync.layout.journal.parse import JournalReading, LessonFacts, parse_journal
from sync.layout.journal.period_spec import SPARE_ROWS, period_tab
from sync.layout.journal.render import ServiceValues, render_findings, render_service_columns
from sync.layout.labels import RU, Labels, normalize_label

FINDINGS_ROWS = 1000  # "Замечания" is rewritten whole; the grid must hold the longest list

__all__ = [
    "JournalMap",
    "JournalReading",
    "JournalValues",
    "LessonFacts",
    "OpenState",
    "ServiceValues",
    "Window",
    "Windows",
    "journal_open_state",
    "journal_spec",
    "journal_windows",
    "open_ranges",
    "parse_journal",
    "render_findings",
    "render_service_columns",
]


@dataclass(frozen=True, slots=True)
class JournalValues:
    """Accepted values from the ledger, for re-rendering a journal (``ejournal rebuild``)."""

    entries: Mapping[tuple[str, date, int], str] = field(default_factory=dict)
    period_marks: Mapping[tuple[str, str], str] = field(default_factory=dict)  # (pupil, period)
    lessons: Mapping[LessonKey, LessonFacts] = field(default_factory=dict)
    statuses: Mapping[LessonKey, str] = field(default_factory=dict)  # "Статус" (as a cycle writes)


@dataclass(frozen=True, slots=True)
class OpenState:
    """What is open at one moment: lesson days with open marks, lesson days with an open "Уроки"
    row, periods with an open period-mark column."""

    mark_days: frozenset[date]
    info_days: frozenset[date]
    periods: frozenset[str]


# --------------------------------------------------------------------------- the spec


def journal_spec(
    school: School,
    class_id: str,
    subject_id: str,
    lessons: Sequence[Lesson],
    *,
    today: date,
    existing: JournalValues | None = None,
    labels: Labels = RU,
) -> SpreadsheetSpec:
    """The whole journal as the service creates it (or re-renders it from the ledger).

    ``lessons`` are the journal's lessons; ``today`` decides which cells start open (the nightly
    lock job moves them later); ``existing`` fills in accepted values and lesson facts.
    """
    subject = school.subject(subject_id)
    school_class = school.school_class(class_id)
    if subject is None or school_class is None:
        raise LayoutError(
            f"no journal {class_id}/{subject_id} in the configuration",
            "check classes.csv, subjects.csv and assignments.csv",
        )
    values = existing or JournalValues()
    ordered = sorted(lessons, key=lambda x: (x.day, x.lesson_no))
    work_names = {
        (x.day, x.lesson_no): _work_type_name(school.policies, values, x) for x in ordered
    }
    tabs = [
        period_tab(school, class_id, period, ordered, values.entries, values.period_marks,
                   work_names, labels)
        for period in school.periods_of(class_id)
    ]
    tabs.append(_lessons_tab(school, class_id, subject_id, ordered, values, work_names, labels))
    tabs.append(_findings_tab(labels))
    name = labels.journal_name.format(
        class_id=class_id, subject=subject.name, year=school.year.name
    )
    spec = SpreadsheetSpec(name, tuple(tabs), folder=school.backend.shared_drive_folder_id,
                           active_tab=current_period(school, today, class_id))

    reading = parse_journal(spec_grids(spec), school, class_id, subject_id, ordered, labels=labels)
    now = datetime.combine(today, time(0, 0), tzinfo=school.timezone)
    state = journal_open_state(school, class_id, ordered, now=now, work_types=work_names)
    ranges = open_ranges(
        reading.map, ordered, state.mark_days, state.periods, info_days=state.info_days
    )
    tabs = [dataclasses.replace(t, open_ranges=tuple(ranges.get(t.title, ()))) for t in tabs]
    return dataclasses.replace(spec, tabs=tuple(tabs))


Window = tuple[datetime, datetime]  # [opens, closes), tz-aware


@dataclass(frozen=True)
class Windows:
    """When each part of a journal may be edited (``rules.locks.lock_window``): the marks of each
    lesson day (the longest grace of its lessons' work types), each day's "Уроки" facts, and each
    period's period-mark column."""

    marks: Mapping[date, Window]
    info: Mapping[date, Window]
    periods: Mapping[str, Window]

    def open_at(self, now: datetime) -> OpenState:
        """What is open at ``now``."""

        def is_open(window: Window) -> bool:
            return window[0] <= now < window[1]

        return OpenState(
            frozenset(d for d, w in self.marks.items() if is_open(w)),
            frozenset(d for d, w in self.info.items() if is_open(w)),
            frozenset(p for p, w in self.periods.items() if is_open(w)),
        )


def journal_windows(
    school: School,
    class_id: str,
    lessons: Sequence[Lesson],
    *,
    work_types: Mapping[LessonKey, str],
) -> Windows:
    """The edit windows of a journal's lessons and periods.

    ``work_types`` (code or name, as typed) decide the grace of each lesson's marks; for a day with
    two lessons the longer grace wins.
    """
    school_class = school.school_class(class_id)
    grade = school_class.grade if school_class else 0
    policy, tz = school.policies, school.timezone
    by_day: dict[date, str | None] = {}
    for lesson in lessons:
        code = _work_type_code(policy, work_types.get((lesson.day, lesson.lesson_no), ""))
        if code is not None and _grace(policy, code, grade) >= _grace(
            policy, by_day.get(lesson.day), grade
        ):
            by_day[lesson.day] = code
        by_day.setdefault(lesson.day, None)
    marks = {
        day: lock_window(CellKind.MARK, tz=tz, policy=policy, grade=grade, lesson_day=day,
                         work_type=code)
        for day, code in by_day.items()
    }
    info = {
        day: lock_window(CellKind.LESSON_INFO, tz=tz, policy=policy, grade=grade, lesson_day=day)
        for day in by_day
    }
    periods = {
        p.name: lock_window(CellKind.PERIOD_MARK, tz=tz, policy=policy, grade=grade, period=p)
        for p in school.periods_of(class_id)
    }
    return Windows(marks, info, periods)


def journal_open_state(
    school: School,
    class_id: str,
    lessons: Sequence[Lesson],
    *,
    now: datetime,
    work_types: Mapping[LessonKey, str],
) -> OpenState:
    """Which cells of a journal are open at ``now`` (tz-aware), by ``rules.locks``."""
    return journal_windows(school, class_id, lessons, work_types=work_types).open_at(now)


def _grace(policy: Policies, code: str | None, grade: int) -> int:
    found = policy.work_type(code) if code else None
    return found.grace_days(grade) if found else -1


def _work_type_code(policy: Policies, typed: str) -> str | None:
    key = normalize_label(typed)
    for wt in policy.work_types:
        if key in (normalize_label(wt.code), normalize_label(wt.name)):
            return wt.code
    return None


def _work_type_name(policy: Policies, values: JournalValues, lesson: Lesson) -> str:
    """The configured name of the lesson's work type as recorded, or the text as typed."""
    facts = values.lessons.get((lesson.day, lesson.lesson_no))
    typed = facts.work_type if facts else ""
    code = _work_type_code(policy, typed)
    found = policy.work_type(code) if code else None
    return found.name if found else typed


def current_period(school: School, today: date, class_id: str = "") -> str | None:
    """The period a journal (of ``class_id``: its grade's periods) opens on: the one holding
    ``today``, else the last begun (holidays), else the first."""
    periods = school.periods_of(class_id)
    begun = [p for p in periods if p.start <= today]
    holding = [p for p in begun if today <= p.end]
    chosen = holding or begun[-1:] or periods[:1]
    return chosen[0].name if chosen else None


def _lessons_tab(
    school: School,
    class_id: str,
    subject_id: str,
    lessons: Sequence[Lesson],
    values: JournalValues,
    work_names: Mapping[LessonKey, str],
    labels: Labels,
) -> TabSpec:
    title = labels.lessons_tab
    columns = lessons_columns(labels)
    planned = planned_topics(school, class_id, subject_id, lessons)
    nth = ordinals(lessons)
    rows: Grid = [[label for _, label in columns]]
    for lesson in lessons:
        key = (lesson.day, lesson.lesson_no)
        facts = values.lessons.get(key, LessonFacts())
        cells: dict[str, object] = {
            ServiceColumn.DATE: header_text(lesson.day, nth[key], with_year=True),
            ServiceColumn.NUMBER: lesson.number,
            ServiceColumn.PLANNED: planned.get(key, ""),
            LessonField.TOPIC: facts.topic,
            LessonField.CLASSWORK: facts.classwork,
            LessonField.WORK_TYPE: work_names[key],
            LessonField.HOMEWORK: facts.homework,
            ServiceColumn.STATUS: values.statuses.get(key, ""),
        }
        rows.append([cells[name] for name, _ in columns])
    index = {name: i for i, (name, _) in enumerate(columns)}
    editable = [index[f] for f in LessonField]
    text_ranges = [CellRange(title, 1, a, None, b) for a, b in runs(editable)]
    text_ranges.append(CellRange(title, 0, 0, None, 1))  # the dates stay text if retyped
    work_col = index[LessonField.WORK_TYPE]
    names = tuple(wt.name for wt in school.policies.work_types)
    widths = {0: 105, 1: 80, 2: 260, 3: 260, 4: 220, 5: 170, 6: 260, 7: 160}
    return TabSpec(
        title=title,
        rows=rows,
        row_count=len(rows) + SPARE_ROWS,
        col_count=len(columns),
        frozen_rows=1,
        frozen_cols=1,
        text_ranges=tuple(text_ranges),
        dropdowns=(Dropdown(CellRange(title, 1, work_col, None, work_col + 1), names),)
        if names
        else (),
        col_widths=widths,
    )


def _findings_tab(labels: Labels) -> TabSpec:
    rows = render_findings((), labels=labels)
    return TabSpec(
        title=labels.findings_tab,
        rows=rows,
        row_count=FINDINGS_ROWS,
        col_count=3,
        frozen_rows=1,
        col_widths={0: 150, 1: 600, 2: 120},
    )
