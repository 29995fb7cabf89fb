"""The diary's data: the plain view of one pupil it is projected from (:class:`PupilView`) and
what it shows (:class:`Diary`); ``rules.diary`` computes one from the other."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from rules.model import (
    AbsenceReason,
    Period,
    Pupil,
    Subject,
    TimetableChange,
    TimetableSlot,
)
from rules.stats import AttendanceSummary

REASON_TEXT = {
    AbsenceReason.ILLNESS: "по болезни",
    AbsenceReason.EXCUSED: "по уважительной причине",
    AbsenceReason.UNEXCUSED: "без уважительной причины",
}
NO_REASON = "причина не указана"
OWED_TEXT = "долг: работа не сдана"

# --------------------------------------------------------------------------- input


@dataclass(frozen=True, slots=True)
class DiaryLesson:
    """One lesson of the pupil's class (from the calendar) with what its teacher wrote (accepted
    in the ledger; empty strings when nothing was written yet)."""

    subject_id: str
    day: date
    lesson_no: int
    period: str
    topic: str = ""
    work_type: str = ""  # as the teacher wrote it: a code or a name; an unknown text is shown as is
    homework: str = ""


@dataclass(frozen=True, slots=True)
class DiaryEntry:
    """One accepted cell of the pupil: a mark ("5", "5/4"), "н", "оп" or "•" (normalized)."""

    subject_id: str
    day: date
    lesson_no: int
    value: str


@dataclass(frozen=True, slots=True)
class PupilView:
    """A plain view of one pupil's accepted data and the class facts the diary needs.

    ``lessons``: every lesson of the class this year (all subjects); ``period_marks``:
    (subject id, period name) → value; ``reasons``: the class teacher's reason per day;
    ``slots`` / ``changes``: the class's regular timetable and its one-off changes.
    """

    pupil: Pupil
    subjects: tuple[Subject, ...]
    lessons: tuple[DiaryLesson, ...]
    entries: tuple[DiaryEntry, ...] = ()
    period_marks: Mapping[tuple[str, str], str] = field(default_factory=dict)
    reasons: Mapping[date, AbsenceReason] = field(default_factory=dict)
    slots: tuple[TimetableSlot, ...] = ()
    changes: tuple[TimetableChange, ...] = ()


# --------------------------------------------------------------------------- output


@dataclass(frozen=True, slots=True)
class WeekLesson:
    lesson_no: int
    subject: str
    topic: str
    homework: str  # set at this lesson
    marks: str  # "5 — Контрольная работа"; several joined with "; "
    attendance: str  # "н, по болезни" / "оп" / ""


@dataclass(frozen=True, slots=True)
class WeekDay:
    day: date
    lessons: tuple[WeekLesson, ...]
    note: str = ""  # why there are no lessons: a holiday's name, "выходной"


@dataclass(frozen=True, slots=True)
class HomeworkDue:
    """Homework for a lesson of next week, set at the subject's lesson before it (on ``given``)."""

    day: date
    lesson_no: int
    subject: str
    homework: str
    given: date


@dataclass(frozen=True, slots=True)
class ShownMark:
    day: date
    value: str  # "5", "5/4", "•"
    work: str  # the work type's name ("Контрольная работа"), the text as written, or ""
    topic: str


@dataclass(frozen=True, slots=True)
class SubjectMarks:
    subject: str
    marks: tuple[ShownMark, ...]
    average: str  # "4,5" (as the journal shows it) or ""
    recommended: str  # "5" … "2", "н/а", or "" (no marks, not marked, partly on paper)
    period_mark: str


@dataclass(frozen=True, slots=True)
class AbsenceLine:
    day: date
    lesson_no: int
    subject: str
    code: str  # "н" or "оп"
    reason: str  # "по болезни", …, NO_REASON; "" for a lateness


@dataclass(frozen=True, slots=True)
class TimetableLine:
    weekday: int  # 1 = Monday
    lesson_no: int
    subject: str
    note: str = ""  # "с 12.10.2026" / "до 20.10.2026" for a slot valid only part of the period


@dataclass(frozen=True, slots=True)
class ChangeLine:
    day: date
    lesson_no: int
    subject: str
    text: str  # "урок отменён", "перенесён на 17.12.2026, 7-й урок", "дополнительный урок"


@dataclass(frozen=True, slots=True)
class Diary:
    """Everything one pupil's diary shows; ``period`` None before the year or after it."""

    pupil: Pupil
    today: date
    period: Period | None
    week: tuple[WeekDay, ...]
    next_week: tuple[HomeworkDue, ...]
    marks: tuple[SubjectMarks, ...]
    absences: tuple[AbsenceLine, ...]
    attendance: AttendanceSummary
    period_names: tuple[str, ...]
    totals: tuple[tuple[str, tuple[str, ...]], ...]  # (subject, one period mark per period)
    timetable: tuple[TimetableLine, ...]
    timetable_changes: tuple[ChangeLine, ...]
