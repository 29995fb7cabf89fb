"""The teachers' board «Анализ ведения журналов · <школа> · <год>»: the newest weekly analysis of
journal keeping, shared read only with every teacher (the regulation's board of journal keeping).

Two tabs, rendered from the frames of ``reports.weekly`` (nothing is analysed here):

* «Сводка» — the week, when the board was built and the audit chain head, then per teacher and
  journal the figures of the analysis (lessons held and filled, missing topic / work type /
  homework, empty lessons, assessments without marks, pupils short of marks, open invalid entries,
  late entries, tampering attempts, remarks new / still open / fixed);
* «Замечания» — every remark with its stable code, teacher, journal, what it is, the lesson's day,
  since when and its status.

Every teacher sees the board, so it names teachers and journals, NEVER a pupil: pupils appear only
as counts, and the remarks' free texts (which name pupils: «Егорова Б.: 0 отм.», a finding's
message) are left out — the deputy's workbook has them. Cells hold texts and whole numbers (the
fill rate with one decimal), written RAW: nothing a person typed is ever shown, let alone evaluated.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from reports.span import Span
from reports.weekly import COUNTS, TITLE, Analysis
from sync.backends.protocol import CellRange, Grid, SpreadsheetSpec, TabSpec
from sync.layout.common import date_text
from sync.layout.labels import RU, Labels

KEYS = ("Учитель", "Класс", "Предмет")
REMARKS = ("Код", "Учитель", "Класс", "Предмет", "Замечание", "Урок", "Замечание от", "Статус")
NO_DAY = ("few_marks",)  # a remark about a pupil over the period: its day is no lesson's
_KEY_WIDTHS = (215, 50, 175)
_COUNT_WIDTH = 92
_REMARK_WIDTHS = (95, 215, 50, 175, 240, 85, 100, 135)
MIN_ROWS = 40  # grid rows of a tab beyond its content


@dataclass(frozen=True, slots=True)
class BoardContent:
    """What the board shows: the school and year, and the newest analysis (None before the first
    one) with its week, build moment and the audit chain head of the ledger it was built from."""

    school: str
    year: str
    analysis: Analysis | None = None
    span: Span | None = None
    built_at: datetime | None = None
    audit_head: str = ""

    def steady(self) -> BoardContent:
        """The same content without what moves on every build (the moment, the chain head): what
        decides whether the board must be written again."""
        return BoardContent(self.school, self.year, self.analysis, self.span)


def board_name(content: BoardContent, labels: Labels = RU) -> str:
    return labels.board_name.format(school=content.school, year=content.year)


def board_spec(content: BoardContent, *, folder: str | None,
               labels: Labels = RU) -> SpreadsheetSpec:
    """The board as created: protected tabs, written by the service only."""
    return SpreadsheetSpec(board_name(content, labels), board_tabs(content, labels),
                           folder=folder, writers_can_share=False)


def board_tabs(content: BoardContent, labels: Labels = RU) -> tuple[TabSpec, ...]:
    """«Сводка» and «Замечания» of ``content``."""
    return (_summary_tab(content, labels), _remarks_tab(content, labels))


# --------------------------------------------------------------------------- tabs


def _heading(content: BoardContent, what: str) -> list[list[Any]]:
    span = content.span
    week = (f"Неделя: {span.start:%d.%m}–{date_text(span.end)}" if span is not None
            else "Анализ ещё не составлялся: его составляют по понедельникам за прошлую неделю.")
    built = (f"Составлен: {content.built_at:%d.%m.%Y %H:%M}" if content.built_at is not None
             else "")
    head = f"Цепочка аудита: {content.audit_head}" if content.audit_head else ""
    return [[f"{TITLE} — {what}"], [f"Школа: {content.school}, {content.year}"], [week],
            [built], [head]]


def _summary_tab(content: BoardContent, labels: Labels) -> TabSpec:
    columns = [*KEYS, *COUNTS]
    rows = _heading(content, "по учителям и журналам")
    rows.append(["Ученики здесь не названы, только их число; подробности замечаний — в журнале "
                 "и у заместителя директора по УВР."])
    rows.append([])
    header = len(rows)
    rows.append(list(columns))
    frame = content.analysis.summary if content.analysis is not None else None
    if frame is None or frame.empty:
        rows.append(["На этой неделе уроков по расписанию не было." if frame is not None else ""])
    else:
        for record in frame.to_dict("records"):
            rows.append([_cell(record[c], pct=c == "% заполнения") for c in columns])
    widths = {n: w for n, w in enumerate(_KEY_WIDTHS)}
    widths |= {n: _COUNT_WIDTH for n in range(len(KEYS), len(columns))}
    return _tab(labels.summary_tab, rows, header, len(columns), widths, frozen_cols=1)


def _remarks_tab(content: BoardContent, labels: Labels) -> TabSpec:
    rows = _heading(content, "замечания с кодами и статусом")
    rows.append(["Код не меняется, пока замечание не устранено. «К сведению» — события недели: "
                 "записи позже дня урока, попытки исправить закрытые клетки."])
    rows.append([])
    header = len(rows)
    rows.append(list(REMARKS))
    analysis = content.analysis
    if analysis is None or analysis.remarks.empty:
        rows.append(["Замечаний нет." if analysis is not None else ""])
    else:
        days = {x.defect.id: x.defect for x in analysis.listed}
        for record in analysis.remarks.to_dict("records"):
            defect = days[record["Код"]]
            day = None if defect.kind in NO_DAY else defect.day
            values = {**record, "Урок": day}
            rows.append([_cell(values[c]) for c in REMARKS])
    widths = dict(enumerate(_REMARK_WIDTHS))
    return _tab(labels.findings_tab, rows, header, len(REMARKS), widths, frozen_cols=1)


def _tab(title: str, rows: list[list[Any]], header: int, width: int, widths: dict[int, int], *,
         frozen_cols: int) -> TabSpec:
    """The heading lines overflow to the right; the table (its header and rows) wraps its texts
    top-aligned in the column widths; printed landscape, fit to the page width."""
    grid: Grid = [[*row, *([""] * (width - len(row)))] for row in rows]
    return TabSpec(title=title, rows=grid, row_count=len(grid) + MIN_ROWS, col_count=width,
                   frozen_rows=header + 1, frozen_cols=frozen_cols, col_widths=widths,
                   wrapped=(CellRange(title, header, 0, None, width),), protected=True,
                   print_wide=True)


def _cell(value: Any, *, pct: bool = False) -> Any:
    """A frame's value as a cell: whole numbers as ints, the fill rate with one decimal, dates as
    «01.09.2026», nothing as ""."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return date_text(value)
    if hasattr(value, "item"):  # numpy scalars
        value = value.item()
    if isinstance(value, float):
        return round(value, 1) if pct else (int(value) if value.is_integer() else value)
    return value


__all__ = ["BoardContent", "board_name", "board_spec", "board_tabs"]
