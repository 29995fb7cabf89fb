"""Checks across files: every id referenced exists, and the timetable is physically possible.

References: class teachers, pupils' classes, parents' pupils, assignments, timetable slots, changes,
substitutions and КТП files must name known classes, subjects, teachers, pupils and work types.
Timetable: weekday within the school week, lesson number within the school day, a class+subject
taught there is assigned, the teacher of a slot is one assigned to it, no teacher in two classes at
once, no class with two subjects at once. Changes are checked by ``rules.calendar.check_changes``
(holidays, weekends, slots that do not exist …); substitutions must fall on a lesson day.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date

from config.problems import Problems, line_where, suggestion
from config.records import At, Substitute
from rules import calendar
from rules.errors import Problem
from rules.model import (
    AcademicYear,
    Assignment,
    Lesson,
    Parent,
    PlanItem,
    Policies,
    Pupil,
    SchoolClass,
    Severity,
    Subject,
    Teacher,
    TimetableChange,
    TimetableSlot,
)

_WEEKDAY = ("", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True, slots=True)
class Data:
    """Everything read from the CSV files, with lines, plus the file name of each kind."""

    files: dict[str, str]
    classes: list[At[SchoolClass]]
    pupils: list[At[Pupil]]
    parents: list[At[Parent]]
    teachers: list[At[Teacher]]
    subjects: list[At[Subject]]
    assignments: list[At[Assignment]]
    slots: list[At[TimetableSlot]]
    changes: list[At[TimetableChange]]
    substitutions: list[At[Substitute]]
    plans: dict[str, list[At[PlanItem]]]  # plan file → items
    plan_keys: dict[str, tuple[str, str]]  # plan file → (class_id, subject_id) from its name
    unread: frozenset[str] = frozenset()  # kinds whose file failed to load ("pupils", …)


_SOURCE = {"class": "classes", "subject": "subjects", "teacher": "teachers", "pupil": "pupils"}


class _Refs:
    """Known ids and a helper that reports an unknown one with a suggestion."""

    def __init__(self, data: Data, problems: Problems) -> None:
        self.problems = problems
        self.unread = data.unread
        self.ids: dict[str, set[str]] = {
            "class": {c.item.id for c in data.classes},
            "subject": {s.item.id for s in data.subjects},
            "teacher": {t.item.id for t in data.teachers},
            "pupil": {p.item.id for p in data.pupils},
        }

    def known(self, kind: str, value: str | None, file: str, line: int, column: str) -> bool:
        if value is None or value in self.ids[kind]:
            return True
        if _SOURCE[kind] in self.unread:  # its file failed to load: said once, no cascade
            return False
        hint = suggestion(value, self.ids[kind])
        where = line_where(line, column) if line else ""  # line 0: the file name itself
        self.problems.add(file, where, f"unknown {kind} {value!r}{hint}")
        return False


def check_references(data: Data, policies: Policies | None, problems: Problems) -> None:
    """Unknown ids anywhere; work types of КТП lines only when ``policies`` are known."""
    refs, f = _Refs(data, problems), data.files
    for c in data.classes:
        refs.known("teacher", c.item.class_teacher_id, f["classes"], c.line, "class_teacher_id")
    for p in data.pupils:
        refs.known("class", p.item.class_id, f["pupils"], p.line, "class_id")
    for par in data.parents:
        refs.known("pupil", par.item.pupil_id, f["parents"], par.line, "pupil_id")
    for a in data.assignments:
        refs.known("class", a.item.class_id, f["assignments"], a.line, "class_id")
        refs.known("subject", a.item.subject_id, f["assignments"], a.line, "subject_id")
        refs.known("teacher", a.item.teacher_id, f["assignments"], a.line, "teacher_id")
    for ch in data.changes:
        refs.known("class", ch.item.class_id, f["changes"], ch.line, "class_id")
        refs.known("subject", ch.item.subject_id, f["changes"], ch.line, "subject_id")
        refs.known("teacher", ch.item.teacher_id, f["changes"], ch.line, "teacher_id")
    for s in data.substitutions:
        refs.known("class", s.item.class_id, f["substitutions"], s.line, "class_id")
        refs.known("subject", s.item.subject_id, f["substitutions"], s.line, "subject_id")
        refs.known("teacher", s.item.teacher_id, f["substitutions"], s.line, "teacher_id")
    assigned = {(a.item.class_id, a.item.subject_id) for a in data.assignments}
    codes = [w.code for w in policies.work_types] if policies else []
    for file, (cid, sid) in data.plan_keys.items():
        known = refs.known("class", cid, file, 0, "") & refs.known("subject", sid, file, 0, "")
        if known and (cid, sid) not in assigned:
            problems.add(file, "", f"{cid}/{sid} has no teacher in {f['assignments']}")
        for at in data.plans.get(file, []):
            wt = at.item.work_type
            if wt is not None and policies is not None and wt not in codes:
                problems.add(
                    file,
                    line_where(at.line, "work_type"),
                    f"unknown work type {wt!r}{suggestion(wt, codes)}",
                )


def check_timetable(
    data: Data, year: AcademicYear, max_lesson_no: int, problems: Problems
) -> list[TimetableSlot]:
    """The usable slots, with the teacher filled in from assignments.csv where it was left empty."""
    refs, file = _Refs(data, problems), data.files["timetable"]
    teachers: dict[tuple[str, str], list[str]] = defaultdict(list)
    for a in data.assignments:
        teachers[(a.item.class_id, a.item.subject_id)].append(a.item.teacher_id)
    good: list[At[TimetableSlot]] = []
    for at in data.slots:
        s, line = at.item, at.line
        ok = refs.known("class", s.class_id, file, line, "class_id")
        ok = refs.known("subject", s.subject_id, file, line, "subject_id") and ok
        if s.teacher_id:
            ok = refs.known("teacher", s.teacher_id, file, line, "teacher_id") and ok
        if s.weekday > year.week_days:
            days = f"1..{year.week_days}"
            problems.add(file, line_where(line, "weekday"), f"the school week is {days}")
            ok = False
        if s.lesson_no > max_lesson_no:
            limit = f"max_lessons_per_day = {max_lesson_no}"
            problems.add(file, line_where(line, "lesson_no"), f"lesson {s.lesson_no} > {limit}")
            ok = False
        if not ok:
            continue
        names = teachers.get((s.class_id, s.subject_id), [])
        if not names:
            message = f"{s.class_id}/{s.subject_id} has no teacher in {data.files['assignments']}"
            problems.add(file, line_where(line), message)
        elif s.teacher_id and s.teacher_id not in names:
            message = f"{s.teacher_id} is not assigned to {s.class_id}/{s.subject_id}"
            problems.add(file, line_where(line, "teacher_id"), f"{message} (assigned: {names})")
        elif not s.teacher_id and len(names) > 1:
            message = f"{s.class_id}/{s.subject_id} has several teachers {names}: name one"
            problems.add(file, line_where(line, "teacher_id"), message)
        else:
            good.append(At(line, replace(s, teacher_id=s.teacher_id or names[0])))
    _collisions(good, file, problems)
    return [at.item for at in good]


def _overlap(a: TimetableSlot, b: TimetableSlot) -> bool:
    """Whether the validity ranges of two slots share a day (None = open end)."""
    a_from, a_to = a.valid_from or date.min, a.valid_to or date.max
    b_from, b_to = b.valid_from or date.min, b.valid_to or date.max
    return a_from <= b_to and b_from <= a_to


def _collisions(slots: Sequence[At[TimetableSlot]], file: str, problems: Problems) -> None:
    by_time: dict[tuple[int, int], list[At[TimetableSlot]]] = defaultdict(list)
    for at in slots:
        by_time[(at.item.weekday, at.item.lesson_no)].append(at)
    for (weekday, lesson_no), group in by_time.items():
        when = f"{_WEEKDAY[weekday]} lesson {lesson_no}"
        for i, at in enumerate(group):
            s = at.item
            for other in group[:i]:
                o = other.item
                if not _overlap(s, o):
                    continue
                where = line_where(at.line)
                also = f"line {other.line}"
                if s == o:
                    problems.add(file, where, f"duplicate slot (same as {also})")
                elif s.teacher_id == o.teacher_id and s.class_id != o.class_id:
                    message = (
                        f"teacher {s.teacher_id} is in {o.class_id} ({also}) and {s.class_id} "
                        f"on {when}"
                    )
                    problems.add(file, where, message)
                elif s.class_id == o.class_id and s.subject_id != o.subject_id:
                    message = (
                        f"class {s.class_id} has {o.subject_id} ({also}) and {s.subject_id} "
                        f"on {when}"
                    )
                    problems.add(file, where, message)


def check_changes(
    data: Data,
    year: AcademicYear,
    slots: list[TimetableSlot],
    max_lesson_no: int,
    problems: Problems,
    warnings: list[Problem],
) -> list[TimetableChange]:
    """The changes that can apply; the rest become problems (via ``rules.calendar``)."""
    file = data.files["changes"]
    assigned = {(a.item.class_id, a.item.subject_id) for a in data.assignments}
    ids = _Refs(data, problems).ids
    usable: list[At[TimetableChange]] = []
    for at in data.changes:
        c, where = at.item, line_where(at.line)
        if c.class_id not in ids["class"] or c.subject_id not in ids["subject"]:
            continue  # already reported as unknown
        if c.teacher_id is not None and c.teacher_id not in ids["teacher"]:
            continue
        if (c.class_id, c.subject_id) not in assigned:
            problems.add(file, where, f"{c.class_id}/{c.subject_id} has no assigned teacher")
        elif max(c.lesson_no, c.new_lesson_no or 0) > max_lesson_no:
            problems.add(file, where, f"lesson number > max_lessons_per_day = {max_lesson_no}")
        else:
            usable.append(at)
    items = [at.item for at in usable]
    for found in calendar.check_changes(year, slots, items):
        line = usable[found.index].line
        if found.severity is Severity.ERROR:
            problems.add(file, line_where(line), found.message)
        else:
            warnings.append(Problem(file, line_where(line), found.message))
    return items


def check_substitutions(
    data: Data, lessons: dict[tuple[str, str], list[Lesson]], problems: Problems
) -> None:
    """A substitute fills the journal of one lesson day: that day must have a lesson."""
    file, ids = data.files["substitutions"], _Refs(data, problems).ids
    seen: dict[tuple[date, str, str], int] = {}
    for at in data.substitutions:
        s = at.item
        key = (s.day, s.class_id, s.subject_id)
        if key in seen:
            problems.add(file, line_where(at.line), f"duplicate substitution (line {seen[key]})")
            continue
        seen[key] = at.line
        if s.class_id not in ids["class"] or s.subject_id not in ids["subject"]:
            continue  # already reported as unknown
        if s.day not in _days(lessons.get((s.class_id, s.subject_id), ())):
            message = f"{s.class_id}/{s.subject_id} has no lesson on {s.day}"
            problems.add(file, line_where(at.line, "date"), message)


def _days(lessons: Iterable[Lesson]) -> set[date]:
    return {lesson.day for lesson in lessons}
