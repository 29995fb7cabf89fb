"""Parsing the "Уроки" tab of a journal, and recognising renamed tabs by their content.

Rows are keyed by the lesson date in "Дата" ("02.09.2026", "02.09.2026 (2)" for a day's second
lesson); columns by their labels, so moved columns still read right.
"""

from __future__ import annotations

from collections.abc import Sequence

from rules.context import fmt_day
from sync.backends.protocol import Grid
from sync.layout.common import (
    IgnoredCell,
    ProblemKind,
    a1,
    at,
    cell_text,
    find_header_row,
    header_columns,
    header_text,
    is_blank,
    parse_date_header,
    row_width,
)
from sync.layout.journal.frame import (
    REPAIR,
    JournalFrame,
    ParsedLessonsTab,
    TabResult,
    ignore_cells,
    problem,
    ref,
    unknown_cols,
)
from sync.layout.journal.map import (
    LessonField,
    LessonKey,
    LessonsTabMap,
    ServiceColumn,
)
from sync.layout.labels import Labels

_FIELDS: tuple[tuple[str, str], ...] = (
    ("date", ServiceColumn.DATE),
    ("lesson_number", ServiceColumn.NUMBER),
    ("planned_topic", ServiceColumn.PLANNED),
    ("topic", LessonField.TOPIC),
    ("classwork", LessonField.CLASSWORK),
    ("work_type", LessonField.WORK_TYPE),
    ("homework", LessonField.HOMEWORK),
    ("status", ServiceColumn.STATUS),
)


def lessons_columns(labels: Labels) -> list[tuple[str, str]]:
    """(column name, header label) of "Уроки", in layout order."""
    return [(name, getattr(labels, attr)) for attr, name in _FIELDS]


def parse_lessons_tab(grid: Grid, title: str, frame: JournalFrame) -> ParsedLessonsTab:
    res = TabResult()
    labels = frame.labels
    head = find_header_row(grid, labels.date)
    if head is None:
        text = (
            f"На листе «{title}» нет столбца «{labels.date}», поэтому лист нельзя прочитать: "
            f"непонятно, к какому уроку относится строка. {REPAIR}"
        )
        problem(res, ProblemKind.NO_ID_COLUMN, title, text, repair=True)
        return ParsedLessonsTab(None, {}, res)
    hrow, date_col = head
    spec = lessons_columns(labels)
    found = header_columns(grid, hrow, [label for _, label in spec])
    columns = {name: found[label] for name, label in spec if label in found}
    columns[ServiceColumn.DATE] = date_col
    for name, label in spec:
        if name not in columns:
            text = f"На листе «{title}» нет столбца «{label}». {REPAIR}"
            problem(res, ProblemKind.MISSING_COLUMN, title, text, repair=True)
    known = set(columns.values())
    rows: dict[LessonKey, int] = {}
    facts: dict[LessonKey, tuple[tuple[str, str, str, str], dict[str, str]]] = {}
    for row in range(hrow + 1, len(grid)):
        value = at(grid, row, date_col)
        outside = ignore_cells(res, grid, title, row, unknown_cols(grid, row, known))
        if outside:
            text = f"Лист «{title}», строка {row + 1}: значения вне столбцов листа не приняты."
            problem(res, ProblemKind.OUTSIDE_GRID, title, text)
        if is_blank(value):
            if ignore_cells(res, grid, title, row, known, ProblemKind.OUTSIDE_GRID):
                text = f"Лист «{title}», строка {row + 1}: значения в строке без даты урока не приняты."
                problem(res, ProblemKind.OUTSIDE_GRID, title, text, a1(title, row, date_col))
            continue
        parsed = parse_date_header(value, [frame.year_range])
        key = None if parsed is None else frame.key_at.get(parsed)
        cell = a1(title, row, date_col)
        if key is None or key in rows:
            kind = ProblemKind.EXTRA_DATE if key is None else ProblemKind.DUPLICATE_LESSON
            ignore_cells(res, grid, title, row, known - {date_col}, kind)
            what = "уже есть выше" if key is not None else "не урок этого предмета"
            text = (
                f"Лист «{title}», строка {row + 1}: «{cell_text(value)}» — {what}; строка не "
                f"принята. {REPAIR}"
            )
            problem(res, kind, title, text, cell, True)
            continue
        rows[key] = row
        if value != header_text(key[0], frame.ordinal[key], with_year=True):
            text = f"Лист «{title}», ячейка {ref(row, date_col)}: дата урока изменена. {REPAIR}"
            problem(res, ProblemKind.HEADER_RETYPED, title, text, cell, True)
        _check_lesson_service(grid, title, frame, row, key, columns, res)
        values = tuple(
            cell_text(at(grid, row, columns[f])) if f in columns else "" for f in LessonField
        )
        cells = {f.value: a1(title, row, columns[f]) for f in LessonField if f in columns}
        facts[key] = ((values[0], values[1], values[2], values[3]), cells)
    for key in sorted(frame.lessons):
        if key not in rows:
            text = f"На листе «{title}» нет строки урока {fmt_day(key[0])}. {REPAIR}"
            problem(res, ProblemKind.MISSING_LESSON, title, text, repair=True)
    tab_map = LessonsTabMap(title, hrow, rows, columns, max(len(grid), hrow + 1))
    return ParsedLessonsTab(tab_map, facts, res)


def _check_lesson_service(
    grid: Grid,
    title: str,
    frame: JournalFrame,
    row: int,
    key: LessonKey,
    columns: dict[str, int],
    res: TabResult,
) -> None:
    expected = {
        ServiceColumn.NUMBER: str(frame.lessons[key].number),
        ServiceColumn.PLANNED: frame.planned.get(key, ""),
    }
    for name, want in expected.items():
        col = columns.get(name)
        value = at(grid, row, col) if col is not None else None
        if col is not None and cell_text(value) != want:
            cell = a1(title, row, col)
            if not is_blank(value):
                res.ignored.append(IgnoredCell(cell, value, ProblemKind.SERVICE_TEXT))
            text = (
                f"Лист «{title}», ячейка {ref(row, col)}: этот столбец заполняет сервис; "
                f"изменение не принято. {REPAIR}"
            )
            problem(res, ProblemKind.SERVICE_TEXT, title, text, cell, True)


# --------------------------------------------------------------------------- renamed tabs


def identify_tab(grid: Grid, frame: JournalFrame, candidates: Sequence[str]) -> str | None:
    """Which of the missing ``candidates`` a tab with an unexpected title is, judged by content."""
    labels = frame.labels
    head = find_header_row(grid, labels.pupil_id)
    if head is not None:
        votes: dict[str, int] = {}
        for col in range(row_width(grid, head[0])):
            parsed = parse_date_header(at(grid, head[0], col), [frame.year_range])
            key = None if parsed is None else frame.key_at.get(parsed)
            if key is not None:
                name = frame.lessons[key].period
                votes[name] = votes.get(name, 0) + 1
        best = max((n for n in votes if n in candidates), key=lambda n: votes[n], default=None)
        return best
    for title, key_label, other in (
        (labels.lessons_tab, labels.date, labels.topic),
        (labels.findings_tab, labels.cell, labels.finding),
    ):
        head = find_header_row(grid, key_label)
        if title in candidates and head is not None and header_columns(grid, head[0], [other]):
            return title
    return None
