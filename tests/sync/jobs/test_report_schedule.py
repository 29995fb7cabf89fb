"""When the daemon builds the reports (tiny school of tests.reports: periods 07.09–18.09 and
21.09–02.10, the default [schedule] and [lock]): the weekly analysis on Monday 07:30, the monthly
report on the 1st at 07:00, a period's reports at the lock job after its mark window closes
(3 days after its end), each once; a failing build is retried."""

from __future__ import annotations

import dataclasses
from datetime import date, datetime, time
from pathlib import Path

import pytest

from config import load_school
from config.school import School
from sync.jobs.report_schedule import Due, due_reports, run_due_reports, window_closed
from sync.jobs.reports import reports_dir
from sync.ledger.ledger import Ledger
from tests.reports.ledger_data import at, fill
from tests.reports.school_files import write_school


@pytest.fixture
def school(tmp_path: Path) -> School:
    return load_school(write_school(tmp_path / "school"))


def test_weekly_on_monday_morning(school: School) -> None:
    assert due_reports(school, at(date(2026, 9, 14), 7, 29), {}) == []
    assert due_reports(school, at(date(2026, 9, 14), 7, 30), {}) == [Due("weekly", "2026-09-07")]
    assert due_reports(school, at(date(2026, 9, 16), 12), {"weekly": "2026-09-07"}) == []
    # a daemon back on Thursday still builds last week's (once)
    assert due_reports(school, at(date(2026, 9, 17), 12), {}) == [Due("weekly", "2026-09-07")]


def test_monthly_on_the_first(school: School) -> None:
    due = due_reports(school, at(date(2026, 10, 1), 7), {"weekly": "2026-09-21",
                                                         "period:1 четверть": "1 четверть"})
    assert Due("monthly", "2026-09-01") in due
    assert Due("monthly", "2026-09-01") not in due_reports(
        school, at(date(2026, 10, 1), 6, 59), {})


def test_period_reports_when_the_mark_window_has_closed(school: School) -> None:
    # period 1 ends 18.09; marks open 3 more days, to 21.09 23:59; the lock job reads at 00:00
    assert window_closed(school, date(2026, 9, 18)) == at(date(2026, 9, 22), 0, 0)
    done = {"weekly": "2026-09-14"}
    assert due_reports(school, at(date(2026, 9, 21), 23, 59), done) == []
    assert due_reports(school, at(date(2026, 9, 22), 0, 0), done) == [
        Due("period:1 четверть", "1 четверть")]
    late = due_reports(school, at(date(2026, 10, 6), 0, 15), {
        "weekly": "2026-09-28", "monthly": "2026-09-01", "period:1 четверть": "1 четверть"})
    assert late == [Due("period:2 четверть", "2 четверть"), Due("period:год", "год")]


def test_no_reports_for_periods_before_going_live(school: School) -> None:
    live = dataclasses.replace(school, year=dataclasses.replace(
        school.year, journal_start=date(2026, 9, 21)))
    due = due_reports(live, at(date(2026, 9, 22), 8), {})
    assert Due("period:1 четверть", "1 четверть") not in due
    assert Due("weekly", "2026-09-14") not in due  # that week was still on paper


def test_the_job_builds_once_and_retries_a_failure(school: School) -> None:
    with Ledger.open(school.ledger_path, now=at(date(2026, 9, 7), 7)) as ledger:
        fill(ledger, school)
        folder = reports_dir(school) / "1 четверть"
        folder.parent.mkdir(parents=True)
        folder.write_text("a file where the folder should be")  # the period's build fails
        now = at(date(2026, 9, 22), 8)
        with pytest.raises(OSError):
            run_due_reports(school, ledger, now)
        weekly = reports_dir(school) / "weekly" / "Анализ ведения журналов 2026-09-14.xlsx"
        assert weekly.is_file()  # the other due report was built anyway
        folder.unlink()
        built = run_due_reports(school, ledger, datetime.combine(
            date(2026, 9, 22), time(8, 30), tzinfo=school.timezone))
        assert [b.kind for b in built] == ["results", "attendance", "control", "curriculum",
                                           "archive"]
        assert run_due_reports(school, ledger, at(date(2026, 9, 22), 9)) == []  # once
