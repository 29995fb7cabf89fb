"""Edits of one open workbook for the ``local`` backend: tabs, values and protection.

Each function changes a loaded openpyxl workbook and the file's manifest entry together (the tab
state: protection, open ranges, extent); :meth:`sync.backends.local.backend.LocalBackend._modify` loads,
runs one of them, and saves both atomically — or changes nothing when it raises.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from openpyxl.workbook.workbook import Workbook

from rules.errors import BackendError
from sync.backends.local import xlsx
from sync.backends.local.manifest import FileEntry, TabState
from sync.backends.protocol import CellRange, Grid, TabMissing, TabSpec


def add_tabs(file_id: str, wb: Workbook, entry: FileEntry, tabs: Sequence[TabSpec]) -> None:
    """Lay out new tabs at the end; a title already there (any case) is refused."""
    seen = {t.casefold() for t in wb.sheetnames}
    for tab in tabs:
        if tab.title.casefold() in seen:
            raise BackendError(f"file {file_id}: tab {tab.title!r} already exists")
        seen.add(tab.title.casefold())
        entry.tabs[tab.title] = xlsx.lay_out_tab(wb, tab)


def replace_tabs(wb: Workbook, entry: FileEntry, tabs: Sequence[TabSpec]) -> None:
    """Lay out the named tabs afresh; a replaced tab keeps its place."""
    for tab in tabs:
        xlsx.check_tab_title(tab.title)
        old = next((t for t in wb.sheetnames if t.casefold() == tab.title.casefold()), None)
        index = None if old is None else wb.sheetnames.index(old)
        if old is not None:
            wb.remove(wb[old])
            entry.tabs.pop(old, None)
        entry.tabs[tab.title] = xlsx.lay_out_tab(wb, tab)
        if index is not None:
            wb.move_sheet(tab.title, index - (len(wb.sheetnames) - 1))


def rename_tab(file_id: str, wb: Workbook, entry: FileEntry, old: str, new: str) -> None:
    """Rename a tab, carrying its protection state (open ranges re-pointed at the new title)."""
    if old not in wb.sheetnames:
        raise TabMissing(file_id, [old])
    if new != old and new.casefold() in {t.casefold() for t in wb.sheetnames if t != old}:
        raise BackendError(f"file {file_id}: cannot rename tab {old!r}: {new!r} exists")
    xlsx.check_tab_title(new)
    wb[old].title = new
    state = entry.tabs.pop(old, None)
    if state is not None:
        entry.tabs[new] = TabState(state.protected, [xlsx.on_tab(new, r) for r in state.open],
                                   state.extent)


def write_values(file_id: str, wb: Workbook, updates: Sequence[tuple[CellRange, Grid]]) -> None:
    """Set values RAW (text stays text, ``"=…"`` is never a formula); every tab must exist."""
    missing = [r.tab for r, _ in updates if r.tab not in wb.sheetnames]
    if missing:
        raise TabMissing(file_id, list(dict.fromkeys(missing)))
    for rng, grid in updates:
        xlsx.set_values(wb[rng.tab], rng, grid)


def protect(file_id: str, wb: Workbook, entry: FileEntry,
            open_ranges: Mapping[str, Sequence[CellRange]]) -> None:
    """Protect each named tab and unlock exactly its open ranges (the extent only grows)."""
    missing = [t for t in open_ranges if t not in wb.sheetnames]
    if missing:
        raise TabMissing(file_id, missing)
    for tab, ranges in open_ranges.items():
        ws = wb[tab]
        old = entry.tabs.get(tab)
        extent = (max(old.extent[0] if old else 0, ws.max_row),
                  max(old.extent[1] if old else 0, ws.max_column))
        wanted = [xlsx.on_tab(tab, r) for r in ranges]
        xlsx.apply_open_ranges(ws, wanted, extent)
        entry.tabs[tab] = TabState(True, wanted, extent)
