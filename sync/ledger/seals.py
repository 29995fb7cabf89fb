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
order with memory bounded by the number of partitions (measured in ``tests/bench/bench_ledger.py``).

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
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Connection

from sync.ledger.audit import AuditLog, canonical
from sync.ledger.db import REFUSED, raw_of

logger = logging.getLogger(__name__)

SEALED_KIND = "data.sealed"
NO_SEAL = "-"  # a row without a seal counts as this text in a partition digest
CHUNK = 500  # rowids per SELECT … IN (…)
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


def row_seal(table: str, values: Sequence[Any]) -> str:
    """The seal of a row: 128 bits of sha256 over the table name and its sealed columns."""
    text = json.dumps([table, *values], ensure_ascii=False, separators=(",", ":"))
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
    """The SQL functions the TEMP triggers call (every ledger connection has them)."""
    dbapi_connection.create_function(
        "ej_seal", -1, lambda table, *values: row_seal(table, values), deterministic=True
    )
    dbapi_connection.create_function(
        "ej_part", -1, lambda *values: part_text(values), deterministic=True
    )


def _trigger_sql(c: Covered) -> list[str]:
    old = ", ".join(f"OLD.{name}" for name in c.columns)
    seen = f"SELECT 1 FROM sealing WHERE tbl = '{c.name}' AND rid = OLD.rowid"
    refuse = (
        f"SELECT RAISE(ABORT, '{REFUSED}: a row of {c.name} was changed outside ejournal')"
        f" WHERE OLD.seal IS NOT ej_seal('{c.name}', {old}) AND NOT EXISTS ({seen})"
    )
    part = ", ".join(f"OLD.{name}" for name in c.part)
    return [
        f"""CREATE TEMP TRIGGER IF NOT EXISTS seal_{c.name}_i AFTER INSERT ON main.{c.name}
        BEGIN INSERT OR IGNORE INTO sealing VALUES ('{c.name}', NEW.rowid, 'i'); END""",
        f"""CREATE TEMP TRIGGER IF NOT EXISTS seal_{c.name}_u
        AFTER UPDATE OF {", ".join(c.columns)} ON main.{c.name} WHEN NOT EXISTS ({seen})
        BEGIN {refuse};
        INSERT INTO sealing VALUES ('{c.name}', OLD.rowid, 'u'); END""",
        f"""CREATE TEMP TRIGGER IF NOT EXISTS seal_{c.name}_d AFTER DELETE ON main.{c.name}
        BEGIN {refuse};
        INSERT INTO sealing_gone SELECT '{c.name}', ej_part({part}), OLD.seal
          WHERE NOT EXISTS ({seen} AND op = 'i');
        DELETE FROM sealing WHERE tbl = '{c.name}' AND rid = OLD.rowid; END""",
    ]


INSTALL_SQL: tuple[str, ...] = (
    "CREATE TEMP TABLE IF NOT EXISTS sealing"
    " (tbl TEXT NOT NULL, rid INTEGER NOT NULL, op TEXT NOT NULL, PRIMARY KEY (tbl, rid))",
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


def _chunks(items: Sequence[int]) -> Iterator[Sequence[int]]:
    for start in range(0, len(items), CHUNK):
        yield items[start : start + CHUNK]


def _reseal(
    raw: sqlite3.Connection, c: Covered, ops: dict[int, str], parts: dict[tuple[str, str], Any]
) -> dict[int, str]:
    """The new seals of the rows a transaction wrote (rowid → seal); their partitions go to
    ``parts``."""
    new: dict[int, str] = {}
    for chunk in _chunks(sorted(ops)):
        marks = ",".join("?" * len(chunk))
        query = f"SELECT rowid, {', '.join(c.columns)} FROM {c.name} WHERE rowid IN ({marks})"
        for rid, *values in raw.execute(query, chunk):
            new[rid] = row_seal(c.name, values)
            parts[(c.name, part_text(values[: c.part_len]))] = values[: c.part_len]
    return new


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
        touched: dict[str, dict[int, str]] = {}  # table → rowid → first operation ("i"/"u")
        for table, rid, op in raw.execute("SELECT tbl, rid, op FROM temp.sealing"):
            touched.setdefault(table, {})[rid] = op
        gone: dict[tuple[str, str], list[str]] = {}  # (table, partition) → seals of deleted rows
        for table, part, seal in raw.execute("SELECT tbl, part, seal FROM temp.sealing_gone"):
            gone.setdefault((table, part), []).append(seal or NO_SEAL)
        if not touched and not gone:
            return
        parts: dict[tuple[str, str], list[Any]] = {k: json.loads(k[1]) for k in gone}
        fresh = {table: _reseal(raw, BY_NAME[table], ops, parts) for table, ops in touched.items()}
        records = []
        for (table, text), values in sorted(parts.items(), key=lambda item: item[0]):
            c, ops, new = BY_NAME[table], touched.get(table, {}), fresh.get(table, {})
            where = " AND ".join(f"{name} = ?" for name in c.part)
            before, after = list(gone.get((table, text), [])), []
            for rid, stored in raw.execute(f"SELECT rowid, seal FROM {table} WHERE {where}", values):
                op = ops.get(rid)
                if op != "i":  # the row was there before this transaction, as last sealed
                    before.append(stored or NO_SEAL)
                after.append(new[rid] if op else stored or NO_SEAL)
            old, digest = part_digest(before), part_digest(after)
            if old != digest:
                records.append([table, values, len(after), digest, old])
        for table, new in fresh.items():  # only now: "before" was read from the stored seals
            raw.executemany(
                f"UPDATE {table} SET seal = ? WHERE rowid = ?", [(s, r) for r, s in new.items()]
            )
        raw.execute("DELETE FROM temp.sealing")
        raw.execute("DELETE FROM temp.sealing_gone")
        if records:
            self._audit_many([(SEALED_KIND, {"seals": records})], self._seal_time())

    def _seal_time(self) -> datetime:
        if self._now is not None:
            return self._now
        logger.warning("covered rows changed by a transaction that named no time; sealed at the wall clock")
        return datetime.now(UTC)


def seal_existing(connection: Connection, now: datetime) -> int:
    """Seal every covered row as it is (the migration's trust on first use, see the module), one
    partition at a time (bounded memory); returns the number of partitions sealed."""
    raw = raw_of(connection)
    log = AuditLog(connection)
    records: list[list[Any]] = []
    total = 0
    for c in COVERED:
        part_cols = ", ".join(c.part)
        where = " AND ".join(f"{name} = ?" for name in c.part)
        query = f"SELECT rowid, {', '.join(c.columns)} FROM {c.name} WHERE {where}"
        keys = raw.execute(f"SELECT DISTINCT {part_cols} FROM {c.name} ORDER BY {part_cols}")
        for part in keys.fetchall():
            rows = raw.execute(query, part).fetchall()
            updates = [(row_seal(c.name, values), rid) for rid, *values in rows]
            raw.executemany(f"UPDATE {c.name} SET seal = ? WHERE rowid = ?", updates)
            records.append([c.name, list(part), len(updates), part_digest(s for s, _ in updates), None])
            if len(records) == PER_EVENT:
                log._audit_many([(SEALED_KIND, {"migration": True, "seals": records})], now)
                total, records = total + len(records), []
    if records:
        log._audit_many([(SEALED_KIND, {"migration": True, "seals": records})], now)
        total += len(records)
    log._flush()
    return total
