"""``xlsx.fit_rows``: the row heights a written workbook carries (LibreOffice does not fit them)."""

from __future__ import annotations

import io

import openpyxl
from openpyxl.styles import Alignment

from sync.backends.local.xlsx import LINE_POINTS, fit_rows


def test_wrapped_text_sets_the_height_and_turned_text_keeps_it() -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.column_dimensions["B"].width = 10  # 10 characters a line
    ws["B1"] = "дом дом дом дом дом"  # 3 lines when wrapped
    ws["B1"].alignment = Alignment(wrap_text=True)
    ws["B2"] = "дом дом дом дом дом"  # not wrapped: one line
    ws.row_dimensions[2].height = 40
    ws["A3"], ws["B3"] = "длинный текст в две строки", "x"  # turned text in the row: kept
    ws["A3"].alignment = Alignment(wrap_text=True)
    ws["B3"].alignment = Alignment(text_rotation=90)
    ws.row_dimensions[3].height = 60
    ws.row_dimensions[9].height = 30  # past the last row: back to the default
    loaded = openpyxl.load_workbook(io.BytesIO(_saved(wb)))  # unstyled cells load without style
    for book in (wb, loaded):
        sheet = book.active
        fit_rows(sheet, range(1, 10))
        heights = {r: sheet.row_dimensions[r].height for r in (1, 2, 3, 9)}
        assert heights == {1: 3 * LINE_POINTS, 2: None, 3: 60, 9: None}
        assert (2, 1) in sheet._cells  # the row's cells up to the last column exist, as ws[r]


def _saved(wb: openpyxl.Workbook) -> bytes:
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()
