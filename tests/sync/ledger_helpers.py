"""Builders shared by the ledger tests: fixed times, cells, a realistic little history, and what an
attacker with file access does to a ledger (computed here independently of the product)."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sync.ledger.ledger import Ledger
from sync.ledger.model import EntryInput, LessonInput

MSK = ZoneInfo("Europe/Moscow")
JOURNAL = "7Б/math"
DAY = date(2026, 9, 8)  # a Tuesday of the first quarter


def at(day: date = DAY, hour: int = 10, minute: int = 0) -> datetime:
    """A tz-aware school time."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=MSK)


def cell(
    pupil: str,
    value: str,
    *,
    day: date = DAY,
    lesson_no: int = 1,
    raw: str | None = None,
    kind: str | None = None,
) -> EntryInput:
    """A validated mark cell; kind follows the value ("н" absent, "" empty, else mark)."""
    if kind is None:
        kind = {"н": "absent", "": "empty", "оп": "late", "•": "owed"}.get(value, "mark")
    return EntryInput(pupil, day, lesson_no, value if raw is None else raw, value, kind)


def lesson(day: date = DAY, lesson_no: int = 1, **facts: str) -> LessonInput:
    return LessonInput(day, lesson_no, period=facts.pop("period", "1 четверть"), **facts)


def build_history(ledger: Ledger, events: int) -> int:
    """Realistic activity until the audit log holds at least ``events`` events (lessons, marks,
    changes, locks; one transaction per school day); returns the number of events."""
    pupils = [f"p{i:02d}" for i in range(25)]
    marks = ["5", "4", "3", "н", "5/4", "2"]
    day, written = DAY, 0
    while written < events:
        now = at(day, 15)
        with ledger.transaction() as tx:
            facts = lesson(day, topic=f"Тема {day.isoformat()}", homework="№ 1")
            tx.upsert_lesson(JOURNAL, facts, now)
            cells = [
                cell(p, marks[(i + day.day) % len(marks)], day=day) for i, p in enumerate(pupils)
            ]
            tx.accept_entries(JOURNAL, cells[: 8 + day.day % 10], now, accepted_by="t-ivanova")
            tx.accept_entries(JOURNAL, [cell(pupils[0], "4", day=day)], now + timedelta(minutes=5))
            tx.lock_day(JOURNAL, day, now + timedelta(hours=8), lesson_nos=[1])
        written = ledger.audit_verify().events
        day += timedelta(days=1)
    return written


# --------------------------------------------------------------------------- the attacker

ENTRY = "journal = ? AND day = ? AND lesson_no = 1 AND pupil_id = 'p01'"
COLUMNS = ("journal, day, lesson_no, pupil_id, raw, value, kind, first_seen, last_changed,"
           " accepted_by, locked_at")


def sha(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def canon(value: Any) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def rows(path: Path, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
    connection = sqlite3.connect(path)
    try:
        return connection.execute(sql, params).fetchall()
    finally:
        connection.close()


def forge_everything(path: Path, value: str) -> int:
    """Change p01's mark on DAY, reseal the row and its partition in the chain, rehash every
    later event, fix audit.head; returns the id of the last event (computed independently)."""
    (row,) = rows(path, f"SELECT {COLUMNS} FROM entries WHERE {ENTRY}", (JOURNAL, DAY.isoformat()))
    row = [*row[:4], value, value, *row[6:]]
    seal = sha(json.dumps(["entries", *row], ensure_ascii=False, separators=(",", ":")))[:32]
    part = [JOURNAL, DAY.isoformat()]
    others = [s for (s,) in rows(path, "SELECT seal FROM entries WHERE journal = ? AND day = ?"
                                       " AND pupil_id != 'p01'", tuple(part))]
    digest = sha("".join(sorted([*others, seal])))[:32]
    events = rows(path, "SELECT id, at, kind, payload, prev_hash FROM audit ORDER BY id")
    target = max(i for i, _, kind, payload, _ in events
                 if kind == "data.sealed" and any(r[:2] == ["entries", part]
                                                  for r in json.loads(payload)["seals"]))
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("DROP TRIGGER audit_no_update")
        connection.execute(f"UPDATE entries SET raw = ?, value = ?, seal = ? WHERE {ENTRY}",
                           (value, value, seal, JOURNAL, DAY.isoformat()))
        prev = None
        for event_id, at_text, kind, payload, prev_hash in events:
            if event_id < target:
                continue
            if event_id == target:
                data = json.loads(payload)
                for record in data["seals"]:
                    if record[:2] == ["entries", part]:
                        record[3] = digest
                payload = canon(data)
            prev = prev or prev_hash
            new = sha(prev + canon({"at": at_text, "kind": kind, "payload": json.loads(payload)}))
            connection.execute("UPDATE audit SET payload = ?, prev_hash = ?, hash = ? WHERE id = ?",
                               (payload, prev, new, event_id))
            prev = new
        connection.execute("UPDATE state SET value = ? WHERE key = 'audit.head'", (prev,))
    finally:
        connection.close()
    return int(events[-1][0])


def cut_tail(path: Path, count: int) -> int:
    """Delete the last ``count`` events and fix audit.head; returns the id of the old last one."""
    (last,) = rows(path, "SELECT max(id) FROM audit")[0]
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("DROP TRIGGER audit_no_delete")
        connection.execute("DELETE FROM audit WHERE id > ?", (last - count,))
        (head,) = connection.execute("SELECT hash FROM audit ORDER BY id DESC LIMIT 1").fetchone()
        connection.execute("UPDATE state SET value = ? WHERE key = 'audit.head'", (head,))
    finally:
        connection.close()
    return int(last)
