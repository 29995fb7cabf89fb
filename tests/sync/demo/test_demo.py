"""The demo: the example school in a folder, simulated teachers, sync and locks on a simulated clock.

One run of three school days (the third has the tampering) is shared by the checks; they compare
what the teachers typed, the ledger, the spreadsheets and the printed summary with each other.
"""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from config import load_school
from rules.errors import EjournalError
from sync.backends.local.backend import LocalBackend
from sync.demo.run import DemoSummary, demo_days, run_demo
from sync.jobs.service import split_journal_key
from sync.layout.journal.spec import parse_journal
from sync.ledger.ledger import Ledger
from sync.ledger.model import FileKind
from tests.reports.helpers import table
from tests.sync.layout_helpers import example_school

TODAY = date(2026, 12, 1)  # a Tuesday in the second quarter: the days cross a weekend


@dataclass
class DemoRun:
    summary: DemoSummary
    lines: list[str]
    ledger: Ledger
    backend: LocalBackend


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DemoRun]:
    folder = tmp_path_factory.mktemp("demo") / "school"
    lines: list[str] = []
    summary = run_demo(folder, days=3, today=TODAY, echo=lines.append)
    ledger = Ledger.open(summary.ledger)
    backend = LocalBackend(summary.sheets, private_folder=summary.directory / "private")
    yield DemoRun(summary, lines, ledger, backend)
    ledger.close()


pytestmark = pytest.mark.slow


def test_the_folder_holds_the_school_with_the_local_backend(demo: DemoRun) -> None:
    s = demo.summary
    assert s.config == s.directory / "school.toml"
    school = load_school(s.config)
    assert school.backend.kind.value == "local"
    assert school.backend.folder == (s.directory / "sheets").resolve()
    assert school.ledger_path == (s.directory / "var" / "ledger.sqlite3").resolve()
    assert s.days == [date(2026, 11, 26), date(2026, 11, 27), date(2026, 11, 30)]
    assert school.backend.private_folder == (s.directory / "private").resolve()
    # the teachers' folder, from the example's configuration: 45 rows of assignments.csv with 7Б
    # English split into two groups = 44 journals, 3 classes = 3 class sheets, and the board
    assert len(list(s.sheets.glob("*.xlsx"))) == 44 + 3 + 1 == 48
    private = s.directory / "private"  # the deputies': the admin workbook and the manifest
    assert sorted(p.name for p in private.iterdir()) == [
        "ejournal-manifest.json", "ejournal-manifest.log", "Администрация · 2026-27.xlsx"]
    assert stat.S_IMODE(private.stat().st_mode) == 0o700
    assert s.files == 48 + 1  # every spreadsheet the ledger registered


def test_every_accepted_entry_was_typed_by_a_teacher(demo: DemoRun) -> None:
    typed = demo.summary.typed
    with demo.ledger.snapshot() as tx:
        journals = [f.key for f in tx.files(FileKind.JOURNAL)]
        entries = [e for key in journals for e in tx.entries(key) if e.kind != "empty"]
    # marks, double marks, absences and the fixed typos; an unfixed typo is never accepted
    assert len(entries) == typed.marks + typed.doubles + typed.absences + demo.summary.typos_fixed
    assert len(entries) == demo.summary.entries_accepted
    assert {e.day for e in entries} == set(demo.summary.days)
    assert sum(e.value == "5/4" for e in entries) == typed.doubles == 3
    assert sum(e.kind == "absent" for e in entries) == typed.absences > 0
    assert typed.typos == 6 and demo.summary.typos_fixed == 5
    assert all(e.accepted_by for e in entries)  # attributed to a teacher


def test_the_days_are_locked_after_their_night(demo: DemoRun) -> None:
    with demo.ledger.snapshot() as tx:
        journals = [f.key for f in tx.files(FileKind.JOURNAL)]
        lessons = [x for key in journals for x in tx.lessons(key)]
    held = [x for x in lessons if x.facts.day in demo.summary.days]
    assert held and all(x.info_locked_at is not None for x in held)  # topics lock at day end
    plain = [x for x in held if x.facts.work_type == "Работа на уроке"]
    assert plain and all(x.marks_locked_at is not None for x in plain)
    graced = [x for x in held if x.facts.work_type == "Контрольная работа"]
    assert all(x.marks_locked_at is None for x in graced)  # 7 days to check written work
    assert demo.summary.days_locked >= len({(x.journal, x.facts.day) for x in held})


def test_the_tampering_was_reverted_and_audited(demo: DemoRun) -> None:
    with demo.ledger.snapshot() as tx:
        (violation,) = tx.violations()
    assert violation.reverted_at is not None
    assert violation.target.day == demo.summary.days[0]
    assert (demo.summary.violations, demo.summary.reverts) == (1, 1)
    class_id, subject_id = split_journal_key(violation.journal)
    with demo.ledger.snapshot() as tx:
        file = tx.file_for(FileKind.JOURNAL, violation.journal)
    assert file is not None
    school = load_school(demo.summary.config)
    tabs = [p.name for p in school.year.periods] + ["Уроки"]
    lessons = school.lessons()[(class_id, subject_id)]
    reading = parse_journal(demo.backend.read(file.id, tabs), school, class_id, subject_id, lessons)
    target = violation.target
    (cell,) = [
        e
        for e in reading.entries
        if (e.pupil_id, e.day, e.lesson_no) == (target.pupil_id, target.day, target.lesson_no)
    ]
    assert str(cell.raw) == violation.locked_value != violation.attempted_value


def test_the_typo_left_is_a_finding_in_the_journals_findings_tab(demo: DemoRun) -> None:
    with demo.ledger.snapshot() as tx:
        files = {f.key: f.id for f in tx.files(FileKind.JOURNAL)}
        errors = [f for key in files for f in tx.findings(key) if f.severity == "error"]
    (finding,) = errors
    assert finding.day == demo.summary.days[-1]
    shown = demo.backend.read(files[finding.journal], ["Замечания"])["Замечания"]
    assert any(finding.message in " ".join(str(c) for c in row) for row in shown)
    assert demo.summary.findings_by_rule["invalid_value"] == 1


def test_lessons_before_the_go_live_raise_nothing_only_the_typo_left_is_open(
    demo: DemoRun,
) -> None:
    s = demo.summary
    school = load_school(s.config)
    assert school.year.journal_start == s.days[0]  # the copied school.toml goes live on day one
    every = [x for lessons in school.lessons().values() for x in lessons]
    # 01.09–25.11, kept on paper: without journal_start each was 3 findings (no topic, work type,
    # homework), 2,814 in all
    assert sum(x.day < s.days[0] for x in every) == 938
    with demo.ledger.snapshot() as tx:
        journals = [f.key for f in tx.files(FileKind.JOURNAL)]
        facts = [x.facts for key in journals for x in tx.lessons(key)]
        findings = [f for key in journals for f in tx.findings(key)]
    assert not any(f.topic or f.work_type or f.homework for f in facts if f.day < s.days[0])
    # the simulated teachers typed topic, work type and homework of every lesson of their days
    simulated = [x for x in every if x.day in s.days]
    recorded = [f for f in facts if f.day in s.days]
    assert len(simulated) == s.typed.lessons == len(recorded) == 52
    assert all(f.topic and f.work_type and f.homework for f in recorded)
    # their control works are within the checking norm (7 days in grades 5–11: every class here)
    control = school.policies.work_type("control")
    assert control is not None
    assert {control.grace_days(c.grade) for c in school.classes} == {7}
    # and the marks window of the 2nd quarter (too_few_marks) opens only on 22.12
    assert s.findings_by_rule == {"invalid_value": 1} and s.findings_open == len(findings) == 1
    text = "\n".join(demo.lines)
    assert "Findings open: 1\n        1  invalid_value\n" in text
    assert "The school goes live on 26.11.2026 ([year] journal_start)" in text
    assert "mid-year" not in text


def test_the_audit_chain_verifies_and_the_summary_says_so(demo: DemoRun) -> None:
    report = demo.ledger.audit_verify()
    private = demo.summary.directory / "private"
    assert report.ok
    assert demo.summary.audit_head == report.head == demo.ledger.audit_head()
    text = "\n".join(demo.lines)
    assert f"Audit chain: OK, {report.events} events, head {report.head}" in text
    assert f"Spreadsheets: 49 .xlsx files in {demo.summary.sheets} and {private}" in text
    assert f"{private}/  — the deputy's admin workbook («Исправления»)" in text
    assert f"ejournal status --config {demo.summary.config}" in text
    (tamper,) = [line for line in demo.lines if "tampering: a locked mark of 26.11" in line]
    journal = re.search(r" in «(\S+) · ([^»]+)» was changed", tamper)  # a name, not a key
    assert journal is not None and "/" not in tamper
    assert journal.group(2) in {s.name for s in load_school(demo.summary.config).subjects}
    # every night from Thursday's to Monday's, the weekend's included
    nights = [line.split()[1:3] for line in demo.lines if line.startswith("  night ")]
    assert nights == [["Fri", "27.11"], ["Sat", "28.11"], ["Sun", "29.11"], ["Mon", "30.11"],
                      ["Tue", "01.12"]]


def test_every_days_typed_cells_are_accepted_and_the_summary_adds_up(demo: DemoRun) -> None:
    """The simulation's own count (what the teachers typed, per day as printed) against the
    ledger: Monday after a weekend included; typed = accepted + refused + typos left."""
    s = demo.summary
    typed_per_day = {}
    for line in demo.lines:
        for day in s.days:
            if line.startswith(day.strftime("%a %d.%m.%Y: teachers typed ")):
                typed_per_day[day] = int(line.split("teachers typed ")[1].split()[0])
    assert set(typed_per_day) == set(s.days)
    with demo.ledger.snapshot() as tx:
        journals = [f.key for f in tx.files(FileKind.JOURNAL)]
        entries = [e for key in journals for e in tx.entries(key) if e.kind != "empty"]
    accepted = {day: sum(e.day == day for e in entries) for day in s.days}
    # one typo of the last day is left as a finding (the demo keeps it, to be seen); none refused
    assert s.typed.refused == 0 and s.typos_left == 1
    assert accepted == {day: typed_per_day[day] - (day == s.days[-1]) for day in s.days}
    assert sum(typed_per_day.values()) == s.typed.cells == 562
    assert s.expected_accepted == s.typed.cells - s.typed.refused - s.typos_left == len(entries)
    text = "\n".join(demo.lines)
    assert (f"    = {len(entries)} accepted into the ledger + 0 refused by the spreadsheet (the day "
            "was closed) + 1 typo left as a finding") in text
    assert "1 typos" not in text and "1 violations" not in text
    assert "not accepted for no reason" not in text


# --------------------------------------------------------------------------- fast checks


@pytest.mark.parametrize(
    ("today", "first", "last"),
    [
        (date(2026, 11, 29), date(2026, 11, 23), date(2026, 11, 27)),  # last days before today
        (date(2026, 11, 6), date(2026, 11, 5), date(2026, 11, 11)),  # a period just begun
        (date(2026, 10, 28), date(2026, 10, 19), date(2026, 10, 23)),  # holidays: the last period
        (date(2026, 7, 1), date(2026, 9, 1), date(2026, 9, 7)),  # before the year
        (date(2027, 7, 1), date(2027, 5, 20), date(2027, 5, 26)),  # after the year
    ],
)
def test_demo_days_are_school_days_of_the_current_period(
    today: date, first: date, last: date
) -> None:
    days = demo_days(example_school(), today, 5)
    assert (days[0], days[-1], len(days)) == (first, last, 5)
    assert all(d.weekday() < 5 for d in days)


def test_a_folder_with_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine", encoding="utf-8")
    with pytest.raises(EjournalError, match="is not an empty folder") as info:
        run_demo(tmp_path, days=1, today=TODAY, echo=lambda _: None)
    assert "choose a new folder" in (info.value.hint or "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["notes.txt"]  # nothing touched


def test_the_demo_builds_a_set_of_reports_and_says_where(demo: DemoRun) -> None:
    reports = demo.summary.reports
    names = sorted(p.name for p in reports)
    assert len(reports) == 1 + 4 + 3 + 1  # weekly, 4 period reports, 3 class archives, statement
    assert all(p.is_file() for p in reports)
    assert "Анализ ведения журналов 2026-11-30.xlsx" in names  # the week of the last day, 30.11
    assert "Итоги успеваемости · 2 четверть.xlsx" in names
    folder = demo.summary.ledger.parent / "reports" / "2026-27"
    assert any(line.startswith(f"  {folder}/  — 9 report workbooks") for line in demo.lines)


def test_the_demo_builds_one_diary_per_pupil_and_says_where(demo: DemoRun) -> None:
    school = load_school(demo.summary.config)
    diaries = demo.summary.diaries
    assert len(diaries) == len(school.pupils) == 73
    assert {p.parent.parent.name for p in diaries} == {c.id for c in school.classes}
    text = "\n".join(demo.lines)
    assert f"Diaries: 73 (one per pupil, read only) in {demo.summary.sheets / 'Дневники'}" in text
    assert f"{diaries[0]}  — a pupil's diary, as the parents see it" in text
    with demo.ledger.snapshot() as tx:
        registered = {f.key for f in tx.files(FileKind.DIARY)}
    assert registered == {p.id for p in school.pupils}


def test_the_demo_writes_the_teachers_board_and_says_where(demo: DemoRun) -> None:
    """The board shows the weekly workbook's figures per journal and no pupil's name."""
    board = demo.summary.board
    assert board is not None and board.parent == demo.summary.sheets
    assert f"  {board}  — the teachers' board: the weekly analysis every teacher reads" in (
        demo.lines)
    weekly = next(p for p in demo.summary.reports if p.name.startswith("Анализ"))
    shown, book = table(board, "Сводка"), table(weekly, "Сводка")
    # a row per journal with a lesson on the demo's days of the analysed week (the last day's)
    school = load_school(demo.summary.config)
    week = [d for d in demo.summary.days if d.isocalendar()[:2] == demo.summary.days[-1].isocalendar()[:2]]
    held = {key for key, lessons in school.lessons().items() if any(x.day in week for x in lessons)}
    assert len(shown) == len(book) == len(held) > 10
    figures = [c for c in shown.columns if c != "% заполнения"]
    assert shown[figures].values.tolist() == book[figures].values.tolist()
    assert (shown["% заполнения"] - book["% заполнения"]).abs().max() <= 0.05
    assert len(table(board, "Замечания")) == len(table(weekly, "Замечания"))
    school = load_school(demo.summary.config)
    texts = [str(c.value) for ws in openpyxl.load_workbook(board) for row in ws.iter_rows()
             for c in row if c.value is not None]
    named = [(p.id, t) for p in school.pupils for t in texts  # some teachers share a last name
             if f"{p.last_name} {p.first_name}" in t or f"{p.last_name} {p.first_name[0]}." in t]
    assert named == []
