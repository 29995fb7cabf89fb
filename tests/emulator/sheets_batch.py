"""spreadsheets.batchUpdate: atomic (applied to a working copy, swapped in only if every request
succeeds), replies in request order (``{}`` for kinds without a reply). Unknown or unsupported
request kinds fail the whole batch with 400 INVALID_ARGUMENT — never silently ignored.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from . import sheets_dims, sheets_meta, sheets_protect
from .cellvalues import Rich, parse_user_entered
from .errors import GoogleError, invalid_argument
from .fields import apply_update, parse_mask
from .spreadsheet import Box, Sheet, Spreadsheet, new_sheet_props, prune_props

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
    """Working copy for an atomic batch (cells copied per row; Rich cells are never mutated)."""
    work = copy.copy(sp)
    work.properties = copy.deepcopy(sp.properties)
    work.metadata = copy.deepcopy(sp.metadata)
    work._rng = copy.deepcopy(sp._rng)
    sheets = []
    for s in sp.sheets:
        cells = s.cells
        s.cells = {}
        t = copy.deepcopy(s)
        s.cells = cells
        t.cells = {r: dict(row) for r, row in cells.items()}
        sheets.append(t)
    work.sheets = sheets
    return work


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


# ---- sheets -------------------------------------------------------------------------------------

def _sheet(sp: Spreadsheet, sheet_id: Any, where: str) -> Sheet:
    sheet = sp.sheet_by_id(int(sheet_id or 0))
    if sheet is None:
        raise invalid_argument(f"{where}: No grid with id: {sheet_id or 0}")
    return sheet


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
    sheet = _sheet(sp, props.get("sheetId", 0), where)
    old_index = sheet.props["index"]
    new = copy.deepcopy(sheet.props)
    apply_update(new, props, mask)
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


# ---- cells --------------------------------------------------------------------------------------

def _grid_box(ctx: Ctx, gr: Any, where: str) -> tuple[Sheet, Box]:
    if not isinstance(gr, dict):
        raise invalid_argument(f"{where}: range is required.")
    sheet = _sheet(ctx.sp, gr.get("sheetId", 0), where)
    box = Box.from_grid_range(gr)
    if (box.r1 or 0) > sheet.rows or (box.c1 or 0) > sheet.cols:
        raise invalid_argument(f"{where}: Range ({sheet.title}!{_a1ish(box)}) exceeds grid limits."
                               f" Max rows: {sheet.rows}, max columns: {sheet.cols}")
    return sheet, box


def _a1ish(box: Box) -> str:
    return f"R{(box.r0 or 0) + 1}C{(box.c0 or 0) + 1}:R{box.r1}C{box.c1}"


def normalise_format(fmt: dict[str, Any]) -> dict[str, Any]:
    """Google adds ``*ColorStyle`` mirrors of colours and drops zero colour channels."""
    out = copy.deepcopy(fmt)

    def clean(color: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in color.items() if v not in (0, 0.0)}

    if isinstance(out.get("backgroundColor"), dict):
        out["backgroundColor"] = clean(out["backgroundColor"])
        out.setdefault("backgroundColorStyle", {"rgbColor": dict(out["backgroundColor"])})
    tf = out.get("textFormat")
    if isinstance(tf, dict) and isinstance(tf.get("foregroundColor"), dict):
        tf["foregroundColor"] = clean(tf["foregroundColor"])
        tf.setdefault("foregroundColorStyle", {"rgbColor": dict(tf["foregroundColor"])})
    return out


def _sub_mask(mask: str, field: str) -> str | None:
    """``userEnteredFormat(textFormat)`` -> "textFormat"; whole field -> "*"; absent -> None."""
    tree = parse_mask(mask)
    if "*" in tree:
        return "*"
    if field not in tree:
        return None
    sub = tree[field]
    if sub is None:
        return "*"
    return ",".join(_paths(sub))


def _paths(tree: dict[str, Any], prefix: str = "") -> list[str]:
    out = []
    for k, v in tree.items():
        out.extend([prefix + k] if v is None else _paths(v, f"{prefix}{k}."))
    return out


def _set_cell(ctx: Ctx, sheet: Sheet, r: int, c: int, cell: dict[str, Any], mask: str) -> None:
    value_mask = _sub_mask(mask, "userEnteredValue")
    note_mask = _sub_mask(mask, "note")
    if value_mask is None and note_mask is None:
        return
    old = sheet.get(r, c)
    note = old.note if isinstance(old, Rich) else None
    value: Any = old.copy() if isinstance(old, Rich) else old
    if value_mask is not None:
        uev = cell.get("userEnteredValue") or {}
        if "formulaValue" in uev:
            value = Rich(formula=uev["formulaValue"])
        elif "numberValue" in uev:
            value = uev["numberValue"]
        elif "boolValue" in uev:
            value = bool(uev["boolValue"])
        elif "stringValue" in uev:
            value = uev["stringValue"] or None
        elif "errorValue" in uev:
            raise invalid_argument("errorValue cannot be set")
        else:
            value = None
    if note_mask is not None:
        note = cell.get("note") or None
    plain = value.value if isinstance(value, Rich) and value.formula is None and not value.numfmt \
        else value
    if note:
        value = value.copy() if isinstance(value, Rich) else Rich(value=plain)
        value.note = note
    elif isinstance(value, Rich):
        value = value.copy()
        value.note = None
        if value.formula is None and not value.numfmt:
            value = value.value
    sheet.set(r, c, value)


def repeat_cell(ctx: Ctx, req: dict[str, Any], where: str) -> dict[str, Any]:
    sheet, box = _grid_box(ctx, req.get("range"), where)
    mask = req.get("fields")
    if not mask:
        raise invalid_argument(f"{where}: At least one field must be updated.")
    cell = req.get("cell") or {}
    r0, r1, c0, c1 = box.clip(sheet.rows, sheet.cols)
    _apply_format(sheet, box, cell, mask)
    if _sub_mask(mask, "userEnteredValue") is not None or _sub_mask(mask, "note") is not None:
        ctx.guard(sheet, r0, r1, c0, c1)
        for r in range(r0, r1):
            for c in range(c0, c1):
                _set_cell(ctx, sheet, r, c, cell, mask)
    if _sub_mask(mask, "dataValidation") is not None:
        sheet.validations.append((box, copy.deepcopy(cell.get("dataValidation"))))
    return {}


def _apply_format(sheet: Sheet, box: Box, cell: dict[str, Any], mask: str) -> None:
    fmt_mask = _sub_mask(mask, "userEnteredFormat")
    if fmt_mask is None:
        return
    fmt = normalise_format(cell.get("userEnteredFormat") or {})
    if fmt_mask != "*":
        fmt_mask = ",".join(sorted({*fmt_mask.split(","), *(
            p.replace("backgroundColor", "backgroundColorStyle") for p in fmt_mask.split(",")
            if p == "backgroundColor")}))
    sheet.formats.append((Box(box.r0, box.r1, box.c0, box.c1), fmt, fmt_mask))
    if fmt_mask == "*" or "numberFormat" in fmt_mask:  # a new number format beats auto ones
        for r, row in sheet.cells.items():
            for c, v in list(row.items()):
                if isinstance(v, Rich) and v.numfmt and box.contains(r, c):
                    nv = v.copy()
                    nv.numfmt = None
                    row[c] = nv


def update_cells(ctx: Ctx, req: dict[str, Any], where: str) -> dict[str, Any]:
    mask = req.get("fields")
    if not mask:
        raise invalid_argument(f"{where}: At least one field must be updated.")
    rows = req.get("rows") or []
    if "start" in req:
        start = req["start"]
        sheet = _sheet(ctx.sp, start.get("sheetId", 0), where)
        r0, c0 = start.get("rowIndex", 0), start.get("columnIndex", 0)
        r1 = r0 + len(rows)
        c1 = c0 + max((len(r.get("values") or []) for r in rows), default=0)
        box = Box(r0, r1, c0, c1)
    elif "range" in req:
        sheet, box = _grid_box(ctx, req["range"], where)
        r0, r1, c0, c1 = box.clip(sheet.rows, sheet.cols)
    else:
        raise invalid_argument(f"{where}: start or range is required.")
    if r1 > sheet.rows or c1 > sheet.cols:
        raise invalid_argument(f"{where}: Range exceeds grid limits. Max rows: {sheet.rows}, "
                               f"max columns: {sheet.cols}")
    if _sub_mask(mask, "userEnteredValue") is not None or _sub_mask(mask, "note") is not None:
        ctx.guard(sheet, r0, r1, c0, c1)
    for i, r in enumerate(range(r0, r1)):
        values = (rows[i].get("values") or []) if i < len(rows) else []
        for j, c in enumerate(range(c0, c1)):
            cell = values[j] if j < len(values) else {}
            _set_cell(ctx, sheet, r, c, cell, mask)
            if _sub_mask(mask, "userEnteredFormat") is not None and (cell or "range" in req):
                _apply_format(sheet, Box(r, r + 1, c, c + 1), cell, mask)
            if _sub_mask(mask, "dataValidation") is not None:
                sheet.validations.append((Box(r, r + 1, c, c + 1),
                                          copy.deepcopy(cell.get("dataValidation"))))
    return {}


def set_data_validation(ctx: Ctx, req: dict[str, Any], where: str) -> dict[str, Any]:
    sheet, box = _grid_box(ctx, req.get("range"), where)
    rule = req.get("rule")
    if rule is not None and not (rule.get("condition") or {}).get("type"):
        raise invalid_argument(f"{where}: rule.condition.type is required")
    sheet.validations.append((box, copy.deepcopy(rule)))
    return {}


def add_conditional_format_rule(ctx: Ctx, req: dict[str, Any], where: str) -> dict[str, Any]:
    rule = copy.deepcopy(req.get("rule") or {})
    ranges = rule.pop("ranges", None) or []
    if not ranges or not ("booleanRule" in rule or "gradientRule" in rule):
        raise invalid_argument(f"{where}: rule needs ranges and a booleanRule or gradientRule")
    boxes = [_grid_box(ctx, gr, where) for gr in ranges]
    sheet = boxes[0][0]
    if any(s is not sheet for s, _ in boxes):
        raise invalid_argument(f"{where}: All ranges must be on the same sheet.")
    index = int(req.get("index", 0))
    sheet.cond_formats.insert(index, {"ranges": [b for _, b in boxes], **rule})
    return {}


def delete_conditional_format_rule(ctx: Ctx, req: dict[str, Any], where: str) -> dict[str, Any]:
    sheet = _sheet(ctx.sp, req.get("sheetId", 0), where)
    index = int(req.get("index", 0))
    if not 0 <= index < len(sheet.cond_formats):
        raise invalid_argument(f"{where}: No conditional format on sheet: {sheet.sheet_id} at "
                               f"index: {index}")
    cf = sheet.cond_formats.pop(index)
    rule = {"ranges": [b.to_grid_range(sheet.sheet_id) for b in cf["ranges"]],
            **{k: v for k, v in cf.items() if k != "ranges"}}
    return {"deleteConditionalFormatRule": {"rule": rule}}


def _protect(fn: Callable[..., dict[str, Any]]) -> Callable[[Ctx, dict[str, Any], str],
                                                            dict[str, Any]]:
    return lambda ctx, req, where: fn(ctx.sp, req, where, ctx.principal, ctx.role)


def _plain(fn: Callable[..., dict[str, Any]]) -> Callable[[Ctx, dict[str, Any], str],
                                                          dict[str, Any]]:
    return lambda ctx, req, where: fn(ctx.sp, req, where)


HANDLERS: dict[str, Callable[[Ctx, dict[str, Any], str], dict[str, Any]]] = {
    "addSheet": add_sheet, "deleteSheet": delete_sheet, "duplicateSheet": duplicate_sheet,
    "updateSheetProperties": update_sheet_properties,
    "updateSpreadsheetProperties": update_spreadsheet_properties,
    "repeatCell": repeat_cell, "updateCells": update_cells,
    "setDataValidation": set_data_validation,
    "addConditionalFormatRule": add_conditional_format_rule,
    "deleteConditionalFormatRule": delete_conditional_format_rule,
    "addProtectedRange": _protect(sheets_protect.add_protected_range),
    "updateProtectedRange": _protect(sheets_protect.update_protected_range),
    "deleteProtectedRange": _protect(sheets_protect.delete_protected_range),
    "insertDimension": _plain(sheets_dims.insert_dimension),
    "deleteDimension": _plain(sheets_dims.delete_dimension),
    "appendDimension": _plain(sheets_dims.append_dimension),
    "updateDimensionProperties": _plain(sheets_dims.update_dimension_properties),
    "createDeveloperMetadata": _plain(sheets_meta.create_developer_metadata),
    "updateDeveloperMetadata": _plain(sheets_meta.update_developer_metadata),
    "deleteDeveloperMetadata": _plain(sheets_meta.delete_developer_metadata),
}

__all__ = ["HANDLERS", "UNSUPPORTED", "batch_update", "parse_user_entered"]
