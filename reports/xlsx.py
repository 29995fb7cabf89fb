"""Writing report workbooks with xlsxwriter: the heading every report carries and tables from frames.

Every workbook is opened with ``strings_to_formulas``, ``strings_to_numbers`` and
``strings_to_urls`` off, and every text is written with ``write_string``: a teacher's topic «=2+2»
stays the text «=2+2», a homework «15» stays text; numbers are written as numbers. Each table has
a bold header row, frozen panes below it (and beside its first ``freeze_cols`` columns), an
autofilter and column widths fitted to the content.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import xlsxwriter
from xlsxwriter.workbook import Workbook
from xlsxwriter.worksheet import Worksheet

from reports.snapshot import Snapshot
from reports.span import Span

OPTIONS = {
    "strings_to_formulas": False,
    "strings_to_numbers": False,
    "strings_to_urls": False,
    "nan_inf_to_errors": False,
    "in_memory": True,  # no temporary files: report workbooks are small
}
DATE = "dd.mm.yyyy"
MOMENT = "dd.mm.yyyy hh:mm"
# column kinds → number formats; a kind not listed here is written as it comes (texts as text)
NUMBER_FORMATS = {"int": "0", "pct": "0.0", "dec": "0.00", "date": DATE, "datetime": MOMENT}
MIN_WIDTH, MAX_WIDTH = 5, 60


@dataclass(frozen=True, slots=True)
class Table:
    """Where a written table landed: header row, first and last data rows (0-based), columns."""

    sheet: Worksheet
    header_row: int
    first_row: int
    last_row: int  # == header_row when the table has no rows
    columns: tuple[str, ...]

    def col(self, name: str) -> int:
        return self.columns.index(name)


class Book:
    """One report workbook: cached formats, the heading and frame tables. Use as a context manager
    (the file is written on exit)."""

    def __init__(self, path: Path, snapshot: Snapshot, span: Span, title: str) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self.snapshot = snapshot
        self.span = span
        self.title = title
        self.workbook: Workbook = xlsxwriter.Workbook(str(path), OPTIONS)
        self.workbook.set_properties(
            {"title": title, "subject": span.name, "company": snapshot.school.name,
             "comments": f"config {snapshot.school.config_version}; audit {snapshot.audit_head}"}
        )
        self._formats: dict[tuple[tuple[str, Any], ...], Any] = {}

    def __enter__(self) -> Book:
        return self

    def __exit__(self, *exc: object) -> None:
        self.workbook.close()

    # ------------------------------------------------------------------ formats

    def fmt(self, **props: Any) -> Any:
        """A cached xlsxwriter format with these properties."""
        key = tuple(sorted(props.items()))
        found = self._formats.get(key)
        if found is None:
            found = self._formats[key] = self.workbook.add_format(props)
        return found

    def kind_format(self, kind: str | None, **extra: Any) -> Any:
        """The format of a column kind ("mark" centres marks, numbers and codes alike)."""
        number = NUMBER_FORMATS.get(kind or "")
        props = {"num_format": number} if number else {}
        if kind == "mark":
            props["align"] = "center"
        return self.fmt(**props, **extra)

    # ------------------------------------------------------------------ sheets

    def sheet(self, name: str, subtitle: str = "") -> tuple[Worksheet, int]:
        """A new sheet with the report heading; returns it and the first free row."""
        ws = self.workbook.add_worksheet(name[:31])
        return ws, self.heading(ws, subtitle)

    def print_setup(self, ws: Worksheet, header_row: int | None = None) -> None:
        """A4 landscape, fit to the page width, the table header repeated on every page, page
        numbers in the footer."""
        ws.set_paper(9)
        ws.set_landscape()
        ws.fit_to_pages(1, 0)
        ws.set_margins(left=0.5, right=0.5, top=0.6, bottom=0.6)
        if header_row is not None:
            ws.repeat_rows(header_row)
        ws.set_footer(f"&L{self.title}&Rстраница &P из &N")

    def heading(self, ws: Worksheet, subtitle: str = "") -> int:
        """School, report, period, build time, configuration version and audit chain head, one per
        row from A1; returns the next free row (after a blank one)."""
        snap, span = self.snapshot, self.span
        until = span.until(snap.today)
        counted = (
            f"{span.name} ({span.start:%d.%m.%Y}–{span.end:%d.%m.%Y})"
            + (f", данные по {until:%d.%m.%Y}" if until < span.end else "")
        )
        lines = [
            (f"{self.title}" + (f" — {subtitle}" if subtitle else ""), self.fmt(bold=True, font_size=13)),
            (f"Школа: {snap.school.name}", None),
            (f"Период: {counted}", None),
            (f"Сформирован: {snap.built_at:%d.%m.%Y %H:%M} ({snap.school.timezone.key})", None),
            (f"Версия настроек: {snap.school.config_version}", None),
            (f"Цепочка аудита (последнее событие): {snap.audit_head}", self.fmt(font_size=8)),
        ]
        for row, (text, style) in enumerate(lines):
            ws.write_string(row, 0, text, style)
        return len(lines) + 1

    def table(
        self,
        ws: Worksheet,
        frame: pd.DataFrame,
        row: int,
        *,
        kinds: Mapping[str, str] | None = None,
        freeze_cols: int = 1,
        widths: Mapping[str, float] | None = None,
        note: str = "",
        empty: str = "Нет данных.",
        total_last: bool = False,
    ) -> Table:
        """Write ``frame`` (its columns as the header) from ``row``; freeze the header, add an
        autofilter, fit the widths. ``kinds`` names number formats by column ("int", "pct",
        "dec", "date", "datetime"); a column in ``widths`` gets that width and wraps its texts.
        ``note`` is a line under the table; ``total_last`` sets the last row (a total) in bold."""
        kinds = kinds or {}
        columns = tuple(str(c) for c in frame.columns)
        header = self.fmt(bold=True, text_wrap=True, valign="top", bg_color="#DDE5F0", border=1)
        for col, name in enumerate(columns):
            ws.write_string(row, col, name, header)
        wrapped = set(widths or {})  # a column given a width wraps its long texts
        styles = [
            self.kind_format(kinds.get(name), valign="top",
                             **({"text_wrap": True} if name in wrapped else {}))
            for name in columns
        ]
        wrap_at = [(col, (widths or {})[name]) for col, name in enumerate(columns)
                   if name in wrapped]
        bold = [
            self.kind_format(kinds.get(name), valign="top", bold=True, top=1) for name in columns
        ]
        last, final = row, row + len(frame)
        for last, values in enumerate(frame.itertuples(index=False, name=None), start=row + 1):
            chosen = bold if total_last and last == final else styles
            for col, value in enumerate(values):
                write_cell(ws, last, col, value, chosen[col])
            lines = max((header_lines(values[col], width) for col, width in wrap_at
                         if isinstance(values[col], str)), default=1)
            if lines > 1:  # LibreOffice does not grow a row for wrapped text by itself
                ws.set_row(last, 15 * lines)
        if last == row:
            ws.write_string(row + 1, 0, empty, self.fmt(italic=True))
        if columns:
            ws.autofilter(row, 0, max(last, row), len(columns) - 1)
            ws.freeze_panes(row + 1, freeze_cols)
            fitted = fit_widths(frame, columns)
            chosen = [(widths or {}).get(name, fitted[col]) for col, name in enumerate(columns)]
            for col, width in enumerate(chosen):
                ws.set_column(col, col, width)
            lines = max(header_lines(name, width) for name, width in zip(columns, chosen,
                                                                         strict=True))
            ws.set_row(row, 15 * lines)
        self.print_setup(ws, row)
        if note:
            ws.write_string(max(last, row + 1) + 2, 0, note, self.fmt(italic=True))
        return Table(ws, row, row + 1, last, columns)


def header_lines(name: str, width: float) -> int:
    """Lines a wrapped header needs in a column ``width`` characters wide (words kept whole)."""
    lines, used = 1, 0
    for word in name.split():
        if used and used + 1 + len(word) > width - 1:
            lines, used = lines + 1, len(word)
        else:
            used += (1 if used else 0) + len(word)
    return lines


def write_cell(ws: Worksheet, row: int, col: int, value: Any, style: Any = None) -> None:
    """One value: None/NaN blank (keeping the cell's format: borders), numbers as numbers, dates
    as dates, everything else as text."""
    if value is None or value is pd.NA or value is pd.NaT:
        if style is not None:
            ws.write_blank(row, col, None, style)
        return
    if isinstance(value, bool):
        ws.write_boolean(row, col, value, style)
    elif isinstance(value, int | float):
        if isinstance(value, float) and math.isnan(value):
            write_cell(ws, row, col, None, style)
            return
        ws.write_number(row, col, value, style)
    elif hasattr(value, "item") and not isinstance(value, str):  # a numpy scalar
        write_cell(ws, row, col, value.item(), style)
    elif isinstance(value, datetime):
        ws.write_datetime(row, col, value.replace(tzinfo=None), style)
    elif isinstance(value, date):
        ws.write_datetime(row, col, value, style)
    else:
        ws.write_string(row, col, str(value), style)


def fit_widths(frame: pd.DataFrame, columns: tuple[str, ...]) -> list[float]:
    """Column widths from the longest text (at most the first 2,000 rows looked at), in
    [MIN_WIDTH, MAX_WIDTH]; a header may wrap onto two lines."""
    sample = frame.head(2000)
    widths = []
    for position, name in enumerate(columns):
        longest = max((len(w) for w in name.split()), default=0)
        header = max(longest * 1.2 + 1, math.ceil(len(name) / 2))  # bold, may wrap once
        values = sample.iloc[:, position]
        content = max((len(_shown(v)) for v in values), default=0)
        widths.append(float(min(MAX_WIDTH, max(MIN_WIDTH, header, content) + 1)))
    return widths


def _shown(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, datetime):
        return "00.00.0000 00:00"
    if isinstance(value, date):
        return "00.00.0000"
    if isinstance(value, float):
        return f"{value:.2f}"
    return str(value)
