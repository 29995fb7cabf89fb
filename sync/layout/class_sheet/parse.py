"""Reading the class spreadsheet back: the types, shared row helpers and "Список класса".

Rows are found by the hidden pupil id ("Код"), roster columns by their labels, attendance columns
by their date headers, so sorting, inserted or moved columns change nothing. A row without an id
on the roster is a pupil the class teacher added (``pupil_id`` None: the sysadmin must add them to
the configuration); everything unreadable is reported in Russian and ignored. Never raises.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date

from config.school import School
from rules.model import AbsenceReason, Pupil
from sync.backends.protocol import CellRange, Grid, column_letter
from sync.layout.common import (
    IgnoredCell,
    ProblemKind,
    StructureProblem,
    a1,
    at,
    cell_text,
    find_header_row,
    header_columns,
    id_text,
    is_blank,
    parse_date_cell,
    repair_tabs,
    row_width,
    runs,
)
from sync.layout.labels import Labels

MAX_PARENT_SLOTS = 9
CONTACT_COLUMNS = ("pupil_email", "may_view", "parent_name", "parent_email", "parent_consent")
YES, NO = "да", "нет"
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")
REPAIR = "Сервис восстановит лист по сохранённым данным."


@dataclass(frozen=True, slots=True)
class ParentRow:
    """One parent slot of a roster row; ``parent_id`` None for a parent the teacher typed in."""

    slot: int
    parent_id: str | None
    full_name: str
    email: str
    consent: date | None


@dataclass(frozen=True, slots=True)
class RosterRow:
    """One roster row as read; ``pupil_id`` None for a row without an id (a newcomer)."""

    pupil_id: str | None
    row: int
    last_name: str
    first_name: str
    middle_name: str
    enrolled: date | None
    left: date | None
    email: str
    parents: tuple[ParentRow, ...] = ()
    may_view: bool | None = None  # «Ученик видит дневник»: None when the column is absent
    cells: Mapping[str, str] = field(default_factory=dict)  # column name → A1


@dataclass(frozen=True, slots=True)
class AttendanceEntry:
    """A non-empty reason cell; ``reason`` None (and ``message`` in Russian) when unreadable."""

    pupil_id: str
    day: date
    raw: object
    reason: AbsenceReason | None
    cell: str
    message: str | None = None


@dataclass(frozen=True, slots=True)
class RosterMap:
    title: str
    header_row: int
    columns: Mapping[str, int]
    rows: Mapping[str, int]

    def editable_columns(self) -> list[int]:
        """Columns the class teacher fills: the pupil's own e-mail and view permission, and the
        parents' names, e-mails and application dates. Names and enrolment dates belong to the
        configuration (admission orders): protected."""
        return sorted(c for name, c in self.columns.items() if name in CONTACT_COLUMNS
                      or name.partition(":")[0] in CONTACT_COLUMNS)


@dataclass(frozen=True, slots=True)
class AttendanceMap:
    title: str
    header_row: int
    id_col: int
    rows: Mapping[str, int]
    pupil_at: Mapping[int, str]
    columns: Mapping[date, int]
    needs_col: int | None = None  # the service-written «Нужна причина» column, if present

    def cell(self, pupil_id: str, day: date) -> CellRange | None:
        row, col = self.rows.get(pupil_id), self.columns.get(day)
        return (
            None
            if row is None or col is None
            else CellRange(self.title, row, col, row + 1, col + 1)
        )

    def column(self, col: int) -> list[CellRange]:
        return [CellRange(self.title, a, col, b, col + 1) for a, b in runs(self.pupil_at)]


@dataclass(frozen=True, slots=True)
class ClassMap:
    roster: RosterMap | None = None
    attendance: AttendanceMap | None = None


@dataclass(frozen=True, slots=True)
class ClassReading:
    roster: tuple[RosterRow, ...]
    attendance: tuple[AttendanceEntry, ...]
    map: ClassMap
    problems: tuple[StructureProblem, ...]
    ignored: tuple[IgnoredCell, ...] = ()
    duplicate_rows: frozenset[str] = frozenset()

    @property
    def repair_tabs(self) -> tuple[str, ...]:
        return repair_tabs(self.problems)

    @property
    def needs_repair(self) -> bool:
        return bool(self.repair_tabs)


def roster_columns(labels: Labels, slots: int, may_view: bool = False) -> list[tuple[str, str]]:
    """(column name, header) of "Список класса", in layout order; hidden ids first;
    «Ученик видит дневник» where the school lets pupils view their diary."""
    cols = [("pupil_id", labels.pupil_id)]
    cols += [(f"parent_id:{n}", labels.parent_id.format(n=n)) for n in range(1, slots + 1)]
    cols += [
        ("number", labels.number),
        ("last_name", labels.last_name),
        ("first_name", labels.first_name),
        ("middle_name", labels.middle_name),
        ("enrolled", labels.enrolled),
        ("left", labels.left),
        ("pupil_email", labels.pupil_email),
    ]
    if may_view:
        cols.append(("may_view", labels.may_view))
    for n in range(1, slots + 1):
        cols += [
            (f"parent_name:{n}", labels.parent_name.format(n=n)),
            (f"parent_email:{n}", labels.parent_email.format(n=n)),
            (f"parent_consent:{n}", labels.parent_consent.format(n=n)),
        ]
    return cols


class Collector:
    def __init__(self) -> None:
        self.problems: list[StructureProblem] = []
        self.ignored: list[IgnoredCell] = []
        self.attendance: list[AttendanceEntry] = []
        self.duplicates: set[str] = set()

    def problem(
        self, kind: ProblemKind, tab: str, text: str, cell: str | None = None, repair: bool = False
    ) -> None:
        self.problems.append(StructureProblem(kind, tab, text, cell, repair))

    def ignore_row(self, grid: Grid, title: str, row: int, kind: ProblemKind) -> int:
        count = 0
        for col in range(row_width(grid, row)):
            value = at(grid, row, col)
            if not is_blank(value):
                self.ignored.append(IgnoredCell(a1(title, row, col), value, kind))
                count += 1
        return count


def no_ids(title: str, labels: Labels, out: Collector) -> None:
    text = (
        f"На листе «{title}» нет скрытого столбца «{labels.pupil_id}» с кодами учеников, поэтому "
        f"лист нельзя прочитать. {REPAIR}"
    )
    out.problem(ProblemKind.NO_ID_COLUMN, title, text, repair=True)


def pupil_row(
    grid: Grid,
    title: str,
    row: int,
    id_col: int,
    pupils: Mapping[str, Pupil],
    seen: dict[str, int],
    out: Collector,
) -> str | None:
    """The known pupil id of ``row`` (duplicates flagged), or None (unknown ids reported)."""
    pid = id_text(at(grid, row, id_col))
    if not pid:
        return None
    if pid not in pupils:
        out.ignore_row(grid, title, row, ProblemKind.UNKNOWN_PUPIL)
        text = f"Лист «{title}», строка {row + 1}: код «{pid}» — не ученик этого класса. {REPAIR}"
        out.problem(ProblemKind.UNKNOWN_PUPIL, title, text, a1(title, row, id_col), True)
        return None
    if pid in seen:
        out.duplicates.add(pid)
        text = (
            f"Лист «{title}»: ученик с кодом «{pid}» записан в строках {seen[pid] + 1} и {row + 1}. "
            f"{REPAIR}"
        )
        out.problem(ProblemKind.DUPLICATE_PUPIL, title, text, a1(title, row, id_col), True)
    else:
        seen[pid] = row
    return pid


def missing_pupils(
    title: str, pupils: Mapping[str, Pupil], seen: Mapping[str, int], out: Collector
) -> None:
    for pid, pupil in pupils.items():
        if pid not in seen:
            text = (
                f"На листе «{title}» нет строки ученика {pupil.full_name} (код «{pid}»). {REPAIR}"
            )
            out.problem(ProblemKind.MISSING_PUPIL, title, text, repair=True)


# --------------------------------------------------------------------------- roster


def parse_roster(
    grid: Grid,
    title: str,
    school: School,
    pupils: Mapping[str, Pupil],
    labels: Labels,
    out: Collector,
) -> tuple[RosterMap | None, tuple[RosterRow, ...]]:
    head = find_header_row(grid, labels.pupil_id)
    if head is None:
        no_ids(title, labels, out)
        return None, ()
    hrow, id_col = head
    spec = roster_columns(labels, MAX_PARENT_SLOTS, may_view=True)
    found = header_columns(grid, hrow, [label for _, label in spec])
    columns = {name: found[label] for name, label in spec if label in found}
    columns["pupil_id"] = id_col
    for name, label in roster_columns(labels, 1):
        if name not in columns and not name.startswith("parent_id"):
            out.problem(
                ProblemKind.MISSING_COLUMN,
                title,
                f"На листе «{title}» нет столбца «{label}». {REPAIR}",
                repair=True,
            )
    known = set(columns.values())
    slots = sorted({int(name.split(":")[1]) for name in columns if ":" in name})
    seen: dict[str, int] = {}
    rows: list[RosterRow] = []
    for row in range(hrow + 1, len(grid)):
        for col in range(row_width(grid, row)):
            value = at(grid, row, col)
            if col not in known and not is_blank(value):
                out.ignored.append(
                    IgnoredCell(a1(title, row, col), value, ProblemKind.OUTSIDE_GRID)
                )
        pid = pupil_row(grid, title, row, id_col, pupils, seen, out)
        if pid is None and id_text(at(grid, row, id_col)):
            continue  # an unknown id: reported
        text = {n: cell_text(at(grid, row, c)) for n, c in columns.items()}
        if pid is None and not any(v for n, v in text.items() if n != "number"):
            continue  # an empty row
        where = f"Лист «{title}», строка {row + 1}"
        if pid is None:
            out.problem(
                ProblemKind.UNKNOWN_PUPIL,
                title,
                f"{where}: ученик без кода. Нового ученика добавляет администратор в "
                "настройках школы; строка передана ему.",
                a1(title, row, id_col),
            )
        parents = tuple(_parent(grid, title, row, n, columns, school, pid, out) for n in slots)
        rows.append(
            RosterRow(
                pupil_id=pid,
                row=row,
                last_name=text.get("last_name", ""),
                first_name=text.get("first_name", ""),
                middle_name=text.get("middle_name", ""),
                enrolled=_date(grid, title, row, columns.get("enrolled"), out),
                left=_date(grid, title, row, columns.get("left"), out),
                email=_email(grid, title, row, columns.get("pupil_email"), out),
                parents=tuple(p for p in parents if p is not None),
                may_view=_yes(grid, title, row, columns.get("may_view"), out),
                cells={n: a1(title, row, c) for n, c in columns.items()},
            )
        )
    missing_pupils(title, pupils, seen, out)
    return RosterMap(title, hrow, columns, seen), tuple(rows)


def _parent(
    grid: Grid,
    title: str,
    row: int,
    n: int,
    columns: Mapping[str, int],
    school: School,
    pupil_id: str | None,
    out: Collector,
) -> ParentRow | None:
    def value(name: str) -> object:
        col = columns.get(f"{name}:{n}")
        return None if col is None else at(grid, row, col)

    if all(
        is_blank(value(k)) for k in ("parent_id", "parent_name", "parent_email", "parent_consent")
    ):
        return None
    parent_id = id_text(value("parent_id")) or None
    mine = {p.id for p in school.parents_of(pupil_id)} if pupil_id else set()
    if parent_id is not None and parent_id not in mine:
        col = columns[f"parent_id:{n}"]
        text = (
            f"Лист «{title}», строка {row + 1}: код родителя «{parent_id}» не относится к этому "
            "ученику; родитель считается новым."
        )
        out.problem(ProblemKind.INVALID_VALUE, title, text, a1(title, row, col))
        parent_id = None
    return ParentRow(
        slot=n,
        parent_id=parent_id,
        full_name=cell_text(value("parent_name")),
        email=_email(grid, title, row, columns.get(f"parent_email:{n}"), out),
        consent=_date(grid, title, row, columns.get(f"parent_consent:{n}"), out),
    )


def _yes(grid: Grid, title: str, row: int, col: int | None, out: Collector) -> bool | None:
    """«да» / «нет» (empty = нет); None when the column is absent or the text is neither."""
    if col is None:
        return None
    text = cell_text(at(grid, row, col)).strip().casefold().rstrip(".")
    if text in (YES, NO, ""):
        return text == YES
    message = (f"Лист «{title}», ячейка {column_letter(col)}{row + 1}: «{text[:30]}» — напишите "
               f"«{YES}» или «{NO}».")
    out.problem(ProblemKind.INVALID_VALUE, title, message, a1(title, row, col))
    return None


def _date(grid: Grid, title: str, row: int, col: int | None, out: Collector) -> date | None:
    value = None if col is None else at(grid, row, col)
    if col is None or is_blank(value):
        return None
    found = parse_date_cell(value)
    if found is None:
        text = (
            f"Лист «{title}», ячейка {column_letter(col)}{row + 1}: «{cell_text(value)[:30]}» — не "
            "дата; запишите дату так: 01.09.2026."
        )
        out.problem(ProblemKind.INVALID_VALUE, title, text, a1(title, row, col))
    return found


def _email(grid: Grid, title: str, row: int, col: int | None, out: Collector) -> str:
    text = "" if col is None else cell_text(at(grid, row, col))
    if text and col is not None and not _EMAIL.fullmatch(text):
        message = (
            f"Лист «{title}», ячейка {column_letter(col)}{row + 1}: «{text[:40]}» — не адрес "
            "электронной почты; доступ по нему не выдаётся."
        )
        out.problem(ProblemKind.INVALID_VALUE, title, message, a1(title, row, col))
        return ""
    return text
