"""The diary projection (R3, 3.1.1): what one pupil's parents see, computed from that pupil's data.

:func:`project_diary` turns a :class:`PupilView` — a plain view of ONE pupil's accepted ledger data
(lessons of the class with what the teachers wrote, the pupil's accepted marks and codes, period
marks, the class teacher's absence reasons) and the class's timetable — into a :class:`Diary`:

* «Неделя»: the week containing ``today`` (Monday–Sunday), school day by school day: lesson number,
  subject, topic, the homework set at the lesson, marks with the work they were given for, absence
  or lateness; then the homework due at next week's lessons (set at the subject's lesson before).
* «Оценки»: per subject, the marks of the current period (date, mark, вид работы, topic), the
  average and the recommended period mark exactly as the journal shows them (``rules.grading``;
  none for a subject without marks or a period partly kept on paper), and the period mark.
* «Посещаемость»: every «н» and «оп» of the current period with the class teacher's reason, and
  the totals (``rules.stats.attendance_summary``) over the period's lessons up to ``today``.
* «Итоги»: period marks of every period of the year per subject.
* «Расписание»: the regular timetable of the current period and its one-off changes.

Only what the view holds appears, and the view holds only accepted values: an invalid cell, an open
finding or a pending correction never reaches a parent; a corrected mark is the corrected value.
Pure: ``today`` is an argument, nothing else is read.
"""

from __future__ import annotations

from datetime import date, timedelta
from fractions import Fraction

from rules.assessment import Assessment, journal_grammar
from rules.calendar import is_school_day, week_of
from rules.diary_types import (
    NO_REASON,
    OWED_TEXT,
    REASON_TEXT,
    AbsenceLine,
    ChangeLine,
    Diary,
    DiaryLesson,
    HomeworkDue,
    PupilView,
    ShownMark,
    SubjectMarks,
    TimetableLine,
    WeekDay,
    WeekLesson,
)
from rules.grading import MarkRecord, format_average, recommend
from rules.grammar import ValueKind, parse_cell
from rules.model import AcademicYear, ChangeKind, Period, Policies, TimetableChange
from rules.stats import AttendanceSummary, LessonAttendance, attendance_summary

# --------------------------------------------------------------------------- projection


def current_period(year: AcademicYear, today: date) -> Period | None:
    """The period containing ``today``, else the last one begun before it (holidays between
    periods), else the first one (before the year); None for a year without periods."""
    begun = [p for p in year.periods if p.start <= today]
    if begun:
        return begun[-1]
    return year.periods[0] if year.periods else None


def project_diary(view: PupilView, year: AcademicYear, policies: Policies, today: date
                  ) -> Diary:
    """The diary of ``view.pupil`` as it stands on ``today`` (see the module docstring)."""
    p = _Projection(view, year, policies, today)
    period = current_period(year, today)
    absences, summary = p.attendance(period)
    return Diary(
        pupil=view.pupil,
        today=today,
        period=period,
        week=p.week(),
        next_week=p.next_week(),
        marks=p.marks(period),
        absences=absences,
        attendance=summary,
        period_names=tuple(x.name for x in year.periods),
        totals=p.totals(),
        timetable=p.timetable(period),
        timetable_changes=p.timetable_changes(period),
    )


class _Projection:
    def __init__(self, view: PupilView, year: AcademicYear, policies: Policies, today: date
                 ) -> None:
        self.view, self.year, self.policies, self.today = view, year, policies, today
        self.names = {s.id: s.name for s in view.subjects}
        self.order = {s.id: n for n, s in enumerate(view.subjects)}
        self.lessons = sorted(view.lessons, key=lambda x: (x.day, x.lesson_no, self._rank(x)))
        self.entries = {(e.subject_id, e.day, e.lesson_no): e.value for e in view.entries}
        # what the ledger holds was accepted by its journal's grammar: «зач»/«незач» of a зачёт
        # course is read here too (the school's grammar alone refuses it in a lesson cell)
        self.grammar = journal_grammar(policies.grammar, Assessment.PASS_FAIL)

    def _rank(self, lesson: DiaryLesson) -> int:
        return self.order.get(lesson.subject_id, len(self.order))

    def subject(self, subject_id: str) -> str:
        return self.names.get(subject_id, subject_id)

    def work(self, typed: str) -> str:
        found = self.policies.work_type_typed(typed) if typed else None
        return found.name if found is not None else typed

    def kind(self, value: str) -> ValueKind | None:
        parsed = parse_cell(value, self.grammar)
        return parsed.value.kind if parsed.value is not None else None

    # ---- «Неделя»

    def week(self) -> tuple[WeekDay, ...]:
        monday, _ = week_of(self.today)
        days = [monday + timedelta(n) for n in range(max(5, self.year.week_days))]
        extra = (*self.year.extra_school_days, *(d for d, _ in self.year.transfers))
        days += [d for d in dict.fromkeys(extra) if monday <= d <= monday + timedelta(6)
                 and d not in days]
        return tuple(self._day(d) for d in sorted(days))

    def _day(self, day: date) -> WeekDay:
        lessons = tuple(self._week_lesson(x) for x in self.lessons if x.day == day)
        if lessons or is_school_day(self.year, day):
            return WeekDay(day, lessons, "" if lessons else "нет уроков")
        holiday = next((h.name for h in self.year.holidays if h.contains(day)), "")
        return WeekDay(day, (), holiday or "выходной")

    def _week_lesson(self, lesson: DiaryLesson) -> WeekLesson:
        value = self.entries.get((lesson.subject_id, lesson.day, lesson.lesson_no), "")
        kind = self.kind(value) if value else None
        marks = attendance = ""
        if kind in (ValueKind.MARK, ValueKind.PERIOD_CODE):  # a mark, or «зач»/«незач»
            work = self.work(lesson.work_type)
            marks = f"{value} — {work}" if work else value
        elif kind is ValueKind.OWED:
            marks = OWED_TEXT
        elif kind is ValueKind.ABSENT:
            attendance = f"{value}, {self._reason(lesson.day)}"
        elif kind is ValueKind.LATE:
            attendance = value
        return WeekLesson(lesson.lesson_no, self.subject(lesson.subject_id), lesson.topic,
                          lesson.homework, marks, attendance)

    def _reason(self, day: date) -> str:
        reason = self.view.reasons.get(day)
        return REASON_TEXT[reason] if reason is not None else NO_REASON

    def next_week(self) -> tuple[HomeworkDue, ...]:
        monday, _ = week_of(self.today)
        start, end = monday + timedelta(7), monday + timedelta(13)
        last: dict[str, DiaryLesson] = {}
        out: list[HomeworkDue] = []
        for lesson in self.lessons:
            before = last.get(lesson.subject_id)
            if start <= lesson.day <= end and before is not None and before.homework:
                out.append(HomeworkDue(lesson.day, lesson.lesson_no,
                                       self.subject(lesson.subject_id), before.homework,
                                       before.day))
            last[lesson.subject_id] = lesson
        return tuple(out)

    # ---- «Оценки»

    def marks(self, period: Period | None) -> tuple[SubjectMarks, ...]:
        if period is None:
            return ()
        on_paper = any(x.day < self.year.journal_from for x in self.lessons
                       if x.period == period.name)
        by_code = {wt.code: wt for wt in self.policies.work_types}
        out = []
        for subject in self.view.subjects:
            shown: list[ShownMark] = []
            records: list[MarkRecord] = []
            for lesson in self.lessons:
                if lesson.subject_id != subject.id or lesson.period != period.name:
                    continue
                value = self.entries.get((subject.id, lesson.day, lesson.lesson_no), "")
                parsed = parse_cell(value, self.grammar) if value else None
                kind = parsed.value.kind if parsed and parsed.value else None
                if parsed is None or parsed.value is None or kind not in (
                        ValueKind.MARK, ValueKind.OWED, ValueKind.PERIOD_CODE):
                    continue
                work = OWED_TEXT if kind is ValueKind.OWED else self.work(lesson.work_type)
                shown.append(ShownMark(lesson.day, value, work, lesson.topic))
                if kind is ValueKind.MARK:
                    found = self.policies.work_type_typed(lesson.work_type)
                    code = found.code if found is not None else None
                    records.extend(MarkRecord(m, code, lesson.day) for m in parsed.value.marks)
            average = recommended = ""
            if records and subject.marked and not on_paper:
                rec = recommend(records, self.policies.grading, by_code)
                thresholds = tuple(_exact(t) for t in self.policies.grading.thresholds)
                if rec.average is not None:
                    average = format_average(_exact(rec.average), *thresholds)
                recommended = rec.value
            out.append(SubjectMarks(subject.name, tuple(shown), average, recommended,
                                    self.view.period_marks.get((subject.id, period.name), "")))
        return tuple(out)

    # ---- «Посещаемость»

    def attendance(self, period: Period | None
                   ) -> tuple[tuple[AbsenceLine, ...], AttendanceSummary]:
        if period is None:
            return (), AttendanceSummary()
        pupil, start = self.view.pupil, max(period.start, self.year.journal_from)
        lines: list[AbsenceLine] = []
        counted: list[LessonAttendance] = []
        for lesson in self.lessons:
            if not (lesson.period == period.name and start <= lesson.day <= self.today
                    and pupil.enrolled_on(lesson.day)):
                continue
            value = self.entries.get((lesson.subject_id, lesson.day, lesson.lesson_no), "")
            kind = self.kind(value) if value else None
            absent, late = kind is ValueKind.ABSENT, kind is ValueKind.LATE
            reason = self.view.reasons.get(lesson.day) if absent else None
            counted.append(LessonAttendance(lesson.day, absent, late, reason))
            if absent or late:
                text = self._reason(lesson.day) if absent else ""
                lines.append(AbsenceLine(lesson.day, lesson.lesson_no,
                                         self.subject(lesson.subject_id), value, text))
        return tuple(lines), attendance_summary(counted)

    # ---- «Итоги»

    def totals(self) -> tuple[tuple[str, tuple[str, ...]], ...]:
        marks = self.view.period_marks
        return tuple(
            (s.name, tuple(marks.get((s.id, p.name), "") for p in self.year.periods))
            for s in self.view.subjects
        )

    # ---- «Расписание»

    def timetable(self, period: Period | None) -> tuple[TimetableLine, ...]:
        if period is None:
            return ()
        out = []
        for slot in self.view.slots:
            first = max(period.start, slot.valid_from or period.start)
            last = min(period.end, slot.valid_to or period.end)
            if first > last or slot.weekday > 7:
                continue
            note = ""
            if first > period.start:
                note = f"с {first:%d.%m.%Y}"
            elif last < period.end:
                note = f"до {last:%d.%m.%Y}"
            out.append(TimetableLine(slot.weekday, slot.lesson_no, self.subject(slot.subject_id),
                                     note))
        unique = {(x.weekday, x.lesson_no, x.subject, x.note): x for x in out}
        return tuple(sorted(unique.values(), key=lambda x: (x.weekday, x.lesson_no, x.subject)))

    def timetable_changes(self, period: Period | None) -> tuple[ChangeLine, ...]:
        if period is None:
            return ()
        out = []
        for change in self.view.changes:
            if not period.contains(change.day) and not (
                    change.new_day is not None and period.contains(change.new_day)):
                continue
            text = _change_text(change)
            if text:
                out.append(ChangeLine(change.day, change.lesson_no,
                                      self.subject(change.subject_id), text))
        return tuple(sorted(out, key=lambda x: (x.day, x.lesson_no, x.subject)))


def _change_text(change: TimetableChange) -> str:
    if change.kind is ChangeKind.CANCELLED:
        return "урок отменён"
    if change.kind is ChangeKind.EXTRA:
        return "дополнительный урок"
    if change.new_day is None or (change.new_day, change.new_lesson_no) == (change.day,
                                                                            change.lesson_no):
        return ""  # a substitution in the same slot: nothing changes for the pupil
    number = change.new_lesson_no or change.lesson_no
    return f"перенесён на {change.new_day:%d.%m.%Y}, {number}-й урок"


def _exact(number: float) -> Fraction:
    return Fraction(repr(number))

