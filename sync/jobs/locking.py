"""The lock job (``ejournal lock``, nightly right after ``day_end``): read, lock in the ledger,
then protect.

The ledger's locks are a fact of time (``sync.jobs.closing``); this job makes sure every closed
window is locked in the ledger soon after it closed, and moves the spreadsheets' protections so
teachers cannot type where the ledger no longer listens. For each registered journal
(DESIGN.md "Lock model"):

1. if a day's lesson facts or marks, or a period's marks, closed and are not locked in the ledger,
   and the file is unchanged since the ledger took it in whole (``_taken_in``: its last read left
   no error finding and its writes landed; ``backend.info`` — one Drive call — still names the
   version the ledger recorded): locked with the ledger's values, no read — the file stood so when
   its windows closed, the proof a read would give. Otherwise ONE read, the file's last
   modification asked right after it (the proof), taken into the ledger as a cycle does
   (``sync_journal``): what the read proves was there when its window closed is accepted and
   locked (a cell left holding invalid text is kept as that text, ``INVALID_KIND``); the rest is
   locked with the ledger's values and what reads differently is a late entry. The spreadsheet
   writes the read calls for (findings, reverts, service cells) are left to the next cycle: the
   journal goes on the dirty list;
2. then the cells open at ``now`` (``journal_open_state``: today's column and lesson row, grace
   windows of written works, the period-mark window), at the positions just read (else those of
   the last read, ``sync.jobs.journal_layout``; else the expected layout's), set with
   ``set_open_ranges`` ONLY when they differ from the ranges recorded in the ledger: one Sheets
   write per journal whose open cells changed, none otherwise. After
   ``TransientError(uncertain=True)`` the protection state is re-read (``open_ranges()``) and the
   write repeated only if it did not land (protection requests are not idempotent).

A file whose read or protection failed (or was busy) goes on the ledger's pending list: every sync
cycle runs this job again for the pending files until it succeeds (minutes, not the next night),
``ejournal lock`` exits non-zero, and ``ejournal status`` lists them with the time they have waited.

Class spreadsheets (``_lock_class``): their open attendance days (the last
``lock.absence_reason_open_days`` days) set only when they moved, ONE read when attendance days are
due to lock, their reasons taken in (invalid text kept as typed) and the days locked.

Then substitutions (``sync.jobs.substitutions``): the day's substitutes are let in on the journals
whose lock work succeeded (never on one whose protection is pending), and yesterday's are let out.
Last, when a new week (or period) began, every diary is rendered for it (``_new_week``).
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Mapping, Sequence
from datetime import datetime

from rules.errors import BackendError, EjournalError, LayoutError, TransientError
from rules.model import Severity
from sync.backends.protocol import CellRange, FeedReset, FileBusy
from sync.jobs.class_sync import ClassRead, read_class, sync_class
from sync.jobs.closing import LockTotals, absence_days_due, due_at, ledger_work_types, lock_due
from sync.jobs.diaries import render_new_basis
from sync.jobs.journal_layout import remembered_layout
from sync.jobs.journal_sync import (
    JournalRead,
    JournalRef,
    journal_refs,
    read_journal,
    sync_journal,
)
from sync.jobs.own_writes import remember_own_writes
from sync.jobs.service import Service
from sync.jobs.spreadsheets import ledger_values
from sync.jobs.substitutions import run_substitutions
from sync.jobs.summary import FileProblem, LockSummary, calls_delta, describe
from sync.layout.class_sheet.spec import class_open_ranges, class_spec
from sync.layout.common import spec_grids
from sync.layout.journal.map import JournalMap
from sync.layout.journal.spec import (
    OpenState,
    journal_open_state,
    journal_spec,
    open_ranges,
    parse_journal,
)
from sync.layout.labels import RU, Labels
from sync.ledger.files import OpenRanges, encode_ranges
from sync.ledger.ledger import Tx
from sync.ledger.model import FileKind, FileRecord
from sync.ledger.state import CHANGES_TOKEN_KEY

log = logging.getLogger(__name__)

def same_cells(a: OpenRanges, b: OpenRanges) -> bool:
    """Whether two protection states open exactly the same cells of the tabs ``a`` names."""
    return all(_cells(a.get(tab, ())) == _cells(b.get(tab, ())) for tab in a)


def _cells(ranges: Sequence[CellRange]) -> set[tuple[int, int]] | list[CellRange]:
    if any(r.end_row is None or r.end_col is None for r in ranges):
        return sorted(ranges, key=repr)  # open-ended: compare as given
    return {
        (row, col)
        for r in ranges
        for row in range(r.start_row, r.end_row or 0)
        for col in range(r.start_col, r.end_col or 0)
    }


def run_locks(svc: Service, *, labels: Labels = RU, only: Collection[str] | None = None,
              substitutions: bool = True) -> LockSummary:
    """The lock job (see the module docstring); per-file failures are counted, never fatal. A
    file that failed (or was busy) stays on the ledger's pending list, and the sync cycles run
    the job again for ``only`` those files until it succeeds."""
    now = svc.now()
    before = svc.api_calls()
    summary = LockSummary(started=now)
    with svc.ledger.transaction() as tx:
        run_id = tx.run_started("lock", now)
        refs = journal_refs(svc.school, tx.files(FileKind.JOURNAL))
        classes = [f for f in tx.files(FileKind.CLASS) if svc.school.school_class(f.key)]
    if only is not None:
        refs = {k: v for k, v in refs.items() if k in only}
        classes = [f for f in classes if f.id in only]
    summary.journals, summary.classes = len(refs), len(classes)
    unread = _unread_changes(svc, summary)
    follow_up: set[str] = set()
    for ref in refs.values():
        try:
            if _lock_journal(svc, ref, now, summary, labels, _unread(unread, ref.file.id)):
                follow_up.add(ref.file.id)
        except (BackendError, LayoutError) as exc:
            _failed(summary, ref.file.id, exc)
    for record in classes:
        try:
            if _lock_class(svc, record, now, summary, labels, _unread(unread, record.id)):
                follow_up.add(record.id)
        except (BackendError, LayoutError) as exc:
            _failed(summary, record.id, exc)
    summary.follow_up = sorted(follow_up)
    unlocked = {p.file_id for p in summary.failed} | set(summary.skipped_busy)
    held = {ref.key for ref in refs.values() if ref.file.id in unlocked}
    if substitutions:  # (a cycle retrying ``only`` some files runs them itself, afterwards)
        summary.substitutions = run_substitutions(svc, now, summary.errors, grant=True,
                                                  hold=held)
    if only is None:
        _new_week(svc, summary, now)
    remember_own_writes(svc)
    summary.api_calls = calls_delta(before, svc.api_calls())
    summary.finished = svc.now()
    with svc.ledger.transaction() as tx:
        if follow_up:
            tx.add_dirty_files(follow_up, now)
        done = {ref.file.id for ref in refs.values()} | {f.id for f in classes}
        tx.set_pending_locks(done - unlocked, unlocked, now)
        summary.tally.findings_open = tx.open_findings_count()  # all, not the journals read
        tx.run_finished(run_id, summary.finished, summary.counters(),
                        "; ".join(summary.errors) or None)
    log.info(
        "lock run: %d journals, %d classes, %d+%d protections written, %d journals and %d "
        "classes read, %d journals locked unread, %d days, %d periods and %d attendance days "
        "locked, %d follow-ups, %d failed, %d busy",
        summary.journals, summary.classes, summary.protections_written,
        summary.class_protections_written,
        summary.tally.journals_read, summary.tally.classes_read, summary.locked_unread,
        summary.days_locked,
        summary.periods_locked, summary.absence_days_locked, len(follow_up),
        len(summary.failed), len(summary.skipped_busy),
    )
    return summary


def _new_week(svc: Service, summary: LockSummary, now: datetime) -> None:
    """The diaries of the new week (period, configuration), rendered at night without a budget
    so the day's cycles are left the marks (``sync.jobs.diaries.render_new_basis``)."""
    result = render_new_basis(svc, now)
    if result is not None:
        summary.diaries = result.to_json()
        summary.failed += [FileProblem(f"diary of pupil {pid}", e) for pid, e in result.failed]


def _unread_changes(svc: Service, summary: LockSummary) -> dict[str, str] | None:
    """Files someone else changed since the sync cycle last read the change feed (their version
    is not the one the ledger expects after its own writes, ``sync.jobs.own_writes``), with that
    version — a peek: the cycle's token stays where it is. This job reads them before it writes
    their protection, so a teacher's change never waits behind the service's own write.

    ``None`` when the feed was reset (``FeedReset``: the sheets folder's manifest is a new or
    another one, e.g. the folder restored from a copy): the feed can no longer say what changed,
    so every file is taken as unread and read before its protection is written. Locking by time
    alone would be wrong here: a protection written over an unread change moves the file's
    modification time past the closing moment, and what was typed in time would then be taken
    for a late entry. This is no error (a reset means "read everything", as the sync cycle does);
    the token is left to the next cycle, which re-reads every file and re-makes what is gone."""
    remember_own_writes(svc)
    with svc.ledger.snapshot() as tx:
        token = tx.state_get(CHANGES_TOKEN_KEY)
        seen = {f.id: f.last_seen_version for f in tx.files()}
    if not token:
        return {}
    try:
        infos, _ = svc.backend.changes(token)
    except FeedReset as exc:
        log.warning("lock run: %s; reading every file before its protection", describe(exc))
        return None
    except BackendError as exc:
        summary.errors.append(f"change list: {describe(exc)}")
        return {}
    return {i.id: i.version for i in infos if not i.removed and i.version != seen.get(i.id)}


def _unread(unread: dict[str, str] | None, file_id: str) -> str | None:
    """The file's unread version; "" when it must be read though its version is unknown (after a
    feed reset: nothing recorded as seen, the next cycle reads it again); None: nothing unread."""
    return "" if unread is None else unread.get(file_id)


def _lock_journal(svc: Service, ref: JournalRef, now: datetime, summary: LockSummary,
                  labels: Labels, unread: str | None = None) -> bool:
    """If something of the journal closed and is not locked yet, or it changed since the last
    read (``unread``, see ``_unread``): ONE read (the proof asked right after it when something
    closed), taken into the ledger, which locks by time (``sync_journal``); then the protection
    set where it moved. Reading first keeps the proof clean: a protection written before the read would itself
    be a change after the closing moment. True if the next cycle must write to it."""
    with svc.ledger.snapshot() as tx:
        due = due_at(svc.school, tx, ref.key, ref.class_id, ref.lessons, now)
        taken_in = _taken_in(tx, ref) if due and unread is None else None
    read: JournalRead | None = None
    follow_up = False
    if taken_in and _unchanged(svc, ref.file.id, taken_in):
        with svc.ledger.transaction() as tx:  # again: inside the transaction that locks
            due = due_at(svc.school, tx, ref.key, ref.class_id, ref.lessons, now)
            totals = lock_due(tx, ref.key, ref.lessons, due, now)
        summary.locked_unread += 1
        _count_locks(summary, totals)
    elif due or unread is not None:
        read = read_journal(svc, ref, labels)
        with svc.ledger.transaction() as tx:
            plan = sync_journal(tx, svc, read, now, labels)
            if unread:  # the version the change feed named: taken in
                tx.file_seen(ref.file.id, unread, now)
        summary.tally.add(plan.tally)
        _count_locks(summary, plan.locks)
        follow_up = plan.needs_write or plan.error_findings > 0
    _protect_journal(svc, ref, now, summary, labels, read)
    return follow_up


def _taken_in(tx: Tx, ref: JournalRef) -> str | None:
    """The version of the journal the ledger has taken in whole — its last read accepted every
    cell (no open error finding: a typo or a refused value would be kept as typed at the lock,
    which needs the grid) and its writes landed (not on the dirty list) — or None."""
    record = tx.file(ref.file.id)
    if record is None or not record.last_seen_version or ref.file.id in tx.dirty_files():
        return None
    if any(f.severity == Severity.ERROR.value for f in tx.findings(ref.key)):
        return None
    return record.last_seen_version


def _unchanged(svc: Service, file_id: str, version: str) -> bool:
    """Whether Drive (or the filesystem) says the file is still at ``version``: then it stood as
    the ledger took it in when its windows closed — the proof a read would give, without the read.
    A failed question is no proof (the journal is read)."""
    try:
        return svc.backend.info(file_id).version == version
    except BackendError as exc:
        log.info("file %s: version unknown (%s); reading it to lock", file_id, describe(exc))
        return False


def _count_locks(summary: LockSummary, totals: LockTotals) -> None:
    summary.days_locked += totals.days
    summary.lessons_locked += totals.lessons
    summary.entries_locked += totals.entries
    summary.periods_locked += totals.periods
    summary.period_marks_locked += totals.period_marks


def _protect_journal(svc: Service, ref: JournalRef, now: datetime, summary: LockSummary,
                     labels: Labels, read: JournalRead | None) -> None:
    """Set the journal's open cells (at the positions just read, else at those of its last read,
    else at the expected layout's) when they differ from the ones recorded: one write, none
    otherwise."""
    file_id = ref.file.id
    with svc.ledger.snapshot() as tx:
        work_types = ledger_work_types(tx, ref.key)
        recorded = tx.recorded_open_ranges(file_id)
        protections = tx.protections(file_id)
        last = remembered_layout(tx, file_id) if read is None else None
        just_read = read.reading.map if read is not None and not read.reading.needs_repair \
            else None
        values = None if just_read is not None or last is not None \
            else ledger_values(tx, ref.key)
    state = journal_open_state(svc.school, ref.class_id, ref.lessons, now=now,
                               work_types=work_types)
    if just_read is not None:
        where = just_read
    elif last is not None:  # not read tonight: where its last read found the cells
        where = last
    else:  # the expected layout of the ledger's values
        spec = journal_spec(svc.school, ref.class_id, ref.subject_id, ref.lessons,
                            today=now.date(), existing=values, labels=labels)
        where = parse_journal(spec_grids(spec), svc.school, ref.class_id, ref.subject_id,
                              ref.lessons, labels=labels).map
    wanted = _open_ranges(where, ref, state)
    if encode_ranges(wanted) != recorded:
        _protect(svc, file_id, wanted, protections, summary, now)
        summary.protections_written += 1


def _lock_class(svc: Service, file: FileRecord, now: datetime, summary: LockSummary,
                labels: Labels, unread: str | None = None) -> bool:
    """A class spreadsheet as a journal: if attendance days closed and are not locked yet, ONE
    read (the proof asked right after it) taken into the ledger, which locks by time
    (``sync_class``); then its open attendance days set where they moved. True if the next cycle
    must write to it (reverts)."""
    school, today = svc.school, now.date()
    with svc.ledger.snapshot() as tx:
        due = absence_days_due(school, file.key, now, tx.absence_locked(file.key).days)
    read: ClassRead | None = None
    follow_up = False
    if due or unread is not None:
        read = read_class(svc, file, labels)
        with svc.ledger.transaction() as tx:
            plan = sync_class(tx, svc, read, now)
            if unread:
                tx.file_seen(file.id, unread, now)
        summary.tally.add(plan.tally)
        summary.absence_reasons_locked += plan.reasons_locked
        summary.absence_days_locked += plan.days_locked
        # «Нужна причина» alone moves every night as reason windows close: the next cycle's
        # ``follow_journals`` writes it at the positions just read, with no read of the page
        follow_up = plan.needs_write and not plan.needs_only
    with svc.ledger.snapshot() as tx:
        recorded = tx.recorded_open_ranges(file.id)
        protections = tx.protections(file.id)
    spec = class_spec(school, file.key, today=today, labels=labels)
    wanted = {t.title: list(t.open_ranges) for t in spec.tabs}
    if read is not None and not read.reading.needs_repair:
        open_days = school.policies.lock.absence_reason_open_days
        wanted.update(class_open_ranges(read.reading.map, today=today, open_days=open_days))
    if encode_ranges(wanted) != recorded:
        _protect(svc, file.id, wanted, protections, summary, now)
        summary.class_protections_written += 1
    return follow_up


def _open_ranges(where: JournalMap, ref: JournalRef, state: OpenState) -> dict[str, list[CellRange]]:
    return open_ranges(where, ref.lessons, state.mark_days, state.periods,
                       info_days=state.info_days)


def _protect(svc: Service, file_id: str, ranges: OpenRanges, protections: Mapping[str, int],
             summary: LockSummary, now: datetime) -> None:
    """One ``set_open_ranges``; after an uncertain failure, re-read and repeat only if needed."""
    try:
        svc.backend.set_open_ranges(file_id, ranges, protections)
    except TransientError as exc:
        if not exc.uncertain:
            raise
        summary.protections_rechecked += 1
        log.info("file %s: protection write uncertain; re-reading the protection state", file_id)
        if not same_cells(ranges, svc.backend.open_ranges(file_id)):
            svc.backend.set_open_ranges(file_id, ranges, protections)
    with svc.ledger.transaction() as tx:
        tx.record_open_ranges(file_id, ranges, now)


def _failed(summary: LockSummary, file_id: str, exc: EjournalError) -> None:
    if isinstance(exc, FileBusy):
        log.info("file %s busy: its lock is retried by the next sync cycle", file_id)
        summary.skipped_busy.append(file_id)
        return
    log.warning("file %s: lock failed: %s", file_id, describe(exc))
    summary.failed.append(FileProblem(file_id, describe(exc)))
