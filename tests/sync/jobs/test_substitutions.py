"""Substitutions (R9) over the emulator and the local backend: the example school's substitute
(volkova for 5А math on 24.11.2026) gets writer access for that day, writes today's column, is
credited with the day's entries, and loses access after the day's lock — the emulator refuses her
the next day. Desired and observed grants are kept in the ledger and audited.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import gspread
import pytest
from sqlalchemy import text

from rules.errors import LayoutError
from sync.backends.protocol import Role
from sync.jobs.cycle import run_cycle
from sync.jobs.locking import run_locks
from sync.jobs.service import Service
from sync.jobs.setup import run_setup
from sync.jobs.sharing import desired_roles, substitutes_with_access
from sync.jobs.substitutions import attributed_teacher, sync_substitutions
from sync.ledger.model import FileKind
from tests.sync.engine_fixtures import SVC, EngineRig, at, make_rig
from tests.sync.layout_helpers import example_school
from tests.sync.setup_helpers import SUB_DAY, FakeClock, local_service, small_school

CLASS, SUBJECT, KEY = "5А", "math", "5А/math"
THE_DAY_BEFORE = SUB_DAY - timedelta(days=1)
THE_DAY_AFTER = SUB_DAY + timedelta(days=1)


def email(teacher_id: str) -> str:
    teacher = example_school().teacher(teacher_id)
    assert teacher is not None
    return teacher.email.lower()


def acl(svc: Service, key: str = KEY) -> dict[str, tuple[str | None, str | None]]:
    with svc.ledger.snapshot() as tx:
        record = tx.file_for(FileKind.JOURNAL, key)
        assert record is not None
        return {a.email: (a.desired_role, a.observed_role) for a in tx.acl(record.id)}


def audit(svc: Service, prefix: str) -> list[tuple[str, dict[str, Any]]]:
    with svc.ledger.engine.connect() as db:
        rows = db.execute(text("SELECT kind, payload FROM audit WHERE kind LIKE :p ORDER BY id"),
                          {"p": prefix + "%"})
        return [(r[0], json.loads(r[1])) for r in rows]


# --------------------------------------------------------------------------- pure parts


def test_attributed_teacher() -> None:
    school = example_school()
    assert attributed_teacher(school, CLASS, SUBJECT, SUB_DAY) == "volkova"
    assert attributed_teacher(school, CLASS, SUBJECT, THE_DAY_AFTER) == "kuznetsov"
    assert attributed_teacher(school, CLASS, "russian", SUB_DAY) == "sokolova"
    split = next((c, s) for c, s in school.journals() if len(school.teachers_of(c, s)) > 1)
    assert attributed_teacher(school, *split, SUB_DAY) == school.teachers_of(*split)[0]
    with pytest.raises(LayoutError, match="no teacher"):
        attributed_teacher(school, CLASS, "astronomy", SUB_DAY)


@pytest.mark.parametrize(
    ("moment", "active"),
    [
        (at(THE_DAY_BEFORE, 23, 59), False),
        (at(SUB_DAY, 0, 0), True),
        (at(SUB_DAY, 23, 58), True),
        (at(SUB_DAY, 23, 59), False),  # lock.day_end: the day's cells lock
        (at(THE_DAY_AFTER, 0, 15), False),
    ],
)
def test_access_window_is_the_day_until_its_lock(moment: Any, active: bool) -> None:
    school = example_school()
    assert (substitutes_with_access(school, CLASS, SUBJECT, moment) == ("volkova",)) is active
    roles = desired_roles(school, FileKind.JOURNAL, KEY, moment)
    assert roles.get(email("volkova")) == (Role.WRITER if active else None)
    assert roles[email("kuznetsov")] is Role.WRITER
    assert set(desired_roles(school, FileKind.JOURNAL, "5А/russian", moment)) == {
        email("sokolova")}


def test_desired_roles_of_class_and_admin_spreadsheets() -> None:
    school = example_school()
    moment = at(SUB_DAY, 9)
    assert desired_roles(school, FileKind.CLASS, "5А", moment) == {email("sokolova"): Role.WRITER}
    assert desired_roles(school, FileKind.ADMIN, "admin", moment) == {
        "zamestitel.uvr.example@gmail.com": Role.WRITER}
    # s0001's parents applied on 02.09 and 11.09 (parents.csv): both read the diary
    assert desired_roles(school, FileKind.DIARY, "s0001", moment) == {
        "antonova.kv.example@gmail.com": Role.READER, "antonov.na.example@gmail.com": Role.READER}


# --------------------------------------------------------------------------- over the emulator


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[EngineRig]:
    rig = make_rig(tmp_path, journals=[(CLASS, SUBJECT), (CLASS, "russian")],
                   start=at(THE_DAY_BEFORE, 8))
    run_cycle(rig.svc)
    yield rig
    rig.close()
    assert rig.emu.bugs == []


def test_the_substitute_fills_the_journal_for_that_day_only(rig: EngineRig) -> None:
    """Through the jobs: the lock job lets the substitute in after protecting, the cycle credits
    her, the next night's lock job lets her out after locking the day."""
    file = rig.journal(CLASS, SUBJECT)
    substitute, teacher = email("volkova"), email("kuznetsov")
    assert rig.emu.role_of(substitute, file.id) is None  # set up the day before: not shared

    rig.set_now(at(SUB_DAY, 0, 5))  # a cycle before the night's lock job: yesterday is still open
    early = run_cycle(rig.svc)
    assert early.substitutions == {"granted": 0, "revoked": 0, "deferred": 1, "failed": 0}
    assert rig.emu.role_of(substitute, file.id) is None

    rig.set_now(at(SUB_DAY, 0, 15))  # the nightly job: protect (today's column opens), then grant
    night = run_locks(rig.svc)
    assert night.ok and night.substitutions["granted"] == 1
    assert night.to_json()["substitutions"]["granted"] == 1
    assert rig.emu.role_of(substitute, file.id) == "writer"
    assert acl(rig.svc)[substitute] == ("writer", "writer")
    assert acl(rig.svc)[teacher] == ("writer", "writer")
    assert rig.emu.role_of(substitute, rig.journal(CLASS, "russian").id) is None
    run_cycle(rig.svc)  # the lock job's follow-ups
    rig.emu.reset_counters()
    idle = run_cycle(rig.svc)  # an idle cycle on the day: nothing left to grant, no extra call
    assert idle.substitutions == {"granted": 0, "revoked": 0, "deferred": 0, "failed": 0}
    assert rig.calls() == {"drive": 1, "sheets_read": 0, "sheets_write": 0}

    rig.set_now(at(SUB_DAY, 10))
    pupil = rig.school.pupils_in(CLASS, on=SUB_DAY)[0].id
    rig.type(substitute, file.id, rig.cell(CLASS, SUBJECT, pupil, SUB_DAY), "5")
    earlier = rig.cell(CLASS, SUBJECT, pupil, THE_DAY_BEFORE)
    with pytest.raises(gspread.exceptions.APIError, match="protected"):
        rig.type(substitute, file.id, earlier, "2")  # only today's cells are open
    assert run_cycle(rig.svc).tally.entries_accepted == 1
    with rig.svc.ledger.snapshot() as tx:
        (entry,) = [e for e in tx.entries(KEY) if e.day == SUB_DAY]
    assert (entry.pupil_id, entry.value, entry.accepted_by) == (pupil, "5", "volkova")

    rig.set_now(at(THE_DAY_AFTER, 0, 15))  # the day's lock first, then the revocation
    after = run_locks(rig.svc)
    assert after.ok and after.days_locked >= 1
    assert after.substitutions == {"granted": 0, "revoked": 1, "deferred": 0, "failed": 0}
    assert rig.emu.role_of(substitute, file.id) is None
    assert substitute not in acl(rig.svc) and acl(rig.svc)[teacher] == ("writer", "writer")
    today = rig.cell(CLASS, SUBJECT, pupil, THE_DAY_AFTER)
    with pytest.raises(gspread.exceptions.APIError) as refused:
        rig.type(substitute, file.id, today, "4")
    assert refused.value.response.status_code in (403, 404)
    rig.type(teacher, file.id, today, "4")  # the journal's own teacher still can
    kinds = [(k, p["teacher"]) for k, p in audit(rig.svc, "substitution.")]
    assert kinds == [("substitution.granted", "volkova"), ("substitution.revoked", "volkova")]
    with rig.svc.ledger.snapshot() as tx:
        board = tx.file_for(FileKind.BOARD, "board")  # every teacher reads the board
    granted = [p for k, p in audit(rig.svc, "acl.")
               if p["email"] == substitute and (board is None or p["file"] != board.id)]
    assert [p["role"] for p in granted] == ["writer", "writer"]
    assert rig.svc.ledger.audit_verify().ok


def test_no_substitute_on_a_journal_whose_protection_did_not_land(rig: EngineRig) -> None:
    """The night's protection write of the journal fails (503): yesterday's cells stay open in
    the sheet, so the substitute is held back — by the lock job and by every cycle — until a
    cycle's retry of the protection lands; then she is let in."""
    file = rig.journal(CLASS, SUBJECT)
    substitute = email("volkova")
    rig.emu.faults.add("503", match=lambda m, p: file.id in p and p.endswith(":batchUpdate"),
                       times=None, principal=SVC)
    rig.set_now(at(SUB_DAY, 0, 15))
    night = run_locks(rig.svc)
    assert [f.file_id for f in night.failed] == [file.id]
    assert night.substitutions["granted"] == 0 and night.substitutions["deferred"] == 1
    assert rig.emu.role_of(substitute, file.id) is None
    rig.set_now(at(SUB_DAY, 7, 30))
    morning = run_cycle(rig.svc)  # the retry fails again: still held back
    assert morning.substitutions["granted"] == 0 and rig.emu.role_of(substitute, file.id) is None

    rig.emu.faults.clear()
    rig.set_now(at(SUB_DAY, 7, 40))
    healed = run_cycle(rig.svc)
    assert healed.locks_retried == 1 and healed.substitutions["granted"] == 1
    assert rig.emu.role_of(substitute, file.id) == "writer"
    pupil = rig.school.pupils_in(CLASS, on=SUB_DAY)[0].id
    with pytest.raises(gspread.exceptions.APIError, match="protected"):
        rig.type(substitute, file.id, rig.cell(CLASS, SUBJECT, pupil, THE_DAY_BEFORE), "2")


def test_a_substitution_listed_after_the_nights_lock_is_granted_by_the_first_cycle(
        rig: EngineRig) -> None:
    file = rig.journal(CLASS, SUBJECT)
    substitute = email("volkova")
    full = rig.school
    rig.svc.close()  # the night's lock job runs with a configuration that has no substitution yet
    rig.svc = Service.open(dataclasses.replace(full, substitutions=()), backend=rig.backend(),
                           clock=rig.now)
    rig.set_now(at(SUB_DAY, 0, 15))
    assert run_locks(rig.svc).substitutions["granted"] == 0
    rig.svc.close()  # 07:30: the sysadmin adds substitutions.csv, the daemon restarts
    rig.svc = Service.open(full, backend=rig.backend(), clock=rig.now)
    rig.set_now(at(SUB_DAY, 7, 30))
    rig.emu.reset_counters()

    first = run_cycle(rig.svc)

    assert first.ok and first.substitutions["granted"] == 1
    assert first.to_json()["substitutions"]["granted"] == 1
    assert rig.emu.role_of(substitute, file.id) == "writer"
    assert rig.calls()["drive"] == 2  # the change list and one grant
    assert run_cycle(rig.svc).substitutions["granted"] == 0


def test_setup_on_the_day_shares_with_the_substitute_too(tmp_path: Path) -> None:
    rig = make_rig(tmp_path, journals=[(CLASS, SUBJECT)], start=at(SUB_DAY, 8))
    try:
        file = rig.journal(CLASS, SUBJECT)
        assert rig.emu.role_of(email("volkova"), file.id) == "writer"
        assert sync_substitutions(rig.svc, now=rig.now()).granted == []  # nothing left to do
        rig.set_now(at(THE_DAY_AFTER, 1))
        assert sync_substitutions(rig.svc, now=rig.now()).revoked == [(KEY, "volkova")]
        assert rig.emu.role_of(email("volkova"), file.id) is None
    finally:
        rig.close()


# --------------------------------------------------------------------------- local backend


def test_substitution_on_the_local_backend(tmp_path: Path) -> None:
    school = small_school(4)  # 5А russian, literature, english, math
    assert ("5А", "math") in school.journals()
    clock = FakeClock(at(THE_DAY_BEFORE, 8))
    with local_service(tmp_path, school, clock) as svc:
        assert run_setup(svc).complete
        with svc.ledger.snapshot() as tx:
            record = tx.file_for(FileKind.JOURNAL, KEY)
        assert record is not None

        def granted() -> set[str]:
            return {g.email for g in svc.backend.grants(record.id) if g.role is Role.WRITER}

        assert email("volkova") not in granted()
        clock.moment = at(SUB_DAY, 7)
        assert sync_substitutions(svc, now=clock()).granted == [(KEY, "volkova")]
        assert email("volkova") in granted() and email("kuznetsov") in granted()
        clock.moment = at(THE_DAY_AFTER, 0, 30)
        assert sync_substitutions(svc, now=clock()).revoked == [(KEY, "volkova")]
        assert granted() == {email("kuznetsov")}


def test_a_journal_not_set_up_is_reported(tmp_path: Path) -> None:
    clock = FakeClock(at(SUB_DAY, 9))
    with local_service(tmp_path, small_school(1), clock) as svc:
        summary = sync_substitutions(svc, now=clock())
    assert summary.not_set_up == [KEY] and summary.to_json()["granted"] == []


def test_the_example_substitution_is_on_a_lesson_day() -> None:
    lessons = example_school().lessons()[(CLASS, SUBJECT)]
    assert [x.day for x in lessons if x.day == SUB_DAY] == [SUB_DAY]
