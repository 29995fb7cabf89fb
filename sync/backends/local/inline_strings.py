"""A faster read of the plain inline strings openpyxl writes, for every load of the local backend.

openpyxl writes each text cell as an inline string (``<c t="inlineStr"><is><t>5</t></is></c>``)
and reads it back through its generic object parser (``Text.from_tree``), which costs about a
third of loading a journal (~8 of 28 ms for the benchmark's 30 × 70 journal). A cell whose
``<is>`` holds exactly one ``<t>`` and no formula is read here directly; anything else — rich text
runs, phonetic hints, formulas, other cell types — goes to openpyxl's own ``parse_cell`` unchanged.
``tests/sync/backends/test_local_inline_strings.py`` checks that both give the same cells.
"""

from __future__ import annotations

from typing import Any

from openpyxl.utils.cell import coordinate_to_tuple
from openpyxl.worksheet._reader import FORMULA_TAG, INLINE_STRING, WorkSheetParser
from openpyxl.xml.constants import SHEET_MAIN_NS

ORIGINAL = WorkSheetParser.parse_cell
TEXT_TAG = f"{{{SHEET_MAIN_NS}}}t"


def parse_cell(self: WorkSheetParser, element: Any) -> dict[str, Any]:
    """``WorkSheetParser.parse_cell`` with a direct path for a plain inline string."""
    if element.get("t") == "inlineStr" and not self.rich_text:
        inline = element.find(INLINE_STRING)
        if (inline is not None and len(inline) == 1 and inline[0].tag == TEXT_TAG
                and (self.data_only or element.find(FORMULA_TAG) is None)):
            coordinate = element.get("r")
            if coordinate:
                row, column = coordinate_to_tuple(coordinate)
                self.col_counter = column
            else:
                self.col_counter += 1
                row, column = self.row_counter, self.col_counter
            style_id = element.get("s", 0)
            return {"row": row, "column": column, "value": inline[0].text or "",
                    "data_type": "s", "style_id": int(style_id) if style_id else style_id}
    return ORIGINAL(self, element)


def install() -> None:
    """Make every openpyxl worksheet parser (full and read-only loads) use :func:`parse_cell`."""
    WorkSheetParser.parse_cell = parse_cell  # type: ignore[method-assign]
