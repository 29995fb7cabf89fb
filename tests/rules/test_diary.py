"""The diary projection (rules/diary.py) for three hand-checked pupils of one small class.

The class: Математика Mon 1st and Wed 2nd lesson (and Fri 4th from 12.10), Русский язык Mon 2nd,
Tue 1st, Thu 1st, ОРКСЭ (not marked) Fri 3rd; the lessons come from the calendar (with a cancelled
and a moved lesson). Every expected figure is worked out by hand in the comment next to it.
"""

from __future__ import annotations

from datetime import date

import pytest

from rules.calendar import lessons
from rules.diary import current_period, project_diary
from rules.diary_types import (
    OWED_TEXT,
    AbsenceLine,
    ChangeLine,
    DiaryEntry,
    DiaryLesson,
    HomeworkDue,
    PupilView,
    ShownMark,
    SubjectMarks,
    TimetableLine,
    WeekDay,
    WeekLesson,
)
from rules.model import (
    AbsenceReason,
    AcademicYear,
    ChangeKind,
    GradingPolicy,
    Holiday,
    Period,
    Policies,
    Pupil,
    Subject,
    TimetableChange,
    TimetableSlot,
    WorkType,
)
from rules.stats import AttendanceSummary

Q1 = Period("1 четверть", date(2026, 9, 1), date(2026, 10, 23))
Q2 = Period("2 четверть", date(2026, 11, 5), date(2026, 12, 29))
YEAR = AcademicYear("2026/27", date(2026, 9, 1), date(2027, 5, 31), (Q1, Q2),
                    (Holiday("Осенние каникулы", date(2026, 10, 24), date(2026, 11, 4)),))
WORK_TYPES = (
    WorkType("classwork", "Работа на уроке", 1.0),
    WorkType("oral", "Устный ответ", 1.0),
    WorkType("independent", "Самостоятельная работа", 1.5),
    WorkType("control", "Контрольная работа", 2.0),
    WorkType("dictation", "Контрольный диктант", 2.0),
)
WEIGHTED = Policies(grading=GradingPolicy(weighted=True), work_types=WORK_TYPES)
SIMPLE = Policies(grading=GradingPolicy(weighted=False), work_types=WORK_TYPES)
SUBJECTS = (Subject("math", "Математика"), Subject("russian", "Русский язык"),
            Subject("orkse", "ОРКСЭ", marked=False))
SLOTS = (
    TimetableSlot(1, 1, "5А", "math", "t1"),
    TimetableSlot(3, 2, "5А", "math", "t1"),
    TimetableSlot(5, 4, "5А", "math", "t1", valid_from=date(2026, 10, 12)),
    TimetableSlot(1, 2, "5А", "russian", "t2"),
    TimetableSlot(2, 1, "5А", "russian", "t2"),
    TimetableSlot(4, 1, "5А", "russian", "t2"),
    TimetableSlot(5, 3, "5А", "orkse", "t3"),
)
CHANGES = (
    TimetableChange(ChangeKind.CANCELLED, date(2026, 9, 24), 1, "5А", "russian"),
    TimetableChange(ChangeKind.MOVED, date(2026, 9, 23), 2, "5А", "math",
                    new_day=date(2026, 9, 25), new_lesson_no=5),
    TimetableChange(ChangeKind.EXTRA, date(2026, 11, 10), 7, "5А", "math", "t1"),
)
FACTS = {  # (subject, day) → (topic, work type, homework), as the teachers wrote them
    ("math", date(2026, 9, 7)): ("Натуральные числа", "oral", "№ 1–5"),
    ("math", date(2026, 9, 9)): ("Сложение", "контрольная  работа", "№ 10"),  # a name, loosely
    ("math", date(2026, 9, 14)): ("Вычитание", "classwork", "№ 20"),
    ("math", date(2026, 9, 16)): ("Умножение", "independent", "№ 30"),
    ("russian", date(2026, 9, 15)): ("Орфограммы", "dictation", "упр. 12"),
    ("russian", date(2026, 10, 22)): ("Повторение", "", "выучить правило"),
}


def class_lessons() -> tuple[DiaryLesson, ...]:
    out = []
    for subject in SUBJECTS:
        for x in lessons(YEAR, SLOTS, CHANGES, "5А", subject.id):
            topic, work, homework = FACTS.get((subject.id, x.day), ("", "", ""))
            out.append(DiaryLesson(subject.id, x.day, x.lesson_no, x.period, topic, work,
                                   homework))
    return tuple(out)


def view(pupil: Pupil, entries: dict[tuple[str, date], str], **kw: object) -> PupilView:
    by_day = {(x.subject_id, x.day): x.lesson_no for x in class_lessons()}
    cells = tuple(DiaryEntry(s, d, by_day[(s, d)], v) for (s, d), v in entries.items())
    return PupilView(pupil, SUBJECTS, class_lessons(), cells, slots=SLOTS, changes=CHANGES,
                     **kw)  # type: ignore[arg-type]


A = Pupil("s1", "Антонов", "Даниил", "5А", date(2026, 9, 1))
B = Pupil("s2", "Борисова", "Вера", "5А", date(2026, 9, 10))
C = Pupil("s3", "Васильев", "Глеб", "5А", date(2026, 9, 1))
WED = date(2026, 9, 16)  # A's and B's "today": a Wednesday; the week is 14.09–20.09


def d(day: int, month: int = 9) -> date:
    return date(2026, month, day)


def pupil_a() -> PupilView:
    return view(A, {("math", d(7)): "5", ("math", d(9)): "4/3", ("math", d(14)): "н",
                    ("math", d(16)): "5", ("russian", d(15)): "3", ("russian", d(8)): "оп"},
                reasons={d(14): AbsenceReason.ILLNESS},
                period_marks={("math", "1 четверть"): "4"})


def pupil_b() -> PupilView:
    return view(B, {("russian", d(10)): "•", ("math", d(14)): "н", ("russian", d(14)): "н",
                    ("russian", d(15)): "5", ("math", d(16)): "3"})


def pupil_c() -> PupilView:
    return view(C, {("math", d(2)): "5", ("math", d(7)): "5", ("math", d(9)): "4",
                    ("math", d(14)): "5", ("math", d(16)): "4"},
                period_marks={("math", "1 четверть"): "5", ("russian", "1 четверть"): "4"})


# --------------------------------------------------------------------------- pupil A


def test_a_week_day_by_day() -> None:
    diary = project_diary(pupil_a(), YEAR, WEIGHTED, WED)
    assert diary.week == (
        WeekDay(d(14), (WeekLesson(1, "Математика", "Вычитание", "№ 20", "", "н, по болезни"),
                        WeekLesson(2, "Русский язык", "", "", "", ""))),
        WeekDay(d(15), (WeekLesson(1, "Русский язык", "Орфограммы", "упр. 12",
                                   "3 — Контрольный диктант", ""),)),
        WeekDay(d(16), (WeekLesson(2, "Математика", "Умножение", "№ 30",
                                   "5 — Самостоятельная работа", ""),)),
        WeekDay(d(17), (WeekLesson(1, "Русский язык", "", "", "", ""),)),
        WeekDay(d(18), (WeekLesson(3, "ОРКСЭ", "", "", "", ""),)),
    )
    # next week: Mon 21.09 math follows Wed 16.09 (homework «№ 30»); Mon 21.09 Russian follows
    # Thu 17.09 (no homework); the rest follow lessons of next week itself
    assert diary.next_week == (HomeworkDue(d(21), 1, "Математика", "№ 30", d(16)),)


def test_a_marks_weighted_average_and_recommendation() -> None:
    diary = project_diary(pupil_a(), YEAR, WEIGHTED, WED)
    assert diary.period == Q1
    # Математика: 5 (устный, ×1), 4 and 3 (контрольная, ×2 each), 5 (самостоятельная, ×1.5):
    # (5 + 8 + 6 + 7.5) / 6.5 = 26.5 / 6.5 = 4.0769… → «4,08»; 3.65 ≤ 4.08 < 4.65 → 4
    # Русский язык: one mark 3 → average 3, fewer than 3 marks → н/а; ОРКСЭ is not marked
    assert diary.marks == (
        SubjectMarks("Математика", (
            ShownMark(d(7), "5", "Устный ответ", "Натуральные числа"),
            ShownMark(d(9), "4/3", "Контрольная работа", "Сложение"),
            ShownMark(d(16), "5", "Самостоятельная работа", "Умножение"),
        ), "4,08", "4", "4"),
        SubjectMarks("Русский язык", (ShownMark(d(15), "3", "Контрольный диктант",
                                                "Орфограммы"),), "3", "н/а", ""),
        SubjectMarks("ОРКСЭ", (), "", "", ""),
    )


def test_a_attendance() -> None:
    diary = project_diary(pupil_a(), YEAR, WEIGHTED, WED)
    assert diary.absences == (AbsenceLine(d(8), 1, "Русский язык", "оп", ""),
                              AbsenceLine(d(14), 1, "Математика", "н", "по болезни"))
    # lessons 01.09–16.09: week 1 Tue–Fri 4, week 2 6, week 3 Mon–Wed 4 → 14; one «н» (illness)
    # on 14.09, whose Russian lesson he attended (no whole day); one lateness
    assert diary.attendance == AttendanceSummary(scheduled=14, missed=1, illness=1, late=1)


def test_a_totals_and_timetable() -> None:
    diary = project_diary(pupil_a(), YEAR, WEIGHTED, WED)
    assert diary.period_names == ("1 четверть", "2 четверть")
    assert diary.totals == (("Математика", ("4", "")), ("Русский язык", ("", "")),
                            ("ОРКСЭ", ("", "")))
    assert diary.timetable == (
        TimetableLine(1, 1, "Математика"), TimetableLine(1, 2, "Русский язык"),
        TimetableLine(2, 1, "Русский язык"), TimetableLine(3, 2, "Математика"),
        TimetableLine(4, 1, "Русский язык"), TimetableLine(5, 3, "ОРКСЭ"),
        TimetableLine(5, 4, "Математика", "с 12.10.2026"),
    )
    # the extra lesson of 10.11 is in the 2nd quarter: not listed for the 1st
    assert diary.timetable_changes == (
        ChangeLine(d(23), 2, "Математика", "перенесён на 25.09.2026, 5-й урок"),
        ChangeLine(d(24), 1, "Русский язык", "урок отменён"),
    )


# --------------------------------------------------------------------------- pupil B


def test_b_enrolled_later_owes_work_and_misses_a_day() -> None:
    diary = project_diary(pupil_b(), YEAR, WEIGHTED, WED)
    assert diary.week[0] == WeekDay(d(14), (
        WeekLesson(1, "Математика", "Вычитание", "№ 20", "", "н, причина не указана"),
        WeekLesson(2, "Русский язык", "", "", "", "н, причина не указана")))
    # Математика: one 3 (×1.5) → average 3, н/а; Русский язык: «•» is listed but not averaged,
    # one 5 → average 5, н/а
    assert diary.marks == (
        SubjectMarks("Математика", (ShownMark(d(16), "3", "Самостоятельная работа",
                                              "Умножение"),), "3", "н/а", ""),
        SubjectMarks("Русский язык", (ShownMark(d(10), "•", OWED_TEXT, ""),
                                      ShownMark(d(15), "5", "Контрольный диктант",
                                                "Орфограммы")), "5", "н/а", ""),
        SubjectMarks("ОРКСЭ", (), "", "", ""),
    )
    # enrolled 10.09: Thu 10 Russian, Fri 11 ОРКСЭ, Mon 14 two, Tue 15, Wed 16 → 6 lessons;
    # both lessons of 14.09 missed without a reason → one whole day
    assert diary.attendance == AttendanceSummary(scheduled=6, missed=2, no_reason=2,
                                                 days_missed=1)
    assert diary.attendance.attended_pct == pytest.approx(4 * 100 / 6)
    assert diary.totals == (("Математика", ("", "")), ("Русский язык", ("", "")),
                            ("ОРКСЭ", ("", "")))


# --------------------------------------------------------------------------- pupil C


def test_c_simple_average_in_the_holidays() -> None:
    today = date(2026, 10, 26)  # autumn holidays: the 1st quarter is still the current one
    diary = project_diary(pupil_c(), YEAR, SIMPLE, today)
    assert diary.period == Q1
    assert diary.week == tuple(WeekDay(date(2026, 10, n), (), "Осенние каникулы")
                               for n in range(26, 31))
    # next week: 02–04.11 holidays; Thu 05.11 Russian follows Thu 22.10 («выучить правило»);
    # Fri 06.11 ОРКСЭ and math follow Fri 23.10 lessons without homework
    assert diary.next_week == (HomeworkDue(date(2026, 11, 5), 1, "Русский язык",
                                           "выучить правило", date(2026, 10, 22)),)
    # simple mean 5 5 4 5 4 = 23 / 5 = 4.6 → «4,6»; 3.65 ≤ 4.6 < 4.65 → 4 (the teacher gave 5)
    math = diary.marks[0]
    assert (math.average, math.recommended, math.period_mark) == ("4,6", "4", "5")
    assert [m.value for m in math.marks] == ["5", "5", "4", "5", "4"]
    assert math.marks[0] == ShownMark(d(2), "5", "", "")  # a lesson without a work type
    # the whole quarter: 6 lessons a week × 7 full weeks + 4 in the first week + Fri 16.10 and
    # 23.10 math (from 12.10); the cancelled 24.09 Russian is gone, the moved math is counted
    # once (25.09) → 42 + 4 + 2 − 1 = 47; no absence
    assert diary.attendance == AttendanceSummary(scheduled=47)
    assert diary.absences == ()
    assert diary.totals == (("Математика", ("5", "")), ("Русский язык", ("4", "")),
                            ("ОРКСЭ", ("", "")))


def test_entries_of_other_periods_stay_out_of_the_current_one() -> None:
    diary = project_diary(pupil_c(), YEAR, SIMPLE, date(2026, 11, 10))
    assert diary.period == Q2
    assert [m.marks for m in diary.marks] == [(), (), ()]  # every mark was in the 1st quarter
    assert diary.totals[0] == ("Математика", ("5", ""))  # the 1st quarter's mark stays


def test_a_partly_paper_period_shows_marks_but_no_recommendation() -> None:
    paper = AcademicYear(YEAR.name, YEAR.start, YEAR.end, YEAR.periods, YEAR.holidays,
                         journal_start=date(2026, 9, 7))
    diary = project_diary(pupil_a(), paper, WEIGHTED, WED)
    math = diary.marks[0]
    assert (math.average, math.recommended) == ("", "")
    assert len(math.marks) == 3
    # the attendance counts only from the go-live day 07.09: 14 − 4 = 10 lessons
    assert diary.attendance.scheduled == 10


@pytest.mark.parametrize(("today", "expected"), [
    (date(2026, 8, 20), Q1),  # before the year: the first period
    (date(2026, 9, 1), Q1),
    (date(2026, 10, 30), Q1),  # holidays between periods: the one just ended
    (date(2026, 11, 5), Q2),
    (date(2027, 6, 15), Q2),  # after the year: the last
])
def test_current_period(today: date, expected: Period) -> None:
    assert current_period(YEAR, today) == expected


def test_a_pass_fail_course_shows_zach_in_the_week_and_the_marks() -> None:
    """ОРКСЭ graded «зачёт/незачёт»: «зач» and «незач» in lesson cells (accepted by the journal's
    grammar) reach the parents like marks, without an average or a recommendation."""
    pupil = view(A, {("orkse", d(11)): "зач", ("orkse", d(18)): "незач"})
    diary = project_diary(pupil, YEAR, WEIGHTED, d(18))
    friday = next(x for x in diary.week if x.day == d(18))
    assert friday.lessons == (WeekLesson(3, "ОРКСЭ", "", "", "незач", ""),)
    orkse = next(x for x in diary.marks if x.subject == "ОРКСЭ")
    assert orkse.marks == (ShownMark(d(11), "зач", "", ""), ShownMark(d(18), "незач", "", ""))
    assert (orkse.average, orkse.recommended) == ("", "")
    assert diary.attendance.missed == 0  # «незач» is no absence
