"""The deputy's corrections (R7): signed rows of "Исправления" change locked cells, audited.

:func:`process_corrections` takes the rows the cycle read from the admin spreadsheet and, for each
signed row not yet processed, either applies it — the ledger cell takes the new value whatever its
lock (``Tx.apply_correction``, audited ``correction.applied`` with the old value and the order
number), then the journal cell is written at its CURRENT position (the journal is read and parsed:
rows may have been sorted, columns moved) — or rejects it with a Russian reason (audited
``correction.rejected``). The row's status ("применено" / "отклонено: …"), the time and the row's
key are written back to the admin sheet.

Idempotent by the row's key (``CorrectionRow.key``): a row the ledger already processed is never
applied again; if its status write was lost (a crash after the commit) only the status — and the
journal cell, if it still differs — is written again. Order of work, as in the cycle: reads first
(the journals of the rows to apply), one ledger transaction, then the writes. A row whose journal
cannot be read right now (busy, quota, a tab missing) is left untouched for the next run and
counted in ``deferred``; the ledger state ``CORRECTIONS_DEFERRED_KEY`` says how many wait.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from config.school import School
from rules.errors import BackendError, StoreError
from rules.grammar import parse_cell
from rules.model import Period, Pupil
from sync.backends.protocol import CellRange, Grid
from sync.jobs.corrected import follow_correction, record_followed
from sync.jobs.service import Service, split_journal_key
from sync.jobs.signatures import Signatures
from sync.jobs.summary import CorrectionsSummary
from sync.jobs.tamper import target_key
from sync.layout.admin.spec import CorrectionField, CorrectionRow, parse_corrections, status_text
from sync.layout.common import date_text, stale_updates
from sync.layout.journal.map import JournalMap, LessonField
from sync.layout.journal.spec import parse_journal
from sync.layout.labels import RU
from sync.ledger.ledger import Tx
from sync.ledger.model import (
    CellRef,
    CorrectionRecord,
    CorrectionStatus,
    Field,
    FileKind,
    FileRecord,
)
from sync.ledger.state import CORRECTIONS_DEFERRED_KEY

logger = logging.getLogger(__name__)



class Action(StrEnum):
    APPLY = "apply"  # new, valid: change the ledger and the journal cell
    REJECT = "reject"  # new, with problems: record as rejected
    RESTATE = "restate"  # processed earlier, status lost: write the ledger's status again
    DUPLICATE = "duplicate"  # the same row twice in the sheet: only the sheet is answered


@dataclass(frozen=True, slots=True)
class _Reading:
    """A journal as read just now: its grids (to skip writes of what is there) and its map."""

    grids: dict[str, Grid]
    map: JournalMap


@dataclass(frozen=True, slots=True)
class _Decision:
    row: CorrectionRow
    action: Action
    reasons: tuple[str, ...] = ()
    record: CorrectionRecord | None = None  # RESTATE: what the ledger holds


def process_corrections(svc: Service, grid: Grid, *, now: datetime,
                        signer: str | None = None) -> CorrectionsSummary:
    """Apply or reject every signed, unprocessed row of "Исправления" (``grid`` as read);
    ``signer``: who last changed the sheet (``sync.jobs.signatures``; None: no users to check).

    Raises :class:`~rules.errors.LayoutError` when the tab's header is broken (the cycle logs it
    for the admin file) and :class:`~rules.errors.StoreError` when no admin file is registered.
    A journal that cannot be read or written is logged and counted, never fatal.
    """
    school = svc.school
    rows = parse_corrections(grid, school)
    summary = CorrectionsSummary(rows=len(rows))
    with svc.ledger.snapshot() as tx:
        admin = _admin_file(tx)
        signatures = Signatures.load(tx, signer, svc, admin.id)
        decisions = _decide(rows, tx, now.date(), svc, signatures)
        journals = {
            d.row.journal: tx.file_for(FileKind.JOURNAL, d.row.journal)
            for d in decisions
            if d.row.journal and _touches_cell(d)
        }
    summary.waiting = sum(1 for r in rows if not r.signed and not r.done)

    readings = _read_journals(svc, journals, summary)
    kept: list[_Decision] = []
    deferred: set[str] = set()
    for d in decisions:
        journal = d.row.journal
        unreadable = bool(journal) and journals.get(journal or "") is not None \
            and journal not in readings
        if d.action is Action.APPLY and (unreadable or signatures.of(d.row.key) == ""):
            deferred.add(d.row.key)  # its journal could not be read, or its signer is unknown yet
        else:
            kept.append(d)
    summary.deferred = len(deferred)

    processed: list[tuple[_Decision, CorrectionRecord | None]] = []
    with svc.ledger.transaction() as tx:
        for d in kept:
            processed.append((d, _commit(tx, d, now, school, signatures.of(d.row.key))))
        signatures.save(tx, deferred, now)
        newest = _newest_applied(tx)
        previous = tx.state_get(CORRECTIONS_DEFERRED_KEY)
        if summary.deferred or previous not in (None, "0"):
            tx.state_set(CORRECTIONS_DEFERRED_KEY, str(summary.deferred), now)

    cell_updates: dict[str, list[tuple[CellRange, Grid]]] = {}
    status_updates: list[tuple[CellRange, Grid]] = []
    for d, record in processed:
        if record is not None and record.status is CorrectionStatus.APPLIED:
            svc.settled.forget(record.journal)  # its locked values changed: no tab stays settled
        status = _status(d, record)
        status_updates.extend(d.row.status_update(status, now))
        _count(summary, d, record)
        if record is not None and record.status is CorrectionStatus.APPLIED:
            if newest.get((record.journal, target_key(record.target))) != record.source_key:
                continue  # a later correction of the same cell decides what it shows
            reading = readings.get(record.journal)
            if reading is not None:
                placed = _cell_writes(reading.map, record)
                if placed is None:
                    summary.unplaced += 1
                else:
                    cell_updates.setdefault(record.journal, []).extend(placed)
            elif journals.get(record.journal) is None:
                summary.unplaced += 1  # no journal file (yet): the ledger holds the value

    for journal, updates in cell_updates.items():
        file = journals[journal]
        assert file is not None
        stale = stale_updates(readings[journal].grids, updates)
        if not stale:
            continue
        plan = follow_correction(svc, file, readings[journal].grids, stale, now)
        try:  # one write: the corrected cells, then «Замечания» and the service cells after them
            svc.backend.write(file.id, stale + (plan.updates if plan else []))
        except BackendError as exc:
            _failed(summary, file.id, "journal write", exc)
            continue
        record_followed(svc, plan, now)
        summary.writes += 1
        summary.cells_written += len(stale)
    if status_updates:
        try:
            svc.backend.write(admin.id, status_updates)
            summary.writes += 1
        except BackendError as exc:  # the ledger is right; the statuses are written next time
            _failed(summary, admin.id, "status write", exc)
    logger.info(
        "corrections: %d rows, %d applied, %d rejected, %d restated, %d duplicates, "
        "%d deferred, %d waiting, %d cells written, %d reads, %d writes",
        summary.rows,
        summary.applied,
        summary.rejected,
        summary.restated,
        summary.duplicates,
        summary.deferred,
        summary.waiting,
        summary.cells_written,
        summary.reads,
        summary.writes,
    )
    return summary


# --------------------------------------------------------------------------- deciding


def _admin_file(tx: Tx) -> FileRecord:
    files = tx.files(FileKind.ADMIN)
    if not files:
        raise StoreError(
            "no admin spreadsheet is registered in the ledger",
            "run `ejournal setup` to create it",
        )
    if len(files) > 1:
        logger.warning("%d admin spreadsheets registered; answering in %s", len(files), files[0].id)
    return files[0]


def _decide(rows: Sequence[CorrectionRow], tx: Tx, today: date, svc: Service,
            signatures: Signatures) -> list[_Decision]:
    """What to do with each row that needs an answer (signed, not yet answered in the sheet)."""
    done_keys = {r.key: r for r in rows if r.done}
    seen: dict[str, CorrectionRow] = {}
    out: list[_Decision] = []
    for row in rows:
        if not row.ready:
            continue
        first = seen.setdefault(row.key, row)
        earlier = done_keys.get(row.key) if first is row else first
        record = tx.correction(row.key)
        if earlier is not None and earlier is not row:
            reason = f"повторяет строку {earlier.row + 1}"
            out.append(_Decision(row, Action.DUPLICATE, (reason,)))
        elif record is not None and record.status is not CorrectionStatus.PENDING:
            out.append(_Decision(row, Action.RESTATE, record=record))
        else:
            unsigned = signatures.problem(row.key)
            reasons = (*row.problems, *_further_problems(row, today, svc),
                       *([unsigned] if unsigned else []))
            out.append(_Decision(row, Action.REJECT if reasons else Action.APPLY, reasons))
    return out


def _further_problems(row: CorrectionRow, today: date, svc: Service) -> list[str]:
    """What the layout's resolver cannot know: the calendar relative to today, enrolment."""
    if row.problems:
        return []
    out: list[str] = []
    if row.day is not None and row.day > today:
        out.append(f"урок {date_text(row.day)} ещё не проведён; исправлять можно прошедшие уроки")
    if row.pupil_id is not None:
        pupil = svc.school.pupil(row.pupil_id)
        if pupil is not None and row.day is not None and not pupil.enrolled_on(row.day):
            out.append(f"ученик {row.pupil_id} не числится в классе {date_text(row.day)}")
        period = next((p for p in svc.school.year.all_periods if p.name == row.period), None)
        if pupil is not None and period is not None and not _enrolled_in(pupil, period):
            out.append(f"ученик {row.pupil_id} не учился в классе в периоде «{period.name}»")
    return out


def _enrolled_in(pupil: Pupil, period: Period) -> bool:
    return pupil.enrolled <= period.end and (pupil.left is None or pupil.left >= period.start)


def _touches_cell(d: _Decision) -> bool:
    """Whether the decision may write a journal cell (so the journal must be read first)."""
    if d.action is Action.APPLY:
        return True
    return (
        d.action is Action.RESTATE
        and d.record is not None
        and d.record.status is CorrectionStatus.APPLIED
    )


def _read_journals(
    svc: Service, journals: Mapping[str, FileRecord | None], summary: CorrectionsSummary
) -> dict[str, _Reading]:
    """One read per journal to be touched; a journal that cannot be read is left out."""
    school = svc.school
    lessons = school.lessons() if journals else {}
    out: dict[str, _Reading] = {}
    for journal, file in sorted(journals.items()):
        if file is None:
            continue
        class_id, subject_id = split_journal_key(journal)
        tabs = [p.name for p in school.periods_of(class_id)] + [RU.lessons_tab]
        try:
            grids = svc.backend.read(file.id, tabs)
        except BackendError as exc:
            _failed(summary, file.id, "journal read", exc)
            continue
        finally:
            summary.reads += 1
        mine = lessons.get((class_id, subject_id), [])
        reading = parse_journal(grids, school, class_id, subject_id, mine)
        out[journal] = _Reading(grids, reading.map)
    return out


# --------------------------------------------------------------------------- the ledger


def _target(row: CorrectionRow) -> CellRef:
    field_ = Field(row.field.value) if row.field is not None else Field.MARK  # unknown: placeholder
    return CellRef(
        field=field_,
        pupil_id=row.pupil_id,
        day=row.day,
        lesson_no=row.lesson_no,
        period=row.period,
    )


def _newest_applied(tx: Tx) -> dict[tuple[str, tuple[Any, ...]], str]:
    """The last applied correction of each cell (journal, target): only it writes the cell."""
    return {(r.journal, target_key(r.target)): r.source_key for r in tx.corrections()
            if r.status is CorrectionStatus.APPLIED}


def _commit(tx: Tx, d: _Decision, now: datetime, school: School,
            signed_by: str | None) -> CorrectionRecord | None:
    """Record and apply/reject one row; returns the ledger's record (None for a duplicate)."""
    row = d.row
    if d.action is Action.DUPLICATE:
        return None
    if d.action is Action.RESTATE:
        return tx.correction(row.key)
    record = tx.record_correction(
        row.key,
        row.journal or "",
        _target(row),
        row.new_value,
        row.reason,
        row.order_no,
        now,
    )
    if record.status is not CorrectionStatus.PENDING:
        return record  # processed in the meantime: never twice
    if d.action is Action.REJECT:
        return tx.reject_correction(row.key, "; ".join(d.reasons), now, signed_by=signed_by)
    kind = ""
    if row.field in (CorrectionField.MARK, CorrectionField.PERIOD_MARK):
        parsed = parse_cell(
            row.new_value, school.policies.grammar, period=row.field is CorrectionField.PERIOD_MARK
        )
        kind = parsed.value.kind.value if parsed.value is not None else ""
    applied = tx.apply_correction(row.key, now, value=row.new_value, kind=kind,
                                  raw=row.new_value, signed_by=signed_by)
    tx.resolve_late_entries(applied.journal, applied.target, now, by=row.key)
    return applied


def _status(d: _Decision, record: CorrectionRecord | None) -> str:
    if record is None:
        return status_text(d.reasons)
    if record.status is CorrectionStatus.APPLIED:
        return status_text()
    return status_text(record.reject_reason or "отклонено")


def _count(summary: CorrectionsSummary, d: _Decision, record: CorrectionRecord | None) -> None:
    if d.action is Action.DUPLICATE:
        summary.duplicates += 1
    elif d.action is Action.RESTATE:
        summary.restated += 1
    elif record is not None and record.status is CorrectionStatus.APPLIED:
        summary.applied += 1
    else:
        summary.rejected += 1


# --------------------------------------------------------------------------- the journal cell


def _cell_writes(
    journal_map: JournalMap, record: CorrectionRecord
) -> list[tuple[CellRange, Grid]] | None:
    """Where the corrected value goes in the journal now; None if the cell is not there."""
    target = record.target
    value = record.new_value
    if target.field is Field.MARK:
        assert target.pupil_id and target.day and target.lesson_no is not None
        cell = journal_map.cell(target.pupil_id, (target.day, target.lesson_no))
        return None if cell is None else [(cell, [[value]])]
    if target.field is Field.PERIOD_MARK:
        assert target.pupil_id and target.period
        cell = journal_map.period_mark_cell(target.pupil_id, target.period)
        return None if cell is None else [(cell, [[value]])]
    assert target.day and target.lesson_no is not None
    key = (target.day, target.lesson_no)
    cell = journal_map.lesson_field(key, LessonField(target.field.value))
    if cell is None:
        return None
    out = [(cell, [[value]])]
    if target.field is Field.WORK_TYPE:  # the service-written row under the dates shows it too
        under = journal_map.work_type_cell(key)
        if under is not None:
            out.append((under, [[value]]))
    return out


def _failed(summary: CorrectionsSummary, file_id: str, what: str, exc: BackendError) -> None:
    logger.warning("corrections: %s of %s failed: %s", what, file_id, type(exc).__name__)
    summary.errors.append(f"{file_id}: {what}: {type(exc).__name__}")


def corrected_journals(tx: Tx, now: datetime) -> set[str]:
    """Journal files whose cells a correction changed in the run at ``now`` (the next cycle
    re-reads them so their findings and service cells follow the corrected value)."""
    out: set[str] = set()
    for c in tx.corrections():
        if c.status is CorrectionStatus.APPLIED and c.processed_at == now:
            record = tx.file_for(FileKind.JOURNAL, c.journal)
            if record is not None:
                out.add(record.id)
    return out
