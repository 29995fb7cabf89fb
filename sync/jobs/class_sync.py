"""One class spreadsheet through the cycle: the class teacher's register of parents and absence
reasons (R4/R5, 1.13).

The same three phases as a journal (``sync.jobs.journal_sync``):

1. :func:`read_class` — ONE ``backend.read`` of «Список класса» and «Посещаемость», parsed with
   ``parse_class`` by hidden pupil ids, column labels and date headers. A missing tab is not
   looked up: the parse asks for a repair.
2. :func:`sync_class` — inside the cycle's ledger transaction: a cell of a day locked IN THE LEDGER
   whose sheet value differs is a violation (audited) and a planned revert; a valid reason (б, у,
   н) of an open day is accepted (first-seen time), an erased one recorded; invalid codes, reasons
   for a pupil not in the class that day, for a day still to come, or outside the day columns (a
   column added for a holiday) are findings. The roster's parents (e-mail, application date) and
   the pupil's own access are checked and taken into the ledger's register
   (``sync.jobs.class_pages``): only valid values change who may read a diary; the rest are
   findings. Every finding is shown on the class page's own «Замечания» (rewritten when it
   changed), and «Нужна причина» lists the days with an «н» in a journal and no reason yet.
   ``locking``: days the lock job locks in the same transaction, whose invalid text is kept as
   typed (never taken for tampering later).
3. :func:`write_class` after the commit — ONE write (reverts RAW, «Замечания», «Нужна причина»),
   or the tab repair (``sync.jobs.repair_tabs.restore_tabs``, which re-renders from the ledger);
   then :func:`record_class` marks the reverted violations and the findings tab's hash.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime

from rules.context import fmt_day
from rules.errors import BackendError
from rules.model import Finding, Location, Pupil, Severity
from sync.backends.protocol import CellRange, Grid, TabMissing
from sync.jobs.class_pages import contact_offers, needs_reason
from sync.jobs.closing import absence_days_due, proven
from sync.jobs.findings_tab import findings_update
from sync.jobs.journal_cells import Revert
from sync.jobs.journal_sync import SEALED_NOTE, structure_findings
from sync.jobs.repair_tabs import restore_tabs
from sync.jobs.service import Service
from sync.jobs.summary import Tally
from sync.jobs.tamper import SheetPlan, mark_reverted, record_violations
from sync.layout.class_sheet.parse import AttendanceMap
from sync.layout.class_sheet.spec import AttendanceEntry, ClassReading, parse_class
from sync.layout.common import a1, cell_text, stale_updates
from sync.layout.labels import RU, Labels
from sync.ledger.ledger import Tx
from sync.ledger.model import AbsenceInput, AbsenceLockedView, CellRef, Field, FileKind, FileRecord
from sync.ledger.state import CLASS_ROWS_KEY, NEEDS_SHOWN_KEY

log = logging.getLogger(__name__)

FIELD = Field.ABSENCE_REASON.value  # the findings' field


@dataclass(frozen=True)
class ClassRead:
    """One read of «Список класса» and «Посещаемость»; ``read_at`` and ``modified`` as for a
    journal read (the
    time locks' proof, ``sync.jobs.closing``)."""

    file: FileRecord
    grids: dict[str, Grid]
    reading: ClassReading
    read_at: datetime
    modified: datetime | None = None


def read_class(svc: Service, file: FileRecord, labels: Labels = RU) -> ClassRead:
    """One read of «Список класса» and «Посещаемость», parsed."""
    try:
        grids = svc.backend.read(file.id, [labels.roster_tab, labels.attendance_tab])
    except TabMissing:
        grids = {}  # parse_class reports the tabs missing: the cycle repairs them
    read_at = svc.now()
    with svc.ledger.snapshot() as tx:
        due = absence_days_due(svc.school, file.key, read_at, tx.absence_locked(file.key).days)
    modified = svc.backend.info(file.id).modified if due else None
    reading = parse_class(grids, svc.school, file.key, labels=labels)
    return ClassRead(file, grids, reading, read_at, modified)


@dataclass(kw_only=True)
class ClassPlan(SheetPlan):
    """What a class spreadsheet needs after the commit (a repair goes to ``restore_tabs``)."""

    reading: ClassReading
    days_locked: int = 0  # attendance days this read locked in the ledger
    reasons_locked: int = 0
    findings_hash: str | None = None  # hash of «Замечания» to record once written
    contacts_changed: set[str] = field(default_factory=set)  # pupils whose register changed
    needs: dict[str, str] | None = None  # «Нужна причина» as written by this plan
    needs_only: bool = False  # its only writes are «Нужна причина» cells (``follow_journals``'s)


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
    today = now.date()
    if reading.map.roster is not None:
        offers, problems = contact_offers(reading, tx.contacts(class_id), svc.school, class_id,
                                          today)
        out.findings += problems
        plan.contacts_changed = tx.accept_contacts(class_id, offers, now)

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
    open_now = tx.findings(class_id)
    plan.tally.findings_open = len(open_now)
    if plan.repair:
        return plan  # positions will move: the next cycle reverts at the repaired ones
    plan.plan_reverts(out.reverts)
    findings, plan.findings_hash = findings_update(tx, read.file.id, open_now,
                                                   svc.school.timezone, now, RU)
    plan.updates.extend(findings)
    others = len(plan.updates)
    if where is not None and where.needs_col is not None:
        plan.needs = needs_reason(tx, svc.school, class_id, today)
        rows = {pid: row for row, pid in where.pupil_at.items()}
        positions = json.dumps({"title": where.title, "col": where.needs_col, "rows": rows},
                               sort_keys=True, ensure_ascii=False)
        key = CLASS_ROWS_KEY.format(file_id=read.file.id)
        if tx.state_get(key) != positions:
            tx.state_set(key, positions, now)
        plan.updates.extend(stale_updates(read.grids, needs_updates(
            where.title, where.needs_col, rows, plan.needs)))
    plan.needs_only = others == 0 and len(plan.updates) > 0
    return plan


def needs_updates(title: str, col: int, rows: dict[str, int], needs: dict[str, str],
                  only: Collection[str] | None = None) -> list[tuple[CellRange, Grid]]:
    """The «Нужна причина» cell of each pupil row (of ``only`` those), at the positions read."""
    return [(CellRange(title, row, col, row + 1, col + 1), [[needs.get(pid, "")]])
            for pid, row in sorted(rows.items(), key=lambda item: item[1])
            if only is None or pid in only]


def follow_journals(svc: Service, now: datetime, read: Collection[str]) -> int:
    """The «Нужна причина» column of the class pages NOT read this cycle, after the journals'
    «н» changed: written at the positions of the last read (a page someone changed since is in
    the change list, so it was read); one write per page whose texts changed. Returns writes."""
    writes = 0
    with svc.ledger.snapshot() as tx:
        pages = [f for f in tx.files(FileKind.CLASS) if f.id not in read]
        todo = []
        for page in pages:
            where = tx.state_get(CLASS_ROWS_KEY.format(file_id=page.id))
            if where is None:
                continue
            needs = needs_reason(tx, svc.school, page.key, now.date())
            shown = json.loads(tx.state_get(NEEDS_SHOWN_KEY.format(file_id=page.id)) or "{}")
            if needs != shown:
                todo.append((page, json.loads(where), needs, shown))
    for page, where, needs, shown in todo:
        changed = {p for p in set(needs) | set(shown) if needs.get(p) != shown.get(p)}
        updates = needs_updates(where["title"], where["col"], where["rows"], needs, changed)
        try:
            if updates:
                svc.backend.write(page.id, updates)
                writes += 1
        except BackendError as exc:
            log.warning("class file %s: «Нужна причина» not written (%s)", page.id,
                        type(exc).__name__)
            continue
        with svc.ledger.transaction() as tx:
            tx.state_set(NEEDS_SHOWN_KEY.format(file_id=page.id), _json(needs), now)
    return writes


def _json(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False)


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


def record_class(tx: Tx, plan: ClassPlan, now: datetime, labels: Labels = RU) -> None:
    """After a successful write: the violations now reverted, the «Замечания» written."""
    if not plan.repair:
        mark_reverted(tx, plan.file.key, plan.revert_targets, now)
        if plan.findings_hash is not None:
            tx.set_tab_hash(plan.file.id, labels.findings_tab, plan.findings_hash, now)
        if plan.needs is not None:
            tx.state_set(NEEDS_SHOWN_KEY.format(file_id=plan.file.id), _json(plan.needs), now)


__all__ = [
    "ClassPlan",
    "ClassRead",
    "follow_journals",
    "read_class",
    "record_class",
    "sync_class",
    "write_class",
]
