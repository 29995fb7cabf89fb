"""The whole check of a ledger file: its chain, its data against the chain, its anchor.

:func:`verify_database` runs over a plain ``sqlite3`` connection, so the live ledger (in a read
snapshot) and a backup file are checked by the same code, streamed:

1. the hash chain (``sync.ledger.audit.verify_rows``), collecting on the way every partition's
   latest digest from the ``data.sealed`` events and checking that each event's "before" is the
   previous "after" (``sync.ledger.seals``);
2. every covered table in primary-key order: each row's seal recomputed (a row edited or inserted
   outside ejournal is named), each partition's digest against the chain (a deleted row, an
   inserted one, rows changed together with their seals: named by partition and sealing event);
3. the anchor: the chain must still hold the anchored event with the anchored hash.

Step 2 is skipped when step 1 found a bad event (its digests cannot be trusted; the chain problem
says enough). Memory is bounded by the number of partitions, not rows.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sync.ledger import anchor
from sync.ledger.audit import AuditReport, verify_rows
from sync.ledger.seals import (
    BY_NAME,
    COVERED,
    SEALED_KIND,
    Covered,
    describe,
    has_seals,
    part_digest,
    part_text,
    row_seal,
)
from sync.ledger.state import AUDIT_HEAD_KEY

LIMIT = 100  # problems listed in full; the rest are counted

Sealed = tuple[int, str | None, int]  # rows, digest, the event that sealed them


@dataclass
class Problems:
    limit: int = LIMIT
    lines: list[str] = field(default_factory=list)
    count: int = 0

    def add(self, line: str) -> None:
        self.count += 1
        if len(self.lines) < self.limit:
            self.lines.append(line)

    def listed(self) -> tuple[str, ...]:
        more = self.count - len(self.lines)
        return (*self.lines, f"… and {more} more problems") if more else tuple(self.lines)


@dataclass
class SealBook:
    """Every partition's latest seal, read from the chain as it streams past."""

    problems: Problems
    latest: dict[tuple[str, str], Sealed] = field(default_factory=dict)

    def watch(self, rows: Iterable[Sequence[Any]]) -> Iterator[Sequence[Any]]:
        for row in rows:
            if row[2] == SEALED_KIND:
                self._read(int(row[0]), row[3])
            yield row

    def _read(self, event: int, payload: str) -> None:
        try:
            records = json.loads(payload)["seals"]
        except (ValueError, KeyError, TypeError):
            return  # the chain walk reports an edited payload
        for table, values, rows, after, before in records:
            key = (table, part_text(values))
            previous = self.latest.get(key)
            if before != (previous[1] if previous else None):
                since = f"event {previous[2]} sealed" if previous else "it was first sealed"
                self.problems.add(
                    f"event {event}: {_where(table, values)} had changed since {since} it"
                    " — rows were edited outside ejournal in between"
                )
            if rows:
                self.latest[key] = (rows, after, event)
            else:
                self.latest.pop(key, None)


def _where(table: str, values: Sequence[Any]) -> str:
    covered = BY_NAME.get(table)
    return describe(table, values, covered.part if covered else ())


def _check_table(
    db: sqlite3.Connection, c: Covered, book: SealBook, problems: Problems
) -> int:
    """Stream one covered table in key order; returns the rows checked."""
    expected = {key: value for key, value in book.latest.items() if key[0] == c.name}
    query = f"SELECT {', '.join(c.columns)}, seal FROM {c.name} ORDER BY {', '.join(c.key)}"
    current: list[Any] | None = None
    seals: list[str] = []
    count = 0

    def close() -> None:
        if current is None:
            return
        sealed = expected.pop((c.name, part_text(current)), None)
        _compare(c, current, seals, sealed, problems)

    for row in db.execute(query):
        count += 1
        values, stored = list(row[:-1]), row[-1]
        part = values[: c.part_len]
        if part != current:
            close()
            current, seals = part, []
        if stored is None:
            problems.add(f"{describe(c.name, values, c.key)}: a row the chain never sealed"
                         " — inserted outside ejournal")
            continue
        if stored != row_seal(c.name, values):
            problems.add(f"{describe(c.name, values, c.key)}: the row does not match its seal"
                         " — changed outside ejournal")
        seals.append(stored)
    close()
    for (_, text), (rows, _, event) in sorted(expected.items()):
        problems.add(f"{_where(c.name, json.loads(text))}: event {event} sealed {rows} rows,"
                     " none is left — deleted outside ejournal")
    return count


def _compare(
    c: Covered, part: list[Any], seals: list[str], sealed: Sealed | None, problems: Problems
) -> None:
    where = _where(c.name, part)
    if sealed is None:
        if seals:
            problems.add(f"{where}: {len(seals)} rows the chain never sealed — inserted outside"
                         " ejournal")
        return
    rows, digest, event = sealed
    if (len(seals), part_digest(seals)) == (rows, digest):
        return
    if len(seals) < rows:
        problems.add(f"{where}: {len(seals)} rows where event {event} sealed {rows}"
                     f" — {rows - len(seals)} deleted outside ejournal")
    elif len(seals) > rows:
        problems.add(f"{where}: {len(seals)} rows where event {event} sealed {rows}"
                     f" — {len(seals) - rows} inserted outside ejournal")
    else:
        problems.add(f"{where}: its rows are not the ones event {event} sealed — changed"
                     " together with their seals outside ejournal")


@dataclass(frozen=True, slots=True)
class Verified:
    """A full check: the chain report (``problems`` listing every finding) and the rows checked."""

    report: AuditReport
    rows: int


def verify_database(
    db: sqlite3.Connection, anchor_path: Path | None = None, *, limit: int = LIMIT
) -> Verified:
    """Chain, data and anchor of the ledger behind ``db`` (see the module)."""
    problems = Problems(limit)
    book = SealBook(problems)
    head_row = db.execute("SELECT value FROM state WHERE key = ?", (AUDIT_HEAD_KEY,)).fetchone()
    cursor = db.execute("SELECT id, at, kind, payload, prev_hash, hash FROM audit ORDER BY id")
    chain = verify_rows(book.watch(cursor), head_row[0] if head_row else None)
    lines = [chain.problem] if chain.problem else []
    rows = 0
    if chain.first_bad_id is None and has_seals(db):
        for c in COVERED:
            rows += _check_table(db, c, book, problems)
    if anchor_path is not None:
        mark = anchor.read_mark(anchor_path)
        trouble = anchor.problem(db, mark, f"anchored in {anchor_path}") if mark else None
        if mark is None and chain.events:
            trouble = anchor.missing(anchor_path, chain.events)
        if trouble:
            lines.append(trouble)
    listed = (*lines, *problems.listed())
    report = AuditReport(
        ok=not listed,
        events=chain.events,
        head=chain.head,
        first_bad_id=chain.first_bad_id,
        problem=listed[0] if listed else None,
        problems=listed,
    )
    return Verified(report, rows)
