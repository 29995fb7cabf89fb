"""A pool of service principals over the Google emulator (real gspread clients, each principal
with its own per-user quota bucket): diary writes are spread over the pool and refused by no
quota; the pool's own writes are the service's (no re-render next cycle, no ACL drift); a pool
member that may not write a diary leaves it to the service account, never re-creates it.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.backends.protocol import Role
from sync.jobs.acl import run_acl
from sync.jobs.cycle import run_cycle
from sync.jobs.service import Service
from sync.layout.journal.map import LessonField
from tests.sync.access_invariants import assert_invariants
from tests.sync.engine_fixtures import DAY, SVC, EngineRig, at
from tests.sync.jobs.diary_helpers import CLASSES, diaries, diary_rig

POOL = "pool-1@ejournal.iam.gserviceaccount.com"
SUBJECTS = {"7Б": "algebra", "10А": "algebra"}
_SHEETS_ID = re.compile(r"/v4/spreadsheets/([^/:]+)")


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[EngineRig]:
    rig = diary_rig(tmp_path)
    rig.set_now(at(DAY, 9))
    assert run_cycle(rig.svc).ok
    yield rig
    rig.emu.quotas.per_user = 60  # the invariants' walk reads a lot as each person
    rig.emu.quotas.reset()
    try:
        assert_invariants(rig)
    finally:
        rig.close()
    assert rig.emu.bugs == []


def with_pool(rig: EngineRig, member: bool = True) -> None:
    """The service again (a new process), with POOL as a second principal; ``member``: POOL is
    a Manager of the shared drive, as the README asks."""
    if member:
        rig.emu.add_drive_member(rig.drive, POOL, "organizer")
    rig.svc.close()
    rig.svc = Service.open(rig.school, backend=rig.backend(), clock=rig.now,
                           pool=(rig.backend(POOL),))


def homework_everywhere(rig: EngineRig, text: str) -> None:
    """Each class's algebra teacher types homework: every diary of both classes changes."""
    for class_id in CLASSES:
        subject = SUBJECTS[class_id]
        lesson = rig.lesson_on(class_id, subject, DAY)
        where = rig.reading(class_id, subject).map.lesson_field((DAY, lesson.lesson_no),
                                                                 LessonField.HOMEWORK)
        assert where is not None
        rig.type(rig.teacher_email(class_id, subject), rig.journal(class_id, subject).id, where,
                 text)


def diary_posts(rig: EngineRig) -> Counter[str]:
    """Sheets writes on diaries since the counters were reset, by principal."""
    files = set(diaries(rig).values())
    out: Counter[str] = Counter()
    for call in rig.emu.log:
        found = _SHEETS_ID.search(call.path)
        if call.method == "POST" and found and found.group(1) in files:
            out[call.principal] += 1
    return out


def test_the_pool_splits_the_diary_writes_and_no_quota_refuses_one(rig: EngineRig) -> None:
    with_pool(rig)
    rig.emu.quotas.per_user = 30  # one principal could not write 47 diaries in one minute
    rig.emu.quotas.reset()
    rig.set_now(at(DAY, 10))
    homework_everywhere(rig, "№ 101")
    rig.emu.reset_counters()

    summary = run_cycle(rig.svc)

    assert summary.ok and summary.diaries is not None
    assert summary.diaries["written"] == 47
    assert diary_posts(rig) == {SVC: 24, POOL: 23}  # in turn: the service first
    assert [c for c in rig.emu.log if c.status == 429] == []
    assert summary.api_calls["retries"] == 0
    assert rig.emu.calls_total("sheets_write", POOL) == 23  # the pool wrote diaries only
    rig.set_now(at(DAY, 10, 5))
    rig.emu.reset_counters()
    idle = run_cycle(rig.svc)  # the pool's writes are the service's own: nothing to re-render
    assert idle.diaries is not None and idle.diaries["rendered"] == 0
    assert diary_posts(rig) == {}


def test_one_principal_alone_runs_into_the_same_quota(rig: EngineRig) -> None:
    rig.emu.quotas.per_user = 30
    rig.emu.quotas.reset()
    rig.set_now(at(DAY, 10))
    homework_everywhere(rig, "№ 101")
    rig.emu.reset_counters()

    summary = run_cycle(rig.svc)

    assert summary.diaries is not None and summary.diaries["written"] == 47  # by retrying
    assert diary_posts(rig)[SVC] > 47  # the refused attempts count too
    assert any(c.status == 429 for c in rig.emu.log)


def test_the_pool_is_the_service_for_the_acl_reconciliation(rig: EngineRig) -> None:
    with_pool(rig)
    pupil = rig.school.pupils_in("7Б")[0].id
    diary = diaries(rig)[pupil]
    rig.inspector.grant(diary, POOL, Role.WRITER)  # a direct grant of the pool member: not drift
    rig.inspector.grant(diary, "stranger@example.ru", Role.WRITER)  # this one is

    report = run_acl(rig.svc, rig.now(), fix=True)

    assert [(d.file_id, d.who) for d in report.drift] == [(diary, "stranger@example.ru")]
    assert POOL in {g.email for g in rig.inspector.grants(diary)}


def test_a_pool_member_that_may_not_write_leaves_the_diary_to_the_service(
        rig: EngineRig) -> None:
    with_pool(rig, member=False)  # forgotten in the shared drive's members
    before = dict(diaries(rig))
    rig.set_now(at(DAY, 10))
    homework_everywhere(rig, "№ 7")
    rig.emu.reset_counters()

    summary = run_cycle(rig.svc)

    assert summary.ok and summary.diaries is not None
    assert summary.diaries["written"] == 47 and summary.diaries["created"] == 0
    assert diaries(rig) == before  # none re-created
    assert diary_posts(rig) == {SVC: 47, POOL: 23}  # 23 refused (403), written by the service
    assert all(c.status == 403 for c in rig.emu.log if c.principal == POOL)
