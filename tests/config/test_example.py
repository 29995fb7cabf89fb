"""The example school loads cleanly and has the figures it was built with."""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from config import ScheduleSettings, School, load_school
from config.school import BackendKind
from rules import calendar
from rules.model import GradingPolicy, LockPolicy, MarkGrammar
from tests.config.conftest import EXAMPLE


@pytest.fixture(scope="module")
def school() -> School:
    return load_school(EXAMPLE / "school.toml", environ={})


def test_identity(school: School) -> None:
    assert school.name == "ГБОУ «Школа № 1234»"
    assert school.timezone.key == "Europe/Moscow"
    assert school.year.name == "2026/27"
    assert [p.name for p in school.year.periods] == [
        "1 четверть",
        "2 четверть",
        "3 четверть",
        "4 четверть",
    ]
    assert re.fullmatch(r"[0-9a-f]{12}", school.config_version)
    assert school.warnings == ()


def test_counts(school: School) -> None:
    assert [c.id for c in school.classes] == ["5А", "7Б", "10А"]
    assert Counter(p.class_id for p in school.pupils) == {"5А": 26, "7Б": 25, "10А": 22}
    assert len(school.parents) == 97
    assert len(school.teachers) == 15
    assert len(school.subjects) == 21
    assert len(school.assignments) == 45
    assert [school.weekly_lessons(c) for c in ("5А", "7Б", "10А")] == [27, 30, 30]
    assert len(school.changes) == 3
    assert len(school.substitutions) == 1
    assert {(i.class_id, i.subject_id) for i in school.plans} == {
        ("7Б", "algebra"),
        ("10А", "russian"),
    }


def test_plans_cover_the_year(school: School) -> None:
    algebra = school.plan("7Б", "algebra")
    assert sum(i.hours for i in algebra) == 102  # 3 hours a week × 34 weeks
    assert sum(i.hours for i in school.plan("10А", "russian")) == 68
    assert [i.work_type for i in algebra].count("control") == 7


def test_roster_changes_during_the_year(school: School) -> None:
    left = [p for p in school.pupils if p.left is not None]
    joined = [p for p in school.pupils if p.enrolled > school.year.start]
    assert [(p.class_id, p.left) for p in left] == [("7Б", date(2026, 11, 13))]
    assert [(p.class_id, p.enrolled) for p in joined] == [("5А", date(2026, 11, 16))]
    assert len(school.pupils_in("7Б", on=date(2026, 11, 30))) == 24


def test_parents_consent(school: School) -> None:
    consents = [p.consent for p in school.parents]
    assert 0 < consents.count(None) < 10
    assert date(2026, 12, 1) in consents  # a pending application is not a problem


def test_group_split_has_two_teachers_and_one_journal(school: School) -> None:
    assert school.teachers_of("7Б", "english") == ("lebedeva", "kovaleva")
    assert len(school.journals()) == len(school.assignments) - 1 == 44


def test_no_teacher_in_two_places(school: School) -> None:
    places = Counter((s.teacher_id, s.weekday, s.lesson_no) for s in school.slots)
    assert max(places.values()) == 1


def test_lessons_per_period(school: School) -> None:
    per_period = school.lessons_per_period()
    assert list(per_period) == [p.name for p in school.year.periods]
    assert all(count > 0 for count in per_period.values())
    per_class = [school.lessons_per_period(c.id) for c in school.classes]
    for period in per_period:
        assert sum(pc[period] for pc in per_class) == per_period[period]


def test_policies_from_toml(school: School) -> None:
    control = school.policies.work_type("control")
    assert control is not None and control.weight == 2.0 and control.assessment
    assert control.grace_days(7) == 7 and control.grace_days(3) == 1
    essay = school.policies.work_type("essay")
    assert essay is not None and essay.grace_days(10) == 10 and essay.grace_days(6) == 7
    assert school.policies.grading.weighted is True


def test_defaults_come_from_rules_model(school: School) -> None:
    assert school.policies.grammar == MarkGrammar()
    assert school.policies.lock == LockPolicy()
    assert school.policies.grading.thresholds == GradingPolicy().thresholds
    assert school.schedule == ScheduleSettings()


def test_commented_defaults_in_example_match_the_dataclasses() -> None:
    """school.toml documents defaults as `# key = value`; they must not drift from the code."""
    defaults = {
        "grammar": MarkGrammar(),
        "lock": LockPolicy(),
        "grading": GradingPolicy(),
        "schedule": ScheduleSettings(),
    }
    section, checked = "", 0
    for line in (EXAMPLE / "school.toml").read_text(encoding="utf-8").splitlines():
        if header := re.fullmatch(r"\[\[?([\w.]+)\]\]?", line):
            section = header.group(1)
        documented = re.match(r"# (\w+) = (.+?)(\s+#.*)?$", line)
        if documented and hasattr(defaults.get(section), documented.group(1)):
            key = documented.group(1)
            value = tomllib.loads(f"v = {documented.group(2)}")["v"]
            expected = getattr(defaults[section], key)
            if isinstance(expected, tuple):
                value = tuple(value)
            elif hasattr(expected, "strftime"):
                value = expected.replace(hour=int(value[:2]), minute=int(value[3:]))
                assert value.strftime("%H:%M") == documented.group(2).strip('"')
            assert value == expected, f"[{section}] {key}"
            checked += 1
    assert checked >= 18


def test_paths_are_relative_to_the_config_file(school: School) -> None:
    assert school.config_dir == EXAMPLE
    assert school.ledger_path == EXAMPLE / "var" / "ledger.sqlite3"
    assert school.backend.kind is BackendKind.LOCAL
    assert school.backend.folder == EXAMPLE / "var" / "sheets"


def test_folder_instead_of_file_is_accepted(school: School) -> None:
    assert load_school(EXAMPLE, environ={}) == school


def test_config_version_follows_the_bytes(school_dir: Path, school: School) -> None:
    assert load_school(school_dir, environ={}).config_version == school.config_version
    with (school_dir / "teachers.csv").open("a", encoding="utf-8") as fh:
        fh.write("ivanov,Иванов Пётр Ильич,ivanov.pi.teacher.example@gmail.com\n")
    assert load_school(school_dir, environ={}).config_version != school.config_version


def test_lessons_are_computed_once_per_school_and_anew_for_a_changed_one() -> None:
    school = load_school(EXAMPLE)
    first = school.lessons()
    assert school.lessons() is first
    assert first == calendar.all_lessons(school.year, school.slots, school.changes)
    fewer = dataclasses.replace(school, changes=())
    assert fewer.lessons() is not first
    assert fewer.lessons() == calendar.all_lessons(school.year, school.slots, ())
