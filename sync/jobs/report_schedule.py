"""When the daemon builds which report (``[schedule]`` of school.toml, school time).

- the weekly analysis of the week before: on ``weekly_report_weekday`` at ``weekly_report_at``
  (default Monday 07:30), written to the teachers' board as well (``sync.jobs.board``; a failed
  board write is retried by every reports run until it is written);
- the monthly report on the month before: on ``monthly_report_day`` at ``monthly_report_at``;
- a period's reports (results, attendance, control works, curriculum, archive print-outs) once its
  period-mark window has closed (``[lock] period_mark_open_after_days`` after the period's end, at
  the nightly lock job that follows); the year's results and attendance after the last period's.

What was built is kept in the ledger's state (``reports.done.<name>``), so a report is built once,
and a daemon that was stopped catches up with the newest one it missed when it starts (an older
missed week or month is not built: ``ejournal report`` builds any of them by hand). Periods that
ended before the school went live (``[year] journal_start``) get no reports.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from config.school import School
from rules.errors import BackendError, DeliveryError
from sync.jobs import delivery
from sync.jobs.board import BoardOutcome, board_pending, publish_board
from sync.jobs.reports import (
    PERIOD_REPORTS,
    BuiltReport,
    build_archive,
    build_monthly,
    build_period_report,
    build_statement,
    build_weekly,
    last_week,
)
from sync.jobs.service import Service
from sync.ledger.ledger import Ledger
from sync.ledger.state import REPORTS_DONE_KEY

logger = logging.getLogger(__name__)

YEAR = "год"


@dataclass(frozen=True, slots=True)
class Due:
    """A report the schedule wants: ``name`` keys its state, ``value`` says which one."""

    name: str  # "weekly", "monthly", "period:1 четверть", "period:год"
    value: str  # the week's Monday, the month's first day, the period's name


def due_reports(school: School, now: datetime, done: dict[str, str]) -> list[Due]:
    """What is due at ``now`` and not built yet (``done``: name → value last built)."""
    settings, tz = school.schedule, school.timezone
    due: list[Due] = []
    monday = last_week(now)
    at = datetime.combine(monday + timedelta(days=6 + settings.weekly_report_weekday),
                          settings.weekly_report_at, tzinfo=tz)
    if now >= at and done.get("weekly", "") < monday.isoformat() and _in_year(school, monday):
        due.append(Due("weekly", monday.isoformat()))
    month = (now.date().replace(day=1) - timedelta(days=1)).replace(day=1)
    at = datetime.combine(now.date().replace(day=settings.monthly_report_day),
                          settings.monthly_report_at, tzinfo=tz)
    if now >= at and done.get("monthly", "") < month.isoformat() and _in_year(school, month, 31):
        due.append(Due("monthly", month.isoformat()))
    for period in school.year.all_periods:
        if period.end < school.year.journal_from:
            continue
        if now >= window_closed(school, period.end) and f"period:{period.name}" not in done:
            due.append(Due(f"period:{period.name}", period.name))
    last = max(p.end for p in school.year.all_periods)
    if now >= window_closed(school, last) and f"period:{YEAR}" not in done:
        due.append(Due(f"period:{YEAR}", YEAR))
    return due


def window_closed(school: School, period_end: date) -> datetime:
    """The nightly lock job after the period-mark window closes (marks are final then)."""
    policy, tz = school.policies.lock, school.timezone
    close_day = period_end + timedelta(days=policy.period_mark_open_after_days)
    close = datetime.combine(close_day, policy.day_end, tzinfo=tz)
    if policy.day_end == time(0, 0):
        close += timedelta(days=1)
    lock = datetime.combine(close.date(), school.schedule.lock_at, tzinfo=tz)
    return lock if lock >= close else lock + timedelta(days=1)


def build_period_set(school: School, ledger: Ledger, now: datetime, period: str | None
                     ) -> list[BuiltReport]:
    """Every report of a period (results, attendance, control works, curriculum, the archive
    print-outs); of the year (``None`` or «год»): results and attendance."""
    whole_year = period is None or period.strip().casefold() in (YEAR, "year")
    if whole_year:
        return [build_period_report(school, ledger, now, kind, None)
                for kind in ("results", "attendance")]
    built = [build_period_report(school, ledger, now, kind, period) for kind in PERIOD_REPORTS]
    built.append(build_archive(school, ledger, now, period))
    return built


def build_set(school: School, ledger: Ledger, now: datetime, day: date) -> list[BuiltReport]:
    """A full set of reports as of ``day`` (the demo): the weekly analysis of its week, every
    report of its period so far, and the statement of the first pupil of the first class."""
    period = next((p for p in school.year.all_periods if p.contains(day)), school.year.all_periods[0])
    built = [build_weekly(school, ledger, now, day)]
    built += build_period_set(school, ledger, now, period.name)
    first = school.pupils_in(school.classes[0].id, on=day) if school.classes else ()
    if first:
        built.append(build_statement(school, ledger, now, period.name, first[0].id))
    return built


def build_due(school: School, ledger: Ledger, now: datetime, item: Due) -> list[BuiltReport]:
    """Build one due report (a period: all its reports) and note it as done."""
    built: list[BuiltReport] = []
    if item.name == "weekly":
        built.append(build_weekly(school, ledger, now, date.fromisoformat(item.value)))
    elif item.name == "monthly":
        built.append(build_monthly(school, ledger, now, date.fromisoformat(item.value)))
    else:
        built.extend(build_period_set(school, ledger, now, item.value))
    with ledger.transaction() as tx:
        tx.state_set(REPORTS_DONE_KEY.format(name=item.name), item.value, now)
    for report in built:
        delivery.queue(school, ledger, report.paths, report.kind, now)
    return built


def done_reports(school: School, ledger: Ledger) -> dict[str, str]:
    """What the schedule built so far (name → value)."""
    names = ["weekly", "monthly", *(f"period:{p.name}" for p in school.year.all_periods),
             f"period:{YEAR}"]
    with ledger.snapshot() as tx:
        found = {n: tx.state_get(REPORTS_DONE_KEY.format(name=n)) for n in names}
    return {n: v for n, v in found.items() if v is not None}


def run_due_reports(school: School, ledger: Ledger, now: datetime) -> list[BuiltReport]:
    """Build whatever is due (each due report on its own: one failing does not stop the rest;
    the first failure is raised at the end, so the daemon records it and tries again)."""
    built: list[BuiltReport] = []
    failure: Exception | None = None
    for item in due_reports(school, now, done_reports(school, ledger)):
        try:
            built.extend(build_due(school, ledger, now, item))
        except Exception as exc:
            logger.exception("report %s (%s) failed", item.name, item.value)
            failure = failure or exc
    if failure is not None:
        raise failure
    return built


def _in_year(school: School, first: date, days: int = 7) -> bool:
    year = school.year
    return first + timedelta(days=days - 1) >= year.journal_from and first <= year.end


def reports_job(svc: Service) -> list[BuiltReport]:
    """The daemon's reports job: build what is due, write the teachers' board when a new weekly
    analysis was built or a board write is pending, then try the deliveries that are due. A
    failed build, board write or delivery is raised after all of them (the daemon records the
    failed run; the next run retries)."""
    now = svc.now()
    failure: Exception | None = None
    built: list[BuiltReport] = []
    try:
        built = run_due_reports(svc.school, svc.ledger, now)
    except Exception as exc:
        failure = exc
    board = publish_built(svc, built, now)
    outcome = delivery.deliver_pending(svc.school, svc.ledger, svc.backend, now)
    if failure is not None:
        raise failure
    if board is not None and board.failed:
        raise BackendError(f"the teachers' board was not written: {board.error}",
                           "it is retried by the next reports run (every 30 minutes)")
    if outcome.retrying or outcome.failed:
        raise DeliveryError(
            f"{len(outcome.retrying)} report deliveries failed and will be retried, "
            f"{len(outcome.failed)} failed for good: {'; '.join(outcome.lines()[-3:])}",
            "the workbooks are in the reports folder beside the ledger; check [reports]")
    return built


def publish_built(svc: Service, built: list[BuiltReport], now: datetime) -> BoardOutcome | None:
    """The teachers' board after a build: the newest weekly analysis among ``built``, else the
    newest from the ledger when a write is pending; None when there is nothing to write."""
    content = next((b.board for b in reversed(built) if b.board is not None), None)
    if content is None and not board_pending(svc.ledger):
        return None
    return publish_board(svc, now, content)
