"""The year simulation: every school day of 2026/27 (or the first N) of the example school, on a
simulated clock, under faults, with the invariants checked every day.

A school day: 11:00 (every few days) the deputy files a correction (``tests.sim.others``);
13:00 (every few days) an owner tampers with a locked mark; 15:00 the teachers type the day
(``tests.sim.people``; a substitute checked let in at 14:50); 15:30 the class teachers; 16:00 a
cycle; 17:00 they fix most typos; 18:00 a cycle; on Fridays the reports are built and the
teachers' board written; every night
since (weekends included) the lock job at ``lock_at``; then a quiet cycle and the day's
invariants (``tests.sim.invariants``). Every job runs through ``tests.sim.chaos``. At the end:
backup → the spreadsheets vandalised → restore → rebuild, and every journal must read as before.
"""

from __future__ import annotations

import random
import resource
import shutil
import tempfile
import time as clock
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

from config import load_school
from config.school import School
from rules.calendar import school_days
from sync.demo.run import EXAMPLE
from sync.jobs.cycle import run_cycle
from sync.jobs.locking import run_locks
from sync.jobs.service import Service
from tests.sim import invariants
from tests.sim.chaos import Chaos
from tests.sim.oracle import Oracle
from tests.sim.others import Others
from tests.sim.people import People, damage_structure, share_where_not_allowed
from tests.sim.substitute import with_substitution
from tests.sim.world import World, emulator_world, local_world, set_up, with_diaries

TAMPER_EVERY = 3  # school days
SHARE_EVERY = 5
DAMAGE_EVERY = 7


class InvariantBroken(AssertionError):
    """An invariant failed: the message lists every difference."""


@dataclass
class Figures:
    """The run's one table."""

    backend: str = ""
    days: int = 0
    cycles: int = 0
    nights: int = 0
    files: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    wall: float = 0.0
    cpu: float = 0.0
    rebuilt_same: bool | None = None

    def table(self) -> str:
        c = self.counts
        rows = [
            ("backend", self.backend),
            ("school days", self.days),
            ("sync cycles", self.cycles),
            ("nights (lock job)", self.nights),
            ("spreadsheets", self.files),
            ("mark cells typed", c.get("typed", 0)),
            ("  taken by the spreadsheet", c.get("taken", 0)),
            ("  refused (protected)", c.get("refused", 0)),
            ("    of them typed in time", c.get("refused_in_time", 0)),
            ("  late within the norm", c.get("late_within", 0)),
            ("  late beyond it", c.get("late_beyond", 0)),
            ("  typos (fixed)", f"{c.get('typos', 0)} ({c.get('typos_fixed', 0)})"),
            ("accepted (ledger entries)", c.get("accepted", 0)),
            ("  held as late (unproven)", c.get("held", 0)),
            ("tamperings reverted", f"{c.get('reverted', 0)} of {c.get('tampered', 0)}"),
            ("shares where not allowed (Drive took)",
             f"{c.get('shares_tried', 0)} ({c.get('shares_taken', 0)})"),
            ("columns inserted (owner)", c.get("damaged", 0)),
            ("corrections by the deputy (applied)", c.get("corrections_filed", 0)),
            ("corrections by a teacher (rejected)", c.get("corrections_forged", 0)),
            ("substitutions (marks the substitute typed)",
             f"{c.get('substitutions', 0)} ({c.get('typed_by_substitutes', 0)})"),
            ("absence reasons in time: taken (refused)",
             f"{c.get('reasons_in_time', 0)} ({c.get('reasons_refused_in_time', 0)})"),
            ("absence reasons late (refused)",
             f"{c.get('reasons_late', 0)} ({c.get('reasons_late_refused', 0)})"),
            ("parents' applications typed", c.get("applications_typed", 0)),
            ("diaries read by parents", c.get("diaries_read", 0)),
            ("API faults injected", c.get("api_faults", 0)),
            ("process kills", c.get("kills", 0)),
            ("disk full", c.get("disk_full", 0)),
            ("backup→restore→rebuild same", self.rebuilt_same),
            ("invariant violations", len(self.violations)),
            ("wall time", f"{self.wall:.1f} s"),
            ("CPU", f"{self.cpu:.1f} s"),
        ]
        width = max(len(name) for name, _ in rows)
        return "\n".join(f"| {name:<{width}} | {value!s:>14} |" for name, value in rows)


def sim_days(count: int) -> list[date]:
    school = load_school(EXAMPLE, environ={})
    days = school_days(school.year)
    return days if count <= 0 else days[:count]


def build_world(backend: str, folder: Path, first: date) -> World:
    school = sim_school(load_school(EXAMPLE, environ={}))
    start = datetime.combine(first, time(7), tzinfo=school.timezone)
    if backend == "emulator":
        return emulator_world(folder, school, start)
    return local_world(folder, sim_school, start)


def sim_school(school: School) -> School:
    """The example school as the simulation runs it: diaries on, one more substitution."""
    return with_substitution(with_diaries(school))


def simulate(days: int = 20, *, backend: str = "emulator", seed: int = 1, faults: bool = True,
             folder: Path | None = None, echo: Any = print, plant: Any = None,
             kill_chance: float | None = None) -> Figures:
    """Run the simulation; raises :class:`InvariantBroken` on the first day an invariant fails.
    ``plant(world, day)`` runs before each day's checks (the test that plants a violation);
    ``kill_chance``: per job, that the process is killed during a later one (default: about 25
    kills over the run's jobs, at most 0.5)."""
    wall, cpu = clock.perf_counter(), clock.process_time()
    when = sim_days(days)
    own = folder is None
    folder = Path(tempfile.mkdtemp(prefix="ejournal-sim-")) if folder is None else folder
    world = build_world(backend, folder, when[0])
    rng = random.Random(seed)
    figures = Figures(backend=backend)
    oracle = Oracle()
    try:
        figures.files = set_up(world)
        people = People(world, oracle, rng)
        others = Others(people)
        chaos = Chaos(world, rng, faults, kill_chance=kill_chance if kill_chance is not None
                      else min(0.5, 25 / (4 * len(when))))
        _cycle(world, chaos, figures, people, quiet=True)  # the first cycle reads every file
        for number, day in enumerate(when):
            _day(world, chaos, people, others, figures, day, number)
            _nights(world, chaos, figures, day, when[number + 1] if number + 1 < len(when)
                    else day + timedelta(days=1))
            _settle(world, chaos, figures, people)
            if others.deputy.retype_unproven():  # she reads her rows' statuses in the morning
                _settle(world, chaos, figures, people)
            people.damaged.clear()
            if plant is not None:
                plant(world, day)
            problems = invariants.daily(world, people, oracle, day,
                                        access=backend == "emulator" and (
                                            day.weekday() == 4 or number % SHARE_EVERY == 2))
            problems += [f"{day.isoformat()}: {p}" for p in others.checks(day)]
            figures.days += 1
            if problems:
                figures.violations += problems
                lines = [*problems[:40], "the jobs before:", *chaos.log[-14:]]
                raise InvariantBroken("\n".join(lines))
            if echo and (number % 10 == 9 or number == len(when) - 1):
                echo(f"  {day.isoformat()}: {figures.days} days, {oracle.counts['typed']} typed,"
                     f" {chaos.counts['kills']} kills, {clock.perf_counter() - wall:.0f} s")
        figures.counts["accepted"] = len(oracle.expected())  # = the ledger's, checked daily
        figures.rebuilt_same = _backup_restore_rebuild(world, chaos, people, figures)
    finally:
        figures.counts = {**oracle.counts, **chaos.counts, **figures.counts}
        figures.wall = clock.perf_counter() - wall
        usage = resource.getrusage(resource.RUSAGE_SELF)
        figures.cpu = clock.process_time() - cpu if usage else 0.0
        world.close()
        if own:
            shutil.rmtree(folder, ignore_errors=True)
    return figures


def _day(world: World, chaos: Chaos, people: People, others: Others, figures: Figures,
         day: date, number: int) -> None:
    others.morning(day, number)
    if number % TAMPER_EVERY == TAMPER_EVERY - 1:
        world.at(day, time(13))
        people.tamper(day)
    if number % DAMAGE_EVERY == 4:
        world.at(day, time(12))
        damage_structure(people, day)
    if number % SHARE_EVERY == 2:
        world.at(day, time(14))
        share_where_not_allowed(people, day)
    others.before_lessons(day)
    world.at(day, time(15))
    people.school_day(day)
    others.after_lessons(day)
    world.at(day, time(16))
    if world.disk is not None and chaos.enabled and number == 1:
        world.disk.fill()  # the disk full once: the 16:00 cycle's first save
    _cycle(world, chaos, figures, people)
    world.at(day, time(17))
    people.fix_typos()
    world.at(day, time(18))
    _cycle(world, chaos, figures, people)
    if day.weekday() == 4:
        world.at(day, time(19))
        chaos.run(_reports)
    others.evening(day, chaos)


def _cycle(world: World, chaos: Chaos, figures: Figures, people: People, *,
           quiet: bool = False) -> Any:
    summary = chaos.run(run_cycle, quiet=quiet)
    figures.cycles += 1
    for key in people.damaged:
        people.forget(key)
    if summary is not None and summary.ok and people.tampered:
        problems = invariants.tampering_reverted(world, people, people.oracle)
        if problems:
            figures.violations += problems
            raise InvariantBroken("\n".join(problems))
        figures.counts["reverted"] = figures.counts.get("reverted", 0) + len(people.tampered)
        people.tampered_total += len(people.tampered)
        people.tampered = []
    return summary


def _nights(world: World, chaos: Chaos, figures: Figures, after: date, until: date) -> None:
    night = after + timedelta(days=1)
    while night <= until:
        world.at(night, world.school.schedule.lock_at)
        if chaos.run(run_locks) is None:
            chaos.killed_night = True
        figures.nights += 1
        night += timedelta(days=1)


def _settle(world: World, chaos: Chaos, figures: Figures, people: People) -> None:
    """The morning's cycles with no fault, until one runs whole (what failed is retried); the
    lock job again first if the night's was killed (the daemon runs a missed night on start)."""
    now = world.now()
    if chaos.killed_night:
        world.set_now(now + timedelta(minutes=10))
        chaos.run(run_locks, quiet=True)
        chaos.killed_night = False
    for minute in range(1, 6):
        world.set_now(now + timedelta(minutes=20 * minute))
        summary = _cycle(world, chaos, figures, people, quiet=True)
        if summary is not None and summary.ok:
            return
    raise InvariantBroken(f"{now.date()}: no sync cycle ran whole after the faults stopped")


def _reports(svc: Service) -> None:
    from sync.jobs.report_schedule import build_set, publish_built

    now = svc.now()
    built = build_set(svc.school, svc.ledger, now, now.date())
    publish_built(svc, built, now)


def _backup_restore_rebuild(world: World, chaos: Chaos, people: People,
                            figures: Figures) -> bool:
    """Back up the ledger, vandalise a fifth of the journals (their locked marks cleared past the
    protection), restore, rebuild: every journal must read as it did."""
    from sync.jobs.repair import rebuild_all
    from sync.ledger.backup import backup, restore
    from sync.ledger.model import FileKind

    titles = [p.name for p in world.school.year.periods] + ["Уроки"]
    journals = world.files(FileKind.JOURNAL)
    before = {key: world.read(file_id, titles) for key, file_id in sorted(journals.items())}
    now = world.now()
    saved = backup(world.svc.ledger, world.folder / "backups", now)
    for key, file_id in sorted(journals.items())[:: max(1, len(journals) // 5)]:
        cells = [(c, "") for c in _mark_cells(people, key)]
        world.type("owner", file_id, cells, owner=True)  # vandalised past the protection
    world.svc.close()
    restore(saved, world.school.ledger_path, now + timedelta(seconds=1),
            anchor=world.school.anchor_path)
    world.set_now(now + timedelta(minutes=1))
    world.open()
    if world.rig is not None:
        world.rig.svc = world.svc
    summary = rebuild_all(world.svc, now=world.now())
    if summary.failed:
        figures.violations.append(f"rebuild failed: {summary.failed}")
    world.set_now(world.now() + timedelta(minutes=5))
    _cycle(world, chaos, figures, people, quiet=True)  # the service cells of what was rebuilt
    people.readings.clear()
    after = {key: world.read(file_id, titles) for key, file_id in sorted(journals.items())}
    differ = {key: _first_difference(_content(world, key, before[key]),
                                     _content(world, key, after[key])) for key in before}
    figures.violations += [f"rebuild: journal {key} differs after backup→restore→rebuild: {what}"
                           for key, what in differ.items() if what]
    return not any(differ.values())


def _content(world: World, key: str, grids: dict[str, Any]) -> dict[tuple[Any, ...], str]:
    """What a journal says, wherever its cells are (an owner may have inserted a column that a
    rebuild takes out): every mark cell, period mark and lesson fact, by what it is about."""
    from sync.layout.journal.spec import parse_journal

    class_id, subject_id = key.split("/")
    reading = parse_journal(grids, world.school, class_id, subject_id,
                            world.school.lessons()[(class_id, subject_id)])
    out: dict[tuple[Any, ...], str] = {}
    for e in reading.entries:
        out[("mark", e.pupil_id, e.day, e.lesson_no)] = str(e.raw or "")
    for p in reading.period_marks:
        out[("period mark", p.pupil_id, p.period)] = str(p.raw or "")
    for lesson, facts in reading.lessons.items():
        for name in ("topic", "classwork", "work_type", "homework"):
            out[("lesson", *lesson, name)] = getattr(facts, name)
    return {k: v for k, v in out.items() if v.strip()}


def _first_difference(before: dict[tuple[Any, ...], str], after: dict[tuple[Any, ...], str]
                      ) -> str:
    for what in sorted(set(before) | set(after), key=str):
        if before.get(what, "") != after.get(what, ""):
            return f"{what} was {before.get(what, '')!r}, now {after.get(what, '')!r}"
    return ""


def _mark_cells(people: People, key: str) -> list[Any]:
    reading = people.reading(key)
    cells = {(c[1], c[2], c[3]) for c in people.locked(people.now().date()) if c[0] == key}
    out = [reading.map.cell(pupil, (day, no)) for pupil, day, no in sorted(cells)]
    return [c for c in out if c is not None]
