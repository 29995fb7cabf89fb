"""Dropdowns of the local backend: xlsx list validations, literal or over a range of a tab."""

from __future__ import annotations

import logging

from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from sync.backends.protocol import CellRange, Dropdown, column_letter

logger = logging.getLogger(__name__)


def add_dropdown(ws: Worksheet, dd: Dropdown, ref: str) -> None:
    """A list validation at ``ref`` (the tab's A1 sqref): over ``dd.source`` when it has one,
    else a literal list — skipped with a warning when xlsx cannot hold it (commas, > 255)."""
    values, strict = dd.values, dd.strict
    formula = '"' + ",".join(v.replace('"', '""') for v in values) + '"'
    if dd.source is not None:  # a range of another tab: any values, any number
        formula = _absolute(dd.source)
    elif any("," in v for v in values) or len(formula) > 257:
        # an xlsx list literal cannot hold commas and is limited to 255 characters; the dropdown
        # only suggests values (non-strict), so the tab works without it
        logger.warning("tab %s: dropdown at %s skipped (values with commas or too long a list)",
                       ws.title, ref)
        return
    if ref:
        dv = DataValidation(type="list", formula1=formula, allow_blank=True,
                            showErrorMessage=strict, errorStyle="stop")
        dv.add(ref)
        ws.add_data_validation(dv)


def _absolute(rg: CellRange) -> str:
    """``'Списки'!$A$2:$A$45``: an xlsx list validation's source range (closed rows)."""
    if rg.end_col is None or rg.end_row is None:
        raise ValueError(f"{rg!r}: a dropdown's source needs closed rows and columns")
    title = "'" + rg.tab.replace("'", "''") + "'"
    return (f"{title}!${column_letter(rg.start_col)}${rg.start_row + 1}"
            f":${column_letter(rg.end_col - 1)}${rg.end_row}")


