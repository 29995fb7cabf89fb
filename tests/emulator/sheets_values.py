"""spreadsheets.values.* : get, batchGet, update, batchUpdate, clear, batchClear, append.

Semantics (platform.md §1.4, cassettes): RAW stores strings verbatim, USER_ENTERED parses as the UI
does (TEXT-formatted cells keep strings); reads trim trailing empty cells/rows and omit
``values`` for an empty range; the echoed ``range`` is the request clipped to the grid.
``guard(sheet, r0, r1, c0, c1)`` is the protection check the handler supplies for writes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .a1 import format_range
from .cellvalues import Rich, parse_user_entered, render
from .errors import GoogleError, invalid_argument
from .griddata import cell_value, resolve_a1
from .spreadsheet import Sheet, Spreadsheet

Guard = Callable[[Sheet, int, int, int, int], None]
_RENDER = {"FORMATTED_VALUE", "UNFORMATTED_VALUE", "FORMULA"}
_DT = {"SERIAL_NUMBER", "FORMATTED_STRING"}
_INPUT = {"RAW", "USER_ENTERED"}


def _one(query: dict[str, list[str]], key: str, default: str | None = None) -> str | None:
    vals = query.get(key)
    return vals[0] if vals else default


def _enum(value: Any, allowed: set[str], name: str, default: str) -> str:
    if value is None or value == "":
        return default
    if value not in allowed:
        raise invalid_argument(f"Invalid value at '{name}' (TYPE_ENUM), \"{value}\"")
    return str(value)


def _bounds_for_read(sheet: Sheet, box: Any, text: str) -> tuple[int, int, int, int]:
    if (box.r1 is not None and box.r1 > sheet.rows) or (box.c1 is not None and box.c1 > sheet.cols):
        raise invalid_argument(
            f"Range ({text}) exceeds grid limits. Max rows: {sheet.rows}, "
            f"max columns: {sheet.cols}")
    return box.clip(sheet.rows, sheet.cols)


def read_range(sp: Spreadsheet, text: str, render_opt: str, dt_opt: str,
               major: str) -> dict[str, Any]:
    """One ValueRange for ``text`` (a values.get body)."""
    sheet, box = resolve_a1(sp, text)
    r0, r1, c0, c1 = _bounds_for_read(sheet, box, text)
    out: dict[str, Any] = {"range": format_range(sheet.title, r0, r1, c0, c1),
                           "majorDimension": major}
    rows = _grid_values(sp, sheet, r0, r1, c0, c1, render_opt, dt_opt)
    if major == "COLUMNS":
        rows = _transpose(rows)
    if rows:
        out["values"] = rows
    return out


def _grid_values(sp: Spreadsheet, sheet: Sheet, r0: int, r1: int, c0: int, c1: int,
                 render_opt: str, dt_opt: str) -> list[list[Any]]:
    locale = sp.locale
    layers = sheet.number_layers()
    out: list[list[Any]] = []
    last_nonempty = -1
    cells = sheet.cells
    for r in range(r0, r1):
        row = cells.get(r)
        vals: list[Any] = []
        if row:
            last = -1
            for c in range(c0, c1):
                cell = row.get(c)
                if cell is None:
                    vals.append("")
                    continue
                if isinstance(cell, str):
                    v: Any = cell
                else:
                    numfmt = sheet.number_format(r, c, layers) if layers else None
                    v = render(cell, render_opt, dt_opt, numfmt, locale,
                               lambda f, r=r, c=c: cell_value(sp, sheet, r, c))
                if v is None:
                    vals.append("")
                    continue
                vals.append(v)
                last = len(vals)
            del vals[last if last > 0 else 0:]
        out.append(vals)
        if vals:
            last_nonempty = len(out)
    return out[:last_nonempty] if last_nonempty > 0 else []


def _transpose(rows: list[list[Any]]) -> list[list[Any]]:
    width = max((len(r) for r in rows), default=0)
    cols = [[r[c] if c < len(r) else "" for r in rows] for c in range(width)]
    for col in cols:
        while col and col[-1] == "":
            col.pop()
    while cols and not cols[-1]:
        cols.pop()
    return cols


def values_get(sp: Spreadsheet, text: str, query: dict[str, list[str]]) -> dict[str, Any]:
    return read_range(
        sp, text,
        _enum(_one(query, "valueRenderOption"), _RENDER, "value_render_option", "FORMATTED_VALUE"),
        _enum(_one(query, "dateTimeRenderOption"), _DT, "date_time_render_option", "SERIAL_NUMBER"),
        _enum(_one(query, "majorDimension"), {"ROWS", "COLUMNS"}, "major_dimension", "ROWS"))


def values_batch_get(sp: Spreadsheet, query: dict[str, list[str]]) -> dict[str, Any]:
    render_opt = _enum(_one(query, "valueRenderOption"), _RENDER, "value_render_option",
                       "FORMATTED_VALUE")
    dt_opt = _enum(_one(query, "dateTimeRenderOption"), _DT, "date_time_render_option",
                   "SERIAL_NUMBER")
    major = _enum(_one(query, "majorDimension"), {"ROWS", "COLUMNS"}, "major_dimension", "ROWS")
    out: dict[str, Any] = {"spreadsheetId": sp.spreadsheet_id}
    ranges = [read_range(sp, t, render_opt, dt_opt, major) for t in query.get("ranges", [])]
    if ranges:
        out["valueRanges"] = ranges
    return out


# ---- writes ---------------------------------------------------------------------------------

def _bad_values(field: str, value: Any) -> GoogleError:
    shown = value if isinstance(value, str) else str(value)
    msg = (f"Invalid value at '{field}' (type.googleapis.com/google.protobuf.ListValue), "
           f"\"{shown}\"")
    return GoogleError(400, msg, "INVALID_ARGUMENT", details=[{
        "@type": "type.googleapis.com/google.rpc.BadRequest",
        "fieldViolations": [{"field": field, "description": msg}]}])


def _matrix(values: Any, major: str | None, field: str) -> list[list[Any]]:
    if values is None:
        return []
    if not isinstance(values, list):
        raise _bad_values(field, values)
    for row in values:
        if not isinstance(row, list):
            raise _bad_values(field, row)
        for v in row:
            if isinstance(v, list | dict):
                raise invalid_argument(f"Invalid values[{values.index(row)}]: {v}")
    if major == "COLUMNS":
        width = max((len(r) for r in values), default=0)
        return [[col[i] if i < len(col) else None for col in values] for i in range(width)]
    return values


def write_range(sp: Spreadsheet, text: str, values: Any, major: str | None, input_opt: str,
                guard: Guard, field: str = "data.values") -> dict[str, Any]:
    """Write a 2-D array at ``text`` (grid grows when needed); returns the update counts."""
    matrix = _matrix(values, major, field)  # body errors come before range errors (cassette)
    sheet, box = resolve_a1(sp, text)
    if box.r1 is not None and box.c1 is not None and box.r1 - (box.r0 or 0) == 1 \
            and box.c1 - (box.c0 or 0) == 1:
        box.r1 = box.c1 = None  # a single cell is an anchor: the data extends from it
    r0 = box.r0 or 0
    c0 = box.c0 or 0
    height = len(matrix)
    width = max((len(r) for r in matrix), default=0)
    too_tall = box.r1 is not None and height > box.r1 - r0
    if too_tall or (box.c1 is not None and width > box.c1 - c0):
        raise invalid_argument(
            f"Requested writing within range [{text}], but tried writing to "
            f"{'row' if box.r1 is not None and height > box.r1 - r0 else 'column'} "
            f"[{r0 + height if height > (box.r1 or 0) - r0 else c0 + width}]")
    out: dict[str, Any] = {"spreadsheetId": sp.spreadsheet_id}
    if height == 0 or width == 0:
        out["updatedRange"] = format_range(sheet.title, r0, r0 + 1, c0, c0 + 1)
        return out
    guard(sheet, r0, r0 + height, c0, c0 + width)
    grid = sheet.props["gridProperties"]
    grid["rowCount"] = max(sheet.rows, r0 + height)
    grid["columnCount"] = max(sheet.cols, c0 + width)
    locale = sp.locale
    layers = sheet.number_layers()
    rows_hit: set[int] = set()
    cols_hit: set[int] = set()
    for i, row in enumerate(matrix):
        for j, raw in enumerate(row):
            r, c = r0 + i, c0 + j
            if input_opt == "RAW":
                value = None if raw is None or raw == "" else raw
                if raw is None:
                    continue  # null leaves the cell unchanged
            else:
                if raw is None:
                    continue
                fmt = sheet.number_format(r, c, layers) if layers else None
                value = parse_user_entered(raw, locale, bool(fmt and fmt.get("type") == "TEXT"))
            old = sheet.get(r, c)
            if isinstance(old, Rich) and old.note is not None:
                value = _keep_note(value, old.note)
            sheet.set(r, c, value)
            rows_hit.add(r)
            cols_hit.add(c)
    # counts cover written (non-null) cells only (cassette test_update_cells_noncontiguous)
    written = sum(1 for row in matrix for v in row if v is not None)
    out["updatedRange"] = format_range(sheet.title, r0, r0 + height, c0, c0 + width)
    if written:
        out.update({"updatedRows": len(rows_hit), "updatedColumns": len(cols_hit),
                    "updatedCells": written})
    return out


def _keep_note(value: Any, note: str) -> Rich:
    if isinstance(value, Rich):
        value.note = note
        return value
    return Rich(value=value, note=note)


def _response_values(sp: Spreadsheet, upd: dict[str, Any], render_opt: str,
                     dt_opt: str) -> dict[str, Any]:
    return read_range(sp, upd["updatedRange"], render_opt, dt_opt, "ROWS")


def _flag(v: Any) -> bool:
    return v is True or (isinstance(v, str) and v.lower() == "true")


def values_update(sp: Spreadsheet, text: str, query: dict[str, list[str]], body: Any,
                  guard: Guard) -> dict[str, Any]:
    input_opt = _input_option(_one(query, "valueInputOption"))
    body = body or {}
    upd = write_range(sp, text, body.get("values"), body.get("majorDimension"), input_opt, guard)
    if _flag(_one(query, "includeValuesInResponse")):
        upd["updatedData"] = _response_values(
            sp, upd,
            _enum(_one(query, "responseValueRenderOption"), _RENDER, "r", "FORMATTED_VALUE"),
            _enum(_one(query, "responseDateTimeRenderOption"), _DT, "d", "SERIAL_NUMBER"))
    return upd


def _input_option(value: Any) -> str:
    if value in (None, ""):
        raise invalid_argument("'valueInputOption' is required but not specified")
    return _enum(value, _INPUT, "value_input_option", "RAW")


def values_batch_update(sp: Spreadsheet, body: Any, guard: Guard) -> dict[str, Any]:
    body = body or {}
    input_opt = _input_option(body.get("valueInputOption"))
    include = _flag(body.get("includeValuesInResponse"))
    render_opt = _enum(body.get("responseValueRenderOption"), _RENDER, "r", "FORMATTED_VALUE")
    dt_opt = _enum(body.get("responseDateTimeRenderOption"), _DT, "d", "SERIAL_NUMBER")
    responses = []
    for i, vr in enumerate(body.get("data") or []):
        if "range" not in vr:
            raise invalid_argument(f"Invalid data[{i}]: range is required")
        upd = write_range(sp, vr["range"], vr.get("values"), vr.get("majorDimension"), input_opt,
                          guard, f"data[{i}].values")
        if include and "updatedRows" in upd:
            upd["updatedData"] = _response_values(sp, upd, render_opt, dt_opt)
        responses.append(upd)
    out: dict[str, Any] = {"spreadsheetId": sp.spreadsheet_id}
    rows: set[tuple[str, int]] = set()
    cols: set[tuple[str, int]] = set()
    for r in responses:
        if "updatedRows" in r:  # totals count distinct rows/columns touched (API reference)
            sheet, box = resolve_a1(sp, r["updatedRange"])
            rows |= {(sheet.title, i) for i in range(box.r0 or 0, box.r1 or 0)}
            cols |= {(sheet.title, i) for i in range(box.c0 or 0, box.c1 or 0)}
    if rows:
        out["totalUpdatedRows"] = len(rows)
        out["totalUpdatedColumns"] = len(cols)
        out["totalUpdatedCells"] = sum(r.get("updatedCells", 0) for r in responses)
        out["totalUpdatedSheets"] = len({t for t, _ in rows})
    if responses:
        out["responses"] = responses
    return out


def clear_range(sp: Spreadsheet, text: str, guard: Guard) -> str:
    """Clear values (formats stay) and return the echoed cleared range."""
    sheet, box = resolve_a1(sp, text)
    r0, r1, c0, c1 = box.clip(sheet.rows, sheet.cols)
    guard(sheet, r0, r1, c0, c1)
    for r in [r for r in sheet.cells if r0 <= r < r1]:
        for c in [c for c in sheet.cells[r] if c0 <= c < c1]:
            old = sheet.cells[r][c]
            sheet.set(r, c, Rich(note=old.note) if isinstance(old, Rich) and old.note else None)
    return format_range(sheet.title, r0, r1, c0, c1)


def values_clear(sp: Spreadsheet, text: str, guard: Guard) -> dict[str, Any]:
    return {"spreadsheetId": sp.spreadsheet_id, "clearedRange": clear_range(sp, text, guard)}


def values_batch_clear(sp: Spreadsheet, body: Any, guard: Guard) -> dict[str, Any]:
    cleared = [clear_range(sp, t, guard) for t in (body or {}).get("ranges") or []]
    out: dict[str, Any] = {"spreadsheetId": sp.spreadsheet_id}
    if cleared:
        out["clearedRanges"] = cleared
    return out


def values_append(sp: Spreadsheet, text: str, query: dict[str, list[str]], body: Any,
                  guard: Guard) -> dict[str, Any]:
    """Append after the "table" found in ``text`` (cassette-derived heuristic, see docstring).

    The table is the last contiguous run of non-empty cells in the last non-empty row of the
    range, extended upwards over non-empty rows; new rows go right below it, starting at the
    table's first column. insertDataOption=INSERT_ROWS is treated like OVERWRITE.
    """
    input_opt = _input_option(_one(query, "valueInputOption"))
    sheet, box = resolve_a1(sp, text)
    r0, r1, c0, c1 = box.clip(sheet.rows, sheet.cols)
    out: dict[str, Any] = {"spreadsheetId": sp.spreadsheet_id}
    last_row = max((r for r, row in sheet.cells.items()
                    if r0 <= r < r1 and any(c0 <= c < c1 for c in row)), default=None)
    if last_row is None:
        start_r, start_c = r0, c0
    else:
        cols = sorted(c for c in sheet.cells[last_row] if c0 <= c < c1)
        run_end = cols[-1]
        run_start = run_end
        while run_start - 1 in sheet.cells[last_row]:
            run_start -= 1
        top = last_row
        while top - 1 >= r0 and any(run_start <= c <= run_end
                                    for c in sheet.cells.get(top - 1, {})):
            top -= 1
        out["tableRange"] = format_range(sheet.title, top, last_row + 1, run_start, run_end + 1)
        start_r, start_c = last_row + 1, run_start
    body = body or {}
    from .a1 import col_to_letters, quote_sheet_name

    target = f"{quote_sheet_name(sheet.title)}!{col_to_letters(start_c)}{start_r + 1}"
    out["updates"] = write_range(sp, target, body.get("values"), body.get("majorDimension"),
                                 input_opt, guard)
    if _flag(_one(query, "includeValuesInResponse")) and "updatedRange" in out["updates"]:
        out["updates"]["updatedData"] = _response_values(
            sp, out["updates"],
            _enum(_one(query, "responseValueRenderOption"), _RENDER, "r", "FORMATTED_VALUE"),
            _enum(_one(query, "responseDateTimeRenderOption"), _DT, "d", "SERIAL_NUMBER"))
    return out
