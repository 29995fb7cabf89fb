"""``inline_strings``: the fast read of plain inline strings gives exactly openpyxl's own cells."""

from __future__ import annotations

import io
import zipfile
from typing import Any

import openpyxl
import pytest
from openpyxl.styles import Alignment
from openpyxl.worksheet._reader import WorkSheetParser

from sync.backends.local import inline_strings, xlsx

TEXTS = ["5", "н", " 4 ", "две\nстроки", "  ", "=SUM(A1)", "#N/A", "5/4", "Ёжик «в» тумане", "x" * 300]

# cells openpyxl never writes but a spreadsheet program may: rich text runs, a phonetic hint, an
# empty <t/>, a cell without a reference, a formula with a cached inline string, a shared string
RAW_CELLS = (
    '<c r="A9" t="inlineStr"><is><r><rPr><b/></rPr><t>жир</t></r><r><t xml:space="preserve"> ный'
    '</t></r></is></c>'
    '<c r="B9" t="inlineStr"><is><t>漢字</t><rPh sb="0" eb="2"><t>かんじ</t></rPh></is></c>'
    '<c r="C9" t="inlineStr" s="1"><is><t/></is></c>'
    '<c t="inlineStr"><is><t>без ссылки</t></is></c>'
    '<c r="E9" t="inlineStr"><f>"a"&amp;"b"</f><is><t>ab</t></is></c>'
    '<c r="F9" t="inlineStr"><is></is></c>'
    '<c r="G9"><v>7</v></c>'
)


def _workbook() -> bytes:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Лист"
    for i, text in enumerate(TEXTS):
        ws.cell(1 + i % 8, 1 + i // 8, text).data_type = "s"
    ws["C3"].alignment = Alignment(wrap_text=True)  # a styled text cell
    ws["D1"], ws["D2"] = 4.5, True
    out = io.BytesIO()
    wb.save(out)
    source = zipfile.ZipFile(io.BytesIO(out.getvalue()))
    patched = io.BytesIO()
    with zipfile.ZipFile(patched, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename == "xl/worksheets/sheet1.xml":
                data = data.replace(b"</sheetData>",
                                    f'<row r="9">{RAW_CELLS}</row></sheetData>'.encode())
            target.writestr(item, data)
    return patched.getvalue()


def _cells(data: bytes, **options: Any) -> list[tuple[Any, ...]]:
    wb = openpyxl.load_workbook(io.BytesIO(data), **options)
    ws = wb.active
    if options.get("read_only"):
        ws.reset_dimensions()
    out = [(c.row, c.column, c.value, c.data_type, getattr(c, "style_id", None))
           for row in ws.iter_rows() for c in row if getattr(c, "value", None) is not None]
    wb.close()
    return out


@pytest.mark.parametrize("options", [{}, {"data_only": True}, {"read_only": True},
                                     {"read_only": True, "data_only": True}, {"rich_text": True}])
def test_the_fast_read_gives_openpyxls_cells(options: dict[str, Any],
                                             monkeypatch: pytest.MonkeyPatch) -> None:
    data = _workbook()
    assert WorkSheetParser.parse_cell is inline_strings.parse_cell  # installed by xlsx
    fast = _cells(data, **options)
    monkeypatch.setattr(WorkSheetParser, "parse_cell", inline_strings.ORIGINAL)
    assert fast == _cells(data, **options)
    values = [c[2] for c in fast]
    assert " 4 " in values and "две\nстроки" in values and "=SUM(A1)" in values  # kept as typed
    assert len(fast) >= len(TEXTS) + 6


def test_the_local_backend_reads_what_it_wrote_through_the_fast_path() -> None:
    data = _workbook()
    grid = xlsx.read_tabs("f1", data, ["Лист"])["Лист"]
    assert grid[2][0] == " 4 " and grid[1][1] == "x" * 300 and grid[3][0] == "две\nстроки"
    assert grid[8][:4] == ["жир ный", "漢字", "", "без ссылки"]
