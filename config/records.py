"""One reader per CSV file: rows → ``rules.model`` objects, with the checks a single file allows.

Canonical columns (English names, Russian values; ``?`` = optional; order is free):

=================  ==========================================================================
classes.csv        id, grade, class_teacher_id?
pupils.csv         id, class_id, last_name, first_name, middle_name?, enrolled, left?, email?
parents.csv        id, pupil_id, full_name, email, consent?   (consent = date of the application;
                   empty = no diary access yet; a future date is fine: the application is pending)
teachers.csv       id, full_name, email
subjects.csv       id, name, marked?   (marked = no for non-marked subjects, default yes)
assignments.csv    class_id, subject_id, teacher_id   (two rows of one class+subject = group split)
timetable.csv      weekday (1=Mon), lesson_no, class_id, subject_id, teacher_id?, valid_from?,
                   valid_to?   (teacher_id may be empty when one teacher is assigned)
changes.csv        kind (cancelled | moved | extra), date, lesson_no, class_id, subject_id,
                   teacher_id?, new_date?, new_lesson_no?
substitutions.csv  date, class_id, subject_id, teacher_id   (the substitute, R9)
plans/<class>_<subject>.csv   number, topic, hours?, work_type?   (КТП; number = lesson of the year)
=================  ==========================================================================

Each reader returns ``At(line, item)`` pairs so later cross-checks can name the line.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Generic, TypeVar

from config.csvdata import Fields, Table
from config.problems import Problems, line_where
from rules.model import (
    Assignment,
    ChangeKind,
    Parent,
    PlanItem,
    Pupil,
    SchoolClass,
    Subject,
    Teacher,
    TimetableChange,
    TimetableSlot,
)

T = TypeVar("T")

COLUMNS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {  # file kind → (required, optional)
    "classes": (("id", "grade"), ("class_teacher_id",)),
    "pupils": (
        ("id", "class_id", "last_name", "first_name", "enrolled"),
        ("middle_name", "left", "email"),
    ),
    "parents": (("id", "pupil_id", "full_name", "email"), ("consent",)),
    "teachers": (("id", "full_name", "email"), ()),
    "subjects": (("id", "name"), ("marked",)),
    "assignments": (("class_id", "subject_id", "teacher_id"), ()),
    "timetable": (
        ("weekday", "lesson_no", "class_id", "subject_id"),
        ("teacher_id", "valid_from", "valid_to"),
    ),
    "changes": (
        ("kind", "date", "lesson_no", "class_id", "subject_id"),
        ("teacher_id", "new_date", "new_lesson_no"),
    ),
    "substitutions": (("date", "class_id", "subject_id", "teacher_id"), ()),
    "plans": (("number", "topic"), ("hours", "work_type")),
}
MAX_LESSON_NO = 12  # hard bound of a lesson number in any file; the school's own limit is in TOML


@dataclass(frozen=True, slots=True)
class At(Generic[T]):
    """An item and the CSV line it came from."""

    line: int
    item: T


@dataclass(frozen=True, slots=True)
class Substitute:
    """A row of substitutions.csv (converted to ``config.school.Substitution`` by the loader)."""

    day: date
    class_id: str
    subject_id: str
    teacher_id: str


def _unique(
    table: Table,
    items: list[At[T]],
    key_of: Callable[[T], object],
    column: str,
    problems: Problems,
    what: str,
) -> None:
    """Report every repeated key, naming both lines."""
    first: dict[object, int] = {}
    for at in items:
        key = key_of(at.item)
        if key in first:
            problems.add(
                table.file,
                line_where(at.line, column),
                f"duplicate {what} {key!r} (also on line {first[key]})",
            )
        else:
            first[key] = at.line


def read_classes(table: Table, problems: Problems) -> list[At[SchoolClass]]:
    out: list[At[SchoolClass]] = []
    for row in table.rows:
        f = Fields(table, row, problems)
        cid, grade = f.text("id"), f.integer("grade", 1, 11)
        teacher = f.text("class_teacher_id", required=False)
        if cid and grade is not None:
            digits = "".join(ch for ch in cid if ch.isdigit())
            if digits and int(digits) != grade:
                f.problem("grade", f"class {cid!r} is not in grade {grade}")
            out.append(At(row.line, SchoolClass(cid, grade, teacher)))
    _unique(table, out, lambda c: c.id, "id", problems, "class")
    return out


def read_pupils(table: Table, problems: Problems) -> list[At[Pupil]]:
    out: list[At[Pupil]] = []
    for row in table.rows:
        f = Fields(table, row, problems)
        pid, cid = f.text("id"), f.text("class_id")
        last, first = f.text("last_name"), f.text("first_name")
        enrolled, left = f.day("enrolled"), f.day("left", required=False)
        email = f.email("email", required=False)
        if enrolled and left and left < enrolled:
            f.problem("left", f"left on {left}, before being enrolled on {enrolled}")
        if f.ok and pid and cid and last and first and enrolled:
            middle = f.text("middle_name", required=False) or ""
            pupil = Pupil(pid, last, first, cid, enrolled, middle, left, email)
            out.append(At(row.line, pupil))
    _unique(table, out, lambda p: p.id, "id", problems, "pupil id")
    return out


def read_parents(table: Table, problems: Problems) -> list[At[Parent]]:
    out: list[At[Parent]] = []
    for row in table.rows:
        f = Fields(table, row, problems)
        parent_id, pupil_id, name = f.text("id"), f.text("pupil_id"), f.text("full_name")
        email, consent = f.email("email"), f.day("consent", required=False)
        if f.ok and parent_id and pupil_id and name and email:
            out.append(At(row.line, Parent(parent_id, pupil_id, name, email, consent)))
    _unique(table, out, lambda p: p.id, "id", problems, "parent id")
    return out


def read_teachers(table: Table, problems: Problems) -> list[At[Teacher]]:
    out: list[At[Teacher]] = []
    for row in table.rows:
        f = Fields(table, row, problems)
        tid, name, email = f.text("id"), f.text("full_name"), f.email("email")
        if f.ok and tid and name and email:
            out.append(At(row.line, Teacher(tid, name, email)))
    _unique(table, out, lambda t: t.id, "id", problems, "teacher id")
    _unique(table, out, lambda t: t.email, "email", problems, "teacher e-mail")
    return out


def read_subjects(table: Table, problems: Problems) -> list[At[Subject]]:
    out: list[At[Subject]] = []
    for row in table.rows:
        f = Fields(table, row, problems)
        sid, name, marked = f.text("id"), f.text("name"), f.boolean("marked", True)
        if f.ok and sid and name:
            out.append(At(row.line, Subject(sid, name, marked)))
    _unique(table, out, lambda s: s.id, "id", problems, "subject id")
    return out


def read_assignments(table: Table, problems: Problems) -> list[At[Assignment]]:
    out: list[At[Assignment]] = []
    for row in table.rows:
        f = Fields(table, row, problems)
        cid, sid, tid = f.text("class_id"), f.text("subject_id"), f.text("teacher_id")
        if cid and sid and tid:
            out.append(At(row.line, Assignment(cid, sid, tid)))
    key = "{0.class_id}/{0.subject_id}/{0.teacher_id}".format
    _unique(table, out, key, "teacher_id", problems, "assignment")
    return out


def read_timetable(table: Table, problems: Problems) -> list[At[TimetableSlot]]:
    """Slots, ``teacher_id`` possibly empty (the cross-check fills it from assignments.csv)."""
    out: list[At[TimetableSlot]] = []
    for row in table.rows:
        f = Fields(table, row, problems)
        weekday, lesson_no = f.integer("weekday", 1, 7), f.integer("lesson_no", 1, MAX_LESSON_NO)
        cid, sid = f.text("class_id"), f.text("subject_id")
        tid = f.text("teacher_id", required=False) or ""
        start, end = f.day("valid_from", required=False), f.day("valid_to", required=False)
        if start and end and end < start:
            f.problem("valid_to", f"valid_to {end} is before valid_from {start}")
        if f.ok and weekday and lesson_no and cid and sid:
            slot = TimetableSlot(weekday, lesson_no, cid, sid, tid, start, end)
            out.append(At(row.line, slot))
    return out


def read_changes(table: Table, problems: Problems) -> list[At[TimetableChange]]:
    out: list[At[TimetableChange]] = []
    kinds = [k.value for k in ChangeKind]
    for row in table.rows:
        f = Fields(table, row, problems)
        kind_text = (f.text("kind") or "").lower()
        if kind_text and kind_text not in kinds:
            f.problem("kind", f"unknown kind {kind_text!r}; use one of {', '.join(kinds)}")
        day, lesson_no = f.day("date"), f.integer("lesson_no", 1, MAX_LESSON_NO)
        cid, sid = f.text("class_id"), f.text("subject_id")
        tid = f.text("teacher_id", required=False)
        new_day = f.day("new_date", required=False)
        new_no = f.integer("new_lesson_no", 1, MAX_LESSON_NO, required=False)
        if kind_text == ChangeKind.MOVED and new_day is None and new_no is None and f.ok:
            f.problem("new_date", "a moved lesson needs new_date and/or new_lesson_no")
        if f.ok and day and lesson_no and cid and sid:
            kind = ChangeKind(kind_text)
            if kind is ChangeKind.MOVED:
                new_day, new_no = new_day or day, new_no or lesson_no
            change = TimetableChange(kind, day, lesson_no, cid, sid, tid, new_day, new_no)
            out.append(At(row.line, change))
    return out


def read_substitutions(table: Table, problems: Problems) -> list[At[Substitute]]:
    out: list[At[Substitute]] = []
    for row in table.rows:
        f = Fields(table, row, problems)
        day, cid = f.day("date"), f.text("class_id")
        sid, tid = f.text("subject_id"), f.text("teacher_id")
        if f.ok and day and cid and sid and tid:
            out.append(At(row.line, Substitute(day, cid, sid, tid)))
    return out


def read_plan(
    table: Table, class_id: str, subject_id: str, problems: Problems
) -> list[At[PlanItem]]:
    """A КТП: numbers start at 1 and run on without gaps (a topic of 3 hours takes 3 numbers)."""
    out: list[At[PlanItem]] = []
    expected = 1
    for row in table.rows:
        f = Fields(table, row, problems)
        number, topic = f.integer("number", 1, 1000), f.text("topic")
        hours = f.integer("hours", 1, 100, required=False) or 1
        work_type = f.text("work_type", required=False)
        if number is not None and number != expected:
            f.problem("number", f"expected lesson number {expected}, got {number}")
        if number is not None:
            expected = max(expected, number + hours)
        if f.ok and number and topic:
            item = PlanItem(class_id, subject_id, number, topic, hours, work_type)
            out.append(At(row.line, item))
    return out
