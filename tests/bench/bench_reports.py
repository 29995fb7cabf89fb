"""Reports benchmark: every period report of a generated 1,500-pupil school, timed.

Run: ``python -m tests.bench.bench_reports [--keep DIR]`` (not a pytest test; it prints figures,
it asserts nothing about speed). With ``--keep DIR`` the generated school and its ledger stay in
DIR and a second run reuses them (only the reports are built again) — e.g. for
``farm-bench -- .venv/bin/python -m tests.bench.bench_reports --keep /tmp/bench-school``.

The school: 60 classes × 25 pupils, 12 subjects per class (720 journals, 60 teachers), 6 lessons
a day, 5 days a week; the first quarter (2026-09-01..2026-10-23, 38 school days) is filled: every
lesson has its facts (a control work every 8th), about 40 % of the class gets a mark, «н» or «оп»
per lesson, every absence day a reason, every pupil a period mark in every subject. Timed: the
ledger snapshot, then each period report of the quarter (results, attendance, control works,
curriculum, archive print-outs of the 60 classes), the year's results, a weekly analysis and a
pupil statement. Printed: seconds per report, workbooks and their size, peak RSS.
"""

from __future__ import annotations

import argparse
import random
import resource
import tempfile
import time
from collections.abc import Callable
from datetime import date, datetime
from datetime import time as clock
from pathlib import Path
from typing import Any

from config import load_school
from config.school import School
from reports.archive import write_archive
from reports.attendance import write_attendance
from reports.control_works import write_control_works
from reports.curriculum import write_curriculum
from reports.results_book import write_results
from reports.span import period_span, week_span
from reports.statement import write_statement
from reports.weekly import write_weekly
from sync.jobs.report_data import load_snapshot
from sync.ledger.ledger import Ledger
from sync.ledger.model import AbsenceInput, EntryInput, LessonInput, PeriodMarkInput

SUBJECTS = ["math", "rus", "lit", "eng", "hist", "bio", "geo", "phys", "chem", "inf", "art", "pe"]
CLASSES = [f"{grade}{letter}" for grade in range(1, 12) for letter in "АБВГДЕ"][:60]
PUPILS, SLOTS = 25, 6
MARKS = ["5", "4", "4", "3", "5", "2", "5/4", "н", "н", "оп"]
TOML = """[school]
name = "Большая школа"
timezone = "Europe/Moscow"
deputy_emails = ["deputy@big.example"]

[year]
name = "2026/27"
start = 2026-09-01
end = 2027-05-31
[[year.periods]]
name = "1 четверть"
start = 2026-09-01
end = 2026-10-23
[[year.periods]]
name = "2 четверть"
start = 2026-11-05
end = 2026-12-29

[[work_types]]
code = "classwork"
name = "Работа на уроке"
[[work_types]]
code = "control"
name = "Контрольная работа"
weight = 2.0
assessment = true

[backend]
kind = "local"
folder = "sheets"
"""


def write_school(folder: Path, classes: list[str] = CLASSES) -> Path:
    """The configuration files; class c has subject SUBJECTS[(slot + c) % 12] in week slot
    ``slot``, taught by teacher «subject-c//12», who so never has two classes at once
    (``classes``: the first of CLASSES, for a smaller school)."""
    folder.mkdir(parents=True, exist_ok=True)
    rows: dict[str, list[str]] = {
        "classes.csv": ["id,grade,class_teacher_id"],
        "pupils.csv": ["id,class_id,last_name,first_name,middle_name,enrolled,left,email"],
        "parents.csv": ["id,pupil_id,full_name,email,consent"],
        "teachers.csv": ["id,full_name,email"],
        "subjects.csv": ["id,name,marked"] + [f"{s},Предмет {s},yes" for s in SUBJECTS],
        "assignments.csv": ["class_id,subject_id,teacher_id"],
        "timetable.csv": ["weekday,lesson_no,class_id,subject_id,teacher_id"],
        "changes.csv": ["kind,date,lesson_no,class_id,subject_id,teacher_id,new_date,new_lesson_no"],
        "substitutions.csv": ["date,class_id,subject_id,teacher_id"],
    }
    for s in SUBJECTS:
        for group in range(5):
            rows["teachers.csv"].append(f"{s}-{group},Учитель {s} {group},{s}{group}@big.example")
    for c, cls in enumerate(classes):
        grade = int(cls[:-1])
        rows["classes.csv"].append(f"{cls},{grade},{SUBJECTS[c % 12]}-{c // 12}")
        for n in range(PUPILS):
            rows["pupils.csv"].append(f"{cls}-{n:02d},{cls},Фамилия{n},Имя{c},,2026-09-01,,")
        for s in SUBJECTS:
            rows["assignments.csv"].append(f"{cls},{s},{s}-{c // 12}")
        for slot in range(5 * SLOTS):
            day, no = slot // SLOTS + 1, slot % SLOTS + 1
            rows["timetable.csv"].append(f"{day},{no},{cls},{SUBJECTS[(slot + c) % 12]},")
    for name, lines in rows.items():
        (folder / name).write_text("\n".join(lines) + "\n", encoding="utf-8")
    (folder / "plans").mkdir(exist_ok=True)
    (folder / "school.toml").write_text(TOML, encoding="utf-8")
    return folder / "school.toml"


def fill(school: School, ledger: Ledger) -> int:
    """The first quarter's lessons, cells, absence reasons and period marks; returns entries."""
    rng = random.Random(2026)
    period = school.year.periods[0]
    by_day: dict[date, list[Any]] = {}
    for lessons in school.lessons().values():
        for x in lessons:
            if period.contains(x.day):
                by_day.setdefault(x.day, []).append(x)
    entries = 0
    for day in sorted(by_day):
        now = datetime.combine(day, clock(16), tzinfo=school.timezone)
        absent: set[tuple[str, str]] = set()
        with ledger.transaction() as tx:
            for x in by_day[day]:
                key = f"{x.class_id}/{x.subject_id}"
                work = "control" if x.number % 8 == 0 else "classwork"
                tx.upsert_lesson(key, LessonInput(day, x.lesson_no, x.period, f"Тема {x.number}",
                                                  "упражнения", work, "§ 3"), now)
                cells = []
                for n in range(PUPILS):
                    if rng.random() < 0.4:
                        value = rng.choice(MARKS)
                        kind = {"н": "absent", "оп": "late"}.get(value, "mark")
                        cells.append(EntryInput(f"{x.class_id}-{n:02d}", day, x.lesson_no,
                                                value, value, kind))
                        if kind == "absent":
                            absent.add((x.class_id, f"{x.class_id}-{n:02d}"))
                tx.accept_entries(key, cells, now)
                entries += len(cells)
            for cls in CLASSES:
                tx.accept_absences(cls, [AbsenceInput(p, day, r, r) for (c, p), r in
                                         ((k, rng.choice("бун")) for k in sorted(absent))
                                         if c == cls], now)
    with ledger.transaction() as tx:
        now = datetime.combine(period.end, clock(18), tzinfo=school.timezone)
        for cls in CLASSES:
            for s in SUBJECTS:
                tx.accept_period_marks(f"{cls}/{s}", [
                    PeriodMarkInput(f"{cls}-{n:02d}", period.name, m, m, "mark")
                    for n in range(PUPILS) for m in [rng.choice("55443332")]], now)
    return entries


def timed(label: str, action: Callable[[], Any], out: list[tuple[str, float, str]],
          note: Callable[[Any], str] = lambda _: "") -> Any:
    started = time.perf_counter()
    result = action()
    out.append((label, time.perf_counter() - started, note(result)))
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", type=Path, help="folder for the school (reused when filled)")
    args = parser.parse_args()
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench-reports-"))
    config = folder / "school.toml"
    setup = time.perf_counter()
    school = load_school(config if config.is_file() else write_school(folder))
    filled = school.ledger_path.is_file()
    out: list[tuple[str, float, str]] = []
    with Ledger.open(school.ledger_path) as ledger:
        if not filled:
            entries = fill(school, ledger)
            print(f"generated {len(school.pupils)} pupils, {len(school.journals())} journals, "
                  f"{entries} entries in {time.perf_counter() - setup:.1f} s (not timed below)")
        now = datetime(2026, 10, 28, 8, 0, tzinfo=school.timezone)
        quarter, year = period_span(school, "1 четверть"), period_span(school, None)
        snap = timed("ledger snapshot (quarter)", lambda: load_snapshot(
            school, ledger, now, since=quarter.start, until=quarter.end), out,
            lambda s: f"{len(s.entries)} entries, {len(s.lessons)} lessons")
    target = folder / "out"
    reports: list[tuple[str, Callable[[], Any]]] = [
        ("results (3)", lambda: write_results(snap, quarter, target / "results.xlsx")),
        ("results, year (3)", lambda: write_results(snap, year, target / "year.xlsx")),
        ("attendance (4)", lambda: write_attendance(snap, quarter, target / "attendance.xlsx")),
        ("control works (5)", lambda: write_control_works(snap, quarter, target / "control.xlsx")),
        ("curriculum (6)", lambda: write_curriculum(snap, quarter, target / "curriculum.xlsx")),
        ("archive, 60 classes (7)", lambda: sum(
            write_archive(snap, quarter, cls, target / f"archive-{cls}.xlsx") for cls in CLASSES)),
        ("weekly analysis (1)", lambda: write_weekly(
            snap, week_span(school, date(2026, 10, 19)), target / "weekly.xlsx")),
        ("pupil statement (8)", lambda: write_statement(snap, quarter, "5А-03",
                                                        target / "statement.xlsx")),
    ]
    total = 0.0
    for label, action in reports:
        timed(label, action, out, lambda r: f"{r} pages" if isinstance(r, int) else "")
        total += out[-1][1]
    period_reports = sum(s for label, s, _ in out if label.endswith(("(3)", "(4)", "(5)", "(6)",
                                                                     "(7)")))
    size = sum(p.stat().st_size for p in target.glob("*.xlsx")) / 1e6
    print(f"school: {len(school.pupils)} pupils, {len(school.classes)} classes, "
          f"{len(school.journals())} journals")
    for label, seconds, note in out:
        print(f"  {label:<28} {seconds:7.2f} s  {note}")
    print(f"every period report (3–7) of the quarter and the year: {period_reports:.2f} s; "
          f"all reports: {total:.2f} s; {len(list(target.glob('*.xlsx')))} workbooks, "
          f"{size:.1f} MB")
    print(f"peak RSS {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024:.0f} MB")


if __name__ == "__main__":
    main()
