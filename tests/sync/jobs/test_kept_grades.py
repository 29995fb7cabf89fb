"""Recommendations kept between cycles (``KeptGrades``): a period is graded again only when its
entries (or their work types) changed; the kept result is the one a fresh grading gives.

The expected marks are worked out by hand from the thresholds of the example school (2.65 / 3.65 /
4.65, at least 3 marks): 5, 5, 4 → 4.67 → «5»; 5, 5, 4, 2 → 4.0 → «4».
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from config import School, load_school
from sync.jobs import journal_service
from sync.jobs.journal_service import KeptGrades, recommendations
from sync.ledger.model import EntryValue

EXAMPLE = Path(__file__).resolve().parents[3] / "config" / "example" / "school.toml"
CLASS, SUBJECT, PUPIL = "7Б", "algebra", "p1"


@pytest.fixture(scope="module")
def school() -> School:
    return load_school(EXAMPLE)


def quarter(school: School, name: str, count: int) -> list:
    return [x for x in school.lessons()[(CLASS, SUBJECT)] if x.period == name][:count]


def values(lessons: list, marks: list[str]) -> list[EntryValue]:
    return [EntryValue(PUPIL, x.day, x.lesson_no, m) for x, m in zip(lessons, marks, strict=True)]


def test_only_the_changed_period_is_graded_again(school: School,
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    lessons = school.lessons()[(CLASS, SUBJECT)]
    q1, q2 = quarter(school, "1 четверть", 4), quarter(school, "2 четверть", 4)
    graded: list[str] = []
    real = journal_service._graded

    def counting(items, policies, by_code):  # a spy on the real function
        graded.append(items[0][1].isoformat())
        return real(items, policies, by_code)

    monkeypatch.setattr(journal_service, "_graded", counting)
    kept = KeptGrades()
    first = values(q1[:3], ["5", "5", "4"]) + values(q2[:3], ["5", "5", "4"])
    recs = recommendations(school, SUBJECT, lessons, first, {}, kept=kept, journal="j")
    assert {k: r.value for k, r in recs.items()} == {("1 четверть", PUPIL): "5",
                                                      ("2 четверть", PUPIL): "5"}
    assert len(graded) == 2

    graded.clear()  # a «2» typed in the 2nd quarter: the 1st is not graded again
    second = first + values(q2[3:4], ["2"])
    recs = recommendations(school, SUBJECT, lessons, second, {}, kept=kept, journal="j")
    assert {k: r.value for k, r in recs.items()} == {("1 четверть", PUPIL): "5",
                                                      ("2 четверть", PUPIL): "4"}
    assert graded == [q2[0].day.isoformat()]

    graded.clear()  # nothing changed: nothing graded
    again = recommendations(school, SUBJECT, lessons, second, {}, kept=kept, journal="j")
    assert again == recs and graded == []

    graded.clear()  # a work type set on a 1st-quarter lesson: its period is graded again
    codes = {(q1[0].day, q1[0].lesson_no): school.policies.work_types[0].code}
    recommendations(school, SUBJECT, lessons, second, codes, kept=kept, journal="j")
    assert graded == [q1[0].day.isoformat()]


def test_kept_results_equal_a_fresh_grading(school: School) -> None:
    lessons = school.lessons()[(CLASS, SUBJECT)]
    q1 = quarter(school, "1 четверть", 5)
    kept = KeptGrades()
    for marks in (["5", "4", "3"], ["5", "4", "3", "2"], ["5", "4", "3", "2", "5/4"]):
        entries = values(q1[:len(marks)], marks)
        fresh = recommendations(school, SUBJECT, lessons, entries, {})
        assert recommendations(school, SUBJECT, lessons, entries, {}, kept=kept,
                               journal="j") == fresh
    assert fresh[("1 четверть", PUPIL)].count == 6  # «5/4» counts as two marks
    assert date(2026, 9, 1) <= q1[0].day
