"""School calendar: which days are school days, which period a day is in, and the lesson dates of a
class+subject derived from the regular timetable and its one-off changes.

The journal has one column per lesson, so the lesson list is the backbone of every journal tab, lock
and report. A change that cannot apply (a lesson moved onto a holiday, a cancelled slot that has no
lesson) is ignored by :func:`lessons`; :func:`check_changes` names it for the sysadmin.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta

from rules.model import (
    AcademicYear,
    ChangeKind,
    Lesson,
    Period,
    Severity,
    TimetableChange,
    TimetableSlot,
)

_Key = tuple[str, str]  # (class_id, subject_id)
_Slot = tuple[date, int]  # (day, lesson_no)
_WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


def is_school_day(year: AcademicYear, day: date) -> bool:
    """Whether ``day`` is a school day: inside the year, a working weekday of the school week
    (Mon–Fri or Mon–Sat) or a declared extra school day, and not in a holiday (holidays win)."""
    if not year.start <= day <= year.end:
        return False
    if any(h.contains(day) for h in year.holidays):
        return False
    if any(day == moved for moved, _ in year.transfers):
        return True
    return day.isoweekday() <= year.week_days or day in year.extra_school_days


def timetable_weekday(year: AcademicYear, day: date) -> int:
    """The ISO weekday whose timetable ``day`` follows: its own, or the one a transfer names."""
    for moved, weekday in year.transfers:
        if moved == day:
            return weekday
    return day.isoweekday()


def school_days(
    year: AcademicYear, start: date | None = None, end: date | None = None
) -> list[date]:
    """The school days from ``start`` to ``end`` (inclusive, clamped to the year), in order."""
    first = year.start if start is None else max(start, year.start)
    last = year.end if end is None else min(end, year.end)
    days = (first + timedelta(n) for n in range((last - first).days + 1))
    return [d for d in days if is_school_day(year, d)]


def period_of(year: AcademicYear, day: date) -> Period | None:
    """The study period containing ``day``, or None (between periods, outside the year)."""
    return next((p for p in year.periods if p.contains(day)), None)


def week_of(day: date) -> tuple[date, date]:
    """Monday and Sunday of the week containing ``day``."""
    monday = day - timedelta(days=day.weekday())
    return monday, monday + timedelta(days=6)


def lessons(
    year: AcademicYear,
    slots: Iterable[TimetableSlot],
    changes: Iterable[TimetableChange],
    class_id: str,
    subject_id: str,
) -> list[Lesson]:
    """The lessons of one class+subject, sorted by (day, lesson_no) and numbered within each period.

    Regular slots give a lesson on every school day of their weekday inside a period and within
    ``valid_from``..``valid_to``; CANCELLED removes one, MOVED relocates one to
    ``new_day``/``new_lesson_no`` (a MOVED onto the same slot with a ``teacher_id`` is a
    substitution), EXTRA adds one. Changes that cannot apply are ignored. Two slots of the same
    class+subject at the same time (a group split) are one journal lesson; the first slot's teacher
    is kept.
    """
    key = (class_id, subject_id)
    mine = [s for s in slots if (s.class_id, s.subject_id) == key]
    my_changes = [c for c in changes if (c.class_id, c.subject_id) == key]
    return _Builder(year, mine, my_changes).build().get(key, [])


def all_lessons(
    year: AcademicYear, slots: Iterable[TimetableSlot], changes: Iterable[TimetableChange]
) -> dict[tuple[str, str], list[Lesson]]:
    """:func:`lessons` for every class+subject of the school at once, keyed by
    (class_id, subject_id); one pass over the school days."""
    return _Builder(year, list(slots), list(changes)).build()


@dataclass(frozen=True, slots=True)
class ChangeProblem:
    """A timetable change that cannot apply as written. ``index`` is its position in the input (for
    the CSV line); ERROR means it is ignored, WARNING that it applies but looks wrong."""

    index: int
    change: TimetableChange
    severity: Severity
    message: str  # English, for the sysadmin; names the change

    def __str__(self) -> str:
        return self.message


def check_changes(
    year: AcademicYear, slots: Iterable[TimetableSlot], changes: Iterable[TimetableChange]
) -> list[ChangeProblem]:
    """Every problem of the timetable changes: days outside the year or the periods, holidays and
    weekends, CANCELLED/MOVED of a slot without a regular lesson, duplicates, a lesson moved or
    added into a slot its class+subject holds (ERROR: ignored) or another subject of the class
    holds (WARNING: applied, could be a group split)."""
    slot_list = list(slots)
    builder = _Builder(year, slot_list, list(changes))
    problems: list[ChangeProblem] = []
    # (class, day, lesson_no) -> subjects in that slot after all applied changes, for collisions
    taken: dict[tuple[str, date, int], list[str]] = defaultdict(list)
    for day in {c.day for c in builder.changes} | {c.new_day for c in builder.changes if c.new_day}:
        for s in builder.regular_on(day):
            if (s.class_id, s.subject_id, day, s.lesson_no) not in builder.removed:
                taken[(s.class_id, day, s.lesson_no)].append(s.subject_id)
    for index, change in enumerate(builder.changes):
        error = builder.errors.get(index)
        if error is not None:
            message = f"{_name(change)}: {error}"
            problems.append(ChangeProblem(index, change, Severity.ERROR, message))
            continue
        target = builder.target(change)
        in_place = change.kind is ChangeKind.MOVED and target == (change.day, change.lesson_no)
        if target is None or in_place:
            continue  # CANCELLED, or a substitution in place
        occupants = taken[(change.class_id, *target)]
        if occupants:
            others = ", ".join(sorted(set(occupants)))
            message = f"{_name(change)}: the class also has {others} in {_slot(target)}"
            problems.append(ChangeProblem(index, change, Severity.WARNING, message))
        occupants.append(change.subject_id)
    return problems


# --------------------------------------------------------------------------- internals


def _name(change: TimetableChange) -> str:
    return (
        f"change {change.kind.value} {change.class_id}/{change.subject_id} "
        f"{change.day.isoformat()} lesson {change.lesson_no}"
    )


def _slot(target: _Slot) -> str:
    return f"{target[0].isoformat()} lesson {target[1]}"


class _Builder:
    """Applies changes to the regular timetable; records why a change cannot apply (by index)."""

    def __init__(
        self, year: AcademicYear, slots: list[TimetableSlot], changes: list[TimetableChange]
    ) -> None:
        self.year = year
        self.changes = changes
        self.by_weekday: dict[int, list[TimetableSlot]] = defaultdict(list)
        self.first_teacher: dict[_Key, str] = {}
        for s in slots:
            self.first_teacher.setdefault((s.class_id, s.subject_id), s.teacher_id)
        for s in sorted(slots, key=lambda s: (s.lesson_no, s.class_id, s.subject_id)):
            self.by_weekday[s.weekday].append(s)
        self.errors: dict[int, str] = {}
        self.removed: set[tuple[str, str, date, int]] = set()  # (class, subject, day, lesson_no)
        self.added: dict[date, list[tuple[TimetableChange, int, str]]] = defaultdict(list)
        self._apply()

    def regular_on(self, day: date) -> list[TimetableSlot]:
        """Regular slots giving a lesson on ``day`` (a school day inside a period)."""
        if not is_school_day(self.year, day) or period_of(self.year, day) is None:
            return []
        return [
            s
            for s in self.by_weekday.get(timetable_weekday(self.year, day), ())
            if (s.valid_from is None or s.valid_from <= day)
            and (s.valid_to is None or day <= s.valid_to)
        ]

    def target(self, change: TimetableChange) -> _Slot | None:
        if change.kind is ChangeKind.CANCELLED:
            return None
        if change.kind is ChangeKind.EXTRA:
            return change.day, change.lesson_no
        new_no = change.new_lesson_no if change.new_lesson_no is not None else change.lesson_no
        return change.new_day or change.day, new_no

    def _regular_teacher(self, change: TimetableChange, day: date, lesson_no: int) -> str | None:
        """Teacher of the regular lesson of the change's class+subject in that slot, if any."""
        for s in self.regular_on(day):
            same = (s.class_id, s.subject_id) == (change.class_id, change.subject_id)
            if same and s.lesson_no == lesson_no:
                return s.teacher_id
        return None

    def _has_regular(self, change: TimetableChange, day: date, lesson_no: int) -> bool:
        return self._regular_teacher(change, day, lesson_no) is not None

    def _unusable(self, day: date) -> str | None:
        if not self.year.start <= day <= self.year.end:
            return f"{day.isoformat()} is outside the academic year {self.year.name}"
        holiday = next((h for h in self.year.holidays if h.contains(day)), None)
        if holiday is not None:
            return f"{day.isoformat()} is in the holiday «{holiday.name}»"
        if not is_school_day(self.year, day):
            return f"{day.isoformat()} is not a school day ({_WEEKDAYS[day.weekday()]})"
        if period_of(self.year, day) is None:
            return f"{day.isoformat()} is outside every study period"
        return None

    def _apply(self) -> None:
        # Ignoring one change can invalidate another (a later change of a slot it moved away), so
        # repeat until the ignored set is stable: then ignoring == leaving the change out.
        while True:
            self.removed.clear()
            self.added.clear()
            found = self._pass()
            if not found:
                return
            self.errors.update(found)

    def _pass(self) -> dict[int, str]:
        found: dict[int, str] = {}
        valid: list[int] = []
        for index, c in enumerate(self.changes):
            if index in self.errors:
                continue
            error = self._error(c)
            if error is not None:
                found[index] = error
                continue
            valid.append(index)
            if c.kind is not ChangeKind.EXTRA:
                self.removed.add((c.class_id, c.subject_id, c.day, c.lesson_no))
        # a lesson moved or added into a slot its class+subject holds is ignored
        held: set[tuple[str, str, date, int]] = set()
        for index in valid:
            c = self.changes[index]
            target = self.target(c)
            if target is None:
                continue
            slot = (c.class_id, c.subject_id, *target)
            if slot in held or (slot not in self.removed and self._has_regular(c, *target)):
                found[index] = f"the class already has this subject in {_slot(target)}"
                continue
            held.add(slot)
            teacher = c.teacher_id or self._regular_teacher(c, c.day, c.lesson_no) or ""
            self.added[target[0]].append((c, target[1], teacher))
        return found

    def _error(self, c: TimetableChange) -> str | None:
        if c.lesson_no < 1:
            return f"lesson number {c.lesson_no} is not positive"
        target = self.target(c)
        if target is not None and target[1] < 1:
            return f"new lesson number {target[1]} is not positive"
        if c.kind is not ChangeKind.EXTRA:
            problem = self._unusable(c.day)
            if problem is not None:
                return problem
            if not self._has_regular(c, c.day, c.lesson_no):
                return "the class has no regular lesson of this subject in that slot"
            if (c.class_id, c.subject_id, c.day, c.lesson_no) in self.removed:
                return "that lesson is already cancelled or moved by an earlier change"
            if target == (c.day, c.lesson_no) and c.teacher_id is None:
                return "moved without a new day, lesson number or substitute teacher"
        if target is not None:
            problem = self._unusable(target[0])
            if problem is not None:
                return f"target {problem}"
        return None

    def _fallback_teacher(self, key: _Key, day: date) -> str:
        """Teacher of an extra lesson given without one: the subject's regular teacher that day,
        else its first teacher in the timetable."""
        for s in self.regular_on(day):
            if (s.class_id, s.subject_id) == key:
                return s.teacher_id
        return self.first_teacher.get(key, "")

    def build(self) -> dict[_Key, list[Lesson]]:
        raw: dict[_Key, dict[_Slot, str]] = defaultdict(dict)
        candidates = set(school_days(self.year)) | set(self.added)
        for day in sorted(candidates):
            for s in self.regular_on(day):
                if (s.class_id, s.subject_id, day, s.lesson_no) not in self.removed:
                    raw[(s.class_id, s.subject_id)].setdefault((day, s.lesson_no), s.teacher_id)
            for change, lesson_no, teacher in self.added.get(day, ()):
                key = (change.class_id, change.subject_id)
                raw[key].setdefault((day, lesson_no), teacher or self._fallback_teacher(key, day))
        result: dict[_Key, list[Lesson]] = {}
        for key, held in raw.items():
            numbers: dict[str, int] = defaultdict(int)
            out: list[Lesson] = []
            for (day, lesson_no), teacher in sorted(held.items()):
                period = period_of(self.year, day)
                assert period is not None  # regular_on and _error keep lessons inside periods
                numbers[period.name] += 1
                number = numbers[period.name]
                out.append(Lesson(key[0], key[1], day, lesson_no, period.name, number, teacher))
            result[key] = out
        return result
