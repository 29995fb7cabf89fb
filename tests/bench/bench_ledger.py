"""Ledger benchmark: a school year of a 1,500-pupil school in cycle-sized transactions.

Run: ``python -m tests.bench.bench_ledger [--days 170] [--density 0.4] [--keep PATH] [--no-seals]``
(not a pytest test; it prints figures, it asserts nothing about speed). ``--density`` is the share
of a class that gets a cell per lesson (0.4 ≈ 0.6 million entries a year; 1.0 ≈ 1.5 million, the
spring of a busy school). ``--no-seals`` switches the data seals off (``sync.ledger.seals``);
``--compare`` writes the same year to a sealed and an unsealed ledger, cycle by cycle interleaved,
and prints what the seals cost the write path (fair on a shared machine); ``--verify PATH`` only
runs the full ``audit verify`` of a
kept ledger in a fresh process (its time and peak memory alone).

The school: 60 classes × 25 pupils, 12 subjects per class (720 journals), 6 lessons a day, 5 days a
week. Each school day has 6 sync cycles (one per lesson slot): the 60 journals of that slot offer
their lesson facts, their new cells (about 40 % of the class: marks, absences) and findings; the
journals of the previous slot are re-read (one mark in twenty changed, the rest offered unchanged).
A nightly job locks every lesson of the day in one transaction. Each cycle also records its run.
Only ledger calls are timed; building the inputs is not.
"""

from __future__ import annotations

import argparse
import random
import resource
import sqlite3
import tempfile
import time
from collections.abc import Iterator
from contextlib import closing
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from rules.model import Finding, Location, Severity
from sync.ledger.backup import backup
from sync.ledger.ledger import Ledger
from sync.ledger.model import EntryInput, LessonInput

TZ = ZoneInfo("Europe/Moscow")
CLASSES = [f"{grade}{letter}" for grade in range(1, 12) for letter in "АБВГДЕ"][:60]
SUBJECTS = ["math", "rus", "lit", "eng", "hist", "bio", "geo", "phys", "chem", "inf", "art", "pe"]
PUPILS_PER_CLASS = 25
LESSONS_PER_DAY = 6
MARKS = ["5", "4", "4", "3", "5", "2", "5/4", "н", "н", "оп"]


@dataclass
class Tally:
    seconds: float = 0.0
    cpu: float = 0.0  # process time: steadier than wall time on a shared machine
    transactions: int = 0
    offered: int = 0
    accepted: int = 0  # new + changed
    lessons: int = 0
    locked: int = 0
    changes: dict[str, int] = field(default_factory=dict)


def school_days(first: date, count: int) -> Iterator[date]:
    day = first
    while count:
        if day.weekday() < 5:
            yield day
            count -= 1
        day += timedelta(days=1)


def subject_of(class_index: int, day: date, slot: int) -> str:
    return SUBJECTS[(class_index + day.toordinal() + slot * 5) % len(SUBJECTS)]


DENSITY = [0.4]  # share of a class with a cell per lesson (set by --density)


def new_cells(rng: random.Random, class_id: str, day: date, slot: int) -> list[EntryInput]:
    cells = []
    for n in range(PUPILS_PER_CLASS):
        if rng.random() < DENSITY[0]:
            value = rng.choice(MARKS)
            kind = {"н": "absent", "оп": "late"}.get(value, "mark")
            cells.append(EntryInput(f"{class_id}-{n:02d}", day, slot, value, value, kind))
    return cells


Work = list[tuple[str, LessonInput | None, list[EntryInput], list[Finding]]]


def cycle_inputs(
    rng: random.Random, day: date, slot: int, previous: dict[str, list[EntryInput]]
) -> Work:
    """(journal, lesson facts, cells, findings) for one cycle; ``previous`` is updated in place."""
    work: Work = []
    for index, class_id in enumerate(CLASSES):
        journal = f"{class_id}/{subject_of(index, day, slot)}"
        facts = LessonInput(day, slot, "1 четверть", f"Тема {slot}", "упражнения", "answer", "§ 3")
        cells = new_cells(rng, class_id, day, slot)
        findings = []
        if rng.random() < 0.1:
            location = Location(journal, f"{class_id}-00", day, "mark", "D5")
            findings.append(
                Finding("mark.grammar", Severity.ERROR, location, "«6»: такой отметки нет")
            )
        work.append((journal, facts, cells, findings))
        if slot > 1:  # re-read of the previous slot's journal: one mark in twenty changed
            prev_journal = f"{class_id}/{subject_of(index, day, slot - 1)}"
            again = [
                EntryInput(c.pupil_id, c.day, c.lesson_no, "4", "4", "mark")
                if rng.random() < 0.05
                else c
                for c in previous.get(prev_journal, [])
            ]
            work.append((prev_journal, None, again, []))
        previous[journal] = cells
    return work


def sync_cycle(ledger: Ledger, work: Work, now: datetime, tally: Tally) -> None:
    """One sync cycle's ledger calls, timed (wall and process time)."""
    started, cpu = time.perf_counter(), time.process_time()
    with ledger.transaction() as tx:
        run_id = tx.run_started("sync", now)
        for journal, facts, cells, findings in work:
            if facts is not None:
                tx.upsert_lesson(journal, facts, now)
                tx.sync_findings(journal, findings, now)
                tally.lessons += 1
            for change in tx.accept_entries(journal, cells, now, accepted_by="t"):
                tally.changes[change.value] = tally.changes.get(change.value, 0) + 1
                tally.accepted += change.changed
            tally.offered += len(cells)
        tx.run_finished(run_id, now, {"journals": len(work), "cells": tally.offered})
    tally.seconds += time.perf_counter() - started
    tally.cpu += time.process_time() - cpu
    tally.transactions += 1


def lock_job(ledger: Ledger, day: date, tally: Tally) -> None:
    """The nightly lock of every lesson of the day in one transaction, timed."""
    night = datetime(day.year, day.month, day.day, 23, 59, tzinfo=TZ)
    started, cpu = time.perf_counter(), time.process_time()
    with ledger.transaction() as tx:
        for index, class_id in enumerate(CLASSES):
            for slot in range(1, LESSONS_PER_DAY + 1):
                journal = f"{class_id}/{subject_of(index, day, slot)}"
                tally.locked += tx.lock_day(journal, day, night).entries
    tally.seconds += time.perf_counter() - started
    tally.cpu += time.process_time() - cpu
    tally.transactions += 1


def year(days: int, ledgers: list[tuple[Ledger, Tally]]) -> None:
    """The simulated days, each cycle applied to every ledger in turn (alternating the order, so
    a comparison shares the machine's load fairly)."""
    rng = random.Random(2026)
    turn = 0
    for day in school_days(date(2026, 9, 1), days):
        previous: dict[str, list[EntryInput]] = {}
        for slot in range(1, LESSONS_PER_DAY + 1):
            work = cycle_inputs(rng, day, slot, previous)
            now = datetime(day.year, day.month, day.day, 8 + slot, 50, tzinfo=TZ)
            turn += 1
            for ledger, tally in ledgers[:: 1 if turn % 2 else -1]:
                sync_cycle(ledger, work, now, tally)
        for ledger, tally in ledgers[:: 1 if turn % 2 else -1]:
            lock_job(ledger, day, tally)


def run(days: int, path: Path, *, seals: bool = True) -> None:
    tally = Tally()
    with Ledger.open(path) as ledger:
        ledger._sealed = seals  # --no-seals: the triggers and resealing off (cost comparison)
        year(days, [(ledger, tally)])
        report_figures(ledger, tally, days, seals=seals)


def compare(days: int, folder: Path) -> None:
    """The same year written to a sealed and an unsealed ledger side by side: the seals' cost."""
    with Ledger.open(folder / "sealed.sqlite3") as sealed, Ledger.open(
        folder / "plain.sqlite3"
    ) as plain:
        plain._sealed = False
        on, off = Tally(), Tally()
        year(days, [(sealed, on), (plain, off)])
    print(f"school days simulated      {days}, the same cycles to both ledgers, interleaved")
    print(f"accepted entries           {on.accepted:,} / {off.accepted:,}")
    for name, a, b in (("wall", on.seconds, off.seconds), ("CPU", on.cpu, off.cpu)):
        print(
            f"ledger {name:<4} time           sealed {a:.1f} s, unsealed {b:.1f} s "
            f"→ seals cost {100 * (a - b) / b:+.0f} % "
            f"({1000 * (a - b) / on.transactions:.1f} ms per transaction)"
        )


def report_figures(ledger: Ledger, tally: Tally, days: int, *, seals: bool) -> None:
    started, cpu = time.perf_counter(), time.process_time()
    verified = ledger.verify()
    report = verified.report
    verify_seconds, verify_cpu = time.perf_counter() - started, time.process_time() - cpu
    with closing(sqlite3.connect(ledger.path, isolation_level=None)) as connection:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # fold the WAL in before measuring
    size = ledger.path.stat().st_size
    backup_seconds, backup_size = 0.0, 0
    with tempfile.TemporaryDirectory() as folder:
        if seals:  # a backup is checked like verify: it refuses an unsealed ledger
            started = time.perf_counter()
            copy = backup(ledger, folder, datetime.now(TZ))
            backup_seconds = time.perf_counter() - started
            backup_size = copy.stat().st_size
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        f"school days simulated      {days} ({len(CLASSES) * PUPILS_PER_CLASS} pupils, "
        f"{len(CLASSES) * len(SUBJECTS)} journals)"
    )
    print(f"transactions               {tally.transactions} (6 sync cycles + 1 lock job per day)")
    print(f"cells offered              {tally.offered:,} ({tally.changes})")
    print(
        f"entries accepted           {tally.accepted:,} (new + changed), lessons {tally.lessons:,}, "
        f"cells locked {tally.locked:,}"
    )
    print(
        f"ledger time                {tally.seconds:.1f} s  → {tally.accepted / tally.seconds:,.0f} "
        f"accepted entries/s, {tally.offered / tally.seconds:,.0f} offered cells/s, "
        f"{1000 * tally.seconds / tally.transactions:.1f} ms per transaction"
    )
    print(f"ledger CPU time            {tally.cpu:.1f} s (process time of the same calls)")
    print(f"data seals                 {'on' if seals else 'OFF (--no-seals)'}")
    print(
        f"audit verify               {report.events:,} events + {verified.rows:,} rows in "
        f"{verify_seconds:.1f} s, CPU {verify_cpu:.1f} s "
        f"({report.events / verify_seconds:,.0f} events/s), "
        f"ok={report.ok}" + ("" if seals else " (expected False: nothing was sealed)")
    )
    print(
        f"database size              {size / 2**20:.1f} MiB "
        f"({size / max(1, report.events):.0f} bytes per audit event incl. all tables)"
    )
    if seals:
        print(f"online backup + verify     {backup_seconds:.1f} s, {backup_size / 2**20:.1f} MiB")
    print(f"peak RSS                   {peak_kb / 1024:.0f} MiB")


def verify_only(path: Path) -> None:
    """The full audit verify of a kept ledger, alone in this process: time and peak memory."""
    with Ledger.open(path) as ledger:
        started = time.perf_counter()
        verified = ledger.verify()
        seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    report = verified.report
    print(
        f"audit verify of {path}: {report.events:,} events + {verified.rows:,} rows in "
        f"{seconds:.1f} s, ok={report.ok}, peak RSS {peak_kb / 1024:.0f} MiB"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--days", type=int, default=170, help="school days to simulate (170 = a year)"
    )
    parser.add_argument("--density", type=float, default=0.4, help="share of a class per lesson")
    parser.add_argument("--keep", type=Path, help="write the ledger here instead of a temp folder")
    parser.add_argument("--no-seals", action="store_true", help="switch the data seals off")
    parser.add_argument("--verify", type=Path, help="only verify this kept ledger")
    parser.add_argument("--compare", action="store_true", help="sealed vs unsealed, interleaved")
    args = parser.parse_args()
    if args.verify:
        verify_only(args.verify)
        return
    DENSITY[0] = args.density
    if args.compare:
        with tempfile.TemporaryDirectory() as folder:
            compare(args.days, Path(folder))
        return
    if args.keep:
        run(args.days, args.keep, seals=not args.no_seals)
        return
    with tempfile.TemporaryDirectory() as folder:
        run(args.days, Path(folder) / "ledger.sqlite3", seals=not args.no_seals)


if __name__ == "__main__":
    main()
