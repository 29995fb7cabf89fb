"""The cost of the service on a day of the school year: the generated school over the emulator
with its ledger and journals filled up to that day.

Run: ``python -m tests.bench year [--classes 60] [--days 10,150]`` (or this module directly,
``--day N``; not a pytest test: it prints figures, it asserts nothing about speed).

The school is ``tests.bench.bench_reports``'s generated one (``--classes`` × 25 pupils, 12 subjects
a class, 6 lessons a day) with the example school's four quarters. For school day N
(``prepare``): the ledger is filled directly (as ``bench_ledger`` does: lesson facts, about 40 % of
a class with a cell per lesson) for every lesson before day N, days before N − 1 locked; then
``setup`` creates every file on the emulator from the ledger (the journals' grids hold that
year) on the evening of day N − 1, and the emulator is pickled. A fresh process (``measure``)
loads it and times, in CPU seconds of the process: the catch-up cycle (the first cycle, every
file read), the lock job that night (day N − 1 closes), and a busy cycle: the teachers of
``--changed`` journals with a lesson on day N (all of them by default) each type 5 marks, then one
cycle; then the next round an hour later, 5 more marks in the same journals and one cycle (the
closed quarters' tabs are settled from the catch-up's reads on: ``sync.jobs.settled``).
Figures: CPU per changed journal (both rounds), peak RSS of the measuring process (the emulator's
spreadsheets included), ledger + WAL size, the service's calls, and a naive gspread peer's
(``open_by_key`` + ``worksheet()`` + ``get_all_values()`` per tab, per journal, per cycle). The
diaries are off (``bench_diary_delay`` measures them); quotas off (quota minutes are computed
from the counts: 60 reads and 60 writes a minute per user).
"""

from __future__ import annotations

import argparse
import cProfile
import dataclasses
import json
import pickle
import random
import resource
import shutil
import sys
import time
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

from config import load_school
from config.school import BackendKind, School
from rules.model import Lesson
from sync.backends.google.http import TokenBucket, classify
from sync.jobs.cycle import run_cycle
from sync.jobs.locking import run_locks
from sync.jobs.service import Service, journal_key
from sync.jobs.setup import run_setup
from sync.ledger.model import EntryInput, FileKind, LessonInput
from tests.bench.bench_diary_delay import ORGANIZER, SVC, Run, Typing, backend, cells
from tests.bench.bench_reports import CLASSES, MARKS, PUPILS, TOML, write_school
from tests.emulator import GoogleEmulator

QUARTERS = """[[year.periods]]
name = "3 четверть"
start = 2027-01-11
end = 2027-03-19
[[year.periods]]
name = "4 четверть"
start = 2027-03-29
end = 2027-05-26
"""
TYPED_MARKS = ["5", "4", "4", "3", "5", "2", "н"]


def school_at(folder: Path, classes: int) -> School:
    """The generated school with a whole year of quarters, on the emulator's backend."""
    config = write_school(folder / "school", classes=CLASSES[:classes])
    toml = TOML.replace("[[work_types]]", QUARTERS + "\n[[work_types]]", 1)
    config.write_text(toml, encoding="utf-8")
    school = load_school(config, environ={"EJOURNAL_GOOGLE_EMULATOR_HOST": "emulator"})
    return dataclasses.replace(
        school, ledger_path=folder / "ledger.sqlite3", ledger_anchor=folder / "ledger.anchor",
        diaries=dataclasses.replace(school.diaries, enabled=False))


def school_days(school: School) -> list[date]:
    return sorted({x.day for lessons in school.lessons().values() for x in lessons})


def service(school: School, emu: GoogleEmulator, drive: str) -> Service:
    settings = dataclasses.replace(school.backend, kind=BackendKind.GOOGLE, folder=None,
                                   shared_drive_folder_id=drive)
    school = dataclasses.replace(school, backend=settings)
    tz = school.timezone
    return Service.open(school, backend=backend(emu, drive, SVC, 0.0, []),
                        clock=lambda: emu.clock.now().astimezone(tz), pool=())


def _by_day(school: School, until: date) -> Iterator[tuple[date, list[Lesson]]]:
    by_day: dict[date, list[Lesson]] = {}
    for lessons in school.lessons().values():
        for x in lessons:
            if x.day < until:
                by_day.setdefault(x.day, []).append(x)
    yield from sorted(by_day.items())


def fill(svc: Service, until: date, lock_before: date) -> int:
    """Every lesson before ``until`` written to the ledger directly (one transaction a day, as
    the cycles and lock jobs of that day would), days before ``lock_before`` locked, and the
    periods whose marks' window closed before it (as the lock job does); returns the entries."""
    school, rng, entries = svc.school, random.Random(2026), 0
    for day, lessons in _by_day(school, until):
        now = datetime.combine(day, clock(16), tzinfo=school.timezone)
        night = datetime.combine(day, clock(23, 59), tzinfo=school.timezone)
        with svc.ledger.transaction() as tx:
            for x in lessons:
                key = journal_key(x.class_id, x.subject_id)
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
                tx.accept_entries(key, cells, now, accepted_by="bench")
                entries += len(cells)
                if day < lock_before:
                    tx.lock_day(key, day, night)
    after = timedelta(days=school.policies.lock.period_mark_open_after_days)
    with svc.ledger.transaction() as tx:  # the period marks' windows closed before lock_before
        for period in school.year.periods:
            if period.end + after < lock_before:
                night = datetime.combine(period.end + after, clock(23, 59), tzinfo=school.timezone)
                for class_id, subject_id in sorted(school.journals()):
                    tx.lock_period(journal_key(class_id, subject_id), period.name, night)
    return entries


def prepare(folder: Path, classes: int, day_no: int) -> dict[str, Any]:
    """The school filled to school day ``day_no``, set up on the evening before; pickled."""
    folder.mkdir(parents=True, exist_ok=True)
    school = school_at(folder, classes)
    days = school_days(school)
    day, eve = days[day_no - 1], days[day_no - 2]
    start = datetime.combine(eve, clock(19), tzinfo=school.timezone)
    emu = GoogleEmulator(service_principal=SVC, start=start, quotas=False)
    drive = emu.create_shared_drive("Большая школа", organizers=[SVC, ORGANIZER])
    cpu = time.process_time()
    with service(school, emu, drive) as svc:
        entries = fill(svc, day, eve)
        fill_cpu = time.process_time() - cpu
        setup = run_setup(svc)
        assert not setup.failed, setup.failed
    (folder / "emulator.pickle").write_bytes(pickle.dumps((emu, drive)))
    _copy(school.ledger_path, folder / "prepared.sqlite3")
    shutil.copyfile(school.anchor_path, folder / "prepared.anchor")
    return {"day": day.isoformat(), "entries": entries, "fill_cpu_s": round(fill_cpu, 1),
            "setup_cpu_s": round(time.process_time() - cpu - fill_cpu, 1)}


def _copy(source: Path, target: Path) -> None:
    """A closed ledger and its WAL (if any) copied over ``target``'s."""
    for suffix in ("", "-wal", "-shm"):
        a, b = Path(f"{source}{suffix}"), Path(f"{target}{suffix}")
        b.unlink(missing_ok=True)
        if a.exists():
            shutil.copyfile(a, b)


def _status(field: str) -> float:
    """A ``/proc/self/status`` memory figure in MiB (0 where there is none)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def _reset_peak() -> float:
    """The RSS now (the emulator's spreadsheets loaded), the peak reset to it (Linux), so the
    peak measured later less this is the service's own."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
    except OSError:
        return 0.0
    return _status("VmRSS")


def _calls(emu: GoogleEmulator, principal: str) -> dict[str, int]:
    return {k: emu.calls_total(k, principal) for k in ("sheets_read", "sheets_write", "drive")}


def throttle_minutes(emu: GoogleEmulator, principal: str, per_minute: int = 60) -> float:
    """Minutes the client's own throttle (``sync.backends.google.http``: separate read and write
    buckets of ``per_minute``, Google's per-user quota) needs for the Sheets calls the emulator
    logged, in the order they were made, on a virtual clock where a call itself takes no time."""
    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    buckets = {kind: TokenBucket(per_minute, lambda: now[0], sleep)
               for kind in ("sheets_read", "sheets_write")}
    for call in emu.log:
        kind = classify(call.method, call.path)
        if call.principal == principal and kind in buckets:
            buckets[kind].acquire()
    return now[0] / 60


def count_serving(emu: GoogleEmulator) -> list[float]:
    """From now on, the CPU seconds the in-process emulator spends serving requests (Google's
    side of the wire, inside this process) add up in the returned one-item list."""
    served, serve = [0.0], emu.handle

    def handle(*args: Any, **kw: Any) -> Any:
        start = time.process_time()
        try:
            return serve(*args, **kw)
        finally:
            served[0] += time.process_time() - start

    emu.handle = handle  # type: ignore[method-assign]
    return served


def _timed(emu: GoogleEmulator, served: list[float], action: Any
           ) -> tuple[Any, float, dict[str, Any]]:
    """``action()``, its CPU seconds (the process's: the emulator's serving included) and its
    calls, quota minutes and the emulator's share of the CPU (``serving_cpu_s``, from the
    :func:`count_serving` total ``served``)."""
    emu.reset_counters()
    before, cpu = served[0], time.process_time()
    result = action()
    cpu = time.process_time() - cpu
    return result, cpu, {**_calls(emu, SVC), "minutes": throttle_minutes(emu, SVC),
                         "serving_cpu_s": served[0] - before}


def _busy_round(svc: Service, emu: GoogleEmulator, served: list[float], day: date, changed: int,
                seed: int, hour: int, profile: Path | None) -> tuple[int, Any, float, dict[str, Any]]:
    """5 marks typed in each journal with a lesson on ``day`` at ``hour``:05, then one cycle:
    (journals changed, its summary, its CPU seconds, its calls)."""
    school = svc.school
    typed = typing(svc, day, changed, random.Random(seed))
    where = cells(Run(emu, school, svc), typed)
    emu.quotas.enabled = False  # cells() switches them back on
    teacher = emu.client(ORGANIZER)
    with svc.ledger.snapshot() as tx:
        ids = {f.key: f.id for f in tx.files(FileKind.JOURNAL)}
    emu.clock.set(datetime.combine(day, clock(hour, 5), tzinfo=school.timezone))
    for t in typed:
        teacher.http_client.values_update(
            ids[t.journal], where[(t.journal, t.pupil, t.lesson)],
            params={"valueInputOption": "USER_ENTERED"}, body={"values": [[t.value]]})
    busy, cpu, calls = _timed(emu, served, lambda: _profiled(profile, lambda: run_cycle(svc)))
    return len({t.journal for t in typed}), busy, cpu, calls


def typing(svc: Service, day: date, changed: int, rng: random.Random) -> list[Typing]:
    """5 marks in each of the first ``changed`` journals with a lesson on ``day``."""
    school, out, at = svc.school, [], datetime.combine(day, clock(10), tzinfo=svc.school.timezone)
    todo = sorted({(x.class_id, x.subject_id, x.lesson_no) for ls in school.lessons().values()
                   for x in ls if x.day == day})
    seen: set[str] = set()
    for class_id, subject_id, no in todo:
        key = journal_key(class_id, subject_id)
        if key in seen or len(seen) >= changed:
            continue
        seen.add(key)
        pupils = [p.id for p in school.pupils_in(class_id)]
        for pupil in rng.sample(pupils, 5):
            out.append(Typing(at, ORGANIZER, key, (day, no), pupil, rng.choice(TYPED_MARKS)))
    return out


def naive_peer(emu: GoogleEmulator, svc: Service, limit: int) -> dict[str, float]:
    """The tutorial way for ``limit`` journals: calls per journal per cycle, and its CPU."""
    client = emu.client(ORGANIZER)
    with svc.ledger.snapshot() as tx:
        ids = [f.id for f in tx.files(FileKind.JOURNAL)][:limit]
    emu.reset_counters()
    cpu = time.process_time()
    for file_id in ids:
        sheet = client.open_by_key(file_id)
        for tab in [w.title for w in sheet.worksheets()]:
            sheet.worksheet(tab).get_all_values()
    return {"calls_per_journal": emu.calls_total(None, ORGANIZER) / len(ids),
            "cpu_per_journal_ms": 1000 * (time.process_time() - cpu) / len(ids)}


def _profiled(path: Path | None, action: Any) -> Any:
    """``action()``, under cProfile when ``path`` is given (stats dumped there)."""
    if path is None:
        return action()
    profiler = cProfile.Profile()
    try:
        return profiler.runcall(action)
    finally:
        profiler.dump_stats(path)


def measure(folder: Path, classes: int, day_no: int, changed: int, naive: int,
            profile: Path | None = None) -> dict[str, Any]:
    """Load the prepared school and time its catch-up cycle, lock job and busy cycle."""
    emu, drive = pickle.loads((folder / "emulator.pickle").read_bytes())
    served = count_serving(emu)
    emulator_mib = _reset_peak()
    school = school_at(folder, classes)
    _copy(folder / "prepared.sqlite3", school.ledger_path)  # measure runs again from the start
    shutil.copyfile(folder / "prepared.anchor", school.anchor_path)
    days = school_days(school)
    day = days[day_no - 1]
    out: dict[str, Any] = {"classes": classes, "day_no": day_no, "day": day.isoformat()}
    with service(school, emu, drive) as svc:
        with svc.ledger.snapshot() as tx:
            files = len(tx.files())
        _, cpu, calls = _timed(emu, served, lambda: run_cycle(svc))
        out.update(files=files, catch_up_cpu_s=cpu, catch_up_calls=calls)
        emu.clock.set(datetime.combine(day, clock(0, 30), tzinfo=school.timezone))
        lock_profile = profile.with_name(profile.name + ".locks") if profile else None
        locks, cpu, calls = _timed(emu, served, lambda: _profiled(lock_profile, lambda: run_locks(svc)))
        assert locks.ok, locks
        out.update(lock_cpu_s=cpu, lock_calls=calls, lock_read=locks.tally.journals_read,
                   lock_unread=locks.locked_unread)
        journals, busy, cpu, calls = _busy_round(svc, emu, served, day, changed, day_no, 10, profile)
        out.update(changed=journals, busy_cpu_s=cpu, busy_calls=calls,
                   accepted=busy.tally.entries_accepted,
                   per_journal_ms=1000 * cpu / max(1, journals))
        next_profile = profile.with_name(profile.name + ".next") if profile else None
        journals, busy, cpu, calls = _busy_round(svc, emu, served, day, changed, day_no + 1, 11,
                                                 next_profile)
        out.update(next_changed=journals, next_cpu_s=cpu, next_calls=calls,
                   next_accepted=busy.tally.entries_accepted,
                   per_journal_next_ms=1000 * cpu / max(1, journals))
        _, cpu, calls = _timed(emu, served, lambda: run_cycle(svc))
        out.update(idle_calls=calls)
        if naive:
            out["naive"] = naive_peer(emu, svc, naive)
        out["journals"] = len(school.journals())
    wal = school.ledger_path.with_name(school.ledger_path.name + "-wal")
    out["ledger_mib"] = school.ledger_path.stat().st_size / 2**20
    out["wal_mib"] = wal.stat().st_size / 2**20 if wal.exists() else 0.0
    out["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    out["emulator_rss_mib"] = emulator_mib
    out["service_peak_mib"] = _status("VmHWM") - emulator_mib if emulator_mib else None
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("phase", choices=["prepare", "measure"])
    parser.add_argument("--dir", type=Path, required=True)
    parser.add_argument("--classes", type=int, default=60)
    parser.add_argument("--day", type=int, default=10, help="school day of the year (≥ 2)")
    parser.add_argument("--changed", type=int, default=10_000, help="journals typed into")
    parser.add_argument("--naive", type=int, default=0, help="journals the naive peer reads")
    parser.add_argument("--profile", type=Path,
                        help="cProfile the busy cycle into this file (the lock job into FILE.locks)")
    args = parser.parse_args(argv)
    if args.phase == "prepare":
        result = prepare(args.dir, args.classes, args.day)
    else:
        result = measure(args.dir, args.classes, args.day, args.changed, args.naive,
                         args.profile)
    json.dump(result, sys.stdout, default=str)
    print()


if __name__ == "__main__":
    main()
