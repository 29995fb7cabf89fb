"""One class spreadsheet through the cycle: the class teacher's absence reasons (R4/R5).

The same three phases as a journal (``sync.jobs.journal_sync``):

1. :func:`read_class` — ONE ``backend.read`` of "Посещаемость" (the roster, "Список класса", is
   owned by the configuration and not read), parsed with ``parse_class`` by hidden pupil ids and
   date headers. A missing tab is not looked up: the parse asks for a repair.
2. :func:`sync_class` — inside the cycle's ledger transaction: a cell of a day locked IN THE LEDGER
   whose sheet value differs is a violation (audited) and a planned revert; a valid reason (б, у,
   н) of an open day is accepted (first-seen time), an erased one recorded; invalid codes, reasons
   for a pupil not in the class that day, for a day still to come, or outside the day columns (a
   column added for a holiday) are findings — kept in the LEDGER only, since the class
   spreadsheet has no "Замечания" tab. ``locking``: days the lock job locks in the same
   transaction, whose invalid text is kept as typed (never taken for tampering later).
3. :func:`write_class` after the commit — ONE write of the reverts (RAW), or the tab repair
   (``sync.jobs.repair_tabs.restore_tabs``, which re-renders from the ledger); then
   :func:`record_class` marks the reverted violations.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import date, datetime

from rules.context import fmt_day
from rules.model import Finding, Location, Pupil, Severity
from sync.backends.protocol import CellRange, Grid, TabMissing
from sync.jobs.closing import absence_days_due, proven
from sync.jobs.journal_cells import Revert
from sync.jobs.journal_sync import SEALED_NOTE, structure_findings
from sync.jobs.repair_tabs import restore_tabs
from sync.jobs.service import Service
from sync.jobs.summary import Tally
from sync.jobs.tamper import SheetPlan, mark_reverted, record_violations
from sync.layout.class_sheet.parse import AttendanceMap
from sync.layout.class_sheet.spec import AttendanceEntry, ClassReading, parse_class
from sync.layout.common import a1, cell_text
from sync.layout.labels import RU, Labels
from sync.ledger.ledger import Tx
from sync.ledger.model import AbsenceInput, AbsenceLockedView, CellRef, Field, FileRecord

log = logging.getLogger(__name__)

FIELD = Field.ABSENCE_REASON.value  # the findings' field


@dataclass(frozen=True)
class ClassRead:
    """One read of the attendance tab; ``read_at`` and ``modified`` as for a journal read (the
    time locks' proof, ``sync.jobs.closing``)."""

    file: FileRecord
    grids: dict[str, Grid]
    reading: ClassReading
    read_at: datetime
    modified: datetime | None = None


def read_class(svc: Service, file: FileRecord, labels: Labels = RU) -> ClassRead:
    """One read of the attendance tab, parsed (roster problems are not this read's business)."""
    tab = labels.attendance_tab
    try:
        grids = svc.backend.read(file.id, [tab])
    except TabMissing:
        grids = {}  # parse_class reports the tab missing: the cycle repairs it
    read_at = svc.now()
    with svc.ledger.snapshot() as tx:
        due = absence_days_due(svc.school, file.key, read_at, tx.absence_locked(file.key).days)
    modified = svc.backend.info(file.id).modified if due else None
    reading = parse_class(grids, svc.school, file.key, labels=labels)
    mine = tuple(p for p in reading.problems if p.tab == tab)
    return ClassRead(file, grids, dataclasses.replace(reading, problems=mine), read_at, modified)


@dataclass(kw_only=True)
class ClassPlan(SheetPlan):
    """What a class spreadsheet needs after the commit (a repair goes to ``restore_tabs``)."""

    reading: ClassReading
    days_locked: int = 0  # attendance days this read locked in the ledger
    reasons_locked: int = 0


@dataclass
class _Sorted:
    offers: list[AbsenceInput] = field(default_factory=list)
    reverts: list[Revert] = field(default_factory=list)
    matched: set[CellRef] = field(default_factory=set)
    findings: list[Finding] = field(default_factory=list)


def sync_class(tx: Tx, svc: Service, read: ClassRead, now: datetime) -> ClassPlan:
    """Take one class spreadsheet's read into the ledger (see the module docstring). Time locks
    as for a journal: the attendance days whose reason window closed by the read are locked here,
    the ones the read proves after their reasons are taken in, the others before (so what they show
    differently from the ledger is a late entry)."""
    class_id, reading = read.file.key, read.reading
    plan = ClassPlan(file=read.file, reading=reading, repair=reading.needs_repair,
                     tally=Tally(classes_read=1))
    due = absence_days_due(svc.school, class_id, read.read_at, tx.absence_locked(class_id).days)
    locking = proven(due, read.modified)
    plan.reasons_locked += tx.lock_absence_days(class_id, set(due) - locking, now)
    where = reading.map.attendance
    out = _Sorted()
    if where is not None:
        pupils = {p.id: p for p in svc.school.pupils_in(class_id)}
        held = {(r.pupil_id, r.day) for r in tx.absences(class_id)}
        _sort(out, class_id, where, reading, tx.absence_locked(class_id), pupils, held,
              now.date(), locking)
    out.findings += _outside(class_id, reading)
    out.findings += structure_findings(class_id, reading.problems)

    unproven = set(due) - locking
    violations, late = record_violations(tx, class_id, out.reverts, out.matched, now,
                                         late=lambda target: target.day in unproven)
    plan.tally.violations += violations
    plan.tally.late_entries += late
    changes = tx.accept_absences(class_id, out.offers, now)
    plan.tally.absences_accepted += sum(
        ch.changed and bool(i.reason or not i.raw)
        for i, ch in zip(out.offers, changes, strict=True)
    )
    plan.reasons_locked += tx.lock_absence_days(class_id, locking, now)
    plan.days_locked = len(due)
    opened, resolved = tx.sync_findings(class_id, out.findings, now)
    plan.tally.findings_opened, plan.tally.findings_resolved = opened, resolved
    plan.tally.findings_open = len(tx.findings(class_id))
    if plan.repair:
        return plan  # positions will move: the next cycle reverts at the repaired ones
    plan.plan_reverts(out.reverts)
    return plan


def _sort(out: _Sorted, class_id: str, where: AttendanceMap, reading: ClassReading,
          locked: AbsenceLockedView, pupils: dict[str, Pupil], held: set[tuple[str, date]],
          today: date, locking: set[date]) -> None:
    """Every located reason cell into a revert, an offer or a finding."""
    found = {e.cell: e for e in reading.attendance}
    for pid, row in where.rows.items():
        for day, col in where.columns.items():
            cell = a1(where.title, row, col)
            entry = found.get(cell)
            value = locked.cell(pid, day)
            if value is not None:
                target = CellRef(Field.ABSENCE_REASON, pid, day, cell=cell)
                attempted = _shown(entry)
                if attempted == value:
                    out.matched.add(target)
                    if (pid, day) in locked.invalid:  # a typo left when the day locked
                        message = f"«{value[:30]}» — не причина пропуска. {SEALED_NOTE}"
                        out.findings.append(_finding(class_id, pid, day, cell, message))
                else:
                    span = CellRange(where.title, row, col, row + 1, col + 1)
                    out.reverts.append(Revert(target, span, value, attempted))
                continue
            if entry is None:
                if (pid, day) in held:  # erased
                    out.offers.append(AbsenceInput(pid, day, "", ""))
                continue
            problem = _problem(entry, pupils.get(pid), today)
            if problem is None and entry.reason is not None:
                out.offers.append(AbsenceInput(pid, day, cell_text(entry.raw), entry.reason.value))
                continue
            out.findings.append(_finding(class_id, pid, day, cell, problem or ""))
            if day in locking:  # kept as typed: the first read after protection is the record
                out.offers.append(AbsenceInput(pid, day, cell_text(entry.raw), ""))
            # otherwise the ledger keeps what it had until the cell is fixed or its day locks


def _shown(entry: AttendanceEntry | None) -> str:
    """A cell as the ledger would keep it: the code if it reads as one, else the text."""
    if entry is None:
        return ""
    return entry.reason.value if entry.reason is not None else cell_text(entry.raw)


def _problem(entry: AttendanceEntry, pupil: Pupil | None, today: date) -> str | None:
    """Why a reason cell of an open day cannot be accepted (Russian), or None."""
    if entry.reason is None:
        return entry.message or "Это не причина пропуска."
    if entry.day > today:
        return (f"{fmt_day(entry.day)} ещё не наступило: причину пропуска отмечают в день "
                "пропуска или позже.")
    if pupil is None or not pupil.enrolled_on(entry.day):
        return (f"{fmt_day(entry.day)} ученик не числился в классе: причина пропуска не "
                "принята.")
    return None


def _where(cell: str, labels: Labels = RU) -> str:
    """"Лист «Посещаемость», ячейка D7" for an A1 reference of the attendance tab."""
    return f"Лист «{labels.attendance_tab}», ячейка {cell.rpartition('!')[2]}"


def _finding(class_id: str, pupil_id: str, day: date, cell: str, message: str) -> Finding:
    return Finding("absence_reason", Severity.ERROR,
                   Location(class_id, pupil_id, day, FIELD, cell), f"{_where(cell)}: {message}")


def _outside(class_id: str, reading: ClassReading) -> list[Finding]:
    """Cells outside the day columns (a column added for a holiday, a row without a pupil id)."""
    return [
        Finding("absence_outside", Severity.ERROR, Location(class_id, None, None, FIELD, c.cell),
                f"{_where(c.cell)}: «{cell_text(c.raw)[:30]}» стоит вне столбцов учебных дней "
                "(выходной, праздник или строка без кода ученика) и не принято.")
        for c in reading.ignored
    ]


def write_class(svc: Service, plan: ClassPlan, now: datetime) -> int:
    """The plan's spreadsheet calls after the commit; returns the number of write calls."""
    if plan.repair:
        return int(restore_tabs(svc, plan.file, now=now))
    if not plan.updates:
        return 0
    try:
        svc.backend.write(plan.file.id, plan.updates)
    except TabMissing:
        log.warning("class file %s: a tab vanished before the write; repairing", plan.file.id)
        plan.repair = True
        return int(restore_tabs(svc, plan.file, now=now))
    return 1


def record_class(tx: Tx, plan: ClassPlan, now: datetime) -> None:
    """After a successful write: the violations now reverted."""
    if not plan.repair:
        mark_reverted(tx, plan.file.key, plan.revert_targets, now)


__all__ = [
    "ClassPlan",
    "ClassRead",
    "read_class",
    "record_class",
    "sync_class",
    "write_class",
]
