"""Building the reports: a snapshot of the ledger → ``reports/`` workbooks in the reports folder
beside the ledger → the outbox of deliveries (``sync.jobs.delivery``).

One function per kind of report; :func:`build_report` picks one by name (the CLI's ``ejournal
report KIND``, the daemon's schedule). The weekly analysis also records its remarks in the ledger
— only when it is the newest analysis, so rebuilding an old week never rewinds the statuses.
Workbooks are written to a temporary name and renamed, so a crash never leaves half a file.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from config.school import School
from reports.archive import write_archive
from reports.attendance import write_attendance
from reports.control_works import write_control_works
from reports.curriculum import write_curriculum
from reports.keeping import Defect, scope_period
from reports.monthly import month_weeks, write_monthly
from reports.results_book import write_results
from reports.snapshot import Snapshot
from reports.span import Span, month_span, period_span, week_span
from reports.statement import write_statement
from reports.weekly import Analysis, analyse, write_weekly
from rules.errors import ReportError
from sync.jobs.report_data import load_snapshot
from sync.layout.board.spec import BoardContent
from sync.ledger.ledger import Ledger
from sync.ledger.reports import RemarkRecord
from sync.ledger.state import WEEKLY_ANALYSED_KEY

logger = logging.getLogger(__name__)
T = TypeVar("T")

PERIOD_REPORTS = ("results", "attendance", "control", "curriculum")
REPORT_KINDS = ("weekly", "monthly", *PERIOD_REPORTS, "archive", "statement")
FILE_NAMES = {
    "results": "Итоги успеваемости",
    "attendance": "Посещаемость",
    "control": "Контрольные работы",
    "curriculum": "Выполнение программы",
}
WRITERS: dict[str, Callable[[Snapshot, Span, Path], Any]] = {
    "results": write_results,
    "attendance": write_attendance,
    "control": write_control_works,
    "curriculum": write_curriculum,
}


@dataclass
class BuiltReport:
    """What one build wrote: the kind, the span's name and the workbooks (absolute paths)."""

    kind: str
    span: str
    paths: list[Path] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    board: BoardContent | None = None  # the newest weekly analysis: what the board shows


def reports_dir(school: School) -> Path:
    """Where the workbooks go: ``reports/<year>/`` beside the ledger (``reports/2026-27``)."""
    return school.ledger_path.parent / "reports" / school.year.name.replace("/", "-")


def build_period_report(
    school: School, ledger: Ledger, now: datetime, kind: str, period: str | None
) -> BuiltReport:
    """Report 3–6 (``kind`` in :data:`PERIOD_REPORTS`) for a period name or the year."""
    span = period_span(school, period)
    year = school.year
    since = None if span.whole_year else span.start
    if kind == "control":
        since = None  # the checks look back over the year (frequency, 10 % of the lessons)
    snapshot = load_snapshot(school, ledger, now, since=since, until=span.end)
    path = _folder(school, span) / f"{FILE_NAMES[kind]} · {span.name}.xlsx"
    _atomic(path, lambda tmp: WRITERS[kind](snapshot, span, tmp))
    logger.info("report %s for %s written (%s)", kind, span.name, year.name)
    return BuiltReport(kind, span.name, [path])


def build_archive(school: School, ledger: Ledger, now: datetime, period: str | None
                  ) -> BuiltReport:
    """Report 7: one print-out workbook per class (a sheet per journal) for the period."""
    span = period_span(school, period)
    snapshot = load_snapshot(school, ledger, now, since=None if span.whole_year else span.start,
                             until=span.end)
    built = BuiltReport("archive", span.name)
    pages = 0
    for cls in dict.fromkeys(c for c, _ in school.journals()):
        path = _folder(school, span) / "Архив" / f"Архив {cls} · {span.name}.xlsx"
        pages += _atomic(path, partial(write_archive, snapshot, span, cls))
        built.paths.append(path)
    built.counts = {"workbooks": len(built.paths), "pages": pages}
    logger.info("archive print-outs for %s: %d workbooks, %d pages", span.name, len(built.paths),
                pages)
    return built


def build_statement(school: School, ledger: Ledger, now: datetime, period: str | None,
                    pupil_id: str) -> BuiltReport:
    """Report 8 for one pupil (logged by id only)."""
    span = period_span(school, period)
    pupil = school.pupil(pupil_id)
    if pupil is None:
        raise ReportError(f"no pupil with id {pupil_id!r}",
                          "use the pupil id of the class list (column «Код»)")
    snapshot = load_snapshot(school, ledger, now, since=None if span.whole_year else span.start,
                             until=span.end)
    path = _folder(school, span) / "Выписки" / f"Выписка {pupil.class_id} {pupil_id} · {span.name}.xlsx"
    _atomic(path, lambda tmp: write_statement(snapshot, span, pupil_id, tmp))
    logger.info("statement of pupil %s for %s written", pupil_id, span.name)
    return BuiltReport("statement", span.name, [path])


def last_week(now: datetime) -> date:
    """The Monday of the week before ``now``'s (the weekly analysis runs on Monday morning)."""
    today = now.date()
    return today - timedelta(days=today.weekday() + 7)


def build_weekly(
    school: School, ledger: Ledger, now: datetime, monday: date | None = None
) -> BuiltReport:
    """Report 1 for the week of ``monday`` (default: last week); records its remarks when it is
    the newest analysis (and then says what the teachers' board shows: ``BuiltReport.board``)."""
    span, snapshot = weekly_snapshot(school, ledger, now, monday)
    path = reports_dir(school) / "weekly" / f"Анализ ведения журналов {span.start:%Y-%m-%d}.xlsx"
    analysis = _atomic(path, lambda tmp: write_weekly(snapshot, span, tmp))
    newest = all(r.week <= span.start for r in snapshot.remarks)
    if newest:
        record_analysis(ledger, analysis, now)
    counts = {k: len(v) for k, v in analysis.record().items()}
    logger.info("weekly analysis %s: %s%s", span.start, counts,
                "" if newest else " (an older week: remarks not recorded)")
    board = board_content(school, analysis, snapshot, span) if newest else None
    return BuiltReport("weekly", span.name, [path], counts, board)


def weekly_snapshot(school: School, ledger: Ledger, now: datetime, monday: date | None = None
                    ) -> tuple[Span, Snapshot]:
    """The week of ``monday`` (default: last week) and the ledger's facts its analysis needs
    (from the start of the period its remarks are tracked in)."""
    span = week_span(school, monday or last_week(now))
    until = span.until(now.date())
    period = scope_period(school, until)
    since = min(span.start, max(period.start, school.year.journal_from) if period else span.start)
    return span, load_snapshot(school, ledger, now, since=since)


def board_content(school: School, analysis: Analysis, snapshot: Snapshot, span: Span
                  ) -> BoardContent:
    return BoardContent(school.name, school.year.name, analysis, span, snapshot.built_at,
                        snapshot.audit_head)


def latest_board(school: School, ledger: Ledger, now: datetime) -> BoardContent:
    """What the teachers' board shows now: the newest analysed week, analysed again from the
    ledger (the same figures, fixes made since counted); the empty board before the first."""
    weeks = analysed_weeks(ledger)
    if not weeks:
        return BoardContent(school.name, school.year.name)
    span, snapshot = weekly_snapshot(school, ledger, now, max(weeks))
    return board_content(school, analyse(snapshot, span), snapshot, span)


def analysed_weeks(ledger: Ledger) -> frozenset[date]:
    """The Mondays of the weekly analyses recorded so far."""
    with ledger.snapshot() as tx:
        text = tx.state_get(WEEKLY_ANALYSED_KEY)
    return frozenset(date.fromisoformat(d) for d in json.loads(text or "[]"))


def record_analysis(ledger: Ledger, analysis: Analysis, now: datetime) -> None:
    """Keep an analysis' remarks in the ledger (see ``RemarksPart.record_remarks``) and note
    its week as analysed."""
    parts = analysis.record()
    weeks = sorted(analysed_weeks(ledger) | {analysis.monday})
    with ledger.transaction() as tx:
        tx.state_set(WEEKLY_ANALYSED_KEY, json.dumps([d.isoformat() for d in weeks]), now)
        tx.record_remarks(
            analysis.monday,
            new=[_record(d, analysis.monday, "open" if d.tracked else "info") for d in parts["new"]],
            fixed=[d.id for d in parts["fixed"]],
            closed=[d.id for d in parts["closed"]],
            still_open=[_record(d, analysis.monday, "open") for d in parts["open"]],
            now=now,
        )


def build_monthly(
    school: School, ledger: Ledger, now: datetime, month: date | None = None
) -> BuiltReport:
    """Report 2 for the month of ``month`` (default: last month)."""
    first = month or (now.date().replace(day=1) - timedelta(days=1))
    span = month_span(school, first)
    weeks = month_weeks(span)
    snapshot = load_snapshot(school, ledger, now, since=weeks[0].start, until=span.end)
    path = reports_dir(school) / "monthly" / f"Работа с журналами {span.start:%Y-%m}.xlsx"
    analysed = analysed_weeks(ledger)
    _atomic(path, lambda tmp: write_monthly(snapshot, span, analysed, tmp))
    logger.info("monthly report %s written", span.start.isoformat()[:7])
    return BuiltReport("monthly", span.name, [path])


def build_report(
    school: School,
    ledger: Ledger,
    now: datetime,
    kind: str,
    *,
    period: str | None = None,
    week: date | None = None,
    month: date | None = None,
    pupil: str | None = None,
) -> BuiltReport:
    """Any report by name: ``weekly`` (``week``: a day of it), ``monthly`` (``month``: a day of
    it), one of :data:`PERIOD_REPORTS` or ``archive`` (``period``: a period name, «год» or None
    for the year) or ``statement`` (``period`` and ``pupil``: a pupil id)."""
    if kind == "weekly":
        return build_weekly(school, ledger, now, week)
    if kind == "monthly":
        return build_monthly(school, ledger, now, month)
    if kind in PERIOD_REPORTS:
        return build_period_report(school, ledger, now, kind, period)
    if kind == "archive":
        return build_archive(school, ledger, now, period)
    if kind == "statement":
        if not pupil:
            raise ReportError("the pupil statement needs a pupil id",
                              "add --pupil ID (the pupil id of the class list)")
        return build_statement(school, ledger, now, period, pupil)
    raise ReportError(f"unknown report {kind!r}",
                      f"choose one of: {', '.join(REPORT_KINDS)}")


def _record(d: Defect, monday: date, status: str) -> RemarkRecord:
    return RemarkRecord(d.id, d.class_id, d.subject_id, d.teacher_id, d.kind, d.text, d.day,
                        monday, status, None)


def _folder(school: School, span: Span) -> Path:
    return reports_dir(school) / span.name


def _atomic(path: Path, write: Callable[[Path], T]) -> T:
    """Write through a temporary file in the same folder, then rename it into place; returns
    what ``write`` returned."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.tmp{os.getpid()}.xlsx")
    try:
        result = write(tmp)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return result
