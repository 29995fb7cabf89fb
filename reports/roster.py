"""Who and what a report is about: the pupils of a span, the journals of a class, names to show,
the lessons the timetable gave, and a mark cell as a number.

A pupil belongs to a span when enrolled on or before its end and not gone before its start; one
who left before the span's end is "left" (``rules.stats``: not in N). Lessons count from the
school's go-live day (``AcademicYear.journal_from``) up to ``Span.until``.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

from config.school import School
from reports.span import Span
from rules.model import Lesson, Pupil


@dataclass(frozen=True, slots=True)
class Member:
    """A pupil of a span and whether they left before its end."""

    pupil: Pupil
    left: bool


def members(school: School, class_id: str, span: Span) -> list[Member]:
    """The pupils of a class during ``span``, in roster order."""
    out = []
    for pupil in school.pupils_in(class_id):
        if pupil.enrolled > span.end or (pupil.left is not None and pupil.left < span.start):
            continue
        out.append(Member(pupil, pupil.left is not None and pupil.left < span.end))
    return out


def class_journals(school: School, class_id: str) -> list[str]:
    """Subject ids of a class's journals, in assignment order."""
    return [subject for cls, subject in school.journals() if cls == class_id]


def subject_name(school: School, subject_id: str) -> str:
    subject = school.subject(subject_id)
    return subject.name if subject is not None else subject_id


def teacher_name(school: School, teacher_id: str) -> str:
    teacher = school.teacher(teacher_id)
    return teacher.full_name if teacher is not None else teacher_id


def teachers_of(school: School, class_id: str, subject_id: str) -> str:
    """The journal's teachers' names, comma-separated (a class split into groups has several)."""
    return ", ".join(teacher_name(school, t) for t in school.teachers_of(class_id, subject_id))


def counted_lessons(
    school: School, span: Span, today: date, class_id: str | None = None
) -> Iterator[Lesson]:
    """The timetable's lessons inside ``span`` from the go-live day up to ``span.until(today)``
    (of one class, or of the whole school)."""
    first = max(span.start, school.year.journal_from)
    last = span.until(today)
    for (cls, _subject), lessons in school.lessons().items():
        if class_id is not None and cls != class_id:
            continue
        for lesson in lessons:
            if first <= lesson.day <= last:
                yield lesson


def mark_numbers(value: str) -> list[int]:
    """The marks of a lesson cell: "5/4" → [5, 4]; "4-" → [4]; "н" → []."""
    out = []
    for part in value.split("/"):
        digits = part.strip().rstrip("+-−")
        if digits.isdigit():
            out.append(int(digits))
    return out


def shown_mark(value: str | None) -> int | str | None:
    """A period mark as a workbook shows it: "5" → 5 (a number), "н/а" stays text, "" → None."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    return int(text) if text.isdigit() else text
