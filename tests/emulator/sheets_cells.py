"""batchUpdate requests on cells: repeatCell, updateCells, setDataValidation, conditional formats.

Formats are stored as range layers with their field mask; colours are quantised to 8 bits and get
``*ColorStyle`` mirrors as Google does (cassette test_format); value/note edits pass the guard.
"""

from __future__ import annotations

import copy
import functools
import struct
from typing import TYPE_CHECKING, Any

from .a1 import parse_a1
from .cellvalues import Rich
from .errors import invalid_argument
from .fields import parse_mask
from .spreadsheet import Box, Sheet, Spreadsheet

if TYPE_CHECKING:
    from .sheets_batch import Ctx

def get_sheet(sp: Spreadsheet, sheet_id: Any, where: str) -> Sheet:
    sheet = sp.sheet_by_id(int(sheet_id or 0))
    if sheet is None:
        raise invalid_argument(f"{where}: No grid with id: {sheet_id or 0}")
    return sheet


# ---- cells --------------------------------------------------------------------------------------

def _grid_box(ctx: Ctx, gr: Any, where: str) -> tuple[Sheet, Box]:
    if not isinstance(gr, dict):
        raise invalid_argument(f"{where}: range is required.")
    sheet = get_sheet(ctx.sp, gr.get("sheetId", 0), where)
    box = Box.from_grid_range(gr)
    if (box.r1 or 0) > sheet.rows or (box.c1 or 0) > sheet.cols:
        raise invalid_argument(f"{where}: Range ({sheet.title}!{_a1ish(box)}) exceeds grid limits."
                               f" Max rows: {sheet.rows}, max columns: {sheet.cols}")
    return sheet, box


def _a1ish(box: Box) -> str:
    return f"R{(box.r0 or 0) + 1}C{(box.c0 or 0) + 1}:R{box.r1}C{box.c1}"


def _float32(v: float) -> float:
    """Shortest decimal that round-trips through float32 (Google stores colours as floats)."""
    packed = struct.pack("<f", v)
    for digits in range(6, 10):
        text = f"{v:.{digits}g}"
        if struct.pack("<f", float(text)) == packed:
            return float(text)
    return v


def clean(color: dict[str, Any]) -> dict[str, Any]:
    """Quantise colour channels to 8 bits (0.5 -> 0.49803922, cassette) and drop zeros."""
    out = {}
    for k, v in color.items():
        if isinstance(v, int | float) and k in ("red", "green", "blue"):
            v = _float32(int(v * 255) / 255)
            v = int(v) if v.is_integer() else v
        if v not in (0, 0.0):
            out[k] = v
    return out


def normalise_colors(value: Any) -> Any:
    """Apply ``clean`` to every rgb colour inside a properties/format object."""
    if isinstance(value, dict):
        if value and set(value) <= {"red", "green", "blue", "alpha"}:
            return clean(value)
        return {k: normalise_colors(v) for k, v in value.items()}
    if isinstance(value, list):
        return [normalise_colors(v) for v in value]
    return value


def normalise_format(fmt: dict[str, Any]) -> dict[str, Any]:
    """Google adds ``*ColorStyle`` mirrors of colours and drops zero colour channels."""
    out = normalise_colors(copy.deepcopy(fmt))

    if isinstance(out.get("backgroundColor"), dict):
        out["backgroundColor"] = clean(out["backgroundColor"])
        out.setdefault("backgroundColorStyle", {"rgbColor": dict(out["backgroundColor"])})
    tf = out.get("textFormat")
    if isinstance(tf, dict) and isinstance(tf.get("foregroundColor"), dict):
        tf["foregroundColor"] = clean(tf["foregroundColor"])
        tf.setdefault("foregroundColorStyle", {"rgbColor": dict(tf["foregroundColor"])})
    return out


@functools.lru_cache(maxsize=256)  # one mask per request, asked for every cell it updates
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
        sheet = get_sheet(ctx.sp, start.get("sheetId", 0), where)
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
    if rule is not None and rule["condition"]["type"] == "ONE_OF_RANGE":
        _check_source(ctx, rule["condition"].get("values") or [], where)
    sheet.validations.append((box, copy.deepcopy(rule)))
    return {}


def _check_source(ctx: Ctx, values: list[Any], where: str) -> None:
    """ONE_OF_RANGE (the API reference): exactly one ConditionValue, a formula naming a range
    ("=Sheet!A2:A9") — here also of a sheet the spreadsheet has when the request runs."""
    text = str(values[0].get("userEnteredValue", "")) if len(values) == 1 else ""
    if not text.startswith("="):
        raise invalid_argument(f"{where}: ONE_OF_RANGE needs one ConditionValue, a range "
                               f"formula such as =Sheet1!A1:A10")
    parse_a1(text[1:], ctx.sp.titles())  # an unknown sheet: "Unable to parse range"


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
    sheet = get_sheet(ctx.sp, req.get("sheetId", 0), where)
    index = int(req.get("index", 0))
    if not 0 <= index < len(sheet.cond_formats):
        raise invalid_argument(f"{where}: No conditional format on sheet: {sheet.sheet_id} at "
                               f"index: {index}")
    cf = sheet.cond_formats.pop(index)
    rule = {"ranges": [b.to_grid_range(sheet.sheet_id) for b in cf["ranges"]],
            **{k: v for k, v in cf.items() if k != "ranges"}}
    return {"deleteConditionalFormatRule": {"rule": rule}}

