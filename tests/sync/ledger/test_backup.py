"""Online backup (while another connection writes), rotation, and restore (round trip, refusals)."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from rules.errors import StoreError
from sync.ledger.backup import backup, check_file, list_backups, restore
from sync.ledger.ledger import Ledger
from tests.sync.ledger_helpers import DAY, JOURNAL, at, build_history, cell


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(tmp_path / "var" / "ledger.sqlite3") as opened:
        build_history(opened, 200)
        yield opened


def count(path: Path, sql: str) -> int:
    connection = sqlite3.connect(path)
    try:
        return int(connection.execute(sql).fetchone()[0])
    finally:
        connection.close()


def test_backup_is_a_verified_single_file_named_by_time(ledger: Ledger, tmp_path: Path) -> None:
    dest = tmp_path / "backups"
    path = backup(ledger, dest, at(hour=3))
    assert path.name == "ledger-20260908T000000Z.sqlite3"  # 03:00 Moscow = 00:00 UTC
    assert sorted(p.name for p in dest.iterdir()) == [path.name]  # no -wal, no .partial
    events = ledger.audit_verify().events
    assert check_file(path).events == events
    assert count(path, "SELECT count(*) FROM entries") > 0
    connection = sqlite3.connect(path)
    try:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    finally:
        connection.close()
    (info,) = list_backups(dest)
    assert (info.path, info.ledger, info.taken_at) == (path, "ledger", at(hour=3))
    assert info.size == path.stat().st_size


def test_backup_takes_a_path_too_and_refuses_twice_in_one_second(
    ledger: Ledger, tmp_path: Path
) -> None:
    path = backup(ledger.path, tmp_path / "b", at(hour=4))
    assert check_file(path).ok
    with pytest.raises(StoreError, match="already exists"):
        backup(ledger.path, tmp_path / "b", at(hour=4))


def test_backup_while_another_connection_writes(ledger: Ledger, tmp_path: Path) -> None:
    stop = threading.Event()
    errors: list[BaseException] = []
    written = [0]

    def writer() -> None:
        try:
            with Ledger.open(ledger.path) as other:
                n = 0
                while not stop.is_set():
                    n += 1
                    with other.transaction() as tx:
                        day = DAY + timedelta(days=200 + n // 20)
                        cells = [cell(f"w{n % 20:02d}-{k}", "5", day=day) for k in range(10)]
                        tx.accept_entries(JOURNAL, cells, at(day))
                    written[0] = n
        except BaseException as exc:  # reported to the main thread
            errors.append(exc)

    thread = threading.Thread(target=writer)
    thread.start()
    copies = []
    try:
        for i in range(4):  # the writer commits between (and during) the backups
            target = written[0] + 3
            while written[0] < target and thread.is_alive():
                stop.wait(0.005)
            copies.append(backup(ledger, tmp_path / "b", at(hour=5, minute=i), keep=10))
    finally:
        stop.set()
        thread.join()
    assert errors == []
    seen = [check_file(copy).events for copy in copies]  # each copy is a consistent snapshot
    assert seen == sorted(set(seen)) and len(seen) == 4  # strictly growing: writes went on
    final = ledger.audit_verify()
    assert final.ok and final.events >= seen[-1]


def test_rotation_keeps_the_newest(ledger: Ledger, tmp_path: Path) -> None:
    dest = tmp_path / "b"
    dest.mkdir()
    foreign = dest / "other-20260101T000000Z.sqlite3"  # another ledger's backup: not ours to rotate
    foreign.write_bytes(b"x")
    (dest / "notes.txt").write_text("keep me", encoding="utf-8")
    made = [backup(ledger, dest, at(DAY + timedelta(days=i), 3), keep=3) for i in range(5)]
    ours = [b.path for b in list_backups(dest) if b.ledger == "ledger"]
    assert ours == [made[4], made[3], made[2]]  # newest first
    assert foreign.exists() and (dest / "notes.txt").exists()
    with pytest.raises(StoreError, match="keep must be at least 1"):
        backup(ledger, dest, at(hour=9), keep=0)


def test_restore_round_trip(ledger: Ledger, tmp_path: Path) -> None:
    saved = backup(ledger, tmp_path / "b", at(hour=3))
    saved_head = ledger.audit_head()
    before = count(ledger.path, "SELECT count(*) FROM entries")
    with ledger.transaction() as tx:  # later work that the restore rolls back
        later = DAY + timedelta(days=300)
        changes = tx.accept_entries(
            JOURNAL, [cell("a", "5", day=later), cell("b", "4", day=later)], at(later)
        )
        assert all(change.changed for change in changes)
    ledger.close()
    result = restore(saved, ledger.path, at(hour=10))
    assert result.ledger == ledger.path
    assert result.previous is not None and result.previous.name.startswith(
        "ledger.sqlite3.before-restore-"
    )
    assert count(result.previous, "SELECT count(*) FROM entries") == before + 2  # kept, not deleted
    with Ledger.open(ledger.path) as restored:
        assert count(restored.path, "SELECT count(*) FROM entries") == before
        report = restored.audit_verify()
        assert report.ok and report.head == result.head
        with restored.snapshot() as tx:
            assert tx.state_get("audit.head") == result.head
    connection = sqlite3.connect(ledger.path)
    try:
        kind, payload, prev = connection.execute(
            "SELECT kind, payload, prev_hash FROM audit ORDER BY id DESC LIMIT 1"
        ).fetchone()
    finally:
        connection.close()
    assert kind == "restore" and prev == saved_head and saved.name in payload


def test_restore_into_an_empty_place(ledger: Ledger, tmp_path: Path) -> None:
    saved = backup(ledger, tmp_path / "b", at(hour=3))
    target = tmp_path / "new-server" / "ledger.sqlite3"
    target.parent.mkdir()
    result = restore(saved, target, at(hour=10))
    assert result.previous is None and check_file(target).ok


def test_restore_refuses_a_backup_with_a_broken_chain(ledger: Ledger, tmp_path: Path) -> None:
    saved = backup(ledger, tmp_path / "b", at(hour=3))
    connection = sqlite3.connect(saved, isolation_level=None)
    try:
        connection.execute("DROP TRIGGER audit_no_update")
        forged = connection.execute(
            'UPDATE audit SET payload = replace(payload, \'"value":"5"\', \'"value":"4"\')'
            ' WHERE id = (SELECT min(id) FROM audit WHERE payload LIKE \'%"value":"5"%\')'
        )
        assert forged.rowcount == 1
    finally:
        connection.close()
    head = ledger.audit_head()
    with pytest.raises(StoreError, match="audit chain broken") as caught:
        restore(saved, ledger.path, at(hour=10))
    assert caught.value.hint is not None and "older backup" in caught.value.hint
    assert ledger.audit_head() == head  # the current ledger is untouched
    assert not list(ledger.path.parent.glob("*.before-restore-*"))


def test_restore_refuses_a_file_that_is_not_a_ledger(ledger: Ledger, tmp_path: Path) -> None:
    junk = tmp_path / "ledger-20260908T000000Z.sqlite3"
    junk.write_bytes(b"\x00garbage" * 1000)
    with pytest.raises(StoreError) as caught:
        restore(junk, ledger.path, at(hour=10))
    assert "not a SQLite database or is damaged" in caught.value.message
    with pytest.raises(StoreError, match="does not exist"):
        restore(tmp_path / "missing.sqlite3", ledger.path, at(hour=10))


def test_restore_refuses_while_the_ledger_is_being_written(ledger: Ledger, tmp_path: Path) -> None:
    saved = backup(ledger, tmp_path / "b", at(hour=3))
    other = sqlite3.connect(ledger.path, isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        with pytest.raises(StoreError, match="in use by another process"):
            restore(saved, ledger.path, at(hour=10))
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert ledger.audit_verify().ok


def test_backup_of_a_missing_ledger(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="does not exist"):
        backup(tmp_path / "nope.sqlite3", tmp_path / "b", at())
    assert list_backups(tmp_path / "b") == []


def test_backup_folder_that_is_a_file(ledger: Ledger, tmp_path: Path) -> None:
    blocker = tmp_path / "backups"
    blocker.write_text("not a folder", encoding="utf-8")
    with pytest.raises(StoreError, match="creating the backup folder") as caught:
        backup(ledger, blocker, at())
    assert caught.value.hint is not None and "permissions" in caught.value.hint
