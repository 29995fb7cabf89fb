"""The audit log as a hash chain: a realistic history verifies, any tampering is caught and located,
and the triggers refuse UPDATE/DELETE through ordinary connections."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import delete, update

from rules.errors import StoreError
from sync.ledger import schema as store_schema
from sync.ledger.audit import GENESIS, canonical, content_hash
from sync.ledger.ledger import Ledger
from tests.sync.ledger_helpers import at, build_history


@pytest.fixture(scope="module")
def history_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A ledger with a realistic history of at least 1,000 events (built once, copied per test)."""
    path = tmp_path_factory.mktemp("history") / "ledger.sqlite3"
    with Ledger.open(path) as ledger:
        build_history(ledger, 1000)
    return path


@pytest.fixture
def ledger(history_file: Path, tmp_path: Path) -> Iterator[Ledger]:
    copy = tmp_path / "ledger.sqlite3"
    copy.write_bytes(history_file.read_bytes())
    with Ledger.open(copy) as opened:
        yield opened


def raw_edit(path: Path, *statements: tuple[str, tuple[object, ...]]) -> None:
    """What an attacker with file access does: drop the triggers, edit, leave."""
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute("DROP TRIGGER audit_no_update")
        connection.execute("DROP TRIGGER audit_no_delete")
        for sql, params in statements:
            connection.execute(sql, params)
    finally:
        connection.close()


def event(path: Path, event_id: int) -> tuple[str, str, str, str, str]:
    connection = sqlite3.connect(path)
    try:
        row = connection.execute(
            "SELECT at, kind, payload, prev_hash, hash FROM audit WHERE id = ?", (event_id,)
        ).fetchone()
    finally:
        connection.close()
    return tuple(row)


def entry_event(path: Path, from_id: int) -> int:
    """The id of the first ``entry.accepted`` event at or after ``from_id``."""
    connection = sqlite3.connect(path)
    try:
        query = "SELECT min(id) FROM audit WHERE id >= ? AND kind = 'entry.accepted'"
        (found,) = connection.execute(query, (from_id,)).fetchone()
    finally:
        connection.close()
    assert found is not None
    return int(found)


def test_realistic_history_verifies(ledger: Ledger) -> None:
    report = ledger.audit_verify()
    assert report.ok and report.first_bad_id is None and report.problem is None
    assert report.events >= 1000
    assert report.head == ledger.audit_head() != GENESIS


def test_hash_formula_is_the_documented_one(ledger: Ledger) -> None:
    """hash = sha256(prev_hash || canonical(at, kind, payload)), recomputed here independently."""
    at_text, kind, payload, prev_hash, stored = event(ledger.path, 1)
    assert prev_hash == "0" * 64
    body = json.dumps(
        {"at": at_text, "kind": kind, "payload": json.loads(payload)},
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
    )
    assert hashlib.sha256((prev_hash + body).encode()).hexdigest() == stored
    assert "Тема" in payload  # Cyrillic kept as is (ensure_ascii=False)
    _, _, _, prev_of_2, _ = event(ledger.path, 2)
    assert prev_of_2 == stored


def test_append_returns_the_new_head(ledger: Ledger) -> None:
    before = ledger.audit_head()
    with ledger.transaction() as tx:
        head = tx.audit_append("setup.created", {"file": "f1", "kind": "journal"}, at())
    assert head != before and ledger.audit_head() == head
    assert event(ledger.path, ledger.audit_verify().events)[3] == before


def test_one_byte_of_one_payload_changed_is_caught(ledger: Ledger) -> None:
    victim = entry_event(ledger.path, 500)
    payload = event(ledger.path, victim)[2]
    index = payload.index('"value":"') + len('"value":"')
    forged = payload[:index] + ("4" if payload[index] != "4" else "5") + payload[index + 1 :]
    assert len(forged.encode()) == len(payload.encode())  # exactly one byte differs
    raw_edit(ledger.path, ("UPDATE audit SET payload = ? WHERE id = ?", (forged, victim)))
    report = ledger.audit_verify()
    assert not report.ok
    assert report.first_bad_id == victim
    assert report.problem is not None and "hash does not match" in report.problem
    assert report.events == victim - 1


@pytest.mark.parametrize("column", ["at", "kind"])
def test_edited_time_or_kind_is_caught(ledger: Ledger, column: str) -> None:
    new_value = "2026-09-01T00:00:00.000000+00:00" if column == "at" else "entry.changed"
    raw_edit(ledger.path, (f"UPDATE audit SET {column} = ? WHERE id = 77", (new_value,)))
    report = ledger.audit_verify()
    assert (report.ok, report.first_bad_id) == (False, 77)


def test_non_canonical_payload_is_caught(ledger: Ledger) -> None:
    payload = event(ledger.path, 10)[2]
    spaced = payload.replace(",", ", ", 1)  # same JSON meaning, not the hashed text
    raw_edit(ledger.path, ("UPDATE audit SET payload = ? WHERE id = 10", (spaced,)))
    report = ledger.audit_verify()
    assert (report.ok, report.first_bad_id) == (False, 10)
    assert report.problem is not None and "not canonical" in report.problem


def test_deleted_event_is_caught_at_the_next_one(ledger: Ledger) -> None:
    raw_edit(ledger.path, ("DELETE FROM audit WHERE id = ?", (321,)))
    report = ledger.audit_verify()
    assert (report.ok, report.first_bad_id, report.events) == (False, 322, 320)
    assert report.problem is not None and "removed, inserted or reordered" in report.problem


def test_events_removed_from_the_end_are_caught(ledger: Ledger) -> None:
    last = ledger.audit_verify().events
    raw_edit(ledger.path, ("DELETE FROM audit WHERE id >= ?", (last - 2,)))
    report = ledger.audit_verify()
    assert not report.ok and report.events == last - 3
    assert report.problem is not None and "removed from the end" in report.problem


def test_rehashed_forgery_is_caught_by_the_next_event(ledger: Ledger) -> None:
    """An attacker who also recomputes the edited event's hash still breaks its successor."""
    victim = entry_event(ledger.path, 200)
    at_text, kind, payload, prev_hash, _ = event(ledger.path, victim)
    forged = payload.replace('"value":"', '"value":"5', 1)
    assert forged != payload
    new_hash = hashlib.sha256(
        (
            prev_hash + canonical({"at": at_text, "kind": kind, "payload": json.loads(forged)})
        ).encode()
    ).hexdigest()
    raw_edit(
        ledger.path, ("UPDATE audit SET payload = ?, hash = ? WHERE id = 200", (forged, new_hash))
    )
    report = ledger.audit_verify()
    assert (report.ok, report.first_bad_id) == (False, 201)


def test_triggers_refuse_update_and_delete_through_the_ledger(ledger: Ledger) -> None:
    head = ledger.audit_head()
    with pytest.raises(StoreError, match="append-only") as caught, ledger.transaction() as tx:
        tx._db.execute(
            update(store_schema.audit).where(store_schema.audit.c.id == 5).values(kind="x")
        )
    assert caught.value.hint is not None
    with pytest.raises(StoreError, match="append-only"), ledger.transaction() as tx:
        tx._db.execute(delete(store_schema.audit).where(store_schema.audit.c.id == 5))
    assert ledger.audit_verify().ok and ledger.audit_head() == head


@pytest.mark.parametrize("sql", ["UPDATE audit SET kind = 'x' WHERE id = 1", "DELETE FROM audit"])
def test_triggers_refuse_plain_sqlite_connections(ledger: Ledger, sql: str) -> None:
    connection = sqlite3.connect(ledger.path)
    try:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute(sql)
    finally:
        connection.close()


def test_empty_ledger_verifies_with_genesis_head(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "l.sqlite3") as ledger:
        report = ledger.audit_verify()
        assert (report.ok, report.events, report.head) == (True, 0, GENESIS)


def test_canonical_json_and_content_hash() -> None:
    assert canonical({"b": 1, "a": "Тема"}) == '{"a":"Тема","b":1}'
    assert content_hash([["5", "4"], ["н"]]) == content_hash([["5", "4"], ["н"]])
    assert content_hash([["5", "4"]]) != content_hash([["4", "5"]])
    with pytest.raises(ValueError):
        canonical({"x": float("nan")})


def test_payload_that_is_not_json_is_refused(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "l.sqlite3") as ledger:
        with pytest.raises(StoreError, match="not JSON-serialisable"), ledger.transaction() as tx:
            tx.audit_append("setup.created", {"file": object()}, at())
        assert ledger.audit_verify().events == 0
