"""How a tab looks in an ``.xlsx``: the :class:`Style`, :class:`FormulaHighlight`, notes and row
dimensions of a :class:`TabSpec`, with openpyxl — what ``repeatCell``, ``CUSTOM_FORMULA`` rules,
cell notes and ``updateDimensionProperties`` are on Google. Applied once, when a tab is laid out.
"""

from __future__ import annotations

from openpyxl.comments import Comment
from openpyxl.formatting.rule import FormulaRule
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.worksheet import Worksheet

from sync.backends.protocol import CellRange, Style, TabSpec

_SIDE = Side(style="thin", color="FF999999")
_BORDER = Border(left=_SIDE, right=_SIDE, top=_SIDE, bottom=_SIDE)
_POINTS_PER_PIXEL = 0.75
_NOTE_SIZE = (240, 110)  # pixels: the box a note opens in


def argb(hex_rgb: str) -> str:
    return "FF" + hex_rgb.lstrip("#").upper()


def apply_looks(ws: Worksheet, tab: TabSpec, extent: tuple[int, int]) -> None:
    """Styles in order (a later one overrides only what it sets), formula highlights, notes,
    hidden rows and row heights."""
    for style in tab.styles:
        for r, c in _cells(style.range, extent):
            _style_cell(ws, r, c, style)
    for hl in tab.formula_highlights:
        ref = _ref(hl.range, extent)
        if ref:
            fill = PatternFill(start_color=argb(hl.fill), end_color=argb(hl.fill),
                               fill_type="solid")
            font = Font(color=argb(hl.color)) if hl.color else None
            ws.conditional_formatting.add(ref, FormulaRule(formula=[hl.formula], fill=fill,
                                                           font=font))
    for (r, c), text in tab.notes.items():
        note = Comment(text, "ejournal")
        note.width, note.height = _NOTE_SIZE
        ws.cell(r + 1, c + 1).comment = note
    for r in tab.hidden_rows:
        ws.row_dimensions[r + 1].hidden = True
    for r, px in tab.row_heights.items():
        ws.row_dimensions[r + 1].height = px * _POINTS_PER_PIXEL


def _style_cell(ws: Worksheet, r: int, c: int, style: Style) -> None:
    cell = ws.cell(r + 1, c + 1)
    if style.bold or style.italic or style.size or style.color:
        font = cell.font
        cell.font = Font(name=font.name, bold=style.bold or font.bold,
                         italic=style.italic or font.italic, size=style.size or font.size,
                         color=argb(style.color) if style.color else font.color)
    if style.fill:
        cell.fill = PatternFill(start_color=argb(style.fill), end_color=argb(style.fill),
                                fill_type="solid")
    if style.align or style.wrap or style.rotate:
        old = cell.alignment
        cell.alignment = Alignment(
            horizontal=style.align.lower() if style.align else old.horizontal,
            vertical=("bottom" if style.rotate else "top") if style.wrap else old.vertical,
            wrap_text=True if style.wrap else old.wrap_text,
            text_rotation=style.rotate or old.text_rotation)
    if style.borders:
        cell.border = _BORDER


def _bounds(rg: CellRange, extent: tuple[int, int]) -> tuple[int, int, int, int]:
    r1 = rg.end_row if rg.end_row is not None else extent[0]
    c1 = rg.end_col if rg.end_col is not None else extent[1]
    return rg.start_row, min(r1, extent[0]), rg.start_col, min(c1, extent[1])


def _cells(rg: CellRange, extent: tuple[int, int]) -> list[tuple[int, int]]:
    r0, r1, c0, c1 = _bounds(rg, extent)
    return [(r, c) for r in range(r0, r1) for c in range(c0, c1)]


def _ref(rg: CellRange, extent: tuple[int, int]) -> str | None:
    r0, r1, c0, c1 = _bounds(rg, extent)
    if r1 <= r0 or c1 <= c0:
        return None
    return f"{get_column_letter(c0 + 1)}{r0 + 1}:{get_column_letter(c1)}{r1}"
