"""One journal through the cycle: read → parse → validate → accept → tamper check → service writes.

The three phases keep the cycle's crash story simple (DESIGN.md §2):

1. :func:`read_journal` — ONE ``backend.read`` of the period tabs and "Уроки" (a metadata read only
   after :class:`~sync.backends.protocol.TabMissing`), then ``parse_journal`` of every tab but the
   settled ones (``sync.jobs.settled``: a closed quarter unchanged since a read found it equal to
   the ledger); the ledger only for what closed.
2. :func:`sync_journal` — inside the cycle's single ledger transaction: tampering with cells locked
   in the ledger becomes violations (audited) and planned reverts; valid open cells are accepted
   (first-seen time, attributed teacher), erased ones recorded; lesson facts offered; findings
   synced. Returns a :class:`JournalPlan` of spreadsheet writes; nothing is written here. Invalid
   text in a cell the lock job locks is kept as typed (``INVALID_KIND``): no revert, no violation;
   its finding stays, noting that only the deputy's correction can change it now.
3. :func:`write_plan` after the commit — ONE ``backend.write`` (reverts, "Замечания" if its hash
   changed, service cells that differ from the read), or the layout repair; then
   :func:`record_plan` in a second small transaction (tab hash, violations reverted).

Reverts and findings are re-derived from grid vs ledger on every read, so a crash between the
phases is healed by the next cycle (the engine keeps the file on its dirty list until then).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial

from config.school import School
from rules.assessment import journal_grammar
from rules.model import Finding, Lesson, Location, Severity
from rules.validation import validate
from sync.backends.protocol import CellRange, Grid, TabMissing
from sync.jobs.closing import (
    Due,
    LockTotals,
    due_at,
    late_findings,
    lock_due,
    proven_work_types,
)
from sync.jobs.findings_tab import findings_update
from sync.jobs.journal_accept import accept_marks, accept_period_marks
from sync.jobs.journal_cells import compare, validation_context
from sync.jobs.journal_layout import remember_layout
from sync.jobs.journal_service import (
    deviation_findings,
    recommendations,
    service_values,
    work_types,
)
from sync.jobs.repair import repair_journal
from sync.jobs.repair_findings import dropped_findings, remember_dropped, repaired_map
from sync.jobs.service import Service, split_journal_key
from sync.jobs.settled import (
    carried,
    carried_findings,
    clean_tabs,
    closed_periods,
    first_open_day,
    grid_digest,
    open_tabs,
    settled_days,
)
from sync.jobs.summary import Tally
from sync.jobs.tamper import SheetPlan, mark_reverted, record_violations
from sync.layout.common import StructureProblem, stale_updates
from sync.layout.journal.moves import relocate
from sync.layout.journal.spec import (
    JournalReading,
    ServiceValues,
    parse_journal,
    render_service_columns,
)
from sync.layout.labels import RU, Labels
from sync.ledger.findings import FindingRow
from sync.ledger.ledger import Tx
from sync.ledger.model import CellRef, Field, FileKind, FileRecord

log = logging.getLogger(__name__)

SEALED_NOTE = (  # appended to the error findings of a cell locked holding invalid text
    "Значение осталось недопустимым, а клетка уже закрыта: изменить его теперь можно только "
    "исправлением заместителя директора (лист «{tab}»)."
)


# --------------------------------------------------------------------------- which journal


@dataclass(frozen=True)
class JournalRef:
    """A registered journal file and what the configuration says it holds."""

    file: FileRecord
    class_id: str
    subject_id: str
    lessons: list[Lesson]

    @property
    def key(self) -> str:
        return self.file.key


def journal_refs(school: School, files: Sequence[FileRecord]) -> dict[str, JournalRef]:
    """Registered journal files of journals the configuration still has, by file id."""
    lessons = school.lessons()
    wanted = set(school.journals())
    out: dict[str, JournalRef] = {}
    for record in files:
        if record.kind is not FileKind.JOURNAL:
            continue
        class_id, subject_id = split_journal_key(record.key)
        if (class_id, subject_id) not in wanted:
            continue
        ordered = sorted(lessons.get((class_id, subject_id), []), key=lambda x: (x.day, x.lesson_no))
        out[record.id] = JournalRef(record, class_id, subject_id, ordered)
    return out


# --------------------------------------------------------------------------- 1. read


@dataclass(frozen=True)
class JournalRead:
    """One read: the grids, their parse, when the read finished, and — when something of the
    journal had closed by then — the file's last modification asked right after the read (None:
    not asked, or not known), the proof the time locks need (``sync.jobs.closing``)."""

    ref: JournalRef
    grids: dict[str, Grid]
    reading: JournalReading
    read_at: datetime
    modified: datetime | None = None
    closed: Mapping[str, bytes] = field(default_factory=dict)  # closed period → grid digest


def journal_titles(school: School, labels: Labels = RU, class_id: str = "") -> list[str]:
    """The tabs a cycle reads: every period tab of the class's grade and "Уроки" ("Замечания"
    is written blind)."""
    return [p.name for p in school.periods_of(class_id)] + [labels.lessons_tab]


def read_journal(svc: Service, ref: JournalRef, labels: Labels = RU) -> JournalRead:
    """One read of the journal (plus a tab list after TabMissing), parsed."""
    backend, file_id = svc.backend, ref.file.id
    try:
        grids = backend.read(file_id, journal_titles(svc.school, labels, ref.class_id))
        grids.setdefault(labels.findings_tab, [])  # not read: only ever written by the service
    except TabMissing:
        present = backend.tabs(file_id)
        wanted = [t for t in present if t != labels.findings_tab]
        grids = backend.read(file_id, wanted) if wanted else {}
        if labels.findings_tab in present:
            grids[labels.findings_tab] = []
    read_at = svc.now()
    with svc.ledger.snapshot() as tx:
        states = tx.lesson_states(ref.key)
        due = due_at(svc.school, tx, ref.key, ref.class_id, ref.lessons, read_at, held=states)
        closed = closed_periods(tx, ref.key, ref.lessons, states)
    modified = backend.info(file_id).modified if due else None
    digests = {p: grid_digest(grids[p]) for p in closed if isinstance(grids.get(p), list)}
    settled = svc.settled.maps(ref.key, digests)
    reading = parse_journal(grids, svc.school, ref.class_id, ref.subject_id, ref.lessons,
                            labels=labels, settled=settled)
    if reading.settled and reading.needs_repair:  # a repair re-lays every tab: take them whole
        reading = parse_journal(grids, svc.school, ref.class_id, ref.subject_id, ref.lessons,
                                labels=labels)
    return JournalRead(ref, grids, reading, read_at, modified, digests)


# --------------------------------------------------------------------------- 2. the ledger


@dataclass(kw_only=True)
class JournalPlan(SheetPlan):
    """What a journal's spreadsheet needs after the commit (a repair goes to ``sync.jobs.repair``)."""

    ref: JournalRef
    reading: JournalReading
    findings_hash: str | None = None  # hash of "Замечания" to record once written
    error_findings: int = 0
    locks: LockTotals = field(default_factory=LockTotals)  # what this read locked in the ledger
    service: ServiceValues | None = None  # a repair's service cells, at the repaired positions


def sync_journal(tx: Tx, svc: Service, read: JournalRead, now: datetime,
                 labels: Labels = RU) -> JournalPlan:
    """Take one journal's read into the ledger (see the module docstring); returns its plan.

    Time locks (``sync.jobs.closing``): what closed by the read's time and is not locked yet is
    locked here — the parts the read proves (the file unchanged since they closed) after their
    values are accepted, the others BEFORE the comparison, so a value they show differently from
    the ledger is a late entry, never accepted."""
    school, ref, reading = svc.school, read.ref, read.reading
    key, grammar = ref.key, journal_grammar(school.policies.grammar,
                                            school.assessment_of(ref.class_id, ref.subject_id))
    plan = JournalPlan(file=ref.file, ref=ref, reading=reading, repair=reading.needs_repair,
                       tally=Tally(journals_read=1))
    remember_layout(tx, ref.file.id, None if reading.needs_repair else reading.map, now)
    states = tx.lesson_states(key)
    due = due_at(school, tx, key, ref.class_id, ref.lessons, read.read_at, held=states)
    proven, unproven = due.split(read.modified)
    typed = proven_work_types({k: x.work_type for k, x in reading.lessons.items()}, proven)
    if typed:  # the grace of those days' marks follows the work types the read proves
        due = due_at(school, tx, key, ref.class_id, ref.lessons, read.read_at, typed, states)
        proven, unproven = due.split(read.modified)
    early = lock_due(tx, key, ref.lessons, unproven, now)
    plan.locks.add(early)
    since = first_open_day(reading, ref.lessons)  # the settled tabs' cells are not compared
    locked = tx.locked(key, since=since)
    cmp = compare(reading, locked, ref.lessons, grammar)
    days = settled_days(reading, ref.lessons)  # skipped by the lesson rules, findings carried
    ctx = validation_context(school, key, ref.class_id, ref.lessons, cmp, reading, now=now,
                             settled_days=days)
    rule_findings = validate(ctx)
    bad = {f.location.cell for f in rule_findings
           if f.severity is Severity.ERROR and f.location.cell}
    plan.error_findings = sum(f.severity is Severity.ERROR for f in rule_findings)

    violations, late = record_violations(tx, key, cmp.reverts, cmp.matched_targets(), now,
                                         late=lambda target: _in(target, unproven))
    plan.tally.violations += violations
    plan.tally.late_entries += late
    sealed = set(cmp.sealed)
    plan.tally.entries_accepted += accept_marks(tx, school, ref, cmp.marks, bad, now,
                                                 proven.mark_lessons(ref.lessons), sealed,
                                                 locked.held)
    plan.tally.entries_accepted += accept_period_marks(tx, school, ref, cmp.period_marks, bad,
                                                        now, set(proven.periods), sealed)
    # the early locks may have added (empty) lesson rows: read them again only then
    held = set(tx.lesson_states(key) if early.days else states)
    offer = [x for k, x in cmp.lessons.items() if any(x.facts().values()) or k in held]
    plan.tally.lessons_changed = sum(c.changed for c in tx.upsert_lessons(key, offer, now))
    plan.locks.add(lock_due(tx, key, ref.lessons, proven, now))

    names, codes = work_types(school.policies, cmp.effective_facts)
    recs = recommendations(school, ref.subject_id, ref.lessons, tx.entry_values(key, since=since),
                           codes, kept=svc.grades, journal=key)
    note = SEALED_NOTE.format(tab=labels.corrections_tab)
    findings = [
        *(_sealed(f, sealed, note) for f in rule_findings),
        *structure_findings(key, reading.problems),
        *deviation_findings(school, ctx, ctx.period_entries, recs),
        *late_findings(key, tx.late_entries(key), ctx.pupil_name),
    ]
    if plan.repair:  # «Замечания» rides in the repair's write: cells where they will be
        remember_dropped(tx, ref.file.id, reading, read.grids, now)
    findings += dropped_findings(tx, ref.file.id, key, ctx.pupil_name, now)
    if plan.repair:
        after = repaired_map(svc, tx, key, ref.class_id, ref.subject_id, reading, now)
        findings = relocate(findings, reading.map, after, set(reading.repair_tabs))
    keep = carried(reading, days)
    opened, resolved = tx.sync_findings(key, findings, now, keep=keep)
    open_now = tx.open_findings(key)  # their times are read only if «Замечания» is rendered
    plan.tally.findings_opened, plan.tally.findings_resolved = opened, resolved
    plan.tally.findings_open = len(open_now)
    if plan.repair:  # positions move: the repair's write carries findings and service cells
        plan.service = service_values(names, recs, findings, after)
        return plan

    plan.plan_reverts(cmp.reverts)
    plan.updates.extend(_findings_update(tx, svc, ref, open_now, plan, now, labels))
    where = open_tabs(reading)  # a settled tab's service cells are not rendered again
    service = service_values(names, recs, [*rule_findings, *carried_findings(open_now, keep)], where)
    plan.updates.extend(stale_updates(read.grids, render_service_columns(where, service, school=school)))
    reverted = {r.where.tab for r in cmp.reverts}
    for period, digest, tab in clean_tabs(reading, read.grids, read.closed, plan.updates, reverted):
        tx.after_commit(partial(svc.settled.remember, key, period, digest, tab))
    return plan


def _in(target: CellRef, due: Due) -> bool:
    """Whether a cell belongs to a part of ``due`` (a day's marks or facts, a period's marks)."""
    if target.field is Field.PERIOD_MARK:
        return target.period in due.periods
    if target.field is Field.MARK:
        return target.day in due.mark_days
    return target.day in due.info_days


def _sealed(finding: Finding, sealed: set[str], note: str) -> Finding:
    """An error finding of a cell locked holding invalid text, with the note on what to do now."""
    if finding.severity is not Severity.ERROR or finding.location.cell not in sealed:
        return finding
    return Finding(finding.rule, finding.severity, finding.location, f"{finding.message} {note}")


def structure_findings(journal: str, problems: Sequence[StructureProblem]) -> list[Finding]:
    """The parser's structure problems as warnings for "Замечания" (Russian messages)."""
    return [
        Finding(f"layout_{p.kind.value}", Severity.WARNING,
                Location(journal, None, None, None, p.cell), p.message)
        for p in problems
    ]


def _findings_update(tx: Tx, svc: Service, ref: JournalRef, open_now: list[FindingRow],
                     plan: JournalPlan, now: datetime, labels: Labels
                     ) -> list[tuple[CellRange, Grid]]:
    """"Замечания" rewritten whole, only when its content hash moved (``sync.jobs.findings_tab``)."""
    updates, digest = findings_update(tx, ref.file.id, open_now, svc.school.timezone, now, labels,
                                      svc.shown_findings, tx.after_commit,
                                      records=lambda: tx.findings(ref.key))
    if digest is not None:
        plan.findings_hash = digest
    return updates


# --------------------------------------------------------------------------- 3. writes


def write_plan(svc: Service, plan: JournalPlan, now: datetime) -> int:
    """The plan's spreadsheet calls after the commit; returns the number of write calls made.

    A repair goes to ``sync.jobs.repair.repair_journal`` (which re-renders from the ledger); a write
    hitting a deleted "Замечания" tab asks for the same repair without a reading.
    """
    if plan.repair:
        return repair_journal(svc, plan.ref.file, plan.reading, now=now, with_findings=True,
                              service=plan.service).writes
    if not plan.updates:
        return 0
    try:
        svc.backend.write(plan.ref.file.id, plan.updates)
    except TabMissing:
        log.warning("journal file %s: a tab vanished before the write; repairing", plan.ref.file.id)
        plan.repair = True
        return repair_journal(svc, plan.ref.file, None, now=now).writes
    return 1


def record_plan(tx: Tx, plan: JournalPlan, labels: Labels, now: datetime) -> None:
    """After a successful write: the findings tab's hash and the violations now reverted."""
    if plan.repair:
        return
    if plan.findings_hash is not None:
        tx.set_tab_hash(plan.ref.file.id, labels.findings_tab, plan.findings_hash, now)
    mark_reverted(tx, plan.ref.key, plan.revert_targets, now)
