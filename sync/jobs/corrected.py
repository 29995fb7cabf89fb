"""A journal a deputy's correction just changed, brought up to date in the correction's own write.

The corrected value is written into the journal by ``sync.jobs.corrections``; so that «Замечания»
stops showing the corrected typo and «Средний балл» / «Рекомендуемая» count the new value in the
same cycle (not one cycle later), the journal as the correction leaves it — the grids just read,
with the corrected cells written in — goes through the cycle's own per-journal step
(``journal_sync.sync_journal``), and its service writes ride in the same write call.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sync.backends.protocol import CellRange, Grid
from sync.jobs.journal_sync import JournalPlan, JournalRead, journal_refs, record_plan, sync_journal
from sync.jobs.service import Service
from sync.layout.common import overlaid
from sync.layout.journal.spec import parse_journal
from sync.layout.labels import RU, Labels
from sync.ledger.model import FileRecord


def follow_correction(svc: Service, file: FileRecord, grids: dict[str, Grid],
                      updates: Sequence[tuple[CellRange, Grid]], now: datetime,
                      labels: Labels = RU) -> JournalPlan | None:
    """The journal's plan as the corrected ``updates`` leave ``grids`` (findings synced in the
    ledger); None when the journal is no longer configured or its layout needs a repair (the
    cycle's next read does that)."""
    ref = journal_refs(svc.school, [file]).get(file.id)
    if ref is None:
        return None
    patched = {tab: overlaid(grid, updates, tab) for tab, grid in grids.items()}
    patched.setdefault(labels.findings_tab, [])
    reading = parse_journal(patched, svc.school, ref.class_id, ref.subject_id, ref.lessons,
                            labels=labels)
    if reading.needs_repair:
        return None
    with svc.ledger.transaction() as tx:
        plan = sync_journal(tx, svc, JournalRead(ref, patched, reading, now), now, labels)
    return None if plan.repair else plan


def record_followed(svc: Service, plan: JournalPlan | None, now: datetime,
                    labels: Labels = RU) -> None:
    """After the write: the findings tab's hash (and any revert) recorded, as the cycle does."""
    if plan is not None:
        with svc.ledger.transaction() as tx:
            record_plan(tx, plan, labels, now)
