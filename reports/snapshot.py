"""What the reports read: the school's configuration and a consistent copy of the ledger's facts.

``reports/`` never touches the ledger (it may import only ``rules``, ``config``, pandas, numpy and
xlsxwriter), so the sync side fills a :class:`Snapshot` inside one ledger snapshot transaction and
hands it over. Rows carry ``class_id`` and ``subject_id`` rather than the ledger's journal key, and
times are tz-aware (lessons' and entries' in UTC, as the ledger keeps them: show them in the
school's zone). A snapshot may hold only the lessons and entries of the days a
report needs; reports filter by date again anyway.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from functools import cached_property
from typing import TypeVar

from config.school import School

RowT = TypeVar("RowT")


@dataclass(frozen=True, slots=True)
class LessonFacts:
    """One lesson row of "Уроки" as the ledger holds it (what the teacher wrote, when first seen)."""

    class_id: str
    subject_id: str
    day: date
    lesson_no: int
    topic: str = ""
    classwork: str = ""
    work_type: str = ""
    homework: str = ""
    first_seen: datetime | None = None
    last_changed: datetime | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One accepted lesson cell: ``value`` normalized ("5", "5/4", "н", "оп", "•"), ``kind`` a
    ``rules.ValueKind`` value ("mark", "absent", "late", "owed") or "invalid"."""

    class_id: str
    subject_id: str
    pupil_id: str
    day: date
    lesson_no: int
    value: str
    kind: str
    first_seen: datetime | None = None
    accepted_by: str | None = None  # "correction:<order>" when the deputy's correction set it


@dataclass(frozen=True, slots=True)
class PeriodMark:
    """A pupil's accepted period mark ("5".."2", "н/а", "осв", "зач") in a journal."""

    class_id: str
    subject_id: str
    pupil_id: str
    period: str
    value: str


@dataclass(frozen=True, slots=True)
class Absence:
    """The class teacher's reason for a pupil's absences of one day: "б", "у", "н" (or "" when the
    cell holds text that is no code)."""

    class_id: str
    pupil_id: str
    day: date
    reason: str


@dataclass(frozen=True, slots=True)
class OpenFinding:
    """An open validation finding of a journal (rule id, severity, Russian message)."""

    class_id: str
    subject_id: str
    rule: str
    severity: str
    message: str
    opened: datetime
    pupil_id: str | None = None
    day: date | None = None


@dataclass(frozen=True, slots=True)
class Violation:
    """A locked cell found changed (tampering attempt): reverted by the service and audited."""

    class_id: str
    subject_id: str
    field: str
    detected_at: datetime
    locked_value: str
    attempted_value: str
    pupil_id: str | None = None
    day: date | None = None
    reverted: bool = True


@dataclass(frozen=True, slots=True)
class Remark:
    """A remark of an earlier weekly analysis, as the ledger keeps it: ``week`` is the Monday of
    the analysis that made it, ``day`` what it is about (a lesson day, a period start),
    ``status`` "open", "fixed", "closed" (its period ended unfixed) or "info" (an event), and
    ``resolved`` the Monday of the analysis that found it fixed or closed."""

    id: str
    class_id: str
    subject_id: str
    teacher_id: str
    kind: str
    text: str
    week: date
    day: date | None = None
    status: str = "open"
    resolved: date | None = None


@dataclass(frozen=True)
class Snapshot:
    """The school and the ledger's facts at one moment (``built_at``, school time), with the audit
    chain head of that moment: every workbook states both."""

    school: School
    built_at: datetime
    audit_head: str
    lessons: tuple[LessonFacts, ...] = ()
    entries: tuple[Entry, ...] = ()
    period_marks: tuple[PeriodMark, ...] = ()
    absences: tuple[Absence, ...] = ()
    findings: tuple[OpenFinding, ...] = ()
    violations: tuple[Violation, ...] = ()
    remarks: tuple[Remark, ...] = ()
    remark_key: bytes = b""  # the secret of the remarks' codes (see reports.keeping); the ledger keeps it

    @property
    def today(self) -> date:
        return self.built_at.date()

    @cached_property
    def journal_entries(self) -> dict[tuple[str, str], list[Entry]]:
        """Entries by (class, subject), computed once (the archive reads 720 journals)."""
        return _group(self.entries)

    @cached_property
    def journal_lessons(self) -> dict[tuple[str, str], list[LessonFacts]]:
        """Lesson facts by (class, subject), computed once."""
        return _group(self.lessons)

    @cached_property
    def journal_period_marks(self) -> dict[tuple[str, str], list[PeriodMark]]:
        """Period marks by (class, subject), computed once."""
        return _group(self.period_marks)


def _group(rows: Iterable[RowT]) -> dict[tuple[str, str], list[RowT]]:
    out: dict[tuple[str, str], list[RowT]] = defaultdict(list)
    for row in rows:
        out[(row.class_id, row.subject_id)].append(row)  # type: ignore[attr-defined]
    return dict(out)
