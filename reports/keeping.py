"""The checks of the weekly analysis of journal keeping (R10/R11, domain.md §2.8), as remarks.

A remark is one defect a teacher can see and fix: a lesson without topic, work type or homework
(or not filled at all), an assessment without marks for present pupils after its checking norm, a
pupil below the mark density of the running period, an invalid entry still open. Events of the
week are remarks too, for information: entries made after their lesson day (within the checking
norm of written work or after it) and attempts to change a locked cell.

Every remark has a stable id (``З-`` and 8 hex digits of an HMAC of its kind and what it is about:
the lesson, the pupil and period, the finding), so next week's analysis can tell whether it was
fixed. The HMAC is keyed with the snapshot's ``remark_key`` (a secret the ledger keeps): every
teacher reads the codes on the board, and an unkeyed hash over sequential pupil ids would let
anyone find out which pupil of a class a «мало отметок» remark is about.

Lessons count from the go-live day; tracked remarks are computed over the current period (from
its start, or the go-live day, up to the analysed day): a remark about an earlier period is closed
with that period.
"""

from __future__ import annotations

import hashlib
import hmac
import math
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from config.school import School
from reports.roster import mark_numbers
from reports.snapshot import Entry, LessonFacts, Snapshot
from rules.locks import lock_window
from rules.model import CellKind, Lesson, Period, Pupil

TRACKED = ("empty_lesson", "no_topic", "no_work_type", "no_homework", "control_marks",
           "few_marks", "invalid")
EVENTS = ("late_entry", "tampering")
LABELS = {
    "empty_lesson": "Урок не заполнен",
    "no_topic": "Нет темы урока",
    "no_work_type": "Нет вида работы",
    "no_homework": "Нет домашнего задания",
    "control_marks": "Оценочная работа без отметок",
    "few_marks": "Мало отметок",
    "invalid": "Ошибочная запись",
    "late_entry": "Запись позже дня урока",
    "tampering": "Попытка исправить закрытую клетку",
}
MARK_KINDS = ("mark", "absent", "late", "owed")


@dataclass(frozen=True, slots=True)
class Defect:
    """One remark of an analysis: ``day`` is the lesson day (a period's start for few marks,
    None for an invalid entry without a day); ``tracked`` remarks can be fixed, events cannot."""

    id: str
    kind: str
    class_id: str
    subject_id: str
    teacher_id: str
    day: date | None
    text: str

    @property
    def tracked(self) -> bool:
        return self.kind in TRACKED


def remark_id(key: bytes, kind: str, *parts: object) -> str:
    """``З-`` and 8 hex digits of the HMAC-SHA256 under ``key`` of the remark's kind and parts."""
    message = "|".join(map(str, (kind, *parts))).encode("utf-8")
    digest = hmac.new(key, message, hashlib.sha256).hexdigest()
    return f"З-{digest[:8].upper()}"


def _id(snapshot: Snapshot, kind: str, *parts: object) -> str:
    return remark_id(snapshot.remark_key, kind, *parts)


def scope_period(school: School, day: date) -> Period | None:
    """The period whose remarks are tracked on ``day``: the one containing it, else the last
    one begun before it."""
    begun = [p for p in school.year.periods if p.start <= day]
    return begun[-1] if begun else None


@dataclass
class _Facts:
    """The snapshot's facts indexed for the checks."""

    lessons: dict[tuple[str, str, date, int], LessonFacts]
    cells: dict[tuple[str, str, date, int], list[Entry]]

    @classmethod
    def of(cls, snapshot: Snapshot) -> _Facts:
        cells: dict[tuple[str, str, date, int], list[Entry]] = defaultdict(list)
        for e in snapshot.entries:
            cells[(e.class_id, e.subject_id, e.day, e.lesson_no)].append(e)
        lessons = {(x.class_id, x.subject_id, x.day, x.lesson_no): x for x in snapshot.lessons}
        return cls(lessons, cells)


def tracked_defects(snapshot: Snapshot, until: date) -> list[Defect]:
    """Every fixable defect of the current period up to ``until`` (see the module)."""
    school = snapshot.school
    period = scope_period(school, until)
    if period is None:
        return []
    first = max(period.start, school.year.journal_from)
    facts = _Facts.of(snapshot)
    found: list[Defect] = []
    for (cls, subject), lessons in school.lessons().items():
        for lesson in lessons:
            if first <= lesson.day <= until:
                found.extend(_lesson_defects(snapshot, facts, lesson))
        found.extend(_few_marks(snapshot, facts, cls, subject, lessons, period, until))
    for f in snapshot.findings:
        if f.severity == "error":
            found.append(Defect(
                _id(snapshot, "invalid", f.class_id, f.subject_id, f.rule, f.pupil_id, f.day),
                "invalid", f.class_id, f.subject_id, _journal_teacher(school, f.class_id,
                                                                      f.subject_id),
                f.day, f.message))
    return found


def week_events(snapshot: Snapshot, monday: date, until: date) -> list[Defect]:
    """Entries made this week after their lesson day, and tampering attempts of this week."""
    school = snapshot.school
    tz = school.timezone
    start = datetime.combine(monday, time(0, 0), tzinfo=tz)
    end = datetime.combine(until + timedelta(days=1), time(0, 0), tzinfo=tz)
    facts = _Facts.of(snapshot)
    late: dict[tuple[str, str, date, int], list[tuple[Entry, bool]]] = defaultdict(list)
    for e in snapshot.entries:
        if e.kind not in MARK_KINDS or e.first_seen is None or not start <= e.first_seen < end:
            continue
        if e.accepted_by and e.accepted_by.startswith("correction:"):
            continue  # the deputy's documented correction
        lesson = facts.lessons.get((e.class_id, e.subject_id, e.day, e.lesson_no))
        day_close, grace_close = _deadlines(school, e.class_id, e.day,
                                            lesson.work_type if lesson else None)
        if e.first_seen > day_close:
            late[(e.class_id, e.subject_id, e.day, e.lesson_no)].append(
                (e, e.first_seen <= grace_close))
    found = []
    for (cls, subject, day, lesson_no), items in sorted(late.items()):
        teacher = _lesson_teacher(school, cls, subject, day, lesson_no)
        lesson = facts.lessons.get((cls, subject, day, lesson_no))
        grace = _grace_days(school, cls, lesson.work_type if lesson else None)
        parts = []
        within = [e for e, ok in items if ok]
        after = [e for e, ok in items if not ok]
        if within:
            parts.append(f"{_count(len(within))} в пределах срока проверки работ ({grace} дн.)")
        if after:
            parts.append(f"{_count(len(after))} после срока")
        entered = max(e.first_seen for e, _ in items if e.first_seen is not None).astimezone(tz)
        found.append(Defect(
            _id(snapshot, "late_entry", cls, subject, day, lesson_no, monday), "late_entry", cls,
            subject, teacher, day,
            f"{_lesson_label(day, lesson_no)}: внесено позже дня урока: {', '.join(parts)}; "
            f"последняя запись {entered:%d.%m.%Y %H:%M}."))
    for v in snapshot.violations:
        if not start <= v.detected_at < end:
            continue
        who = _initials(school.pupil(v.pupil_id)) if v.pupil_id else ""
        where = ", ".join(x for x in (f"урок {v.day:%d.%m.%Y}" if v.day else "", who) if x)
        state = "значение восстановлено" if v.reverted else "значение ещё не восстановлено"
        found.append(Defect(
            _id(snapshot, "tampering", v.class_id, v.subject_id, v.pupil_id, v.day, v.field,
                      v.detected_at.isoformat()),
            "tampering", v.class_id, v.subject_id,
            _journal_teacher(school, v.class_id, v.subject_id), v.day,
            f"{v.detected_at:%d.%m.%Y %H:%M}: изменена закрытая клетка ({where}): "
            f"«{v.locked_value}» → «{v.attempted_value}»; {state}."))
    return found


# --------------------------------------------------------------------------- lesson checks


def _lesson_defects(snapshot: Snapshot, facts: _Facts, lesson: Lesson) -> Iterable[Defect]:
    key = (lesson.class_id, lesson.subject_id, lesson.day, lesson.lesson_no)
    row = facts.lessons.get(key)
    cells = [e for e in facts.cells.get(key, []) if e.kind in MARK_KINDS]
    label = _lesson_label(lesson.day, lesson.lesson_no)

    def defect(kind: str, text: str) -> Defect:
        return Defect(_id(snapshot, kind, *key), kind, lesson.class_id, lesson.subject_id,
                      lesson.teacher_id, lesson.day, f"{label}: {text}")

    topic, work, homework = (
        (row.topic.strip(), row.work_type.strip(), row.homework.strip()) if row else ("", "", "")
    )
    if not (topic or work or homework or (row and row.classwork.strip())) and not cells:
        yield defect("empty_lesson", "не записаны тема, вид работы и домашнее задание, нет "
                                     "ни одной отметки и ни одного «н».")
        return
    if not topic:
        yield defect("no_topic", "не записана тема урока.")
    if not work:
        yield defect("no_work_type", "не указан вид работы.")
    if not homework:
        yield defect("no_homework", "не записано домашнее задание (если не задано — "
                                    "напишите «не задано»).")
    school = snapshot.school
    kind = school.policies.work_type(work) if work else None
    if kind is None or not kind.assessment:
        return
    _, grace_close = _deadlines(school, lesson.class_id, lesson.day, work)
    if snapshot.built_at <= grace_close:
        return
    answered = {e.pupil_id for e in cells if e.kind in ("mark", "absent", "owed")}
    missing = [p for p in school.pupils_in(lesson.class_id)
               if p.enrolled_on(lesson.day) and p.id not in answered]
    if missing:
        names = ", ".join(_initials(p) for p in missing)
        last_day = lesson.day + timedelta(days=_grace_days(school, lesson.class_id, work))
        yield defect("control_marks", (
            f"«{kind.name}»: нет отметок у {len(missing)} "
            f"{'присутствовавшего' if _one(len(missing)) else 'присутствовавших'} ({names}); срок "
            f"выставления истёк {last_day:%d.%m.%Y}."))


def _few_marks(
    snapshot: Snapshot, facts: _Facts, cls: str, subject: str, lessons: list[Lesson],
    period: Period, until: date,
) -> Iterable[Defect]:
    """Pupils below the period's minimum scaled to the lessons held so far (floor of
    ``min_marks`` × held / all lessons of the period); skipped for a period partly on paper."""
    school = snapshot.school
    minimum = school.policies.grading.min_marks
    own = [x for x in lessons if period.contains(x.day)]
    if not own or own[0].day < school.year.journal_from:
        return
    held = [x for x in own if x.day <= until]
    expected = math.floor(minimum * len(held) / len(own))
    if expected < 1:
        return
    teacher = _journal_teacher(school, cls, subject)
    for pupil in school.pupils_in(cls):
        if not (pupil.enrolled_on(period.start) or pupil.enrolled_on(until)):
            continue
        if pupil.left is not None and pupil.left < until:
            continue
        count = sum(
            len(mark_numbers(e.value))
            for x in held if pupil.enrolled_on(x.day)
            for e in facts.cells.get((cls, subject, x.day, x.lesson_no), [])
            if e.pupil_id == pupil.id and e.kind == "mark"
        )
        if count < expected:
            yield Defect(
                _id(snapshot, "few_marks", cls, subject, period.name, pupil.id), "few_marks", cls,
                subject, teacher, period.start,
                f"{_initials(pupil)}: {count} отм. за {period.name} к {until:%d.%m.%Y} при норме "
                f"{expected} на эту дату (минимум {minimum} за период).")


# --------------------------------------------------------------------------- helpers


def _deadlines(school: School, class_id: str, day: date, work_type: str | None
               ) -> tuple[datetime, datetime]:
    """When an entry of this lesson stops being on time: the lesson day's end, and the end of the
    work type's checking norm — each moved to the nightly lock job that reads it (an entry first
    seen by that read was typed in time)."""
    cls = school.school_class(class_id)
    grade = cls.grade if cls else 0
    tz, policy = school.timezone, school.policies
    _, day_close = lock_window(CellKind.LESSON_INFO, tz=tz, policy=policy, grade=grade,
                               lesson_day=day)
    _, grace_close = lock_window(CellKind.MARK, tz=tz, policy=policy, grade=grade,
                                 lesson_day=day, work_type=work_type or None)
    return _lock_read(school, day_close), _lock_read(school, grace_close)


def _lock_read(school: School, close: datetime) -> datetime:
    """The first nightly lock job (``[schedule] lock_at``) at or after ``close``."""
    moment = datetime.combine(close.date(), school.schedule.lock_at, tzinfo=close.tzinfo)
    return moment if moment >= close else moment + timedelta(days=1)


def _grace_days(school: School, class_id: str, work_type: str | None) -> int:
    found = school.policies.work_type(work_type) if work_type else None
    cls = school.school_class(class_id)
    return found.grace_days(cls.grade) if found and cls else 0


def _journal_teacher(school: School, class_id: str, subject_id: str) -> str:
    teachers = school.teachers_of(class_id, subject_id)
    return teachers[0] if teachers else ""


def _lesson_teacher(school: School, class_id: str, subject_id: str, day: date, no: int) -> str:
    for lesson in school.lessons().get((class_id, subject_id), []):
        if (lesson.day, lesson.lesson_no) == (day, no):
            return lesson.teacher_id
    return _journal_teacher(school, class_id, subject_id)


def _lesson_label(day: date, lesson_no: int) -> str:
    return f"Урок {day:%d.%m.%Y} ({lesson_no}-й по расписанию)"


def _initials(pupil: Pupil | None) -> str:
    """«Егорова Б.»: enough for the teacher of the class, less for everyone else on the board."""
    if pupil is None:
        return "ученик не в списке"
    return f"{pupil.last_name} {pupil.first_name[:1]}."


def _one(n: int) -> bool:
    """Whether a Russian noun after ``n`` takes the singular (1, 21, 101; not 11)."""
    return n % 10 == 1 and n % 100 != 11


def _count(n: int) -> str:
    word = "запись" if _one(n) else (
        "записи" if 2 <= n % 10 <= 4 and not 12 <= n % 100 <= 14 else "записей")
    return f"{n} {word}"
