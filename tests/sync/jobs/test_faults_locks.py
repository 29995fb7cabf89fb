"""Faults in the nightly lock job converge: the same ledger as a fault-free night.

The scenario: teachers fill two journals on 08.09 at 10:00 (read by a cycle), and one more mark at
23:58 that no cycle read before the day closed at 23:59. At 00:15 the lock job runs — once without
faults (the reference) and once per fault on its protect writes, its reads, its proof (Drive's
``modifiedTime``) and its peek at the change list, from the emulator with the real gspread client
(429, 5xx, resets, timeouts, a write applied whose answer is lost). Then sync cycles a minute apart,
without faults, retry what failed. Compared: entries, period marks and lessons with their locks,
violations, the audit events that carry facts (a multiset); no file's lock is left pending and no
teacher can type into 08.09 any more. A mark typed at 00:30 into a cell the failed protection left
open is a late entry, never accepted; the 23:58 mark is accepted only where the night's read
proved it (a read that failed leaves it unproven once the file changed at 00:30: a late entry too,
kept, not lost).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from dataclasses import astuple, dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import gspread
import pytest

from sync.jobs.cycle import run_cycle
from sync.jobs.locking import run_locks
from sync.jobs.tamper import target_key
from sync.ledger.model import Field
from tests.sync.engine_fixtures import DAY, SMALL, SVC, EngineRig, at, make_rig
from tests.sync.jobs.test_faults import audit_facts

NEXT = date(2026, 9, 9)
A, B = ("7Б", "algebra"), ("7Б", "russian")


def pupils(rig: EngineRig, journal: tuple[str, str]) -> list[str]:
    return [p.id for p in rig.school.pupils_in(journal[0])]


def typed(rig: EngineRig, journal: tuple[str, str], pupil: str, day: date, value: str) -> bool:
    """The journal's teacher types ``value``; False when the cell is protected (refused)."""
    try:
        rig.type(rig.teacher_email(*journal), rig.journal(*journal).id,
                 rig.cell(*journal, pupil, day), value)
    except gspread.exceptions.APIError:
        return False
    return True


def prepare(rig: EngineRig) -> None:
    """08.09: marks at 10:00 read by a cycle, one more at 23:58 nobody read; then 00:15."""
    run_cycle(rig.svc)
    rig.set_now(at(DAY, 10))
    for journal, values in ((A, ["5", "4", "н"]), (B, ["3", "5/4", "оп"])):
        for pupil, value in zip(pupils(rig, journal), values, strict=False):
            assert typed(rig, journal, pupil, DAY, value)
    run_cycle(rig.svc)
    rig.set_now(at(DAY, 23, 58))
    assert typed(rig, A, pupils(rig, A)[3], DAY, "3")  # typed in time, read only by the lock job
    rig.set_now(at(NEXT, 0, 15))
    rig.emu.reset_counters()


def settle(rig: EngineRig, cycles: int = 3) -> None:
    """Sync cycles a minute apart with no faults: they retry the lock work that failed."""
    rig.emu.faults.clear()
    for _ in range(cycles):
        rig.set_now(rig.now() + timedelta(minutes=1))
        assert run_cycle(rig.svc).ok


def state(rig: EngineRig) -> dict[str, Any]:
    """The ledger's facts and locks without timestamps, and the audit facts."""
    out: dict[str, Any] = {}
    with rig.svc.ledger.snapshot() as tx:
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
                "violations": sorted((target_key(v.target), v.locked_value, v.attempted_value)
                                     for v in tx.violations(key)),
            }
        out["pending"] = sorted(tx.pending_locks())
    out["audit"] = audit_facts(rig.svc)
    return out


def late(rig: EngineRig) -> Counter[tuple[str, str, str]]:
    with rig.svc.ledger.snapshot() as tx:
        return Counter((e.target.pupil_id or "", e.typed_value, e.ledger_value)
                       for e in tx.late_entries())


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The fault-free night."""
    rig = make_rig(tmp_path_factory.mktemp("reference"))
    try:
        prepare(rig)
        night = run_locks(rig.svc)
        assert night.ok and night.protections_written >= 2, night.to_json()
        assert not typed(rig, A, pupils(rig, A)[4], DAY, "5")  # 08.09 is protected
        settle(rig)
        assert rig.svc.ledger.audit_verify().ok
        assert late(rig) == Counter()
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


@dataclass(frozen=True)
class Fault:
    """A fault of ``kind`` on the service's calls whose path has ``where`` (and A's or B's id).
    ``retried``: the job gets through anyway; ``unread``: A's read of the night fails."""

    kind: str
    where: str
    times: int | None = 1
    file_of: tuple[str, str] | None = None
    retried: bool = False
    unread: bool = False

    def add(self, rig: EngineRig) -> None:
        file_id = rig.journal(*self.file_of).id if self.file_of else ""
        where = self.where

        def match(method: str, path: str) -> bool:
            del method
            return where in path and file_id in path

        rig.emu.faults.add(self.kind, match=match, times=self.times, principal=SVC)


PROTECT = ":batchUpdate"  # the lock job writes no values: its only batchUpdate is the protection
READ = "values:batchGet"
PROOF = "/files/"  # Drive's file metadata: the modifiedTime asked right after the read
FAULTS: dict[str, Fault] = {
    "protect 429 burst (retried)": Fault("429", PROTECT, times=2, retried=True),
    "protect 503 persistent": Fault("503", PROTECT, times=None),
    "protect 500 on one journal persistent": Fault("500", PROTECT, times=None, file_of=A),
    "protect reset, not applied (retried)": Fault("reset", PROTECT, file_of=A, retried=True),
    "protect timeout persistent": Fault("timeout", PROTECT, times=None),
    "protect applied, answer lost (re-checked)": Fault("timeout_after", PROTECT, file_of=A,
                                                       retried=True),
    "every protect applied, answers lost (re-checked)": Fault("timeout_after", PROTECT,
                                                              times=None, retried=True),
    "read 429 burst (retried)": Fault("429", READ, times=3, retried=True),
    "read 503 persistent": Fault("503", READ, times=None, unread=True),
    "read timeout on one journal persistent": Fault("timeout", READ, times=None, file_of=A,
                                                    unread=True),
    "read answer lost (retried)": Fault("timeout_after", READ, file_of=A, retried=True),
    "proof 500 persistent": Fault("500", PROOF, times=None, file_of=A, unread=True),
    "change list 500 persistent": Fault("500", "/changes", times=None),
}


def night_with(rig: EngineRig, fault: Fault) -> None:
    """The lock job at 00:15 under ``fault``: it says when something failed."""
    fault.add(rig)
    night = run_locks(rig.svc)
    assert rig.emu.faults.delivered, "the fault was never delivered"
    assert night.ok is fault.retried, night.to_json()


@pytest.mark.parametrize("name", list(FAULTS))
def test_lock_job_faults_converge_to_the_fault_free_ledger(
        rig: EngineRig, reference: dict[str, Any], name: str) -> None:
    night_with(rig, FAULTS[name])
    settle(rig)
    assert rig.svc.ledger.audit_verify().ok
    got = state(rig)
    for key in reference:
        assert got[key] == reference[key], key
    assert got["pending"] == []  # every lock landed
    assert not typed(rig, A, pupils(rig, A)[4], DAY, "5")  # no past day left accepting changes
    assert not typed(rig, B, pupils(rig, B)[4], DAY, "5")
    assert late(rig) == Counter()


@pytest.mark.parametrize("name", [n for n, f in FAULTS.items() if not f.retried])
def test_a_mark_typed_while_the_protection_failed_is_a_late_entry(
        rig: EngineRig, reference: dict[str, Any], name: str) -> None:
    fault = FAULTS[name]
    night_with(rig, fault)
    rig.set_now(at(NEXT, 0, 30))
    first, fourth, fifth = (pupils(rig, A)[i] for i in (0, 3, 4))
    # the teacher tries yesterday's cells of A: refused where the protection landed
    open_a = typed(rig, A, fifth, DAY, "5")
    if open_a:
        assert typed(rig, A, first, DAY, "2")  # the «5» of 10:00 changed
    settle(rig)

    got = state(rig)
    typed_late = [(fifth, "5", ""), (first, "2", "5")] if open_a else []
    if fault.unread:  # the day was not locked yet: what it cannot prove is a late entry
        assert open_a  # 23:58's «3» was never read before the file changed at 00:30
        assert late(rig) == Counter([*typed_late, (fourth, "3", "")])
        assert got["7Б/algebra"]["violations"] == []
    else:  # the night's read locked the day: a change is a violation, reverted
        assert late(rig) == Counter()
        assert got["7Б/algebra"]["violations"] == sorted(
            ((Field.MARK.value, pupil, DAY, rig.lesson_on(*A, DAY).lesson_no, None), was, value)
            for pupil, value, was in typed_late)
    entries = {(e[0], e[1]): e[3] for e in got["7Б/algebra"]["entries"]}
    assert entries[(first, DAY)] == "5" and entries.get((fifth, DAY), "") == ""
    assert entries.get((fourth, DAY), "") == ("" if fault.unread else "3")
    assert got["pending"] == []
    assert not typed(rig, A, fifth, DAY, "4")  # protected at last
    if not fault.unread:  # the marks as on the fault-free night
        assert got["7Б/algebra"]["entries"] == reference["7Б/algebra"]["entries"]
    assert got["7Б/russian"] == reference["7Б/russian"]
