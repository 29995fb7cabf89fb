"""The ledger's vocabulary: closed sets and the plain records its methods take and return.

Nothing here touches the database; ``sync.ledger.ledger`` and its ``store_*`` parts speak these types so
the sync engine never sees SQL rows.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from datetime import date, datetime
from enum import StrEnum
from operator import attrgetter
from typing import TYPE_CHECKING, Any, NamedTuple, TypeVar

from rules.errors import StoreError

if TYPE_CHECKING:
    from _typeshed import DataclassInstance

RecordT = TypeVar("RecordT", bound="DataclassInstance")


class FileKind(StrEnum):
    """What a registered spreadsheet is; ``key`` says which one ("7Б/math", "7Б", a pupil id)."""

    JOURNAL = "journal"
    CLASS = "class"
    DIARY = "diary"
    ADMIN = "admin"
    BOARD = "board"


class FileStatus(StrEnum):
    OK = "ok"
    MISSING = "missing"  # deleted, trashed or no longer visible to the service
    NEEDS_REPAIR = "needs_repair"  # a tab was deleted or renamed; the layout must be repaired


class Change(StrEnum):
    """Outcome of offering a fact to the ledger."""

    NEW = "new"
    CHANGED = "changed"
    UNCHANGED = "unchanged"
    LOCKED = "locked"  # the cell is locked and holds another value: nothing was written

    @property
    def changed(self) -> bool:
        return self in (Change.NEW, Change.CHANGED)


class Field(StrEnum):
    """Which fact of a journal a violation or correction is about."""

    MARK = "mark"
    PERIOD_MARK = "period_mark"
    TOPIC = "topic"
    CLASSWORK = "classwork"
    WORK_TYPE = "work_type"
    HOMEWORK = "homework"
    ABSENCE_REASON = "absence_reason"  # a class spreadsheet's "Посещаемость" cell (violations)


LESSON_FIELDS = (Field.TOPIC, Field.CLASSWORK, Field.WORK_TYPE, Field.HOMEWORK)


class CorrectionStatus(StrEnum):
    PENDING = "pending"
    APPLIED = "applied"
    REJECTED = "rejected"


# --------------------------------------------------------------------------- inputs


INVALID_KIND = "invalid"
"""Entry kind of a cell that locked holding text that is no valid value (a typo left at day end):
``raw`` keeps the text, ``value`` is "" — so it counts nowhere (averages, statistics, diaries read
only non-empty values). Offered only by the lock job for cells locking in the same transaction;
after that only the deputy's correction changes it, and any other change of the cell is tampering
(reverted to ``raw``)."""


@dataclass(frozen=True, slots=True)
class EntryInput:
    """One accepted lesson cell: ``raw`` as typed, ``value`` normalized (``format_value``), ``kind``
    a ``rules.ValueKind`` value ("mark", "absent", …; "empty" for an erased cell) or
    :data:`INVALID_KIND`."""

    pupil_id: str
    day: date
    lesson_no: int
    raw: str
    value: str
    kind: str


@dataclass(frozen=True, slots=True)
class PeriodMarkInput:
    """One accepted period-mark cell ("Четверть" column)."""

    pupil_id: str
    period: str
    raw: str
    value: str
    kind: str


@dataclass(frozen=True, slots=True)
class LessonInput:
    """What the teacher wrote about one lesson on the "Уроки" tab, and the period it belongs to
    (from the calendar: stored, but neither audited nor locked)."""

    day: date
    lesson_no: int
    period: str = ""
    topic: str = ""
    classwork: str = ""
    work_type: str = ""
    homework: str = ""

    def facts(self) -> dict[str, str]:
        """What the teacher wrote, by column name (``period`` comes from the calendar, not here)."""
        return {
            "topic": self.topic,
            "classwork": self.classwork,
            "work_type": self.work_type,
            "homework": self.homework,
        }


@dataclass(frozen=True, slots=True)
class AbsenceInput:
    """One reason cell of "Посещаемость": ``reason`` a code (б, у, н), or "" with ``raw`` ""
    (erased) or with the text as typed (invalid text kept when its day locks, like
    :data:`INVALID_KIND` entries)."""

    pupil_id: str
    day: date
    raw: str
    reason: str


@dataclass(frozen=True, slots=True)
class CellRef:
    """Which cell a violation or correction is about: a mark (pupil, day, lesson_no), a period mark
    (pupil, period) or a lesson fact (day, lesson_no, field). ``cell`` is the A1 ref if known."""

    field: Field
    pupil_id: str | None = None
    day: date | None = None
    lesson_no: int | None = None
    period: str | None = None
    cell: str | None = None


# --------------------------------------------------------------------------- records


@dataclass(frozen=True, slots=True)
class FileRecord:
    id: str
    kind: FileKind
    key: str
    name: str
    created_at: datetime
    layout_version: int
    status: FileStatus
    last_seen_version: str | None = None
    last_read_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class EntryRecord:
    journal: str
    pupil_id: str
    day: date
    lesson_no: int
    raw: str
    value: str
    kind: str
    first_seen: datetime
    last_changed: datetime
    accepted_by: str | None
    locked_at: datetime | None


class EntryValue(NamedTuple):
    """An entry's cell and value only: what grading and rendering need (no timestamps)."""
    pupil_id: str
    day: date
    lesson_no: int
    value: str


class LessonState(NamedTuple):
    """A held lesson's work type and whether its facts and marks are locked (the time locks)."""
    work_type: str
    info_locked: bool
    marks_locked: bool


@dataclass(frozen=True, slots=True)
class PeriodMarkRecord:
    journal: str
    pupil_id: str
    period: str
    raw: str
    value: str
    kind: str
    first_seen: datetime
    last_changed: datetime
    accepted_by: str | None
    locked_at: datetime | None


@dataclass(frozen=True, slots=True)
class LessonRecord:
    journal: str
    facts: LessonInput
    first_seen: datetime
    last_changed: datetime
    info_locked_at: datetime | None
    marks_locked_at: datetime | None


@dataclass(frozen=True, slots=True)
class LockCounts:
    """What one lock call newly locked (zero when run twice)."""

    lessons: int = 0
    entries: int = 0
    period_marks: int = 0


@dataclass(frozen=True, slots=True)
class LockedView:
    """A journal's locked state, for comparing a whole grid in memory (tamper detection).

    ``marks``: values of locked mark cells; ``mark_lessons``: (day, lesson_no) whose marks are
    locked (a cell of such a lesson absent from ``marks`` is locked empty); ``info``: facts of
    lessons whose topic/homework are locked; ``periods`` / ``period_marks`` likewise for period marks.
    Cells locked holding invalid text (:data:`INVALID_KIND`) are in ``invalid`` / ``invalid_periods``
    (their value in ``marks`` / ``period_marks`` is that text); ``held``: open cells holding a value.
    """

    marks: dict[tuple[str, date, int], str]
    mark_lessons: frozenset[tuple[date, int]]
    info: dict[tuple[date, int], LessonInput]
    periods: frozenset[str]
    period_marks: dict[tuple[str, str], str]
    invalid: frozenset[tuple[str, date, int]] = frozenset()
    invalid_periods: frozenset[tuple[str, str]] = frozenset()
    held: frozenset[tuple[str, date, int]] = frozenset()

    def mark(self, pupil_id: str, day: date, lesson_no: int) -> str | None:
        """The locked value of a mark cell ("" = locked empty), or None if the cell is open."""
        value = self.marks.get((pupil_id, day, lesson_no))
        if value is not None:
            return value
        return "" if (day, lesson_no) in self.mark_lessons else None

    def period_mark(self, pupil_id: str, period: str) -> str | None:
        """The locked value of a period-mark cell ("" = locked empty), or None if open."""
        value = self.period_marks.get((pupil_id, period))
        if value is not None:
            return value
        return "" if period in self.periods else None


@dataclass(frozen=True, slots=True)
class AbsenceRecord:
    class_id: str
    pupil_id: str
    day: date
    reason: str
    raw: str
    first_seen: datetime
    last_changed: datetime
    locked_at: datetime | None

    @property
    def shown(self) -> str:
        """What the cell shows: the code, or the text kept when its day locked with a typo."""
        return self.reason or self.raw


@dataclass(frozen=True, slots=True)
class AbsenceLockedView:
    """A class's locked attendance: ``days`` locked (empty cells locked empty) and what each
    locked non-empty cell must show (pupil, day) → code or kept text."""

    days: frozenset[date]
    shown: dict[tuple[str, date], str]
    invalid: frozenset[tuple[str, date]] = frozenset()

    def cell(self, pupil_id: str, day: date) -> str | None:
        """The locked text of a cell ("" locked empty), or None while its day is open."""
        value = self.shown.get((pupil_id, day))
        if value is not None:
            return value
        return "" if day in self.days else None


@dataclass(frozen=True, slots=True)
class FindingRecord:
    id: int
    journal: str
    rule: str
    severity: str
    pupil_id: str | None
    day: date | None
    field: str | None
    cell: str | None
    message: str
    opened: datetime
    resolved: datetime | None


@dataclass(frozen=True, slots=True)
class ViolationRecord:
    id: int
    journal: str
    target: CellRef
    locked_value: str
    attempted_value: str
    detected_at: datetime
    reverted_at: datetime | None


@dataclass(frozen=True, slots=True)
class LateEntryRecord:
    """A value found in a closed cell that no read proved was there before the cell closed."""

    id: int
    journal: str
    target: CellRef
    ledger_value: str
    typed_value: str
    detected_at: datetime
    reverted_at: datetime | None
    resolved_at: datetime | None
    resolved_by: str | None


@dataclass(frozen=True, slots=True)
class CorrectionRecord:
    id: int
    source_key: str
    journal: str
    target: CellRef
    new_value: str
    reason: str
    order_no: str
    status: CorrectionStatus
    old_value: str | None
    reject_reason: str | None
    recorded_at: datetime
    processed_at: datetime | None


@dataclass(frozen=True, slots=True)
class AclRecord:
    file_id: str
    email: str
    desired_role: str | None
    observed_role: str | None
    grant_id: str | None
    updated_at: datetime

    @property
    def drift(self) -> bool:
        return self.desired_role != self.observed_role


@dataclass(frozen=True, slots=True)
class RunRecord:
    id: int
    kind: str
    started: datetime
    finished: datetime | None
    ok: bool | None  # None while running (or if the process died mid-run)
    error: str | None
    counters: dict[str, int]


def aware(now: datetime) -> datetime:
    """``now`` itself if it is timezone-aware; the engine owns the clock and must pass aware times."""
    if now.tzinfo is None or now.utcoffset() is None:
        raise StoreError(f"naive datetime {now.isoformat()} given to the ledger",
                         "pass timezone-aware times (the school's zone), e.g. datetime.now(ZoneInfo(tz))")
    return now


def from_rows(record: type[RecordT], rows: Iterable[Any]) -> list[RecordT]:
    """Records from database rows whose columns carry the record's field names (all of them)."""
    values = attrgetter(*[f.name for f in fields(record)])  # in C: a year's rows add up
    return [record(*values(row)) for row in rows]
