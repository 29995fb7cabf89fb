"""Ledger part that locks a journal's past: a day's lesson facts and marks, a period's marks.

Locks are set once (``locked_at``) and never lifted; running a lock twice is a no-op (no second
audit event). A lesson row whose marks are locked locks every mark cell of that lesson, including the
empty ones, so a mark typed later into an empty locked cell is tampering too. :meth:`locked` gives the
engine a journal's whole locked state to compare a freshly read grid against in memory; a cell
locked holding invalid text (``INVALID_KIND``) must show that text.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, insert, select, update

from sync.ledger import schema as t
from sync.ledger.entries import EntriesPart
from sync.ledger.model import INVALID_KIND, LessonInput, LockCounts, LockedView, aware
from sync.ledger.statements import (
    LOCKED_LESSONS,
    LOCKED_PERIOD_MARKS,
    LOCKED_PERIODS,
    MARK_CELLS,
    NO_DAY,
)


class LocksPart(EntriesPart):
    """Locking days and periods; reading the locked state back."""

    def lock_day(
        self,
        journal: str,
        day: date,
        now: datetime,
        *,
        info: bool = True,
        marks: bool = True,
        lesson_nos: Sequence[int] = (),
    ) -> LockCounts:
        """Lock a day's lesson facts and/or marks (audited ``lock.applied``); idempotent.

        ``lesson_nos``: the day's lessons per the timetable; missing lesson rows are created
        empty, so a cell left empty is locked empty too.
        """
        aware(now)
        if lesson_nos:
            have = {r.lesson_no for r in self._lessons_of(journal, day)}
            missing = [LessonInput(day, n) for n in lesson_nos if n not in have]
            self.upsert_lessons(journal, missing, now)
        les, e = t.lessons.c, t.entries.c
        same_day = and_(les.journal == journal, les.day == day)
        lessons_locked = entries_locked = 0
        if info:
            done = self._db.execute(
                update(t.lessons)
                .where(same_day, les.info_locked_at.is_(None))
                .values(info_locked_at=now)
            )
            lessons_locked = done.rowcount
        if marks:
            done = self._db.execute(
                update(t.lessons)
                .where(same_day, les.marks_locked_at.is_(None))
                .values(marks_locked_at=now)
            )
            lessons_locked = max(lessons_locked, done.rowcount)
            done = self._db.execute(
                update(t.entries)
                .where(e.journal == journal, e.day == day, e.locked_at.is_(None))
                .values(locked_at=now)
            )
            entries_locked = done.rowcount
        counts = LockCounts(lessons=lessons_locked, entries=entries_locked)
        if lessons_locked or entries_locked:
            scope = "all" if info and marks else ("info" if info else "marks")
            self.audit_append(
                "lock.applied",
                {
                    "journal": journal,
                    "day": day,
                    "scope": scope,
                    "lessons": lessons_locked,
                    "entries": entries_locked,
                },
                now,
            )
        return counts

    def _lessons_of(self, journal: str, day: date) -> list[Any]:
        les = t.lessons.c
        return list(
            self._db.execute(select(t.lessons).where(les.journal == journal, les.day == day))
        )

    def lock_period(self, journal: str, period: str, now: datetime) -> LockCounts:
        """Lock a period's marks (audited ``lock.applied``); idempotent."""
        aware(now)
        pl = t.period_locks.c
        exists = self._db.execute(
            select(pl.period).where(pl.journal == journal, pl.period == period)
        ).first()
        if exists is None:
            self._db.execute(
                insert(t.period_locks).values(journal=journal, period=period, locked_at=now)
            )
        p = t.period_marks.c
        done = self._db.execute(
            update(t.period_marks)
            .where(p.journal == journal, p.period == period, p.locked_at.is_(None))
            .values(locked_at=now)
        )
        if exists is None or done.rowcount:
            self.audit_append(
                "lock.applied",
                {"journal": journal, "period": period, "period_marks": done.rowcount},
                now,
            )
        return LockCounts(period_marks=done.rowcount)

    def locked_periods(self, journal: str) -> frozenset[str]:
        """The periods whose marks are locked in a journal (cheaper than :meth:`locked`)."""
        return frozenset(self._db.execute(LOCKED_PERIODS, {"journal": journal}).scalars())

    def locked(self, journal: str, *, since: date | None = None) -> LockedView:
        """Everything locked in a journal, to compare a freshly read grid against (tampering).

        Read lean (a year of rows per journal, every cycle): the columns compared and the lock
        flags as booleans, no timestamps converted. ``since``: the mark cells of lessons from that
        day only (the earlier periods' tabs are settled, not compared: ``sync.jobs.settled``); the
        open cells holding a value in ``held``."""
        at = {"journal": journal}
        rows = self._db.execute(MARK_CELLS, {**at, "since": since or NO_DAY}).all()
        mark_rows = [r for r in rows if r[6]]
        marks = {(r[0], r[1], r[2]): r[3] if r[5] == INVALID_KIND else r[4] for r in mark_rows}
        lesson_rows = self._db.execute(LOCKED_LESSONS, at).all()
        periods = self.locked_periods(journal)
        period_rows = self._db.execute(LOCKED_PERIOD_MARKS, at).all()
        return LockedView(
            marks=marks,
            mark_lessons=frozenset((r[0], r[1]) for r in lesson_rows if r[7]),
            info={(r[0], r[1]): LessonInput(*r[:7]) for r in lesson_rows if r[8]},
            periods=periods,
            period_marks={(r.pupil_id, r.period): _locked_text(r) for r in period_rows},
            invalid=frozenset(
                (r[0], r[1], r[2]) for r in mark_rows if r[5] == INVALID_KIND
            ),
            invalid_periods=frozenset(
                (r.pupil_id, r.period) for r in period_rows if r.kind == INVALID_KIND
            ),
            held=frozenset((r[0], r[1], r[2]) for r in rows if not r[6]),
        )

    def locked_value(self, journal: str, pupil_id: str, day: date, lesson_no: int) -> str | None:
        """The ledger value of a locked mark cell ("" = locked empty); None while it is open."""
        e, les = t.entries.c, t.lessons.c
        row = self._db.execute(
            select(e.raw, e.value, e.kind, e.locked_at).where(
                e.journal == journal, e.pupil_id == pupil_id, e.day == day, e.lesson_no == lesson_no
            )
        ).first()
        if row is not None and row.locked_at is not None:
            return _locked_text(row)
        lesson_locked = self._db.execute(
            select(les.marks_locked_at).where(
                les.journal == journal, les.day == day, les.lesson_no == lesson_no
            )
        ).scalar()
        if lesson_locked is None:
            return None
        return _locked_text(row) if row is not None else ""


def _locked_text(row: Any) -> str:
    """What a locked cell must show: its value, or the text it locked with if that was invalid."""
    return str(row.raw if row.kind == INVALID_KIND else row.value)
