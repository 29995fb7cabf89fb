"""What validation sees of one journal, and the shape of a validation rule.

``ValidationContext`` is a frozen snapshot the sync engine fills from the parsed grid and from
``rules.calendar`` / ``rules.locks`` (lesson dates, period-mark windows, grace ends arrive as data,
so validation computes no calendar and no lock). Cells are parsed once, here, and every rule reads
the same ``Parsed``. A ``Rule`` is a named pure function from the context to (location, message)
pairs; ``Rule.run`` turns them into ``Finding``s carrying the rule's id and severity.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum

from rules.assessment import Assessment, journal_grammar
from rules.grammar import Parsed, ValueKind, parse_cell
from rules.model import Finding, Lesson, Location, MarkGrammar, Policies, Pupil, Severity, WorkType

LessonKey = tuple[date, int]  # (day, lesson_no): one lesson, as ``Lesson.day``/``Lesson.lesson_no``


class EntryField(StrEnum):
    """``Location.field`` values used by the built-in rules."""

    MARK = "mark"
    PERIOD_MARK = "period_mark"
    TOPIC = "topic"
    WORK_TYPE = "work_type"
    HOMEWORK = "homework"
    ROW = "row"  # the pupil's whole row


@dataclass(frozen=True, slots=True)
class CellEntry:
    """One lesson cell as read: ``raw`` is str, int, float, bool or None; ``cell`` its A1 ref.

    ``lesson_no`` is the lesson's slot in the timetable, as in ``Lesson.lesson_no`` (not the "(2)"
    of a day's second lesson in the journal header); with two lessons of the subject in a day it
    tells their cells apart.
    """

    pupil_id: str
    day: date
    raw: object
    cell: str | None = None
    lesson_no: int = 1


@dataclass(frozen=True, slots=True)
class PeriodEntry:
    """One cell of the teacher-entered period-mark column ("Четверть")."""

    pupil_id: str
    period: str  # Period.name, "1 четверть"
    raw: object
    cell: str | None = None


@dataclass(frozen=True, slots=True)
class LessonInfo:
    """A row of the "Уроки" tab as entered; ``work_type`` is a WorkType code or name as typed.

    ``cells`` maps an ``EntryField`` value ("topic", "work_type", "homework") to its A1 reference;
    ``lesson_no`` is the lesson's timetable slot, as in ``Lesson.lesson_no``.
    """

    day: date
    topic: str = ""
    classwork: str = ""
    work_type: str = ""
    homework: str = ""
    cells: Mapping[str, str] = field(default_factory=dict)
    lesson_no: int = 1


@dataclass(frozen=True, slots=True)
class PeriodWindow:
    """Dates (inclusive) between which period marks of ``period`` may be entered."""

    period: str
    open_from: date
    open_until: date

    def is_open(self, day: date) -> bool:
        return self.open_from <= day <= self.open_until


@dataclass(frozen=True, slots=True)
class ValidationContext:
    """One journal ("7Б/math") with the precomputed facts its rules need.

    A lesson is known by ``(day, lesson_no)`` (``LessonKey``), so two lessons of the subject in one
    day keep their own cells and facts. ``grace_until`` maps a lesson to the last day its marks may
    still be entered (the lesson day itself when its work type has no grace, or when the lesson is
    missing from the mapping); ``duplicate_rows`` holds pupil ids the grid parser saw on more than
    one row. ``now`` (tz-aware) is there for rules that need the time of day. ``journal_start``
    is the school's go-live day (``AcademicYear.journal_start``; None: the journal was kept here
    from the start): lessons before it were kept in the paper journal, so the journal-keeping
    rules leave them alone, while every rule on what is typed still checks every cell.
    """

    journal: str
    grade: int
    today: date
    now: datetime
    policies: Policies = field(default_factory=Policies)
    pupils: tuple[Pupil, ...] = ()
    lessons: tuple[Lesson, ...] = ()
    lesson_info: tuple[LessonInfo, ...] = ()
    entries: tuple[CellEntry, ...] = ()
    period_entries: tuple[PeriodEntry, ...] = ()
    period_windows: tuple[PeriodWindow, ...] = ()
    grace_until: Mapping[LessonKey, date] = field(default_factory=dict)
    duplicate_rows: frozenset[str] = frozenset()
    journal_start: date | None = None
    assessment: Assessment = Assessment.MARKS  # marks, «зачёт/незачёт» or none (rules.assessment)
    # days of settled periods: their lessons are not checked again (their findings are carried)
    settled_days: frozenset[date] = frozenset()
    # derived once in __post_init__
    parsed: tuple[Parsed, ...] = field(init=False, repr=False, compare=False)
    parsed_period: tuple[Parsed, ...] = field(init=False, repr=False, compare=False)
    _pupils: dict[str, Pupil] = field(init=False, repr=False, compare=False)
    _lesson_periods: dict[LessonKey, str] = field(init=False, repr=False, compare=False)
    _day_lessons: dict[date, tuple[int, ...]] = field(init=False, repr=False, compare=False)
    _info: dict[LessonKey, LessonInfo] = field(init=False, repr=False, compare=False)
    _cells: dict[tuple[str, date, int], list[int]] = field(init=False, repr=False, compare=False)
    # non-empty lesson cells with their messages' "Иванов Иван, 12.10.2026" prefix (every rule on
    # cells walks them: labelled once, not once per rule)
    filled: tuple[tuple[CellEntry, Parsed, str], ...] = field(init=False, repr=False,
                                                            compare=False)

    def __post_init__(self) -> None:
        grammar = self.grammar
        cells: dict[tuple[str, date, int], list[int]] = {}
        for i, entry in enumerate(self.entries):
            cells.setdefault((entry.pupil_id, entry.day, entry.lesson_no), []).append(i)
        day_lessons: dict[date, list[int]] = {}
        for lesson in self.lessons:
            day_lessons.setdefault(lesson.day, []).append(lesson.lesson_no)
        derived: dict[str, object] = {
            "parsed": tuple(parse_cell(e.raw, grammar) for e in self.entries),
            "parsed_period": tuple(
                parse_cell(e.raw, grammar, period=True) for e in self.period_entries
            ),
            "_pupils": {p.id: p for p in self.pupils},
            "_lesson_periods": {(x.day, x.lesson_no): x.period for x in self.lessons},
            "_day_lessons": {day: tuple(sorted(set(nos))) for day, nos in day_lessons.items()},
            "_info": {(info.day, info.lesson_no): info for info in self.lesson_info},
            "_cells": cells,
        }
        for name, value in derived.items():
            object.__setattr__(self, name, value)
        labels: dict[LessonKey, str] = {}
        filled = tuple(
            (entry, parsed, f"{self.pupil_name(entry.pupil_id)}, " + (
                labels.get((entry.day, entry.lesson_no))
                or labels.setdefault((entry.day, entry.lesson_no),
                                     self.lesson_label(entry.day, entry.lesson_no))))
            for entry, parsed in zip(self.entries, self.parsed, strict=True)
            if parsed.value is None or parsed.value.kind is not ValueKind.EMPTY)
        object.__setattr__(self, "filled", filled)

    @property
    def grammar(self) -> MarkGrammar:
        """The school's grammar as this journal's assessment takes it (``journal_grammar``)."""
        return journal_grammar(self.policies.grammar, self.assessment)

    @property
    def lesson_days(self) -> frozenset[date]:
        return frozenset(self._day_lessons)

    @property
    def lesson_keys(self) -> tuple[LessonKey, ...]:
        """Every lesson to check as ``(day, lesson_no)``, in order (not those of settled days)."""
        return tuple(sorted(k for k in self._lesson_periods if k[0] not in self.settled_days))

    def in_journal(self, day: date) -> bool:
        """Whether a lesson on ``day`` was kept in this journal (not before ``journal_start``)."""
        return self.journal_start is None or day >= self.journal_start

    def partly_on_paper(self, period: str) -> bool:
        """Whether some lesson of ``period`` was held before ``journal_start`` (on paper)."""
        return any(p == period and not self.in_journal(d) for (d, _), p in self._lesson_periods.items())

    def pupil(self, pupil_id: str) -> Pupil | None:
        return self._pupils.get(pupil_id)

    def pupil_name(self, pupil_id: str) -> str:
        """ "Иванов Иван" for the teacher's own findings tab; the id if not on the roster."""
        pupil = self._pupils.get(pupil_id)
        if pupil is None:
            return f"ученик с кодом {pupil_id}"
        return f"{pupil.last_name} {pupil.first_name}".strip()

    def lesson_period(self, day: date, lesson_no: int) -> str | None:
        """The period of the lesson ``(day, lesson_no)``; None when there is no such lesson."""
        return self._lesson_periods.get((day, lesson_no))

    def lessons_on(self, day: date) -> tuple[int, ...]:
        """The ``lesson_no`` of each of the day's lessons, ascending; () on a day without one."""
        return self._day_lessons.get(day, ())

    def lesson_label(self, day: date, lesson_no: int) -> str:
        """The lesson as the journal heads it: "12.10.2026", "12.10.2026 (2)" for the day's second
        lesson of the subject (the date alone for no lesson)."""
        slots = self.lessons_on(day)
        ordinal = slots.index(lesson_no) + 1 if lesson_no in slots else 1
        return fmt_day(day) if ordinal == 1 else f"{fmt_day(day)} ({ordinal})"

    def info(self, day: date, lesson_no: int) -> LessonInfo:
        """What the teacher recorded for the lesson; an empty ``LessonInfo`` if nothing."""
        return self._info.get((day, lesson_no)) or LessonInfo(day, lesson_no=lesson_no)

    def cells_of(self, pupil_id: str, day: date, lesson_no: int) -> list[tuple[CellEntry, Parsed]]:
        """The pupil's cells of that lesson (normally one) with their parses."""
        found = self._cells.get((pupil_id, day, lesson_no), [])
        return [(self.entries[i], self.parsed[i]) for i in found]

    def work_type(self, typed: str) -> WorkType | None:
        """The configured work type whose code or name is ``typed`` (case and spaces ignored)."""
        return self.policies.work_type_typed(typed)

    def counted_marks(self, pupil_id: str, period: str) -> int:
        """Accepted marks of a pupil in a period: valid, on a lesson of that period, not in the
        future, while enrolled. A double mark counts twice."""
        pupil = self._pupils.get(pupil_id)
        count = 0
        for entry, parsed in zip(self.entries, self.parsed, strict=True):
            if (
                entry.pupil_id == pupil_id
                and parsed.value is not None
                and parsed.value.kind is ValueKind.MARK
                and self._lesson_periods.get((entry.day, entry.lesson_no)) == period
                and entry.day <= self.today
                and pupil is not None
                and pupil.enrolled_on(entry.day)
            ):
                count += len(parsed.value.marks)
        return count


Hit = tuple[Location, str]
CheckFn = Callable[[ValidationContext], Iterable[Hit]]


@dataclass(frozen=True, slots=True)
class Rule:
    """A named validation rule; ``title`` (Russian) explains it in the config docs and reports."""

    id: str
    title: str
    severity: Severity
    check: CheckFn

    def run(self, ctx: ValidationContext) -> list[Finding]:
        return [Finding(self.id, self.severity, loc, msg) for loc, msg in self.check(ctx)]


def rule(rule_id: str, title: str, severity: Severity) -> Callable[[CheckFn], Rule]:
    """Decorator turning a check function into a ``Rule``; list it in its module's ``RULES``."""

    def wrap(check: CheckFn) -> Rule:
        return Rule(rule_id, title, severity, check)

    return wrap


def fmt_day(day: date) -> str:
    return day.strftime("%d.%m.%Y")


def plural(n: int, one: str, few: str, many: str) -> str:
    """Russian plural form: 1 отметка, 2 отметки, 5 отметок."""
    if n % 10 == 1 and n % 100 != 11:
        return one
    if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14:
        return few
    return many
