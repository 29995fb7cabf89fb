"""Builders shared by the ledger tests: fixed times, cells, a realistic little history."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sync.ledger.ledger import Ledger
from sync.ledger.model import EntryInput, LessonInput

MSK = ZoneInfo("Europe/Moscow")
JOURNAL = "7Б/math"
DAY = date(2026, 9, 8)  # a Tuesday of the first quarter


def at(day: date = DAY, hour: int = 10, minute: int = 0) -> datetime:
    """A tz-aware school time."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=MSK)


def cell(
    pupil: str,
    value: str,
    *,
    day: date = DAY,
    lesson_no: int = 1,
    raw: str | None = None,
    kind: str | None = None,
) -> EntryInput:
    """A validated mark cell; kind follows the value ("н" absent, "" empty, else mark)."""
    if kind is None:
        kind = {"н": "absent", "": "empty", "оп": "late", "•": "owed"}.get(value, "mark")
    return EntryInput(pupil, day, lesson_no, value if raw is None else raw, value, kind)


def lesson(day: date = DAY, lesson_no: int = 1, **facts: str) -> LessonInput:
    return LessonInput(day, lesson_no, period=facts.pop("period", "1 четверть"), **facts)


def build_history(ledger: Ledger, events: int) -> int:
    """Realistic activity until the audit log holds at least ``events`` events (lessons, marks,
    changes, locks; one transaction per school day); returns the number of events."""
    pupils = [f"p{i:02d}" for i in range(25)]
    marks = ["5", "4", "3", "н", "5/4", "2"]
    day, written = DAY, 0
    while written < events:
        now = at(day, 15)
        with ledger.transaction() as tx:
            facts = lesson(day, topic=f"Тема {day.isoformat()}", homework="№ 1")
            tx.upsert_lesson(JOURNAL, facts, now)
            cells = [
                cell(p, marks[(i + day.day) % len(marks)], day=day) for i, p in enumerate(pupils)
            ]
            tx.accept_entries(JOURNAL, cells[: 8 + day.day % 10], now, accepted_by="t-ivanova")
            tx.accept_entries(JOURNAL, [cell(pupils[0], "4", day=day)], now + timedelta(minutes=5))
            tx.lock_day(JOURNAL, day, now + timedelta(hours=8), lesson_nos=[1])
        written = ledger.audit_verify().events
        day += timedelta(days=1)
    return written
