"""The «Замечания» tab of a journal or a class page: rewritten whole, only when its content hash
moved (padded with empty rows over a longer list written before)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo

from rules.model import Finding, Location, Severity
from sync.backends.protocol import CellRange, Grid
from sync.layout.journal.render import render_findings
from sync.layout.labels import Labels
from sync.ledger.audit import content_hash
from sync.ledger.ledger import Tx
from sync.ledger.model import FindingRecord
from sync.ledger.state import FINDINGS_ROWS_KEY


def as_finding(record: FindingRecord) -> Finding:
    return Finding(
        record.rule,
        Severity(record.severity),
        Location(record.journal, record.pupil_id, record.day, record.field, record.cell),
        record.message,
    )


def findings_update(tx: Tx, file_id: str, open_now: Sequence[FindingRecord], tz: tzinfo,
                    now: datetime, labels: Labels
                    ) -> tuple[list[tuple[CellRange, Grid]], str | None]:
    """The write of «Замечания» (and the hash to record once written), or nothing when the tab
    already shows these findings."""
    state_key = FINDINGS_ROWS_KEY.format(file_id=file_id)
    fresh = render_findings((), labels=labels)
    high = int(tx.state_get(state_key) or len(fresh))
    items = [(as_finding(r), r.opened.astimezone(tz).date()) for r in open_now]
    rows = render_findings(items, clear_rows=high, labels=labels)
    digest = content_hash(rows)
    last = tx.tab_hash(file_id, labels.findings_tab)
    if last is None:  # never written by the cycle: the tab is as setup rendered it
        last = content_hash(render_findings((), clear_rows=high, labels=labels))
    if digest == last:
        return [], None
    if len(rows) > high:
        tx.state_set(state_key, str(len(rows)), now)
    return [(CellRange(labels.findings_tab, 0, 0, len(rows), 3), rows)], digest
