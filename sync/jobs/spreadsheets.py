"""The service's own spreadsheets: which ones a school has, how each is laid out from the
configuration and the ledger (the ledger's values in the layouts' terms), and how one is created,
registered and shared.

A school has one admin spreadsheet ("Исправления", key ``"admin"``), one class spreadsheet per
class (key ``"7Б"``), one journal per class+subject (key ``"7Б/math"``) and the teachers' board
(the newest weekly analysis, key ``"board"``; ``sync.jobs.board`` keeps it up to date). Journals are
rendered from the ledger's accepted values (the master copy); the class spreadsheet's roster
comes from the configuration and its absence reasons from the ledger; the admin
spreadsheet's rows start empty (its corrections live on in the ledger and the audit chain).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

from config.school import School
from rules.errors import LayoutError, SheetAccessError
from rules.model import Lesson
from sync.backends.protocol import SpreadsheetSpec
from sync.jobs.class_pages import ledger_class_values
from sync.jobs.reports import latest_board
from sync.jobs.service import Service, journal_key, split_journal_key
from sync.jobs.sharing import AclChanges, reconcile_acl, wanted_roles
from sync.layout.admin.spec import admin_spec
from sync.layout.board.spec import board_spec
from sync.layout.class_sheet.spec import ClassReading, ClassValues, class_spec
from sync.layout.common import cell_text
from sync.layout.journal.spec import JournalValues, LessonFacts, journal_spec
from sync.layout.labels import RU, Labels
from sync.ledger.ledger import Tx
from sync.ledger.model import AbsenceLockedView, FileKind, FileRecord

log = logging.getLogger(__name__)

ADMIN_KEY = "admin"
BOARD_KEY = "board"
Lessons = Mapping[tuple[str, str], Sequence[Lesson]]


def expected_files(school: School) -> list[tuple[FileKind, str]]:
    """Every spreadsheet the school needs, in setup order: admin, classes, journals, the board."""
    files = [(FileKind.ADMIN, ADMIN_KEY)]
    files += [(FileKind.CLASS, c.id) for c in school.classes]
    files += [(FileKind.JOURNAL, journal_key(c, s)) for c, s in school.journals()]
    files.append((FileKind.BOARD, BOARD_KEY))
    return files


def expected_name(school: School, kind: FileKind, key: str, labels: Labels = RU) -> str:
    """The name the spreadsheet of ``kind``/``key`` is created with (as its spec names it)."""
    year = school.year.name
    if kind is FileKind.JOURNAL:
        class_id, subject_id = split_journal_key(key)
        subject = school.subject(subject_id)
        name = subject.name if subject else subject_id
        return labels.journal_name.format(class_id=class_id, subject=name, year=year)
    if kind is FileKind.CLASS:
        return labels.class_name.format(class_id=key, year=year)
    if kind is FileKind.BOARD:
        return labels.board_name.format(school=school.name, year=year)
    return labels.admin_name.format(year=year)


def file_spec(
    svc: Service,
    kind: FileKind,
    key: str,
    *,
    now: datetime,
    lessons: Lessons | None = None,
    journal: JournalValues | None = None,
    classes: ClassValues | None = None,
) -> SpreadsheetSpec:
    """The spreadsheet of ``kind``/``key`` as the service lays it out at ``now``.

    A journal's values (a class's absence reasons) come from the ledger unless ``journal``
    (``classes``) is given; ``lessons`` saves
    recomputing the school's calendar for every file.
    """
    school, today = svc.school, now.date()
    if kind is FileKind.JOURNAL:
        class_id, subject_id = split_journal_key(key)
        if journal is None:
            with svc.ledger.snapshot() as tx:
                journal = ledger_values(tx, key)
        found = (lessons if lessons is not None else school.lessons()).get((class_id, subject_id))
        return journal_spec(
            school, class_id, subject_id, found or [], today=today, existing=journal
        )
    if kind is FileKind.CLASS:
        if classes is None:
            with svc.ledger.snapshot() as tx:
                classes = ledger_class_values(tx, school, key, today)
        return class_spec(school, key, today=today, existing=classes)
    if kind is FileKind.ADMIN:
        return admin_spec(school)
    if kind is FileKind.BOARD:
        return board_spec(latest_board(school, svc.ledger, now),
                          folder=school.backend.shared_drive_folder_id)
    raise LayoutError(
        f"{kind.value} spreadsheets are not laid out by setup", "run the job that builds them"
    )


# --------------------------------------------------------------------------- ledger → layout


def ledger_values(tx: Tx, journal: str) -> JournalValues:
    """A journal's accepted values from the ledger, for ``journal_spec(..., existing=…)``; a cell
    locked holding invalid text gets that text back."""
    entries = {(e.pupil_id, e.day, e.lesson_no): e.value for e in tx.entry_values(journal)}
    periods = {(p.pupil_id, p.period): p.value for p in tx.period_marks(journal)}
    locked = tx.locked(journal)
    entries.update((k, locked.marks[k]) for k in locked.invalid)
    periods.update((k, locked.period_marks[k]) for k in locked.invalid_periods)
    lessons = {
        (x.facts.day, x.facts.lesson_no): LessonFacts(
            x.facts.topic, x.facts.classwork, x.facts.work_type, x.facts.homework
        )
        for x in tx.lessons(journal)
    }
    return JournalValues(entries, periods, lessons)


def with_open_reasons(values: ClassValues, reading: ClassReading,
                      locked: AbsenceLockedView) -> ClassValues:
    """The ledger's reasons, with every cell of a day still open as the read found it (typed,
    changed or erased): re-rendering never takes back what the class teacher may still edit."""
    reasons = dict(values.reasons)
    where = reading.map.attendance
    if where is not None:
        for pupil, day in list(reasons):
            if locked.cell(pupil, day) is None and where.cell(pupil, day) is not None:
                del reasons[(pupil, day)]
    for e in reading.attendance:
        if locked.cell(e.pupil_id, e.day) is None:
            reasons[(e.pupil_id, e.day)] = cell_text(e.raw)
    return dataclasses.replace(values, reasons=reasons)


# --------------------------------------------------------------------------- files


def is_present(svc: Service, record: FileRecord) -> bool:
    """One Drive ``info``: does the registered file still exist (not trashed, still visible)?"""
    try:
        return not svc.backend.info(record.id).removed
    except SheetAccessError:
        return False


def gone_unread(svc: Service, files: Iterable[FileRecord]) -> list[FileRecord]:
    """The files a cycle never reads (the board, the diaries) that are gone, one ``info`` each:
    asked after a change-feed reset, when nothing else would notice them missing."""
    return [f for f in files
            if f.kind in (FileKind.BOARD, FileKind.DIARY) and not is_present(svc, f)]


def create_file(
    svc: Service, kind: FileKind, key: str, spec: SpreadsheetSpec, *, now: datetime
) -> tuple[FileRecord, AclChanges]:
    """Create the spreadsheet, register it in its OWN committed transaction (a crash later never
    loses track of it; a re-created file replaces the old record, audited ``setup.created``),
    then share it as :func:`sync.jobs.sharing.desired_roles` says."""
    info = svc.backend.create(spec)
    wanted = wanted_roles(svc, kind, key, now)
    with svc.ledger.transaction() as tx:
        record = tx.register_file(info.id, kind, key, info.name, now, protections=info.protections,
                                  version=info.version)
        tx.set_desired_acl(info.id, wanted, now)
        if kind in (FileKind.JOURNAL, FileKind.CLASS):  # the lock job moves them only when
            # they differ from these
            tx.record_open_ranges(info.id, {t.title: t.open_ranges for t in spec.tabs}, now)
    changes = reconcile_acl(svc, info.id, wanted, now)
    log.info("%s spreadsheet created as file %s", kind.value, info.id)
    return record, changes


__all__ = [
    "ADMIN_KEY",
    "BOARD_KEY",
    "create_file",
    "expected_files",
    "expected_name",
    "file_spec",
    "is_present",
    "ledger_values",
    "with_open_reasons",
]
