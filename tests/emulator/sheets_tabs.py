"""batchUpdate requests on sheets and the spreadsheet: add/delete/duplicate sheets, properties.

Sheet ``index`` is renumbered on every add/delete/move (cassette fact 7); a sheet move uses
Google's "index before removal" convention; shrinking the grid drops cut-off content.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from . import sheets_dims, sheets_protect
from .cellvalues import Rich
from .errors import invalid_argument
from .fields import apply_update
from .sheets_cells import get_sheet, normalise_colors
from .spreadsheet import Sheet, Spreadsheet, new_sheet_props, prune_props

if TYPE_CHECKING:
    from .sheets_batch import Ctx

# ---- sheets -------------------------------------------------------------------------------------

def _unique_title(sp: Spreadsheet, title: str, where: str, skip: Sheet | None = None) -> None:
    if any(s.title.lower() == title.lower() for s in sp.sheets if s is not skip):
        raise invalid_argument(f'{where}: A sheet with the name "{title}" already exists. '
                               "Please enter another name.")


def _place(sp: Spreadsheet, sheet: Sheet, index: Any) -> None:
    others = [s for s in sp.sheets if s is not sheet]
    pos = len(others) if index is None else max(0, min(int(index), len(others)))
    others.insert(pos, sheet)
    for i, s in enumerate(others):
        s.props["index"] = i
    sp.sheets = others


def add_sheet(ctx: Ctx, req: dict[str, Any], where: str) -> dict[str, Any]:
    sp = ctx.sp
    props = copy.deepcopy(req.get("properties") or {})
    if props.get("sheetType", "GRID") != "GRID":
        raise invalid_argument(f"{where}: emulator supports GRID sheets only")
    taken = {s.sheet_id for s in sp.sheets}
    sid = props.get("sheetId")
    if sid is not None and int(sid) in taken:
        raise invalid_argument(f"{where}: A sheet with id {sid} already exists.")
    if sid is None:
        sid = sp.new_id(taken)
    title = props.get("title")
    if not title:
        n = len(sp.sheets) + 1
        while any(s.title == f"Sheet{n}" for s in sp.sheets):
            n += 1
        title = f"Sheet{n}"
    _unique_title(sp, title, where)
    grid = props.get("gridProperties") or {}
    new = new_sheet_props(int(sid), title, 0, int(grid.get("rowCount", 1000)),
                          int(grid.get("columnCount", 26)))
    extra = {k: v for k, v in props.items()
             if k not in ("sheetId", "title", "index", "sheetType", "gridProperties")}
    new.update(extra)
    new["gridProperties"].update({k: v for k, v in grid.items()
                                  if k not in ("rowCount", "columnCount")})
    sheet = Sheet(new)
    _place(sp, sheet, props.get("index"))
    return {"addSheet": {"properties": prune_props(sheet.props)}}


def delete_sheet(ctx: Ctx, req: dict[str, Any], where: str) -> dict[str, Any]:
    sp = ctx.sp
    sheet = sp.sheet_by_id(int(req.get("sheetId", 0)))
    if sheet is None:
        raise invalid_argument(f"{where}: No sheet with id: {req.get('sheetId', 0)}")
    if len(sp.sheets) == 1:
        raise invalid_argument(f"{where}: You can't remove all the sheets in a document.")
    if sheet.protected and not sheets_protect.is_admin(ctx.role):
        raise sheets_protect.protected_error()
    sp.sheets.remove(sheet)
    sp.reindex()
    if all(s.props.get("hidden") for s in sp.sheets):
        sp.sheets[0].props.pop("hidden", None)
    return {}


def duplicate_sheet(ctx: Ctx, req: dict[str, Any], where: str) -> dict[str, Any]:
    sp = ctx.sp
    src = sp.sheet_by_id(int(req.get("sourceSheetId", 0)))
    if src is None:
        raise invalid_argument(f"{where}: No sheet with id: {req.get('sourceSheetId', 0)}")
    taken = {s.sheet_id for s in sp.sheets}
    sid = req.get("newSheetId")
    if sid is not None and int(sid) in taken:
        raise invalid_argument(f"{where}: A sheet with id {sid} already exists.")
    title = req.get("newSheetName") or f"Copy of {src.title}"
    _unique_title(sp, title, where)
    new = clone_sheet(src)
    new.props["sheetId"] = int(sid) if sid is not None else sp.new_id(taken)
    new.props["title"] = title
    ids = sp.all_protected_ids()
    for pr in new.protected:
        pr["protectedRangeId"] = sp.new_id(ids)
        ids.add(pr["protectedRangeId"])
    new.metadata = []
    index = req.get("insertSheetIndex")
    _place(sp, new, src.props["index"] + 1 if index is None else index)
    return {"duplicateSheet": {"properties": prune_props(new.props)}}


def clone_sheet(src: Sheet) -> Sheet:
    cells = src.cells
    src.cells = {}
    new = copy.deepcopy(src)
    src.cells = cells
    new.cells = {r: {c: (v.copy() if isinstance(v, Rich) else v) for c, v in row.items()}
                 for r, row in cells.items()}
    return new


def update_sheet_properties(ctx: Ctx, req: dict[str, Any], where: str) -> dict[str, Any]:
    sp = ctx.sp
    props = req.get("properties") or {}
    mask = req.get("fields")
    if not mask:
        raise invalid_argument(f"{where}: At least one field must be updated.")
    sheet = get_sheet(sp, props.get("sheetId", 0), where)
    old_index = sheet.props["index"]
    new = copy.deepcopy(sheet.props)
    apply_update(new, normalise_colors(props), mask)
    new["sheetId"] = sheet.sheet_id
    new.setdefault("gridProperties", {})
    for key, minimum in (("rowCount", 1), ("columnCount", 1)):
        value = new["gridProperties"].get(key, sheet.props["gridProperties"][key])
        if int(value) < minimum:
            raise invalid_argument(f"{where}: {key} must be at least {minimum}")
        new["gridProperties"][key] = int(value)
    if not new.get("title"):
        raise invalid_argument(f"{where}: sheet title must not be empty")
    if new["title"] != sheet.title:
        _unique_title(sp, new["title"], where, skip=sheet)
    if new.get("hidden") and all(s.props.get("hidden") for s in sp.sheets if s is not sheet):
        raise invalid_argument(f"{where}: You can't hide all the sheets in a document.")
    frozen = new["gridProperties"]
    if frozen.get("frozenRowCount", 0) > frozen["rowCount"] or frozen.get(
            "frozenColumnCount", 0) > frozen["columnCount"]:
        raise invalid_argument(f"{where}: frozen rows/columns exceed the grid")
    new_index = new.get("index", old_index)
    new["index"] = old_index
    _truncate(sheet, new["gridProperties"]["rowCount"], new["gridProperties"]["columnCount"])
    sheet.props = new
    if new_index != old_index:
        # Google's index is the position *before* removal of the moved sheet.
        target = int(new_index) - (1 if int(new_index) > old_index else 0)
        _place(sp, sheet, target)
    return {}


def _truncate(sheet: Sheet, rows: int, cols: int) -> None:
    """Shrinking the grid drops the cut-off cells and properties."""
    if rows < sheet.rows:
        sheets_dims.shift_sheet(sheet, "ROWS", rows, -(sheet.rows - rows))
    if cols < sheet.cols:
        sheets_dims.shift_sheet(sheet, "COLUMNS", cols, -(sheet.cols - cols))


def update_spreadsheet_properties(ctx: Ctx, req: dict[str, Any], where: str) -> dict[str, Any]:
    mask = req.get("fields")
    if not mask:
        raise invalid_argument(f"{where}: At least one field must be updated.")
    new = copy.deepcopy(ctx.sp.properties)
    apply_update(new, req.get("properties") or {}, mask)
    if not new.get("title"):
        raise invalid_argument(f"{where}: title must not be empty")
    ctx.sp.properties = new
    return {}

