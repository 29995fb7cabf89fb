"""Domain objects shared by every part of ejournal: the school, its calendar and its policies.

All are frozen dataclasses; closed sets are StrEnums. Policies carry the school's documented defaults
(DESIGN.md §1–§2, domain.md §2); ``config/`` builds them from TOML and CSV, everything else only reads.
Nothing here reads a clock or does I/O.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, time
from enum import StrEnum

# --------------------------------------------------------------------------- closed sets


class Severity(StrEnum):
    """How serious a finding is: errors keep an entry out of the record, warnings do not."""

    ERROR = "error"
    WARNING = "warning"
    INFO = "info"


class CellKind(StrEnum):
    """What a spreadsheet cell holds; the lock policy answers per kind."""

    MARK = "mark"  # a mark or attendance code in a lesson column
    LESSON_INFO = "lesson_info"  # topic, classwork, work type, homework of a lesson
    PERIOD_MARK = "period_mark"  # the teacher-entered period ("Четверть") column
    ABSENCE_REASON = "absence_reason"  # class teacher's reason code on the attendance page


class PeriodKind(StrEnum):
    QUARTER = "quarter"
    TRIMESTER = "trimester"
    HALF_YEAR = "half_year"


class AbsenceReason(StrEnum):
    """Reason codes the class teacher records on the attendance page (domain.md §2.3)."""

    ILLNESS = "б"
    EXCUSED = "у"
    UNEXCUSED = "н"


class ChangeKind(StrEnum):
    """One-off change to the timetable."""

    CANCELLED = "cancelled"  # the lesson of that slot does not take place
    MOVED = "moved"  # the lesson of that slot takes place on another date/slot instead
    EXTRA = "extra"  # an additional lesson


# --------------------------------------------------------------------------- school data


@dataclass(frozen=True, slots=True)
class SchoolClass:
    id: str  # "7Б"
    grade: int  # 1..11
    class_teacher_id: str | None = None


@dataclass(frozen=True, slots=True)
class Pupil:
    id: str  # stable, never reused; the hidden id column of every journal
    last_name: str
    first_name: str
    class_id: str
    enrolled: date
    middle_name: str = ""
    left: date | None = None  # last day the pupil belongs to the class
    email: str | None = None  # pupil's own Google account for view access (optional)

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.last_name, self.first_name, self.middle_name) if p)

    def enrolled_on(self, day: date) -> bool:
        return self.enrolled <= day and (self.left is None or day <= self.left)


@dataclass(frozen=True, slots=True)
class Parent:
    id: str
    pupil_id: str
    full_name: str
    email: str  # Google account that gets read access to the pupil's diary
    consent: date | None = None  # date of the application ("заявительный порядок"); None = no access yet


@dataclass(frozen=True, slots=True)
class Teacher:
    id: str
    full_name: str
    email: str


@dataclass(frozen=True, slots=True)
class Subject:
    id: str  # "math"
    name: str  # "Математика"
    marked: bool = True  # False for зачёт / non-marked subjects


@dataclass(frozen=True, slots=True)
class Assignment:
    """A teacher teaches a subject in a class (one journal per class+subject+year)."""

    class_id: str
    subject_id: str
    teacher_id: str


@dataclass(frozen=True, slots=True)
class PlanItem:
    """One line of the calendar-thematic plan (КТП): lesson number within the year and its topic."""

    class_id: str
    subject_id: str
    number: int
    topic: str
    hours: int = 1
    work_type: str | None = None  # planned work type code, e.g. "control" (assessment schedule)


# --------------------------------------------------------------------------- calendar


@dataclass(frozen=True, slots=True)
class Period:
    """A study period (quarter, trimester or half-year); both ends inclusive."""

    name: str  # "1 четверть"
    start: date
    end: date

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True, slots=True)
class PeriodBand:
    """Grades ``min_grade``..``max_grade`` work in periods of their own (half-years in 10–11
    while the others work in quarters)."""

    min_grade: int
    max_grade: int
    periods: tuple[Period, ...]
    period_kind: PeriodKind = PeriodKind.HALF_YEAR

    def covers(self, grade: int) -> bool:
        return self.min_grade <= grade <= self.max_grade


@dataclass(frozen=True, slots=True)
class Holiday:
    """A day off or a vacation; both ends inclusive."""

    name: str
    start: date
    end: date

    def contains(self, day: date) -> bool:
        return self.start <= day <= self.end


@dataclass(frozen=True, slots=True)
class AcademicYear:
    name: str  # "2026/27"
    start: date
    end: date
    periods: tuple[Period, ...]
    holidays: tuple[Holiday, ...] = ()
    week_days: int = 5  # 5- or 6-day school week
    period_kind: PeriodKind = PeriodKind.QUARTER
    extra_school_days: tuple[date, ...] = ()  # weekend days declared school days (перенос)
    # перенос with another weekday's timetable: (day, ISO weekday whose timetable it follows);
    # such a day is a school day (a working Saturday on Monday's timetable: (2026-11-07, 1))
    transfers: tuple[tuple[date, int], ...] = ()
    # go-live: the first day kept in ejournal (lessons before it were kept on paper); None = start
    journal_start: date | None = None
    bands: tuple[PeriodBand, ...] = ()  # grades with periods of their own; the first match wins

    def for_grade(self, grade: int) -> AcademicYear:
        """The year as ``grade`` lives it: its band's periods (and kind), else the school's."""
        band = next((b for b in self.bands if b.covers(grade)), None)
        if band is None:
            return self if not self.bands else replace(self, bands=())
        return replace(self, periods=band.periods, period_kind=band.period_kind, bands=())

    @property
    def all_periods(self) -> tuple[Period, ...]:
        """Every period of the year, the school's and the bands' (by start, then name)."""
        found = {p.name: p for p in (*self.periods, *(p for b in self.bands for p in b.periods))}
        return tuple(sorted(found.values(), key=lambda p: (p.start, p.name)))

    @property
    def journal_from(self) -> date:
        """The first day the electronic journal is kept: ``journal_start``, else the year's start."""
        return self.journal_start or self.start


@dataclass(frozen=True, slots=True)
class TimetableSlot:
    """Regular lesson: weekday (1=Mon … 7=Sun) × lesson number → class, subject, teacher."""

    weekday: int
    lesson_no: int
    class_id: str
    subject_id: str
    teacher_id: str
    valid_from: date | None = None
    valid_to: date | None = None


@dataclass(frozen=True, slots=True)
class TimetableChange:
    """A one-off change. CANCELLED: ``day``/``lesson_no`` of a regular slot. MOVED: that slot moves to
    ``new_day``/``new_lesson_no``. EXTRA: an additional lesson on ``day``/``lesson_no``."""

    kind: ChangeKind
    day: date
    lesson_no: int
    class_id: str
    subject_id: str
    teacher_id: str | None = None  # for EXTRA, or a substitute
    new_day: date | None = None
    new_lesson_no: int | None = None


@dataclass(frozen=True, slots=True)
class Lesson:
    """One held lesson of a class+subject: its date, slot in the day and number within the period."""

    class_id: str
    subject_id: str
    day: date
    lesson_no: int
    period: str
    number: int  # 1-based, consecutive within the period for this class+subject
    teacher_id: str


# --------------------------------------------------------------------------- policies


@dataclass(frozen=True, slots=True)
class GracePeriod:
    """Extra days a work type's marks stay open in grades ``min_grade``..``max_grade`` (R8)."""

    min_grade: int
    max_grade: int
    days: int


@dataclass(frozen=True, slots=True)
class WorkType:
    """Type of work a lesson's marks were given for, with its weight and checking norm."""

    code: str  # "control"
    name: str  # "Контрольная работа"
    weight: float = 1.0
    grace: tuple[GracePeriod, ...] = ()
    assessment: bool = False  # an "оценочная процедура" (domain.md §2.6): must have marks

    def grace_days(self, grade: int) -> int:
        for g in self.grace:
            if g.min_grade <= grade <= g.max_grade:
                return g.days
        return 0


@dataclass(frozen=True, slots=True)
class MarkGrammar:
    """What a teacher may write in a mark cell (domain.md §2.2)."""

    allow_one: bool = False
    allow_modifiers: bool = False  # "5-", "4+"
    allow_double: bool = True  # "5/4" = two marks for one work
    absent: str = "н"
    late: str = "оп"
    owed: str = "•"
    period_values: tuple[str, ...] = ("н/а", "осв", "зач")
    lesson_codes: tuple[str, ...] = ()  # period values a lesson cell takes too (a зачёт course)


@dataclass(frozen=True, slots=True)
class LockPolicy:
    """When cells stop accepting edits (DESIGN.md "Lock model")."""

    day_end: time = time(23, 59)
    period_mark_open_before_days: int = 7  # period marks open this many days before the period end
    period_mark_open_after_days: int = 3  # … and close this many days after it
    absence_reason_open_days: int = 7  # class teacher may add reasons this long (sick notes come late)


@dataclass(frozen=True, slots=True)
class GradingPolicy:
    """How averages and recommended period marks are computed (domain.md §2.4)."""

    weighted: bool = False
    thresholds: tuple[float, float, float] = (2.65, 3.65, 4.65)  # lowest average for 3, 4, 5
    min_marks: int = 3  # fewer marks in the period → "н/а"
    deviation: int = 1  # flag a period mark this far from the recommendation


@dataclass(frozen=True, slots=True)
class Policies:
    grammar: MarkGrammar = field(default_factory=MarkGrammar)
    lock: LockPolicy = field(default_factory=LockPolicy)
    grading: GradingPolicy = field(default_factory=GradingPolicy)
    work_types: tuple[WorkType, ...] = ()

    def work_type(self, code: str) -> WorkType | None:
        for wt in self.work_types:
            if wt.code == code:
                return wt
        return None

    def work_type_typed(self, typed: str) -> WorkType | None:
        """The work type whose code or name a teacher typed (case and spaces ignored)."""
        key = " ".join(typed.split()).casefold()
        for wt in self.work_types:
            if key in (wt.code.casefold(), " ".join(wt.name.split()).casefold()):
                return wt
        return None


# --------------------------------------------------------------------------- findings


@dataclass(frozen=True, slots=True)
class Location:
    """Where a finding is: journal key ("7Б/math"), pupil, lesson date, field, and A1 cell if known."""

    journal: str = ""
    pupil_id: str | None = None
    day: date | None = None
    field: str | None = None
    cell: str | None = None


@dataclass(frozen=True, slots=True)
class Finding:
    """A problem found by a validation rule; ``message`` is Russian, for the teacher."""

    rule: str
    severity: Severity
    location: Location
    message: str
