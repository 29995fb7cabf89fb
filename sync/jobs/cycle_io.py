"""A sync cycle's reads and writes (``sync.jobs.cycle``), and its early chunks.

With more changed journals than one minute of the read quota (``[backend] reads_per_minute``),
the cycle takes them chunk by chunk — read, commit, write, record — and only the last chunk
together with the class sheets, the admin spreadsheet, the rebuilds, the corrections, the
sharing and the diaries. The client's read and write buckets (``sync.backends.google.http``)
are then spent side by side: at Google's quota a cycle costs about max(reads, writes) minutes,
not their sum (issue 13), with exactly the same calls. The crash story holds: the first early
commit stores the new change token with every file the cycle will read on the dirty list, so a
crash re-reads what was not reached, and each chunk's commit and record shrink that list.
"""

from __future__ import annotations

import dataclasses
import json
import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from rules.errors import BackendError, LayoutError, SheetAccessError
from sync.backends.protocol import FileDamaged, Grid
from sync.jobs.class_sync import ClassPlan, ClassRead, read_class, write_class
from sync.jobs.file_failures import file_failed
from sync.jobs.journal_sync import (
    JournalPlan,
    JournalRead,
    JournalRef,
    read_journal,
    record_plan,
    sync_journal,
    write_plan,
)
from sync.jobs.service import Service
from sync.jobs.summary import CycleSummary
from sync.layout.labels import Labels
from sync.ledger.ledger import Tx
from sync.ledger.model import FileRecord
from sync.ledger.state import CHANGES_TOKEN_KEY, UNREAD_VERSIONS_KEY

log = logging.getLogger("sync.jobs.cycle")  # one cycle, one logger

Step = Callable[[str], None]


@dataclass
class Work:
    """What one cycle decided to handle."""

    journals: list[JournalRef] = field(default_factory=list)
    classes: list[FileRecord] = field(default_factory=list)
    admin: FileRecord | None = None
    rebuild: list[FileRecord] = field(default_factory=list)
    damaged: set[str] = field(default_factory=set)  # of those, set aside first (FileDamaged)
    versions: dict[str, str] = field(default_factory=dict)
    readable: set[str] = field(default_factory=set)  # what a dirty mark can make the cycle read
    diaries: set[str] = field(default_factory=set)  # diaries someone else edited


def chunk_size(svc: Service) -> int:
    """Journals per early chunk: one minute of the read quota."""
    return max(1, svc.school.backend.reads_per_minute)


def unread_versions(tx: Tx) -> dict[str, str]:
    """The change feed's versions of the files an early commit moved the token past before they
    were read (a crash since): the next cycle records them when it reads those files, so their
    teachers' changes are not taken for foreign again after its own writes."""
    text = tx.state_get(UNREAD_VERSIONS_KEY)
    return json.loads(text) if text else {}


def early_chunks(svc: Service, work: Work, summary: CycleSummary, step: Step, labels: Labels,
                 now: datetime, token: str, dirty: set[str]) -> set[str]:
    """Handle all but the last chunk of ``work.journals`` whole (see the module); leaves the last
    chunk in ``work``; returns the dirty list as the ledger holds it then."""
    size = chunk_size(svc)
    if len(work.journals) <= size:
        return dirty
    early, work.journals = work.journals[:-size], work.journals[-size:]
    later = {r.file.id for r in work.journals} | {f.id for f in work.classes}
    later |= {work.admin.id} if work.admin is not None else set()
    with svc.ledger.transaction() as tx:  # a crash from here on re-reads what was not reached
        dirty = (dirty & work.readable) | {r.file.id for r in early} | later
        tx.set_dirty_files(dirty, now)
        tx.state_set(CHANGES_TOKEN_KEY, token, now)
        # the feed's versions of what is not read yet: the token moves past them now
        tx.state_set(UNREAD_VERSIONS_KEY, json.dumps(
            {f: work.versions[f] for f in sorted(dirty) if f in work.versions}), now)
    for start in range(0, len(early), size):
        part = dataclasses.replace(work, journals=early[start:start + size], classes=[], admin=None)
        reads, _, failed = read_all(svc, part, summary, step, labels)
        plans: list[JournalPlan] = []
        with svc.ledger.transaction() as tx:
            for read in reads:
                plans.append(sync_journal(tx, svc, read, now, labels))
                summary.tally.add(plans[-1].tally)
                summary.locks.add(plans[-1].locks)
                if version := work.versions.get(read.ref.file.id):
                    tx.file_seen(read.ref.file.id, version, now)
            handled = {r.ref.file.id for r in reads}
            todo = {p.ref.file.id for p in plans if p.needs_write} | failed
            tx.set_dirty_files((tx.dirty_files() - handled) | todo, now)
        done = write_all(svc, plans, summary, step, now)
        written = [p for p in plans if p.ref.file.id in done]
        with svc.ledger.transaction() as tx:
            for plan in written:
                record_plan(tx, plan, labels, now)
            again = {p.ref.file.id for p in written  # a hidden id put back: read its row again
                     if any(t.id_fixes for t in p.reading.map.periods.values())}
            tx.set_dirty_files((tx.dirty_files() - done) | again, now)
            dirty = tx.dirty_files()
    return dirty


def read_all(svc: Service, work: Work, summary: CycleSummary, step: Step, labels: Labels
              ) -> tuple[list[JournalRead], Grid | None, set[str]]:
    reads: list[JournalRead] = []
    failed: set[str] = set()
    for ref in work.journals:
        try:
            reads.append(read_journal(svc, ref, labels))
        except (SheetAccessError, FileDamaged) as exc:
            log.warning("journal file %s cannot be read: rebuilding it", ref.file.id)
            work.rebuild.append(ref.file)
            work.damaged |= {ref.file.id} if isinstance(exc, FileDamaged) else set()
        except (BackendError, LayoutError) as exc:
            file_failed(summary, ref.file.id, "read", exc)
            failed.add(ref.file.id)
        step("read")
    admin_grid: Grid | None = None
    if work.admin is not None:
        try:
            tab = labels.corrections_tab
            admin_grid = svc.backend.read(work.admin.id, [tab]).get(tab, [])
        except SheetAccessError:  # gone: re-created from the ledger, as a journal is
            work.rebuild.append(work.admin)
        except (BackendError, LayoutError) as exc:
            file_failed(summary, work.admin.id, "read", exc)
            failed.add(work.admin.id)
        step("read")
    return reads, admin_grid, failed


def read_classes(svc: Service, work: Work, summary: CycleSummary, failed: set[str], step: Step,
                  labels: Labels) -> list[ClassRead]:
    """One read per changed class spreadsheet; a file gone is rebuilt, a failure retried."""
    reads: list[ClassRead] = []
    for record in work.classes:
        try:
            reads.append(read_class(svc, record, labels))
        except (SheetAccessError, FileDamaged) as exc:
            log.warning("class file %s cannot be read: rebuilding it", record.id)
            work.rebuild.append(record)
            work.damaged |= {record.id} if isinstance(exc, FileDamaged) else set()
        except (BackendError, LayoutError) as exc:
            file_failed(summary, record.id, "read", exc)
            failed.add(record.id)
        step("read")
    return reads


def write_all(svc: Service, plans: Sequence[JournalPlan | ClassPlan], summary: CycleSummary,
               step: Step, now: datetime) -> set[str]:
    """Each journal's and class spreadsheet's ONE write (or layout repair); ids fully handled."""
    done: set[str] = set()
    for plan in plans:
        file_id = plan.file.id
        if not plan.needs_write:
            continue
        try:
            if isinstance(plan, JournalPlan):
                summary.writes += write_plan(svc, plan, now)
            else:
                summary.writes += write_class(svc, plan, now)
        except (BackendError, LayoutError) as exc:
            file_failed(summary, file_id, "repair" if plan.repair else "write", exc)
            continue
        if plan.repair:
            summary.repaired.append(file_id)  # stays dirty: re-read at the repaired positions
        else:
            summary.reverts += plan.reverts
            done.add(file_id)
        step("write")
    return done


