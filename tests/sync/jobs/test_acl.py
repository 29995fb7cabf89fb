"""Sharing reconciled against Drive over the emulator: drift made by people with the power to
share (the drive's manager) is found from Drive's own listing and repaired, in the next cycle for
the files whose permissions moved and by ``acl fix`` for all; a refused revoke stays a failure;
``acl check`` reports and changes nothing; the invariant checker holds afterwards.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import gspread
import pytest
from sqlalchemy import text

from sync.jobs.acl import run_acl
from sync.jobs.cycle import run_cycle
from sync.ledger.model import FileKind
from tests.sync.access_invariants import assert_invariants, violations
from tests.sync.engine_fixtures import DAY, ORGANIZER, SVC, EngineRig, at
from tests.sync.jobs.diary_helpers import consenting, diaries, diary_rig

PUPIL_EMAIL = "petya.pupil@gmail.com"


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[EngineRig]:
    rig = diary_rig(tmp_path)
    rig.set_now(at(DAY, 9))
    assert run_cycle(rig.svc).ok
    assert run_acl(rig.svc, rig.now(), fix=True).drift == []  # a clean start: nothing to repair
    rig.set_now(at(DAY, 10))
    rig.emu.reset_counters()
    yield rig
    try:
        assert_invariants(rig)  # after every test: nobody reads or writes what they must not
    finally:
        rig.close()
    assert rig.emu.bugs == []


def share(rig: EngineRig, file_id: str, body: dict[str, Any], who: str = ORGANIZER) -> None:
    rig.client(who).http_client.request(
        "post", f"https://www.googleapis.com/drive/v3/files/{file_id}/permissions",
        params={"supportsAllDrives": "true", "sendNotificationEmail": "false"}, json=body)


def make_drift(rig: EngineRig) -> dict[str, Any]:
    """The drive's manager shares a journal with a pupil, a class page with anyone who has the
    link, one child's diary with another child's parent, and makes a parent writer of their own
    child's diary."""
    journal = rig.journal("7Б", "algebra").id
    made = diaries(rig)
    pupils = [p.id for p in rig.school.pupils_in("7Б") if consenting(rig.school, p.id, DAY)]
    a, b = pupils[0], pupils[1]
    parent_b = sorted(consenting(rig.school, b, DAY))[0]
    parent_a = sorted(consenting(rig.school, a, DAY))[0]
    with rig.svc.ledger.snapshot() as tx:
        page = tx.file_for(FileKind.CLASS, "7Б")
    assert page is not None
    share(rig, journal, {"type": "user", "role": "reader", "emailAddress": PUPIL_EMAIL})
    share(rig, page.id, {"type": "anyone", "role": "reader"})
    share(rig, made[a], {"type": "user", "role": "reader", "emailAddress": parent_b})
    share(rig, made[a], {"type": "user", "role": "writer", "emailAddress": parent_a})
    return {"journal": journal, "page": page.id, "a": made[a], "parent_a": parent_a,
            "parent_b": parent_b}


def roles(rig: EngineRig, file_id: str) -> dict[str, str]:
    return {(p.email_address or p.type): p.role for p in rig.emu.files[file_id].permissions}


def audit(rig: EngineRig, kind: str) -> list[dict[str, Any]]:
    with rig.svc.ledger.engine.connect() as db:
        rows = db.execute(text("SELECT payload FROM audit WHERE kind = :k ORDER BY id"), {"k": kind})
        return [json.loads(r[0]) for r in rows]


def test_drift_is_repaired_by_the_next_cycle_and_audited(rig: EngineRig) -> None:
    d = make_drift(rig)
    assert len(violations(rig)) >= 3  # the checker sees the damage
    rig.emu.reset_counters()

    summary = run_cycle(rig.svc)

    assert summary.acl is not None and summary.acl["files"] == 3  # only the files that moved
    # the diary someone else touched is laid out again (its content is never read back)
    assert rig.calls()["sheets_write"] == 1
    assert PUPIL_EMAIL not in roles(rig, d["journal"])
    assert "anyone" not in roles(rig, d["page"])
    assert d["parent_b"] not in roles(rig, d["a"])
    assert roles(rig, d["a"])[d["parent_a"]] == "reader"
    repaired = {(e["who"], e["what"]) for e in audit(rig, "acl.repaired")}
    assert repaired == {(PUPIL_EMAIL, "extra"), ("anyone", "link"), (d["parent_b"], "extra"),
                        (d["parent_a"], "role")}
    assert_invariants(rig)
    rig.emu.reset_counters()
    run_cycle(rig.svc)  # the repairs were the service's own: nothing is listed again
    assert rig.calls() == {"drive": 1, "sheets_read": 0, "sheets_write": 0}


def test_check_reports_and_changes_nothing_then_fix_repairs(rig: EngineRig) -> None:
    d = make_drift(rig)
    rig.emu.reset_counters()

    report = run_acl(rig.svc, rig.now(), fix=False)

    with rig.svc.ledger.snapshot() as tx:
        files = len(tx.files())
    assert report.files == files and rig.calls() == {"drive": files, "sheets_read": 0,
                                                     "sheets_write": 0}  # one listing per file
    assert {(x.who, x.what) for x in report.drift} == {
        (PUPIL_EMAIL, "extra"), ("anyone", "link"), (d["parent_b"], "extra"),
        (d["parent_a"], "role")}
    assert PUPIL_EMAIL in roles(rig, d["journal"])  # a check changes nothing

    fixed = run_acl(rig.svc, rig.now(), fix=True)

    assert len(fixed.repaired) == 4 and fixed.left == [] and fixed.failed == []
    assert violations(rig) == []
    assert run_acl(rig.svc, rig.now(), fix=False).drift == []


def test_a_refused_revoke_is_a_failure_retried_later(rig: EngineRig) -> None:
    d = make_drift(rig)
    rig.emu.add_drive_member(rig.drive, SVC, "writer")  # the service lost the right to share

    failed = run_acl(rig.svc, rig.now(), fix=True)

    assert {x.who for x, _ in failed.failed} >= {PUPIL_EMAIL, "anyone", d["parent_b"]}
    assert all("SheetAccessError" in error for _, error in failed.failed)
    assert PUPIL_EMAIL in roles(rig, d["journal"]) and failed.left
    rig.emu.add_drive_member(rig.drive, SVC, "organizer")

    again = run_acl(rig.svc, rig.now(), fix=True)

    assert again.failed == [] and again.left == [] and violations(rig) == []


def test_a_teacher_cannot_share_a_journal(rig: EngineRig) -> None:
    teacher = rig.teacher_email("7Б", "algebra")
    with pytest.raises(gspread.exceptions.APIError) as refused:
        share(rig, rig.journal("7Б", "algebra").id,
              {"type": "user", "role": "reader", "emailAddress": PUPIL_EMAIL}, who=teacher)
    assert refused.value.response.status_code == 403
    assert_invariants(rig)


def test_a_parent_among_the_drives_members_is_reported_not_fixed(rig: EngineRig) -> None:
    parent = rig.school.parents_of(rig.school.pupils_in("7Б")[0].id)[0].email.lower()
    rig.emu.add_drive_member(rig.drive, parent, "reader")

    report = run_acl(rig.svc, rig.now(), fix=True)

    members = [x for x in report.drift if x.what == "drive_member"]
    assert members and {x.who for x in members} == {parent}
    assert report.left == members  # cannot be removed per file
    assert violations(rig)  # the checker sees it too
    del rig.emu.drives[rig.drive].members[parent]  # the sysadmin fixes the drive


def test_a_reassigned_journal_moves_access_within_one_cycle(rig: EngineRig) -> None:
    journal = rig.journal("7Б", "algebra").id
    old = rig.teacher_email("7Б", "algebra")
    new = next(t for t in rig.school.teachers if t.email.lower() != old.lower())
    assignments = tuple(
        dataclasses.replace(a, teacher_id=new.id)
        if (a.class_id, a.subject_id) == ("7Б", "algebra") else a for a in rig.school.assignments)
    school = dataclasses.replace(rig.school, assignments=assignments,
                                 config_version=rig.school.config_version + "-new")
    rig.school = rig.svc.school = school  # the service restarted with the new configuration
    rig.emu.reset_counters()

    run_cycle(rig.svc)

    assert roles(rig, journal).get(new.email.lower()) == "writer"
    assert old.lower() not in roles(rig, journal)
    assert rig.calls()["drive"] == 1 + 2  # the change list, one grant, one revoke
    rig.emu.reset_counters()
    run_cycle(rig.svc)
    assert rig.calls() == {"drive": 1, "sheets_read": 0, "sheets_write": 0}
