"""Parents read diaries (emulator): each simulated day a few parents whose application date has
come open their child's diary through their own gspread client, and try another child's.

Invariants (:func:`read_diaries`): the diary is about their child alone (the child's name in its
header, no other pupil's name anywhere in it); its «Оценки» tab shows exactly the marks the oracle
expects of that pupil in the period it shows — each subject's (mark, date) pairs, computed from
what the simulated teachers typed in time and the deputy corrected, never from the product's
code; another child's diary refuses to open (403/404).
"""

from __future__ import annotations

from collections import Counter
from datetime import date

import gspread

from sync.layout.labels import RU
from sync.ledger.model import FileKind
from tests.sim.oracle import Cell
from tests.sim.people import People

PARENTS_PER_DAY = 3
TABS = (RU.week_tab, RU.marks_tab, RU.attendance_tab, RU.totals_tab)
NOT_MARKS = ("н", "оп")  # attendance codes: shown on «Посещаемость», not among the marks


def read_diaries(people: People, day: date, readers: set[tuple[str, str]]) -> list[str]:
    """A few of ``readers`` (e-mail, pupil: the parents whose application date has come, by
    the simulation's own account) read their child's diary and try another's; what is wrong,
    one a line."""
    world = people.world
    if world.rig is None:
        return []  # the local backend shares nothing with parents
    school = people.school
    diaries = world.files(FileKind.DIARY)
    can = sorted(r for r in readers if r[1] in diaries)
    out: list[str] = []
    for email, pupil_id in people.rng.sample(can, min(PARENTS_PER_DAY, len(can))):
        client = world.rig.client(email).http_client
        world.rig.emu.clock.advance(61)  # a fresh minute of this parent's read quota
        data = client.values_batch_get(diaries[pupil_id], [f"'{t}'" for t in TABS])
        grids = {t: [list(map(str, r)) for r in v.get("values", [])]
                 for t, v in zip(TABS, data.get("valueRanges", []), strict=True)}
        out += [f"diary of {pupil_id} read by a parent: {p}"
                for p in _one_pupil(people, pupil_id, grids)]
        out += [f"diary of {pupil_id} read by a parent: {p}"
                for p in _marks_as_expected(people, pupil_id, grids[RU.marks_tab])]
        mine = {p.pupil_id for p in school.parents if p.email and p.email.lower() == email}
        other = people.rng.choice(sorted(set(diaries) - mine))
        try:
            client.values_get(diaries[other], f"'{RU.week_tab}'!A1")
            out.append(f"a parent of {pupil_id} opened the diary of {other}")
        except gspread.exceptions.APIError as exc:
            if exc.response.status_code not in (403, 404):
                raise
        people.oracle.counts["diaries_read"] += 1
    return out


def _one_pupil(people: People, pupil_id: str, grids: dict[str, list[list[str]]]) -> list[str]:
    pupil = next(p for p in people.school.pupils if p.id == pupil_id)
    head = " ".join(grids[RU.week_tab][0]) if grids[RU.week_tab] else ""
    out = []
    if f"{pupil.last_name} {pupil.first_name}" not in head:
        out.append(f"its header {head!r} does not name the pupil")
    everything = "\n".join(" ".join(r) for g in grids.values() for r in g)
    for other in people.school.pupils:
        name = f"{other.last_name} {other.first_name}"
        if other.id != pupil_id and name != f"{pupil.last_name} {pupil.first_name}" \
                and name in everything:
            out.append(f"it shows another pupil ({other.id})")
    return out


def _marks_as_expected(people: People, pupil_id: str, grid: list[list[str]]) -> list[str]:
    """«Оценки»: per subject, the (mark, dd.mm) pairs shown = the oracle's of that period."""
    school = people.school
    title = grid[0][1] if grid and len(grid[0]) > 1 else ""
    period = next((p for p in school.year.periods if title.startswith(p.name)), None)
    if period is None:
        return [f"«{RU.marks_tab}» names no period: {title!r}"]
    shown: Counter[tuple[str, str, str]] = Counter()
    for row in grid[2:]:
        if len(row) < 2:
            continue
        for line in row[1].splitlines():
            parts = line.split(" · ")
            if len(parts) >= 2:
                shown[(row[0], parts[0], parts[1])] += 1
    expected: Counter[tuple[str, str, str]] = Counter()
    held = _held(people)
    for cell, value in people.oracle.expected().items():
        key, pupil, day, _ = cell
        if pupil != pupil_id or not period.start <= day <= period.end or value in NOT_MARKS \
                or cell in held:
            continue
        subject = school.subject(key.split("/")[1])
        expected[(subject.name if subject else key, value, day.strftime("%d.%m"))] += 1
    out = []
    for what in sorted(set(shown) | set(expected)):
        if shown[what] != expected[what]:
            out.append(f"«{RU.marks_tab}» shows {shown[what]}× {what}, the oracle expects "
                       f"{expected[what]}×")
    return out


def _held(people: People) -> set[Cell]:
    """Cells typed in time that the service could not prove in time: held as late entries
    awaiting a correction (the daily oracle check accounts for each), not shown yet."""
    with people.world.svc.ledger.snapshot() as tx:
        return {(x.journal, x.target.pupil_id or "", x.target.day, x.target.lesson_no or 0)
                for x in tx.late_entries() if x.target.day is not None}


__all__ = ["read_diaries"]
