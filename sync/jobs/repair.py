"""Structure damage repaired from the ledger, with no loss (DESIGN.md §2, R16).

* :func:`repair_journal` — a journal whose tabs were renamed, deleted or damaged beyond reading
  (the parser says ``needs_repair``, or a read/write met ``TabMissing``): renamed tabs get their
  titles back (their content was readable, nothing is re-rendered), damaged or missing tabs are
  re-laid out in ONE ``replace_tabs`` write from the ledger's accepted values — overlaid with what
  the read found in cells that are still open, so a teacher's not-yet-accepted input survives.
  Cells the parser could not place on a replaced tab are kept in the audit event.
* :func:`rebuild_file` — the whole file is gone: created anew from the ledger, re-registered
  under the same kind and key (audited ``setup.created`` with ``replaces``), re-shared.
* :func:`rebuild_all` — ``ejournal rebuild``: every spreadsheet re-rendered from the ledger,
  the teachers' board with the newest weekly analysis.

Sorted rows and inserted columns need no repair: the parser reads by hidden ids and dates.
"""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from config.school import BackendKind
from rules.errors import BackendError, LayoutError, StoreError
from sync.backends.protocol import FileBusy, FileDamaged, Grid, SpreadsheetSpec
from sync.jobs.board import publish_board, rebuild_board
from sync.jobs.diaries import rebuild_diary, run_diaries
from sync.jobs.findings_tab import as_finding
from sync.jobs.journal_layout import remember_layout
from sync.jobs.journal_service import ledger_service
from sync.jobs.own_writes import remember_own_writes
from sync.jobs.repair_tabs import restore_tabs
from sync.jobs.service import Service, split_journal_key
from sync.jobs.spreadsheets import (
    create_file,
    expected_files,
    file_spec,
    is_present,
    ledger_values,
)
from sync.layout.common import cell_text, overlaid, spec_grids
from sync.layout.journal.moves import placed, tab_of
from sync.layout.journal.spec import (
    JournalReading,
    JournalValues,
    LessonFacts,
    ServiceValues,
    parse_journal,
    render_findings,
    render_service_columns,
)
from sync.layout.labels import RU, Labels
from sync.ledger.audit import content_hash
from sync.ledger.model import (
    EntryRecord,
    FileKind,
    FileRecord,
    FileStatus,
    FindingRecord,
    LessonRecord,
    LockedView,
)
from sync.ledger.state import FINDINGS_ROWS_KEY

log = logging.getLogger(__name__)

REBUILT_KINDS = (FileKind.JOURNAL, FileKind.CLASS, FileKind.ADMIN)


@dataclass
class RepairOutcome:
    """What one repair did to one file (``writes``: backend write calls made)."""

    file_id: str
    renamed: list[tuple[str, str]] = field(default_factory=list)  # (title found, title restored)
    replaced: list[str] = field(default_factory=list)  # tabs re-laid out from the ledger
    dropped: int = 0  # unplaceable cells on replaced tabs (their text is in the audit event)
    writes: int = 0

    @property
    def repaired(self) -> bool:
        return bool(self.renamed or self.replaced)


def repair_journal(
    svc: Service,
    file: FileRecord,
    reading: JournalReading | None,
    *,
    now: datetime,
    labels: Labels = RU,
    with_findings: bool = False,
    service: ServiceValues | None = None,
) -> RepairOutcome:
    """Restore a journal's renamed, damaged or missing tabs (see the module docstring).

    ``reading`` is the parse of the cycle's read; None after :class:`~sync.backends.protocol.TabMissing`,
    then the tab list and the tabs present are read here (1 metadata read + 1 read).
    ``with_findings``: «Замечания» is re-laid out in the same write (the cycle's findings, their
    cells already where the repair puts them: ``sync.jobs.repair_findings``); ``service``: the
    cycle's service cells at the repaired positions (None: computed from the ledger).
    """
    if reading is None:
        reading = read_whole_journal(svc, file, labels)
    wanted = [reading.renames.get(t, t) for t in reading.repair_tabs]
    if with_findings and wanted and labels.findings_tab not in wanted:
        wanted.append(labels.findings_tab)
    return _restore(svc, file, reading, wanted, now, labels, service)


def read_whole_journal(svc: Service, file: FileRecord, labels: Labels = RU) -> JournalReading:
    """Every tab the journal has now, parsed ("Замечания" is only checked for presence)."""
    class_id, subject_id = split_journal_key(file.key)
    present = svc.backend.tabs(file.id)
    titles = [t for t in present if t != labels.findings_tab]
    grids: dict[str, Grid] = svc.backend.read(file.id, titles) if titles else {}
    if labels.findings_tab in present:
        grids[labels.findings_tab] = []
    lessons = svc.school.lessons().get((class_id, subject_id), [])
    return parse_journal(grids, svc.school, class_id, subject_id, lessons, labels=labels)


def _restore(svc: Service, file: FileRecord, reading: JournalReading, wanted: Collection[str],
             now: datetime, labels: Labels, service: ServiceValues | None = None) -> RepairOutcome:
    """Rename tabs back, then re-lay out the ``wanted`` titles from the ledger in one write, the
    service cells (averages, recommendations, work types, «Статус») filled in: the cycle's
    ``service`` (its findings already at the repaired cells), else from the ledger (``rebuild``:
    the findings named at the cells of their pupil and date in the new layout)."""
    outcome = RepairOutcome(file.id)
    for old, new in reading.renames.items():
        svc.backend.rename_tab(file.id, old, new)
        outcome.renamed.append((old, new))
        outcome.writes += 1
    protections: dict[str, int] = {}
    dropped: list[dict[str, str]] = []
    shown: Grid = []
    if wanted:
        with svc.ledger.snapshot() as tx:
            values = with_open_cells(ledger_values(tx, file.key), reading, tx.locked(file.key))
            records, entries, facts = tx.findings(file.key), tx.entries(file.key), \
                tx.lessons(file.key)
        spec = file_spec(svc, FileKind.JOURNAL, file.key, now=now, journal=values)
        shown, spec = _filled(svc, file.key, spec, reading, service, records, entries, facts,
                              wanted, labels)
        tabs = [t for t in spec.tabs if t.title in wanted]
        protections = dict(svc.backend.replace_tabs(file.id, tabs) or {})
        outcome.replaced = [t.title for t in tabs]
        outcome.writes += 1
        sources = {old for old, new in reading.renames.items() if new in wanted} | set(wanted)
        dropped = unplaced_cells(reading, sources)
        outcome.dropped = len(dropped)
    with svc.ledger.transaction() as tx:
        if protections:
            tx.set_protections(file.id, protections)
        if outcome.repaired:  # the next cycle re-reads it, though the service wrote it last
            tx.add_dirty_files({file.id}, now)
        if outcome.replaced:  # the next lock run sets every tab's open cells again, where
            tx.record_open_ranges(file.id, None, now)  # the layout (not the last read) says
            remember_layout(tx, file.id, None, now)
        if labels.findings_tab in outcome.replaced:  # re-laid out with the open findings
            tx.set_tab_hash(file.id, labels.findings_tab, content_hash(shown), now)
            tx.state_set(FINDINGS_ROWS_KEY.format(file_id=file.id), str(len(shown)), now)
        if file.status is not FileStatus.OK:
            tx.set_file_status(file.id, FileStatus.OK)
        if outcome.repaired:
            payload: dict[str, Any] = {
                "file": file.id,
                "journal": file.key,
                "renamed": [list(pair) for pair in outcome.renamed],
                "replaced": outcome.replaced,
            }
            if dropped:
                payload["dropped"] = dropped
            tx.audit_append("repair.journal", payload, now)
    log.info(
        "journal file %s repaired: %d tab(s) renamed back, %d re-laid out, %d cell(s) dropped",
        file.id,
        len(outcome.renamed),
        len(outcome.replaced),
        outcome.dropped,
    )
    return outcome


def _filled(svc: Service, key: str, spec: SpreadsheetSpec, reading: JournalReading,
            service: ServiceValues | None, records: Sequence[FindingRecord],
            entries: Sequence[EntryRecord], facts: Sequence[LessonRecord],
            wanted: Collection[str], labels: Labels) -> tuple[Grid, SpreadsheetSpec]:
    """«Замечания» as shown after the repair, and the spec with its service cells filled in."""
    class_id, subject_id = split_journal_key(key)
    lessons = sorted(svc.school.lessons().get((class_id, subject_id), []),
                     key=lambda x: (x.day, x.lesson_no))
    where = parse_journal(spec_grids(spec), svc.school, class_id, subject_id, lessons).map
    items = [(as_finding(r), r.opened.astimezone(svc.school.timezone).date()) for r in records]
    if service is None:  # rebuild: cells recorded at the last read, moved to the new layout
        items = placed(items, where, set(wanted))
        service = ledger_service(svc.school, subject_id, lessons, facts, entries,
                                 [f for f, _ in items], where)
    shown = render_findings(items, labels=labels)
    updates = render_service_columns(where, service, school=svc.school)
    tabs = tuple(replace(t, rows=shown) if t.title == labels.findings_tab
                 else replace(t, rows=overlaid(t.rows, updates, t.title)) for t in spec.tabs)
    return shown, replace(spec, tabs=tabs)


def with_open_cells(
    values: JournalValues, reading: JournalReading, locked: LockedView
) -> JournalValues:
    """The ledger's values, with every cell that is still open as the read found it (typed,
    changed or erased): re-rendering never takes back what a teacher may still edit."""
    entries = dict(values.entries)
    where = reading.map
    for pupil, day, no in list(entries):
        if locked.mark(pupil, day, no) is None and where.cell(pupil, (day, no)) is not None:
            del entries[(pupil, day, no)]  # read and empty now: the teacher erased it
    for e in reading.entries:
        if locked.mark(e.pupil_id, e.day, e.lesson_no) is None:
            entries[(e.pupil_id, e.day, e.lesson_no)] = cell_text(e.raw)
    periods = dict(values.period_marks)
    for pupil, period in list(periods):
        if locked.period_mark(pupil, period) is None and where.period_mark_cell(pupil, period):
            del periods[(pupil, period)]
    for p in reading.period_marks:
        if locked.period_mark(p.pupil_id, p.period) is None:
            periods[(p.pupil_id, p.period)] = cell_text(p.raw)
    lessons = dict(values.lessons)
    for lesson, facts in reading.lessons.items():
        if lesson not in locked.info:
            lessons[lesson] = LessonFacts(
                facts.topic, facts.classwork, facts.work_type, facts.homework
            )
    return JournalValues(entries, periods, lessons)


def unplaced_cells(reading: JournalReading, tabs: Collection[str]) -> list[dict[str, str]]:
    """Non-empty cells of ``tabs`` the parser did not take (stray dates, junk, service text)."""
    out = [{"cell": c.cell, "raw": cell_text(c.raw)} for c in reading.ignored]
    out += [{"cell": s.cell, "raw": cell_text(s.raw)} for s in reading.stray]
    return [item for item in out if tab_of(item["cell"]) in tabs]


def rebuild_file(svc: Service, file: FileRecord, *, now: datetime) -> FileRecord:
    """The file is gone: create it anew from the ledger, register it under the same kind and key
    (the old record is replaced; audited), share it again; the next cycle re-reads it. Locally the
    gone file's manifest entry (a private manifest outlives the sheets folder) is dropped first,
    else the file would come back as «… (2)»."""
    if svc.school.backend.kind is BackendKind.LOCAL:
        try:
            svc.backend.delete(file.id)  # nothing to move: only the manifest entry goes
        except BackendError as exc:
            log.info("file %s: entry kept before the rebuild (%s)", file.id, type(exc).__name__)
    if file.kind is FileKind.DIARY:
        return rebuild_diary(svc, file, now=now)
    if file.kind is FileKind.BOARD:
        return rebuild_board(svc, now)
    if file.kind not in REBUILT_KINDS:
        raise LayoutError(
            f"file {file.id}: {file.kind.value} spreadsheets are not rebuilt here",
            "run the job that builds them",
        )
    spec = file_spec(svc, file.kind, file.key, now=now)
    record, changes = create_file(svc, file.kind, file.key, spec, now=now)
    if changes.failed:
        log.warning("file %s rebuilt as %s, but not fully shared", file.id, record.id)
    with svc.ledger.transaction() as tx:
        tx.add_dirty_files({record.id}, now)
    log.info("file %s rebuilt from the ledger as %s", file.id, record.id)
    return record


def set_aside(svc: Service, record: FileRecord) -> None:
    """Move a damaged file out of the way (the backend keeps it: ``.trash/`` on the local one),
    so that its rebuild takes its own name, never «(2)»."""
    log.warning("file %s is damaged: set aside, rebuilt from the ledger", record.id)
    svc.backend.delete(record.id)


@dataclass
class RebuildSummary:
    """``ejournal rebuild``: what happened to each spreadsheet ("journal 7Б/math")."""

    created: list[str] = field(default_factory=list)  # never made before (setup's job, done here)
    rebuilt: list[str] = field(default_factory=list)  # gone: made anew from the ledger
    rerendered: list[str] = field(default_factory=list)  # re-laid out in place
    intact: list[str] = field(default_factory=list)  # class/admin tabs that read fine (kept)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, error)
    set_aside: list[str] = field(default_factory=list)  # damaged: kept aside, then rebuilt

    def to_json(self) -> dict[str, Any]:
        return {
            "created": list(self.created),
            "rebuilt": list(self.rebuilt),
            "rerendered": list(self.rerendered),
            "intact": list(self.intact),
            "failed": [list(item) for item in self.failed],
            "set_aside": list(self.set_aside),
        }


def rebuild_all(svc: Service, *, now: datetime, labels: Labels = RU) -> RebuildSummary:
    """Re-render every spreadsheet from the ledger (R16: the answer to a vandalised school).

    Journals are re-laid out in place (same file, same sharing; renamed tabs renamed back) from
    the ledger, overlaid with their open cells as read now. Class and admin spreadsheets hold
    what the ledger does not (rosters being edited, the deputy's rows): only their damaged or
    missing tabs are re-laid out, absence reasons from the ledger (days still open as read). A
    file that is gone is rebuilt, one never made is created; one damaged (or whose bytes do not
    parse while no program holds it open: a person asked) is set aside, then rebuilt. Every
    pupil's diary is re-laid out whole from the ledger (or created). Failures are per file. A
    ledger that fails ``audit verify`` (a forged master copy) is refused before anything is
    published.
    """
    report = svc.ledger.audit_verify()
    if not report.ok:
        raise StoreError(
            f"rebuild refused: the ledger does not verify ({len(report.problems)} problems;"
            f" the first: {report.problem})",
            "run `ejournal audit verify` to see them, then restore the newest good backup",
        )
    summary = RebuildSummary()
    with svc.ledger.snapshot() as tx:
        records = {(f.kind, f.key): f for f in tx.files()}
    touched: set[str] = set()
    for kind, key in expected_files(svc.school):
        label = f"{kind.value} {key}"
        record = records.get((kind, key))
        try:
            try:
                if record is None:
                    spec = file_spec(svc, kind, key, now=now)
                    new, _ = create_file(svc, kind, key, spec, now=now)
                    summary.created.append(label)
                    touched.add(new.id)
                elif not is_present(svc, record):
                    touched.add(rebuild_file(svc, record, now=now).id)
                    summary.rebuilt.append(label)
                elif kind is FileKind.BOARD:
                    board = publish_board(svc, now, force=True)
                    if board.failed:
                        raise BackendError(board.error or "the board was not written")
                    summary.rerendered.append(label)
                elif kind is FileKind.JOURNAL:
                    reading = read_whole_journal(svc, record, labels)
                    _restore(svc, record, reading, journal_titles(svc, key, labels), now, labels)
                    summary.rerendered.append(label)
                    touched.add(record.id)
                elif restore_tabs(svc, record, now=now, labels=labels):
                    summary.rerendered.append(label)
                else:
                    summary.intact.append(label)
            except (FileDamaged, FileBusy) as exc:  # damaged (asked for: no lock file) or busy
                if record is None or (isinstance(exc, FileBusy) and not exc.unparsable):
                    raise
                set_aside(svc, record)
                summary.set_aside.append(label)
                touched.add(rebuild_file(svc, record, now=now).id)
                summary.rebuilt.append(label)
        except (BackendError, LayoutError) as exc:
            summary.failed.append((label, str(exc)))
            log.warning("rebuild: %s failed (%s)", label, type(exc).__name__)
    if touched:
        with svc.ledger.transaction() as tx:
            tx.add_dirty_files(touched, now)
    diaries = run_diaries(svc, now, everyone=True, labels=labels)  # re-laid out, or re-created
    summary.rerendered += [f"diary {pid}" for pid in diaries.written]
    summary.created += [f"diary {pid}" for pid in diaries.created]
    summary.failed += [(f"diary {pid}", error) for pid, error in diaries.failed]
    remember_own_writes(svc)  # else the next cycle takes every file rebuild wrote for edited
    log.info(
        "rebuild: %d re-rendered, %d rebuilt, %d created, %d intact, %d failed",
        len(summary.rerendered),
        len(summary.rebuilt),
        len(summary.created),
        len(summary.intact),
        len(summary.failed),
    )
    return summary


def journal_titles(svc: Service, key: str, labels: Labels = RU) -> list[str]:
    """Every tab of a journal: its grade's periods, "Уроки", "Замечания"."""
    periods = svc.school.periods_of(split_journal_key(key)[0])
    return [p.name for p in periods] + [labels.lessons_tab, labels.findings_tab]


__all__ = [
    "RebuildSummary",
    "RepairOutcome",
    "read_whole_journal",
    "rebuild_all",
    "rebuild_file",
    "repair_journal",
    "with_open_cells",
]
