"""Dimension requests: insert/delete/append rows or columns and updateDimensionProperties.

Inserting or deleting shifts everything anchored to the grid: cell values, row/column properties,
format and validation layers, protected ranges (and their unprotected holes), conditional format
ranges and dimension-located developer metadata. A range that loses all its rows/columns is
dropped (protections included), as in the Sheets UI.
"""

from __future__ import annotations

from typing import Any

from .errors import invalid_argument
from .fields import apply_update
from .spreadsheet import Box, Sheet, Spreadsheet


def _dim_range(sp: Spreadsheet, rng: Any, where: str) -> tuple[Sheet, str, int, int]:
    if not isinstance(rng, dict):
        raise invalid_argument(f"{where}: range is required.")
    sheet = sp.sheet_by_id(int(rng.get("sheetId", 0)))
    if sheet is None:
        raise invalid_argument(f"{where}: No grid with id: {rng.get('sheetId', 0)}")
    dim = rng.get("dimension")
    if dim not in ("ROWS", "COLUMNS"):
        raise invalid_argument(f"{where}: range.dimension must be ROWS or COLUMNS")
    size = sheet.rows if dim == "ROWS" else sheet.cols
    start = int(rng.get("startIndex", 0))
    end = int(rng.get("endIndex", size)) if rng.get("endIndex") is not None else size
    if start < 0 or end <= start:
        raise invalid_argument(f"{where}: Invalid dimension range [{start}, {end})")
    return sheet, dim, start, end


def _shift(v: int | None, at: int, n: int, is_end: bool) -> int | None:
    """Move one bound for an insertion of ``n`` at ``at`` (n<0: deletion of [at, at-n))."""
    if v is None:
        return None
    if n > 0:
        return v + n if (v > at if is_end else v >= at) else v
    stop = at - n
    if v >= stop:
        return v + n
    return min(v, at) if v > at else v


def _shift_box(box: Box, dim: str, at: int, n: int) -> bool:
    """Shift in place; False when the box became empty along ``dim``."""
    if dim == "ROWS":
        box.r0, box.r1 = _shift(box.r0, at, n, False), _shift(box.r1, at, n, True)
        return box.r0 is None or box.r1 is None or box.r1 > box.r0
    box.c0, box.c1 = _shift(box.c0, at, n, False), _shift(box.c1, at, n, True)
    return box.c0 is None or box.c1 is None or box.c1 > box.c0


def _shift_index_map(d: dict[int, Any], at: int, n: int) -> dict[int, Any]:
    out: dict[int, Any] = {}
    for i, v in d.items():
        if n < 0 and at <= i < at - n:
            continue
        out[i + n if i >= (at if n > 0 else at - n) else i] = v
    return out


def shift_sheet(sheet: Sheet, dim: str, at: int, n: int) -> None:
    """Apply an insertion (n>0) or deletion (n<0) of rows/columns at ``at`` to ``sheet``."""
    if dim == "ROWS":
        sheet.cells = _shift_index_map(sheet.cells, at, n)
        sheet.row_meta = _shift_index_map(sheet.row_meta, at, n)
    else:
        sheet.cells = {r: m for r, row in sheet.cells.items()
                       if (m := _shift_index_map(row, at, n))}
        sheet.col_meta = _shift_index_map(sheet.col_meta, at, n)
    sheet.formats = [f for f in sheet.formats if _shift_box(f[0], dim, at, n)]
    sheet.validations = [v for v in sheet.validations if _shift_box(v[0], dim, at, n)]
    kept = []
    for pr in sheet.protected:
        if _shift_box(pr["range"], dim, at, n):
            pr["unprotectedRanges"] = [h for h in pr.get("unprotectedRanges", [])
                                       if _shift_box(h, dim, at, n)]
            kept.append(pr)
    sheet.protected = kept
    for cf in sheet.cond_formats:
        cf["ranges"] = [b for b in cf["ranges"] if _shift_box(b, dim, at, n)]
    sheet.cond_formats = [cf for cf in sheet.cond_formats if cf["ranges"]]
    kept_md = []
    for md in sheet.metadata:
        dr = md["location"].get("dimensionRange")
        if dr and dr.get("dimension") == dim:
            b = Box(dr.get("startIndex", 0), dr.get("endIndex"), None, None)
            if not _shift_box(b, "ROWS", at, n):
                continue
            dr["startIndex"], dr["endIndex"] = b.r0, b.r1
        kept_md.append(md)
    sheet.metadata = kept_md
    key = "rowCount" if dim == "ROWS" else "columnCount"
    sheet.props["gridProperties"][key] += n


def insert_dimension(sp: Spreadsheet, req: dict[str, Any], where: str) -> dict[str, Any]:
    sheet, dim, start, end = _dim_range(sp, req.get("range"), where)
    size = sheet.rows if dim == "ROWS" else sheet.cols
    if start > size:
        raise invalid_argument(f"{where}: range start index {start} is past the grid ({size})")
    inherit = req.get("inheritFromBefore")
    if inherit and start == 0:
        raise invalid_argument(f"{where}: Cannot inherit from before when inserting at index 0")
    shift_sheet(sheet, dim, start, end - start)
    return {}


def delete_dimension(sp: Spreadsheet, req: dict[str, Any], where: str) -> dict[str, Any]:
    sheet, dim, start, end = _dim_range(sp, req.get("range"), where)
    size = sheet.rows if dim == "ROWS" else sheet.cols
    end = min(end, size)
    if start == 0 and end >= size:
        what = "rows" if dim == "ROWS" else "columns"
        raise invalid_argument(f"{where}: You can't delete all the {what} on the sheet.")
    shift_sheet(sheet, dim, start, -(end - start))
    return {}


def append_dimension(sp: Spreadsheet, req: dict[str, Any], where: str) -> dict[str, Any]:
    sheet = sp.sheet_by_id(int(req.get("sheetId", 0)))
    if sheet is None:
        raise invalid_argument(f"{where}: No grid with id: {req.get('sheetId', 0)}")
    length = int(req.get("length", 0))
    if length <= 0 or req.get("dimension") not in ("ROWS", "COLUMNS"):
        raise invalid_argument(f"{where}: length must be positive and dimension ROWS/COLUMNS")
    key = "rowCount" if req["dimension"] == "ROWS" else "columnCount"
    sheet.props["gridProperties"][key] += length
    return {}


def update_dimension_properties(sp: Spreadsheet, req: dict[str, Any],
                                where: str) -> dict[str, Any]:
    if "dataSourceSheetRange" in req:
        raise invalid_argument(f"{where}: emulator does not support data source sheets")
    sheet, dim, start, end = _dim_range(sp, req.get("range"), where)
    mask = req.get("fields")
    if not mask:
        raise invalid_argument(f"{where}: At least one field must be updated.")
    props = req.get("properties") or {}
    meta = sheet.row_meta if dim == "ROWS" else sheet.col_meta
    size = sheet.rows if dim == "ROWS" else sheet.cols
    for i in range(start, min(end, size)):
        cur = meta.get(i, {})
        apply_update(cur, props, mask)
        cur = {k: v for k, v in cur.items() if v not in (False, None)}
        if cur:
            meta[i] = cur
        else:
            meta.pop(i, None)
    return {}
