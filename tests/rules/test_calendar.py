"""School days, periods and lesson dates (rules/calendar.py).

The test year, autumn 2026 (1 Sep is a Tuesday):

    Mo Tu We Th Fr Sa Su
        1  2  3  4  5  6      1 четверть: 01.09–23.10
     7  8  9 10 11 12 13      Осенние каникулы: 24.10–02.11
    …                         03.11–04.11: school day outside every period, then holiday 04.11
    19 20 21 22 23 24 25      2 четверть: 05.11–30.11
    26 27 28 29 30 31  1      07.11 (Saturday) is an extra school day
     2  3  4  5  6  7  8

Math of 7Б: Tuesday lesson 2 and Thursday lesson 3 (teacher t1). Russian of 7Б: Tuesday lesson 3.
1 четверть: Tuesdays 01.09 … 20.10 (8) + Thursdays 03.09 … 22.10 (8) = 16 lessons.
2 четверть: Tuesdays 10, 17, 24.11 (3) + Thursdays 05, 12, 19, 26.11 (4) = 7 lessons.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, timedelta
from itertools import pairwise

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.calendar import (
    all_lessons,
    check_changes,
    is_school_day,
    lessons,
    period_of,
    school_days,
    week_of,
)
from rules.model import (
    AcademicYear,
    ChangeKind,
    Holiday,
    Period,
    Severity,
    TimetableChange,
    TimetableSlot,
)

P1 = Period("1 четверть", date(2026, 9, 1), date(2026, 10, 23))
P2 = Period("2 четверть", date(2026, 11, 5), date(2026, 11, 30))
AUTUMN = Holiday("Осенние каникулы", date(2026, 10, 24), date(2026, 11, 2))
UNITY = Holiday("День народного единства", date(2026, 11, 4), date(2026, 11, 4))


def make_year(**overrides: object) -> AcademicYear:
    fields: dict[str, object] = {
        "name": "2026/27",
        "start": date(2026, 9, 1),
        "end": date(2026, 11, 30),
        "periods": (P1, P2),
        "holidays": (AUTUMN, UNITY),
        "week_days": 5,
        "extra_school_days": (date(2026, 11, 7),),
    }
    fields.update(overrides)
    return AcademicYear(**fields)  # type: ignore[arg-type]


YEAR = make_year()
SLOTS = (
    TimetableSlot(2, 2, "7Б", "math", "t1"),
    TimetableSlot(4, 3, "7Б", "math", "t1"),
    TimetableSlot(2, 3, "7Б", "rus", "t2"),
)


def change(kind: ChangeKind, day: date, lesson_no: int, **kw: object) -> TimetableChange:
    subject = kw.pop("subject_id", "math")
    return TimetableChange(kind, day, lesson_no, "7Б", subject, **kw)  # type: ignore[arg-type]


def math(*changes: TimetableChange, slots: tuple[TimetableSlot, ...] = SLOTS) -> list:  # type: ignore[type-arg]
    return lessons(YEAR, slots, changes, "7Б", "math")


def days_in(result: list, period: str) -> list[date]:  # type: ignore[type-arg]
    return [lesson.day for lesson in result if lesson.period == period]


# --------------------------------------------------------------------------- school days


@pytest.mark.parametrize(
    ("day", "week_days", "expected"),
    [
        (date(2026, 9, 1), 5, True),  # Tuesday, first day
        (date(2026, 9, 4), 5, True),  # Friday
        (date(2026, 9, 5), 5, False),  # Saturday, 5-day week
        (date(2026, 9, 5), 6, True),  # Saturday, 6-day week
        (date(2026, 9, 6), 6, False),  # Sunday, always off
        (date(2026, 8, 31), 5, False),  # Monday before the year
        (date(2026, 12, 1), 5, False),  # Tuesday after the year
        (date(2026, 10, 26), 5, False),  # Monday in the vacation
        (date(2026, 10, 24), 6, False),  # Saturday in the vacation, 6-day week
        (date(2026, 11, 4), 5, False),  # Wednesday public holiday
        (date(2026, 11, 3), 5, True),  # Tuesday outside every period is still a school day
        (date(2026, 11, 7), 5, True),  # Saturday declared an extra school day
        (date(2026, 11, 14), 5, False),  # an ordinary Saturday
    ],
)
def test_is_school_day(day: date, week_days: int, expected: bool) -> None:
    assert is_school_day(make_year(week_days=week_days), day) is expected


def test_holiday_wins_over_extra_school_day() -> None:
    year = make_year(extra_school_days=(date(2026, 10, 31),))  # a Saturday in the vacation
    assert not is_school_day(year, date(2026, 10, 31))


@pytest.mark.parametrize(
    ("start", "end", "week_days", "expected"),
    [
        # Mon 07.09 – Sun 13.09
        (date(2026, 9, 7), date(2026, 9, 13), 5, [date(2026, 9, d) for d in range(7, 12)]),
        (date(2026, 9, 7), date(2026, 9, 13), 6, [date(2026, 9, d) for d in range(7, 13)]),
        # clamped to the year start (Tue 01.09)
        (date(2026, 8, 1), date(2026, 9, 6), 5, [date(2026, 9, d) for d in range(1, 5)]),
        # 02.11 vacation, 03.11 school, 04.11 holiday, 05–06.11 school, 07.11 extra Saturday
        (
            date(2026, 11, 2),
            date(2026, 11, 8),
            5,
            [date(2026, 11, 3), date(2026, 11, 5), date(2026, 11, 6), date(2026, 11, 7)],
        ),
    ],
)
def test_school_days_range(start: date, end: date, week_days: int, expected: list[date]) -> None:
    assert school_days(make_year(week_days=week_days), start, end) == expected


def test_school_days_whole_year() -> None:
    # Sep: 4+5+5+5+3 = 22; Oct: 2+5+5+5 = 17 (26–30 vacation);
    # Nov: 3, 5, 6, 7 (extra), 9–13, 16–20, 23–27, 30 = 4+5+5+5+1 = 20  → 59
    assert len(school_days(YEAR)) == 59


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (date(2026, 9, 1), P1),
        (date(2026, 10, 23), P1),
        (date(2026, 10, 24), None),
        (date(2026, 11, 3), None),
        (date(2026, 11, 5), P2),
        (date(2026, 11, 30), P2),
        (date(2026, 12, 1), None),
    ],
)
def test_period_of(day: date, expected: Period | None) -> None:
    assert period_of(YEAR, day) == expected


@pytest.mark.parametrize(
    ("day", "monday"),
    [
        (date(2026, 9, 1), date(2026, 8, 31)),
        (date(2026, 9, 6), date(2026, 8, 31)),
        (date(2026, 9, 7), date(2026, 9, 7)),
    ],
)
def test_week_of(day: date, monday: date) -> None:
    assert week_of(day) == (monday, monday + timedelta(days=6))


# --------------------------------------------------------------------------- lessons


def test_regular_lessons_and_numbering() -> None:
    result = math()
    p1, p2 = days_in(result, "1 четверть"), days_in(result, "2 четверть")
    assert len(p1) == 16
    assert p1[:4] == [date(2026, 9, 1), date(2026, 9, 3), date(2026, 9, 8), date(2026, 9, 10)]
    assert p1[-1] == date(2026, 10, 22)
    # 03.11 is a Tuesday outside every period: no lesson; 05.11 opens the second quarter
    assert p2 == [date(2026, 11, d) for d in (5, 10, 12, 17, 19, 24, 26)]
    assert [x.number for x in result] == list(range(1, 17)) + list(range(1, 8))
    assert [x.lesson_no for x in result[:2]] == [2, 3]
    assert {x.teacher_id for x in result} == {"t1"}


def test_cancelled_lesson_is_dropped_and_numbers_close_up() -> None:
    result = math(change(ChangeKind.CANCELLED, date(2026, 9, 8), 2))
    assert date(2026, 9, 8) not in [x.day for x in result]
    assert len(days_in(result, "1 четверть")) == 15
    assert (result[2].day, result[2].number) == (date(2026, 9, 10), 3)


def test_moved_lesson_relocates() -> None:
    moved = change(ChangeKind.MOVED, date(2026, 9, 8), 2, new_day=date(2026, 9, 9), new_lesson_no=5)
    result = math(moved)
    third = result[2]
    assert (third.day, third.lesson_no, third.number, third.teacher_id) == (
        date(2026, 9, 9),
        5,
        3,
        "t1",
    )
    assert date(2026, 9, 8) not in [x.day for x in result]
    assert len(days_in(result, "1 четверть")) == 16


def test_moved_into_next_period_renumbers_both() -> None:
    moved = change(
        ChangeKind.MOVED, date(2026, 10, 22), 3, new_day=date(2026, 11, 6), new_lesson_no=1
    )
    result = math(moved)
    assert len(days_in(result, "1 четверть")) == 15
    p2 = [(x.day, x.number) for x in result if x.period == "2 четверть"]
    assert p2[:3] == [(date(2026, 11, 5), 1), (date(2026, 11, 6), 2), (date(2026, 11, 10), 3)]
    assert len(p2) == 8


def test_extra_lesson_added_with_its_teacher() -> None:
    result = math(change(ChangeKind.EXTRA, date(2026, 9, 11), 6, teacher_id="t9"))
    extra = result[4]  # 01, 03, 08, 10, 11.09
    assert (extra.day, extra.lesson_no, extra.number, extra.teacher_id) == (
        date(2026, 9, 11),
        6,
        5,
        "t9",
    )
    assert len(days_in(result, "1 четверть")) == 17


def test_extra_lesson_without_teacher_takes_the_regular_one() -> None:
    result = math(change(ChangeKind.EXTRA, date(2026, 9, 11), 6))
    assert result[4].teacher_id == "t1"


def test_substitution_keeps_the_slot_and_changes_the_teacher() -> None:
    result = math(change(ChangeKind.MOVED, date(2026, 9, 8), 2, teacher_id="t7"))
    assert [(x.day, x.teacher_id) for x in result[1:4]] == [
        (date(2026, 9, 3), "t1"),
        (date(2026, 9, 8), "t7"),
        (date(2026, 9, 10), "t1"),
    ]


def test_valid_from_and_valid_to() -> None:
    slots = (
        TimetableSlot(2, 2, "7Б", "math", "t1", valid_to=date(2026, 9, 15)),
        TimetableSlot(2, 4, "7Б", "math", "t3", valid_from=date(2026, 9, 16)),
    )
    result = math(slots=slots)
    assert [(x.day, x.lesson_no, x.teacher_id) for x in result[:4]] == [
        (date(2026, 9, 1), 2, "t1"),
        (date(2026, 9, 8), 2, "t1"),
        (date(2026, 9, 15), 2, "t1"),
        (date(2026, 9, 22), 4, "t3"),
    ]


def test_group_split_is_one_lesson() -> None:
    slots = (TimetableSlot(2, 2, "7Б", "math", "t1"), TimetableSlot(2, 2, "7Б", "math", "t3"))
    result = math(slots=slots)
    assert len(result) == 8 + 3  # Tuesdays only
    assert {x.teacher_id for x in result} == {"t1"}


@pytest.mark.parametrize("week_days", [5, 6])
def test_saturday_slot_only_on_school_saturdays(week_days: int) -> None:
    year = make_year(week_days=week_days)
    slots = (TimetableSlot(6, 1, "7Б", "math", "t1"),)
    days = [x.day for x in lessons(year, slots, (), "7Б", "math")]
    if week_days == 5:
        assert days == [date(2026, 11, 7)]  # the extra school day only
    else:
        # Saturdays 05.09 … 17.10 in P1 (7), 07.11 … 28.11 in P2 (4); 24.10 and 31.10 vacation
        assert len(days) == 11
        assert days[0] == date(2026, 9, 5) and days[-1] == date(2026, 11, 28)


@pytest.mark.parametrize(
    "bad",
    [
        change(ChangeKind.MOVED, date(2026, 9, 8), 2, new_day=date(2026, 11, 4)),  # holiday
        change(ChangeKind.MOVED, date(2026, 9, 8), 2, new_day=date(2026, 9, 13)),  # Sunday
        change(ChangeKind.MOVED, date(2026, 9, 8), 2, new_day=date(2026, 11, 3)),  # no period
        change(ChangeKind.MOVED, date(2026, 9, 8), 2, new_day=date(2026, 9, 10), new_lesson_no=3),
        change(ChangeKind.MOVED, date(2026, 9, 8), 2),  # nowhere, no substitute
        change(ChangeKind.CANCELLED, date(2026, 9, 9), 2),  # Wednesday: no math slot
        change(ChangeKind.CANCELLED, date(2026, 10, 27), 2),  # Tuesday in the vacation
        change(ChangeKind.EXTRA, date(2026, 9, 13), 1),  # Sunday
        change(ChangeKind.EXTRA, date(2026, 9, 8), 2),  # math already there
    ],
    ids=[
        "to-holiday",
        "to-sunday",
        "to-no-period",
        "onto-math",
        "nowhere",
        "no-slot",
        "cancel-in-vacation",
        "extra-sunday",
        "extra-duplicate",
    ],
)
def test_change_that_cannot_apply_is_ignored_and_reported(bad: TimetableChange) -> None:
    assert math(bad) == math()
    problems = check_changes(YEAR, SLOTS, [bad])
    assert [(p.index, p.severity) for p in problems] == [(0, Severity.ERROR)]
    assert f"{bad.day.isoformat()} lesson {bad.lesson_no}" in problems[0].message
    assert bad.kind.value in str(problems[0])


@pytest.mark.parametrize(
    ("bad", "words"),
    [
        (
            change(ChangeKind.MOVED, date(2026, 9, 8), 2, new_day=date(2026, 11, 4)),
            "holiday «День народного единства»",
        ),
        (change(ChangeKind.EXTRA, date(2026, 9, 13), 1), "not a school day (Sunday)"),
        (change(ChangeKind.EXTRA, date(2026, 11, 3), 1), "outside every study period"),
        (change(ChangeKind.EXTRA, date(2027, 1, 12), 1), "outside the academic year"),
        (change(ChangeKind.CANCELLED, date(2026, 9, 9), 2), "no regular lesson"),
        (change(ChangeKind.EXTRA, date(2026, 9, 8), 2), "already has this subject"),
        (change(ChangeKind.EXTRA, date(2026, 9, 8), 0), "not positive"),
    ],
)
def test_check_changes_explains(bad: TimetableChange, words: str) -> None:
    (problem,) = check_changes(YEAR, SLOTS, [bad])
    assert words in problem.message


def test_second_change_of_the_same_lesson_is_reported() -> None:
    first = change(ChangeKind.CANCELLED, date(2026, 9, 8), 2)
    second = change(ChangeKind.MOVED, date(2026, 9, 8), 2, new_day=date(2026, 9, 9))
    problems = check_changes(YEAR, SLOTS, [first, second])
    assert [(p.index, p.severity) for p in problems] == [(1, Severity.ERROR)]
    assert "already cancelled or moved" in problems[0].message
    assert math(first, second) == math(first)


def test_moving_into_a_slot_freed_by_another_change_is_fine() -> None:
    cancel = change(ChangeKind.CANCELLED, date(2026, 9, 10), 3)
    move = change(ChangeKind.MOVED, date(2026, 9, 8), 2, new_day=date(2026, 9, 10), new_lesson_no=3)
    assert check_changes(YEAR, SLOTS, [move, cancel]) == []
    days = [x.day for x in math(move, cancel)][:3]
    assert days == [date(2026, 9, 1), date(2026, 9, 3), date(2026, 9, 10)]


def test_extra_lesson_in_another_subjects_slot_is_a_warning_and_applies() -> None:
    extra = change(ChangeKind.EXTRA, date(2026, 9, 8), 3)  # Russian's slot
    (problem,) = check_changes(YEAR, SLOTS, [extra])
    assert problem.severity is Severity.WARNING
    assert "rus" in problem.message
    assert (date(2026, 9, 8), 3) in [(x.day, x.lesson_no) for x in math(extra)]


def test_valid_changes_report_nothing() -> None:
    good = [
        change(ChangeKind.CANCELLED, date(2026, 9, 1), 2),
        change(ChangeKind.MOVED, date(2026, 9, 3), 3, new_day=date(2026, 9, 4)),
        change(ChangeKind.EXTRA, date(2026, 11, 7), 1, teacher_id="t1"),
    ]
    assert check_changes(YEAR, SLOTS, good) == []


def test_all_lessons_keys_and_agreement() -> None:
    changes = [
        change(ChangeKind.EXTRA, date(2026, 9, 11), 6),
        change(ChangeKind.CANCELLED, date(2026, 9, 8), 3, subject_id="rus"),
    ]
    school = all_lessons(YEAR, SLOTS, changes)
    assert set(school) == {("7Б", "math"), ("7Б", "rus")}
    assert school[("7Б", "math")] == lessons(YEAR, SLOTS, changes, "7Б", "math")
    assert len(school[("7Б", "rus")]) == 8 - 1 + 3
    assert lessons(YEAR, SLOTS, changes, "7Б", "phys") == []


# --------------------------------------------------------------------------- properties

CLASSES = ("5А", "7Б")
SUBJECTS = ("math", "rus")


@st.composite
def school(draw: st.DrawFn) -> tuple[AcademicYear, list[TimetableSlot], list[TimetableChange]]:
    start = date(2026, 9, 1) + timedelta(days=draw(st.integers(0, 6)))
    length = draw(st.integers(7, 70))
    end = start + timedelta(days=length)
    cuts = sorted(draw(st.lists(st.integers(1, length - 1), min_size=1, max_size=5, unique=True)))
    bounds = [0, *cuts, length + 1]
    periods = tuple(
        Period(f"P{i}", start + timedelta(a), start + timedelta(b - 2 if b - 2 >= a else a))
        for i, (a, b) in enumerate(pairwise(bounds))
    )  # a one-day gap between periods, like a vacation day
    offsets = st.integers(0, length)
    holidays = tuple(
        Holiday(f"H{i}", start + timedelta(a), start + timedelta(a + n))
        for i, (a, n) in enumerate(
            draw(st.lists(st.tuples(offsets, st.integers(0, 4)), max_size=3))
        )
    )
    extra = tuple(start + timedelta(o) for o in draw(st.lists(offsets, max_size=3)))
    year = AcademicYear(
        "Y", start, end, periods, holidays, draw(st.sampled_from([5, 6])), extra_school_days=extra
    )
    day = st.builds(lambda o: start + timedelta(o), st.integers(-3, length + 3))
    slot = st.builds(
        TimetableSlot,
        st.integers(1, 7),
        st.integers(1, 4),
        st.sampled_from(CLASSES),
        st.sampled_from(SUBJECTS),
        st.sampled_from(["t1", "t2"]),
        st.none() | day,
        st.none() | day,
    )
    slots = draw(st.lists(slot, max_size=8))
    chg = st.builds(
        TimetableChange,
        st.sampled_from(list(ChangeKind)),
        day,
        st.integers(1, 4),
        st.sampled_from(CLASSES),
        st.sampled_from(SUBJECTS),
        st.none() | st.just("t9"),
        st.none() | day,
        st.none() | st.integers(1, 4),
    )
    if slots:  # half of the changes hit a real lesson, so that many of them apply
        chg = chg | st.builds(
            _change_of,
            st.sampled_from(slots),
            st.integers(0, length // 7),
            st.sampled_from(list(ChangeKind)),
            st.none() | day,
            st.none() | st.integers(1, 4),
            st.just(start),
        )
    return year, slots, draw(st.lists(chg, max_size=6))


def _change_of(
    slot: TimetableSlot,
    week: int,
    kind: ChangeKind,
    new_day: date | None,
    new_no: int | None,
    start: date,
) -> TimetableChange:
    day = start + timedelta(days=(slot.weekday - start.isoweekday()) % 7 + 7 * week)
    return TimetableChange(
        kind,
        day,
        slot.lesson_no,
        slot.class_id,
        slot.subject_id,
        new_day=new_day,
        new_lesson_no=new_no,
    )


@settings(max_examples=300, deadline=None)
@given(school())
def test_properties_of_lessons(
    data: tuple[AcademicYear, list[TimetableSlot], list[TimetableChange]],
) -> None:
    year, slots, changes = data
    everything = all_lessons(year, slots, changes)
    for (class_id, subject_id), held in everything.items():
        assert held == lessons(year, slots, changes, class_id, subject_id)
        assert held == sorted(held, key=lambda x: (x.day, x.lesson_no))
        assert len({(x.day, x.lesson_no) for x in held}) == len(held)
        for x in held:
            assert is_school_day(year, x.day)  # never on a holiday or a day off
            period = period_of(year, x.day)
            assert period is not None and period.name == x.period
        per_period = Counter(x.period for x in held)
        for name, count in per_period.items():
            assert [x.number for x in held if x.period == name] == list(range(1, count + 1))
    # a change that check_changes calls an ERROR is ignored: the result is as if it were left out
    problems = check_changes(year, slots, changes)
    errors = {p.index for p in problems if p.severity is Severity.ERROR}
    kept = [c for i, c in enumerate(changes) if i not in errors]
    assert all_lessons(year, slots, kept) == everything
    assert [p for p in check_changes(year, slots, kept) if p.severity is Severity.ERROR] == []


@settings(max_examples=300, deadline=None)
@given(school())
def test_without_changes_matches_brute_force(
    data: tuple[AcademicYear, list[TimetableSlot], list[TimetableChange]],
) -> None:
    year, slots, _ = data
    expected: dict[tuple[str, str], set[tuple[date, int]]] = {}
    day = year.start
    while day <= year.end:
        in_period = any(p.start <= day <= p.end for p in year.periods)
        off = any(h.start <= day <= h.end for h in year.holidays)
        working = day.isoweekday() <= year.week_days or day in year.extra_school_days
        if in_period and working and not off:
            for s in slots:
                valid = (s.valid_from or day) <= day <= (s.valid_to or day)
                if s.weekday == day.isoweekday() and valid:
                    expected.setdefault((s.class_id, s.subject_id), set()).add((day, s.lesson_no))
        day += timedelta(days=1)
    got = {k: {(x.day, x.lesson_no) for x in v} for k, v in all_lessons(year, slots, []).items()}
    assert got == expected


# --------------------------------------------------------------------------- transfers (перенос)


def test_a_working_saturday_on_another_weekdays_timetable() -> None:
    """Saturday 26.09.2026 works on Tuesday's timetable: 7Б has its Tuesday math (lesson 2) and
    Russian (lesson 3) that day, and nothing of Thursday's; its own Saturday would have none."""
    saturday = date(2026, 9, 26)
    year = make_year(transfers=((saturday, 2),))
    assert is_school_day(year, saturday) and not is_school_day(YEAR, saturday)
    moved = lessons(year, SLOTS, (), "7Б", "math")
    plain = lessons(YEAR, SLOTS, (), "7Б", "math")
    assert [(x.day, x.lesson_no) for x in moved if x.day == saturday] == [(saturday, 2)]
    assert {(x.day, x.lesson_no) for x in moved} - {(x.day, x.lesson_no) for x in plain} == {
        (saturday, 2)}
    assert [x.lesson_no for x in lessons(year, SLOTS, (), "7Б", "rus") if x.day == saturday] == [3]
    numbers = [x.number for x in moved if x.period == P1.name]
    assert numbers == list(range(1, len(numbers) + 1))  # numbered on within the quarter
