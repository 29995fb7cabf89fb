"""Recommended period marks and deviation remarks when the school went live mid-period.

Marks of lessons before ``journal_start`` are on paper, so for such a period the service neither
recommends a mark nor flags the teacher's period mark as deviating from one.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from config import School, load_school
from rules.context import PeriodEntry, ValidationContext
from sync.jobs.journal_service import deviation_findings, recommendations
from sync.ledger.model import EntryRecord

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "example" / "school.toml"
CLASS, SUBJECT = "7Б", "algebra"
SEEN = datetime(2026, 11, 27, 12, tzinfo=UTC)


@pytest.fixture(scope="module")
def example() -> School:
    return load_school(EXAMPLE)


def going_live(school: School, day: date | None) -> School:
    return replace(school, year=replace(school.year, journal_start=day))


def second_quarter_marks(school: School, pupil_id: str) -> tuple[list, list[EntryRecord]]:
    """7Б algebra: the lessons of the year, and a «5» in each of the last three 2nd-quarter lessons."""
    lessons = school.lessons()[(CLASS, SUBJECT)]
    q2 = [x for x in lessons if x.period == "2 четверть" and x.day <= date(2026, 11, 27)][-3:]
    entries = [
        EntryRecord(f"{CLASS}/{SUBJECT}", pupil_id, x.day, x.lesson_no, "5", "5", "mark",
                    SEEN, SEEN, None, None)
        for x in q2
    ]
    return lessons, entries


def context(school: School, lessons: list) -> ValidationContext:
    return ValidationContext(
        journal=f"{CLASS}/{SUBJECT}", grade=7, today=date(2026, 12, 25),
        now=datetime(2026, 12, 25, 12, tzinfo=UTC), policies=school.policies,
        pupils=school.pupils_in(CLASS), lessons=tuple(lessons),
        journal_start=school.year.journal_start,
    )


@pytest.mark.parametrize(
    ("journal_start", "recommended"),
    [
        pytest.param(None, "5", id="kept-electronically-from-the-start"),
        pytest.param(date(2026, 11, 23), None, id="live-from-23.11-2nd-quarter-partly-on-paper"),
        pytest.param(date(2026, 11, 5), "5", id="live-from-the-quarter's-first-day"),
    ],
)
def test_no_recommendation_for_a_period_partly_on_paper(
    example: School, journal_start: date | None, recommended: str | None
) -> None:
    school = going_live(example, journal_start)
    pupil = school.pupils_in(CLASS)[0].id
    lessons, entries = second_quarter_marks(school, pupil)
    recs = recommendations(school, SUBJECT, lessons, entries, {})
    got = recs.get(("2 четверть", pupil))
    assert (got.value if got else None) == recommended


@pytest.mark.parametrize(
    ("journal_start", "flagged"),
    [
        pytest.param(None, True, id="kept-electronically-from-the-start"),
        pytest.param(date(2026, 11, 23), False, id="live-from-23.11-2nd-quarter-partly-on-paper"),
    ],
)
def test_a_period_mark_is_not_judged_against_paper_marks(
    example: School, journal_start: date | None, flagged: bool
) -> None:
    school = going_live(example, journal_start)
    pupil = school.pupils_in(CLASS)[0].id
    lessons, entries = second_quarter_marks(school, pupil)
    recs = recommendations(school, SUBJECT, lessons, entries, {})
    ctx = context(school, lessons)
    mark = (PeriodEntry(pupil, "2 четверть", "3", "'2 четверть'!Z5"),)  # 3 against three «5»
    found = deviation_findings(school, ctx, mark, recs)
    assert [f.rule for f in found] == (["period_mark_deviation"] if flagged else [])
