"""Faults in a sync cycle converge: the same ledger (and the same spreadsheets) as a fault-free run.

One scenario, run once without faults (the reference) and once per fault: teachers fill two
journals on 08.09, the nightly lock job runs, and on 09.09 the drive's organizer tampers with a
locked cell while teachers type new marks (one of them invalid) and a topic. The 09.09 cycle is the
faulted one: API faults from the emulator (429 bursts, 5xx, connection resets, timeouts, a write
applied whose answer is lost) before, during and after its steps, or the process killed after each
step (an exception from the cycle's ``on_step`` seam, then a NEW Service on the same ledger file).
Then more cycles run. Compared: entries, period marks, lessons, open findings, violations (all
without timestamps), the audit events that carry facts (a multiset: nothing lost, nothing twice),
the journals' final content; and the audit chain verifies.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import astuple
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from sync.jobs.cycle import run_cycle
from sync.jobs.journal_sync import journal_titles
from sync.jobs.locking import run_locks
from sync.jobs.service import Service
from sync.jobs.tamper import target_key
from sync.layout.journal.map import LessonField
from sync.layout.labels import RU
from tests.sync.engine_fixtures import (
    DAY,
    ORGANIZER,
    SMALL,
    SVC,
    EngineRig,
    Killed,
    at,
    kill_at,
    make_rig,
)

NEXT = date(2026, 9, 9)
A, B = ("7Б", "algebra"), ("7Б", "russian")
FACT_EVENTS = ("entry.accepted", "entry.changed", "lesson.changed", "period_mark.accepted",
               "period_mark.changed", "violation.detected", "violation.reverted", "lock.applied")


# --------------------------------------------------------------------------- the scenario


def prepare(rig: EngineRig) -> None:
    """Everything before the faulted cycle: a day of entries, its lock, the next day's edits."""
    run_cycle(rig.svc)
    rig.set_now(at(DAY, 10))
    for journal, values in ((A, ["5", "4", "н"]), (B, ["3", "5/4", "оп"])):
        for pupil, value in zip(rig.school.pupils_in(journal[0]), values, strict=False):
            _type(rig, journal, pupil.id, DAY, value)
    _type_fact(rig, A, DAY, LessonField.TOPIC, "Дроби")
    run_cycle(rig.svc)
    rig.set_now(at(NEXT, 0, 15))
    assert run_locks(rig.svc).ok
    run_cycle(rig.svc)  # the lock run's follow-ups
    rig.set_now(at(NEXT, 10))
    first = rig.school.pupils_in(A[0])[0].id
    _type(rig, A, first, DAY, "2", who=ORGANIZER)  # tampering with a locked cell
    for pupil, value in zip(rig.school.pupils_in(A[0])[:3], ["4", "6", "5"], strict=True):
        _type(rig, A, pupil.id, NEXT, value)
    _type_fact(rig, A, NEXT, LessonField.HOMEWORK, "№ 7")
    for pupil, value in zip(rig.school.pupils_in(B[0])[:2], ["5", "н"], strict=True):
        _type(rig, B, pupil.id, NEXT, value)
    rig.emu.reset_counters()


def _type(rig: EngineRig, journal: tuple[str, str], pupil: str, day: date, value: str,
          who: str | None = None) -> None:
    where = rig.cell(*journal, pupil, day)
    rig.type(who or rig.teacher_email(*journal), rig.journal(*journal).id, where, value)


def _type_fact(rig: EngineRig, journal: tuple[str, str], day: date, name: LessonField,
               value: str) -> None:
    lesson = rig.lesson_on(*journal, day)
    where = rig.reading(*journal).map.lesson_field((day, lesson.lesson_no), name)
    assert where is not None
    rig.type(rig.teacher_email(*journal), rig.journal(*journal).id, where, value)


def settle(rig: EngineRig, cycles: int = 3) -> None:
    """More cycles, a minute apart, with no faults."""
    rig.emu.faults.clear()
    for _ in range(cycles):
        rig.set_now(rig.now() + timedelta(minutes=1))
        summary = run_cycle(rig.svc)
        assert summary.ok, summary.to_json()


def state(rig: EngineRig) -> dict[str, Any]:
    """The ledger's facts without timestamps, the audit facts, and the journals' content."""
    svc = rig.svc
    out: dict[str, Any] = {}
    with svc.ledger.snapshot() as tx:
        for class_id, subject_id in SMALL:
            key = f"{class_id}/{subject_id}"
            out[key] = {
                "entries": sorted(
                    (e.pupil_id, e.day, e.lesson_no, e.value, e.kind, e.accepted_by,
                     e.locked_at is not None)
                    for e in tx.entries(key, include_empty=True)),
                "period_marks": sorted((p.pupil_id, p.period, p.value, p.locked_at is not None)
                                       for p in tx.period_marks(key)),
                "lessons": sorted((astuple(x.facts), x.info_locked_at is not None,
                                   x.marks_locked_at is not None) for x in tx.lessons(key)),
                "findings": sorted((f.rule, f.pupil_id or "", str(f.day), f.field or "",
                                    f.message) for f in tx.findings(key)),
                "violations": sorted((target_key(v.target), v.locked_value, v.attempted_value,
                                      v.reverted_at is not None) for v in tx.violations(key)),
            }
    out["audit"] = audit_facts(svc)
    titles = [*journal_titles(rig.school), RU.findings_tab]
    out["sheets"] = {f"{c}/{s}": rig.inspector.read(rig.journal(c, s).id, titles)
                     for c, s in SMALL}
    return out


def audit_facts(svc: Service) -> Counter[tuple[str, str]]:
    with svc.ledger.engine.connect() as db:
        rows = db.execute(text("SELECT kind, payload FROM audit ORDER BY id"))
        return Counter((kind, payload) for kind, payload in rows if kind in FACT_EVENTS)


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The fault-free run."""
    rig = make_rig(tmp_path_factory.mktemp("reference"))
    try:
        prepare(rig)
        summary = run_cycle(rig.svc)
        assert summary.ok and summary.tally.violations == 1 and summary.reverts == 1
        settle(rig)
        assert rig.svc.ledger.audit_verify().ok
        return state(rig)
    finally:
        rig.close()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[EngineRig]:
    rig = make_rig(tmp_path)
    prepare(rig)
    yield rig
    rig.close()
    assert rig.emu.bugs == []


def assert_converged(rig: EngineRig, reference: dict[str, Any]) -> None:
    settle(rig)
    assert rig.svc.ledger.audit_verify().ok
    got = state(rig)
    for key in reference:
        assert got[key] == reference[key], key


# --------------------------------------------------------------------------- API faults

FaultPlan = Callable[[EngineRig], None]


def _on(kind: str, where: str, times: int | None = 1, file_of: tuple[str, str] | None = None
        ) -> FaultPlan:
    """A fault of ``kind`` on the service's calls whose path contains ``where`` (and the file)."""

    def plan(rig: EngineRig) -> None:
        file_id = rig.journal(*file_of).id if file_of else ""

        def match(method: str, path: str) -> bool:
            del method
            return where in path and file_id in path

        rig.emu.faults.add(kind, match=match, times=times, principal=SVC)

    return plan


API_FAULTS: dict[str, FaultPlan] = {
    # before: the change list
    "changes 429 burst (retried)": _on("429", "/changes", times=2),
    "changes 500 persistent": _on("500", "/changes", times=None),
    "changes reset persistent": _on("reset", "/changes", times=None),
    "changes drive rate limit": _on("drive_rate_limit", "/changes", times=None),
    "changes answer lost (retried)": _on("timeout_after", "/changes", times=1),
    # during: the reads
    "read 429 burst (retried)": _on("429", "values:batchGet", times=3),
    "read 429 persistent": _on("429", "values:batchGet", times=None),
    "second read 503 persistent": _on("503", "values:batchGet", times=None, file_of=B),
    "first read reset (retried)": _on("reset", "values:batchGet", times=1, file_of=A),
    "read timeout persistent": _on("timeout", "values:batchGet", times=None, file_of=A),
    "read answer lost (retried)": _on("timeout_after", "values:batchGet", times=1, file_of=B),
    # after the commit: the writes
    "write 500 persistent": _on("500", "values:batchUpdate", times=None),
    "write 429 burst (retried)": _on("429", "values:batchUpdate", times=2),
    "write applied, answer lost": _on("timeout_after", "values:batchUpdate", times=1, file_of=A),
    "every write applied, answers lost": _on("timeout_after", "values:batchUpdate", times=None),
    "write reset (not applied)": _on("reset", "values:batchUpdate", times=1, file_of=A),
    "second write 503 persistent": _on("503", "values:batchUpdate", times=None, file_of=B),
}


@pytest.mark.parametrize("name", list(API_FAULTS))
def test_api_faults_converge(rig: EngineRig, reference: dict[str, Any], name: str) -> None:
    API_FAULTS[name](rig)
    faulted = run_cycle(rig.svc)
    assert rig.emu.faults.delivered, "the fault was never delivered"
    if "retried" not in name:
        assert not faulted.ok  # the cycle says what failed
        assert faulted.errors or faulted.failed
        assert all(p.file_id for p in faulted.failed)
    assert_converged(rig, reference)


# --------------------------------------------------------------------------- the process killed

STEPS = ("start", "changes", "read", "commit", "committed", "write", "recorded")


@pytest.mark.parametrize("step", STEPS)
def test_a_process_killed_after_each_step_converges(rig: EngineRig, reference: dict[str, Any],
                                                     step: str) -> None:
    seen: list[str] = []

    def kill(name: str) -> None:
        seen.append(name)
        if name == step:
            raise Killed(step)

    with pytest.raises(Killed):
        run_cycle(rig.svc, on_step=kill)
    assert seen[-1] == step
    rig.new_service()  # a new process on the same ledger file
    assert_converged(rig, reference)


def test_killed_between_commit_and_writes_rereads_only_the_dirty_files(
        rig: EngineRig, reference: dict[str, Any]) -> None:
    """After a crash between the commit and the writes, the next cycle re-reads exactly the
    journals whose writes were lost (the change token already moved past them)."""

    with pytest.raises(Killed):
        run_cycle(rig.svc, on_step=kill_at("committed"))
    svc = rig.new_service()
    rig.emu.reset_counters()
    summary = run_cycle(svc)
    assert summary.tally.journals_read == 2 and summary.tally.violations == 0  # already recorded
    assert summary.reverts == 1
    assert rig.calls()["sheets_read"] == 2
    with svc.ledger.snapshot() as tx:
        (violation,) = tx.violations("7Б/algebra")
        dirty = json.loads(tx.state_get("sync.dirty") or "null")
    assert violation.reverted_at is not None
    assert dirty == []
    assert_converged(rig, reference)
