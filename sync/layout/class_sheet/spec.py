"""The class spreadsheet "Класс 7Б · 2026/27", kept by the class teacher (R4/R5).

"Список класса": one row per pupil — hidden pupil and parent ids, names, enrolment and leaving
dates, the pupil's own e-mail, and for each parent a name, a Google e-mail and the date of the
application for access (consent, R2). "Посещаемость": school days × pupils, where the class
teacher enters the reason of an absence: б (болезнь), у (уважительная), н (без уважительной
причины); a day's column stays open ``lock.absence_reason_open_days`` days, since sick notes come
late. Both tabs are read back by hidden ids and date headers (:func:`parse_class`).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from config.school import School
from rules.errors import LayoutError
from rules.model import AbsenceReason, Pupil
from sync.backends.protocol import CellRange, Dropdown, Grid, SpreadsheetSpec, TabSpec
from sync.layout.class_sheet.attendance import attendance_days, parse_attendance, parse_reason
from sync.layout.class_sheet.parse import (
    AttendanceEntry,
    AttendanceMap,
    ClassMap,
    ClassReading,
    Collector,
    ParentRow,
    RosterMap,
    RosterRow,
    parent_slots,
    parse_roster,
    roster_columns,
)
from sync.layout.common import ProblemKind, date_text, header_text, runs, trimmed
from sync.layout.journal.map import roster_key
from sync.layout.labels import RU, Labels

__all__ = [
    "AttendanceEntry",
    "AttendanceMap",
    "ClassMap",
    "ClassReading",
    "ClassValues",
    "ParentRow",
    "RosterMap",
    "RosterRow",
    "attendance_days",
    "class_open_ranges",
    "class_spec",
    "parse_class",
    "parse_reason",
]

log = logging.getLogger(__name__)

REASONS = tuple(r.value for r in AbsenceReason)  # б, у, н


@dataclass(frozen=True, slots=True)
class ClassValues:
    """Accepted absence reasons from the ledger, for re-rendering (``ejournal rebuild``)."""

    reasons: Mapping[tuple[str, date], str] = field(default_factory=dict)  # (pupil, day) → code


def class_spec(
    school: School,
    class_id: str,
    *,
    today: date,
    existing: ClassValues | None = None,
    labels: Labels = RU,
) -> SpreadsheetSpec:
    """The class spreadsheet as the service creates it; ``today`` decides the open days."""
    if school.school_class(class_id) is None:
        raise LayoutError(f"no class {class_id} in the configuration", "check classes.csv")
    pupils = sorted(school.pupils_in(class_id), key=roster_key)
    values = existing or ClassValues()
    tabs: tuple[TabSpec, ...] = (
        _roster_tab(school, pupils, labels),
        _attendance_tab(school, pupils, values, labels),
    )
    name = labels.class_name.format(class_id=class_id, year=school.year.name)
    reading = parse_class({t.title: trimmed(t.rows) for t in tabs}, school, class_id, labels=labels)
    open_days = school.policies.lock.absence_reason_open_days
    ranges = class_open_ranges(reading.map, today=today, open_days=open_days)
    tabs = tuple(replace(t, open_ranges=tuple(ranges.get(t.title, []))) for t in tabs)
    return SpreadsheetSpec(name, tabs, folder=school.backend.shared_drive_folder_id)


def _roster_tab(school: School, pupils: list[Pupil], labels: Labels) -> TabSpec:
    title = labels.roster_tab
    slots = parent_slots(school, pupils)
    columns = roster_columns(labels, slots)
    rows: Grid = [[label for _, label in columns]]
    for number, pupil in enumerate(pupils, start=1):
        parents = sorted(school.parents_of(pupil.id), key=lambda p: p.id)
        cells: dict[str, object] = {
            "pupil_id": pupil.id,
            "number": number,
            "last_name": pupil.last_name,
            "first_name": pupil.first_name,
            "middle_name": pupil.middle_name,
            "enrolled": date_text(pupil.enrolled),
            "left": date_text(pupil.left),
            "pupil_email": pupil.email or "",
        }
        for n, parent in enumerate(parents, start=1):
            cells.update(
                {
                    f"parent_id:{n}": parent.id,
                    f"parent_name:{n}": parent.full_name,
                    f"parent_email:{n}": parent.email,
                    f"parent_consent:{n}": date_text(parent.consent),
                }
            )
        rows.append([cells.get(name, "") for name, _ in columns])
    hidden = tuple(i for i, (name, _) in enumerate(columns) if "_id" in name)
    first_open = len(hidden)
    widths = {i: 70 for i in hidden} | {first_open: 32}
    widths |= {i: 150 for i in range(first_open + 1, len(columns))}
    return TabSpec(
        title=title,
        rows=rows,
        row_count=len(rows) + 10,
        col_count=len(columns),
        frozen_rows=1,
        frozen_cols=first_open + 2,  # ids, №, Фамилия
        hidden_cols=hidden,
        text_ranges=(CellRange(title, 1, first_open, None, len(columns)),),
        col_widths=widths,
    )


def _attendance_tab(
    school: School, pupils: list[Pupil], values: ClassValues, labels: Labels
) -> TabSpec:
    title = labels.attendance_tab
    days = attendance_days(school)
    rows: Grid = [[labels.pupil_id, labels.number, labels.pupil, *(header_text(d) for d in days)]]
    for number, pupil in enumerate(pupils, start=1):
        reasons = [values.reasons.get((pupil.id, d), "") for d in days]
        rows.append([pupil.id, number, pupil.full_name, *reasons])
    area = CellRange(title, 1, 3, None, 3 + len(days))
    widths = {0: 70, 1: 32, 2: 230} | {c: 44 for c in range(3, 3 + len(days))}
    return TabSpec(
        title=title,
        rows=rows,
        row_count=len(rows) + 10,
        col_count=3 + len(days),
        frozen_rows=1,
        frozen_cols=3,
        hidden_cols=(0,),
        text_ranges=(CellRange(title, 0, 0, 1, 3 + len(days)), area) if days else (),
        dropdowns=(Dropdown(area, REASONS),) if days else (),
        col_widths=widths,
    )


def parse_class(
    grids: Mapping[str, Grid], school: School, class_id: str, *, labels: Labels = RU
) -> ClassReading:
    """Read the class spreadsheet's tabs (title → grid as ``Backend.read`` returns them)."""
    pupils = {p.id: p for p in school.pupils_in(class_id)}
    out = Collector()
    roster_map = attendance_map = None
    rows: tuple[RosterRow, ...] = ()
    for title in (labels.roster_tab, labels.attendance_tab):
        grid = grids.get(title)
        if not isinstance(grid, list):
            text = f"Нет листа «{title}». Сервис создаст его заново по сохранённым данным."
            out.problem(ProblemKind.MISSING_TAB, title, text, repair=True)
        elif title == labels.roster_tab:
            roster_map, rows = parse_roster(grid, title, school, pupils, labels, out)
        else:
            attendance_map = parse_attendance(grid, title, school, pupils, labels, out)
    log.debug(
        "class %s read: %d roster rows, %d absences, %d problems",
        class_id,
        len(rows),
        len(out.attendance),
        len(out.problems),
    )
    return ClassReading(
        roster=rows,
        attendance=tuple(out.attendance),
        map=ClassMap(roster_map, attendance_map),
        problems=tuple(out.problems),
        ignored=tuple(out.ignored),
        duplicate_rows=frozenset(out.duplicates),
    )


def class_open_ranges(
    class_map: ClassMap, *, today: date, open_days: int
) -> dict[str, list[CellRange]]:
    """Editable cells: the roster's data columns (every row, so the class teacher can also list a
    newcomer) and the attendance columns of the last ``open_days`` days up to ``today``."""
    out: dict[str, list[CellRange]] = {}
    roster = class_map.roster
    if roster is not None:
        cols = roster.editable_columns()
        out[roster.title] = [
            CellRange(roster.title, roster.header_row + 1, a, None, b) for a, b in runs(cols)
        ]
    attendance = class_map.attendance
    if attendance is not None:
        first = today - timedelta(days=open_days)
        cols = [col for day, col in attendance.columns.items() if first <= day <= today]
        ranges = [
            CellRange(attendance.title, r0, a, r1, b)
            for a, b in runs(cols)
            for r0, r1 in runs(attendance.pupil_at)
        ]
        out[attendance.title] = ranges
    return out
