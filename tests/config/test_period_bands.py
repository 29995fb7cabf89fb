"""``[[year.bands]]``: grades 10–11 in half-years beside quarters (and an old, school-wide
configuration still valid), as loaded from the example school and as ``ejournal check`` reports
the mistakes."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from config import load_school
from rules.model import PeriodKind
from tests.config.helpers import find, has, problems_of

HALF_YEARS = """
[[year.bands]]
min_grade = 10
max_grade = 11
period_kind = "half_year"

[[year.bands.periods]]
name = "1 полугодие"
start = 2026-09-01
end = 2026-12-29

[[year.bands.periods]]
name = "2 полугодие"
start = 2027-01-11
end = 2027-05-26
"""


def _with(folder: Path, text: str) -> int:
    """Append ``text`` to school.toml; the 1-based line of its first table header."""
    path = folder / "school.toml"
    before = path.read_text(encoding="utf-8")
    path.write_text(before + text, encoding="utf-8")
    return before.count("\n") + 2


def test_grade_ten_lives_in_half_years_beside_quarters(school_dir: Path) -> None:
    old = load_school(school_dir, environ={})
    assert old.year.bands == () and old.periods_of("10А") == old.year.periods  # still valid
    _with(school_dir, HALF_YEARS)
    school = load_school(school_dir, environ={})
    assert [p.name for p in school.periods_of("10А")] == ["1 полугодие", "2 полугодие"]
    assert school.year_of("10А").period_kind is PeriodKind.HALF_YEAR
    assert [p.name for p in school.periods_of("5А")] == [f"{n} четверть" for n in range(1, 5)]
    ten = school.lessons()[("10А", "algebra")]
    five = school.lessons()[("5А", "math")]
    assert {x.period for x in ten} == {"1 полугодие", "2 полугодие"}
    assert {x.period for x in five} == {f"{n} четверть" for n in range(1, 5)}
    # the same days as before: only the period names and numbering change for grade 10
    assert [(x.day, x.lesson_no) for x in ten] == [
        (x.day, x.lesson_no) for x in old.lessons()[("10А", "algebra")]]
    december = [x for x in ten if x.day == date(2026, 12, 1)]
    assert december and december[0].period == "1 полугодие"
    first_half = [x for x in ten if x.period == "1 полугодие"]
    assert [x.number for x in first_half] == list(range(1, len(first_half) + 1))
    assert school.lessons_per_period("10А") == {
        "1 полугодие": sum(x.period == "1 полугодие" for f in _of(school, "10А") for x in f),
        "2 полугодие": sum(x.period == "2 полугодие" for f in _of(school, "10А") for x in f),
    }
    assert [p.name for p in school.year.all_periods][:2] == ["1 полугодие", "1 четверть"]


def _of(school: object, class_id: str) -> list[list[object]]:
    return [v for (c, _), v in school.lessons().items() if c == class_id]  # type: ignore[attr-defined]


def test_overlapping_bands_are_reported(school_dir: Path) -> None:
    _with(school_dir, HALF_YEARS)
    line = _with(school_dir, HALF_YEARS.replace("min_grade = 10", "min_grade = 9"))
    find(problems_of(school_dir), "school.toml", f"line {line + 1}",
         "grades 9–11 are already in bands[0]")


def test_backwards_grades_and_a_band_period_outside_the_year(school_dir: Path) -> None:
    text = HALF_YEARS.replace("max_grade = 11", "max_grade = 8").replace(
        "end = 2027-05-26", "end = 2027-06-30")
    _with(school_dir, text)
    problems = problems_of(school_dir)
    assert has(problems, "school.toml", "grades run backwards (10 > 8)")
    assert has(problems, "school.toml", "'2 полугодие' (2027-01-11..2027-06-30) is outside the year")


def test_a_band_period_named_like_a_school_period_with_other_dates(school_dir: Path) -> None:
    _with(school_dir, HALF_YEARS.replace("1 полугодие", "1 четверть"))
    assert has(problems_of(school_dir), "school.toml", "has other dates than the school's")
