"""The sync cycle (``ejournal sync``): Drive's change list → one read per changed journal → the
ledger in ONE transaction → the spreadsheet writes that are needed → a small record transaction.

Order and crash story (DESIGN.md §2, the phase-2 contract):

0. ``substitutions``: the day's substitutes get (and lose) writer access to their journals
   (``sync.jobs.substitutions``; no call unless one is due; a grant waits for the day's lock job).
1. ``changes``: the ledger state ``changes_token`` holds the backend's token; without one (the first
   cycle) a token is taken and every registered file counts as changed. A file whose version is
   the one the ledger expects after its own writes (``sync.jobs.own_writes``) is not re-read,
   unless it is on the ledger's dirty list (``sync.dirty``: its last handling is unfinished); any
   other version is someone else's change. A removed file is rebuilt from the ledger; a damaged
   one is set aside first (``sync.jobs.file_failures``).
2. ``read``: one ``backend.read`` per journal to handle (``journal_sync.read_journal``), per class
   spreadsheet ("Посещаемость": ``class_sync.read_class``) and of the admin spreadsheet's
   "Исправления" when it changed or corrections wait; before any ledger work.
3. ``commit``: one transaction takes every read into the ledger (``journal_sync.sync_journal``,
   ``class_sync.sync_class``: absence reasons, their findings and violations),
   stores the new token and the dirty list (every file that still needs a write or failed).
4. ``write``: per journal ONE write (reverts, "Замечания", service cells), per class spreadsheet
   one write of its reverts, only what changed; layout
   repairs; rebuilds; then the deputy's corrections (``sync.jobs.corrections.process_corrections``);
   then the sharing of files whose permissions moved in the change list, listed from Drive and
   repaired (``sync.jobs.acl.follow_sharing``); then the diaries whose content changed
   (``sync.jobs.diaries.run_diaries``).
5. ``record``: a small transaction: written tab hashes, reverted violations, the dirty list
   shrunk (and grown by the journals a correction just changed: the next cycle re-reads them so
   their findings and service cells follow the corrected value), the run's counters.

More changed journals than one minute of the read quota go through 2–5 chunk by chunk, only the
last with the class sheets, the admin, corrections, sharing and diaries (``sync.jobs.cycle_io``):
the same calls, with writes starting before the last read, so Google's two per-minute limits are
spent side by side.

A crash anywhere leaves the ledger at the last commit and the dirty list names what to re-read,
so the next cycle converges: reverts and findings are re-derived from grid vs ledger. Per-file
failures (busy, no access, quota, transient, layout) are counted with the file id and retried
next cycle; they never stop the other files. ``on_step`` is called after each step (and after
each file's read and write) with the step's name — a seam for tests that kill the process there.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, time

from rules.errors import BackendError, EjournalError
from sync.backends.protocol import FeedReset, FileInfo, Grid
from sync.jobs.acl import follow_configuration, follow_sharing
from sync.jobs.adopt import readopt_into
from sync.jobs.class_sync import (
    ClassPlan,
    follow_journals,
    record_class,
    sync_class,
)
from sync.jobs.corrections import corrected_journals, process_corrections
from sync.jobs.cycle_io import (
    Work,
    early_chunks,
    read_all,
    read_classes,
    unread_versions,
    write_all,
)
from sync.jobs.diaries import diary_budget, run_diaries
from sync.jobs.file_failures import file_failed, rebuild_files
from sync.jobs.journal_sync import (
    JournalPlan,
    journal_refs,
    record_plan,
    sync_journal,
)
from sync.jobs.locking import run_locks
from sync.jobs.own_writes import remember_own_writes
from sync.jobs.service import Service
from sync.jobs.signatures import signer_of_read
from sync.jobs.spreadsheets import gone_unread
from sync.jobs.substitutions import run_substitutions
from sync.jobs.summary import CycleSummary, FileProblem, calls_delta, describe
from sync.layout.labels import RU, Labels
from sync.ledger.ledger import Tx
from sync.ledger.model import FileKind, FileRecord
from sync.ledger.state import (
    CHANGES_TOKEN_KEY,
    CORRECTIONS_DEFERRED_KEY,
    CORRECTIONS_UNANSWERED_KEY,
    UNREAD_VERSIONS_KEY,
)

log = logging.getLogger(__name__)

Step = Callable[[str], None]


def _no_step(name: str) -> None:
    del name


def locked_today(tx: Tx, now: datetime) -> bool:
    """Whether a lock job started today (school time): only then do the journals' open cells
    belong to today, so a substitute may be let in (``sync_substitutions(grant=...)``)."""
    last = tx.last_run("lock")
    return last is not None and last.started >= datetime.combine(now.date(), time(0), now.tzinfo)


def run_cycle(svc: Service, *, on_step: Step | None = None, labels: Labels = RU) -> CycleSummary:
    """One sync cycle (see the module docstring); never raises for a per-file failure."""
    step = on_step or _no_step
    now = svc.now()
    before = svc.api_calls()
    summary = CycleSummary(started=now)
    readopt_into(svc, summary, now)
    with svc.ledger.transaction() as tx:
        run_id = tx.run_started("sync", now)
        token = tx.state_get(CHANGES_TOKEN_KEY)
        files = tx.files()
        waiting = int(tx.state_get(CORRECTIONS_DEFERRED_KEY) or 0)
        grant = locked_today(tx, now)
        pending = set(tx.pending_locks())
    if pending:
        pending = _retry_locks(svc, summary, pending, labels)
    with svc.ledger.snapshot() as tx:
        dirty = tx.dirty_files()  # after the retries: they add their follow-ups
        unread = unread_versions(tx)  # a chunked cycle's crash: versions past the token
    summary.substitutions = run_substitutions(svc, now, summary.errors, grant=grant,
                                              hold={f.key for f in files if f.id in pending})
    step("start")
    remember_own_writes(svc)  # before the feed: its versions include those changes

    reset = False
    try:
        infos = None
        if token is not None:
            try:
                infos, new_token = svc.backend.changes(token)
            except FeedReset as exc:  # a new manifest or folder: every registered file again
                log.warning("sync cycle: %s; reading every registered file", describe(exc))
                reset = True
        if infos is None:
            new_token = svc.backend.start_token()
            feed: dict[str, FileInfo | None] = {f.id: None for f in files}
            summary.first_cycle = True
        else:
            feed = {i.id: i for i in infos}
    except BackendError as exc:
        log.warning("sync cycle: change list failed: %s", describe(exc))
        summary.errors.append(f"change list: {describe(exc)}")
        return _finish(svc, summary, run_id, before)
    step("changes")

    work = _decide(svc, files, feed, dirty, waiting)
    for file_id, version in unread.items():
        work.versions.setdefault(file_id, version)
    if reset:  # the board and the diaries are never read: asked for once each, re-made if gone
        for record in gone_unread(svc, files):
            if record.kind is FileKind.DIARY:
                work.diaries.add(record.id)  # re-rendered whole: re-creates it
            else:
                work.rebuild.append(record)
    summary.files_changed = (len(work.journals) + len(work.classes) + len(work.rebuild)
                             + (work.admin is not None))
    dirty = early_chunks(svc, work, summary, step, labels, now, new_token, dirty)
    reads, admin_grid, failed = read_all(svc, work, summary, step, labels)
    class_reads = read_classes(svc, work, summary, failed, step, labels)

    plans: list[JournalPlan] = []
    class_plans: list[ClassPlan] = []
    with svc.ledger.transaction() as tx:
        for read in reads:
            plan = sync_journal(tx, svc, read, now, labels)
            plans.append(plan)
            summary.tally.add(plan.tally)
            summary.locks.add(plan.locks)
        for class_read in class_reads:
            class_plans.append(sync_class(tx, svc, class_read, now))
            summary.tally.add(class_plans[-1].tally)
        handled = {r.ref.file.id for r in reads} | {r.file.id for r in class_reads}
        if work.admin is not None and admin_grid is not None:
            handled.add(work.admin.id)
        for file_id in handled | work.diaries:  # what the ledger has taken in (or re-renders)
            version = work.versions.get(file_id)
            if version:
                tx.file_seen(file_id, version, now)
        todo = {p.ref.file.id for p in plans if p.needs_write} | failed
        todo |= {p.file.id for p in class_plans if p.needs_write}
        todo |= {f.id for f in work.rebuild}
        if work.admin is not None and admin_grid is not None:
            todo.add(work.admin.id)
            tx.state_set(CORRECTIONS_UNANSWERED_KEY, "1", now)  # until the pass decides them
        tx.set_dirty_files(((dirty & work.readable) - handled) | todo, now)
        tx.state_set(CHANGES_TOKEN_KEY, new_token, now)
        if unread or tx.state_get(UNREAD_VERSIONS_KEY):
            tx.state_set(UNREAD_VERSIONS_KEY, "", now)  # every dirty file read (or failed) now
        step("commit")
    step("committed")

    done = write_all(svc, [*plans, *class_plans], summary, step, now)
    summary.writes += follow_journals(svc, now, {p.file.id for p in class_plans})
    done |= rebuild_files(svc, work.rebuild, work.damaged, summary, now)
    admin = work.admin
    if admin is not None and admin_grid is not None and _corrections(
        svc, admin, admin_grid, feed.get(admin.id), summary, now
    ):
        done.add(admin.id)
    _sharing(svc, [i for i in feed.values() if i is not None], summary, now)
    _diaries(svc, work.diaries, summary, now)
    step("diaries")

    written = [p for p in plans if p.ref.file.id in done]
    with svc.ledger.transaction() as tx:
        for plan in written:
            record_plan(tx, plan, labels, now)
        for class_plan in class_plans:
            if class_plan.file.id in done:
                record_class(tx, class_plan, now)
        again = corrected_journals(tx, now) if (summary.corrections or {}).get("applied") else set()
        again |= {p.ref.file.id for p in written  # a hidden id put back: read its row next time
                  if any(t.id_fixes for t in p.reading.map.periods.values())}
        tx.set_dirty_files((tx.dirty_files() - done) | again, now)
    remember_own_writes(svc)
    step("recorded")
    return _finish(svc, summary, run_id, before)


def _retry_locks(svc: Service, summary: CycleSummary, pending: set[str], labels: Labels
                 ) -> set[str]:
    """The lock job again for the files whose lock work failed (minutes, not the next night);
    returns those still pending."""
    result = run_locks(svc, only=pending, labels=labels, substitutions=False)
    summary.locks_retried = result.journals + result.classes
    summary.locks.days += result.days_locked
    summary.locks.periods += result.periods_locked
    summary.tally.add(result.tally)
    summary.failed.extend(result.failed)
    summary.skipped_busy.extend(result.skipped_busy)
    summary.errors.extend(result.errors)
    return {p.file_id for p in result.failed} | set(result.skipped_busy)


def _decide(svc: Service, files: list[FileRecord], feed: dict[str, FileInfo | None],
            dirty: set[str], waiting: int) -> Work:
    work = Work()
    refs = journal_refs(svc.school, files)
    classes = {f.id for f in files
               if f.kind is FileKind.CLASS and svc.school.school_class(f.key) is not None}
    work.readable = set(refs) | classes | {f.id for f in files if f.kind is FileKind.ADMIN}
    for record in files:
        in_feed = record.id in feed
        info = feed.get(record.id)
        if info is not None:
            work.versions[record.id] = info.version
        if info is not None and info.removed:
            work.rebuild.append(record)
            continue
        foreign = info is not None and info.version != record.last_seen_version
        wanted = record.id in dirty or (in_feed and (info is None or foreign))
        if record.kind is FileKind.ADMIN and (wanted or waiting):
            work.admin = record
        elif wanted and record.id in refs:
            work.journals.append(refs[record.id])
        elif wanted and record.id in classes:
            work.classes.append(record)
        elif record.kind is FileKind.DIARY and foreign:
            work.diaries.add(record.id)
    return work


def _corrections(svc: Service, admin: FileRecord, grid: Grid, seen: FileInfo | None,
                 summary: CycleSummary, now: datetime) -> bool:
    """The deputy's signed rows (after the journals' own writes, so a corrected cell is never
    mistaken for tampering); True when everything was answered."""
    try:
        signer = signer_of_read(svc, admin.id, seen)
        result = process_corrections(svc, grid, now=now, signer=signer)
    except EjournalError as exc:
        file_failed(summary, admin.id, "corrections", exc)
        return False
    summary.corrections = result.to_json()
    summary.writes += result.writes
    return not result.errors


def _sharing(svc: Service, infos: list[FileInfo], summary: CycleSummary, now: datetime) -> None:
    """A new configuration's access applied; files whose sharing moved in the change list listed
    and repaired (``sync.jobs.acl``)."""
    result = follow_sharing(svc, infos, now)  # first: the change list predates own changes
    if result is not None:
        summary.acl = result.to_json()
        summary.failed += [FileProblem(d.file_id, f"acl {e}") for d, e in result.failed]
    follow_configuration(svc, now)


def _diaries(svc: Service, edited: set[str], summary: CycleSummary, now: datetime) -> None:
    """The diaries whose content changed, after the journals' writes and the corrections, as many
    as the cycle's diary budget allows (the oldest changes first)."""
    result = run_diaries(svc, now, edited=edited, budget=diary_budget(svc.school))
    summary.diaries = result.to_json()
    summary.writes += result.writes
    summary.failed += [FileProblem(f"diary of pupil {pid}", e) for pid, e in result.failed]


def _finish(svc: Service, summary: CycleSummary, run_id: int, before: dict[str, float]
            ) -> CycleSummary:
    summary.api_calls = calls_delta(before, svc.api_calls())
    summary.finished = svc.now()
    error = "; ".join(summary.errors) or None
    with svc.ledger.transaction() as tx:  # open: all the ledger holds, read this time or not
        summary.tally.findings_open = tx.open_findings_count()
        tx.run_finished(run_id, summary.finished, summary.counters(), error)
    t = summary.tally
    log.info(
        "sync cycle: %d files changed, %d journals and %d classes read, %d entries and %d "
        "absence reasons accepted, %d findings opened, %d resolved, %d violations, %d reverts, "
        "%d writes, %d failed, %d busy",
        summary.files_changed, t.journals_read, t.classes_read, t.entries_accepted,
        t.absences_accepted, t.findings_opened,
        t.findings_resolved, t.violations, summary.reverts, summary.writes, len(summary.failed),
        len(summary.skipped_busy),
    )
    return summary
