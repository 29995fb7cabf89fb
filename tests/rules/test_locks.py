"""Lock windows per cell kind (rules/locks.py).

Policy under test: day_end 23:59; period marks open 7 days before to 3 days after the period end;
absence reasons 7 days. Work type "control": grace 7 days in grades 5–9, 10 days in grades 10–11;
"answer": no grace. Tuesday 08.09.2026 is the lesson day unless a test says otherwise.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from rules.locks import LockState, lock_state, lock_window, next_change, open_lessons
from rules.model import CellKind, GracePeriod, Lesson, LockPolicy, Period, Policies, WorkType

MSK = ZoneInfo("Europe/Moscow")
BERLIN = ZoneInfo("Europe/Berlin")
CONTROL = WorkType(
    "control", "Контрольная работа", 2.0, (GracePeriod(5, 9, 7), GracePeriod(10, 11, 10))
)
POLICY = Policies(work_types=(CONTROL, WorkType("answer", "Ответ на уроке")))
DAY = date(2026, 9, 8)
QUARTER = Period("1 четверть", date(2026, 9, 1), date(2026, 10, 23))


def msk(month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, second, tzinfo=MSK)


def state(kind: CellKind, now: datetime, *, grade: int = 7, **kw: object) -> LockState:
    kw.setdefault("lesson_day", DAY if kind is not CellKind.PERIOD_MARK else None)
    return lock_state(
        kind, now=now, tz=MSK, policy=POLICY, grade=grade, **kw  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("now", "is_open"),
    [
        (msk(9, 7, 23, 59, 59), False),  # the evening before: no entries in advance
        (msk(9, 8, 0, 0), True),  # from midnight of the lesson day
        (msk(9, 8, 14, 30), True),
        (msk(9, 8, 23, 58, 59), True),
        (msk(9, 8, 23, 59), False),  # exactly day_end: locked
        (msk(9, 9, 8, 0), False),
    ],
)
def test_mark_without_grace(now: datetime, is_open: bool) -> None:
    result = state(CellKind.MARK, now, work_type="answer")
    assert result.open is is_open
    assert result.closes == msk(9, 8, 23, 59)
    assert result.opens == (msk(9, 8) if now < msk(9, 8) else None)


@pytest.mark.parametrize(
    ("grade", "closes"),
    [
        (4, msk(9, 8, 23, 59)),  # primary: no band → no grace
        (5, msk(9, 15, 23, 59)),  # 08.09 + 7 days
        (9, msk(9, 15, 23, 59)),
        (10, msk(9, 18, 23, 59)),  # 08.09 + 10 days
        (11, msk(9, 18, 23, 59)),
    ],
)
def test_mark_grace_per_grade_band(grade: int, closes: datetime) -> None:
    assert state(CellKind.MARK, msk(9, 8, 12), grade=grade, work_type="control").closes == closes
    minute = timedelta(minutes=1)
    assert state(CellKind.MARK, closes - minute, grade=grade, work_type="control").open
    assert not state(CellKind.MARK, closes, grade=grade, work_type="control").open


def test_mark_grace_does_not_open_before_the_lesson() -> None:
    result = state(CellKind.MARK, msk(9, 7, 12), work_type="control")
    assert (result.open, result.opens) == (False, msk(9, 8))


@pytest.mark.parametrize("work_type", [None, "unknown-code"])
def test_mark_unknown_or_missing_work_type_has_no_grace(work_type: str | None) -> None:
    assert state(CellKind.MARK, msk(9, 8, 12), work_type=work_type).closes == msk(9, 8, 23, 59)


@pytest.mark.parametrize(("now", "is_open"), [(msk(9, 8, 23, 58), True), (msk(9, 8, 23, 59), False),
                                               (msk(9, 10, 12), False)])
def test_lesson_info_locks_at_day_end_whatever_the_grace(now: datetime, is_open: bool) -> None:
    result = state(CellKind.LESSON_INFO, now, work_type="control")
    assert (result.open, result.closes) == (is_open, msk(9, 8, 23, 59))


@pytest.mark.parametrize(
    ("now", "is_open"),
    [
        (msk(10, 15, 23, 59, 59), False),  # 23.10 − 7 days = 16.10
        (msk(10, 16, 0, 0), True),
        (msk(10, 23, 12), True),
        (msk(10, 26, 23, 58), True),  # 23.10 + 3 days = 26.10
        (msk(10, 26, 23, 59), False),
    ],
)
def test_period_mark_window(now: datetime, is_open: bool) -> None:
    result = state(CellKind.PERIOD_MARK, now, period=QUARTER)
    assert (result.open, result.closes) == (is_open, msk(10, 26, 23, 59))
    assert result.opens == (msk(10, 16) if not is_open and now < msk(10, 16) else None)


@pytest.mark.parametrize(
    ("now", "is_open"),
    [(msk(9, 7, 18), False), (msk(9, 8, 9), True), (msk(9, 15, 23, 58), True),
     (msk(9, 15, 23, 59), False)],
)
def test_absence_reason_window(now: datetime, is_open: bool) -> None:
    result = state(CellKind.ABSENCE_REASON, now)
    assert (result.open, result.closes) == (is_open, msk(9, 15, 23, 59))


def test_policy_values_are_used() -> None:
    policy = Policies(lock=LockPolicy(day_end=time(20, 0),
                                      period_mark_open_before_days=2,
                                      period_mark_open_after_days=0, absence_reason_open_days=1))
    opens, closes = lock_window(CellKind.PERIOD_MARK, tz=MSK, policy=policy, grade=7,
                                period=QUARTER)
    assert (opens, closes) == (msk(10, 21), msk(10, 23, 20))
    _, closes = lock_window(CellKind.ABSENCE_REASON, tz=MSK, policy=policy, grade=7,
                            lesson_day=DAY)
    assert closes == msk(9, 9, 20)


def test_day_end_midnight_means_end_of_day() -> None:
    policy = Policies(lock=LockPolicy(day_end=time(0, 0)))
    _, closes = lock_window(CellKind.LESSON_INFO, tz=MSK, policy=policy, grade=7, lesson_day=DAY)
    assert closes == msk(9, 9, 0, 0)


@pytest.mark.parametrize(
    ("now", "is_open"),
    [(datetime(2026, 9, 8, 20, 58, tzinfo=UTC), True),  # 23:58 in Moscow (UTC+3)
     (datetime(2026, 9, 8, 20, 59, tzinfo=UTC), False),
     (datetime(2026, 9, 7, 21, 0, tzinfo=UTC), True)],  # 00:00 in Moscow
)
def test_now_in_another_zone_is_the_same_instant(now: datetime, is_open: bool) -> None:
    assert state(CellKind.MARK, now).open is is_open


def test_naive_now_is_rejected() -> None:
    with pytest.raises(ValueError, match="naive"):
        state(CellKind.MARK, datetime(2026, 9, 8, 12))  # noqa: DTZ001 - the point of the test


@pytest.mark.parametrize("kind", [CellKind.MARK, CellKind.LESSON_INFO, CellKind.ABSENCE_REASON])
def test_missing_lesson_day_is_rejected(kind: CellKind) -> None:
    with pytest.raises(ValueError, match="lesson day"):
        lock_state(kind, now=msk(9, 8), tz=MSK, policy=POLICY, grade=7)


def test_missing_period_is_rejected() -> None:
    with pytest.raises(ValueError, match="period"):
        lock_state(CellKind.PERIOD_MARK, now=msk(9, 8), tz=MSK, policy=POLICY, grade=7)


# --------------------------------------------------------------------------- DST (Europe/Berlin)


@pytest.mark.parametrize(
    ("day", "utc_end", "length"),
    [
        # 28.03.2027: clocks jump 02:00 → 03:00; CEST = UTC+2 → 23:59 is 21:59 UTC; 22 h 59 min long
        (date(2027, 3, 28), datetime(2027, 3, 28, 21, 59, tzinfo=UTC), timedelta(minutes=1379)),
        # 25.10.2026: clocks fall back 03:00 → 02:00; CET = UTC+1 → 22:59 UTC; 24 h 59 min long
        (date(2026, 10, 25), datetime(2026, 10, 25, 22, 59, tzinfo=UTC), timedelta(minutes=1499)),
        # an ordinary summer day: 23:59 CEST = 21:59 UTC, 23 h 59 min
        (date(2026, 9, 8), datetime(2026, 9, 8, 21, 59, tzinfo=UTC), timedelta(minutes=1439)),
    ],
)
def test_dst_days_in_berlin(day: date, utc_end: datetime, length: timedelta) -> None:
    opens, closes = lock_window(CellKind.LESSON_INFO, tz=BERLIN, policy=POLICY, grade=7,
                                lesson_day=day)
    assert closes.astimezone(UTC) == utc_end
    assert closes.astimezone(UTC) - opens.astimezone(UTC) == length


def test_grace_across_spring_forward_keeps_wall_clock_day_end() -> None:
    # control on Fri 26.03.2027 (CET, UTC+1), 7 days' grace → Fri 02.04.2027 23:59 CEST (UTC+2)
    def at(utc: datetime) -> bool:
        return lock_state(CellKind.MARK, now=utc, tz=BERLIN, policy=POLICY, grade=7,
                          lesson_day=date(2027, 3, 26), work_type="control").open

    assert at(datetime(2027, 4, 2, 21, 58, tzinfo=UTC))
    assert not at(datetime(2027, 4, 2, 21, 59, tzinfo=UTC))
    assert at(datetime(2027, 3, 25, 23, 0, tzinfo=UTC))  # 00:00 CET on the lesson day
    assert not at(datetime(2027, 3, 25, 22, 59, tzinfo=UTC))


# --------------------------------------------------------------------------- open lessons


def lesson(day: int) -> Lesson:
    return Lesson("7Б", "math", date(2026, 9, day), 2, "1 четверть", day, "t1")


def test_open_lessons_for_the_nightly_job() -> None:
    plan = [lesson(d) for d in (1, 3, 8, 10, 15)]
    work = {date(2026, 9, 1): "control", date(2026, 9, 8): "control", date(2026, 9, 3): None}

    def open_at(now: datetime, grade: int) -> list[date]:
        return open_lessons(plan, now=now, tz=MSK, policy=POLICY, grade=grade,
                            work_types_by_lesson=work)

    # 10.09 noon: 01.09 control closed 08.09; 03.09 closed; 08.09 control open to 15.09; 10.09 today
    assert open_at(msk(9, 10, 12), 7) == [date(2026, 9, 8), date(2026, 9, 10)]
    # same moment in grade 3: no grace band → only today
    assert open_at(msk(9, 10, 12), 3) == [date(2026, 9, 10)]
    # 15.09 at 23:59: everything locked, including the control of 08.09 and today's lesson
    assert open_at(msk(9, 15, 23, 59), 7) == []


def test_next_change() -> None:
    now = msk(9, 10, 12)
    states = [
        state(CellKind.MARK, now, lesson_day=date(2026, 9, 10)),  # closes 10.09 23:59
        state(CellKind.MARK, now, lesson_day=date(2026, 9, 15)),  # opens 15.09 00:00
        state(CellKind.MARK, now, lesson_day=date(2026, 9, 8), work_type="control"),  # 15.09 23:59
        state(CellKind.MARK, now, lesson_day=date(2026, 9, 1)),  # long closed
    ]
    assert next_change(states, now=now) == msk(9, 10, 23, 59)
    assert next_change(states, now=msk(9, 11)) == msk(9, 15)
    assert next_change(states, now=msk(9, 15, 12)) == msk(9, 15, 23, 59)
    assert next_change(states, now=msk(9, 16)) is None


# --------------------------------------------------------------------------- properties

ZONES = [MSK, BERLIN, ZoneInfo("America/New_York"), ZoneInfo("Australia/Sydney"), UTC]


@settings(max_examples=300, deadline=None)
@given(
    st.dates(date(2026, 1, 1), date(2027, 12, 31)),
    st.integers(-3 * 24 * 60, 20 * 24 * 60),
    st.sampled_from(ZONES),
    st.integers(1, 11),
    st.sampled_from(["control", "answer", None]),
)
def test_lock_properties(day: date, minutes: int, tz: ZoneInfo, grade: int,
                         work_type: str | None) -> None:
    now = (datetime.combine(day, time(0, 0), tzinfo=tz) + timedelta(minutes=minutes))
    kw = {"now": now, "tz": tz, "policy": POLICY, "grade": grade, "lesson_day": day,
          "work_type": work_type}
    mark = lock_state(CellKind.MARK, **kw)  # type: ignore[arg-type]
    info = lock_state(CellKind.LESSON_INFO, **kw)  # type: ignore[arg-type]
    opens, closes = lock_window(CellKind.MARK, tz=tz, policy=POLICY, grade=grade, lesson_day=day,
                                work_type=work_type)
    assert mark.open is (opens <= now < closes)
    assert (mark.opens is None) is (now >= opens)
    assert closes.astimezone(UTC).astimezone(tz).time() == time(23, 59)  # wall clock, any DST
    assert info.closes <= mark.closes  # topic and homework never outlast the marks
    assert info.open <= mark.open  # an open lesson row implies an open mark column
    assert not mark.open or now.astimezone(tz).date() >= day  # never in advance
