"""The deputy files corrections: now and then a row in the admin spreadsheet's «Исправления»
changes a locked mark; once, a teacher made writer of that spreadsheet by hand types a row of
her own (emulator), which must not be applied.

The oracle takes the deputy's value as the cell's new master value (``Oracle.correct``); the
invariant (:func:`corrections_as_filed`) checks each filed row's status and that the audit names
who signed it: the deputy for an applied row, the teacher for the rejected one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import text

from sync.backends.protocol import CellRange, Role
from sync.jobs.signatures import EXPOSED, FOREIGN_WRITERS
from sync.layout.labels import RU
from sync.ledger.model import FileKind
from tests.sim.oracle import Cell
from tests.sim.people import People
from tests.sim.world import World

# config/example/school.toml, deputy_emails (read by hand)
DEPUTY = "zamestitel.uvr.example@gmail.com"
APPLIED, REJECTED = "применено", "отклонено"
UNPROVEN = "отклонено: подпись строки не доказана"  # what the deputy types again (EXPOSED)


@dataclass
class Filed:
    """One correction row the simulation typed: who, which cell, the value, the order number."""

    who: str
    cell: Cell
    value: str
    order: str
    deputy: bool
    retyped: bool = False  # rejected as unproven, and typed again as a new row


@dataclass
class Deputy:
    people: People
    filed: list[Filed] = field(default_factory=list)
    checked: int = 0  # rows whose status was seen already

    def admin_id(self) -> str:
        (file_id,) = self.people.world.files(FileKind.ADMIN).values()
        return file_id

    def correct(self, day: date) -> Filed | None:
        """The deputy corrects a locked mark (an order, a reason) to another mark."""
        expected = self.people.oracle.expected()
        cells = [c for c in self.people.locked(day) if expected[c][:1].isdigit()
                 and c not in {t for t, _ in self.people.tampered}]
        if not cells:
            return None
        cell = self.people.rng.choice(cells)
        value = "4" if expected[cell] != "4" else "3"
        filed = self._file(DEPUTY, cell, value, deputy=True)
        self.people.oracle.correct(cell, value)
        return filed

    def retype_unproven(self) -> int:
        """The deputy reads her rows' statuses: a row rejected because its signature could not
        be proven (a teacher could write the sheet then) she types again as a new row, the
        reason marked «повторно» (a row is known by its content); returns how many."""
        world = self.people.world
        mine = [f for f in self.filed if f.deputy and not f.retyped]
        if not mine:
            return 0
        status = _statuses(world, self.admin_id())
        again = [f for f in mine if status.get(f.order, "").startswith(UNPROVEN)]
        for f in again:
            f.retyped = True
            self._file(DEPUTY, f.cell, f.value, deputy=True, reason="ошибка при вводе, повторно")
        self.people.oracle.counts["corrections_retyped"] += len(again)
        return len(again)

    def teacher_tries(self, day: date) -> Filed | None:
        """A teacher, made writer of the admin spreadsheet by the drive's manager, types a
        correction of her own mark: the service must reject it (the oracle keeps the mark)."""
        world = self.people.world
        if world.rig is None:
            return None  # local: the admin workbook is outside the teachers' folder
        expected = self.people.oracle.expected()
        cells = [c for c in self.people.locked(day) if expected[c][:1].isdigit()]
        if not cells:
            return None
        cell = self.people.rng.choice(cells)
        class_id, subject_id = cell[0].split("/")
        _, email = self.people.teacher(class_id, subject_id, cell[2])
        world.rig.inspector.grant(self.admin_id(), email, Role.WRITER)  # by hand
        value = "5" if expected[cell] != "5" else "4"
        return self._file(email, cell, value, deputy=False)

    def _file(self, who: str, cell: Cell, value: str, *, deputy: bool,
              reason: str = "ошибка при вводе") -> Filed:
        world, school = self.people.world, self.people.school
        key, pupil, day, lesson_no = cell
        class_id, subject_id = key.split("/")
        subject = school.subject(subject_id)
        same_day = sorted(x.lesson_no for x in school.lessons()[(class_id, subject_id)]
                          if x.day == day)
        ordinal = same_day.index(lesson_no) + 1
        when = day.strftime("%d.%m.%Y") + (f" ({ordinal})" if ordinal > 1 else "")
        order = f"{len(self.filed) + 1}-к"
        row = [f"{class_id} · {subject.name if subject else subject_id}", when, pupil,
               "отметка", value, reason, order, "да"]
        admin = self.admin_id()
        grid = world.read(admin, [RU.corrections_tab])[RU.corrections_tab]
        at = 1 + max((i for i, r in enumerate(grid) if any(str(v or "").strip() for v in r)),
                     default=0)
        edits = [(CellRange(RU.corrections_tab, at, col, at + 1, col + 1), v)
                 for col, v in enumerate(row, start=1)]
        refused = world.type(who, admin, edits, owner=world.rig is None)
        assert not refused, f"{who} could not type into «Исправления»"
        filed = Filed(who, cell, value, order, deputy)
        self.filed.append(filed)
        self.people.oracle.counts["corrections_filed" if deputy else "corrections_forged"] += 1
        return filed


def corrections_as_filed(deputy: Deputy) -> list[str]:
    """Every row filed: processed with the right status (the deputy's applied, the teacher's
    rejected), audited naming who signed it; no teacher keeps write access to the admin sheet."""
    world = deputy.people.world
    if not deputy.filed:
        return []
    out = []
    status = _statuses(world, deputy.admin_id())
    with world.svc.ledger.engine.connect() as db:
        events = [(k, json.loads(p)) for k, p in db.execute(text(
            "SELECT kind, payload FROM audit WHERE kind LIKE 'correction.%' ORDER BY id"))]
    for f in deputy.filed:
        applies = f.deputy and not f.retyped
        want = APPLIED if applies else (UNPROVEN if f.retyped else REJECTED)
        if not status.get(f.order, "").startswith(want):
            out.append(f"correction {f.order} by {f.who} of {f.cell}: status "
                       f"{status.get(f.order, '')!r}, not {want!r}")
        if f.retyped:
            continue  # a new row carries it
        kind = "correction.applied" if f.deputy else "correction.rejected"
        found = [p for k, p in events if k == kind and p.get("journal") == f.cell[0]
                 and (world.rig is None  # local: the admin workbook is the deputy's alone
                      or str(p.get("signed_by", "")).lower() == f.who.lower()
                      or (not f.deputy and _unproven(str(p.get("reason", "")))))]
        if f.deputy and not any(p.get("new") == f.value and p.get("order_no") == f.order
                                for p in found):
            out.append(f"correction {f.order} of {f.cell}: no audit event naming {f.who}")
        if not f.deputy and not found:
            out.append(f"forged correction {f.order} by {f.who}: no rejection audited with "
                       "its signer, nor as unproven")
    if world.rig is not None:
        teachers = {t.email.lower() for t in world.school.teachers if t.email}
        writers = {g.email.lower() for g in world.rig.inspector.grants(deputy.admin_id())
                   if g.role in (Role.WRITER, Role.OWNER) and g.email}
        out += [f"teacher {w} still writes the admin spreadsheet" for w in writers & teachers]
    return out


def _statuses(world: World, admin_id: str) -> dict[str, str]:
    """«Исправления» as the deputy sees it: order number → status."""
    grid = world.read(admin_id, [RU.corrections_tab])[RU.corrections_tab]
    header = [str(v or "") for v in grid[0]]
    order_col, status_col = header.index(RU.order), header.index(RU.status)
    return {str(r[order_col] or ""): str(r[status_col] or "") if status_col < len(r) else ""
            for r in grid[1:] if order_col < len(r)}


def _unproven(reason: str) -> bool:
    """A rejection because the row's signer could not be proven, whoever Drive named: a teacher
    could write the sheet when it was read (the only answer a row typed under someone else's
    last edit can get)."""
    return reason.startswith((EXPOSED.split("(")[0], FOREIGN_WRITERS.split("(")[0]))
