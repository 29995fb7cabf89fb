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
    NO,
    YES,
    AttendanceEntry,
    AttendanceMap,
    ClassMap,
    ClassReading,
    Collector,
    ParentRow,
    RosterMap,
    RosterRow,
    parse_roster,
    roster_columns,
)
from sync.layout.common import ProblemKind, date_text, header_text, runs, trimmed
from sync.layout.journal.map import roster_key
from sync.layout.journal.render import render_findings
from sync.layout.labels import RU, Labels

__all__ = [
    "AttendanceEntry",
    "AttendanceMap",
    "ClassMap",
    "ClassReading",
    "ClassValues",
    "ParentRow",
    "PupilContacts",
    "RosterMap",
    "RosterRow",
    "attendance_days",
    "class_open_ranges",
    "class_spec",
    "config_contacts",
    "findings_tab",
    "parse_class",
    "parse_reason",
]

log = logging.getLogger(__name__)

REASONS = tuple(r.value for r in AbsenceReason)  # б, у, н
FIRST_DAY_COL = 4  # «Посещаемость»: Код, №, Ученик, Нужна причина, then the days


@dataclass(frozen=True, slots=True)
class PupilContacts:
    """A roster row's contact cells: the pupil's own e-mail and view permission, the parents."""

    email: str = ""
    may_view: bool = False
    parents: tuple[ParentRow, ...] = ()


@dataclass(frozen=True, slots=True)
class ClassValues:
    """What the ledger holds for a class page, for re-rendering (``ejournal rebuild``): absence
    reasons, the register of parents (None: not read yet, the configuration's) and each pupil's
    days with an «н» still waiting for a reason (the «Нужна причина» column)."""

    reasons: Mapping[tuple[str, date], str] = field(default_factory=dict)  # (pupil, day) → code
    contacts: Mapping[str, PupilContacts] | None = None
    needs: Mapping[str, str] = field(default_factory=dict)  # pupil → "19.10 (2 ур.)"


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
        _roster_tab(school, pupils, values, today, labels),
        _attendance_tab(school, pupils, values, labels, class_id),
        findings_tab(labels),
    )
    name = labels.class_name.format(class_id=class_id, year=school.year.name)
    reading = parse_class({t.title: trimmed(t.rows) for t in tabs}, school, class_id, labels=labels)
    open_days = school.policies.lock.absence_reason_open_days
    ranges = class_open_ranges(reading.map, today=today, open_days=open_days)
    tabs = tuple(replace(t, open_ranges=tuple(ranges.get(t.title, []))) for t in tabs)
    return SpreadsheetSpec(name, tabs, folder=school.backend.shared_drive_folder_id)


def config_contacts(school: School, pupil: Pupil, today: date) -> PupilContacts:
    """A pupil's contacts as the configuration lists them (before the class page was read): an
    application dated after ``today`` is not shown — that parent has not applied yet, and the
    class teacher enters the date when they do."""
    parents = sorted(school.parents_of(pupil.id), key=lambda p: p.id)
    return PupilContacts(pupil.email or "", False, tuple(
        ParentRow(n, p.id, p.full_name, p.email,
                  p.consent if p.consent is not None and p.consent <= today else None)
        for n, p in enumerate(parents, 1)))


def _roster_tab(school: School, pupils: list[Pupil], values: ClassValues, today: date,
                labels: Labels) -> TabSpec:
    title = labels.roster_tab
    known = values.contacts
    contacts = {p.id: (known.get(p.id) if known is not None else config_contacts(school, p, today))
                or PupilContacts() for p in pupils}
    slots = max([2, *(max((x.slot for x in c.parents), default=0) for c in contacts.values())])
    may_view = school.diaries.pupils_may_view
    columns = roster_columns(labels, slots, may_view)
    rows: Grid = [[label for _, label in columns]]
    for number, pupil in enumerate(pupils, start=1):
        mine = contacts[pupil.id]
        cells: dict[str, object] = {
            "pupil_id": pupil.id,
            "number": number,
            "last_name": pupil.last_name,
            "first_name": pupil.first_name,
            "middle_name": pupil.middle_name,
            "enrolled": date_text(pupil.enrolled),
            "left": date_text(pupil.left),
            "pupil_email": mine.email,
            "may_view": YES if mine.may_view else NO,
        }
        for parent in mine.parents:
            n = parent.slot
            cells.update(
                {
                    f"parent_id:{n}": parent.parent_id or "",
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
    school: School, pupils: list[Pupil], values: ClassValues, labels: Labels, class_id: str = ""
) -> TabSpec:
    title = labels.attendance_tab
    days = attendance_days(school, class_id)
    first = FIRST_DAY_COL
    rows: Grid = [[labels.pupil_id, labels.number, labels.pupil, labels.needs_reason,
                   *(header_text(d) for d in days)]]
    for number, pupil in enumerate(pupils, start=1):
        reasons = [values.reasons.get((pupil.id, d), "") for d in days]
        rows.append([pupil.id, number, pupil.full_name, values.needs.get(pupil.id, ""),
                     *reasons])
    area = CellRange(title, 1, first, None, first + len(days))
    widths = {0: 70, 1: 32, 2: 230, 3: 150} | {c: 44 for c in range(first, first + len(days))}
    return TabSpec(
        title=title,
        rows=rows,
        row_count=len(rows) + 10,
        col_count=first + len(days),
        frozen_rows=1,
        frozen_cols=first,
        hidden_cols=(0,),
        text_ranges=(CellRange(title, 0, 0, 1, first + len(days)), area) if days else (),
        dropdowns=(Dropdown(area, REASONS),) if days else (),
        col_widths=widths,
        wrapped=(CellRange(title, 0, 3, None, 4),),
    )


def findings_tab(labels: Labels = RU) -> TabSpec:
    """«Замечания» of the class page: the service's remarks on the roster and attendance."""
    title = labels.findings_tab
    return TabSpec(title=title, rows=render_findings((), labels=labels), row_count=200,
                   col_count=3, frozen_rows=1, col_widths={0: 160, 1: 600, 2: 110})


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
            attendance_map = parse_attendance(grid, title, school, pupils, labels, out, class_id)
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
    """Editable cells: the contact columns of the pupils' roster rows (names and enrolment belong
    to the configuration) and the attendance columns of the last ``open_days`` days up to
    ``today``."""
    out: dict[str, list[CellRange]] = {}
    roster = class_map.roster
    if roster is not None:
        cols = roster.editable_columns()
        out[roster.title] = [
            CellRange(roster.title, r0, a, r1, b)
            for a, b in runs(cols) for r0, r1 in runs(roster.rows.values())
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
