"""spreadsheets.batchUpdate: atomic (applied to a working copy, swapped in only if every request
succeeds), replies in request order (``{}`` for kinds without a reply). Unknown or unsupported
request kinds fail the whole batch with 400 INVALID_ARGUMENT — never silently ignored.
"""

from __future__ import annotations

import copy
import random
from collections.abc import Callable
from typing import Any

from . import sheets_cells, sheets_dims, sheets_meta, sheets_protect, sheets_tabs
from .errors import GoogleError, invalid_argument
from .spreadsheet import Box, Sheet, Spreadsheet

Guard = Callable[[Sheet, int, int, int, int], None]

#: Request kinds the product never sends; they fail loudly (reason for the replay skip list).
UNSUPPORTED = {
    "mergeCells": "merges", "unmergeCells": "merges", "addNamedRange": "named ranges",
    "deleteNamedRange": "named ranges", "updateNamedRange": "named ranges",
    "setBasicFilter": "filters", "clearBasicFilter": "filters", "sortRange": "sort",
    "copyPaste": "copy/paste", "cutPaste": "copy/paste", "findReplace": "find/replace",
    "autoResizeDimensions": "auto-resize needs text metrics",
    "addDimensionGroup": "row/column groups", "deleteDimensionGroup": "row/column groups",
    "addChart": "charts", "updateBorders": "borders", "pasteData": "copy/paste",
    "textToColumns": "text to columns", "addFilterView": "filters", "addBanding": "banding",
    "moveDimension": "moving rows/columns", "randomizeRange": "randomize",
    "trimWhitespace": "trim", "deleteDuplicates": "dedupe", "addSlicer": "slicers",
}


class Ctx:
    """What a request handler needs: the working copy, the caller and the edit guard."""

    def __init__(self, sp: Spreadsheet, principal: str, role: str | None, guard: Guard) -> None:
        self.sp = sp
        self.principal = principal
        self.role = role
        self.guard = guard


def clone(sp: Spreadsheet) -> Spreadsheet:
    """Working copy for an atomic batch: cells copied per row (Rich cells are never mutated),
    everything else by :func:`_dup` (JSON-like state and ``Box``es; ``copy.deepcopy`` was 2/3 of
    a protection batch's serving)."""
    work = copy.copy(sp)
    work.properties = _dup(sp.properties)
    work.metadata = _dup(sp.metadata)
    work._rng = random.Random()
    work._rng.setstate(sp._rng.getstate())
    sheets = []
    for s in sp.sheets:
        t = Sheet.__new__(Sheet)
        for name, value in vars(s).items():
            setattr(t, name, {r: dict(row) for r, row in value.items()} if name == "cells"
                    else _dup(value))
        sheets.append(t)
    work.sheets = sheets
    return work


def _dup(value: Any) -> Any:
    """A deep copy of the emulator's state: dicts, lists, tuples, ``Box``es and immutable
    atoms; anything else goes to ``copy.deepcopy`` (never silently shared)."""
    kind = type(value)
    if kind is dict:
        return {k: _dup(v) for k, v in value.items()}
    if kind is list:
        return [_dup(v) for v in value]
    if kind is tuple:
        return tuple(_dup(v) for v in value)
    if kind is Box:
        return Box(value.r0, value.r1, value.c0, value.c1)
    if kind in _ATOMS:
        return value
    return copy.deepcopy(value)


_ATOMS = frozenset({str, int, float, bool, type(None)})


def batch_update(sp: Spreadsheet, body: Any, principal: str, role: str | None,
                 guard: Guard) -> dict[str, Any]:
    """Validate+apply all requests on a copy, then commit into ``sp`` in place."""
    requests = (body or {}).get("requests")
    if not isinstance(requests, list):
        raise invalid_argument("Invalid requests: requests must be a list")
    work = clone(sp)
    ctx = Ctx(work, principal, role, guard)
    replies = []
    for i, req in enumerate(requests):
        if not isinstance(req, dict) or len(req) != 1:
            raise invalid_argument(f"Invalid requests[{i}]: exactly one request kind is required")
        kind, payload = next(iter(req.items()))
        where = f"Invalid requests[{i}].{kind}"
        handler = HANDLERS.get(kind)
        if handler is None:
            if kind in UNSUPPORTED:
                raise invalid_argument(f"{where}: emulator does not support {UNSUPPORTED[kind]}")
            raise GoogleError(400, f"Invalid JSON payload received. Unknown name \"{kind}\" at "
                              f"'requests[{i}]': Cannot find field.", "INVALID_ARGUMENT")
        replies.append(handler(ctx, payload or {}, where))
    sp.__dict__.update(work.__dict__)
    return {"spreadsheetId": sp.spreadsheet_id, "replies": replies}


def _protect(fn: Callable[..., dict[str, Any]]) -> Callable[[Ctx, dict[str, Any], str],
                                                            dict[str, Any]]:
    return lambda ctx, req, where: fn(ctx.sp, req, where, ctx.principal, ctx.role)


def _plain(fn: Callable[..., dict[str, Any]]) -> Callable[[Ctx, dict[str, Any], str],
                                                          dict[str, Any]]:
    return lambda ctx, req, where: fn(ctx.sp, req, where)


def _guarded_delete(ctx: Ctx, req: dict[str, Any], where: str) -> dict[str, Any]:
    """Deleting rows/columns edits every cell in them: plain writers pass the guard first."""
    rng = req.get("range") or {}
    sheet = ctx.sp.sheet_by_id(int(rng.get("sheetId", 0)))
    if sheet is not None and rng.get("dimension") in ("ROWS", "COLUMNS"):
        size = sheet.rows if rng["dimension"] == "ROWS" else sheet.cols
        start, end = int(rng.get("startIndex", 0)), min(int(rng.get("endIndex", size)), size)
        if start < end:
            if rng["dimension"] == "ROWS":
                ctx.guard(sheet, start, end, 0, sheet.cols)
            else:
                ctx.guard(sheet, 0, sheet.rows, start, end)
    return sheets_dims.delete_dimension(ctx.sp, req, where)


HANDLERS: dict[str, Callable[[Ctx, dict[str, Any], str], dict[str, Any]]] = {
    "addSheet": sheets_tabs.add_sheet, "deleteSheet": sheets_tabs.delete_sheet,
    "duplicateSheet": sheets_tabs.duplicate_sheet,
    "updateSheetProperties": sheets_tabs.update_sheet_properties,
    "updateSpreadsheetProperties": sheets_tabs.update_spreadsheet_properties,
    "repeatCell": sheets_cells.repeat_cell, "updateCells": sheets_cells.update_cells,
    "setDataValidation": sheets_cells.set_data_validation,
    "addConditionalFormatRule": sheets_cells.add_conditional_format_rule,
    "deleteConditionalFormatRule": sheets_cells.delete_conditional_format_rule,
    "addProtectedRange": _protect(sheets_protect.add_protected_range),
    "updateProtectedRange": _protect(sheets_protect.update_protected_range),
    "deleteProtectedRange": _protect(sheets_protect.delete_protected_range),
    "insertDimension": _plain(sheets_dims.insert_dimension),
    "deleteDimension": lambda ctx, req, where: _guarded_delete(ctx, req, where),
    "appendDimension": _plain(sheets_dims.append_dimension),
    "updateDimensionProperties": _plain(sheets_dims.update_dimension_properties),
    "createDeveloperMetadata": _plain(sheets_meta.create_developer_metadata),
    "updateDeveloperMetadata": _plain(sheets_meta.update_developer_metadata),
    "deleteDeveloperMetadata": _plain(sheets_meta.delete_developer_metadata),
}

__all__ = ["HANDLERS", "UNSUPPORTED", "Ctx", "batch_update"]
