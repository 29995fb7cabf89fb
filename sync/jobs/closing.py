"""Time locks (DESIGN.md "Lock model"): a cell's lock is a fact of time, held by the ledger.

When a window closes — a lesson day's "Уроки" facts and marks at ``day_end``, marks with a grace at
its end, a period's marks at the end of the period-mark window — the ledger accepts no value read
afterwards unless that read proves the value was there before the window closed: the file's last
modification, asked right AFTER the read (Drive's ``modifiedTime``; locally when the service
first saw the content), is not later than the closing moment, so what was read is the file as it
stood when the window closed.

The first read after a window closed locks it in the ledger, proven or not (``sync_journal``):
what a proven read shows is accepted, then locked; what an unproven read shows differently from the
ledger is a late entry (``sync.ledger.late``: kept for the deputy, the ledger value written back,
a finding for the teacher) — never accepted, never lost. Whether the spreadsheet's protection
landed does not matter to the ledger: protections only keep teachers from typing in vain.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import date, datetime

from config.school import School
from rules.context import fmt_day
from rules.locks import lock_window
from rules.model import CellKind, Finding, Lesson, Location, Severity
from sync.layout.class_sheet.spec import attendance_days
from sync.layout.journal.map import LessonKey
from sync.layout.journal.spec import Windows, journal_windows
from sync.ledger.ledger import Tx
from sync.ledger.model import Field, LateEntryRecord, LessonState


@dataclass
class Due:
    """What of one journal has closed at a moment but is not locked in the ledger yet, with the
    closing moment of each part."""

    info_days: dict[date, datetime] = field(default_factory=dict)  # "Уроки" facts of the day
    mark_days: dict[date, datetime] = field(default_factory=dict)  # the day's marks
    periods: dict[str, datetime] = field(default_factory=dict)  # the period's marks

    def __bool__(self) -> bool:
        return bool(self.info_days or self.mark_days or self.periods)

    def split(self, modified: datetime | None) -> tuple[Due, Due]:
        """(proven, unproven) by a read of a file last modified at ``modified`` (None: unknown):
        a part is proven when the file has not changed since before it closed."""

        def proven(closes: datetime) -> bool:
            return modified is not None and modified <= closes

        yes, no = Due(), Due()
        for name in (f.name for f in dataclasses.fields(self)):
            for key, closes in getattr(self, name).items():
                getattr(yes if proven(closes) else no, name)[key] = closes
        return yes, no

    def mark_lessons(self, lessons: list[Lesson]) -> set[LessonKey]:
        """The (day, lesson_no) of the lessons whose marks are in this part."""
        return {(x.day, x.lesson_no) for x in lessons if x.day in self.mark_days}


def ledger_work_types(tx: Tx, journal: str) -> dict[LessonKey, str]:
    """Each lesson's work type as the ledger holds it (it decides the grace of the marks)."""
    return {k: x.work_type for k, x in tx.lesson_states(journal).items()}


def windows_of(school: School, tx: Tx, journal: str, class_id: str, lessons: list[Lesson]
               ) -> Windows:
    """The journal's edit windows with the work types the ledger holds."""
    return journal_windows(school, class_id, lessons, work_types=ledger_work_types(tx, journal))


def due_at(school: School, tx: Tx, journal: str, class_id: str, lessons: list[Lesson],
           at: datetime, typed: Mapping[LessonKey, str] | None = None,
           held: Mapping[LessonKey, LessonState] | None = None) -> Due:
    """The parts of a journal whose window closed at or before ``at`` and that the ledger has not
    locked yet (lessons of days after ``at`` never are). The marks' grace follows the ledger's
    work types, or ``typed`` ones (a read proving the lesson facts it holds, see
    :func:`proven_work_types`). ``held``: the ledger's ``lesson_states`` when the caller has them."""
    if held is None:
        held = tx.lesson_states(journal)
    kinds = {k: x.work_type for k, x in held.items()} | dict(typed or {})
    days = {x.day for x in lessons
            if x.day <= at.date() and not _settled(held.get((x.day, x.lesson_no)))}
    todo = [x for x in lessons if x.day in days]  # a day's window needs all its lessons
    windows = journal_windows(school, class_id, todo, work_types=kinds)
    due = Due()
    for lesson in todo:
        record = held.get((lesson.day, lesson.lesson_no))
        closes = windows.info[lesson.day][1]
        if closes <= at and (record is None or not record.info_locked):
            due.info_days[lesson.day] = closes
        closes = windows.marks[lesson.day][1]
        if closes <= at and (record is None or not record.marks_locked):
            due.mark_days[lesson.day] = closes
    locked = tx.locked_periods(journal)
    for name, (_, closes) in windows.periods.items():
        if closes <= at and name not in locked:
            due.periods[name] = closes
    return due


def _settled(record: LessonState | None) -> bool:
    """Whether the ledger locked both the lesson's facts and its marks (nothing of it is due)."""
    return record is not None and record.info_locked and record.marks_locked


def proven_work_types(read: Mapping[LessonKey, str], proven: Due) -> dict[LessonKey, str]:
    """The work types a read holds for the days whose lesson facts it proves (typed before the
    facts closed): they decide the grace of those days' marks, though the ledger did not hold
    them yet — a control work typed in time, first read by the night's lock job, keeps its days
    of grace instead of closing its marks at ``day_end``."""
    return {k: kind for k, kind in read.items() if k[0] in proven.info_days and kind}


def unprotected(school: School, tx: Tx, journal: str, class_id: str, lessons: list[Lesson],
                landed: datetime, at: datetime) -> dict[date, datetime]:
    """Past days whose cells a journal's protection, last set at ``landed``, still leaves open at
    ``at`` (open then, closed by now), each with the moment it closed (``ejournal status``)."""
    windows = windows_of(school, tx, journal, class_id, lessons)
    out: dict[date, datetime] = {}
    for day in {x.day for x in lessons}:
        for opens, closes in (windows.marks[day], windows.info[day]):
            if opens <= landed < closes <= at:
                out[day] = min(out.get(day, closes), closes)
    return dict(sorted(out.items()))


def absence_days_due(school: School, class_id: str, at: datetime, locked: AbstractSet[date]
                     ) -> dict[date, datetime]:
    """Attendance days of a class whose reason window closed at or before ``at`` and that the
    ledger has not locked yet, with their closing moment."""
    school_class = school.school_class(class_id)
    grade = school_class.grade if school_class else 0
    due: dict[date, datetime] = {}
    for day in attendance_days(school, class_id):
        if day > at.date():
            break
        _, closes = lock_window(CellKind.ABSENCE_REASON, tz=school.timezone,
                                policy=school.policies, grade=grade, lesson_day=day)
        if closes <= at and day not in locked:
            due[day] = closes
    return due


def proven(due: dict[date, datetime], modified: datetime | None) -> set[date]:
    """The days of ``due`` a read of a file last modified at ``modified`` proves."""
    return {day for day, closes in due.items() if modified is not None and modified <= closes}


@dataclass
class LockTotals:
    """What a read newly locked in the ledger (a lock run's and a cycle's counters)."""

    days: int = 0  # (journal, day) pairs
    lessons: int = 0
    entries: int = 0
    periods: int = 0
    period_marks: int = 0

    def add(self, other: LockTotals) -> None:
        for f in dataclasses.fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


def lock_due(tx: Tx, journal: str, lessons: list[Lesson], due: Due, now: datetime
             ) -> LockTotals:
    """Lock ``due`` in the ledger (each day's lessons created empty if the ledger has none, so
    a cell left empty locks empty)."""
    totals = LockTotals()
    for day in sorted(due.info_days.keys() | due.mark_days.keys()):
        counts = tx.lock_day(journal, day, now, info=day in due.info_days,
                             marks=day in due.mark_days,
                             lesson_nos=[x.lesson_no for x in lessons if x.day == day])
        totals.days += 1
        totals.lessons += counts.lessons
        totals.entries += counts.entries
    for period in due.periods:
        counts = tx.lock_period(journal, period, now)
        totals.periods += 1
        totals.period_marks += counts.period_marks
    return totals


FIELD_NAMES = {Field.TOPIC: "тема", Field.CLASSWORK: "работа на уроке",
               Field.WORK_TYPE: "вид работы", Field.HOMEWORK: "домашнее задание"}
LATE_RULE = "late_entry"


def late_findings(journal: str, entries: list[LateEntryRecord],
                  pupil_name: Callable[[str], str]) -> list[Finding]:
    """Each open late entry as an error on the journal's «Замечания» (Russian): what was typed,
    what the journal keeps, and that only the deputy's correction can change it now."""
    out = []
    for e in entries:
        target = e.target
        if target.field is Field.PERIOD_MARK:
            where = f"{pupil_name(target.pupil_id or '')}, {target.period}"
        elif target.field is Field.MARK:
            where = f"{pupil_name(target.pupil_id or '')}, {_day(target.day)}"
        else:
            where = f"{_day(target.day)}, {target.lesson_no}-й урок, {FIELD_NAMES[target.field]}"
        kept = f"осталось «{e.ledger_value}»" if e.ledger_value else "клетка осталась пустой"
        typed = f"«{e.typed_value}»" if e.typed_value else "стёртое значение"
        message = (f"{where}: {typed} внесено после закрытия клетки и не принято ({kept}). "
                   "Принять его может только заместитель директора исправлением на листе "
                   "«Исправления».")
        location = Location(journal, target.pupil_id, target.day, target.field.value, target.cell)
        out.append(Finding(LATE_RULE, Severity.ERROR, location, message))
    return out


def _day(day: date | None) -> str:
    return fmt_day(day) if day else ""


__all__ = ["Due", "LockTotals", "absence_days_due", "due_at", "late_findings",
           "ledger_work_types", "lock_due", "proven", "windows_of"]
