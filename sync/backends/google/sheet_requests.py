"""Pure translation of :class:`TabSpec` layouts into Sheets ``batchUpdate`` requests (no I/O).

One tab becomes: ``addSheet`` (explicit sheetId, grid size), ``updateCells`` (values with RAW
semantics: text stays text, ``"=1+1"`` is a string), ``repeatCell`` TEXT number format,
``setDataValidation`` ONE_OF_LIST (``showCustomUi``), ``addConditionalFormatRule`` TEXT_EQ,
``updateSheetProperties`` frozen rows/columns, ``updateDimensionProperties`` hidden columns and
widths, and ``addProtectedRange`` (whole tab, editors = the service principal, unprotected =
the open ranges) whose ``protectedRangeId`` we choose equal to the sheetId (Sheets allows a
caller-chosen id on add), so the engine can later move the open ranges with no metadata read.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from rules.errors import BackendError
from sync.backends.google.http import BadRequest
from sync.backends.protocol import CellRange, Style, TabMissing, TabSpec

Request = dict[str, Any]
MAX_ID = 2**31 - 1


def new_sheet_ids(count: int, rng: random.Random, taken: Iterable[int] = ()) -> list[int]:
    """``count`` distinct fresh sheet ids (also used as the tabs' protection ids)."""
    used = set(taken) | {0}  # 0 is the default first sheet of a new spreadsheet
    out: list[int] = []
    while len(out) < count:
        candidate = rng.randrange(1_000_000, MAX_ID)
        if candidate not in used:
            used.add(candidate)
            out.append(candidate)
    return out


def grid_range(sheet_id: int, r: CellRange) -> dict[str, int]:
    """A CellRange as a Sheets GridRange (open ends omitted)."""
    out = {"sheetId": sheet_id, "startRowIndex": r.start_row, "startColumnIndex": r.start_col}
    if r.end_row is not None:
        out["endRowIndex"] = r.end_row
    if r.end_col is not None:
        out["endColumnIndex"] = r.end_col
    return out


def cell_range(tab: str, gr: Mapping[str, Any]) -> CellRange:
    """A GridRange (proto3: zero starts omitted) as a CellRange of ``tab``."""
    return CellRange(tab, int(gr.get("startRowIndex", 0)), int(gr.get("startColumnIndex", 0)),
                     gr.get("endRowIndex"), gr.get("endColumnIndex"))


def cell_value(value: Any) -> dict[str, Any]:
    """One value as CellData with RAW semantics; None/"" → an empty cell."""
    if value is None or value == "":
        return {}
    if isinstance(value, bool):
        return {"userEnteredValue": {"boolValue": value}}
    if isinstance(value, (int, float)):
        if isinstance(value, float) and not math.isfinite(value):
            raise BackendError(f"cannot store the non-finite number {value!r} in a spreadsheet")
        return {"userEnteredValue": {"numberValue": value}}
    if isinstance(value, str):
        return {"userEnteredValue": {"stringValue": value}}
    raise BackendError(f"cannot store a {type(value).__name__} in a spreadsheet cell")


def color(hex_rgb: str) -> dict[str, float]:
    """``"#RRGGBB"`` → a Sheets Color."""
    text = hex_rgb.lstrip("#")
    if len(text) != 6:
        raise BackendError(f"bad colour {hex_rgb!r}: expected #RRGGBB")
    try:
        r, g, b = (int(text[i:i + 2], 16) / 255 for i in (0, 2, 4))
    except ValueError:
        raise BackendError(f"bad colour {hex_rgb!r}: expected #RRGGBB") from None
    return {"red": r, "green": g, "blue": b}


def tab_a1(title: str) -> str:
    """``'Tab'``: a whole tab in A1 notation."""
    return CellRange(title, 0, 0).a1()


def write_a1(r: CellRange) -> str:
    """A write range: the whole rectangle, or just its top-left cell when it is open-ended."""
    if r.end_col is not None:
        return r.a1()
    return CellRange(r.tab, r.start_row, r.start_col, r.start_row + 1, r.start_col + 1).a1()


def raw_value(value: Any) -> Any:
    """A value for a RAW values write (None → "" so the cell is emptied, not skipped)."""
    if value is None:
        return ""  # Google skips nulls; the protocol's None means "empty"
    cell_value(value)  # refuses what a cell cannot hold (non-finite numbers, dates, …)
    return value


def _own(tab: TabSpec, ranges: Sequence[CellRange], what: str) -> None:
    for r in ranges:
        if r.tab != tab.title:
            raise BackendError(f"tab {tab.title!r}: {what} range {r.a1()} names another tab")


def tab_requests(tab: TabSpec, sheet_id: int, principal: str) -> list[Request]:
    """Every request that lays out ``tab`` as a new sheet with id ``sheet_id``."""
    _own(tab, tab.text_ranges, "text")
    _own(tab, tab.wrapped, "wrap")
    _own(tab, [d.range for d in tab.dropdowns] + [h.range for h in tab.highlights], "format")
    _own(tab, tab.open_ranges, "open")
    _own(tab, [x.range for x in (*tab.styles, *tab.formula_highlights)], "style")
    reqs: list[Request] = [{"addSheet": {"properties": {
        "sheetId": sheet_id, "title": tab.title, **({"hidden": True} if tab.hidden else {}),
        "gridProperties": {"rowCount": tab.row_count, "columnCount": tab.col_count}}}}]
    rows = _rows_with_notes(tab)
    if any(any(cell for cell in row["values"]) for row in rows):
        fields = "userEnteredValue,note" if tab.notes else "userEnteredValue"
        reqs.append({"updateCells": {"rows": rows, "fields": fields,
                                     "start": {"sheetId": sheet_id, "rowIndex": 0,
                                               "columnIndex": 0}}})
    for r in tab.text_ranges:
        reqs.append({"repeatCell": {
            "range": grid_range(sheet_id, r),
            "cell": {"userEnteredFormat": {"numberFormat": {"type": "TEXT"}}},
            "fields": "userEnteredFormat.numberFormat"}})
    for r in tab.wrapped:
        reqs.append({"repeatCell": {
            "range": grid_range(sheet_id, r),
            "cell": {"userEnteredFormat": {"wrapStrategy": "WRAP", "verticalAlignment": "TOP"}},
            "fields": "userEnteredFormat.wrapStrategy,userEnteredFormat.verticalAlignment"}})
    reqs.extend(_style_request(sheet_id, x) for x in tab.styles)
    for d in tab.dropdowns:
        condition = ({"type": "ONE_OF_RANGE", "values": [{"userEnteredValue": "=" + d.source.a1()}]}
                     if d.source is not None else
                     {"type": "ONE_OF_LIST", "values": [{"userEnteredValue": v} for v in d.values]})
        reqs.append({"setDataValidation": {"range": grid_range(sheet_id, d.range), "rule": {
            "condition": condition, "strict": d.strict, "showCustomUi": True}}})
    for i, h in enumerate(tab.highlights):
        reqs.append({"addConditionalFormatRule": {"index": i, "rule": {
            "ranges": [grid_range(sheet_id, h.range)],
            "booleanRule": {"condition": {"type": "TEXT_EQ",
                                          "values": [{"userEnteredValue": h.equals}]},
                            "format": {"backgroundColor": color(h.color)}}}}})
    for i, f in enumerate(tab.formula_highlights, start=len(tab.highlights)):
        reqs.append({"addConditionalFormatRule": {"index": i, "rule": {
            "ranges": [grid_range(sheet_id, f.range)],
            "booleanRule": {"condition": {"type": "CUSTOM_FORMULA",
                                          "values": [{"userEnteredValue": "=" + f.formula}]},
                            "format": _look(f.fill, f.color)}}}})
    if tab.frozen_rows or tab.frozen_cols:
        reqs.append({"updateSheetProperties": {
            "properties": {"sheetId": sheet_id, "gridProperties": {
                "frozenRowCount": tab.frozen_rows, "frozenColumnCount": tab.frozen_cols}},
            "fields": "gridProperties.frozenRowCount,gridProperties.frozenColumnCount"}})
    for col in sorted(set(tab.hidden_cols)):
        reqs.append(_columns(sheet_id, col, {"hiddenByUser": True}, "hiddenByUser"))
    for col, width in sorted(tab.col_widths.items()):
        reqs.append(_columns(sheet_id, col, {"pixelSize": width}, "pixelSize"))
    for row in sorted(set(tab.hidden_rows)):
        reqs.append(_dimension(sheet_id, "ROWS", row, {"hiddenByUser": True}, "hiddenByUser"))
    for row, height in sorted(tab.row_heights.items()):
        reqs.append(_dimension(sheet_id, "ROWS", row, {"pixelSize": height}, "pixelSize"))
    if tab.protected:
        reqs.append({"addProtectedRange": {"protectedRange": {
            "protectedRangeId": sheet_id, "range": {"sheetId": sheet_id},
            "description": "ejournal", "warningOnly": False,
            "editors": {"users": [principal]},
            "unprotectedRanges": [grid_range(sheet_id, r) for r in tab.open_ranges]}}})
    return reqs


def ranges_last(reqs: list[Request]) -> list[Request]:
    """The batch with its ONE_OF_RANGE validations moved to the end: their source tab (a hidden
    list tab, laid out after the tab using it) must exist when Sheets checks the range."""
    def by_range(r: Request) -> bool:
        rule = r.get("setDataValidation", {}).get("rule", {})
        return bool(rule.get("condition", {}).get("type") == "ONE_OF_RANGE")
    return [r for r in reqs if not by_range(r)] + [r for r in reqs if by_range(r)]


def replace_requests(tabs: Sequence[TabSpec], ids: Sequence[int], known: Mapping[str, int],
                     old: Mapping[str, str], principal: str) -> list[Request]:
    """Requests that lay out ``tabs`` afresh (sheet ids ``ids``) in place of existing tabs.

    ``known``: the file's tab titles → sheetIds in tab order; ``old``: new title → the existing
    title it replaces. The old tab is renamed aside first (freeing its title), the new tab added
    just before it, then the old tab deleted — so the file never has zero tabs and a replaced
    tab keeps its place; a tab that replaces nothing goes to the end.
    """
    position = {title: i for i, title in enumerate(known)}
    sheet_ids = {tab.title: sid for tab, sid in zip(tabs, ids, strict=True)}
    reqs: list[Request] = [{"updateSheetProperties": {
        "properties": {"sheetId": known[title], "title": f"ejournal-old-{known[title]}"},
        "fields": "title"}} for title in old.values()]
    replaced = sorted((t for t in tabs if t.title in old), key=lambda t: position[old[t.title]])
    for rank, tab in enumerate(replaced):  # earlier insertions shift the later old tabs by one
        added = tab_requests(tab, sheet_ids[tab.title], principal)
        added[0]["addSheet"]["properties"]["index"] = position[old[tab.title]] + rank
        reqs.extend(added)
    for tab in tabs:
        if tab.title not in old:
            reqs.extend(tab_requests(tab, sheet_ids[tab.title], principal))
    reqs += [{"deleteSheet": {"sheetId": known[title]}} for title in old.values()]
    return ranges_last(reqs)


def _columns(sheet_id: int, col: int, props: dict[str, Any], fields: str) -> Request:
    return _dimension(sheet_id, "COLUMNS", col, props, fields)


def _dimension(sheet_id: int, dimension: str, index: int, props: dict[str, Any],
               fields: str) -> Request:
    return {"updateDimensionProperties": {
        "range": {"sheetId": sheet_id, "dimension": dimension, "startIndex": index,
                  "endIndex": index + 1},
        "properties": props, "fields": fields}}


def _rows_with_notes(tab: TabSpec) -> list[dict[str, Any]]:
    """The tab's values as RowData, each noted cell carrying its note."""
    height = max([len(tab.rows), *(r + 1 for r, _ in tab.notes)])
    out: list[dict[str, Any]] = []
    for r in range(height):
        cells = [cell_value(v) for v in (tab.rows[r] if r < len(tab.rows) else [])]
        for (nr, nc), note in tab.notes.items():
            if nr == r:
                cells += [{}] * (nc + 1 - len(cells))
                cells[nc] = {**cells[nc], "note": note}
        out.append({"values": cells})
    return out


_BORDER = {"style": "SOLID", "color": {"red": 0.6, "green": 0.6, "blue": 0.6}}


def _look(fill: str | None, text_color: str | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if fill:
        out["backgroundColor"] = color(fill)
    if text_color:
        out["textFormat"] = {"foregroundColor": color(text_color)}
    return out


def _style_request(sheet_id: int, style: Style) -> Request:
    """One ``repeatCell`` setting only the fields ``style`` sets (so styles layer)."""
    fmt: dict[str, Any] = {}
    fields: list[str] = []
    text: dict[str, Any] = {}
    for name, value in (("bold", style.bold), ("italic", style.italic)):
        if value:
            text[name] = True
    if style.size:
        text["fontSize"] = style.size
    if style.color:
        text["foregroundColor"] = color(style.color)
    fields += [f"textFormat.{k}" for k in text]
    if text:
        fmt["textFormat"] = text
    if style.fill:
        fmt["backgroundColor"] = color(style.fill)
        fields.append("backgroundColor")
    if style.align:
        fmt["horizontalAlignment"] = style.align
        fields.append("horizontalAlignment")
    if style.wrap:  # turned text starts at the bottom, as it is read
        fmt.update(wrapStrategy="WRAP", verticalAlignment="BOTTOM" if style.rotate else "TOP")
        fields += ["wrapStrategy", "verticalAlignment"]
    if style.rotate:
        fmt["textRotation"] = {"angle": style.rotate}
        fields.append("textRotation")
    if style.borders:
        fmt["borders"] = {side: _BORDER for side in ("top", "bottom", "left", "right")}
        fields.append("borders")
    if not fields:
        raise BackendError(f"style on {style.range.a1()} sets nothing")
    return {"repeatCell": {"range": grid_range(sheet_id, style.range),
                           "cell": {"userEnteredFormat": fmt},
                           "fields": ",".join(f"userEnteredFormat.{f}" for f in fields)}}


def protections_from_replies(requests: Sequence[Request], replies: Sequence[Any],
                             titles: Mapping[int, str]) -> dict[str, int]:
    """Tab title → protectedRangeId, from a batchUpdate's replies (Google's word, not ours)."""
    out: dict[str, int] = {}
    for req, reply in zip(requests, replies, strict=False):
        if "addProtectedRange" not in req:
            continue
        pr = (reply or {}).get("addProtectedRange", {}).get("protectedRange", {})
        sheet_id = int(pr.get("range", {}).get("sheetId", 0))
        out[titles[sheet_id]] = int(pr["protectedRangeId"])
    return out


def update_open_ranges(ranges: Mapping[str, Sequence[CellRange]],
                       ids: Mapping[str, tuple[int, int]]) -> list[Request]:
    """``updateProtectedRange`` requests; ``ids`` maps a tab to (sheetId, protectedRangeId)."""
    reqs: list[Request] = []
    for tab, cells in ranges.items():
        sheet_id, range_id = ids[tab]
        for r in cells:
            if r.tab != tab:
                raise BackendError(f"open range {r.a1()} is listed under tab {tab!r}")
        reqs.append({"updateProtectedRange": {
            "protectedRange": {"protectedRangeId": range_id,
                               "unprotectedRanges": [grid_range(sheet_id, r) for r in cells]},
            "fields": "unprotectedRanges"}})
    return reqs


__all__ = [
    "cell_range",
    "cell_value",
    "color",
    "grid_range",
    "new_sheet_ids",
    "protections_from_replies",
    "raw_value",
    "replace_requests",
    "tab_a1",
    "tab_missing",
    "tab_requests",
    "update_open_ranges",
    "write_a1",
]


def tab_missing(file_id: str, titles: Sequence[str], exc: BadRequest) -> BackendError:
    """TabMissing for Google's "Unable to parse range" (naming the tab when it can), else ``exc``."""
    marker = "Unable to parse range:"
    if marker not in exc.google_message:
        return exc
    bad = exc.google_message.split(marker, 1)[1].strip()
    named = [t for t in dict.fromkeys(titles) if bad in (t, tab_a1(t)) or
             bad.startswith((tab_a1(t) + "!", t + "!"))]
    return TabMissing(file_id, named or list(dict.fromkeys(titles)))
