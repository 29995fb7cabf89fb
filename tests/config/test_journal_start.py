"""``[year] journal_start``: the go-live day of a school that starts ejournal mid-year."""

from __future__ import annotations

import re
import tomllib
from datetime import date
from pathlib import Path

import pytest

from config import load_school
from tests.config.conftest import EXAMPLE
from tests.config.helpers import find, problems_of, replace_once

COMMENTED = "# journal_start = 2026-09-01"


def test_by_default_the_journal_is_kept_from_the_year_start(school_dir: Path) -> None:
    year = load_school(school_dir, environ={}).year
    assert year.journal_start is None
    assert year.journal_from == year.start == date(2026, 9, 1)


def test_the_example_documents_the_default_as_a_comment() -> None:
    text = (EXAMPLE / "school.toml").read_text(encoding="utf-8")
    (line,) = [ln for ln in text.splitlines() if re.match(r"#? ?journal_start\b", ln)]
    assert line == COMMENTED
    documented = tomllib.loads(line.removeprefix("# "))["journal_start"]
    assert documented == tomllib.loads(text)["year"]["start"]  # the default: the year's start


@pytest.mark.parametrize("day", [date(2026, 9, 1), date(2026, 11, 23), date(2027, 5, 31)])
def test_a_day_inside_the_year_is_carried_on_the_academic_year(
    school_dir: Path, day: date
) -> None:
    replace_once(school_dir / "school.toml", COMMENTED, f"journal_start = {day.isoformat()}")
    year = load_school(school_dir, environ={}).year
    assert year.journal_start == year.journal_from == day


@pytest.mark.parametrize("day", ["2026-08-31", "2027-06-01", "2025-11-23"])
def test_a_day_outside_the_year_is_a_problem_with_line_and_field(
    school_dir: Path, day: str
) -> None:
    line = replace_once(school_dir / "school.toml", COMMENTED, f"journal_start = {day}")
    problem = find(
        problems_of(school_dir),
        "school.toml",
        f"line {line}, field year.journal_start",
        f"journal_start {day} is outside the year (2026-09-01..2027-05-31)",
    )
    assert problem.where == f"line {line}, field year.journal_start"


def test_a_day_that_is_no_date_is_a_problem(school_dir: Path) -> None:
    line = replace_once(school_dir / "school.toml", COMMENTED, 'journal_start = "23.11.2026"')
    find(problems_of(school_dir), "school.toml", f"line {line}, field year.journal_start", "date")
