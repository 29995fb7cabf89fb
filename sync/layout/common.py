"""What every spreadsheet layout shares: date headers, cell text, structure problems, grids.

Parsers locate things by labels, hidden ids and date headers, never by position, so the helpers here
read a header in every form a person or a spreadsheet may leave in it: "02.09", "02.09 (2)",
"02.09.2026", "2026-09-02", a Sheets date serial (days since 1899-12-30, what an UNFORMATTED read
returns for a cell someone retyped as a date) or a ``date`` (an xlsx cell). Nothing here raises on
odd input: an unreadable header is simply not a date.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from enum import StrEnum
from functools import lru_cache

from sync.backends.protocol import CellRange, Grid, SpreadsheetSpec
from sync.layout.labels import normalize_label

HEADER_SEARCH_ROWS = 10  # header rows are looked for among the first rows of a tab
SERIAL_EPOCH = date(1899, 12, 30)
_MIN_SERIAL = (date(2000, 1, 1) - SERIAL_EPOCH).days  # smaller numbers are marks, not dates
_MAX_SERIAL = (date(9999, 12, 31) - SERIAL_EPOCH).days
_DOT_DATE = re.compile(r"(\d{1,2})\.(\d{1,2})(?:\.(\d{4}|\d{2}))?\.?(?:\s*\((\d{1,2})\))?")
_ISO_DATE = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:\s*\((\d{1,2})\))?")

DateRange = tuple[date, date]  # both ends inclusive


# --------------------------------------------------------------------------- dates


def header_text(day: date, ordinal: int = 1, *, with_year: bool = False) -> str:
    """The text of a date header: "02.09", "02.09 (2)" for a day's second lesson, "02.09.2026"."""
    text = day.strftime("%d.%m.%Y" if with_year else "%d.%m")
    return text if ordinal == 1 else f"{text} ({ordinal})"


def date_text(day: date | None) -> str:
    """A date as a person writes it: "01.09.2026"; "" for None."""
    return "" if day is None else day.strftime("%d.%m.%Y")


def parse_date_header(value: object, ranges: Sequence[DateRange]) -> tuple[date, int] | None:
    """(day, ordinal) of a date header, or None if ``value`` is not one.

    A day and month without a year take the year that puts them inside the first of ``ranges``
    that can hold them (a journal tab passes its period, then the academic year). A serial or
    ``date`` outside every range is read again as day and month, since a person who retypes
    "02.09" gets the current calendar year from the spreadsheet. An explicit year is kept.
    """
    if isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return _known_or_moved(value, ranges), 1
    if isinstance(value, int | float):
        day = serial_date(value)
        return None if day is None else (_known_or_moved(day, ranges), 1)
    if not isinstance(value, str):
        return None
    text = value.strip()
    iso = _ISO_DATE.fullmatch(text)
    if iso:
        day = _make_date(int(iso[1]), int(iso[2]), int(iso[3]))
        return _with_ordinal(day, iso[4])
    dot = _DOT_DATE.fullmatch(text)
    if not dot:
        return None
    d, m, y = int(dot[1]), int(dot[2]), dot[3]
    if y is None:
        found = _in_ranges(d, m, ranges)
        return _with_ordinal(found, dot[4])
    year = int(y) + (2000 if len(y) == 2 else 0)
    return _with_ordinal(_make_date(year, m, d), dot[4])


def parse_date_cell(value: object) -> date | None:
    """A date typed by a person ("01.09.2026", "2026-09-01", a serial, a ``date``) or None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, int | float):
        return serial_date(value)
    if not isinstance(value, str):
        return None
    text = value.strip()
    iso = _ISO_DATE.fullmatch(text)
    if iso and iso[4] is None:
        return _make_date(int(iso[1]), int(iso[2]), int(iso[3]))
    dot = _DOT_DATE.fullmatch(text)
    if dot and dot[3] is not None and dot[4] is None:
        year = int(dot[3]) + (2000 if len(dot[3]) == 2 else 0)
        return _make_date(year, int(dot[2]), int(dot[1]))
    return None


def serial_date(serial: float) -> date | None:
    """The date of a Sheets serial number (fraction = time of day, ignored); None if implausible
    (before 2000: "02.09" typed in an English-locale sheet becomes the number 2.09, not a date)."""
    if serial != serial or not _MIN_SERIAL <= serial <= _MAX_SERIAL:  # NaN, small, huge
        return None
    return SERIAL_EPOCH + timedelta(days=int(serial))


def _make_date(year: int, month: int, day: int) -> date | None:
    try:
        return date(year, month, day)
    except ValueError:
        return None


def _in_ranges(d: int, m: int, ranges: Sequence[DateRange]) -> date | None:
    for lo, hi in ranges:
        for year in range(lo.year, hi.year + 1):
            found = _make_date(year, m, d)
            if found is not None and lo <= found <= hi:
                return found
    return None


def _known_or_moved(day: date, ranges: Sequence[DateRange]) -> date:
    if any(lo <= day <= hi for lo, hi in ranges):
        return day
    return _in_ranges(day.day, day.month, ranges) or day


def _with_ordinal(day: date | None, ordinal: str | None) -> tuple[date, int] | None:
    if day is None:
        return None
    number = 1 if ordinal is None else int(ordinal)
    return (day, number) if number >= 1 else None


# --------------------------------------------------------------------------- cells


def is_blank(value: object) -> bool:
    """Empty as a spreadsheet shows it: None, "" or only spaces."""
    return value is None or (isinstance(value, str) and not value.strip())


def cell_text(value: object) -> str:
    """A cell as text: strings stripped, 5.0 → "5", None → ""."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "да" if value else "нет"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value).strip()


def id_text(value: object) -> str:
    """A hidden id cell as text ("" if blank): ids are text, but a read may return 1001 or 1001.0."""
    if isinstance(value, bool):
        return ""
    return cell_text(value)


def at(grid: Grid, row: int, col: int) -> object:
    """The value at (row, col) of a trimmed grid, None past a row's end."""
    if row < 0 or col < 0 or row >= len(grid):
        return None
    line = grid[row]
    if not isinstance(line, list | tuple) or col >= len(line):
        return None
    return line[col]


def row_width(grid: Grid, row: int) -> int:
    line = grid[row] if 0 <= row < len(grid) else None
    return len(line) if isinstance(line, list | tuple) else 0


@lru_cache(maxsize=65536)
def a1(tab: str, row: int, col: int) -> str:
    """``'Tab'!C5`` for 0-based (row, col) (memoised: every read names the same cells again)."""
    return CellRange(tab, row, col, row + 1, col + 1).a1().split(":")[0]


def find_header_row(grid: Grid, label: str) -> tuple[int, int] | None:
    """(row, col) of the first cell reading ``label`` among the first rows, or None."""
    want = normalize_label(label)
    for row in range(min(len(grid), HEADER_SEARCH_ROWS)):
        for col in range(row_width(grid, row)):
            if normalize_label(at(grid, row, col)) == want:
                return row, col
    return None


def header_columns(grid: Grid, row: int, labels: Iterable[str]) -> dict[str, int]:
    """Column of each label found in header ``row`` (the first, if a label repeats)."""
    wanted = {normalize_label(label): label for label in labels}
    found: dict[str, int] = {}
    for col in range(row_width(grid, row)):
        label = wanted.get(normalize_label(at(grid, row, col)))
        if label is not None and label not in found:
            found[label] = col
    return found


def runs(indices: Iterable[int]) -> list[tuple[int, int]]:
    """Consecutive runs of sorted distinct indices as half-open (start, end) pairs."""
    out: list[tuple[int, int]] = []
    for i in sorted(set(indices)):
        if out and out[-1][1] == i:
            out[-1] = (out[-1][0], i + 1)
        else:
            out.append((i, i + 1))
    return out


# --------------------------------------------------------------------------- problems


class ProblemKind(StrEnum):
    """What is wrong with a spreadsheet's structure."""

    MISSING_TAB = "missing_tab"  # a tab is gone (renamed tabs are recognised: see RENAMED_TAB)
    RENAMED_TAB = "renamed_tab"  # a tab was renamed; its content was read, rename it back
    NO_ID_COLUMN = "no_id_column"  # the hidden id column is gone: the tab cannot be read
    MISSING_COLUMN = "missing_column"  # a labelled column (period mark, average, …) is gone
    UNKNOWN_PUPIL = "unknown_pupil"  # a row's id is not a pupil of the class
    ID_MISMATCH = "id_mismatch"  # a row's hidden id is another pupil's than its visible name's
    DUPLICATE_PUPIL = "duplicate_pupil"  # a pupil id on several rows
    MISSING_PUPIL = "missing_pupil"  # a pupil of the class has no row
    MISSING_LESSON = "missing_lesson"  # a lesson has no column (journal) or row (Уроки)
    EXTRA_DATE = "extra_date"  # a date column/row that is not a lesson (or school day)
    DUPLICATE_LESSON = "duplicate_lesson"  # the same lesson twice
    SERVICE_TEXT = "service_text"  # text typed into a service-written cell (ignored)
    OUTSIDE_GRID = "outside_grid"  # values where the layout has no place for them (ignored)
    HEADER_RETYPED = "header_retyped"  # a header readable but not as the service wrote it
    INVALID_VALUE = "invalid_value"  # a value the class teacher typed cannot be read


@dataclass(frozen=True, slots=True)
class StructureProblem:
    """A structure problem of one tab. ``message`` is Russian, for the people who keep the file;
    ``repair`` says the service should re-render (or re-add, or rename back) the tab."""

    kind: ProblemKind
    tab: str
    message: str
    cell: str | None = None
    repair: bool = False


@dataclass(frozen=True, slots=True)
class IgnoredCell:
    """A non-empty cell the parser did not take (so nothing typed is lost without a trace)."""

    cell: str
    raw: object
    kind: ProblemKind


def repair_tabs(problems: Iterable[StructureProblem]) -> tuple[str, ...]:
    """Titles of the tabs whose problems ask for a repair, in first-seen order."""
    return tuple(dict.fromkeys(p.tab for p in problems if p.repair))


# --------------------------------------------------------------------------- grids


def trimmed(rows: Grid) -> Grid:
    """Rows as a backend returns them: trailing empty cells and trailing empty rows dropped."""
    out: Grid = []
    for row in rows:
        line = list(row)
        while line and (line[-1] is None or line[-1] == ""):
            line.pop()
        out.append(line)
    while out and not out[-1]:
        out.pop()
    return out


def spec_grids(spec: SpreadsheetSpec) -> dict[str, Grid]:
    """Each tab's values as a read of the freshly created spreadsheet would return them."""
    return {tab.title: trimmed(tab.rows) for tab in spec.tabs}


def overlaid(rows: Grid, updates: Iterable[tuple[CellRange, Grid]], tab: str) -> Grid:
    """``rows`` with the ``updates`` aimed at ``tab`` written in (a layout's service cells filled
    before the layout's one write)."""
    out = [list(r) for r in rows]
    for target, values in updates:
        if target.tab != tab:
            continue
        for r, line in enumerate(values):
            row = target.start_row + r
            while len(out) <= row:
                out.append([])
            for c, value in enumerate(line):
                col = target.start_col + c
                out[row].extend([""] * (col + 1 - len(out[row])))
                out[row][col] = value
    return out


def stale_updates(
    grids: Mapping[str, Grid], updates: Iterable[tuple[CellRange, Grid]]
) -> list[tuple[CellRange, Grid]]:
    """The updates whose values differ from what ``grids`` (a read) already holds.

    Lets the engine write service cells only where something changed (DESIGN.md §6); a number
    read back (4 or 4.0) equals the text "4" the service wrote.
    """
    out = []
    for target, values in updates:
        grid = grids.get(target.tab, [])
        same = all(
            cell_text(value) == cell_text(at(grid, target.start_row + r, target.start_col + c))
            for r, line in enumerate(values)
            for c, value in enumerate(line)
        )
        if not same:
            out.append((target, values))
    return out
