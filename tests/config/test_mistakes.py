"""Each kind of mistake is reported with the right file and line or field; all of them at once."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.config.helpers import append_line, find, line_starting, problems_of, replace_once

Expect = tuple[str, str, str]  # file, where (prefix up to a comma), part of the message
Mutation = Callable[[Path], Expect]


def _toml(old: str, new: str, field: str, message: str) -> Mutation:
    def mutate(d: Path) -> Expect:
        line = replace_once(d / "school.toml", old, new)
        return "school.toml", f"line {line}" + (f", {field}" if field else ""), message

    return mutate


def _csv(file: str, old: str, new: str, column: str, message: str) -> Mutation:
    def mutate(d: Path) -> Expect:
        line = replace_once(d / file, old, new)
        return file, f"line {line}" + (f", column {column}" if column else ""), message

    return mutate


def _append(file: str, row: str, column: str, message: str) -> Mutation:
    def mutate(d: Path) -> Expect:
        line = append_line(d / file, row)
        return file, f"line {line}" + (f", column {column}" if column else ""), message

    return mutate


def _band_backwards(d: Path) -> Expect:
    """Grades 4…1 in the first [[assessment]] band: reported on its max_grade line."""
    line = replace_once(d / "school.toml", "min_grade = 1\nmax_grade = 1", "min_grade = 4\n"
                        "max_grade = 1")
    return "school.toml", f"line {line + 1}, field assessment[0].max_grade", "below min_grade"


def _timetable(d: Path) -> list[dict[str, str]]:
    with (d / "timetable.csv").open(encoding="utf-8") as fh:
        return [dict(row, line=str(n)) for n, row in enumerate(csv.DictReader(fh), start=2)]


def _teacher_in_two_classes(d: Path) -> Expect:
    """Give 10А's subject at the time of a 7Б algebra lesson to Кузнецов (who teaches 7Б then)."""
    rows = _timetable(d)
    algebra = next(r for r in rows if r["class_id"] == "7Б" and r["subject_id"] == "algebra")
    when = (algebra["weekday"], algebra["lesson_no"])
    other = next(
        r for r in rows if r["class_id"] == "10А" and (r["weekday"], r["lesson_no"]) == when
    )
    text = (d / "assignments.csv").read_text(encoding="utf-8")
    old = next(ln for ln in text.splitlines() if ln.startswith(f"10А,{other['subject_id']},"))
    replace_once(d / "assignments.csv", old + "\n", f"10А,{other['subject_id']},kuznetsov\n")
    later = max(int(algebra["line"]), int(other["line"]))
    return "timetable.csv", f"line {later}", "teacher kuznetsov is in"


def _class_with_two_subjects(d: Path) -> Expect:
    first = next(r for r in _timetable(d) if r["class_id"] == "5А" and r["subject_id"] != "odnknr")
    line = append_line(d / "timetable.csv", f"{first['weekday']},{first['lesson_no']},5А,odnknr,")
    return "timetable.csv", f"line {line}", "class 5А has"


def _substitution_without_lesson(d: Path) -> Expect:
    line = replace_once(d / "substitutions.csv", "2026-11-24", "2026-11-28")  # a Saturday
    return "substitutions.csv", f"line {line}, column date", "has no lesson on 2026-11-28"


def _missing_file(d: Path) -> Expect:
    (d / "subjects.csv").unlink()
    return "subjects.csv", "", "file not found"


def _duplicate_pupil(d: Path) -> Expect:
    first, _ = line_starting(d / "pupils.csv", "s0009,")
    line = replace_once(d / "pupils.csv", "s0010,", "s0009,")
    return (
        "pupils.csv",
        f"line {line}, column id",
        f"duplicate pupil id 's0009' (also on line {first})",
    )


def _enrolled_after_leaving(d: Path) -> Expect:
    line, text = line_starting(d / "pupils.csv", "s0005,")
    replace_once(d / "pupils.csv", text, text.replace("2026-09-01,,", "2026-09-01,2026-08-20,"))
    return "pupils.csv", f"line {line}, column left", "before being enrolled"


def _invalid_date(d: Path) -> Expect:
    line, text = line_starting(d / "pupils.csv", "s0007,")
    replace_once(d / "pupils.csv", text, text.replace("2026-09-01", "2026-02-30"))
    return "pupils.csv", f"line {line}, column enrolled", "invalid date '2026-02-30'"


def _grace_overlap(d: Path) -> Expect:
    line = replace_once(d / "school.toml", 'essay"\nmin_grade = 10', 'essay"\nmin_grade = 9')
    return "school.toml", f"line {line + 1}, field grace[9].min_grade", "overlap the band 5–9"


def _plan_file(name: str, message: str) -> Mutation:
    def mutate(d: Path) -> Expect:
        (d / "plans" / "7Б_algebra.csv").rename(d / "plans" / name)
        return f"plans/{name}", "", message

    return mutate


def _plan_gap(d: Path) -> Expect:
    file = "plans/7Б_algebra.csv"
    line, text = line_starting(d / file, "5,")
    replace_once(d / file, text + "\n", "6" + text[1:] + "\n")
    return file, f"line {line}, column number", "expected lesson number 5, got 6"


CASES: dict[str, Mutation] = {
    # ---------------------------------------------------------------- school.toml
    "toml syntax error": _toml("weighted = true", "weighted = tru", "", "TOML syntax error"),
    "unknown key (typo)": _toml(
        '# day_end = "23:59"',
        'day_edn = "23:00"',
        "field lock.day_edn",
        "unknown key 'day_edn' (did you mean 'day_end'?)",
    ),
    "wrong type": _toml(
        "week_days = 5 ", 'week_days = "5" ', "field year.week_days", "expected a whole number"
    ),
    "bad date": _toml(
        "start = 2026-09-01\nend = 2027-05-31", 'start = "1 сентября"\nend = 2027-05-31',
        "field year.start",
        "expected a date as YYYY-MM-DD, e.g. 2026-09-01 (дата в виде ГГГГ-ММ-ДД)",
    ),
    "bad time": _toml('# day_end = "23:59"', 'day_end = "25:00"', "field lock.day_end", ""),
    "bad timezone": _toml(
        '"Europe/Moscow"', '"Europe/Moskva"', "field school.timezone", "unknown time zone"
    ),
    "overlapping periods": _toml(
        "start = 2026-11-05", "start = 2026-10-20", "", "overlaps period '1 четверть'"
    ),
    "assessment of an unknown subject": _toml(
        'subjects = ["odnknr"]', 'subjects = ["odnkr"]', "field assessment[1].subjects",
        "assessment: unknown subject 'odnkr' (did you mean 'odnknr'?)",
    ),
    "assessment grades backwards": _toml(
        "max_grade = 1\n", "max_grade = 0\n", "field assessment[0].max_grade",
        "greater than or equal to 1",
    ),
    "assessment band backwards": _band_backwards,
    "assessment scheme unknown": _toml(
        'scheme = "pass_fail"', 'scheme = "pass"', "field assessment[1].scheme", "pass_fail",
    ),
    "period outside the year": _toml(
        "end = 2027-05-26", "end = 2027-06-15", "", "is outside the year"
    ),
    "holiday outside the year": _toml(
        "end = 2027-05-10", "end = 2027-06-10", "", "is outside the year"
    ),
    "grace for an unknown work type": _toml(
        'work_type = "lab"',
        'work_type = "labs"',
        "field grace[3].work_type",
        "unknown work type 'labs' (did you mean 'lab'?)",
    ),
    "grace bands overlapping": _grace_overlap,
    "thresholds not increasing": _toml(
        "# thresholds = [2.65, 3.65, 4.65]",
        "thresholds = [3.65, 2.65, 4.65]",
        "field grading.thresholds",
        "strictly increase",
    ),
    "unknown backend kind": _toml(
        'kind = "local"', 'kind = "dropbox"', "field backend.kind", "'local' or 'google'"
    ),
    # ---------------------------------------------------------------- CSV files
    "missing file": _missing_file,
    "header missing a column": _csv(
        "pupils.csv", ",enrolled,", ",enroled,", "", "missing the column 'enrolled'"
    ),
    "unknown column": _csv(
        "pupils.csv", ",enrolled,", ",enroled,", "enroled", "did you mean 'enrolled'?"
    ),
    "too many values": _append("classes.csv", "11А,11,orlov,extra", "", "4 values for 3 columns"),
    "unknown class of a pupil": _csv(
        "pupils.csv", "s0005,5А,", "s0005,5Я,", "class_id", "unknown class '5Я'"
    ),
    "duplicate pupil id": _duplicate_pupil,
    "invalid e-mail": _csv(
        "parents.csv", "antonova.kv.example@gmail.com", "antonova.kv@", "email", "invalid e-mail"
    ),
    "invalid date": _invalid_date,
    "enrolled after leaving": _enrolled_after_leaving,
    "malformed consent date": _csv(
        "parents.csv",
        "antonova.kv.example@gmail.com,2026-09-02",
        "antonova.kv.example@gmail.com,31.02.2026",
        "consent",
        "invalid date '31.02.2026'",
    ),
    "class grade mismatch": _csv("classes.csv", "7Б,7,", "7Б,8,", "grade", "not in grade 8"),
    "unknown pupil of a parent": _csv(
        "parents.csv", "p0001,s0001,", "p0001,s9999,", "pupil_id", "unknown pupil 's9999'"
    ),
    "unknown class teacher": _csv(
        "classes.csv", "10А,10,orlov", "10А,10,orlof", "class_teacher_id", "did you mean 'orlov'?"
    ),
    "unknown teacher in assignments": _csv(
        "assignments.csv", "5А,music,romanova", "5А,music,romanov", "teacher_id", "unknown teacher"
    ),
    "timetable slot outside the week": _append(
        "timetable.csv", "6,1,5А,music,", "weekday", "the school week is 1..5"
    ),
    "timetable lesson number out of range": _append(
        "timetable.csv", "1,9,5А,music,", "lesson_no", "lesson 9 > max_lessons_per_day = 8"
    ),
    "timetable unknown subject": _append(
        "timetable.csv", "1,7,5А,musik,", "subject_id", "did you mean 'music'?"
    ),
    "timetable slot without assignment": _append(
        "timetable.csv", "1,7,5А,chemistry,", "", "5А/chemistry has no teacher in assignments.csv"
    ),
    "timetable teacher not assigned": _append(
        "timetable.csv", "1,7,5А,music,pavlova", "teacher_id", "pavlova is not assigned"
    ),
    "teacher in two classes at once": _teacher_in_two_classes,
    "class with two subjects at once": _class_with_two_subjects,
    "change on a holiday": _append(
        "changes.csv", "extra,2026-11-04,7,10А,algebra,volkova,,,", "", "in the holiday"
    ),
    "change on a non-school day": _append(
        "changes.csv", "extra,2026-12-05,1,10А,algebra,,,,", "", "is not a school day"
    ),
    "change of an unknown kind": _append(
        "changes.csv", "swapped,2026-12-07,1,10А,algebra,,,,", "kind", "unknown kind 'swapped'"
    ),
    "change with an unknown class": _append(
        "changes.csv", "extra,2026-12-07,7,11Б,algebra,,,,", "class_id", "unknown class '11Б'"
    ),
    "substitute unknown": _csv(
        "substitutions.csv", ",math,volkova,", ",math,volkov,", "teacher_id", "unknown teacher"
    ),
    "substitution without a lesson": _substitution_without_lesson,
    "plan with an unknown work type": _csv(
        "plans/7Б_algebra.csv",
        "Входная контрольная работа,1,control",
        "Входная контрольная работа,1,contorl",
        "work_type",
        "did you mean 'control'?",
    ),
    "plan numbering gap": _plan_gap,
    "plan of an unknown class": _plan_file("8Б_algebra.csv", "unknown class '8Б'"),
    "plan file badly named": _plan_file("algebra.csv", "name plan files <class>_<subject>.csv"),
}


@pytest.mark.parametrize("mutate", CASES.values(), ids=CASES.keys())
def test_mistake_is_reported_where_it_is(school_dir: Path, mutate: Mutation) -> None:
    file, where, message = mutate(school_dir)
    find(problems_of(school_dir), file, where, message)
