"""State of one emulated spreadsheet and its proto3-JSON serialisation (spreadsheets.get).

Storage is compact: cell contents are a sparse ``row -> {col -> value}`` dict per sheet, formats
and validation are range *layers* (a repeatCell over 1000×26 cells is one entry, not 26,000),
row/column properties are sparse dicts. Defaults are omitted on output as Google does
(cassettes: ``frozenRowCount: 0``, ``hidden: false`` and GridRange ``sheetId: 0`` are absent).
"""

from __future__ import annotations

import copy
import functools
import random
from dataclasses import dataclass
from typing import Any

from .fields import apply_mask, mask_mentions, parse_mask

DEFAULT_FORMAT: dict[str, Any] = {
    "backgroundColor": {"red": 1, "green": 1, "blue": 1},
    "padding": {"top": 2, "right": 3, "bottom": 2, "left": 3},
    "verticalAlignment": "BOTTOM", "wrapStrategy": "OVERFLOW_CELL",
    "textFormat": {
        "foregroundColor": {}, "fontFamily": "arial,sans,sans-serif", "fontSize": 10,
        "bold": False, "italic": False, "strikethrough": False, "underline": False,
        "foregroundColorStyle": {"rgbColor": {}},
    },
    "backgroundColorStyle": {"rgbColor": {"red": 1, "green": 1, "blue": 1}},
}
_ACCENTS = [
    ("ACCENT1", 0.25882354, 0.52156866, 0.95686275), ("ACCENT2", 0.91764706, 0.2627451, 0.20784314),
    ("ACCENT3", 0.9843137, 0.7372549, 0.015686275), ("ACCENT4", 0.20392157, 0.65882355, 0.3254902),
    ("ACCENT5", 1, 0.42745098, 0.003921569), ("ACCENT6", 0.27450982, 0.7411765, 0.7764706),
    ("LINK", 0.06666667, 0.33333334, 0.8),
]
DEFAULT_THEME: dict[str, Any] = {
    "primaryFontFamily": "Arial",
    "themeColors": [
        {"colorType": "TEXT", "color": {"rgbColor": {}}},
        {"colorType": "BACKGROUND", "color": {"rgbColor": {"red": 1, "green": 1, "blue": 1}}},
        *({"colorType": n, "color": {"rgbColor": {"red": r, "green": g, "blue": b}}}
          for n, r, g, b in _ACCENTS),
    ],
}
DEFAULT_ROW_PX = 21
DEFAULT_COL_PX = 100


@dataclass(slots=True)
class Box:
    """A grid rectangle, 0-based half-open; None = unbounded on that side (like GridRange)."""

    r0: int | None
    r1: int | None
    c0: int | None
    c1: int | None

    @classmethod
    def from_grid_range(cls, gr: dict[str, Any]) -> Box:
        return cls(gr.get("startRowIndex"), gr.get("endRowIndex"),
                   gr.get("startColumnIndex"), gr.get("endColumnIndex"))

    def to_grid_range(self, sheet_id: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if sheet_id:
            out["sheetId"] = sheet_id
        for key, v in (("startRowIndex", self.r0), ("endRowIndex", self.r1),
                       ("startColumnIndex", self.c0), ("endColumnIndex", self.c1)):
            if v is not None:  # explicit zeros survive (cassette: startColumnIndex 0)
                out[key] = v
        return out

    def contains(self, r: int, c: int) -> bool:
        return ((self.r0 is None or r >= self.r0) and (self.r1 is None or r < self.r1)
                and (self.c0 is None or c >= self.c0) and (self.c1 is None or c < self.c1))

    def clip(self, rows: int, cols: int) -> tuple[int, int, int, int]:
        """Bounded (r0, r1, c0, c1) inside a rows×cols grid."""
        r0 = min(self.r0 or 0, rows)
        c0 = min(self.c0 or 0, cols)
        r1 = rows if self.r1 is None else min(self.r1, rows)
        c1 = cols if self.c1 is None else min(self.c1, cols)
        return r0, max(r0, r1), c0, max(c0, c1)

    def intersects(self, r0: int, r1: int, c0: int, c1: int) -> bool:
        return ((self.r0 is None or self.r0 < r1) and (self.r1 is None or r0 < self.r1)
                and (self.c0 is None or self.c0 < c1) and (self.c1 is None or c0 < self.c1))


class Sheet:
    """One tab: properties plus sparse content, layers and protections."""

    def __init__(self, props: dict[str, Any]) -> None:
        self.props = props
        self.cells: dict[int, dict[int, Any]] = {}
        self.formats: list[tuple[Box, dict[str, Any], str]] = []  # (range, cell format, mask)
        self.validations: list[tuple[Box, dict[str, Any] | None]] = []
        self.protected: list[dict[str, Any]] = []  # "range"/"unprotectedRanges" hold Box
        self.cond_formats: list[dict[str, Any]] = []  # "ranges" hold Box
        self.row_meta: dict[int, dict[str, Any]] = {}
        self.col_meta: dict[int, dict[str, Any]] = {}
        self.metadata: list[dict[str, Any]] = []  # developer metadata located on this sheet

    @property
    def sheet_id(self) -> int:
        return int(self.props["sheetId"])

    @property
    def title(self) -> str:
        return str(self.props["title"])

    @property
    def rows(self) -> int:
        return int(self.props["gridProperties"]["rowCount"])

    @property
    def cols(self) -> int:
        return int(self.props["gridProperties"]["columnCount"])

    def get(self, r: int, c: int) -> Any:
        row = self.cells.get(r)
        return None if row is None else row.get(c)

    def set(self, r: int, c: int, value: Any) -> None:
        if value is None:
            row = self.cells.get(r)
            if row is not None:
                row.pop(c, None)
                if not row:
                    del self.cells[r]
        else:
            self.cells.setdefault(r, {})[c] = value

    def number_format(self, r: int, c: int,
                      layers: list[tuple[Any, Any]] | None = None) -> dict[str, Any] | None:
        """Effective userEnteredFormat.numberFormat from the format layers (latest wins);
        ``layers``: :meth:`number_layers`, when the caller asks for many cells."""
        for box, number in self.number_layers() if layers is None else layers:
            if box.contains(r, c):
                return number  # type: ignore[no-any-return]
        return None

    def number_layers(self) -> list[tuple[Any, Any]]:
        """The format layers that set a numberFormat, latest first: (box, numberFormat)."""
        return [(box, fmt.get("numberFormat")) for box, fmt, mask in reversed(self.formats)
                if _mask_has(mask, "numberFormat")]

    def user_format(self, r: int, c: int) -> dict[str, Any]:
        """Effective userEnteredFormat of a cell, layers merged in order by their masks."""
        from .fields import apply_update  # local: avoids a cycle at import time

        out: dict[str, Any] = {}
        for box, fmt, mask in self.formats:
            if box.contains(r, c):
                apply_update(out, fmt, mask)
        return out

    def validation(self, r: int, c: int) -> dict[str, Any] | None:
        for box, rule in reversed(self.validations):
            if box.contains(r, c):
                return rule
        return None

    def copy(self) -> Sheet:
        return copy.deepcopy(self)


@functools.lru_cache(maxsize=256)
def _mask_has(mask: str, name: str) -> bool:
    return mask == "*" or mask_mentions(parse_mask(mask), name)


def new_sheet_props(sheet_id: int, title: str, index: int, rows: int = 1000,
                    cols: int = 26) -> dict[str, Any]:
    return {"sheetId": sheet_id, "title": title, "index": index, "sheetType": "GRID",
            "gridProperties": {"rowCount": rows, "columnCount": cols}}


class Spreadsheet:
    """A whole spreadsheet; Drive files hold one in ``file.spreadsheet``."""

    def __init__(self, spreadsheet_id: str, properties: dict[str, Any]) -> None:
        self.spreadsheet_id = spreadsheet_id
        self.properties = properties
        self.sheets: list[Sheet] = []
        self.metadata: list[dict[str, Any]] = []  # spreadsheet-level developer metadata
        self._rng = random.Random(spreadsheet_id)

    @classmethod
    def new(cls, spreadsheet_id: str, title: str, *, locale: str = "en_US",
            time_zone: str = "Etc/GMT") -> Spreadsheet:
        """A fresh spreadsheet as Drive creates it: one 1000×26 "Sheet1" with sheetId 0."""
        props = {"title": title, "locale": locale, "autoRecalc": "ON_CHANGE",
                 "timeZone": time_zone, "defaultFormat": copy.deepcopy(DEFAULT_FORMAT),
                 "spreadsheetTheme": copy.deepcopy(DEFAULT_THEME)}
        sp = cls(spreadsheet_id, props)
        sp.sheets.append(Sheet(new_sheet_props(0, "Sheet1", 0)))
        return sp

    def copy(self, new_id: str, new_title: str) -> Spreadsheet:
        """Deep copy (sheet ids, formats, validation, protections kept) under a new id/title."""
        sp = Spreadsheet(new_id, copy.deepcopy(self.properties))
        sp.properties["title"] = new_title
        sp.sheets = [s.copy() for s in self.sheets]
        sp.metadata = copy.deepcopy(self.metadata)
        return sp

    @property
    def title(self) -> str:
        return str(self.properties["title"])

    @title.setter
    def title(self, value: str) -> None:
        self.properties["title"] = value

    @property
    def locale(self) -> str:
        return str(self.properties.get("locale", "en_US"))

    # ---- lookup --------------------------------------------------------------------------------

    def sheet_by_id(self, sheet_id: int) -> Sheet | None:
        for s in self.sheets:
            if s.sheet_id == sheet_id:
                return s
        return None

    def sheet_by_title(self, title: str) -> Sheet | None:
        for s in self.sheets:
            if s.title == title:
                return s
        return None

    def titles(self) -> set[str]:
        return {s.title for s in self.sheets}

    def reindex(self) -> None:
        self.sheets.sort(key=lambda s: s.props["index"])
        for i, s in enumerate(self.sheets):
            s.props["index"] = i

    def new_id(self, taken: set[int] | None = None) -> int:
        """A random positive 31-bit id, like Google's sheetId / protectedRangeId."""
        taken = taken or set()
        while True:
            n = self._rng.randrange(1, 2**31 - 1)
            if n not in taken:
                return n

    def all_protected_ids(self) -> set[int]:
        return {p["protectedRangeId"] for s in self.sheets for p in s.protected}

    def all_metadata(self) -> list[dict[str, Any]]:
        return self.metadata + [m for s in self.sheets for m in s.metadata]

    # ---- serialisation -------------------------------------------------------------------------

    def to_json(self, include_grid_data: bool = False, ranges: list[str] | None = None,
                fields: str | None = None, *, viewer: str | None = None,
                viewer_is_owner: bool = True) -> dict[str, Any]:
        """spreadsheets.get body. ``ranges`` limit sheets/grid data; ``fields`` masks the output.

        ``viewer`` decides ``requestingUserCanEdit`` and whether protected-range editors show.
        """
        from .griddata import grid_data, resolve_ranges  # local: griddata imports this module

        tree = parse_mask(fields) if fields else None
        sheets_tree = (tree or {}).get("sheets")
        want_data = include_grid_data or (isinstance(sheets_tree, dict) and "data" in sheets_tree)
        selected = resolve_ranges(self, ranges) if ranges else None
        out: dict[str, Any] = {"spreadsheetId": self.spreadsheet_id,
                               "properties": copy.deepcopy(self.properties), "sheets": []}
        for sheet in self.sheets:
            if selected is not None and sheet.sheet_id not in selected:
                continue
            sj: dict[str, Any] = {"properties": prune_props(sheet.props)}
            if want_data:
                boxes = selected[sheet.sheet_id] if selected else [Box(None, None, None, None)]
                sj["data"] = [grid_data(self, sheet, b) for b in boxes]
            if sheet.cond_formats:
                sj["conditionalFormats"] = [_cond_json(sheet, cf) for cf in sheet.cond_formats]
            prs = [protected_json(sheet, p, viewer, viewer_is_owner) for p in sheet.protected]
            if prs:
                sj["protectedRanges"] = prs
            if sheet.metadata:
                sj["developerMetadata"] = copy.deepcopy(sheet.metadata)
            out["sheets"].append(sj)
        if self.metadata:
            out["developerMetadata"] = copy.deepcopy(self.metadata)
        out["spreadsheetUrl"] = f"https://docs.google.com/spreadsheets/d/{self.spreadsheet_id}/edit"
        if tree is not None:
            out = apply_mask(out, tree)
        return out


_DROP_FALSY = {"hidden", "rightToLeft", "hideGridlines", "frozenRowCount", "frozenColumnCount",
               "rowGroupControlAfter", "columnGroupControlAfter"}


def prune_props(props: dict[str, Any]) -> dict[str, Any]:
    """Sheet properties with proto3 defaults dropped (sheetId/index are always present)."""
    out: dict[str, Any] = {}
    for key, v in props.items():
        if isinstance(v, dict):
            v = prune_props(v)
            if not v and key != "gridProperties":
                continue
        elif key in _DROP_FALSY and not v:
            continue
        out[key] = v
    return out


def protected_json(sheet: Sheet, pr: dict[str, Any], viewer: str | None,
                   viewer_is_owner: bool) -> dict[str, Any]:
    """ProtectedRange as Google returns it to ``viewer`` (editors only to those who may edit)."""
    users = pr.get("editors", {}).get("users", [])
    can_edit = viewer_is_owner or (viewer is not None and viewer in users)
    out: dict[str, Any] = {"protectedRangeId": pr["protectedRangeId"],
                           "range": pr["range"].to_grid_range(sheet.sheet_id)}
    if pr.get("description"):
        out["description"] = pr["description"]
    if pr.get("warningOnly"):
        out["warningOnly"] = True
    if can_edit:
        out["requestingUserCanEdit"] = True
    if pr.get("unprotectedRanges"):
        out["unprotectedRanges"] = [b.to_grid_range(sheet.sheet_id)
                                    for b in pr["unprotectedRanges"]]
    if can_edit:
        eds = {k: list(v) for k, v in pr.get("editors", {}).items() if v}
        out["editors"] = eds
    return out


def _cond_json(sheet: Sheet, cf: dict[str, Any]) -> dict[str, Any]:
    out = {k: copy.deepcopy(v) for k, v in cf.items() if k != "ranges"}
    return {"ranges": [b.to_grid_range(sheet.sheet_id) for b in cf["ranges"]], **out}
