"""The invariants checked every simulated day; each returns what differed, one line per problem.

* the oracle against the ledger: no entry typed in time lost or doubled, nothing typed after its
  window (or past the protection) accepted without a correction (``tests.sim.oracle.compare``);
* every tampering reverted and audited within one cycle: a violation recorded and reverted for
  the cell, an audit event for each, the journal showing the master value again;
* no person with access they should not have (emulator: ``tests.sync.access_invariants``);
* ``audit verify`` passes;
* no cell refused what a teacher typed while its window was open.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import text

from sync.ledger.model import FileKind
from tests.sim.oracle import Cell, Oracle, compare
from tests.sim.people import People
from tests.sim.world import World


def ledger_matches_oracle(world: World, oracle: Oracle) -> list[str]:
    with world.svc.ledger.snapshot() as tx:
        keys = sorted(f.key for f in tx.files(FileKind.JOURNAL))
        entries = [e for key in keys for e in tx.entries(key, include_empty=True)]
        held = {(x.journal, x.target.pupil_id or "", x.target.day, x.target.lesson_no or 0):
                x.typed_value for x in tx.late_entries() if x.target.day is not None}
    return compare(oracle, entries, held)  # type: ignore[arg-type]


def tampering_reverted(world: World, people: People, oracle: Oracle) -> list[str]:
    """Each tampering since the last check: recorded, reverted, audited, and the cell shows the
    master value again. Checked after the first cycle that ran whole after it."""
    out = []
    expected = oracle.expected()
    with world.svc.ledger.snapshot() as tx:
        for cell, value in people.tampered:
            found = [v for v in tx.violations(cell[0])
                     if (v.target.pupil_id, v.target.day, v.target.lesson_no) == cell[1:]
                     and v.attempted_value == value]
            if not found:
                out.append(f"tampering not recorded: {cell} changed to {value!r}")
            elif any(v.reverted_at is None for v in found):
                out.append(f"tampering not reverted: {cell} changed to {value!r}")
    for cell, _ in people.tampered:
        shows = people.shows(cell)
        if shows != expected.get(cell, ""):
            out.append(f"tampered cell {cell} shows {shows!r}, the ledger's value is "
                       f"{expected.get(cell, '')!r}")
    out += _audited(world, people.tampered_total + len(people.tampered))
    return out


def _audited(world: World, at_least: int) -> list[str]:
    with world.svc.ledger.engine.connect() as db:
        kinds = dict(db.execute(text(
            "SELECT kind, COUNT(*) FROM audit WHERE kind IN "
            "('violation.detected', 'violation.reverted') GROUP BY kind")).all())
    out = []
    for kind in ("violation.detected", "violation.reverted"):
        if kinds.get(kind, 0) < at_least:
            out.append(f"audit has {kinds.get(kind, 0)} {kind} events, fewer than the "
                       f"{at_least} tamperings")
    return out


def access_as_it_must_be(world: World) -> list[str]:
    if world.rig is None:
        return []  # the local backend shares nothing: the folder's permissions are the server's
    from tests.sync.access_invariants import violations

    world.rig.svc = world.svc
    return violations(world.rig)


def audit_verifies(world: World) -> list[str]:
    report = world.svc.ledger.audit_verify()
    return [] if report.ok else [f"audit verify: {p}" for p in report.problems]


def tampered_total(world: World) -> int:
    with world.svc.ledger.snapshot() as tx:
        return sum(1 for f in tx.files(FileKind.JOURNAL) for v in tx.violations(f.key)
                   if v.reverted_at is not None)


def daily(world: World, people: People, oracle: Oracle, day: date, *,
          access: bool) -> list[str]:
    """Every invariant of one simulated day, each line prefixed with the day."""
    problems = ledger_matches_oracle(world, oracle)
    problems += [f"the sheet refused {t.who}'s {t.value!r} typed in time into {t.cell}"
                 for t in oracle.refused_while_open()]
    problems += audit_verifies(world)
    if access:
        problems += access_as_it_must_be(world)
    return [f"{day.isoformat()}: {p}" for p in problems]


__all__ = ["Cell", "daily"]
