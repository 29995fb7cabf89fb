"""The oracle: what each simulated person typed into which mark cell, and when — kept by the
simulation from its own actions, never from the product's code — and what the ledger must hold.

A cell's expected value is the last *valid* value typed into it *in time* (while its window was
open, by the simulation's own reckoning from the school's calendar and checking norms) that the
spreadsheet took, unless a deputy's correction came later (then the correction's value). Typos
(values the simulation knows are no mark) never become the value; values typed after the window
or by an owner past the protection (tampering) never do either.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from sync.ledger.model import EntryRecord

Cell = tuple[str, str, date, int]  # journal key, pupil id, lesson day, lesson number


@dataclass(frozen=True, slots=True)
class Typed:
    """One value a person typed into one mark cell."""

    cell: Cell
    value: str
    at: datetime
    who: str
    valid: bool  # a mark or code of the journal's scheme (typos are not)
    in_time: bool  # the cell's window was open, by the simulation's reckoning
    refused: bool  # the spreadsheet program refused it (a protected cell)
    owner: bool = False  # typed past the protection by someone with owner rights


@dataclass
class Oracle:
    """Everything typed, in order; the expected ledger follows from it."""

    typed: list[Typed] = field(default_factory=list)
    corrected: dict[Cell, str] = field(default_factory=dict)
    counts: Counter[str] = field(default_factory=Counter)
    seen: int = 0  # entries of ``typed`` checked by ``refused_while_open`` already

    def record(self, entry: Typed) -> None:
        self.typed.append(entry)
        self.counts["typed"] += 1
        self.counts["refused" if entry.refused else "taken"] += 1
        if entry.refused and entry.in_time and not entry.owner:
            self.counts["refused_in_time"] += 1  # the sheet shut a cell that was open
        if entry.owner:
            self.counts["tampered"] += 1
        elif not entry.valid:
            self.counts["typos"] += 1
        elif not entry.in_time:
            self.counts["late_beyond"] += 1

    def correct(self, cell: Cell, value: str) -> None:
        """A deputy's correction of a locked cell (filed and signed): the new master value."""
        self.corrected[cell] = value
        self.counts["corrections"] += 1

    def expected(self) -> dict[Cell, str]:
        out: dict[Cell, str] = {}
        for t in self.typed:
            if t.valid and t.in_time and not t.refused and not t.owner:
                out[t.cell] = t.value
        out.update(self.corrected)
        return out

    def refused_while_open(self) -> list[Typed]:
        """What the sheet refused although the cell's window was open (a teacher kept from
        typing in time), since the last call."""
        out = [t for t in self.typed[self.seen:] if t.refused and t.in_time and not t.owner]
        self.seen = len(self.typed)
        return out

    def late_values(self) -> dict[Cell, set[str]]:
        """Values typed after their window (or past the protection): never to be accepted."""
        out: dict[Cell, set[str]] = {}
        for t in self.typed:
            if not t.refused and (t.owner or not t.in_time):
                out.setdefault(t.cell, set()).add(t.value)
        return out


def compare(oracle: Oracle, ledger: list[EntryRecord], held: dict[Cell, str] | None = None
            ) -> list[str]:
    """What differs between the oracle and the ledger's entries, one line per cell (empty: none).

    Lost: typed in time, missing or different in the ledger — unless ``held``: the service could
    not prove it was there in time (no read of it succeeded before its cell closed) and holds it
    as a late entry awaiting the deputy's correction, with exactly that value (counted in the
    oracle's ``held``). Doubled: two ledger rows for one
    cell. Late: the ledger holds a value typed after the window without a correction. Extra: a
    value in the ledger nobody typed in time.
    """
    expected = oracle.expected()
    late = oracle.late_values()
    seen: Counter[Cell] = Counter()
    got: dict[Cell, str] = {}
    for e in ledger:
        cell = (e.journal, e.pupil_id, e.day, e.lesson_no)
        seen[cell] += 1
        if e.value:
            got[cell] = e.value
    out = [f"doubled: {c} has {n} ledger rows" for c, n in seen.items() if n > 1]
    oracle.counts["held"] = 0
    for cell, value in sorted(expected.items()):
        if got.get(cell) != value and (held or {}).get(cell) == value:
            oracle.counts["held"] += 1
        elif cell not in got:
            out.append(f"lost: {cell} typed {value!r} in time, not in the ledger"
                       + _held(held, cell))
        elif got[cell] != value:
            out.append(f"lost: {cell} typed {value!r} in time, the ledger holds {got[cell]!r}"
                       + _held(held, cell))
    for cell, value in sorted(got.items()):
        if cell in expected:
            continue
        if value in late.get(cell, set()):
            out.append(f"late: {cell} {value!r} typed after its window, accepted without a "
                       "correction")
        else:
            out.append(f"extra: {cell} {value!r} in the ledger, nobody typed it in time")
    return out


def _held(held: dict[Cell, str] | None, cell: Cell) -> str:
    return f" (a late entry holds {held[cell]!r})" if held and cell in held else ""
