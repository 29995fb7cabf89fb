"""The summaries the cycle and the lock job return (``ejournal sync --json``): their exact JSON
shape, counts that match what happened, the ``runs`` row, no names or marks anywhere — and a
spreadsheet held open in LibreOffice (local backend) reported as skipped, then caught up.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, datetime
from pathlib import Path

import pytest

from sync.backends.local.backend import LocalBackend
from sync.jobs.cycle import run_cycle
from sync.jobs.locking import run_locks
from sync.jobs.service import Service
from sync.layout.journal.spec import parse_journal
from sync.layout.labels import RU
from sync.ledger.model import FileKind
from tests.sync.backend_helpers import local_teacher_edit
from tests.sync.engine_fixtures import (
    DAY,
    ORGANIZER,
    SVC,
    EngineRig,
    at,
    make_rig,
    school_for,
    setup_school,
)

CLASS, SUBJECT = "7Б", "algebra"
NEXT = date(2026, 9, 9)

CYCLE_KEYS = {
    "kind", "ok", "started", "finished", "first_cycle", "files_changed", "journals_read",
    "classes_read", "absences_accepted",
    "entries_accepted", "lessons_changed", "findings", "violations", "late_entries", "reverts",
    "writes", "repaired", "rebuilt", "set_aside", "readopted", "corrections", "locks",
    "locks_retried", "diaries", "acl",
    "substitutions", "skipped_busy", "failed", "errors", "api_calls",
}
LOCK_KEYS = {
    "kind", "ok", "started", "finished", "journals", "classes", "classes_read",
    "absences_accepted", "protections_written", "class_protections_written",
    "protections_rechecked", "locked_unread", "journals_read", "entries_accepted",
    "lessons_changed", "findings",
    "violations", "late_entries", "locks", "follow_up", "diaries", "substitutions", "skipped_busy",
    "failed", "errors", "api_calls",
}


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[EngineRig]:
    rig = make_rig(tmp_path)
    yield rig
    rig.close()


def private_texts(rig: EngineRig) -> list[str]:
    """Names of the class's pupils and teachers: never in a summary."""
    names = [p.last_name for p in rig.school.pupils_in(CLASS)]
    return names + [t.full_name.split()[0] for t in rig.school.teachers]


def open_in_ledger(rig: EngineRig) -> int:
    """Open findings the ledger holds, journal by journal and class by class."""
    with rig.svc.ledger.snapshot() as tx:
        return sum(len(tx.findings(f.key)) for f in tx.files()
                   if f.kind in (FileKind.JOURNAL, FileKind.CLASS))


def test_cycle_summary_json_shape_and_counts(rig: EngineRig) -> None:
    first = run_cycle(rig.svc).to_json()
    assert set(first) == CYCLE_KEYS
    assert first["first_cycle"] is True and first["kind"] == "sync"

    rig.set_now(at(DAY, 10))
    pupils = [p.id for p in rig.school.pupils_in(CLASS)[:3]]
    journal = rig.journal(CLASS, SUBJECT).id
    email = rig.teacher_email(CLASS, SUBJECT)
    for pupil, value in zip(pupils, ["5", "4", "7"], strict=True):
        rig.type(email, journal, rig.cell(CLASS, SUBJECT, pupil, DAY), value)
    rig.emu.reset_counters()
    summary = run_cycle(rig.svc)
    data = summary.to_json()

    assert set(data) == CYCLE_KEYS
    json.dumps(data)  # JSON-ready as it is
    assert data["ok"] is True and data["first_cycle"] is False
    assert (data["files_changed"], data["journals_read"], data["entries_accepted"]) == (1, 1, 2)
    assert set(data["findings"]) == {"opened", "resolved", "open"}
    assert data["findings"]["opened"] == 1  # the "7"
    assert data["findings"]["open"] >= 1
    assert (data["violations"], data["reverts"], data["writes"]) == (0, 0, 1)
    assert data["failed"] == [] and data["skipped_busy"] == [] and data["errors"] == []
    assert {k: data["api_calls"][k] for k in ("sheets_read", "sheets_write", "drive")} == {
        "sheets_read": 1, "sheets_write": 1, "drive": 1}
    assert rig.calls() == {"sheets_read": 1, "sheets_write": 1, "drive": 1}
    assert data["started"] == at(DAY, 10).isoformat()
    text = json.dumps(data, ensure_ascii=False)
    assert not [name for name in private_texts(rig) if name in text]
    with rig.svc.ledger.snapshot() as tx:
        run = tx.last_run("sync")
    assert run is not None and run.ok is True
    assert run.counters == summary.counters()
    assert run.counters["entries_accepted"] == 2 and run.counters["api_sheets_read"] == 1

    idle = run_cycle(rig.svc).to_json()  # nothing changed: no journal read…
    held = open_in_ledger(rig)
    assert idle["journals_read"] == 0 and held >= 1
    assert idle["findings"]["open"] == held  # …and still every open finding counted, not 0


def test_failed_files_and_cycle_errors_are_listed_with_ids(rig: EngineRig) -> None:
    run_cycle(rig.svc)
    rig.set_now(at(DAY, 10))
    journal = rig.journal(CLASS, SUBJECT).id
    rig.type(rig.teacher_email(CLASS, SUBJECT), journal,
             rig.cell(CLASS, SUBJECT, rig.school.pupils_in(CLASS)[0].id, DAY), "5")
    rig.emu.faults.add("500", match="values:batchGet", times=None, principal=SVC)
    data = run_cycle(rig.svc).to_json()
    assert data["ok"] is False
    assert [f["file"] for f in data["failed"]] == [journal]
    assert data["failed"][0]["error"].startswith("read: TransientError")
    rig.emu.faults.clear()

    rig.emu.faults.add("503", match="/changes", times=None, principal=SVC)
    data = run_cycle(rig.svc).to_json()
    assert data["ok"] is False and data["journals_read"] == 0
    assert len(data["errors"]) == 1 and data["errors"][0].startswith("change list: ")
    with rig.svc.ledger.snapshot() as tx:
        run = tx.last_run("sync")
    assert run is not None and run.ok is False and run.error == data["errors"][0]
    rig.emu.faults.clear()
    assert run_cycle(rig.svc).to_json()["entries_accepted"] == 1  # caught up


def test_lock_summary_json_shape_and_counts(rig: EngineRig) -> None:
    run_cycle(rig.svc)
    rig.set_now(at(DAY, 10))
    journal = rig.journal(CLASS, SUBJECT).id
    rig.type(rig.teacher_email(CLASS, SUBJECT), journal,
             rig.cell(CLASS, SUBJECT, rig.school.pupils_in(CLASS)[0].id, DAY), "5")
    run_cycle(rig.svc)
    rig.set_now(at(NEXT, 0, 15))
    rig.emu.reset_counters()
    summary = run_locks(rig.svc)
    data = summary.to_json()

    assert set(data) == LOCK_KEYS
    json.dumps(data)
    assert data["kind"] == "lock" and data["ok"] is True
    assert data["journals"] == 3 and data["classes"] == 3
    # 3 journals + 3 class spreadsheets (a new attendance day opens, 01.09 closes and is read)
    # read by the cycle at 10:00 and unchanged since: locked from the ledger, not read
    assert data["protections_written"] == 3 and data["journals_read"] == 0
    assert data["locked_unread"] == 3
    assert data["class_protections_written"] == 3
    assert data["classes_read"] == 3 and data["locks"]["absence_days"] == 3
    assert set(data["locks"]) == {"days", "lessons", "entries", "periods", "period_marks",
                                 "absence_days", "absence_reasons"}
    assert data["locks"]["entries"] == 1
    assert data["locks"]["days"] == data["locks"]["lessons"] > 0
    assert data["findings"]["open"] == open_in_ledger(rig) > 0  # all, not the journals read
    assert data["api_calls"]["sheets_write"] == rig.calls()["sheets_write"] == 6
    assert set(data["follow_up"]) <= {rig.journal(c, s).id for c, s in
                                     (("7Б", "algebra"), ("7Б", "russian"), ("10А", "algebra"))}
    text = json.dumps(data, ensure_ascii=False)
    assert not [name for name in private_texts(rig) if name in text]
    with rig.svc.ledger.snapshot() as tx:
        run = tx.last_run("lock")
    assert run is not None and run.counters == summary.counters()


def test_violations_show_in_the_summary(rig: EngineRig) -> None:
    run_cycle(rig.svc)
    rig.set_now(at(DAY, 10))
    journal = rig.journal(CLASS, SUBJECT).id
    where = rig.cell(CLASS, SUBJECT, rig.school.pupils_in(CLASS)[0].id, DAY)
    rig.type(rig.teacher_email(CLASS, SUBJECT), journal, where, "5")
    run_cycle(rig.svc)
    rig.set_now(at(NEXT, 0, 15))
    run_locks(rig.svc)
    run_cycle(rig.svc)
    rig.type(ORGANIZER, journal, where, "3")
    data = run_cycle(rig.svc).to_json()
    assert (data["violations"], data["reverts"], data["writes"]) == (1, 1, 1)


# --------------------------------------------------------------------------- local backend


class _Clock:
    def __init__(self) -> None:
        self.now = at(DAY, 8)

    def __call__(self) -> datetime:
        return self.now


def test_a_journal_open_in_libreoffice_is_skipped_then_caught_up(tmp_path: Path) -> None:
    school = school_for(tmp_path / "ledger.sqlite3", journals=[(CLASS, SUBJECT)])
    clock = _Clock()
    backend = LocalBackend(tmp_path / "sheets", settle_seconds=0, clock=clock)
    with Service.open(school, backend=backend, clock=clock) as svc:
        setup_school(svc)
        run_cycle(svc)
        with svc.ledger.snapshot() as tx:
            record = tx.file_for(FileKind.JOURNAL, "7Б/algebra")
        assert record is not None
        lessons = sorted(school.lessons()[(CLASS, SUBJECT)], key=lambda x: (x.day, x.lesson_no))
        titles = [q.name for q in school.year.periods] + [RU.lessons_tab]
        reading = parse_journal(backend.read(record.id, titles), school, CLASS, SUBJECT, lessons)
        pupil = school.pupils_in(CLASS)[0].id
        where = reading.map.cell(pupil, (DAY, 5))
        assert where is not None
        clock.now = at(DAY, 10)
        local_teacher_edit(backend, record.id, where.tab, where.start_row, where.start_col, "6")
        lock = backend.path(record.id).parent / f".~lock.{backend.path(record.id).name}#"
        lock.write_text("teacher,host,01.01.2026 10:00,")  # LibreOffice holds the file open

        busy = run_cycle(svc).to_json()
        assert busy["skipped_busy"] == [record.id] and busy["ok"] is False
        assert busy["findings"]["opened"] == 1  # read and taken into the ledger; not written
        with svc.ledger.snapshot() as tx:
            assert record.id in tx.dirty_files()

        lock.unlink()
        clock.now = at(DAY, 10, 5)
        caught_up = run_cycle(svc).to_json()
        assert caught_up["ok"] is True and caught_up["journals_read"] == 1
        assert caught_up["writes"] == 1 and caught_up["findings"]["opened"] == 0
        with svc.ledger.snapshot() as tx:
            assert tx.dirty_files() == set()
        shown = backend.read(record.id, [RU.findings_tab])[RU.findings_tab]
        assert any("«6»" in str(line[1]) for line in shown[1:] if len(line) > 1)
