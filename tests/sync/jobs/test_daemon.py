"""The daemon: jobs on school time driven by a fake clock, guarded, persisted slots, a clean stop.

No real sleeping beyond milliseconds: the tick is called directly with the clock moved, and the
loop test runs ``run_daemon`` in a thread with a 5 ms tick.
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import threading
from collections.abc import Iterator
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import schedule

from config.school import School
from sync.backends.local.backend import LocalBackend
from sync.jobs.daemon import Daemon, DaemonJob, backups_dir, default_jobs, run_daemon
from sync.jobs.service import Service
from sync.ledger.ledger import Ledger
from tests.sync.layout_helpers import example_school

MSK = ZoneInfo("Europe/Moscow")
START = datetime(2026, 9, 14, 20, 0, tzinfo=MSK)  # a Monday evening


class Clock:
    def __init__(self, start: datetime) -> None:
        self.current = start
        self.lock = threading.Lock()

    def __call__(self) -> datetime:
        with self.lock:
            return self.current

    def advance(self, **delta: float) -> None:
        with self.lock:
            self.current += timedelta(**delta)


@pytest.fixture
def school(tmp_path: Path) -> School:
    return dataclasses.replace(example_school(), ledger_path=tmp_path / "var" / "ledger.sqlite3")


def open_service(school: School, clock: Clock) -> Service:
    ledger = Ledger.open(school.ledger_path, now=clock())
    return Service(
        school=school,
        backend=LocalBackend(school.ledger_path.parent / "sheets", clock=clock),
        ledger=ledger,
        clock=clock,
    )


@pytest.fixture
def clock() -> Clock:
    return Clock(START)


@pytest.fixture
def svc(school: School, clock: Clock) -> Iterator[Service]:
    service = open_service(school, clock)
    yield service
    service.close()


class Recorder:
    """Stand-in job bodies that remember when (service time) they ran."""

    def __init__(self) -> None:
        self.calls: dict[str, list[datetime]] = {}

    def job(self, name: str, *, fail: int = 0) -> DaemonJob:
        failures = [fail]

        def action(svc: Service) -> None:
            self.calls.setdefault(name, []).append(svc.now())
            if failures[0] > 0:
                failures[0] -= 1
                raise RuntimeError(f"{name} broke")

        return DaemonJob(name, action)

    def times(self, name: str) -> list[str]:
        return [t.strftime("%d %H:%M") for t in self.calls.get(name, [])]


def jobs_like_default(school: School, rec: Recorder, **fail: int) -> list[DaemonJob]:
    """The default jobs' timing with recording bodies."""
    return [
        dataclasses.replace(j, action=rec.job(j.name, fail=fail.get(j.name, 0)).action)
        for j in default_jobs(school)
    ]


def run_for(daemon: Daemon, clock: Clock, minutes: int, step: int = 1) -> None:
    for _ in range(0, minutes, step):
        daemon.tick()
        clock.advance(minutes=step)


def test_default_jobs_follow_the_schools_schedule(school: School) -> None:
    jobs = {j.name: j for j in default_jobs(school)}
    assert list(jobs) == ["lock", "sync", "backup", "reports", "acl"]  # lock first, then sync
    assert jobs["reports"].every == timedelta(minutes=30)
    assert jobs["sync"].every == timedelta(minutes=school.schedule.sync_every_minutes)
    assert jobs["lock"].at == school.schedule.lock_at == time(0, 0)  # right after day_end
    assert jobs["backup"].at == school.schedule.backup_at == time(2, 30)
    assert jobs["acl"].at == school.schedule.acl_at == time(3, 0)  # sharing checked daily


def test_sync_every_n_minutes_lock_nightly_backup_daily(svc: Service, clock: Clock) -> None:
    rec = Recorder()
    daemon = Daemon(svc, jobs_like_default(svc.school, rec))
    run_for(daemon, clock, minutes=26 * 60)  # Monday 20:00 … Tuesday 22:00

    syncs = rec.calls["sync"]
    assert len(syncs) == 26 * 60 // 5
    assert all(b - a == timedelta(minutes=5) for a, b in itertools.pairwise(syncs))
    # first tick catches up (no slot handled yet), then once a night / once a day
    assert rec.times("lock") == ["14 20:00", "15 00:00"]
    assert rec.times("backup") == ["14 20:00", "15 02:30"]


def test_the_schools_zone_decides_not_the_clocks(svc: Service, clock: Clock) -> None:
    """A clock that answers in UTC: the lock still runs at 00:00 Moscow time (21:00 UTC)."""
    rec = Recorder()
    daemon = Daemon(svc, jobs_like_default(svc.school, rec))
    daemon.tick()  # catch-up run at start
    clock.current = datetime(2026, 9, 14, 20, 55, tzinfo=ZoneInfo("UTC"))
    run_for(daemon, clock, minutes=10)
    assert rec.times("lock")[-1] == "15 00:00"


def test_a_failing_job_is_logged_recorded_and_stays_scheduled(
    svc: Service, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    rec = Recorder()
    daemon = Daemon(
        svc, jobs_like_default(svc.school, rec, sync=2, lock=1), retry_after=timedelta(minutes=30)
    )
    with caplog.at_level(logging.ERROR, logger="sync.jobs.daemon"):
        run_for(daemon, clock, minutes=60)

    assert len(rec.calls["sync"]) == 12  # two failures, then on every 5 minutes as before
    assert rec.times("lock") == ["14 20:00", "14 20:30"]  # failed at start, retried after 30 min
    assert rec.times("backup") == ["14 20:00"]  # the others ran although a job failed
    failures = [r for r in caplog.records if r.message.startswith("daemon: job")]
    assert [r.message for r in failures] == [
        "daemon: job lock failed",
        "daemon: job sync failed",
        "daemon: job sync failed",
    ]
    assert all(r.exc_info is not None for r in failures)  # logger.exception: with the traceback
    with svc.ledger.snapshot() as tx:
        runs = [r for r in tx.recent_runs() if r.kind.startswith("daemon.")]
    assert sorted((r.kind, r.ok, r.error) for r in runs) == [
        ("daemon.lock", False, "RuntimeError: lock broke"),
        ("daemon.sync", False, "RuntimeError: sync broke"),
        ("daemon.sync", False, "RuntimeError: sync broke"),
    ]


def test_handled_slots_survive_a_restart(school: School, clock: Clock) -> None:
    rec = Recorder()
    with open_service(school, clock) as svc:
        run_for(Daemon(svc, jobs_like_default(school, rec)), clock, minutes=5 * 60)  # … 01:00
    assert rec.times("lock") == ["14 20:00", "15 00:00"]

    clock.advance(minutes=10)  # restarted at 01:10: tonight's lock is done already
    with open_service(school, clock) as svc:
        run_for(Daemon(svc, jobs_like_default(school, rec)), clock, minutes=24 * 60)
    assert rec.times("lock") == ["14 20:00", "15 00:00", "16 00:00"]
    assert rec.times("backup") == ["14 20:00", "15 02:30"]  # the run ended at 16 01:10


def test_the_backup_job_writes_and_rotates_backups(svc: Service, clock: Clock) -> None:
    (backup_job,) = [j for j in default_jobs(svc.school) if j.name == "backup"]
    school = dataclasses.replace(
        svc.school, schedule=dataclasses.replace(svc.school.schedule, backup_keep=2)
    )
    svc.school = school
    daemon = Daemon(svc, [backup_job])
    run_for(daemon, clock, minutes=4 * 24 * 60, step=15)  # four days: 1 + 4 backups taken

    folder = backups_dir(school)
    assert folder == school.ledger_path.parent / "backups"
    kept = sorted(p.name for p in folder.iterdir())
    assert kept == [
        "ledger-20260916T233000Z.sqlite3",  # 02:30 Moscow = 23:30 UTC the day before
        "ledger-20260917T233000Z.sqlite3",
    ]


def test_run_daemon_ticks_until_stopped_on_its_own_scheduler(school: School, clock: Clock) -> None:
    rec = Recorder()
    stop = threading.Event()
    scheduler = schedule.Scheduler()
    opened: list[Service] = []

    def factory() -> Service:
        opened.append(open_service(school, clock))
        return opened[-1]

    thread = threading.Thread(
        target=run_daemon,
        args=(factory,),
        kwargs={
            "stop": stop,
            "scheduler": scheduler,
            "jobs": [dataclasses.replace(rec.job("sync", fail=1), every=timedelta(minutes=5))],
            "poll_seconds": 0.005,
            "max_sleep": 0.05,
        },
    )
    thread.start()
    try:
        for _ in range(4):  # each advance makes the sync due; the 5 ms tick notices
            clock.advance(minutes=5)
            seen = len(rec.calls.get("sync", []))
            for _ in range(400):
                if len(rec.calls.get("sync", [])) > seen:
                    break
                threading.Event().wait(0.005)
        assert len(rec.calls["sync"]) >= 4  # the first one failed; the daemon kept going
        assert len(scheduler.jobs) == 1
    finally:
        stop.set()
        thread.join(timeout=2)
    assert not thread.is_alive()
    assert scheduler.jobs == []  # its tick was cancelled on the way out
    assert schedule.jobs == []  # the module's default scheduler was never used
    assert opened[0].ledger._engine is None  # the service was closed


def test_run_daemon_raises_when_the_service_cannot_open(school: School) -> None:
    from rules.errors import StoreError

    def factory() -> Service:
        raise StoreError("ledger is locked", "stop the other daemon")

    with pytest.raises(StoreError):
        run_daemon(factory, stop=threading.Event(), scheduler=schedule.Scheduler())


# --------------------------------------------------------------------------- the real jobs


def test_the_real_jobs_on_the_emulator_accept_lock_and_back_up(tmp_path: Path) -> None:
    """Default jobs (A's cycle and lock job, the backup) on a small school over the emulator."""
    import gspread

    from sync.ledger.model import FileKind
    from tests.sync.engine_fixtures import DAY, at, make_rig

    rig = make_rig(tmp_path)
    try:
        daemon = Daemon(rig.svc, default_jobs(rig.school))
        pupil = rig.school.pupils_in("7Б", on=DAY)[0].id
        teacher = rig.teacher_email("7Б", "algebra")
        cell = rig.cell("7Б", "algebra", pupil, DAY)
        rig.type(teacher, rig.journal("7Б", "algebra").id, cell, "5")

        rig.set_now(at(DAY, 10))
        assert daemon.tick() == [("lock", True), ("sync", True), ("backup", True),
                                 ("reports", True), ("acl", True)]
        with rig.svc.ledger.snapshot() as tx:
            (entry,) = [e for e in tx.entries("7Б/algebra") if e.pupil_id == pupil]
            drift = tx.acl_drift()
        assert (entry.value, entry.locked_at) == ("5", None)
        assert drift == []  # every file's sharing listed from Drive: as wanted

        rig.set_now(at(DAY + timedelta(days=1), 0, 15))
        assert daemon.tick() == [("lock", True), ("sync", True), ("reports", True)]
        with rig.svc.ledger.snapshot() as tx:
            (entry,) = [e for e in tx.entries("7Б/algebra") if e.pupil_id == pupil]
            journal = tx.file_for(FileKind.JOURNAL, "7Б/algebra")
        assert entry.locked_at is not None
        assert journal is not None
        with pytest.raises(gspread.exceptions.APIError, match="protected cell"):
            rig.type(teacher, journal.id, cell, "2")  # yesterday is closed to the teacher

        rig.set_now(at(DAY + timedelta(days=1), 2, 30))
        assert daemon.tick() == [("sync", True), ("backup", True), ("reports", True)]
        assert len(list(backups_dir(rig.school).glob("ledger-*.sqlite3"))) == 2
        with rig.svc.ledger.snapshot() as tx:
            kinds = [r.kind for r in tx.recent_runs()]
        assert kinds.count("lock") == 2 and kinds.count("sync") == 3
        assert not [k for k in kinds if k.startswith("daemon.")]  # nothing failed
    finally:
        rig.close()
