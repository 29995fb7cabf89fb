"""Workbook layout and cell access for the local backend (openpyxl), with Sheets semantics.

What the google backend gets from Sheets, this module reproduces in an ``.xlsx``: values are RAW (a
string is always a string: openpyxl would otherwise store ``"=SUM(A1)"`` as a formula and ``"#N/A"``
as an error), reads are unformatted (numbers, text, booleans; dates as Sheets serial numbers, days
since 1899-12-30; trailing empty cells and rows trimmed), and protection is whole-sheet protection with
the open cells unlocked (``Protection(locked=False)``) — the xlsx equivalent of ``unprotectedRanges``.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import math
import re
import warnings
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import IO, Any

import openpyxl
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE, Cell
from openpyxl.formatting.rule import CellIsRule
from openpyxl.styles import Alignment, PatternFill, Protection
from openpyxl.utils import get_column_letter
from openpyxl.workbook.workbook import Workbook
from openpyxl.worksheet.protection import SheetProtection
from openpyxl.worksheet.worksheet import Worksheet

from rules.errors import BackendError
from sync.backends.local import caps, inline_strings
from sync.backends.local.dropdowns import add_dropdown
from sync.backends.local.looks import apply_looks
from sync.backends.local.manifest import TabState
from sync.backends.protocol import CellRange, Grid, TabMissing, TabSpec

logger = logging.getLogger(__name__)
inline_strings.install()

Cells = set[tuple[int, int]]  # 0-based (row, col)
UNLOCKED = Protection(locked=False)
LOCKED = Protection(locked=True)
_BAD_TAB = re.compile(r"[\[\]:*?/\\]")
_EPOCH = dt.datetime(1899, 12, 30)  # noqa: DTZ001 - serial numbers are naive by definition


class UnreadableFile(Exception):
    """The bytes are not a readable workbook (damaged, or caught mid-save). Never leaves the backend."""


# ------------------------------------------------------------------------------- load / save


def load(data: bytes, *, data_only: bool = False, read_only: bool = False,
         checked: bool = False) -> Workbook:
    """Parse workbook bytes after the size caps (``checked``: the caller just checked them);
    openpyxl's warnings about unsupported extensions go to DEBUG. A full load is refused when a tab
    reaches past the caps, before anything walks its rows (:class:`~sync.backends.local.caps.TooLarge`)."""
    if not checked:
        caps.check_archive(data)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            wb = openpyxl.load_workbook(io.BytesIO(data), data_only=data_only, read_only=read_only)
        except Exception as exc:  # any failure to parse untrusted bytes means "unreadable"
            raise UnreadableFile(f"{type(exc).__name__}: {exc}") from exc
    for w in caught:
        logger.debug("openpyxl: %s", w.message)
    if not read_only:
        for ws in wb.worksheets:
            caps.check_extent(ws.title, ws.max_row, ws.max_column)
    return wb


def save(wb: Workbook, out: IO[bytes]) -> None:
    """The default serializer: the workbook as xlsx into ``out``."""
    wb.save(out)


def has_formulas(data: bytes) -> bool:
    """Whether any worksheet holds a cell formula (e.g. typed by a teacher in LibreOffice); found
    by the caps' scan of the XML, which refuses an oversized workbook first."""
    return caps.check_archive(data)


# ------------------------------------------------------------------------------- values


def put(cell: Cell, value: Any) -> None:
    """Set one cell RAW: ``None`` or ``""`` clears it (as the google backend), text stays text."""
    if value is None or value == "":
        cell.value = None
    elif isinstance(value, str):
        cell.value = ILLEGAL_CHARACTERS_RE.sub("\ufffd", value)  # xlsx cannot hold control chars
        cell.data_type = "s"  # never a formula ("=…") or an error value ("#N/A")
    elif isinstance(value, bool | int) or (isinstance(value, float) and math.isfinite(value)):
        cell.value = value
    else:
        raise BackendError(f"cannot store a {type(value).__name__} value in a cell",
                           hint="cells take str, int, finite float, bool, '' or None")


def set_values(ws: Worksheet, rng: CellRange, grid: Grid, *, skip_empty: bool = False) -> None:
    """Write ``grid`` at ``rng`` like a RAW ``values.update`` (a 1×1 range is just an anchor).

    ``skip_empty`` leaves empty values alone instead of clearing (laying out a new tab)."""
    height, width = len(grid), max((len(r) for r in grid), default=0)
    anchor = rng.end_row == rng.start_row + 1 and rng.end_col == rng.start_col + 1
    too_tall = rng.end_row is not None and height > rng.end_row - rng.start_row
    too_wide = rng.end_col is not None and width > rng.end_col - rng.start_col
    if not anchor and (too_tall or too_wide):
        raise BackendError(f"tab {rng.tab!r}: {height}×{width} values do not fit the range",
                           hint="the update's grid is larger than its range")
    for i, row in enumerate(grid):
        for j, value in enumerate(row):
            if not (skip_empty and (value is None or value == "")):
                put(ws.cell(rng.start_row + i + 1, rng.start_col + j + 1), value)
    fit_rows(ws, range(rng.start_row + 1, rng.start_row + height + 1))


LINE_POINTS = 15.0  # height of one line of text (the default 11 pt font)


def fit_rows(ws: Worksheet, rows: range) -> None:
    """Give rows holding wrapped text the height of their longest cell: LibreOffice (and Excel)
    do not fit the rows of a file they open, so wrapped lines would overlap the next row.

    Reads alignments from the workbook's style table (what ``cell.alignment`` proxies, without a
    proxy per cell) and the sheet's extent once (``ws[r]`` recomputes it per row); like ``ws[r]``,
    it creates the missing cells of a row up to the last column."""
    aligns = ws.parent._alignments
    last_row, last_col = ws.max_row, ws.max_column
    for r in rows:
        lines = 1
        cells = next(ws.iter_rows(min_row=r, max_row=r, max_col=last_col)) if r <= last_row else ()
        for cell in cells:
            style = cell._style  # None: never styled (the default alignment, id 0)
            align = aligns[style.alignmentId if style is not None else 0]
            if align.text_rotation:  # turned text: the layout chose the row's height
                lines = 0
                break
            value = cell.value
            if not (align.wrap_text and isinstance(value, str) and value):
                continue
            width = ws.column_dimensions[get_column_letter(cell.column)].width or 8.43
            per_line = max(1, int(width * 1.05))
            count = sum(wrapped_lines(part, per_line) for part in value.split("\n"))
            lines = max(lines, count)
        if lines:
            ws.row_dimensions[r].height = LINE_POINTS * lines if lines > 1 else None


def wrapped_lines(text: str, per_line: int) -> int:
    """How many lines a spreadsheet needs for ``text`` wrapped at word boundaries, ``per_line``
    characters a line (a word longer than a line is broken)."""
    lines, used = 1, 0
    for word in text.split():
        if used and used + 1 + len(word) <= per_line:
            used += 1 + len(word)
            continue
        if used:
            lines += 1
        lines += (len(word) - 1) // per_line if word else 0
        used = len(word) % per_line or min(len(word), per_line)
    return lines


def unformatted(value: Any) -> Any:
    """A cell value as Sheets' UNFORMATTED_VALUE + SERIAL_NUMBER would give it ("" when empty)."""
    if value is None:
        return ""
    if isinstance(value, bool | str):
        return value
    if isinstance(value, dt.datetime):
        value = (value.replace(tzinfo=None) - _EPOCH) / dt.timedelta(days=1)
    elif isinstance(value, dt.date):
        value = (value - _EPOCH.date()).days
    elif isinstance(value, dt.time):
        value = (dt.datetime.combine(_EPOCH, value) - _EPOCH) / dt.timedelta(days=1)
    elif isinstance(value, dt.timedelta):
        value = value / dt.timedelta(days=1)
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, int | float):
        return value
    return str(value)  # e.g. an ArrayFormula object: its text


def trimmed(rows: Iterable[Sequence[Any]]) -> Grid:
    """Rows of unformatted values without trailing empty cells and rows (what Sheets returns)."""
    out: Grid = []
    last = 0
    for raw in rows:
        row = [unformatted(v) for v in raw]
        while row and row[-1] == "":
            row.pop()
        out.append(row)
        if row:
            last = len(out)
    return out[:last]


def read_tabs(file_id: str, data: bytes, titles: Sequence[str]) -> dict[str, Grid]:
    """Whole tabs' values. A formula reads as its cached value, or as its text when the file has no
    cached value (a second parse, done only when the file holds formulas at all)."""
    formulas = caps.check_archive(data)
    wb = load(data, data_only=True, read_only=True, checked=True)
    try:
        missing = [t for t in titles if t not in wb.sheetnames]
        if missing:
            raise TabMissing(file_id, missing)
        grids = {t: _rows(wb[t]) for t in titles}
    except (TabMissing, caps.TooLarge):
        raise
    except Exception as exc:  # read-only parsing is lazy: damage can surface here
        raise UnreadableFile(f"{type(exc).__name__}: {exc}") from exc
    finally:
        wb.close()
    if formulas and titles:
        _fill_formula_text(data, grids)
    return {t: trimmed(rows) for t, rows in grids.items()}


def _rows(ws: Any) -> list[list[Any]]:
    """A read-only tab's rows within the caps (its ``<dimension>`` is not trusted)."""
    ws.reset_dimensions()
    return caps.bounded_rows(ws.title, ws.iter_rows(values_only=True))


def _fill_formula_text(data: bytes, grids: dict[str, list[list[Any]]]) -> None:
    wb = load(data, read_only=True, checked=True)
    try:
        for title, rows in grids.items():
            for i, raw in enumerate(_rows(wb[title])):
                for j, formula in enumerate(raw):
                    if formula is not None and i < len(rows) and j < len(rows[i]) \
                            and rows[i][j] is None:
                        rows[i][j] = str(getattr(formula, "text", formula))
    except caps.TooLarge:
        raise
    except Exception as exc:
        raise UnreadableFile(f"{type(exc).__name__}: {exc}") from exc
    finally:
        wb.close()


# ------------------------------------------------------------------------------- layout


def check_tab_title(title: str) -> None:
    """xlsx tab titles: 1–31 characters, none of ``[]:*?/\\``, no quote at either end."""
    if not title or len(title) > 31 or _BAD_TAB.search(title) or title[0] == "'" or title[-1] == "'":
        raise BackendError(f"tab title {title!r} is not allowed in an xlsx file",
                           hint="use 1–31 characters without []:*?/\\ and no quote at either end")


def cells_of(ranges: Iterable[CellRange], extent: tuple[int, int]) -> Cells:
    """The cells of ``ranges``; open ends stop at ``extent`` (rows, cols)."""
    rows, cols = extent
    out: Cells = set()
    for rg in ranges:
        r1 = rg.end_row if rg.end_row is not None else rows
        c1 = rg.end_col if rg.end_col is not None else cols
        out.update((r, c) for r in range(rg.start_row, r1) for c in range(rg.start_col, c1))
    return out


def _sqref(rg: CellRange, extent: tuple[int, int]) -> str | None:
    r1 = rg.end_row if rg.end_row is not None else extent[0]
    c1 = rg.end_col if rg.end_col is not None else extent[1]
    if r1 <= rg.start_row or c1 <= rg.start_col:
        return None
    return (f"{get_column_letter(rg.start_col + 1)}{rg.start_row + 1}:"
            f"{get_column_letter(c1)}{r1}")


def extent_of(tab: TabSpec) -> tuple[int, int]:
    return (max(tab.row_count, len(tab.rows)),
            max(tab.col_count, max((len(r) for r in tab.rows), default=0)))


def lay_out_tab(wb: Workbook, tab: TabSpec) -> TabState:
    """Add ``tab`` to ``wb`` as the spec lays it out; returns its protection state."""
    check_tab_title(tab.title)
    ws = wb.create_sheet(tab.title)
    extent = extent_of(tab)
    set_values(ws, CellRange(tab.title, 0, 0), tab.rows, skip_empty=True)
    for r, c in cells_of(tab.text_ranges, extent):
        ws.cell(r + 1, c + 1).number_format = "@"
    if tab.frozen_rows or tab.frozen_cols:
        ws.freeze_panes = ws.cell(tab.frozen_rows + 1, tab.frozen_cols + 1)
    for col in tab.hidden_cols:
        ws.column_dimensions[get_column_letter(col + 1)].hidden = True
    for col, px in tab.col_widths.items():
        ws.column_dimensions[get_column_letter(col + 1)].width = round(max(px - 5, 0) / 7, 2)
    for r, c in cells_of(tab.wrapped, extent):
        ws.cell(r + 1, c + 1).alignment = Alignment(wrap_text=True, vertical="top")
    if tab.wrapped:
        fit_rows(ws, range(1, len(tab.rows) + 1))
    for dd in tab.dropdowns:
        add_dropdown(ws, dd, _sqref(dd.range, extent))
    if tab.hidden:
        ws.sheet_state = "hidden"
    if tab.print_wide:
        ws.page_setup.orientation = "landscape"
        ws.page_setup.fitToWidth, ws.page_setup.fitToHeight = 1, 0
        ws.sheet_properties.pageSetUpPr.fitToPage = True
    for hl in tab.highlights:
        ref = _sqref(hl.range, extent)
        if ref:
            color = "FF" + hl.color.lstrip("#").upper()
            fill = PatternFill(start_color=color, end_color=color, fill_type="solid")
            literal = '"' + hl.equals.replace('"', '""') + '"'
            ws.conditional_formatting.add(ref, CellIsRule(operator="equal", formula=[literal],
                                                          fill=fill))
    apply_looks(ws, tab, extent)
    open_ranges = [on_tab(tab.title, r) for r in tab.open_ranges] if tab.protected else []
    if tab.protected:
        apply_open_ranges(ws, open_ranges, extent)
    return TabState(tab.protected, open_ranges, extent)


def on_tab(tab: str, rg: CellRange) -> CellRange:
    """``rg`` placed on ``tab`` (ranges inside a TabSpec belong to that tab, whatever they say)."""
    return rg if rg.tab == tab else CellRange(tab, rg.start_row, rg.start_col, rg.end_row, rg.end_col)


# ------------------------------------------------------------------------------- protection


def apply_open_ranges(ws: Worksheet, ranges: Sequence[CellRange], extent: tuple[int, int]) -> None:
    """Protect the whole sheet (no password) and unlock exactly the cells of ``ranges``."""
    ws.protection = SheetProtection(sheet=True)
    wanted = cells_of(ranges, extent)
    for row in ws.iter_rows():
        for cell in row:
            key = (cell.row - 1, cell.column - 1)
            if cell.protection.locked is False and key not in wanted:
                cell.protection = LOCKED
    for r, c in wanted:
        ws.cell(r + 1, c + 1).protection = UNLOCKED


def file_open_ranges(ws: Worksheet, state: TabState | None) -> list[CellRange] | None:
    """The tab's open ranges as the file itself says (None when the sheet is not protected).

    When the unlocked cells are exactly what the manifest recorded, the recorded ranges are returned
    (keeping their open ends); otherwise rectangles covering the unlocked cells found.
    """
    if not ws.protection.sheet:
        return None
    unlocked = {(c.row - 1, c.column - 1) for row in ws.iter_rows() for c in row
                if c.protection.locked is False}
    if state is not None and state.protected and unlocked == cells_of(state.open, state.extent):
        return list(state.open)
    return rectangles(ws.title, unlocked)


def rectangles(tab: str, cells: Cells) -> list[CellRange]:
    """Cover ``cells`` with rectangles: column runs per row, merged down while they repeat."""
    by_row: dict[int, list[int]] = defaultdict(list)
    for r, c in cells:
        by_row[r].append(c)
    out: list[CellRange] = []
    growing: dict[tuple[int, int], int] = {}  # (c0, c1) → first row
    prev = -2
    for r in sorted(by_row):
        runs = set(_runs(sorted(by_row[r])))
        kept = {}
        for run, r0 in growing.items():
            if prev == r - 1 and run in runs:
                kept[run] = r0
            else:
                out.append(CellRange(tab, r0, run[0], prev + 1, run[1]))
        for run in runs:
            kept.setdefault(run, r)
        growing, prev = kept, r
    out.extend(CellRange(tab, r0, run[0], prev + 1, run[1]) for run, r0 in growing.items())
    return sorted(out, key=lambda g: (g.start_row, g.start_col))


def _runs(cols: list[int]) -> Iterable[tuple[int, int]]:
    start = prev = cols[0]
    for c in cols[1:]:
        if c != prev + 1:
            yield start, prev + 1
            start = c
        prev = c
    yield start, prev + 1
