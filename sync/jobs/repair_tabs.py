"""Repair of the class and admin spreadsheets: only their damaged or missing tabs are re-laid out.

These files hold what the ledger does not (a roster the class teacher is correcting, the
deputy's correction rows), so a tab that still reads is kept as it is. A damaged attendance tab
is re-laid out from the ledger's absence reasons, with the cells of days still open as they were
read; whatever could not be placed is kept in the audit event ``repair.tabs``.
"""

from __future__ import annotations

import logging
from datetime import datetime

from rules.errors import LayoutError
from sync.backends.protocol import Grid, TabSpec
from sync.jobs.class_pages import ledger_class_values
from sync.jobs.service import Service
from sync.jobs.spreadsheets import file_spec, with_open_reasons
from sync.layout.admin.spec import parse_corrections
from sync.layout.class_sheet.spec import parse_class
from sync.layout.common import a1, cell_text, is_blank
from sync.layout.journal.moves import tab_of
from sync.layout.labels import RU, Labels
from sync.ledger.model import FileKind, FileRecord

log = logging.getLogger(__name__)


def restore_tabs(svc: Service, file: FileRecord, *, now: datetime, labels: Labels = RU) -> bool:
    """Re-lay out the class or admin spreadsheet's broken tabs (1 metadata read, 1 read, and
    1 write if anything is broken); True when something was re-laid out."""
    present = svc.backend.tabs(file.id)
    if file.kind is FileKind.CLASS:
        titles = [labels.roster_tab, labels.attendance_tab]
    elif file.kind is FileKind.ADMIN:
        titles = [labels.corrections_tab]
    else:
        raise LayoutError(f"file {file.id}: not a class or admin spreadsheet")
    there = [t for t in titles if t in present]
    grids: dict[str, Grid] = svc.backend.read(file.id, there) if there else {}
    dropped: list[dict[str, str]] = []
    if file.kind is FileKind.CLASS:
        reading = parse_class(grids, svc.school, file.key, labels=labels)
        broken = [t for t in reading.repair_tabs if t in titles]
        if labels.findings_tab not in present:
            broken.append(labels.findings_tab)
        with svc.ledger.snapshot() as tx:
            values = with_open_reasons(
                ledger_class_values(tx, svc.school, file.key, now.date()), reading,
                tx.absence_locked(file.key),
            )
        spec = file_spec(svc, file.kind, file.key, now=now, classes=values)
        dropped = [
            {"cell": c.cell, "raw": cell_text(c.raw)}
            for c in reading.ignored
            if tab_of(c.cell) in broken
        ]
    else:
        broken = [t for t in titles if t not in grids or not _corrections_readable(svc, grids[t])]
        if labels.lists_tab not in present:  # the dropdowns' values: the service's own, re-made
            broken.append(labels.lists_tab)
        spec = file_spec(svc, file.kind, file.key, now=now)
        dropped = [cell for t in broken for cell in _cells(t, grids.get(t, []))]
    if not broken:
        return False
    tabs: list[TabSpec] = [t for t in spec.tabs if t.title in broken]
    protections = svc.backend.replace_tabs(file.id, tabs)
    with svc.ledger.transaction() as tx:
        if protections:
            tx.set_protections(file.id, protections)
        if labels.findings_tab in broken:
            tx.set_tab_hash(file.id, labels.findings_tab, "", now)  # the next cycle rewrites it
        payload = {"file": file.id, "kind": file.kind.value, "key": file.key, "replaced": broken}
        tx.audit_append("repair.tabs", {**payload, "dropped": dropped}, now)
    log.info("%s file %s: %d tab(s) re-laid out", file.kind.value, file.id, len(broken))
    return True


def _corrections_readable(svc: Service, grid: Grid) -> bool:
    try:
        parse_corrections(grid, svc.school)
    except LayoutError:
        return False
    return True


def _cells(tab: str, grid: Grid) -> list[dict[str, str]]:
    """Every non-empty cell of a tab that is about to be replaced (kept in the audit event)."""
    return [
        {"cell": a1(tab, r, c), "raw": cell_text(v)}
        for r, row in enumerate(grid)
        for c, v in enumerate(row)
        if not is_blank(v)
    ]


__all__ = ["restore_tabs", "tab_of"]  # tab_of: sync.layout.journal.moves
