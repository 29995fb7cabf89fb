"""Parsing one period tab of a journal ("1 четверть").

The header row is found by the "Код" label among the first rows; every column is classified by its
header (a label, a lesson date, another date, or unknown) and every row by its hidden pupil id.
Values land only where both the row's pupil and the column's lesson are known; everything else is
ignored *and reported* (``IgnoredCell`` and a ``StructureProblem`` in Russian), so nothing typed
disappears without a trace.
"""

from __future__ import annotations

import re
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date

from rules.context import fmt_day
from rules.model import Period
from sync.backends.protocol import Grid, column_letter
from sync.layout.common import (
    IgnoredCell,
    ProblemKind,
    a1,
    at,
    cell_text,
    find_header_row,
    header_text,
    id_text,
    is_blank,
    parse_date_header,
    row_width,
)
from sync.layout.journal.frame import (
    REPAIR,
    JournalFrame,
    ParsedPeriodTab,
    TabResult,
    ignore_row,
    problem,
    ref,
    same_name,
)
from sync.layout.journal.map import (
    LessonKey,
    PeriodTabMap,
)
from sync.layout.labels import normalize_label

_AVERAGE_TEXT = re.compile(r"\d+(?:[.,]\d+)?")


# --------------------------------------------------------------------------- period tabs


def parse_period_tab(
    grid: Grid, title: str, period: Period, frame: JournalFrame
) -> ParsedPeriodTab:
    res = TabResult()
    labels = frame.labels
    head = find_header_row(grid, labels.pupil_id)
    if head is None:
        text = (
            f"На листе «{title}» нет скрытого столбца «{labels.pupil_id}» с кодами учеников, "
            "поэтому лист нельзя прочитать: непонятно, чья отметка где стоит. Отметки с этого листа "
            f"не приняты. {REPAIR} Отметки, внесённые после последней проверки, придётся ввести "
            "ещё раз."
        )
        problem(res, ProblemKind.NO_ID_COLUMN, title, text, repair=True)
        return ParsedPeriodTab(None, res)
    hrow, id_col = head
    cols = _classify_columns(grid, title, period, frame, hrow, id_col, res)

    below = hrow + 1  # the weekday row, when there is one (journals laid out before it lack it)
    name_col = cols.roles.get("pupil")
    if name_col is not None and normalize_label(at(grid, below, name_col)) == normalize_label(
        labels.weekday_row
    ) and not id_text(at(grid, below, id_col)):
        below += 1
    wt_row: int | None = below
    if id_text(at(grid, below, id_col)):
        wt_row = None
        text = f"На листе «{title}» нет строки «{labels.work_type_row}» под датами. {REPAIR}"
        problem(res, ProblemKind.MISSING_COLUMN, title, text, repair=True)
    else:
        _check_work_type_row(grid, title, frame, below, cols, res)
    first = below if wt_row is None else below + 1

    rows: dict[str, int] = {}
    pupil_at: dict[int, str] = {}
    mismatched: dict[int, str] = {}  # row → its hidden id, when the visible name is another's
    for row in range(first, len(grid)):
        pid = id_text(at(grid, row, id_col))
        if not pid:
            if ignore_row(res, grid, title, row, ProblemKind.OUTSIDE_GRID):
                text = (
                    f"Лист «{title}», строка {row + 1}: значения в строке без кода ученика не "
                    "приняты (строки учеников добавляет сервис)."
                )
                problem(res, ProblemKind.OUTSIDE_GRID, title, text, a1(title, row, id_col))
            continue
        if pid not in frame.pupils:
            ignore_row(res, grid, title, row, ProblemKind.UNKNOWN_PUPIL)
            text = (
                f"Лист «{title}», строка {row + 1}: код ученика «{pid}» не из этого класса; "
                f"значения строки не приняты. {REPAIR}"
            )
            problem(res, ProblemKind.UNKNOWN_PUPIL, title, text, a1(title, row, id_col), True)
            continue
        if name_col is not None and not same_name(at(grid, row, name_col), frame.pupils[pid]):
            ignore_row(res, grid, title, row, ProblemKind.ID_MISMATCH)
            mismatched[row] = pid
            continue
        if pid in rows:
            res.duplicates.add(pid)
            text = (
                f"Лист «{title}»: ученик с кодом «{pid}» записан в строках {rows[pid] + 1} и "
                f"{row + 1}; отметки должны стоять в одной строке. {REPAIR}"
            )
            problem(res, ProblemKind.DUPLICATE_PUPIL, title, text, a1(title, row, id_col), True)
        else:
            rows[pid] = row
        pupil_at[row] = pid
        _read_pupil_row(grid, title, period, row, pid, cols, res)

    fixes = {}
    if mismatched and name_col is not None:
        fixes = _id_fixes(grid, title, frame, mismatched, rows, name_col, res)
    _report_missing(title, period, frame, {*rows, *fixes.values()}, cols, res)
    tab_map = PeriodTabMap(
        title=title,
        period=period.name,
        header_row=hrow,
        id_col=id_col,
        rows=rows,
        pupil_at=pupil_at,
        columns=cols.lessons,
        work_type_row=wt_row,
        average_col=cols.roles.get("average"),
        recommended_col=cols.roles.get("recommended"),
        period_col=cols.roles.get("period"),
        end_row=max(len(grid), first),
        id_fixes=fixes,
    )
    return ParsedPeriodTab(tab_map, res)


@dataclass
class _Columns:
    roles: dict[str, int] = field(
        default_factory=dict
    )  # number, pupil, average, recommended, period
    lessons: dict[LessonKey, int] = field(default_factory=dict)
    stray: dict[int, date] = field(default_factory=dict)  # date columns that are not lessons
    ignored: dict[int, ProblemKind] = field(default_factory=dict)
    ignored_counts: dict[int, int] = field(default_factory=dict)  # values met in ignored columns


def _classify_columns(
    grid: Grid,
    title: str,
    period: Period,
    frame: JournalFrame,
    hrow: int,
    id_col: int,
    res: TabResult,
) -> _Columns:
    labels = frame.labels
    role_of = {
        normalize_label(labels.number): "number",
        normalize_label(labels.pupil): "pupil",
        normalize_label(labels.average): "average",
        normalize_label(labels.recommended): "recommended",
        normalize_label(frame.period_label): "period",
    }
    ranges = [(period.start, period.end), frame.year_range]
    lesson_days = frame.lesson_days()
    cols = _Columns()
    width = max((row_width(grid, r) for r in range(len(grid))), default=0)
    for col in range(width):
        if col == id_col:
            continue
        value = at(grid, hrow, col)
        role = role_of.get(normalize_label(value))
        if role is not None and role not in cols.roles:
            cols.roles[role] = col
            continue
        parsed = None if role is not None or is_blank(value) else parse_date_header(value, ranges)
        if parsed is None:
            cols.ignored[col] = ProblemKind.OUTSIDE_GRID
            continue
        day, ordinal = parsed
        key = frame.key_at.get(parsed)
        if (key is not None and frame.lessons[key].period == period.name
                and key not in cols.lessons and value == header_text(day, ordinal)):
            cols.lessons[key] = col  # the common case: a lesson's header as the service wrote it
            continue
        cell = a1(title, hrow, col)
        where = f"Лист «{title}», столбец {column_letter(col)}"
        if key is not None and frame.lessons[key].period == period.name:
            if key in cols.lessons:
                cols.ignored[col] = ProblemKind.DUPLICATE_LESSON
                text = (
                    f"{where}: урок {header_text(day, ordinal)} уже есть в столбце "
                    f"{column_letter(cols.lessons[key])}; значения повторного столбца не приняты. "
                    f"{REPAIR}"
                )
                problem(res, ProblemKind.DUPLICATE_LESSON, title, text, cell, True)
                continue
            cols.lessons[key] = col
            if value != header_text(day, ordinal):
                text = (
                    f"{where}: заголовок «{cell_text(value)}» прочитан как дата урока "
                    f"{header_text(day, ordinal)}; сервис вернёт прежний вид."
                )
                problem(res, ProblemKind.HEADER_RETYPED, title, text, cell, True)
            continue
        if key is None and ordinal == 1 and day not in lesson_days:
            cols.stray[col] = day
            what = f"{fmt_day(day)} урока этого предмета нет"
        else:
            cols.ignored[col] = ProblemKind.EXTRA_DATE
            what = f"урок {header_text(day, ordinal)} не относится к листу «{title}»"
        text = f"{where}: {what}; отметки в этом столбце не приняты. {REPAIR}"
        problem(res, ProblemKind.EXTRA_DATE, title, text, cell, True)
    return cols


def _check_work_type_row(
    grid: Grid, title: str, frame: JournalFrame, row: int, cols: _Columns, res: TabResult
) -> None:
    for col in cols.lessons.values():
        value = at(grid, row, col)
        if not is_blank(value) and normalize_label(cell_text(value)) not in frame.work_types:
            cell = a1(title, row, col)
            res.ignored.append(IgnoredCell(cell, value, ProblemKind.SERVICE_TEXT))
            text = (
                f"Лист «{title}», ячейка {ref(row, col)}: вид работы заполняет сервис по листу "
                f"«{frame.labels.lessons_tab}»; введённый текст не принят."
            )
            problem(res, ProblemKind.SERVICE_TEXT, title, text, cell)


def _read_pupil_row(
    grid: Grid, title: str, period: Period, row: int, pid: str, cols: _Columns, res: TabResult
) -> None:
    line = grid[row] if 0 <= row < len(grid) and isinstance(grid[row], list | tuple) else ()
    width = len(line)
    for key, col in cols.lessons.items():  # a year of cells: ``at`` inlined
        value = line[col] if 0 <= col < width else None
        if value is not None and not is_blank(value):
            res.entries.append((pid, key, value, a1(title, row, col)))
    for col, day in cols.stray.items():
        value = at(grid, row, col)
        if not is_blank(value):
            res.stray.append((pid, day, value, a1(title, row, col)))
    period_col = cols.roles.get("period")
    value = at(grid, row, period_col) if period_col is not None else None
    if period_col is not None and not is_blank(value):
        res.period_marks.append((pid, period.name, value, a1(title, row, period_col)))
    for role, valid in (("average", _is_average), ("recommended", _is_recommendation)):
        service_col = cols.roles.get(role)
        if service_col is None:
            continue
        col = service_col
        value = at(grid, row, col)
        if not is_blank(value) and not valid(value):
            cell = a1(title, row, col)
            res.ignored.append(IgnoredCell(cell, value, ProblemKind.SERVICE_TEXT))
            text = (
                f"Лист «{title}», ячейка {ref(row, col)}: этот столбец заполняет сервис; "
                "введённый текст не принят."
            )
            problem(res, ProblemKind.SERVICE_TEXT, title, text, cell)
    for col, kind in cols.ignored.items():
        value = at(grid, row, col)
        if not is_blank(value):
            res.ignored.append(IgnoredCell(a1(title, row, col), value, kind))
            cols.ignored_counts[col] = cols.ignored_counts.get(col, 0) + 1


def _is_average(value: object) -> bool:
    if isinstance(value, bool):
        return False
    return isinstance(value, int | float) or bool(_AVERAGE_TEXT.fullmatch(cell_text(value)))


def _is_recommendation(value: object) -> bool:
    if isinstance(value, bool):
        return False
    return cell_text(value).casefold() in {"1", "2", "3", "4", "5", "н/а"}


def _id_fixes(
    grid: Grid,
    title: str,
    frame: JournalFrame,
    mismatched: dict[int, str],
    rows: dict[str, int],
    name_col: int,
    res: TabResult,
) -> dict[int, str]:
    """Report each row whose hidden id does not match its visible name (its values were not read:
    a swapped id must never send marks to another pupil). When the name is that of one pupil of
    the class who has no row of their own here and no other such row shows, the id to write back
    is theirs (the row is read for them once it is back); otherwise the tab is re-laid out from
    the ledger. Returns row → the id to write back."""
    claims: dict[str, list[int]] = {}
    for row in mismatched:
        ids = frame.by_name.get(normalize_label(at(grid, row, name_col)), [])
        if len(ids) == 1 and ids[0] not in rows:
            claims.setdefault(ids[0], []).append(row)
    fixes = {claimed[0]: pid for pid, claimed in claims.items() if len(claimed) == 1}
    for row in sorted(mismatched):
        shown = cell_text(at(grid, row, name_col))
        name = f"с именем «{shown}»" if shown else "с пустым именем"
        what = (
            f"Лист «{title}», строка {row + 1}: скрытый код ученика не совпадает {name} в этой "
            "строке; отметки строки не приняты."
        )
        if row in fixes:
            text = (f"{what} Сервис восстановит в этой строке код ученика «{shown}»; после этого "
                    "отметки строки будут приняты.")
        else:
            text = (f"{what} {REPAIR} Отметки, внесённые в эту строку после последней проверки, "
                    "придётся ввести ещё раз.")
        problem(res, ProblemKind.ID_MISMATCH, title, text, a1(title, row, name_col),
                repair=row not in fixes)  # the name's cell: the id's column is hidden
    return fixes


def _report_missing(
    title: str,
    period: Period,
    frame: JournalFrame,
    rows: Collection[str],
    cols: _Columns,
    res: TabResult,
) -> None:
    labels = frame.labels
    for pupil in frame.expected.get(period.name, []):
        if pupil.id not in rows:
            text = (
                f"На листе «{title}» нет строки ученика {pupil.full_name} (код «{pupil.id}»). "
                f"{REPAIR}"
            )
            problem(res, ProblemKind.MISSING_PUPIL, title, text, repair=True)
    for key, lesson in sorted(frame.lessons.items()):
        if lesson.period == period.name and key not in cols.lessons:
            text = (
                f"На листе «{title}» нет столбца урока {header_text(key[0], frame.ordinal[key])} "
                f"({fmt_day(key[0])}). {REPAIR}"
            )
            problem(res, ProblemKind.MISSING_LESSON, title, text, repair=True)
    names = {"pupil": labels.pupil, "period": frame.period_label}
    if frame.averages:
        names |= {"average": labels.average, "recommended": labels.recommended}
    for role, label in names.items():
        if role not in cols.roles:
            text = f"На листе «{title}» нет столбца «{label}». {REPAIR}"
            problem(res, ProblemKind.MISSING_COLUMN, title, text, repair=True)
    for col, count in sorted(cols.ignored_counts.items()):
        if cols.ignored[col] is ProblemKind.OUTSIDE_GRID:
            text = (
                f"Лист «{title}», столбец {column_letter(col)}: {count} знач. вне разметки журнала "
                "(столбец без даты урока) не приняты."
            )
            problem(res, ProblemKind.OUTSIDE_GRID, title, text)
