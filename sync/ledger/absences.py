"""Ledger part holding the class teacher's absence reasons ("Посещаемость", R4/R5) and their locks.

Offering reasons works as offering journal entries (``entries``): one
:class:`~sync.ledger.model.Change` per cell, NEW and CHANGED reasons written and audited
(``absence.accepted`` / ``absence.changed``) in the same transaction, compared by the code, not
the raw text ("Б" and "б" are the same reason); an empty cell the ledger never held stores
nothing, an erased one is CHANGED to "". A cell of a locked day is never overwritten here
(``Change.LOCKED``: the engine records a violation and writes the ledger value back). Text that is
no reason, left when its day locks, is kept as typed (reason "", audited
``absence.locked_invalid``), so it is not mistaken for tampering later.

Days lock once (``lock_absence_days``, audited ``absence.locked``) and never unlock; a locked day
locks its empty cells too, so a reason typed later into one is tampering.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, update

from rules.errors import StoreError
from rules.grammar import ValueKind
from sync.ledger import schema as t
from sync.ledger.audit import AuditLog
from sync.ledger.model import (
    AbsenceInput,
    AbsenceLockedView,
    AbsenceRecord,
    Change,
    aware,
    from_rows,
)


class AbsencesPart(AuditLog):
    """Absence reasons of classes, offered, locked and read back."""

    def accept_absences(
        self, class_id: str, items: Iterable[AbsenceInput], now: datetime
    ) -> list[Change]:
        """Offer reason cells of one class; one Change per cell, in order (see the module)."""
        aware(now)
        offered = list(items)
        if not offered:
            return []
        keys = [(i.pupil_id, i.day) for i in offered]
        if len(set(keys)) != len(keys):
            raise StoreError(
                f"class {class_id}: the same attendance cell was offered twice in one batch",
                "the parser must report duplicate pupil rows as findings, not pass both",
            )
        a = t.absence_reasons.c
        days = {i.day for i in offered}
        current = {
            (r.pupil_id, r.day): r
            for r in self._db.execute(
                select(t.absence_reasons).where(a.class_id == class_id, a.day.in_(days))
            )
        }
        locked_days = self._locked_days(class_id)
        changes: list[Change] = []
        events: list[tuple[str, dict[str, Any]]] = []
        for item in offered:
            row = current.get((item.pupil_id, item.day))
            fact = {"class": class_id, "pupil": item.pupil_id, "day": item.day,
                    "reason": item.reason}
            if _same(row, item) or (row is None and not item.reason and not item.raw):
                changes.append(Change.UNCHANGED)
            elif item.day in locked_days or (row is not None and row.locked_at is not None):
                changes.append(Change.LOCKED)
            elif row is None:
                self._db.execute(
                    insert(t.absence_reasons).values(
                        class_id=class_id, pupil_id=item.pupil_id, day=item.day,
                        reason=item.reason, raw=item.raw, first_seen=now, last_changed=now,
                    )
                )
                events.append(_event(fact, item, None))
                changes.append(Change.NEW)
            else:
                self._db.execute(
                    update(t.absence_reasons)
                    .where(a.class_id == class_id, a.pupil_id == item.pupil_id,
                           a.day == item.day)
                    .values(reason=item.reason, raw=item.raw, last_changed=now)
                )
                events.append(_event(fact, item, row.reason))
                changes.append(Change.CHANGED)
        self._audit_many(events, now)
        return changes

    def lock_absence_days(self, class_id: str, days: Iterable[date], now: datetime) -> int:
        """Lock attendance days of a class (audited ``absence.locked``); idempotent. Returns how
        many stored reasons were newly locked."""
        aware(now)
        new_days = sorted(set(days) - self._locked_days(class_id))
        if not new_days:
            return 0
        self._db.execute(
            insert(t.absence_locks),
            [{"class_id": class_id, "day": d, "locked_at": now} for d in new_days],
        )
        a = t.absence_reasons.c
        done = self._db.execute(
            update(t.absence_reasons)
            .where(a.class_id == class_id, a.day.in_(new_days), a.locked_at.is_(None))
            .values(locked_at=now)
        )
        self.audit_append(
            "absence.locked",
            {"class": class_id, "days": new_days, "reasons": done.rowcount},
            now,
        )
        return int(done.rowcount)

    def absences(self, class_id: str, *, include_empty: bool = False) -> list[AbsenceRecord]:
        """A class's stored reasons (erased ones only with ``include_empty``), by day and pupil;
        a text kept at a lock counts as non-empty."""
        a = t.absence_reasons.c
        query = select(t.absence_reasons).where(a.class_id == class_id)
        if not include_empty:
            query = query.where(a.raw != "")
        return from_rows(AbsenceRecord, self._db.execute(query.order_by(a.day, a.pupil_id)))

    def absences_typed(self, journals: Sequence[str], since: date, until: date
                       ) -> list[tuple[str, date]]:
        """(pupil, day) of each «н» the subject journals ``journals`` hold from ``since`` to
        ``until``, once per lesson: what asks the class teacher for a reason."""
        e = t.entries.c
        query = select(e.pupil_id, e.day).where(
            e.journal.in_(journals), e.day >= since, e.day <= until,
            e.kind == ValueKind.ABSENT.value)
        return [(r[0], r[1]) for r in self._db.execute(query)]

    def absence_locked(self, class_id: str) -> AbsenceLockedView:
        """Everything locked in a class's attendance, to compare a read grid against."""
        rows = [r for r in self.absences(class_id) if r.locked_at is not None]
        return AbsenceLockedView(
            days=frozenset(self._locked_days(class_id)),
            shown={(r.pupil_id, r.day): r.shown for r in rows},
            invalid=frozenset((r.pupil_id, r.day) for r in rows if not r.reason),
        )

    def _locked_days(self, class_id: str) -> set[date]:
        al = t.absence_locks.c
        return set(self._db.execute(select(al.day).where(al.class_id == class_id)).scalars())


def _same(row: Any, item: AbsenceInput) -> bool:
    """Whether the ledger row already holds the offered reason (kept text: the same text)."""
    if row is None or row.reason != item.reason:
        return False
    return bool(item.reason) or row.raw == item.raw


def _event(
    fact: dict[str, Any], item: AbsenceInput, old: str | None
) -> tuple[str, dict[str, Any]]:
    if not item.reason and item.raw:
        return "absence.locked_invalid", {**fact, "raw": item.raw}
    if old is None:
        return "absence.accepted", fact
    return "absence.changed", {**fact, "old": old}


__all__ = ["AbsencesPart"]
