"""Reading the "Посещаемость" tab of the class spreadsheet: school days × pupils.

Columns are found by their date headers, rows by the hidden pupil id; each non-empty cell becomes an
:class:`AttendanceEntry` with its reason code parsed (б, у, н; look-alikes forgiven, the rest
explained in Russian).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date

from config.school import School
from rules.calendar import is_school_day, period_of, school_days
from rules.context import fmt_day
from rules.model import AbsenceReason, Pupil
from sync.backends.protocol import Grid, column_letter
from sync.layout.class_sheet.parse import (
    REPAIR,
    AttendanceEntry,
    AttendanceMap,
    Collector,
    missing_pupils,
    no_ids,
    pupil_row,
)
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
from sync.layout.labels import Labels, normalize_label

_REASON_LOOKALIKES = {"y": "у", "h": "н", "6": "б"}


def attendance_days(school: School, class_id: str = "") -> list[date]:
    """The columns of "Посещаемость": school days inside a study period of the class's grade."""
    year = school.year_of(class_id)
    return [d for d in school_days(year) if period_of(year, d) is not None]


def parse_reason(raw: object) -> tuple[AbsenceReason | None, str | None]:
    """An absence reason code (case, spaces and look-alikes "y", "H", "6" forgiven) or a message."""
    text = cell_text(raw).casefold().replace(" ", "")
    text = _REASON_LOOKALIKES.get(text, text).rstrip(".")
    for reason in AbsenceReason:
        if text == reason.value:
            return reason, None
    shown = cell_text(raw)[:30]
    return None, (
        f"«{shown}» — нет такой причины пропуска; допустимы: б — болезнь, у — уважительная "
        "причина, н — без уважительной причины."
    )


def parse_attendance(
    grid: Grid,
    title: str,
    school: School,
    pupils: Mapping[str, Pupil],
    labels: Labels,
    out: Collector,
    class_id: str = "",
) -> AttendanceMap | None:
    lived = school.year_of(class_id)  # the class grade's periods
    head = find_header_row(grid, labels.pupil_id)
    if head is None:
        no_ids(title, labels, out)
        return None
    hrow, id_col = head
    year = (school.year.start, school.year.end)
    names = {normalize_label(labels.number), normalize_label(labels.pupil)}
    columns: dict[date, int] = {}
    ignored: set[int] = set()
    needs_col: int | None = None
    for col in range(max((row_width(grid, r) for r in range(len(grid))), default=0)):
        value = at(grid, hrow, col)
        if col == id_col or normalize_label(value) in names:
            continue
        if needs_col is None and normalize_label(value) == normalize_label(labels.needs_reason):
            needs_col = col  # service-written: never read as reasons
            continue
        parsed = parse_date_header(value, [year])
        day = parsed[0] if parsed is not None and parsed[1] == 1 else None
        schooling = (
            day is not None and is_school_day(lived, day) and period_of(lived, day)
        )
        if day is None or not schooling or day in columns:
            ignored.add(col)
            if day is not None:
                what = "повторяет другой столбец" if day in columns else "не учебный день"
                text = (
                    f"Лист «{title}», столбец {column_letter(col)}: {fmt_day(day)} {what}. {REPAIR}"
                )
                kind = ProblemKind.DUPLICATE_LESSON if day in columns else ProblemKind.EXTRA_DATE
                out.problem(kind, title, text, a1(title, hrow, col), True)
            continue
        columns[day] = col
        if value != header_text(day):
            text = f"Лист «{title}», столбец {column_letter(col)}: заголовок изменён. {REPAIR}"
            out.problem(ProblemKind.HEADER_RETYPED, title, text, a1(title, hrow, col), True)
    seen: dict[str, int] = {}
    pupil_at: dict[int, str] = {}
    for row in range(hrow + 1, len(grid)):
        pid = pupil_row(grid, title, row, id_col, pupils, seen, out)
        if pid is None:
            if not id_text(at(grid, row, id_col)) and out.ignore_row(
                grid, title, row, ProblemKind.OUTSIDE_GRID
            ):
                text = f"Лист «{title}», строка {row + 1}: значения в строке без кода ученика не приняты."
                out.problem(ProblemKind.OUTSIDE_GRID, title, text, a1(title, row, id_col))
            continue
        pupil_at[row] = pid
        for day, col in columns.items():
            value = at(grid, row, col)
            if not is_blank(value):
                reason, message = parse_reason(value)
                out.attendance.append(
                    AttendanceEntry(pid, day, value, reason, a1(title, row, col), message)
                )
        for col in sorted(ignored):
            value = at(grid, row, col)
            if not is_blank(value):
                out.ignored.append(
                    IgnoredCell(a1(title, row, col), value, ProblemKind.OUTSIDE_GRID)
                )
    missing_pupils(title, pupils, seen, out)
    for day in attendance_days(school, class_id):
        if day not in columns:
            text = f"На листе «{title}» нет столбца дня {fmt_day(day)}. {REPAIR}"
            out.problem(ProblemKind.MISSING_LESSON, title, text, repair=True)
    return AttendanceMap(title, hrow, id_col, seen, pupil_at, columns, needs_col)
