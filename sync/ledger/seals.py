"""Data seals: the audit chain covers the ledger's data, not only its own events.

The covered tables (:data:`COVERED`: lessons, entries, period marks, period locks, absence reasons,
absence locks — every lock column included) each carry a ``seal`` column: the first 128 bits of
``sha256(canonical([table, every sealed column as stored]))``. The rows of a table are grouped in
*partitions* (a prefix of the primary key: a journal's day, a journal's period, a class's pupil…);
a partition's digest is ``sha256`` of its rows' seals, sorted and concatenated (128 bits; ``None``
for an empty partition). Every committed transaction that changed covered rows appends one event
``data.sealed`` whose payload lists, for each partition it changed, ``[table, partition values,
rows, digest after, digest before]``. So the chain holds, for every partition, its latest digest, and
each digest "before" must be the previous digest "after": a partition edited between two service
transactions breaks that link even if the editor recomputed the seals.

**Why digests and not replay.** Replaying the events into the tables would need every event to
carry every column (raw text, first_seen, the lock times; today an entry event has no raw text and a
lock event only counts its rows), one replay rule per event kind kept in step with every new write
path, and the whole year's state in memory or in a scratch table. Seals are generic: the service
marks what it writes, verify recomputes each row's seal from the row (naming the row: a direct
``UPDATE``), each partition's digest from the seals (a deleted or inserted row, or a row changed
together with its seal: named by partition and by the event that sealed it), streamed in primary-key
order with memory bounded by the number of partitions. Measured (``tests/bench/bench_ledger.py``,
a year of a 1,500-pupil school: 1.59 million entries, 1.7 million events): the whole verify takes
36–70 s at 104 MiB peak; a replay's state alone, held in a dict, is about 600 MiB. The write path
pays about 16 ms per sync cycle and 0.2 s per nightly lock job (the seals of the locked rows).

**How writes are marked.** Each connection of the service gets TEMP triggers (they live in the
connection, not in the file; a plain ``sqlite3`` client has none): a row inserted, updated or deleted
is noted in ``temp.sealing``; a row about to be updated or deleted whose content no longer matches
its seal is refused (``RAISE``: the service never builds on a row edited outside it). Just before
COMMIT, :meth:`SealsPart._flush` reseals the noted rows and appends the ``data.sealed`` event.

**Existing ledgers** (schema 2) are sealed by the migration that adds the ``seal`` columns: events
written before it carry no raw text, creation times or lock times, so they cannot re-prove the rows;
the migration seals the rows as they are (trust on first use) in ``data.sealed`` events whose
"before" is ``None`` and which say ``"migration": true``; every change after it is proved.
"""

from __future__ import annotations

import hashlib
import json
import logging
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from sync.ledger.audit import AuditLog, canonical
from sync.ledger.db import REFUSED, raw_of

logger = logging.getLogger(__name__)

SEALED_KIND = "data.sealed"
NO_SEAL = "-"  # a row without a seal counts as this text in a partition digest
CHUNK = 500  # values per SELECT … IN (…)
PER_EVENT = 1000  # partitions per migration event


@dataclass(frozen=True, slots=True)
class Covered:
    """A covered table: its primary key (in order), how many key columns make a partition, and
    every sealed column (frozen: a migration that adds a column here must reseal)."""

    name: str
    key: tuple[str, ...]
    part_len: int
    columns: tuple[str, ...]

    @property
    def part(self) -> tuple[str, ...]:
        return self.key[: self.part_len]


COVERED: tuple[Covered, ...] = (
    Covered(
        "lessons",
        ("journal", "day", "lesson_no"),
        2,
        ("journal", "day", "lesson_no", "period", "topic", "classwork", "work_type", "homework",
         "first_seen", "last_changed", "info_locked_at", "marks_locked_at"),
    ),
    Covered(
        "entries",
        ("journal", "day", "lesson_no", "pupil_id"),
        2,
        ("journal", "day", "lesson_no", "pupil_id", "raw", "value", "kind", "first_seen",
         "last_changed", "accepted_by", "locked_at"),
    ),
    Covered(
        "period_marks",
        ("journal", "period", "pupil_id"),
        2,
        ("journal", "period", "pupil_id", "raw", "value", "kind", "first_seen", "last_changed",
         "accepted_by", "locked_at"),
    ),
    Covered("period_locks", ("journal", "period"), 1, ("journal", "period", "locked_at")),
    Covered(
        "absence_reasons",
        ("class_id", "pupil_id", "day"),
        2,
        ("class_id", "pupil_id", "day", "reason", "raw", "first_seen", "last_changed",
         "locked_at"),
    ),
    Covered("absence_locks", ("class_id", "day"), 1, ("class_id", "day", "locked_at")),
)
BY_NAME = {c.name: c for c in COVERED}


_ROW = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # built once (speed)


def row_seal(table: str, values: Sequence[Any]) -> str:
    """The seal of a row: 128 bits of sha256 over the table name and its sealed columns."""
    text = _ROW.encode([table, *values])
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:32]


def part_digest(seals: Iterable[str]) -> str | None:
    """The digest of a partition's rows (None when it has none)."""
    ordered = sorted(seals)
    if not ordered:
        return None
    return hashlib.sha256("".join(ordered).encode("ascii")).hexdigest()[:32]


def part_text(values: Sequence[Any]) -> str:
    return canonical(list(values))


def describe(table: str, values: Sequence[Any], columns: Sequence[str]) -> str:
    """``entries (journal 7Б/math, day 2026-09-01)``: ids only, never a value (privacy)."""
    return f"{table} ({', '.join(f'{c} {v}' for c, v in zip(columns, values, strict=False))})"


def register_functions(dbapi_connection: Any) -> None:
    """The SQL function the TEMP triggers call (every ledger connection has it)."""
    dbapi_connection.create_function(
        "ej_seal", -1, lambda table, *values: row_seal(table, values), deterministic=True
    )


def _trigger_sql(c: Covered) -> list[str]:
    def cols(row: str, names: Sequence[str]) -> str:
        return ", ".join(f"{row}.{name}" for name in names)

    seen = f"SELECT 1 FROM sealing WHERE tbl = '{c.name}' AND rid = OLD.rowid"
    refuse = (  # a row this transaction did not write yet must still match its seal
        f"SELECT RAISE(ABORT, '{REFUSED}: a row of {c.name} was changed outside ejournal')"
        f" WHERE NOT EXISTS ({seen}) AND OLD.seal IS NOT ej_seal('{c.name}', {cols('OLD', c.columns)})"
    )
    # the partition as JSON (SQLite's own json_array: no Python call; read back with json.loads)
    new = f"json_array({cols('NEW', c.part)}), ej_seal('{c.name}', {cols('NEW', c.columns)})"
    return [
        f"""CREATE TEMP TRIGGER IF NOT EXISTS seal_{c.name}_i AFTER INSERT ON main.{c.name}
        BEGIN INSERT OR REPLACE INTO sealing VALUES ('{c.name}', NEW.rowid, 'i', {new}); END""",
        f"""CREATE TEMP TRIGGER IF NOT EXISTS seal_{c.name}_u
        AFTER UPDATE OF {", ".join(c.columns)} ON main.{c.name}
        BEGIN {refuse};
        INSERT INTO sealing VALUES ('{c.name}', NEW.rowid, 'u', {new})
          ON CONFLICT (tbl, rid) DO UPDATE SET seal = excluded.seal; END""",
        f"""CREATE TEMP TRIGGER IF NOT EXISTS seal_{c.name}_d AFTER DELETE ON main.{c.name}
        BEGIN {refuse};
        INSERT INTO sealing_gone SELECT '{c.name}', json_array({cols('OLD', c.part)}), OLD.seal
          WHERE NOT EXISTS ({seen} AND op = 'i');
        DELETE FROM sealing WHERE tbl = '{c.name}' AND rid = OLD.rowid; END""",
    ]


INSTALL_SQL: tuple[str, ...] = (
    "CREATE TEMP TABLE IF NOT EXISTS sealing (tbl TEXT NOT NULL, rid INTEGER NOT NULL,"
    " op TEXT NOT NULL, part TEXT NOT NULL, seal TEXT NOT NULL, PRIMARY KEY (tbl, rid))",
    "CREATE TEMP TABLE IF NOT EXISTS sealing_gone (tbl TEXT NOT NULL, part TEXT NOT NULL, seal TEXT)",
    *(sql for c in COVERED for sql in _trigger_sql(c)),
)


def install(raw: sqlite3.Connection) -> None:
    """Create the TEMP tables and triggers on one connection (idempotent)."""
    for statement in INSTALL_SQL:
        raw.execute(statement)


def has_seals(raw: sqlite3.Connection) -> bool:
    """Whether the ledger's schema has the seal columns (migration "data seals" applied)."""
    return any(row[1] == "seal" for row in raw.execute("PRAGMA table_info(entries)"))


@dataclass
class _Part:
    """One partition a transaction changed: its rows' new seals and the seals of rows it deleted."""

    written: dict[int, tuple[str, str]]  # rowid → (first operation "i"/"u", new seal)
    gone: list[str]


def _stored(
    raw: sqlite3.Connection, c: Covered, parts: list[tuple[Any, ...]]
) -> dict[tuple[Any, ...], list[tuple[int, str | None]]]:
    """(rowid, stored seal) of every row of these partitions, a few queries per table."""
    found: dict[tuple[Any, ...], list[tuple[int, str | None]]] = {p: [] for p in parts}
    width = len(c.part)
    names = ", ".join(f"p{i}" for i in range(width))
    match = " AND ".join(f"t.{column} = p.p{i}" for i, column in enumerate(c.part))
    for start in range(0, len(parts), CHUNK // width):
        chunk = parts[start : start + CHUNK // width]
        rows = ", ".join(f"({', '.join('?' * width)})" for _ in chunk)
        query = (  # a join, so that each partition is an index search (not a table scan)
            f"WITH p({names}) AS (VALUES {rows}) SELECT {names}, t.rowid, t.seal"
            f" FROM p JOIN {c.name} AS t ON {match}"
        )
        for *values, rid, seal in raw.execute(query, [v for p in chunk for v in p]):
            found[tuple(values)].append((rid, seal))
    return found


class SealsPart(AuditLog):
    """Reseals the rows this transaction changed and chains their partitions (see the module)."""

    def __init__(self, connection: Connection, *, sealed: bool = False) -> None:
        super().__init__(connection)
        self._sealed = sealed

    def _flush(self) -> None:
        if self._sealed:
            self._seal_changes()
        super()._flush()

    def _seal_changes(self) -> None:
        raw = raw_of(self._db)
        parts: dict[tuple[str, str], _Part] = {}
        for table, part, rid, op, seal in raw.execute(
            "SELECT tbl, part, rid, op, seal FROM temp.sealing"
        ):
            parts.setdefault((table, part), _Part({}, [])).written[rid] = (op, seal)
        for table, part, seal in raw.execute("SELECT tbl, part, seal FROM temp.sealing_gone"):
            parts.setdefault((table, part), _Part({}, [])).gone.append(seal or NO_SEAL)
        if not parts:
            return
        records = []
        for c in COVERED:
            mine = {json_key: p for (t, json_key), p in parts.items() if t == c.name}
            if not mine:
                continue
            values = {text: tuple(json.loads(text)) for text in mine}
            stored = _stored(raw, c, sorted(set(values.values())))
            updates = []
            for text in sorted(mine):
                part = mine[text]
                before, after = list(part.gone), []
                for rid, seal in stored[values[text]]:
                    op, new = part.written.get(rid, ("", ""))
                    if op != "i":  # the row was there before this transaction, as last sealed
                        before.append(seal or NO_SEAL)
                    after.append(new or seal or NO_SEAL)
                    if new and new != seal:
                        updates.append((new, rid))
                old, digest = part_digest(before), part_digest(after)
                if old != digest:
                    records.append([c.name, list(values[text]), len(after), digest, old])
            # only now: "before" was read from the seals as stored
            raw.executemany(f"UPDATE {c.name} SET seal = ? WHERE rowid = ?", updates)
        raw.execute("DELETE FROM temp.sealing")
        raw.execute("DELETE FROM temp.sealing_gone")
        if records:
            self._audit_many([(SEALED_KIND, {"seals": records})], self._seal_time())

    def _seal_time(self) -> datetime:
        if self._now is not None:
            return self._now
        logger.warning(
            "covered rows changed by a transaction that named no time; sealed at the wall clock"
        )
        return datetime.now(UTC)


def seal_existing(connection: Connection, now: datetime) -> int:
    """Seal every covered row as it is, one partition at a time (bounded memory), chaining each
    partition from the digest of the seals it had (None for rows never sealed); returns the
    number of partitions whose digest changed. Migration 3 seals the rows found (trust on first
    use, see the module); a later migration that rewrites covered rows (its connection has no
    triggers) calls it again afterwards."""
    raw = raw_of(connection)
    log = AuditLog(connection)
    records: list[list[Any]] = []
    total = 0
    for c in COVERED:
        part_cols = ", ".join(c.part)
        where = " AND ".join(f"{name} = ?" for name in c.part)
        query = f"SELECT rowid, seal, {', '.join(c.columns)} FROM {c.name} WHERE {where}"
        keys = raw.execute(f"SELECT DISTINCT {part_cols} FROM {c.name} ORDER BY {part_cols}")
        for part in keys.fetchall():
            rows = raw.execute(query, part).fetchall()
            stored = [seal for _, seal, *_ in rows]
            updates = [(row_seal(c.name, values), rid) for rid, _, *values in rows]
            before = part_digest(s or NO_SEAL for s in stored) if any(stored) else None
            after = part_digest(s for s, _ in updates)
            if before == after:
                continue
            raw.executemany(f"UPDATE {c.name} SET seal = ? WHERE rowid = ?", updates)
            records.append([c.name, list(part), len(updates), after, before])
            if len(records) == PER_EVENT:
                log._audit_many([(SEALED_KIND, {"migration": True, "seals": records})], now)
                total, records = total + len(records), []
    if records:
        log._audit_many([(SEALED_KIND, {"migration": True, "seals": records})], now)
        total += len(records)
    log._flush()
    return total
