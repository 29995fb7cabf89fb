"""A1 resolution against a spreadsheet, and ``GridData`` for includeGridData / ``sheets.data``.

Grid data follows the cassettes (``fields=sheets.data.rowData.values.note``): rows run from the
range start to the last row holding anything, each row's ``values`` to its last non-empty cell,
empty cells are ``{}``; row/column metadata cover the whole (grid-clipped) range.
"""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

from . import formula
from .a1 import parse_a1
from .cellvalues import Rich, format_number, unformatted
from .errors import invalid_argument

if TYPE_CHECKING:
    from .spreadsheet import Sheet, Spreadsheet


def resolve_a1(sp: Spreadsheet, text: str) -> tuple[Sheet, Any]:
    """``'Sheet1'!A1:B2`` -> (sheet, Box). A missing sheet part means the first sheet."""
    from .spreadsheet import Box

    ref = parse_a1(text, sp.titles())
    sheet = sp.sheet_by_title(ref.sheet) if ref.sheet is not None else sp.sheets[0]
    if sheet is None:  # pragma: no cover - parse_a1 already checked the title
        raise invalid_argument(f"Unable to parse range: {text}")
    return sheet, Box(ref.r0, ref.r1, ref.c0, ref.c1)


def resolve_ranges(sp: Spreadsheet, ranges: list[str]) -> dict[int, list[Any]]:
    """spreadsheets.get ``ranges=`` -> {sheetId: [Box, …]} in request order."""
    out: dict[int, list[Any]] = {}
    for text in ranges:
        sheet, box = resolve_a1(sp, text)
        out.setdefault(sheet.sheet_id, []).append(box)
    return out


def cell_value(sp: Spreadsheet, sheet: Sheet, r: int, c: int, depth: int = 0) -> Any:
    """Computed value of a cell (formulas evaluated), None when empty."""
    cell = sheet.get(r, c)
    if isinstance(cell, Rich):
        if cell.formula is not None:
            if depth > 50:
                return "#REF!"
            return formula.evaluate(cell.formula,
                                    lambda rr, cc: cell_value(sp, sheet, rr, cc, depth + 1))
        return cell.value
    return cell


def _typed(v: Any) -> dict[str, Any]:
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int | float):
        return {"numberValue": unformatted(v)}
    if isinstance(v, str) and v.startswith("#") and v.endswith(("!", "?", "A")):
        return {"errorValue": {"type": "ERROR", "message": v}}
    return {"stringValue": v}


def cell_data(sp: Spreadsheet, sheet: Sheet, r: int, c: int) -> dict[str, Any]:
    """CellData of one cell ({} when it holds nothing)."""
    out: dict[str, Any] = {}
    cell = sheet.get(r, c)
    fmt = sheet.user_format(r, c) if sheet.formats else {}
    numfmt = fmt.get("numberFormat")
    if isinstance(cell, Rich) and cell.numfmt:
        numfmt = cell.numfmt
        fmt = {**fmt, "numberFormat": dict(cell.numfmt)}
    if cell is not None and not (isinstance(cell, Rich) and cell.value is None
                                 and cell.formula is None):
        if isinstance(cell, Rich) and cell.formula is not None:
            out["userEnteredValue"] = {"formulaValue": cell.formula}
        else:
            raw = cell.value if isinstance(cell, Rich) else cell
            out["userEnteredValue"] = _typed(raw)
        value = cell_value(sp, sheet, r, c)
        out["effectiveValue"] = _typed(value)
        out["formattedValue"] = (value if isinstance(value, str)
                                 else format_number(value, numfmt, sp.locale))
    if fmt:
        out["userEnteredFormat"] = fmt
    if isinstance(cell, Rich) and cell.note:
        out["note"] = cell.note
    rule = sheet.validation(r, c) if sheet.validations else None
    if rule:
        out["dataValidation"] = copy.deepcopy(rule)
    return out


def _has_content(sheet: Sheet, r: int, c: int) -> bool:
    if sheet.get(r, c) is not None:
        return True
    if any(box.contains(r, c) for box, _, _ in sheet.formats):
        return True
    return any(rule and box.contains(r, c) for box, rule in sheet.validations)


def grid_data(sp: Spreadsheet, sheet: Sheet, box: Any) -> dict[str, Any]:
    """GridData for ``box`` (clipped to the grid)."""
    r0, r1, c0, c1 = box.clip(sheet.rows, sheet.cols)
    out: dict[str, Any] = {}
    if r0:
        out["startRow"] = r0
    if c0:
        out["startColumn"] = c0
    layered = bool(sheet.formats or sheet.validations)
    if layered:
        rows = range(r0, r1)
    else:
        rows = range(r0, min(r1, max((r for r in sheet.cells if r0 <= r < r1), default=-1) + 1))
    row_data: list[dict[str, Any]] = []
    for r in rows:
        if layered:
            last = max((c for c in range(c0, c1) if _has_content(sheet, r, c)), default=-1)
        else:
            last = max((c for c in sheet.cells.get(r, {}) if c0 <= c < c1), default=-1)
        if last < 0:
            row_data.append({})
            continue
        row_data.append({"values": [cell_data(sp, sheet, r, c) for c in range(c0, last + 1)]})
    while row_data and not row_data[-1]:
        row_data.pop()
    if row_data:
        out["rowData"] = row_data
    out["rowMetadata"] = [_dim_meta(sheet.row_meta.get(r), 21) for r in range(r0, r1)]
    out["columnMetadata"] = [_dim_meta(sheet.col_meta.get(c), 100) for c in range(c0, c1)]
    return out


def _dim_meta(meta: dict[str, Any] | None, default_px: int) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if meta and meta.get("hiddenByUser"):
        out["hiddenByUser"] = True
    out["pixelSize"] = (meta or {}).get("pixelSize", default_px)
    return out
