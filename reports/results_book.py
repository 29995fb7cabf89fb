"""Report 3 as a workbook: «Классы» (with a chart), «Предметы» (with a chart), «Классы и
предметы», «Учителя», «Ученики»."""

from __future__ import annotations

from pathlib import Path

from reports.results import KINDS, YEAR_MARK_NOTE, Results, results
from reports.snapshot import Snapshot
from reports.span import Span
from reports.xlsx import Book, Table

TITLE = "Итоги успеваемости"


def write_results(snapshot: Snapshot, span: Span, path: Path) -> Results:
    """Build report 3 for ``span`` and write it to ``path``; returns the frames."""
    frames = results(snapshot, span)
    note = YEAR_MARK_NOTE if span.whole_year else ""
    pct_note = (
        "% успеваемости и % качества по ученикам: доля аттестованных учеников без «2» и «н/а» "
        "и доля отличников и хорошистов; СОУ и средний балл — по отметкам за период."
    )
    with Book(path, snapshot, span, TITLE) as book:
        ws, row = book.sheet("Классы", "по классам")
        table = book.table(ws, frames.classes, row, kinds=KINDS, note=pct_note, total_last=True)
        _chart(book, table, len(frames.classes) - 1, ("% успеваемости", "% качества", "СОУ, %"),
               "column", "Успеваемость, качество и СОУ по классам", 5)
        ws, row = book.sheet("Предметы", "по предметам, все классы")
        table = book.table(ws, frames.by_subject, row, kinds=KINDS)
        _chart(book, table, len(frames.by_subject), ("% качества", "СОУ, %"), "bar",
               "Качество знаний и СОУ по предметам", 3)
        ws, row = book.sheet("Классы и предметы", "по классам и предметам")
        book.table(ws, frames.subjects, row, kinds=KINDS, freeze_cols=2)
        ws, row = book.sheet("Учителя", "по учителям")
        book.table(ws, frames.teachers, row, kinds=KINDS)
        ws, row = book.sheet("Ученики", "отметки учеников")
        pupil_kinds = {"Средний балл": "dec", **{name: "mark" for name in frames.subject_names}}
        book.table(ws, frames.pupils, row, kinds=pupil_kinds, freeze_cols=2, note=note)
    return frames


def _chart(book: Book, table: Table, rows: int, columns: tuple[str, ...], kind: str,
           title: str, at_row: int) -> None:
    """A native chart of ``columns`` (0–100 %) over the first ``rows`` rows of ``table``, labelled
    by its first column, inserted ``at_row`` rows below the table."""
    if rows < 1:
        return
    chart = book.workbook.add_chart({"type": kind})
    name = table.sheet.get_name()
    first, last = table.first_row, table.first_row + rows - 1
    for column in columns:
        col = table.col(column)
        chart.add_series({
            "name": [name, table.header_row, col],
            "categories": [name, first, 0, last, 0],
            "values": [name, first, col, last, col],
        })
    chart.set_title({"name": title})
    (chart.set_x_axis if kind == "bar" else chart.set_y_axis)({"min": 0, "max": 100, "name": "%"})
    chart.set_legend({"position": "bottom"})
    scale = max(1.2, rows / 12) if kind == "bar" else 1.2
    table.sheet.insert_chart(table.last_row + at_row, 0, chart, {"x_scale": 1.6, "y_scale": scale})
