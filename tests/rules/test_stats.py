"""Performance and attendance statistics (rules/stats.py), against classes computed by hand."""

from __future__ import annotations

from datetime import date

import pytest

from rules.model import AbsenceReason
from rules.stats import (
    AttendanceSummary,
    ClassSummary,
    LessonAttendance,
    PupilMark,
    PupilMarks,
    SubjectStats,
    attendance_summary,
    class_summary,
    subject_stats,
    total,
    total_classes,
)

# --------------------------------------------------------------------------- one class × subject

# 28 rows: 5×«5», 10×«4», 7×«3», 1×«2», 1×«н/а», 1×«осв», 1 pupil who left (had «3»),
# 1 pupil without a period mark.
# N = 5 + 10 + 7 + 1 + 1 = 24 (осв, left and no mark are out; н/а is in)
# успеваемость = (5 + 10 + 7)·100 / 24 = 2200 / 24 = 91.666…
# качество     = (5 + 10)·100 / 24     = 1500 / 24 = 62.5
# СОУ = (100·5 + 64·10 + 36·7 + 16·1 + 7·1) / 24 = (500 + 640 + 252 + 16 + 7) / 24 = 1415 / 24
#     = 58.958…
# средний балл = (5·5 + 4·10 + 3·7 + 2·1) / 23 = (25 + 40 + 21 + 2) / 23 = 88 / 23 = 3.826…
CLASS_7B = (
    [PupilMark("5")] * 5
    + [PupilMark("4")] * 10
    + [PupilMark("3")] * 7
    + [PupilMark("2"), PupilMark("н/а"), PupilMark("осв"), PupilMark("3", left=True),
       PupilMark(None)]
)


def test_subject_stats_of_a_hand_computed_class() -> None:
    s = subject_stats(CLASS_7B)
    assert (s.n5, s.n4, s.n3, s.n2, s.n_na) == (5, 10, 7, 1, 1)
    assert (s.n_exempt, s.n_left, s.n_no_mark, s.n_credit) == (1, 1, 1, 0)
    assert s.n == 24
    assert s.success_pct == pytest.approx(91.6667, abs=1e-4)
    assert s.quality_pct == pytest.approx(62.5)
    assert s.sou == pytest.approx(58.9583, abs=1e-4)
    assert s.average == pytest.approx(3.8261, abs=1e-4)


@pytest.mark.parametrize(
    "marks",
    [[], [PupilMark("осв")] * 3, [PupilMark(None), PupilMark("")],
     [PupilMark("5", left=True)], [PupilMark("зач")] * 2],
    ids=["empty", "all-exempt", "no-marks", "all-left", "all-credit"],
)
def test_empty_denominator_gives_none_not_zero_division(marks: list[PupilMark]) -> None:
    s = subject_stats(marks)
    assert s.n == 0
    assert (s.success_pct, s.quality_pct, s.sou, s.average) == (None, None, None, None)


def test_only_not_attested() -> None:
    # N = 2 (н/а is in N): успеваемость 0, качество 0, СОУ = 7·2 / 2 = 7, no numeric mark
    s = subject_stats([PupilMark("н/а"), PupilMark("н/а")])
    assert (s.n, s.success_pct, s.quality_pct, s.sou, s.average) == (2, 0.0, 0.0, 7.0, None)


def test_all_fives() -> None:
    s = subject_stats([PupilMark("5")] * 4)
    assert (s.success_pct, s.quality_pct, s.sou, s.average) == (100.0, 100.0, 100.0, 5.0)


def test_credit_is_not_in_the_denominator() -> None:
    # N = 2 (the two numeric marks): успеваемость (1)·100/2 = 50
    s = subject_stats([PupilMark("зач"), PupilMark("4"), PupilMark("2")])
    assert (s.n, s.n_credit, s.success_pct) == (2, 1, 50.0)


def test_marks_are_normalised_and_one_is_unsatisfactory() -> None:
    s = subject_stats([PupilMark(" 5 "), PupilMark("Н/А"), PupilMark("1")])
    assert (s.n5, s.n_na, s.n2, s.n) == (1, 1, 1, 3)


@pytest.mark.parametrize("bad", ["отл", "6", "5/4", "н"])
def test_unknown_period_mark_is_rejected(bad: str) -> None:
    with pytest.raises(ValueError, match="not a period mark"):
        subject_stats([PupilMark(bad)])


def test_school_aggregation_sums_counts_then_recomputes() -> None:
    other = subject_stats([PupilMark("5"), PupilMark("5"), PupilMark("2")])
    school = total([subject_stats(CLASS_7B), other])
    # n5 = 7, n4 = 10, n3 = 7, n2 = 2, n_na = 1 → N = 27
    # успеваемость = 24·100/27 = 88.888…; качество = 17·100/27 = 62.962…
    # СОУ = (700 + 640 + 252 + 32 + 7) / 27 = 1631 / 27 = 60.407…
    assert (school.n, school.n5, school.n2, school.n_left, school.n_exempt) == (27, 7, 2, 1, 1)
    assert school.success_pct == pytest.approx(88.8889, abs=1e-4)
    assert school.quality_pct == pytest.approx(62.9630, abs=1e-4)
    assert school.sou == pytest.approx(60.4074, abs=1e-4)
    # average of 88 + 12 = 100 points over 26 numeric marks = 3.846…
    assert school.average == pytest.approx(100 / 26)
    assert total([]) == SubjectStats()


# --------------------------------------------------------------------------- pupil categories

#          math  rus   phys  pe     category
TABLE = [
    ("p01", ("5", "5", "5", "5"), False),  # отличник
    ("p02", ("5", "5", "5", "осв"), False),  # отличник (exempt in PE: judged on the others)
    ("p03", ("4", "5", "5", "5"), False),  # хорошист, one 4
    ("p04", ("4", "4", "5", "5"), False),  # хорошист
    ("p05", ("3", "4", "5", "5"), False),  # с одной 3
    ("p06", ("3", "3", "4", "5"), False),  # two 3s: no category
    ("p07", ("2", "5", "5", "5"), False),  # неуспевающий
    ("p08", ("н/а", "4", "4", "4"), False),  # не аттестован
    ("p09", ("2", "н/а", "3", "3"), False),  # неуспевающий and не аттестован
    ("p10", ("5", "5", "5", "5"), True),  # left: not counted at all
    ("p11", (None, None, "осв", "зач"), False),  # nothing to judge
    ("p12", ("5", "5", "зач", None), False),  # отличник
    ("p13", ("4", "4", "4", "4"), False),  # хорошист, four 4s
]
# pupils 12 (p10 left); judged 11 (all but p11)
# успеваемость = (11 − |{p07, p08, p09}|)·100 / 11 = 800 / 11 = 72.727…
# качество     = (3 отличника + 3 хорошиста)·100 / 11 = 600 / 11 = 54.545…
SUMMARY = class_summary(PupilMarks(pid, marks, left) for pid, marks, left in TABLE)


@pytest.mark.parametrize(
    ("category", "expected"),
    [
        ("excellent", ("p01", "p02", "p12")),
        ("good", ("p03", "p04", "p13")),
        ("one_four", ("p03",)),
        ("one_three", ("p05",)),
        ("failing", ("p07", "p09")),
        ("not_attested", ("p08", "p09")),
    ],
)
def test_class_categories(category: str, expected: tuple[str, ...]) -> None:
    assert getattr(SUMMARY, category) == expected


def test_class_totals() -> None:
    assert (SUMMARY.pupils, SUMMARY.left, len(SUMMARY.judged)) == (12, 1, 11)
    assert "p11" not in SUMMARY.judged
    assert SUMMARY.success_pct == pytest.approx(72.7273, abs=1e-4)
    assert SUMMARY.quality_pct == pytest.approx(54.5455, abs=1e-4)


def test_subject_column_of_the_table() -> None:
    # math: 5 p01 p02 p12; 4 p03 p04 p13; 3 p05 p06; 2 p07 p09; н/а p08; p10 left; p11 none
    math = subject_stats(PupilMark(marks[0], left) for _, marks, left in TABLE)
    assert (math.n5, math.n4, math.n3, math.n2, math.n_na, math.n) == (3, 3, 2, 2, 1, 11)
    assert (math.n_left, math.n_no_mark) == (1, 1)


def test_school_summary_adds_classes() -> None:
    other = class_summary([PupilMarks("q1", ("5", "5")), PupilMarks("q2", ("3", "5"))])
    school = total_classes([SUMMARY, other])
    assert (school.pupils, school.left, len(school.judged)) == (14, 1, 13)
    assert school.excellent == ("p01", "p02", "p12", "q1")
    assert school.one_three == ("p05", "q2")
    # (13 − 3)·100 / 13 = 76.92…; (4 + 3)·100 / 13 = 53.84…
    assert school.success_pct == pytest.approx(1000 / 13)
    assert school.quality_pct == pytest.approx(700 / 13)
    assert total_classes([]) == ClassSummary()


def test_empty_class_has_no_percentages() -> None:
    summary = class_summary([PupilMarks("x", (None, "осв"))])
    assert (summary.pupils, summary.judged, summary.success_pct, summary.quality_pct) == (
        1, (), None, None)


# --------------------------------------------------------------------------- attendance

B, U, N = AbsenceReason.ILLNESS, AbsenceReason.EXCUSED, AbsenceReason.UNEXCUSED
MON, TUE, WED, THU = (date(2026, 9, d) for d in (7, 8, 9, 10))
LESSONS = [
    # Monday: ill, all 3 lessons missed → a whole day missed by illness
    *[LessonAttendance(MON, absent=True, reason=B)] * 3,
    # Tuesday: 1 excused absence, 1 late, 2 present
    LessonAttendance(TUE, absent=True, reason=U), LessonAttendance(TUE),
    LessonAttendance(TUE, late=True), LessonAttendance(TUE),
    # Wednesday: both lessons missed, no reason yet → a whole day, not illness
    *[LessonAttendance(WED, absent=True)] * 2,
    # Thursday: 1 unexcused absence, 2 present
    LessonAttendance(THU, absent=True, reason=N), LessonAttendance(THU), LessonAttendance(THU),
]
# scheduled 3 + 4 + 2 + 3 = 12; missed 3 + 1 + 2 + 1 = 7 (б 3, у 1, н 1, no reason 2); late 1;
# days missed 2 (Mon, Wed), by illness 1; attended (12 − 7)·100 / 12 = 41.666…


def test_attendance_of_a_hand_computed_pupil() -> None:
    s = attendance_summary(LESSONS)
    assert s == AttendanceSummary(
        scheduled=12, missed=7, illness=3, excused=1, unexcused=1, no_reason=2, late=1,
        days_missed=2, days_missed_illness=1,
    )
    assert s.attended_pct == pytest.approx(41.6667, abs=1e-4)


def test_attendance_adds_up_for_a_class() -> None:
    other = attendance_summary([LessonAttendance(MON), LessonAttendance(MON, late=True)])
    both = attendance_summary(LESSONS) + other
    # 14 scheduled, 7 missed → 50 %; lates 1 + 1
    assert (both.scheduled, both.missed, both.late, both.days_missed) == (14, 7, 2, 2)
    assert both.attended_pct == 50.0


def test_attendance_with_nothing_scheduled() -> None:
    assert attendance_summary([]).attended_pct is None


def test_late_and_absent_counts_as_absent_only() -> None:
    s = attendance_summary([LessonAttendance(MON, absent=True, late=True, reason=U)])
    assert (s.missed, s.excused, s.late) == (1, 1, 0)
