"""How a period tab looks: the paper journal's grid on a spreadsheet.

Above the dates a row of month names (and, in its «Ученик» cell, the legend of the codes); under
the dates the weekday, then the «Вид работы» row (wrapped, small type). A hidden first row holds
each lesson column's date as a serial number, so two conditional formats follow the calendar by
themselves: today's column green, the past grey — no write when the day changes. Headers bold
on a tint, every cell of the grid bordered, the service's columns shaded. All of it is part of
the layout's one write (``TabSpec.styles``, ``formula_highlights``, ``notes``); pure, no I/O.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

from rules.assessment import FAILED, PASSED, Assessment
from rules.model import MarkGrammar
from sync.backends.protocol import CellRange, FormulaHighlight, Grid, Style, column_letter
from sync.layout.common import date_text

SERIAL_ROW, MONTH_ROW, HEADER_ROW, WEEKDAY_ROW, WORK_TYPE_ROW = 0, 1, 2, 3, 4
FIRST_PUPIL_ROW = 5
HEADER_FILL = "#DCE6F1"
SERVICE_FILL = "#F2F2F2"
PERIOD_FILL = "#FFF8E1"
TODAY_FILL = "#D9EAD3"
PAST_FILL = "#EDEDED"
PAST_TEXT = "#595959"
NOTE_TEXT = "#7F6000"
MONTHS = ("Январь", "Февраль", "Март", "Апрель", "Май", "Июнь", "Июль", "Август", "Сентябрь",
          "Октябрь", "Ноябрь", "Декабрь")
WEEKDAYS = ("пн", "вт", "ср", "чт", "пт", "сб", "вс")
_EPOCH = date(1899, 12, 30)  # Sheets' and xlsx's day 0


def serial(day: date) -> int:
    """A date as the spreadsheet's serial number (days since 30.12.1899)."""
    return (day - _EPOCH).days


def legend(grammar: MarkGrammar, scheme: Assessment = Assessment.MARKS) -> str:
    """The codes a teacher types, explained once on every period tab (two short lines)."""
    attendance = f"{grammar.absent} — не был, {grammar.late} — опоздал"
    if scheme is Assessment.NONE:
        return f"{attendance}; отметки в этом журнале не ставят"
    if scheme is Assessment.PASS_FAIL:
        return f"{PASSED} — зачтено, {FAILED} — не зачтено, {attendance}, {grammar.owed} — долг"
    return f"{attendance}, {grammar.owed} — долг, 5/4 — две отметки за урок"


COLOURS_NOTE = (
    "Зелёный столбец — сегодняшний урок; серые — прошедшие дни. Вписать можно только в открытые "
    "ячейки: отметки — в день урока (за контрольную — в срок её проверки), отметку за период — "
    "в её окно. Исправить закрытое можно только через заместителя директора."
)


def withheld_note(period_word: str, journal_from: date) -> str:
    """Why «Средний балл» and «Рекомендуемая» stay empty for a period begun on paper."""
    return (f"Не считается: часть периода («{period_word}») до {date_text(journal_from)} велась "
            "в бумажном журнале, поэтому средний балл по электронному журналу был бы неполным. "
            "Отметку за период выставляет учитель по обоим журналам.")


@dataclass(frozen=True)
class GridShape:
    """Where the parts of a period tab are: lesson columns [first, first + n), the service
    columns, and the rows of pupils [FIRST_PUPIL_ROW, end_row)."""

    title: str
    days: Sequence[date]  # of each lesson column, in order
    first: int
    avg_col: int | None
    rec_col: int | None
    period_col: int
    end_row: int

    @property
    def width(self) -> int:
        return self.period_col + 1


def top_rows(shape: GridShape, *, legend_text: str, withheld: bool) -> Grid:
    """The hidden serial row and the month row (legend, the withheld-averages word)."""
    serials: list[object] = [""] * shape.width
    months: list[object] = [""] * shape.width
    months[2] = legend_text
    last_month = None
    for i, day in enumerate(shape.days):
        serials[shape.first + i] = serial(day)
        if day.month != last_month:
            months[shape.first + i] = MONTHS[day.month - 1]
            last_month = day.month
    if withheld and shape.avg_col is not None:
        months[shape.avg_col] = "не считаются — см. примечание"
    return [serials, months]


def weekday_row(shape: GridShape, caption: str) -> list[object]:
    row: list[object] = ["", "", caption]
    row += [WEEKDAYS[day.weekday()] for day in shape.days]
    return row + [""] * (shape.width - len(row))


def styles(shape: GridShape) -> tuple[Style, ...]:
    """Borders over the grid, tinted bold headers, small grey captions, shaded service columns.
    Styles only add (``Style``), so the order matters: general first, particular after."""
    t, n, first, end = shape.title, len(shape.days), shape.first, shape.end_row
    out = [
        Style(CellRange(t, HEADER_ROW, 0, end, shape.width), borders=True),
        Style(CellRange(t, MONTH_ROW, 0, MONTH_ROW + 1, shape.width), fill=HEADER_FILL),
        Style(CellRange(t, MONTH_ROW, first, MONTH_ROW + 1, first + n), bold=True),
        Style(CellRange(t, MONTH_ROW, 2, MONTH_ROW + 1, 3), size=8, wrap=True),
        Style(CellRange(t, HEADER_ROW, 0, HEADER_ROW + 1, shape.width), bold=True,
              fill=HEADER_FILL, align="CENTER", wrap=True),
        Style(CellRange(t, WEEKDAY_ROW, 2, WORK_TYPE_ROW + 1, shape.width), italic=True, size=8,
              color=PAST_TEXT, fill=HEADER_FILL),
        Style(CellRange(t, WEEKDAY_ROW, first, WORK_TYPE_ROW + 1, first + n), align="CENTER"),
        Style(CellRange(t, WORK_TYPE_ROW, first, WORK_TYPE_ROW + 1, first + n), wrap=True,
              rotate=90),  # as on paper: «Самостоятельная работа» fits a narrow column
        Style(CellRange(t, FIRST_PUPIL_ROW, 1, end, 2), align="CENTER"),
    ]
    if n:
        out.append(Style(CellRange(t, FIRST_PUPIL_ROW, first, end, first + n), align="CENTER"))
    for col in (shape.avg_col, shape.rec_col):
        if col is not None:
            out.append(Style(CellRange(t, FIRST_PUPIL_ROW, col, end, col + 1), fill=SERVICE_FILL,
                             italic=True, align="CENTER"))
    if shape.avg_col is not None:
        out.append(Style(CellRange(t, MONTH_ROW, shape.avg_col, MONTH_ROW + 1, shape.avg_col + 1),
                         italic=True, size=8, color=NOTE_TEXT))
    out.append(Style(CellRange(t, FIRST_PUPIL_ROW, shape.period_col, end, shape.width),
                     fill=PERIOD_FILL, bold=True, align="CENTER"))
    return tuple(out)


def day_highlights(shape: GridShape) -> tuple[FormulaHighlight, ...]:
    """Today's lesson column green, the past grey: by the hidden serial row and ``TODAY()``."""
    n = len(shape.days)
    if not n:
        return ()
    area = CellRange(shape.title, HEADER_ROW, shape.first, shape.end_row, shape.first + n)
    anchor = f"{column_letter(shape.first)}${SERIAL_ROW + 1}"
    return (
        FormulaHighlight(area, f"{anchor}=TODAY()", TODAY_FILL),
        FormulaHighlight(area, f"{anchor}<TODAY()", PAST_FILL, PAST_TEXT),
    )
