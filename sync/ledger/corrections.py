"""Ledger part for the deputy's signed corrections: the only way a locked cell changes.

A correction row of the admin spreadsheet is recorded once (by its ``source_key``), then either
applied — the target cell (mark, period mark or lesson fact) takes the validated value whatever its
lock, and the audit event ``correction.applied`` keeps the old and new values with the order
number — or rejected with a reason the deputy reads (``correction.rejected``). Both are final.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, update

from rules.errors import StoreError
from sync.ledger import schema as t
from sync.ledger.audit import AuditLog
from sync.ledger.findings import target_columns, target_of, target_problem
from sync.ledger.model import (
    INVALID_KIND,
    CellRef,
    CorrectionRecord,
    CorrectionStatus,
    Field,
    aware,
)


def _correction(row: Any) -> CorrectionRecord:
    return CorrectionRecord(
        id=row.id,
        source_key=row.source_key,
        journal=row.journal,
        target=target_of(row),
        new_value=row.new_value,
        reason=row.reason,
        order_no=row.order_no,
        status=CorrectionStatus(row.status),
        old_value=row.old_value,
        reject_reason=row.reject_reason,
        recorded_at=row.recorded_at,
        processed_at=row.processed_at,
    )


class CorrectionsPart(AuditLog):
    """The deputy's corrections: recorded once per admin-sheet row, then applied or rejected."""

    def record_correction(
        self,
        source_key: str,
        journal: str,
        target: CellRef,
        new_value: str,
        reason: str,
        order_no: str,
        now: datetime,
    ) -> CorrectionRecord:
        """Record a correction row as pending; a row already recorded is returned as it is."""
        existing = self.correction(source_key)
        if existing is not None:
            return existing
        self._db.execute(
            insert(t.corrections).values(
                source_key=source_key,
                journal=journal,
                new_value=new_value,
                reason=reason,
                order_no=order_no,
                status=CorrectionStatus.PENDING.value,
                recorded_at=aware(now),
                **target_columns(target),
            )
        )
        record = self.correction(source_key)
        assert record is not None
        return record

    def correction(self, source_key: str) -> CorrectionRecord | None:
        """The correction recorded from this admin-sheet row."""
        query = select(t.corrections).where(t.corrections.c.source_key == source_key)
        row = self._db.execute(query).first()
        return _correction(row) if row else None

    def corrections(self, *, pending: bool = False) -> list[CorrectionRecord]:
        """All corrections (only pending ones), in the order recorded."""
        c = t.corrections.c
        query = select(t.corrections)
        if pending:
            query = query.where(c.status == CorrectionStatus.PENDING.value)
        return [_correction(row) for row in self._db.execute(query.order_by(c.id))]

    def apply_correction(
        self, source_key: str, now: datetime, *, value: str, kind: str = "", raw: str | None = None,
        signed_by: str | None = None,
    ) -> CorrectionRecord:
        """Change the target cell to the validated ``value`` even if locked (audited
        ``correction.applied`` with the old value and who signed it); the cell keeps or gains its
        lock."""
        record = self._pending(source_key)
        problem = target_problem(record.target)
        if problem is not None:
            raise StoreError(
                f"correction {source_key}: {problem}", "reject it with a reason instead"
            )
        by = f"correction:{record.order_no}"
        old = self._overwrite(record.journal, record.target, value, kind, raw or value, now, by)
        self._finish(record, CorrectionStatus.APPLIED, now, old_value=old)
        payload = {
            "source": source_key,
            "journal": record.journal,
            **target_columns(record.target),
            "old": old,
            "new": value,
            "order_no": record.order_no,
            "reason": record.reason,
            **({"signed_by": signed_by} if signed_by is not None else {}),
        }
        self.audit_append("correction.applied", payload, now)
        return self._get(source_key)

    def reject_correction(self, source_key: str, reason: str, now: datetime, *,
                          signed_by: str | None = None) -> CorrectionRecord:
        """Refuse a correction with a reason (Russian, shown to the deputy); audited."""
        record = self._pending(source_key)
        self._finish(record, CorrectionStatus.REJECTED, now, reject_reason=reason)
        payload = {"source": source_key, "journal": record.journal, "reason": reason,
                   **({"signed_by": signed_by} if signed_by is not None else {})}
        self.audit_append("correction.rejected", payload, now)
        return self._get(source_key)

    def _get(self, source_key: str) -> CorrectionRecord:
        record = self.correction(source_key)
        if record is None:
            raise StoreError(
                f"correction {source_key} was never recorded", "record_correction() it first"
            )
        return record

    def _pending(self, source_key: str) -> CorrectionRecord:
        record = self._get(source_key)
        if record.status is not CorrectionStatus.PENDING:
            raise StoreError(
                f"correction {source_key} was already {record.status.value}",
                "a processed correction is final; the deputy records a new row to change it again",
            )
        return record

    def _finish(
        self, record: CorrectionRecord, status: CorrectionStatus, now: datetime, **values: Any
    ) -> None:
        self._db.execute(
            update(t.corrections)
            .where(t.corrections.c.id == record.id)
            .values(status=status.value, processed_at=aware(now), **values)
        )

    def _overwrite(
        self,
        journal: str,
        target: CellRef,
        value: str,
        kind: str,
        raw: str,
        now: datetime,
        by: str,
    ) -> str:
        """Write ``value`` into the target cell whatever its lock; returns the old value."""
        if target.field is Field.MARK:
            assert target.pupil_id and target.day and target.lesson_no is not None
            keys = {
                "journal": journal,
                "pupil_id": target.pupil_id,
                "day": target.day,
                "lesson_no": target.lesson_no,
            }
            lesson_locked = self._lesson_locked(journal, target.day, target.lesson_no)
            return self._overwrite_row(t.entries, keys, (value, kind, raw, by), now, lesson_locked)
        if target.field is Field.PERIOD_MARK:
            assert target.pupil_id and target.period
            keys = {"journal": journal, "pupil_id": target.pupil_id, "period": target.period}
            pl = t.period_locks.c
            locked = (
                self._db.execute(
                    select(pl.period).where(pl.journal == journal, pl.period == target.period)
                ).first()
                is not None
            )
            return self._overwrite_row(t.period_marks, keys, (value, kind, raw, by), now, locked)
        assert target.day and target.lesson_no is not None
        les = t.lessons.c
        where = (les.journal == journal, les.day == target.day, les.lesson_no == target.lesson_no)
        column = target.field.value
        old = self._db.execute(select(les[column]).where(*where)).scalar()
        if old is None:
            facts = {"period": "", "topic": "", "classwork": "", "work_type": "", "homework": ""}
            facts[column] = value
            self._db.execute(
                insert(t.lessons).values(
                    journal=journal,
                    day=target.day,
                    lesson_no=target.lesson_no,
                    first_seen=now,
                    last_changed=now,
                    **facts,
                )
            )
            return ""
        self._db.execute(
            update(t.lessons).where(*where).values(**{column: value, "last_changed": now})
        )
        return str(old)

    def _lesson_locked(self, journal: str, day: date, lesson_no: int) -> bool:
        les = t.lessons.c
        query = select(les.marks_locked_at).where(
            les.journal == journal, les.day == day, les.lesson_no == lesson_no
        )
        return self._db.execute(query).scalar() is not None

    def _overwrite_row(
        self,
        table: Any,
        keys: dict[str, Any],
        cell: tuple[str, str, str, str],
        now: datetime,
        locked: bool,
    ) -> str:
        value, kind, raw, by = cell
        where = [table.c[k] == v for k, v in keys.items()]
        current = self._db.execute(
            select(table.c.raw, table.c.value, table.c.kind).where(*where)
        ).first()
        values = {
            "raw": raw,
            "value": value,
            "kind": kind,
            "last_changed": now,
            "accepted_by": by,
        }
        if current is None:
            self._db.execute(
                insert(table).values(
                    **keys, **values, first_seen=now, locked_at=now if locked else None
                )
            )
            return ""
        self._db.execute(update(table).where(*where).values(**values))
        # a cell locked holding invalid text: the old value is that text
        return str(current.raw if current.kind == INVALID_KIND else current.value)
