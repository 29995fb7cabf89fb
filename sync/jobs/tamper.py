"""Tampering bookkeeping shared by journals and class spreadsheets: a locked cell read with another
value becomes a violation (audited) — or a late entry, when its cell closed unproven at that very
read (``sync.jobs.closing``) — and a planned revert; once the revert is written (or a read shows the
ledger value back) it is marked reverted (audited).

Violations are matched by what the cell IS (field, pupil, day, lesson, period), never by its A1
position: rows and columns move.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sync.backends.protocol import CellRange, Grid
from sync.jobs.journal_cells import Revert
from sync.jobs.summary import Tally
from sync.ledger.ledger import Tx
from sync.ledger.model import CellRef, FileRecord


@dataclass(kw_only=True)
class SheetPlan:
    """What one read spreadsheet (a journal, a class spreadsheet) needs after the cycle's commit:
    cell updates (reverts first) in ONE write, or a layout repair instead."""

    file: FileRecord
    updates: list[tuple[CellRange, Grid]] = field(default_factory=list)
    revert_targets: set[tuple[Any, ...]] = field(default_factory=set)  # see target_key
    reverts: int = 0
    repair: bool = False  # the layout must be repaired instead of written
    tally: Tally = field(default_factory=Tally)

    @property
    def needs_write(self) -> bool:
        return self.repair or bool(self.updates)

    def plan_reverts(self, reverts: Sequence[Revert]) -> None:
        """Write the ledger values back (RAW) at the positions read."""
        self.updates.extend((r.where, [[r.locked]]) for r in reverts)
        self.reverts = len(reverts)
        self.revert_targets = {target_key(r.target) for r in reverts}


def target_key(target: CellRef) -> tuple[Any, ...]:
    """A violation target without its A1 cell (rows and columns move; the cell's identity doesn't)."""
    return (target.field.value, target.pupil_id, target.day, target.lesson_no, target.period)


def record_violations(tx: Tx, key: str, reverts: Sequence[Revert], matched: Iterable[CellRef],
                      now: datetime, *, late: Callable[[CellRef], bool] = lambda _: False
                      ) -> tuple[int, int]:
    """Record each revert — a late entry when ``late`` says its cell closed unproven at this very
    read (or it repeats an open late entry whose revert has not landed yet), else a violation —
    recording the same unreverted attempt once; mark reverted what now reads the ledger value (an
    earlier revert landed but its record did not). Returns (new violations, new late entries)."""
    late_entries = tx.late_entries(key)
    open_late = {(target_key(e.target), e.typed_value) for e in late_entries}
    known = {v.id for v in tx.violations(key, unreverted=True)}
    new_violations = new_late = 0
    for r in reverts:
        if late(r.target) or (target_key(r.target), r.attempted) in open_late:
            new_late += tx.record_late_entry(key, r.target, r.locked, r.attempted, now)[1]
            continue
        vid = tx.record_violation(key, r.target, r.locked, r.attempted, now)
        if vid not in known:
            new_violations += 1
            known.add(vid)
    if known or new_late or any(e.reverted_at is None for e in late_entries):  # else none to mark
        mark_reverted(tx, key, {target_key(t) for t in matched}, now)
    return new_violations, new_late


def mark_reverted(tx: Tx, key: str, targets: Collection[tuple[Any, ...]], now: datetime) -> None:
    """The unreverted violations and late entries of ``key`` whose :func:`target_key` is in
    ``targets``."""
    if not targets:
        return
    for v in tx.violations(key, unreverted=True):
        if target_key(v.target) in targets:
            tx.violation_reverted(v.id, now)
    for e in tx.late_entries(key):
        if e.reverted_at is None and target_key(e.target) in targets:
            tx.late_entry_reverted(e.id, now)


__all__ = ["SheetPlan", "mark_reverted", "record_violations", "target_key"]
