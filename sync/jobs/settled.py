"""Settled period tabs: a closed quarter is not parsed, compared or validated again while its grid
stands as a read of this process found it, equal to the ledger.

At day 150 three of a journal's four period tabs are closed — every lesson's marks and facts and
every period mark locked in the ledger — and hold about 85 % of its cells. Each changed journal
used to parse, compare and validate them on every read to find the same nothing. A period tab is
*settled* at a read when

- the ledger holds its period locked whole (:func:`closed_periods`), and
- its grid is, value for value, the one an earlier read found equal to the ledger after the period
  was locked whole: no revert, no stray value, no structure problem, no service cell to rewrite
  (:meth:`SettledTabs.remember`, after that read's transaction committed).

A settled tab adds no cells to the comparison and the rules, the lesson rules skip its days, its
open findings are carried as they stand (:func:`carried`) and its service cells are not rendered;
its map is the one kept (a string per tab: nothing for the garbage collector to walk). Anything
that changes its grid — an owner's tampering, a correction written, a moved column — changes the
digest, and that read takes the tab whole again. A correction applied in the ledger forgets the
journal's records (:meth:`SettledTabs.forget`). The records live in memory only: after a restart
every tab is parsed once more.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import date

from rules.model import Finding, Lesson
from rules.validation import RULES
from sync.backends.protocol import CellRange, Grid
from sync.jobs.findings_tab import as_finding
from sync.jobs.journal_layout import decode_period_tab, encode_period_tab
from sync.layout.journal.map import JournalMap, LessonKey, PeriodTabMap
from sync.layout.journal.moves import tab_of
from sync.layout.journal.spec import JournalReading
from sync.ledger.findings import FindingRow
from sync.ledger.ledger import Tx
from sync.ledger.model import FindingRecord, LessonState

CARRIED_RULES = frozenset(RULES) | {"period_mark_deviation"}  # re-derived from the grid only


def grid_digest(grid: Grid) -> bytes:
    """A digest of a tab's values as read (types included: 4 and "4" differ)."""
    return hashlib.blake2b(repr(grid).encode(), digest_size=16).digest()


def closed_periods(tx: Tx, journal: str, lessons: Sequence[Lesson],
                   states: Mapping[LessonKey, LessonState]) -> frozenset[str]:
    """The periods locked whole in the ledger: period marks locked, and the marks and facts of
    every lesson of the period (``states``: the ledger's ``lesson_states``)."""
    locked = tx.locked_periods(journal)
    if not locked:
        return frozenset()
    open_periods = set()
    for x in lessons:
        state = states.get((x.day, x.lesson_no))
        if x.period in locked and (state is None or not (state.info_locked and state.marks_locked)):
            open_periods.add(x.period)
    return frozenset(locked - open_periods)


@dataclass(frozen=True, slots=True)
class SettledTab:
    digest: bytes
    layout: str  # the tab's map (``encode_period_tab``)


class SettledTabs:
    """Per journal and period, the digest and map of the grid last found settled."""

    def __init__(self) -> None:
        self._kept: dict[tuple[str, str], SettledTab] = {}

    def maps(self, journal: str, digests: Mapping[str, bytes]) -> dict[str, PeriodTabMap]:
        """The kept maps of the closed periods (``digests``: period → its grid's digest now)
        whose grids are those last found settled."""
        out = {}
        for period, digest in digests.items():
            kept = self._kept.get((journal, period))
            if kept is not None and kept.digest == digest:
                out[period] = decode_period_tab(kept.layout)
        return out

    def remember(self, journal: str, period: str, digest: bytes, tab: PeriodTabMap) -> None:
        self._kept[(journal, period)] = SettledTab(digest, encode_period_tab(tab))

    def forget(self, journal: str) -> None:
        """Drop the journal's records (its ledger values changed: a correction)."""
        for key in [k for k in self._kept if k[0] == journal]:
            del self._kept[key]


def clean_tabs(reading: JournalReading, grids: Mapping[str, Grid], digests: Mapping[str, bytes],
               updates: Sequence[tuple[CellRange, Grid]], reverted: Collection[str]
               ) -> list[tuple[str, bytes, PeriodTabMap]]:
    """The closed periods (``digests``) whose tabs this read parsed and found settled: nothing to
    revert there (``reverted``: the titles of the tabs with reverts), no stray value, ignored cell
    or structure problem in them, no duplicate pupil row in the journal. A tab the plan writes
    service cells into is settled at the grid the next read will return once they landed."""
    if reading.needs_repair or reading.duplicate_rows:
        return []
    busy = set(reverted)
    busy |= {p.tab for p in reading.problems}
    busy |= {tab_of(s.cell) for s in reading.stray}
    busy |= {tab_of(c.cell) for c in reading.ignored}
    out = []
    for period, digest in digests.items():
        tab = reading.map.periods.get(period)
        if (tab is None or period in reading.settled or tab.title != period or tab.id_fixes
                or tab.title in busy):
            continue
        mine = [u for u in updates if u[0].tab == tab.title]
        if mine:
            digest = grid_digest(written_grid(grids[tab.title], mine))
        out.append((period, digest, tab))
    return out


def written_grid(grid: Grid, updates: Sequence[tuple[CellRange, Grid]]) -> Grid:
    """A tab's values as a read returns them once ``updates`` landed: written RAW and read
    unformatted, a value reads back as written; trailing empty cells and rows are not returned.
    (Should a read differ, its digest does not match and that read parses the tab: no harm.)"""
    rows = [list(row) for row in grid]
    for where, values in updates:
        for r, line in enumerate(values):
            while len(rows) <= where.start_row + r:
                rows.append([])
            row = rows[where.start_row + r]
            end = where.start_col + len(line)
            if len(row) < end:
                row.extend([""] * (end - len(row)))
            row[where.start_col:end] = line
    for row in rows:
        while row and row[-1] in ("", None):
            row.pop()
    while rows and not rows[-1]:
        rows.pop()
    return rows


def settled_days(reading: JournalReading, lessons: Sequence[Lesson]) -> frozenset[date]:
    """The lesson days of the settled tabs (the lesson rules skip them, their findings stay)."""
    return frozenset(x.day for x in lessons if x.period in reading.settled)


def carried(reading: JournalReading, days: frozenset[date]
            ) -> Callable[[str, date | None, str | None], bool] | None:
    """Which open findings a read with settled tabs keeps as they stand: the rules' findings on
    a settled tab's cells or its lessons' ``days`` (None: no tab settled)."""
    if not reading.settled:
        return None
    titles = frozenset(reading.map.periods[p].title for p in reading.settled)

    def keep(rule: str, day: date | None, cell: str | None) -> bool:
        return rule in CARRIED_RULES and (day in days or (cell is not None and tab_of(cell) in titles))

    return keep


def first_open_day(reading: JournalReading, lessons: Sequence[Lesson]) -> date | None:
    """The first lesson day of a period not settled: the ledger's mark cells are read from it on
    (None: no tab settled, every cell is compared; ``date.max``: every period tab settled)."""
    if not reading.settled:
        return None
    return min((x.day for x in lessons if x.period not in reading.settled), default=date.max)


def open_tabs(reading: JournalReading) -> JournalMap:
    """The journal's map without its settled period tabs (what is rendered again)."""
    if not reading.settled:
        return reading.map
    periods = {p: t for p, t in reading.map.periods.items() if p not in reading.settled}
    return replace(reading.map, periods=periods)


def carried_findings(records: Sequence[FindingRecord | FindingRow],
                     keep: Callable[[str, date | None, str | None], bool] | None) -> list[Finding]:
    """The open findings ``keep`` carried, as the rules made them (for "Статус" on "Уроки")."""
    if keep is None:
        return []
    return [as_finding(r) for r in records if keep(r.rule, r.day, r.cell)]
