"""Reading written report workbooks back (pandas, openpyxl) for the report tests."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import openpyxl
import pandas as pd

HEADER_ROW = 7  # 0-based: six heading lines and a blank row above every table


def table(path: Path, sheet: str) -> pd.DataFrame:
    """A sheet's table as pandas reads it: the header row, then rows up to the first blank one."""
    frame = pd.read_excel(path, sheet_name=sheet, header=HEADER_ROW, engine="openpyxl")
    blank = frame.isna().all(axis=1)
    if blank.any():
        frame = frame.loc[: blank.idxmax() - 1] if blank.idxmax() > 0 else frame.iloc[0:0]
    return frame.reset_index(drop=True)


def row(frame: pd.DataFrame, **where: Any) -> dict[str, Any]:
    """The only row whose columns hold the given values, as a dict."""
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column] == value
    found = frame[mask]
    assert len(found) == 1, f"{len(found)} rows match {where} in\n{frame}"
    return {k: (None if isinstance(v, float) and pd.isna(v) else v)
            for k, v in found.iloc[0].to_dict().items()}


def heading(path: Path, sheet: str | None = None) -> list[str]:
    """The six heading lines (A1:A6) of a sheet (the first one by default)."""
    book = openpyxl.load_workbook(path)
    ws = book[sheet] if sheet else book.worksheets[0]
    return [str(ws.cell(row=r, column=1).value) for r in range(1, 7)]


def cells(path: Path, sheet: str) -> list[tuple[str, Any, str]]:
    """Every non-empty cell of a sheet: (coordinate, value, openpyxl data type)."""
    ws = openpyxl.load_workbook(path)[sheet]
    return [(c.coordinate, c.value, c.data_type) for r in ws.iter_rows() for c in r
            if c.value is not None]
