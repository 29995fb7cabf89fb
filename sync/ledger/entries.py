"""Ledger part holding the journal itself: lesson facts, mark entries, period marks and their locks.

Offering a fact returns a :class:`~sync.ledger.model.Change`. NEW and CHANGED facts are written and
appended to the audit chain in the same transaction; a locked cell is never overwritten here
(``Change.LOCKED``: the engine records a violation and writes the ledger value back) — only
``corrections`` changes a locked cell; locks are set in ``locks``. A fact is compared
by its normalized value and kind, not by the raw text ("5 " and "5" are the same mark). An empty
value offered for a cell the ledger never held is UNCHANGED (nothing stored); an erased cell that
held a value is CHANGED to "" and audited. An entry of kind ``INVALID_KIND`` (text that is no valid
value, kept as the lock job found it: value "", the text in ``raw``) is stored, compared by its raw
text and audited as ``entry.locked_invalid`` / ``period_mark.locked_invalid``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, insert, select, update

from rules.errors import StoreError
from sync.ledger import schema as t
from sync.ledger.audit import AuditLog
from sync.ledger.model import (
    INVALID_KIND,
    Change,
    EntryInput,
    EntryRecord,
    EntryValue,
    LessonInput,
    LessonRecord,
    LessonState,
    PeriodMarkInput,
    PeriodMarkRecord,
    aware,
    from_rows,
)
from sync.ledger.statements import (
    DAY_ENTRIES,
    DAY_LOCKED_LESSONS,
    ENTRY_VALUES,
    LESSON_STATES,
    NO_DAY,
)

logger = logging.getLogger(__name__)

FACT_COLUMNS = ("topic", "classwork", "work_type", "homework")  # what the teacher wrote


def lesson_facts(row: Any) -> LessonInput:
    return LessonInput(
        row.day, row.lesson_no, row.period, row.topic, row.classwork, row.work_type, row.homework
    )


class EntriesPart(AuditLog):
    """Lessons, entries and period marks of journals, offered and read back."""

    # ------------------------------------------------------------------ lessons

    def upsert_lessons(
        self, journal: str, lessons: Iterable[LessonInput], now: datetime
    ) -> list[Change]:
        """Offer the facts of lessons (one "Уроки" row each); one Change per lesson, in order."""
        aware(now)
        items = list(lessons)
        if not items:
            return []
        _no_duplicates(journal, [(item.day, item.lesson_no) for item in items])
        days = {item.day for item in items}
        current = {
            (row.day, row.lesson_no): row
            for row in self._db.execute(
                select(t.lessons).where(t.lessons.c.journal == journal, t.lessons.c.day.in_(days))
            )
        }
        changes: list[Change] = []
        events: list[tuple[str, dict[str, Any]]] = []
        for item in items:
            key = (item.day, item.lesson_no)
            new = item.facts()
            row = current.get(key)
            where = {"journal": journal, "day": item.day, "lesson_no": item.lesson_no}
            if row is None:
                self._db.execute(
                    insert(t.lessons).values(
                        **where, **new, period=item.period, first_seen=now, last_changed=now
                    )
                )
                changes.append(Change.NEW)
                if any(new.values()):
                    events.append(("lesson.changed", {**where, "old": None, "new": new}))
                continue
            same_row = [t.lessons.c[k] == v for k, v in where.items()]
            if item.period and item.period != row.period:  # calendar data: follows the config
                self._db.execute(update(t.lessons).where(*same_row).values(period=item.period))
            old = {c: getattr(row, c) for c in FACT_COLUMNS}
            if old == new:
                changes.append(Change.UNCHANGED)
            elif row.info_locked_at is not None:
                changes.append(Change.LOCKED)
            else:
                self._db.execute(update(t.lessons).where(*same_row).values(**new, last_changed=now))
                diff = {c: new[c] for c in FACT_COLUMNS if new[c] != old[c]}
                before = {c: old[c] for c in diff}
                events.append(("lesson.changed", {**where, "old": before, "new": diff}))
                changes.append(Change.CHANGED)
        self._audit_many(events, now)
        return changes

    def upsert_lesson(self, journal: str, lesson: LessonInput, now: datetime) -> Change:
        """Offer one lesson's facts (see ``upsert_lessons``)."""
        return self.upsert_lessons(journal, [lesson], now)[0]

    def lesson_states(self, journal: str) -> dict[tuple[date, int], LessonState]:
        """Each held lesson's (day, lesson_no) → work type and lock flags (cheaper than
        :meth:`lessons`: read for every journal the time locks look at)."""
        return {(r[0], r[1]): LessonState(r[2], bool(r[3]), bool(r[4]))
                for r in self._db.execute(LESSON_STATES, {"journal": journal})}

    def lessons(self, journal: str) -> list[LessonRecord]:
        """Every lesson of a journal, by day and lesson number."""
        query = select(t.lessons).where(t.lessons.c.journal == journal)
        rows = self._db.execute(query.order_by(t.lessons.c.day, t.lessons.c.lesson_no))
        return [
            LessonRecord(
                journal,
                lesson_facts(r),
                r.first_seen,
                r.last_changed,
                r.info_locked_at,
                r.marks_locked_at,
            )
            for r in rows
        ]

    # ------------------------------------------------------------------ entries

    def accept_entries(
        self,
        journal: str,
        entries: Iterable[EntryInput],
        now: datetime,
        *,
        accepted_by: str | None = None,
    ) -> list[Change]:
        """Offer validated mark cells of one journal; one Change per cell, in order (see module)."""
        aware(now)
        items = list(entries)
        if not items:
            return []
        _no_duplicates(journal, [(i.pupil_id, i.day, i.lesson_no) for i in items])
        at = {"journal": journal, "days": sorted({i.day for i in items})}
        current = {(r.pupil_id, r.day, r.lesson_no): r for r in self._db.execute(DAY_ENTRIES, at)}
        locked_lessons = {(r.day, r.lesson_no) for r in self._db.execute(DAY_LOCKED_LESSONS, at)}
        inserts: list[dict[str, Any]] = []
        updates: list[dict[str, Any]] = []
        events: list[tuple[str, dict[str, Any]]] = []
        changes: list[Change] = []
        for item in items:
            key = (item.pupil_id, item.day, item.lesson_no)
            row = current.get(key)
            locked = (item.day, item.lesson_no) in locked_lessons
            old_value, old_kind = (row.value, row.kind) if row is not None else ("", "empty")
            fact = {
                "journal": journal,
                "pupil": item.pupil_id,
                "day": item.day,
                "lesson_no": item.lesson_no,
                "value": item.value,
                "kind": item.kind,
                "by": accepted_by,
            }
            if _same(row, item) or (row is None and _nothing(item)):
                changes.append(Change.UNCHANGED)
            elif locked or (row is not None and row.locked_at is not None):
                changes.append(Change.LOCKED)
            elif row is None:
                inserts.append(
                    {
                        "journal": journal,
                        "pupil_id": item.pupil_id,
                        "day": item.day,
                        "lesson_no": item.lesson_no,
                        "raw": item.raw,
                        "value": item.value,
                        "kind": item.kind,
                        "first_seen": now,
                        "last_changed": now,
                        "accepted_by": accepted_by,
                    }
                )
                events.append(_event("entry", fact, item.raw, None))
                changes.append(Change.NEW)
            else:
                updates.append(
                    {
                        "k_pupil": item.pupil_id,
                        "k_day": item.day,
                        "k_no": item.lesson_no,
                        "raw": item.raw,
                        "value": item.value,
                        "kind": item.kind,
                        "last_changed": now,
                        "accepted_by": accepted_by,
                    }
                )
                events.append(_event("entry", fact, item.raw, {"old": old_value, "old_kind": old_kind}))
                changes.append(Change.CHANGED)
        if inserts:
            self._db.execute(insert(t.entries), inserts)
        if updates:
            e = t.entries.c
            self._db.execute(
                update(t.entries).where(
                    e.journal == journal,
                    e.pupil_id == bindparam("k_pupil"),
                    e.day == bindparam("k_day"),
                    e.lesson_no == bindparam("k_no"),
                ),
                updates,
            )
        self._audit_many(events, now)
        logger.debug(
            "journal %s: %d cells offered, %d new, %d changed",
            journal,
            len(items),
            len(inserts),
            len(updates),
        )
        return changes

    def accept_entry(
        self, journal: str, entry: EntryInput, now: datetime, *, accepted_by: str | None = None
    ) -> Change:
        """Offer one validated mark cell (see ``accept_entries``)."""
        return self.accept_entries(journal, [entry], now, accepted_by=accepted_by)[0]

    def entries(
        self,
        journal: str,
        *,
        since: date | None = None,
        until: date | None = None,
        include_empty: bool = False,
    ) -> list[EntryRecord]:
        """A journal's entries (erased ones only with ``include_empty``), by day, lesson, pupil."""
        e = t.entries.c
        query = select(t.entries).where(e.journal == journal)
        if since is not None:
            query = query.where(e.day >= since)
        if until is not None:
            query = query.where(e.day <= until)
        if not include_empty:
            query = query.where(e.value != "")
        rows = self._db.execute(query.order_by(e.day, e.lesson_no, e.pupil_id))
        return from_rows(EntryRecord, rows)

    def entry_values(self, journal: str, *, since: date | None = None) -> list[EntryValue]:
        """A journal's non-empty entries (from day ``since`` on), cell and value only (cheaper
        than :meth:`entries` by the three timestamps a row would convert): read per changed
        journal."""
        rows = self._db.execute(ENTRY_VALUES, {"journal": journal, "since": since or NO_DAY})
        return [EntryValue(*r) for r in rows]

    def pupil_entries(self, pupil_id: str, *, since: date | None = None) -> list[EntryRecord]:
        """One pupil's entries across journals (for the diary), by day, lesson, journal."""
        e = t.entries.c
        query = select(t.entries).where(e.pupil_id == pupil_id, e.value != "")
        if since is not None:
            query = query.where(e.day >= since)
        rows = self._db.execute(query.order_by(e.day, e.lesson_no, e.journal))
        return from_rows(EntryRecord, rows)

    # ------------------------------------------------------------------ period marks

    def accept_period_marks(
        self,
        journal: str,
        marks: Iterable[PeriodMarkInput],
        now: datetime,
        *,
        accepted_by: str | None = None,
    ) -> list[Change]:
        """Offer period-mark cells ("Четверть"); one Change per cell, in order (see module)."""
        aware(now)
        items = list(marks)
        if not items:
            return []
        _no_duplicates(journal, [(i.pupil_id, i.period) for i in items])
        p = t.period_marks.c
        current = {
            (r.pupil_id, r.period): r
            for r in self._db.execute(select(t.period_marks).where(p.journal == journal))
        }
        locked_periods = set(
            self._db.execute(
                select(t.period_locks.c.period).where(t.period_locks.c.journal == journal)
            ).scalars()
        )
        events: list[tuple[str, dict[str, Any]]] = []
        changes: list[Change] = []
        for item in items:
            row = current.get((item.pupil_id, item.period))
            old_value = row.value if row is not None else ""
            fact = {
                "journal": journal,
                "pupil": item.pupil_id,
                "period": item.period,
                "value": item.value,
                "kind": item.kind,
                "by": accepted_by,
            }
            values = {
                "raw": item.raw,
                "value": item.value,
                "kind": item.kind,
                "last_changed": now,
                "accepted_by": accepted_by,
            }
            if _same(row, item) or (row is None and _nothing(item)):
                changes.append(Change.UNCHANGED)
            elif item.period in locked_periods or (row is not None and row.locked_at is not None):
                changes.append(Change.LOCKED)
            elif row is None:
                self._db.execute(
                    insert(t.period_marks).values(
                        journal=journal,
                        pupil_id=item.pupil_id,
                        period=item.period,
                        first_seen=now,
                        **values,
                    )
                )
                events.append(_event("period_mark", fact, item.raw, None))
                changes.append(Change.NEW)
            else:
                self._db.execute(
                    update(t.period_marks)
                    .where(
                        p.journal == journal, p.pupil_id == item.pupil_id, p.period == item.period
                    )
                    .values(**values)
                )
                events.append(_event("period_mark", fact, item.raw, {"old": old_value}))
                changes.append(Change.CHANGED)
        self._audit_many(events, now)
        return changes

    def period_marks(self, journal: str) -> list[PeriodMarkRecord]:
        """A journal's period marks, by period and pupil."""
        p = t.period_marks.c
        query = select(t.period_marks).where(p.journal == journal, p.value != "")
        return from_rows(PeriodMarkRecord, self._db.execute(query.order_by(p.period, p.pupil_id)))


def _same(row: Any, item: EntryInput | PeriodMarkInput) -> bool:
    """Whether the ledger row already holds the offered fact (an invalid one: the same text)."""
    if row is None or (row.value, row.kind) != (item.value, item.kind):
        return False
    return item.kind != INVALID_KIND or row.raw == item.raw


def _nothing(item: EntryInput | PeriodMarkInput) -> bool:
    """An empty cell offered: nothing to store for a cell the ledger never held."""
    return not item.value and item.kind != INVALID_KIND


def _event(
    what: str, fact: dict[str, Any], raw: str, old: dict[str, Any] | None
) -> tuple[str, dict[str, Any]]:
    """The audit event of a new (``old`` None) or changed entry / period mark."""
    if fact["kind"] == INVALID_KIND:
        return f"{what}.locked_invalid", {**fact, "raw": raw, **(old or {})}
    return f"{what}.accepted" if old is None else f"{what}.changed", {**fact, **(old or {})}


def _no_duplicates(journal: str, keys: list[tuple[Any, ...]]) -> None:
    if len(set(keys)) != len(keys):
        raise StoreError(
            f"journal {journal}: the same cell was offered twice in one batch",
            "the grid parser must report duplicate pupil rows as findings, not pass both",
        )
