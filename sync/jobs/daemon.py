"""The daemon (``ejournal run``): sync every N minutes, nightly locks, a daily backup and a daily
sharing check against Drive — never fatal.

Timing decision: ``schedule``'s ``.at()`` reads the process's local clock, while the school's times
(``[schedule] lock_at``, ``backup_at``) are in the school's zone and tests drive a fake clock. So the
daemon's own ``schedule.Scheduler`` (never the module default) runs one job, :meth:`Daemon.tick`,
every ``poll_seconds`` of real time, and the tick decides from ``svc.now()`` (school time) which
jobs are due:

* ``lock``: at ``lock_at`` every night, right after ``day_end`` (before the sync of that tick);
* ``sync``: every ``sync_every_minutes``;
* ``backup``: at ``backup_at`` every day, into ``backups/`` beside the ledger, ``backup_keep`` kept;
* ``reports``: every 30 minutes, builds the reports that are due and retries deliveries.
* ``acl``: at ``acl_at`` every day, every file's sharing listed from Drive and repaired
  (``sync.jobs.acl``).

A daily job's last handled slot is kept in the ledger's state (``daemon.<job>.slot``), so a daemon
restarted after the night's lock still locks once, and not twice. Every job is guarded: an exception is logged
with ``logger.exception``, recorded as a failed run (``runs`` row, kind ``daemon.<job>``), and the
job stays scheduled (a daily job is retried after ``retry_after``). The sleep between passes is the
scheduler's ``idle_seconds`` capped by ``max_sleep`` and cut short by the ``stop`` event, which the
CLI sets on SIGTERM/SIGINT (``run_daemon`` installs no signal handlers, so tests can drive it).
"""

from __future__ import annotations

import logging
import threading
import time as _time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from pathlib import Path
from typing import cast

import schedule

from config.school import School
from sync.jobs.service import Service
from sync.ledger.state import DAEMON_SLOT_KEY

logger = logging.getLogger(__name__)
REPORTS_EVERY = timedelta(minutes=30)  # the reports job looks for due reports and deliveries


def backups_dir(school: School) -> Path:
    """Where the daily backups go: ``backups/`` beside the ledger."""
    return school.ledger_path.parent / "backups"


@dataclass
class DaemonJob:
    """One guarded job: either every ``every`` or daily at ``at`` (school time)."""

    name: str
    action: Callable[[Service], object]
    every: timedelta | None = None
    at: time | None = None
    last_start: datetime | None = None  # interval jobs: the last start (this process)
    done_slot: datetime | None = None  # daily jobs: the last slot handled (ledger state)
    retry_at: datetime | None = None  # daily jobs: after a failure, not before this

    def slot(self, now: datetime) -> datetime:
        """The latest moment ``at`` (school time) not after ``now``."""
        assert self.at is not None
        moment = datetime.combine(now.date(), self.at, tzinfo=now.tzinfo)
        return moment if moment <= now else moment - timedelta(days=1)

    def due(self, now: datetime) -> bool:
        if self.every is not None:
            return self.last_start is None or now - self.last_start >= self.every
        if self.retry_at is not None and now < self.retry_at:
            return False
        return self.done_slot is None or self.done_slot < self.slot(now)


def default_jobs(school: School) -> list[DaemonJob]:
    """lock (nightly), sync (every N minutes), backup and acl (daily), reports (what is due, and
    the deliveries to retry: ``sync.jobs.report_schedule``) — in the order a tick runs them."""
    settings = school.schedule
    return [
        DaemonJob("lock", _lock, at=settings.lock_at),
        DaemonJob("sync", _sync, every=timedelta(minutes=settings.sync_every_minutes)),
        DaemonJob("backup", _backup, at=settings.backup_at),
        DaemonJob("reports", _reports, every=REPORTS_EVERY),
        DaemonJob("acl", _acl, at=settings.acl_at),
    ]


def _sync(svc: Service) -> object:
    from sync.jobs.cycle import run_cycle

    return run_cycle(svc)


def _lock(svc: Service) -> object:
    from sync.jobs.locking import run_locks

    return run_locks(svc)


def _reports(svc: Service) -> object:
    from sync.jobs.report_schedule import reports_job

    return reports_job(svc)


def _acl(svc: Service) -> object:
    from sync.jobs.acl import run_acl

    return run_acl(svc, svc.now(), fix=True)


def _backup(svc: Service) -> object:
    from sync.ledger.backup import backup

    return backup(
        svc.ledger, backups_dir(svc.school), svc.now(), keep=svc.school.schedule.backup_keep
    )


class Daemon:
    """The jobs of one service and the tick that runs those that are due."""

    def __init__(
        self,
        svc: Service,
        jobs: Sequence[DaemonJob],
        *,
        retry_after: timedelta = timedelta(minutes=5),
        stop: threading.Event | None = None,
    ) -> None:
        self.svc = svc
        self.jobs = list(jobs)
        self.retry_after = retry_after
        self.stop = stop or threading.Event()
        with svc.ledger.snapshot() as tx:
            for job in self.jobs:
                if job.at is not None:
                    text = tx.state_get(DAEMON_SLOT_KEY.format(name=job.name))
                    job.done_slot = datetime.fromisoformat(text) if text else None

    def tick(self) -> list[tuple[str, bool]]:
        """Run every due job once, in order; returns (job, ok) for each job run."""
        ran: list[tuple[str, bool]] = []
        for job in self.jobs:
            if self.stop.is_set():
                break
            now = self.svc.now()
            if job.due(now):
                ran.append((job.name, self._run(job, now)))
        return ran

    def _run(self, job: DaemonJob, now: datetime) -> bool:
        """Run one job guarded: whatever it raises is logged and recorded, never propagated."""
        if job.every is not None:
            job.last_start = now
        began = _time.monotonic()
        try:
            result = job.action(self.svc)
        except Exception as exc:
            logger.exception("daemon: job %s failed", job.name)
            self._record_failure(job, now, exc)
            if job.at is not None:
                job.retry_at = now + self.retry_after
            return False
        if job.at is not None:
            self._mark_done(job, job.slot(now))
        failed, errors = len(getattr(result, "failed", ())), len(getattr(result, "errors", ()))
        if failed or errors:  # a sync or lock run finished, but not whole: retried next time
            logger.error("daemon: job %s finished with %d failed file(s) and %d error(s)",
                         job.name, failed, errors)
            return False
        logger.info("daemon: job %s done in %.2f s", job.name, _time.monotonic() - began)
        return True

    def _mark_done(self, job: DaemonJob, slot: datetime) -> None:
        job.done_slot, job.retry_at = slot, None
        try:
            with self.svc.ledger.transaction() as tx:
                tx.state_set(DAEMON_SLOT_KEY.format(name=job.name), slot.isoformat(), self.svc.now())
        except Exception:  # the job itself went well; at worst it runs again after a restart
            logger.exception("daemon: could not record job %s's slot", job.name)

    def _record_failure(self, job: DaemonJob, started: datetime, exc: Exception) -> None:
        error = f"{type(exc).__name__}: {getattr(exc, 'message', None) or exc}"[:500]
        try:
            with self.svc.ledger.transaction() as tx:
                run_id = tx.run_started(f"daemon.{job.name}", started)
                tx.run_finished(run_id, self.svc.now(), {}, error=error)
        except Exception:
            logger.exception("daemon: could not record job %s's failure in the ledger", job.name)


def run_daemon(
    svc_factory: Callable[[], Service],
    *,
    stop: threading.Event,
    scheduler: schedule.Scheduler | None = None,
    jobs: Sequence[DaemonJob] | None = None,
    poll_seconds: float = 30.0,
    max_sleep: float = 60.0,
    retry_after: timedelta = timedelta(minutes=5),
) -> None:
    """Run the jobs until ``stop`` is set; returns after the job in progress has finished.

    ``svc_factory`` opens the service once (an error there is raised: nothing could run);
    ``jobs`` default to :func:`default_jobs`; ``poll_seconds`` is the real-time interval of the
    tick (fractions work: ``schedule`` keeps intervals as ``timedelta``).
    """
    scheduler = scheduler if scheduler is not None else schedule.Scheduler()
    svc = svc_factory()
    try:
        daemon = Daemon(
            svc,
            jobs if jobs is not None else default_jobs(svc.school),
            retry_after=retry_after,
            stop=stop,
        )
        tick = scheduler.every(cast(int, poll_seconds)).seconds.do(daemon.tick)
        logger.info(
            "daemon started: jobs %s, tick every %s s",
            ", ".join(j.name for j in daemon.jobs),
            poll_seconds,
        )
        try:
            daemon.tick()
            while not stop.is_set():
                scheduler.run_pending()
                idle = scheduler.idle_seconds
                stop.wait(min(max(idle if idle is not None else max_sleep, 0.0), max_sleep))
        finally:
            scheduler.cancel_job(tick)
        logger.info("daemon stopped")
    finally:
        svc.close()
