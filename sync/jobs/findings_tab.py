"""The «Замечания» tab of a journal or a class page: rewritten whole, only when its content hash
moved (padded with empty rows over a longer list written before).

A journal's open findings mostly stand still from one read to the next (a year of them, at
day 150 over a hundred a journal), so :class:`ShownFindings` keeps, per file, what identifies
the open set (each record's id, cell and severity) with the hash of the tab rendered from it:
while both hold, the tab is not rendered and hashed again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from datetime import datetime, tzinfo
from typing import cast

from rules.model import Finding, Location, Severity
from sync.backends.protocol import CellRange, Grid
from sync.layout.journal.render import render_findings
from sync.layout.labels import Labels
from sync.ledger.audit import content_hash
from sync.ledger.findings import FindingRow
from sync.ledger.ledger import Tx
from sync.ledger.model import FindingRecord
from sync.ledger.state import FINDINGS_ROWS_KEY


def as_finding(record: FindingRecord | FindingRow) -> Finding:
    """A stored finding as the rules made it."""
    return Finding(
        record.rule,
        Severity(record.severity),
        Location(record.journal, record.pupil_id, record.day, record.field, record.cell),
        record.message,
    )


class ShownFindings:
    """Per file: (the open findings' identity, the hash of «Замечания» rendered from them)."""

    def __init__(self) -> None:
        self._kept: dict[str, tuple[bytes, str]] = {}

    def shown(self, file_id: str, identity: bytes, last: str | None) -> bool:
        """Whether the tab, whose recorded hash is ``last``, was rendered from these findings."""
        return last is not None and self._kept.get(file_id) == (identity, last)

    def remember(self, file_id: str, identity: bytes, digest: str) -> None:
        self._kept[file_id] = (identity, digest)


def identity(records: Sequence[FindingRecord | FindingRow], high: int) -> bytes:
    """What the rendered tab depends on besides the records' fixed fields: ids, cells, severities
    and the rows to clear (a finding's rule, message and opening day never change)."""
    parts = [(r.id, r.cell, r.severity) for r in records]
    return hashlib.blake2b(repr((high, parts)).encode(), digest_size=16).digest()


def findings_update(tx: Tx, file_id: str, open_now: Sequence[FindingRecord | FindingRow],
                    tz: tzinfo, now: datetime, labels: Labels, shown: ShownFindings | None = None,
                    after_commit: Callable[[Callable[[], None]], None] | None = None,
                    records: Callable[[], Sequence[FindingRecord]] | None = None,
                    ) -> tuple[list[tuple[CellRange, Grid]], str | None]:
    """The write of «Замечания» (and the hash to record once written), or nothing when the tab
    already shows these findings. ``shown`` (with ``after_commit``: ``Tx.after_commit``): what
    was rendered before, kept once the transaction commits. ``records``: the open findings with
    their times, read only when the tab is rendered (else ``open_now`` are those records)."""
    state_key = FINDINGS_ROWS_KEY.format(file_id=file_id)
    high = int(tx.state_get(state_key) or len(render_findings((), labels=labels)))
    last = tx.tab_hash(file_id, labels.findings_tab)
    ident = identity(open_now, high) if shown is not None else b""
    if shown is not None and shown.shown(file_id, ident, last):
        return [], None
    full = records() if records is not None else cast(Sequence[FindingRecord], open_now)
    items = [(as_finding(r), r.opened.astimezone(tz).date()) for r in full]
    rows = render_findings(items, clear_rows=high, labels=labels)
    digest = content_hash(rows)
    if shown is not None and after_commit is not None:  # at the rows to clear from now on
        kept = ident if len(rows) <= high else identity(open_now, len(rows))
        after_commit(lambda: shown.remember(file_id, kept, digest))
    if last is None:  # never written by the cycle: the tab is as setup rendered it
        last = content_hash(render_findings((), clear_rows=high, labels=labels))
    if digest == last:
        return [], None
    if len(rows) > high:
        tx.state_set(state_key, str(len(rows)), now)
    return [(CellRange(labels.findings_tab, 0, 0, len(rows), 3), rows)], digest
