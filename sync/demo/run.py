"""``ejournal demo --dir DIR``: the example school, simulated teachers, sync and locks — in a folder.

The example school (``config/example``) is copied into DIR with the LOCAL backend (spreadsheets
as .xlsx files in DIR/sheets, the deputies' admin workbook and the manifest in DIR/private, the
ledger in DIR/var). The service then runs on a simulated clock,
day by day, over the last ``days`` school days before today in the current period of the example
year (or the first days of its first period, if today is before it): at 15:00 the teachers type the
day (``sync.demo.teachers``), at 16:00 a sync cycle runs and finds their typos, at 17:00 they fix
them (one typo of the last day stays, to be seen in "Замечания") and at 18:00 the next cycle takes
the fixes; at ``lock_at`` every night the lock job runs, as the daemon would — the nights of a
weekend between two simulated days included, so a Monday's cells are open when the teachers type.
The summary adds up what the simulation counted: typed mark cells = accepted + refused by the
spreadsheet (a closed day) + typos left as findings. On the third day someone with owner
rights changes a locked mark in the file: the next cycle reverts it and records a violation.
Deterministic for a given seed and start day. The school goes live on the first simulated day:
the copied school.toml sets ``[year] journal_start`` to it, so the lessons before it (kept in the
paper journal) are locked on the first night but raise no journal-keeping findings, and the
summary lists only what the simulated days left open. Every cycle also writes the pupils'
diaries (one xlsx per pupil under DIR/sheets/Дневники/); the summary says where to open one. The
reports are built at the end, and the weekly analysis is written to the teachers' board (one xlsx
in DIR/sheets, read only for every teacher); the summary says where it is.
"""

from __future__ import annotations

import logging
import os
import random
import re
import shutil
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import config as config_package
from config import load_school
from config.school import School
from rules.calendar import school_days
from rules.errors import EjournalError
from sync.demo.teachers import Teachers, Typing
from sync.jobs.diaries import LOCAL_FOLDER
from sync.jobs.service import Service, wall_clock
from sync.ledger.model import FileKind

logger = logging.getLogger(__name__)

EXAMPLE = Path(config_package.__file__).resolve().parent / "example"  # installed with the package
SEED = 20260901
TYPE_AT, SYNC_AT, FIX_AT, RESYNC_AT, TAMPER_AT = (time(h) for h in (15, 16, 17, 18, 13))
TAMPER_DAY = 3  # the third simulated day: a mark of the first day is changed past the lock


class SimClock:
    """The demo's clock: moved by the simulation, read by the service."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def __call__(self) -> datetime:
        return self.current


@dataclass
class DemoSummary:
    """What the demo built and did (counts, paths and the audit head)."""

    directory: Path
    config: Path
    sheets: Path
    ledger: Path
    days: list[date] = field(default_factory=list)
    files: int = 0
    typed: Typing = field(default_factory=Typing)
    typos_fixed: int = 0
    entries_accepted: int = 0  # entries in the ledger at the end
    findings_open: int = 0
    findings_by_rule: dict[str, int] = field(default_factory=dict)
    violations: int = 0
    reverts: int = 0
    days_locked: int = 0
    protections_written: int = 0
    nights: int = 0  # lock jobs run (every night, weekends included)
    cycles: int = 0
    diaries: list[Path] = field(default_factory=list)  # one xlsx per pupil
    audit_ok: bool = False
    audit_events: int = 0
    audit_head: str = ""
    reports: list[Path] = field(default_factory=list)
    board: Path | None = None  # the teachers' board (the newest weekly analysis)

    @property
    def typos_left(self) -> int:
        return self.typed.typos - self.typos_fixed

    @property
    def expected_accepted(self) -> int:
        """What the simulation expects the ledger to hold, from what the teachers typed: every
        mark cell typed, but the ones the spreadsheet refused and the typos left."""
        return self.typed.cells - self.typed.refused - self.typos_left

    def to_json(self) -> dict[str, Any]:
        return {
            "directory": str(self.directory),
            "days": [d.isoformat() for d in self.days],
            "files": self.files,
            "typed": vars(self.typed),
            "typos_fixed": self.typos_fixed,
            "expected_accepted": self.expected_accepted,
            "nights": self.nights,
            "entries_accepted": self.entries_accepted,
            "findings_open": self.findings_open,
            "findings_by_rule": dict(self.findings_by_rule),
            "violations": self.violations,
            "reverts": self.reverts,
            "days_locked": self.days_locked,
            "protections_written": self.protections_written,
            "cycles": self.cycles,
            "diaries": len(self.diaries),
            "audit": {"ok": self.audit_ok, "events": self.audit_events, "head": self.audit_head},
            "reports": [str(p) for p in self.reports],
            "board": str(self.board) if self.board else None,
        }


def run_demo(
    directory: Path,
    *,
    days: int = 5,
    echo: Callable[[str], Any] = print,
    today: date | None = None,
    seed: int = SEED,
) -> DemoSummary:
    """Build the demo school in ``directory`` (new or empty) and simulate ``days`` school days.

    ``today`` (default: the real date) picks the simulated days: the last ``days`` school days
    before it in the current period of the example year.
    """
    directory = Path(directory)
    config = _copy_example(directory)
    school = load_school(config)
    when = demo_days(school, today or wall_clock(school)().date(), days)
    _set_journal_start(config, when[0])
    school = load_school(config)
    summary = DemoSummary(
        directory=directory,
        config=config,
        sheets=directory / "sheets",
        ledger=school.ledger_path,
        days=when,
    )
    echo(f"Demo school in {directory}: {school.name}, {school.year.name}, local backend.")
    echo(f"Simulated days: {', '.join(d.strftime('%a %d.%m.%Y') for d in when)}")
    echo(
        f"The school goes live on {when[0].strftime('%d.%m.%Y')} ([year] journal_start): earlier "
        "lessons were kept in the paper journal."
    )
    clock = SimClock(_at(school, when[0], time(7, 30)))
    with Service.open(school, clock=clock) as svc:
        _setup(svc, summary, echo)
        teachers = Teachers(svc, random.Random(seed))
        for number, day in enumerate(when, start=1):
            if number > 1:  # every night since the last school day, the weekend's included
                _nights(svc, clock, when[number - 2], day, summary, echo)
            _school_day(svc, clock, teachers, day, number, summary, echo)
        _nights(svc, clock, when[-1], when[-1] + timedelta(days=1), summary, echo)
        _morning(svc, clock, when[-1] + timedelta(days=1), summary)
        _finish(svc, summary)
        summary.reports = _reports(svc, summary)
    _print_summary(summary, echo)
    return summary


def demo_days(school: School, today: date, count: int) -> list[date]:
    """The last ``count`` school days before ``today`` in the period containing it (or the last
    period begun before it); the period's first days if fewer have passed."""
    periods = school.year.periods
    begun = [p for p in periods if p.start <= today]
    period = begun[-1] if begun else periods[0]
    all_days = school_days(school.year, period.start, period.end)
    before = [d for d in all_days if d < today]
    chosen = before[-count:] if len(before) >= count else all_days[:count]
    if not chosen:
        raise EjournalError(f"no school days in {period.name}", "check the example's calendar")
    return chosen


def _copy_example(directory: Path) -> Path:
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise EjournalError(
            f"{directory} exists and is not an empty folder",
            "choose a new folder for the demo (or delete this one to run the demo again)",
        )
    shutil.copytree(
        EXAMPLE, directory, dirs_exist_ok=True, ignore=shutil.ignore_patterns("var", "__pycache__")
    )
    config = directory / "school.toml"
    text = config.read_text(encoding="utf-8")
    local = 'kind = "local"\nfolder = "var/sheets"\nprivate_folder = "var/private"'
    if local not in text:
        raise EjournalError("the example school.toml has no local backend section to adapt",
                            "restore config/example/school.toml from the repository")
    beside = 'kind = "local"\nfolder = "sheets"\nprivate_folder = "private"'  # the admin's apart
    config.write_text(text.replace(local, beside), encoding="utf-8")
    return config


def _set_journal_start(config: Path, day: date) -> None:
    """Uncomment ``[year] journal_start`` in the copied school.toml and set it to ``day``."""
    text = config.read_text(encoding="utf-8")
    documented = re.search(r"^# journal_start = \S+$", text, flags=re.MULTILINE)
    if documented is None:
        raise EjournalError("the example school.toml has no commented journal_start in [year] to "
                            "set", "restore config/example/school.toml from the repository")
    line = f"journal_start = {day.isoformat()}"
    config.write_text(text[: documented.start()] + line + text[documented.end() :], encoding="utf-8")


def _at(school: School, day: date, moment: time) -> datetime:
    return datetime.combine(day, moment, tzinfo=school.timezone)


def _setup(svc: Service, summary: DemoSummary, echo: Callable[[str], Any]) -> None:
    from sync.jobs.setup import run_setup

    echo("Setting up the spreadsheets (journals, class sheets, the admin sheet)…")
    run_setup(svc)
    with svc.ledger.snapshot() as tx:
        summary.files = len(tx.files())
    echo(f"  {summary.files} spreadsheets in {summary.sheets} and {summary.directory / 'private'}")


def _school_day(
    svc: Service,
    clock: SimClock,
    teachers: Teachers,
    day: date,
    number: int,
    summary: DemoSummary,
    echo: Callable[[str], Any],
) -> None:
    from sync.jobs.cycle import run_cycle

    school = svc.school
    tampered = None
    if number == TAMPER_DAY:
        clock.current = _at(school, day, TAMPER_AT)
        tampered = teachers.tamper(summary.days[0])
    clock.current = _at(school, day, TYPE_AT)
    typed = teachers.school_day(day)
    summary.typed.add(typed)
    clock.current = _at(school, day, SYNC_AT)
    first = _cycle(run_cycle(svc), summary)
    clock.current = _at(school, day, FIX_AT)
    fixed = teachers.fix_typos(keep=1 if day == summary.days[-1] else 0)  # one stays, to be seen
    summary.typos_fixed += fixed
    clock.current = _at(school, day, RESYNC_AT)
    second = _cycle(run_cycle(svc), summary)
    echo(
        f"{day.strftime('%a %d.%m.%Y')}: teachers typed {typed.cells} marks in "
        f"{typed.journals} journals ({typed.absences} «н», {typed.doubles} double, "
        f"{_n(typed.typos, 'typo', 'typos')}); sync accepted {first['entries_accepted']}, "
        f"findings open {first['findings']['open']}"
        + (
            f"; {_n(fixed, 'typo', 'typos')} fixed, findings resolved {second['findings']['resolved']}"
            if fixed
            else ""
        )
    )
    if tampered:
        echo(
            f"  tampering: a locked mark of {summary.days[0].strftime('%d.%m')} in «{tampered}» was "
            f"changed in the file; violations found {first['violations']}, reverted {first['reverts']}"
        )


def _nights(svc: Service, clock: SimClock, after: date, until: date, summary: DemoSummary,
            echo: Callable[[str], Any]) -> None:
    """The lock job of every night from the one after ``after`` to ``until``'s, as the daemon
    runs it at ``lock_at`` (a Monday's cells open only after Monday's night has run)."""
    from sync.jobs.locking import run_locks

    night = after + timedelta(days=1)
    while night <= until:
        clock.current = _at(svc.school, night, svc.school.schedule.lock_at)
        locks = run_locks(svc).to_json()
        summary.nights += 1
        summary.days_locked += int(locks["locks"]["days"])
        summary.protections_written += int(locks["protections_written"])
        echo(
            f"  night {clock.current.strftime('%a %d.%m %H:%M')}: locks protected "
            f"{locks['protections_written']} journals, locked {locks['locks']['days']} "
            "journal-days"
        )
        night += timedelta(days=1)


def _morning(svc: Service, clock: SimClock, day: date, summary: DemoSummary) -> None:
    """The daemon's first sync cycle after the last night: «Замечания» show what the night
    changed (a typo left in a cell that closed is now for the deputy's correction)."""
    from sync.jobs.cycle import run_cycle

    clock.current = _at(svc.school, day, time(7))
    _cycle(run_cycle(svc), summary)


def _cycle(result: Any, summary: DemoSummary) -> dict[str, Any]:
    data: dict[str, Any] = result.to_json()
    summary.cycles += 1
    summary.violations += int(data["violations"])
    summary.reverts += int(data["reverts"])
    return data


def _finish(svc: Service, summary: DemoSummary) -> None:
    with svc.ledger.snapshot() as tx:
        journals = [f.key for f in tx.files(FileKind.JOURNAL)]
        summary.entries_accepted = sum(
            1 for key in journals for e in tx.entries(key) if e.kind != "empty"
        )
        rules = Counter(f.rule for key in journals for f in tx.findings(key))
    summary.diaries = sorted((summary.sheets / LOCAL_FOLDER).glob("*/*/*.xlsx"))
    summary.findings_open = sum(rules.values())
    summary.findings_by_rule = dict(rules.most_common())
    report = svc.ledger.audit_verify()
    summary.audit_ok, summary.audit_events, summary.audit_head = report.ok, report.events, report.head


def _reports(svc: Service, summary: DemoSummary) -> list[Path]:
    """The reports as of the last simulated day (sync.jobs.report_schedule.build_set), and the
    teachers' board written with its weekly analysis."""
    from sync.jobs.report_schedule import build_set, publish_built

    built = build_set(svc.school, svc.ledger, svc.now(), summary.days[-1])
    board = publish_built(svc, built, svc.now())
    where = getattr(svc.backend, "path", None)  # the local backend's file of an id
    if board is not None and board.file_id and callable(where):
        summary.board = where(board.file_id)
    return [path for b in built for path in b.paths]


def _print_summary(summary: DemoSummary, echo: Callable[[str], Any]) -> None:
    typed = summary.typed
    config = summary.config
    echo("")
    echo("Summary")
    echo(f"  Spreadsheets: {summary.files} .xlsx files in {summary.sheets} and "
         f"{summary.directory / 'private'}")
    echo(
        f"  Typed: {typed.cells} mark cells in {typed.lessons} lessons ({typed.marks} marks, "
        f"{typed.doubles} double, {typed.absences} «н», {_n(typed.typos, 'typo', 'typos')}, "
        f"{summary.typos_fixed} of them retyped right)"
    )
    echo(
        f"    = {summary.entries_accepted} accepted into the ledger + {typed.refused} refused by "
        f"the spreadsheet (the day was closed) + "
        f"{_n(summary.typos_left, 'typo left as a finding', 'typos left as findings')}"
    )
    unexplained = typed.cells - typed.refused - summary.typos_left - summary.entries_accepted
    if unexplained:
        echo(f"    ({unexplained:+d} cells not accepted for no reason the demo knows: a bug)")
    echo(f"  Ledger: {_n(summary.violations, 'violation', 'violations')} "
         f"({summary.reverts} reverted)")
    echo(f"  Findings open: {summary.findings_open}")
    for rule, count in summary.findings_by_rule.items():
        echo(f"    {count:>5}  {rule}")
    echo(
        f"  Locks: {summary.days_locked} journal-days locked, {summary.protections_written} "
        f"protection updates over {summary.cycles} sync cycles and {summary.nights} nights"
    )
    echo(f"  Diaries: {len(summary.diaries)} (one per pupil, read only) in "
         f"{summary.sheets / LOCAL_FOLDER}/<class>/<pupil>/")
    state = "OK" if summary.audit_ok else "BROKEN"
    echo(f"  Audit chain: {state}, {summary.audit_events} events, head {summary.audit_head}")
    echo("Where to look")
    echo(f"  {summary.sheets}/  — open a journal in LibreOffice or Excel; see its «Замечания» tab")
    echo(f"  {summary.directory / 'private'}/  — the deputy's admin workbook («Исправления»)")
    if summary.diaries:
        echo(f"  {summary.diaries[0]}  — a pupil's diary, as the parents see it")
    echo(f"  {summary.ledger}  — the ledger (SQLite), the master copy")
    if summary.reports:
        folder = os.path.commonpath([str(p) for p in summary.reports])
        echo(f"  {folder}/  — {len(summary.reports)} report workbooks for the deputy "
             "(weekly analysis, period results, attendance, control works, curriculum, archive "
             "print-outs, a pupil statement)")
    if summary.board is not None:
        echo(f"  {summary.board}  — the teachers' board: the weekly analysis every teacher reads")
    echo(f"  ejournal status --config {config}")
    echo(f"  ejournal audit verify --config {config}")


def _n(count: int, one: str, many: str) -> str:
    """«1 typo», «2 typos»: no English plural left wrong in what a person reads."""
    return f"{count} {one if count == 1 else many}"
