"""Lock policy (DESIGN.md "Lock model", R6–R8): when each kind of cell accepts edits.

Every cell kind has a window ``[opens, closes)`` in the school's time zone:

- MARK: from 00:00 of the lesson day (never in advance) to ``lock.day_end`` of the lesson day plus
  the work type's grace days for the grade (checking norms for written work);
- LESSON_INFO (topic, homework, work type): the lesson day only, whatever the grace;
- PERIOD_MARK: from 00:00 ``period_mark_open_before_days`` before the period end to ``day_end``
  ``period_mark_open_after_days`` after it;
- ABSENCE_REASON: from the day itself to ``day_end`` ``absence_reason_open_days`` later.

Grace days are calendar days. A ``day_end`` of 00:00 means the end of the day (24:00). Instants are
compared in UTC, so DST transitions in zones that have them are handled by ``zoneinfo``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from rules.model import CellKind, Lesson, Period, Policies


@dataclass(frozen=True, slots=True)
class LockState:
    """Whether a cell is open at ``now``. ``opens`` is the future moment it opens (None once its
    window has started); ``closes`` is the end of its window (in the past once it is locked)."""

    open: bool
    opens: datetime | None
    closes: datetime


def lock_window(
    kind: CellKind,
    *,
    tz: tzinfo,
    policy: Policies,
    grade: int,
    lesson_day: date | None = None,
    work_type: str | None = None,
    period: Period | None = None,
) -> tuple[datetime, datetime]:
    """The window ``[opens, closes)`` of a cell, as tz-aware datetimes in ``tz``.

    ``lesson_day`` is required for MARK, LESSON_INFO and ABSENCE_REASON (the day of the absence),
    ``period`` for PERIOD_MARK; an unknown ``work_type`` code has no grace.
    """
    lock = policy.lock
    if kind is CellKind.PERIOD_MARK:
        if period is None:
            raise ValueError("a period mark's lock needs the period")
        first = period.end - timedelta(days=lock.period_mark_open_before_days)
        last = period.end + timedelta(days=lock.period_mark_open_after_days)
    else:
        if lesson_day is None:
            raise ValueError(f"a {kind.value} cell's lock needs the lesson day")
        first = lesson_day
        if kind is CellKind.MARK:
            found = policy.work_type(work_type) if work_type else None
            last = lesson_day + timedelta(days=found.grace_days(grade) if found else 0)
        elif kind is CellKind.ABSENCE_REASON:
            last = lesson_day + timedelta(days=lock.absence_reason_open_days)
        else:
            last = lesson_day
    return _at(first, time(0, 0), tz), _day_end(last, lock.day_end, tz)


def lock_state(
    kind: CellKind,
    *,
    now: datetime,
    tz: tzinfo,
    policy: Policies,
    grade: int,
    lesson_day: date | None = None,
    work_type: str | None = None,
    period: Period | None = None,
) -> LockState:
    """Whether a cell of ``kind`` is open at ``now`` (tz-aware; naive raises ValueError) and until
    when. Example: a control work on Monday in grade 7 with a 7-day grace is open until the next
    Monday at ``day_end``; its topic locks on Monday at ``day_end``."""
    instant = _utc(now)
    opens, closes = lock_window(
        kind,
        tz=tz,
        policy=policy,
        grade=grade,
        lesson_day=lesson_day,
        work_type=work_type,
        period=period,
    )
    is_open = _utc(opens) <= instant < _utc(closes)
    return LockState(is_open, opens if instant < _utc(opens) else None, closes)


def open_lessons(
    lessons: Iterable[Lesson],
    *,
    now: datetime,
    tz: tzinfo,
    policy: Policies,
    grade: int,
    work_types_by_lesson: Mapping[date, str | None],
) -> list[date]:
    """The lesson days whose MARK cells are open at ``now``, sorted and without repeats; the nightly
    job turns them into the journal's ``unprotectedRanges``."""
    return sorted(
        {
            lesson.day
            for lesson in lessons
            if lock_state(
                CellKind.MARK,
                now=now,
                tz=tz,
                policy=policy,
                grade=grade,
                lesson_day=lesson.day,
                work_type=work_types_by_lesson.get(lesson.day),
            ).open
        }
    )


def next_change(states: Iterable[LockState], *, now: datetime) -> datetime | None:
    """The earliest moment after ``now`` at which any of ``states`` opens or closes (for the
    scheduler), or None when none will change again."""
    instant = _utc(now)
    moments = [
        moment
        for state in states
        for moment in (state.opens, state.closes)
        if moment is not None and _utc(moment) > instant
    ]
    return min(moments, key=_utc, default=None)


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"naive datetime {moment.isoformat()}: pass a tz-aware time")
    return moment.astimezone(UTC)


def _at(day: date, clock: time, tz: tzinfo) -> datetime:
    """``day`` at wall-clock ``clock`` in ``tz``. A wall time skipped by a DST jump is resolved by
    ``zoneinfo`` with the offset before the jump, i.e. it lands just after the gap."""
    return datetime.combine(day, clock, tzinfo=tz)


def _day_end(day: date, clock: time, tz: tzinfo) -> datetime:
    if clock == time(0, 0):
        return _at(day + timedelta(days=1), clock, tz)
    return _at(day, clock, tz)
