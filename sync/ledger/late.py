"""Ledger part for late entries: values found in a closed cell that no read proved in time.

A cell's lock is a fact of time (``sync.jobs.closing``): when the first read after a window closed
cannot prove the file was unchanged since the closing moment, every cell of that window that reads
differently from the ledger is recorded here — the ledger value stays and is written back to the
sheet, the typed value is kept for the deputy. A late entry stays open (a finding on the journal's
«Замечания», a line in ``ejournal status``) until the deputy's correction of the same cell is
applied. Every step is audited (``late.detected``, ``late.reverted``, ``late.resolved``).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update

from sync.ledger import schema as t
from sync.ledger.audit import AuditLog
from sync.ledger.findings import same_target, target_columns, target_of
from sync.ledger.model import CellRef, LateEntryRecord, aware
from sync.ledger.statements import OPEN_LATE_ENTRIES


class LateEntriesPart(AuditLog):
    """Recording, reverting and resolving late entries."""

    def record_late_entry(
        self, journal: str, target: CellRef, ledger_value: str, typed_value: str, now: datetime
    ) -> tuple[int, bool]:
        """Record a value typed into a closed cell that no read proved in time (audited
        ``late.detected``); returns its id and whether it is new (the same open entry read again
        — its revert did not land yet — is not recorded twice)."""
        aware(now)
        le = t.late_entries.c
        columns = target_columns(target)
        same = select(le.id).where(le.journal == journal, le.resolved_at.is_(None),
                                   le.typed_value == typed_value, *same_target(le, target))
        existing = self._db.execute(same).scalar()
        if existing is not None:
            return int(existing), False
        entry_id: int = self._db.execute(
            insert(t.late_entries)
            .values(journal=journal, cell=target.cell, ledger_value=ledger_value,
                    typed_value=typed_value, detected_at=now, **columns)
            .returning(le.id)
        ).scalar_one()
        self.audit_append("late.detected", {"id": entry_id, "journal": journal, **columns,
                                            "ledger": ledger_value, "typed": typed_value}, now)
        return entry_id, True

    def late_entry_reverted(self, entry_id: int, now: datetime) -> None:
        """The ledger value is back on the sheet (audited ``late.reverted``); idempotent."""
        le = t.late_entries.c
        done = self._db.execute(update(t.late_entries)
                                .where(le.id == entry_id, le.reverted_at.is_(None))
                                .values(reverted_at=aware(now)))
        if done.rowcount:
            self.audit_append("late.reverted", {"id": entry_id}, now)

    def resolve_late_entries(self, journal: str, target: CellRef, now: datetime, *,
                             by: str) -> int:
        """Close the open late entries of one cell: the deputy's correction ``by`` (its source
        key) decided its value (audited ``late.resolved``); returns how many."""
        le = t.late_entries.c
        ids = list(self._db.execute(select(le.id).where(
            le.journal == journal, le.resolved_at.is_(None), *same_target(le, target),
        )).scalars())
        for entry_id in ids:
            self._db.execute(update(t.late_entries).where(le.id == entry_id)
                             .values(resolved_at=aware(now), resolved_by=by))
            self.audit_append("late.resolved", {"id": entry_id, "by": by}, now)
        return len(ids)

    def late_entries(self, journal: str | None = None, *, open_only: bool = True
                     ) -> list[LateEntryRecord]:
        """Late entries (of one journal; only those still waiting for a correction), oldest first."""
        if journal is not None and open_only:  # every read journal asks: the statement built once
            return [_record(r) for r in self._db.execute(OPEN_LATE_ENTRIES, {"journal": journal})]
        le = t.late_entries.c
        query = select(t.late_entries)
        if journal is not None:
            query = query.where(le.journal == journal)
        if open_only:
            query = query.where(le.resolved_at.is_(None))
        return [_record(r) for r in self._db.execute(query.order_by(le.detected_at, le.id))]


def _record(row: Any) -> LateEntryRecord:
    return LateEntryRecord(row.id, row.journal, target_of(row), row.ledger_value, row.typed_value,
                           row.detected_at, row.reverted_at, row.resolved_at, row.resolved_by)
