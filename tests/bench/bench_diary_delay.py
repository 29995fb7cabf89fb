"""Mark → diary delay at Google's quota: a busy school day of a 1,500-pupil school, synced every
5 minutes, with one service principal and with a pool.

Run: ``python -m tests.bench.bench_diary_delay [--burst] [--pool N] [--classes 60]`` (not a pytest
test: it prints figures and asserts nothing about speed).

The school is ``tests.bench.bench_reports``'s generated one (60 classes × 25 pupils, 12 subjects
a class: 720 journals, 6 lessons a day), on the Google emulator with its quotas ON (60 writes and
60 reads a minute per principal, 300 per project) and every call of the service taking
``--latency`` seconds of the emulator's clock (nothing sleeps: throttling and latency move the
clock). The service is set up, its first cycle creates every diary the evening before, the
nightly lock job opens the day's cells; then the day (Tuesday 15.09.2026): lesson k runs
08:30 + 55 min·(k−1) for 45 min; in each lesson its teacher types 3–8 marks (each at a random
moment from 10 min into the lesson to 20 min after it) and in one lesson in five the homework
(around the bell), through a real gspread client as the teacher (a browser's edits do not count
against the service's API quota, so the typing does not either). ``--burst``: every mark and
homework of the day is typed in the 15 minutes after the last lesson. The daemon's sync runs
every 5 minutes (or right after a longer cycle).

Measured, per run (one principal; then ``--pool N`` principals — the service account and N−1
more, Managers of the shared drive): mark → diary delay (from the moment the mark is typed to
the diary write that shows it: the first write of the pupil's diary by a cycle that started
after the typing) median / p95 / max; homework → whole class (the last diary of the class
written) p95; diary writes; Sheets calls refused (429); CPU seconds of the simulated day.
"""

from __future__ import annotations

import argparse
import dataclasses
import random
import re
import statistics
import tempfile
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock
from pathlib import Path
from typing import Any

import requests

from config import load_school
from config.school import BackendKind, School
from sync.backends.google.auth import client_for_session
from sync.backends.google.backend import GoogleBackend
from sync.jobs.cycle import run_cycle
from sync.jobs.journal_sync import journal_titles
from sync.jobs.locking import run_locks
from sync.jobs.service import Service, journal_key
from sync.jobs.setup import run_setup
from sync.layout.journal.map import LessonField
from sync.layout.journal.spec import parse_journal
from sync.ledger.model import FileKind
from tests.bench.bench_reports import CLASSES, write_school
from tests.emulator import EmulatorAdapter, GoogleEmulator
from tests.sync.backend_helpers import FakeTime

SVC = "service@ejournal.iam.gserviceaccount.com"
ORGANIZER = "director@big.example"
DAY = date(2026, 9, 15)  # a Tuesday of the first quarter
FIRST_BELL, LESSON, BREAK = clock(8, 30), timedelta(minutes=45), timedelta(minutes=10)
SYNC_EVERY = timedelta(minutes=5)
MARKS = ["5", "4", "4", "3", "5", "2", "н"]
_SHEETS_ID = re.compile(r"/v4/spreadsheets/([^/:]+)")


@dataclass(frozen=True)
class Typing:
    """One thing a teacher types: a mark of one pupil, or the homework of one lesson."""

    at: datetime
    teacher: str
    journal: str  # journal key
    lesson: tuple[date, int]
    pupil: str | None  # None: the homework
    value: str


class Wire(EmulatorAdapter):
    """The service's transport: every call takes ``latency`` s of the emulator's clock; the
    successful POSTs are remembered as (file id, moment)."""

    def __init__(self, emu: GoogleEmulator, latency: float, posts: list[tuple[str, datetime]]
                 ) -> None:
        super().__init__(emu)
        self.latency, self.posts = latency, posts

    def send(self, request: requests.PreparedRequest, *args: Any, **kw: Any) -> requests.Response:
        self.emu.clock.advance(self.latency)
        response = super().send(request, *args, **kw)
        found = _SHEETS_ID.search(request.url or "")
        if request.method == "POST" and found and response.ok:
            self.posts.append((found.group(1), self.emu.clock.now()))
        return response


@dataclass
class Run:
    emu: GoogleEmulator
    school: School
    svc: Service
    posts: list[tuple[str, datetime]] = field(default_factory=list)
    cycles: list[datetime] = field(default_factory=list)


def at(day: date, when: clock | timedelta, tz: Any) -> datetime:
    if isinstance(when, timedelta):
        return datetime.combine(day, clock(0), tzinfo=tz) + when
    return datetime.combine(day, when, tzinfo=tz)


def backend(emu: GoogleEmulator, drive: str, principal: str, latency: float,
            posts: list[tuple[str, datetime]]) -> GoogleBackend:
    session = requests.Session()
    session.mount("https://", Wire(emu, latency, posts))
    fake = FakeTime(emu)
    conn = client_for_session(session, principal, clock=fake.now, sleep=fake.sleep,
                              rng=random.Random(7))
    return GoogleBackend(conn, folder=drive, rng=random.Random(7))


def build(folder: Path, classes: int, pool: int, latency: float) -> Run:
    """The school on a fresh emulator, set up, every diary created (the evening before)."""
    config = write_school(folder / "school", classes=CLASSES[:classes])
    school = load_school(config, environ={"EJOURNAL_GOOGLE_EMULATOR_HOST": "emulator"})
    start = at(DAY - timedelta(days=1), clock(6), school.timezone)
    emu = GoogleEmulator(service_principal=SVC, start=start, quotas=True)
    members = [f"pool-{n}@ejournal.iam.gserviceaccount.com" for n in range(1, pool)]
    drive = emu.create_shared_drive("Большая школа", organizers=[SVC, ORGANIZER, *members])
    settings = dataclasses.replace(school.backend, kind=BackendKind.GOOGLE, folder=None,
                                   shared_drive_folder_id=drive,
                                   pool_credentials_env=tuple(f"POOL_{n}" for n in members))
    school = dataclasses.replace(school, backend=settings, ledger_path=folder / "ledger.sqlite3")
    posts: list[tuple[str, datetime]] = []
    tz = school.timezone
    svc = Service.open(school, backend=backend(emu, drive, SVC, latency, posts),
                       clock=lambda: emu.clock.now().astimezone(tz),
                       pool=tuple(backend(emu, drive, m, latency, posts) for m in members))
    assert not run_setup(svc).failed
    emu.clock.set(max(emu.clock.now(), at(DAY - timedelta(days=1), clock(18), tz)))
    unpaced = dataclasses.replace(school.diaries, writes_per_cycle=100_000)
    svc.school = dataclasses.replace(school, diaries=unpaced)
    first = run_cycle(svc)  # every journal read, every diary created
    assert first.diaries is not None and first.diaries["created"] == len(school.pupils)
    svc.school = school
    emu.clock.set(max(emu.clock.now(), at(DAY, clock(0), tz)))
    assert run_locks(svc).ok  # the night: the day's cells open for the teachers
    return Run(emu, school, svc, posts)


def the_day(run: Run, rng: random.Random, burst: bool) -> list[Typing]:
    """What the teachers type on DAY (see the module docstring)."""
    school, tz = run.school, run.school.timezone
    out: list[Typing] = []
    last_end = at(DAY, FIRST_BELL, tz)
    for (class_id, subject_id), lessons in sorted(school.lessons().items()):
        teacher = school.teacher(school.teachers_of(class_id, subject_id)[0])
        assert teacher is not None
        pupils = [p.id for p in school.pupils_in(class_id)]
        for x in lessons:
            if x.day != DAY:
                continue
            begins = at(DAY, FIRST_BELL, tz) + (LESSON + BREAK) * (x.lesson_no - 1)
            ends = begins + LESSON
            last_end = max(last_end, ends)
            key, lesson = journal_key(class_id, subject_id), (DAY, x.lesson_no)
            for pupil in rng.sample(pupils, rng.randint(3, 8)):
                when = begins + timedelta(seconds=rng.uniform(600, 45 * 60 + 1200))
                out.append(Typing(when, teacher.email, key, lesson, pupil, rng.choice(MARKS)))
            if rng.random() < 0.2:
                when = ends + timedelta(seconds=rng.uniform(-600, 600))
                out.append(Typing(when, teacher.email, key, lesson, None, f"§ {x.number}, № 5"))
    if burst:
        out = [dataclasses.replace(t, at=last_end + timedelta(seconds=rng.uniform(0, 900)))
               for t in out]
    return sorted(out, key=lambda t: t.at)


def cells(run: Run, typed: list[Typing]) -> dict[tuple[str, str | None, tuple[date, int]], str]:
    """Where each typing goes: (journal, pupil or None, lesson) → A1 of the cell (each journal
    read once, as the drive's organizer, before the day)."""
    inspector = backend(run.emu, run.svc.backend.folder or "", ORGANIZER, 0.0, [])
    titles = journal_titles(run.school)
    out: dict[tuple[str, str | None, tuple[date, int]], str] = {}
    with run.svc.ledger.snapshot() as tx:
        files = {f.key: f.id for f in tx.files(FileKind.JOURNAL)}
    run.emu.quotas.enabled = False
    for key in sorted({t.journal for t in typed}):
        class_id, subject_id = key.split("/")
        lessons = sorted(run.school.lessons()[(class_id, subject_id)],
                         key=lambda x: (x.day, x.lesson_no))
        where = parse_journal(inspector.read(files[key], titles), run.school, class_id,
                              subject_id, lessons).map
        for t in typed:
            if t.journal == key:
                found = (where.cell(t.pupil, t.lesson) if t.pupil else
                         where.lesson_field(t.lesson, LessonField.HOMEWORK))
                assert found is not None
                out[(key, t.pupil, t.lesson)] = found.a1().split(":")[0]
    run.emu.quotas.enabled = True
    return out


def simulate(run: Run, typed: list[Typing]) -> float:
    """The day: typing and a sync every 5 minutes until everything typed is in the diaries;
    returns the CPU seconds it took."""
    where = cells(run, typed)
    with run.svc.ledger.snapshot() as tx:
        files = {f.key: f.id for f in tx.files(FileKind.JOURNAL)}
    emu, tz = run.emu, run.school.timezone
    clients: dict[str, Any] = {}
    run.posts.clear()
    cpu = time.process_time()
    emu.clock.set(at(DAY, clock(8), tz))
    nxt, i = at(DAY, clock(8), tz), 0
    while True:
        nxt = max(nxt, emu.clock.now())  # the cycle starts then: it sees what was typed before
        emu.quotas.enabled = False  # a browser's edits: not the service's API quota
        while i < len(typed) and typed[i].at <= nxt:
            t = typed[i]
            emu.clock.set(max(emu.clock.now(), t.at))
            client = clients.get(t.teacher) or clients.setdefault(t.teacher,
                                                                   emu.client(t.teacher))
            client.http_client.values_update(
                files[t.journal], where[(t.journal, t.pupil, t.lesson)],
                params={"valueInputOption": "USER_ENTERED"}, body={"values": [[t.value]]})
            i += 1
        emu.quotas.enabled = True
        emu.clock.set(nxt)
        started = emu.clock.now()
        run.cycles.append(started)
        summary = run_cycle(run.svc)
        diaries = summary.diaries or {}
        if i == len(typed) and not diaries.get("waiting") and not diaries.get("written"):
            break
        nxt = started + SYNC_EVERY
    return time.process_time() - cpu


def pct(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))]


def delays(run: Run, typed: list[Typing]) -> dict[str, Any]:
    """The figures (see the module docstring), in minutes."""
    with run.svc.ledger.snapshot() as tx:
        diary_of = {f.id: f.key for f in tx.files(FileKind.DIARY)}
    writes: dict[str, list[datetime]] = {}
    for file_id, moment in run.posts:
        if file_id in diary_of:
            writes.setdefault(diary_of[file_id], []).append(moment)

    def shown(pupil: str, typed_at: datetime) -> float:
        start = min(c for c in run.cycles if c >= typed_at)
        first = min(w for w in writes[pupil] if w >= start)
        return (first - typed_at).total_seconds() / 60

    marks = [shown(t.pupil, t.at) for t in typed if t.pupil]
    homework = [max(shown(p.id, t.at) for p in run.school.pupils_in(t.journal.split("/")[0]))
                for t in typed if t.pupil is None]
    refused = sum(1 for c in run.emu.log if c.status == 429)
    return {"marks": len(marks), "median": statistics.median(marks), "p95": pct(marks, 95),
            "max": max(marks), "homework": len(homework),
            "homework_p95": pct(homework, 95) if homework else 0.0,
            "diary_writes": sum(len(w) for w in writes.values()), "refused_429": refused,
            "cycles": len(run.cycles)}


def one(classes: int, pool: int, burst: bool, latency: float, seed: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.process_time()
        run = build(Path(tmp), classes, pool, latency)
        setup_cpu = time.process_time() - t0
        typed = the_day(run, random.Random(seed), burst)
        run.emu.reset_counters()
        cpu = simulate(run, typed)
        figures = delays(run, typed)
        run.svc.close()
    return {**figures, "principals": pool, "cpu_s": round(cpu, 1),
            "setup_cpu_s": round(setup_cpu, 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--burst", action="store_true", help="every mark in 15 min after school")
    parser.add_argument("--pool", type=int, default=5, help="principals of the pool (with it)")
    parser.add_argument("--classes", type=int, default=60, help="classes of 25 pupils")
    parser.add_argument("--latency", type=float, default=0.15, help="seconds per API call")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    print(f"school: {args.classes} classes × 25 pupils = {args.classes * 25} pupils, "
          f"{args.classes * 12} journals; day: {'burst' if args.burst else 'ordinary'}; "
          f"latency {args.latency} s/call; sync every 5 min")
    print("principals | marks | median min | p95 min | max min | homework→class p95 min | "
          "diary writes | 429 | cycles | CPU s (day) | CPU s (setup)")
    for principals in dict.fromkeys((1, args.pool)):
        f = one(args.classes, principals, args.burst, args.latency, args.seed)
        print(f"{f['principals']:>10} | {f['marks']:>5} | {f['median']:>10.1f} | "
              f"{f['p95']:>7.1f} | {f['max']:>7.1f} | {f['homework_p95']:>22.1f} | "
              f"{f['diary_writes']:>12} | {f['refused_429']:>3} | {f['cycles']:>6} | "
              f"{f['cpu_s']:>11} | {f['setup_cpu_s']:>13}", flush=True)


if __name__ == "__main__":
    main()
