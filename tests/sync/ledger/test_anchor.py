"""The chain head anchored outside the ledger's folder, backups that must extend the previous one,
and files created 0600 whatever the umask.

The strongest forger here edits a mark, recomputes its seal and its partition's digest in the
chain, rehashes every later event and fixes ``audit.head``: the ledger alone then verifies; only
the anchor (or the previous backup) can tell.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import sqlite3
import stat
from datetime import timedelta
from pathlib import Path

import pytest

from rules.errors import StoreError
from sync.ledger.backup import backup, list_backups, restore
from sync.ledger.ledger import Ledger
from tests.sync.ledger_helpers import (
    DAY,
    JOURNAL,
    at,
    build_history,
    cell,
    cut_tail,
    forge_everything,
    rows,
)


@pytest.fixture
def paths(tmp_path: Path) -> tuple[Path, Path]:
    """A ledger with a history, anchored in a folder of its own."""
    ledger_path, anchor = tmp_path / "var" / "ledger.sqlite3", tmp_path / "anchor" / "l.anchor"
    with Ledger.open(ledger_path, anchor=anchor) as ledger:
        build_history(ledger, 80)
    return ledger_path, anchor


def test_the_anchor_follows_every_commit(paths: tuple[Path, Path]) -> None:
    ledger_path, anchor = paths
    ((last, head),) = rows(ledger_path, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1")
    written = json.loads(anchor.read_text())
    assert (written["event"], written["head"]) == (last, head)
    with Ledger.open(ledger_path, anchor=anchor) as ledger, ledger.transaction() as tx:
        tx.accept_entries(JOURNAL, [cell("p20", "5", day=DAY + timedelta(days=60))], at())
    ((last2, head2),) = rows(ledger_path, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1")
    assert last2 > last
    assert json.loads(anchor.read_text())["event"] == last2
    assert json.loads(anchor.read_text())["head"] == head2


def test_a_rewritten_chain_is_caught_by_the_anchor_alone(paths: tuple[Path, Path]) -> None:
    ledger_path, anchor = paths
    last = forge_everything(ledger_path, "2")
    with Ledger.open(ledger_path) as unanchored:  # the forgery is consistent in itself
        assert unanchored.audit_verify().problems == ()
    with Ledger.open(ledger_path, anchor=anchor) as ledger:
        report = ledger.audit_verify()
        assert report.problems == (
            f"event {last} is not the one anchored in {anchor} — the chain was rewritten",
        )
        head = ledger.audit_head()
        refused = pytest.raises(StoreError, match="the chain was rewritten; nothing was written")
        with refused, ledger.transaction() as tx:
            tx.accept_entries(JOURNAL, [cell("p20", "5", day=DAY + timedelta(days=60))], at())
        assert ledger.audit_head() == head
    assert json.loads(anchor.read_text())["event"] == last  # the evidence is kept


def test_a_cut_tail_is_caught_by_the_anchor_and_by_the_data(paths: tuple[Path, Path]) -> None:
    ledger_path, anchor = paths
    last_day = rows(ledger_path, "SELECT max(day) FROM lessons")[0][0]
    kinds = [k for (k,) in rows(ledger_path, "SELECT kind FROM audit ORDER BY id DESC LIMIT 3")]
    assert kinds == ["data.sealed", "lock.applied", "entry.changed"]  # the last day's end
    ((entries_that_day,),) = rows(ledger_path, "SELECT count(*) FROM entries WHERE day = ?",
                                  (last_day,))
    last = cut_tail(ledger_path, 3)
    with Ledger.open(ledger_path, anchor=anchor) as ledger:
        problems = ledger.audit_verify().problems
    assert problems[0] == (
        f"the chain no longer has event {last}, the one anchored in {anchor} — events were cut"
        " from its end"
    )
    # the rows that day's transaction wrote are no longer what the seals left in the chain say
    assert problems[1:] == (
        f"lessons (journal {JOURNAL}, day {last_day}): 1 rows the chain never sealed — inserted"
        " outside ejournal",
        f"entries (journal {JOURNAL}, day {last_day}): {entries_that_day} rows the chain never"
        " sealed — inserted outside ejournal",
    )


def test_a_missing_anchor_the_ledger_wrote_is_never_re_made_and_the_work_goes_on(
    paths: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    """A forger deletes the anchor to have the next run anchor a forged head: it is not re-made."""
    ledger_path, anchor = paths
    ((last,),) = rows(ledger_path, "SELECT max(id) FROM audit")
    anchor.unlink()
    with caplog.at_level(logging.ERROR), Ledger.open(ledger_path, anchor=anchor) as ledger:
        lost = (f"the audit anchor {anchor} is missing, though the ledger wrote it ({anchor}, event"
                f" {last}): it is not re-made — a forged chain would be anchored as good")
        assert ledger.anchor_lost == lost
        assert ledger.anchor_check() == (None, lost)
        with ledger.transaction() as tx:  # marks are still accepted
            tx.accept_entries(JOURNAL, [cell("p20", "5", day=DAY + timedelta(days=60))], at())
        assert ledger.audit_events() > last
    assert caplog.text.count("is missing, though the ledger wrote it") == 1  # once per open
    assert not anchor.exists()
    assert rows(ledger_path, "SELECT value FROM entries WHERE pupil_id = 'p20' AND day = ?",
                ((DAY + timedelta(days=60)).isoformat(),)) == [("5",)]


def test_a_deliberate_reanchor_writes_it_and_the_anchor_follows_again(
    paths: tuple[Path, Path]
) -> None:
    ledger_path, anchor = paths
    anchor.unlink()
    with Ledger.open(ledger_path, anchor=anchor) as ledger:
        ledger.anchor_if_missing(at(), deliberate=True)  # `audit verify --reanchor`
        assert ledger.anchor_lost is None and ledger.anchor_check()[1] is None
        with ledger.transaction() as tx:
            tx.accept_entries(JOURNAL, [cell("p20", "5", day=DAY + timedelta(days=60))], at())
        last = ledger.audit_events()
    assert json.loads(anchor.read_text())["event"] == last


def test_a_ledger_that_never_wrote_an_anchor_gets_its_first_with_a_warning(
    paths: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    """A ledger from before the anchor was recorded (or a new one): the first anchor is written."""
    ledger_path, anchor = paths
    anchor.unlink()
    connection = sqlite3.connect(ledger_path)
    with connection:
        connection.execute("DELETE FROM state WHERE key = 'audit.anchored'")
    connection.close()
    with caplog.at_level(logging.WARNING), Ledger.open(ledger_path, anchor=anchor) as ledger:
        assert ledger.anchor_lost is None
    assert "no audit anchor at" in caplog.text and "anchoring the current head" in caplog.text
    ((last,),) = rows(ledger_path, "SELECT max(id) FROM audit")
    assert json.loads(anchor.read_text())["event"] == last


def test_a_damaged_anchor_is_refused_with_a_hint(paths: tuple[Path, Path]) -> None:
    ledger_path, anchor = paths
    anchor.write_text("not json")
    with pytest.raises(StoreError, match="is damaged") as caught:
        Ledger.open(ledger_path, anchor=anchor)
    assert caught.value.hint is not None and "delete the anchor file" in caught.value.hint
    assert "`ejournal audit verify --reanchor`" in caught.value.hint


def test_an_anchor_that_cannot_be_written_is_logged_and_the_commit_stands(
    paths: tuple[Path, Path], caplog: pytest.LogCaptureFixture
) -> None:
    ledger_path, anchor = paths
    with Ledger.open(ledger_path, anchor=anchor) as ledger:
        before = ledger.audit_head()
        # the anchor stays readable, but its replacement cannot be made (a folder in the way)
        anchor.with_name(anchor.name + ".partial").mkdir()
        with caplog.at_level(logging.ERROR), ledger.transaction() as tx:
            tx.accept_entries(JOURNAL, [cell("p20", "5", day=DAY + timedelta(days=60))], at())
        assert ledger.audit_head() != before
    assert "the audit anchor was not updated" in caplog.text


def test_restore_re_anchors_and_records_the_old_anchor(
    paths: tuple[Path, Path], tmp_path: Path
) -> None:
    ledger_path, anchor = paths
    old = json.loads(anchor.read_text())
    first = backup(ledger_path, tmp_path / "backups", at(hour=20))
    with Ledger.open(ledger_path, anchor=anchor) as ledger, ledger.transaction() as tx:
        tx.accept_entries(JOURNAL, [cell("p20", "5", day=DAY + timedelta(days=60))], at())
    newer = json.loads(anchor.read_text())
    assert newer["event"] > old["event"]
    restore(first, ledger_path, at(hour=21), anchor=anchor)
    ((last, head, payload),) = rows(
        ledger_path, "SELECT id, hash, payload FROM audit ORDER BY id DESC LIMIT 1")
    assert json.loads(payload)["anchor_before"] == [newer["event"], newer["head"]]
    assert (json.loads(anchor.read_text())["event"], json.loads(anchor.read_text())["head"]) == (
        last, head)
    with Ledger.open(ledger_path, anchor=anchor) as ledger:
        assert ledger.audit_verify().problems == ()


def test_a_backup_must_extend_the_previous_one(paths: tuple[Path, Path], tmp_path: Path) -> None:
    ledger_path, _ = paths
    folder = tmp_path / "backups"
    first = backup(ledger_path, folder, at(hour=20))
    with Ledger.open(ledger_path) as ledger, ledger.transaction() as tx:
        tx.accept_entries(JOURNAL, [cell("p20", "5", day=DAY + timedelta(days=60))], at())
    second = backup(ledger_path, folder, at(hour=21))  # extends the first: accepted
    (previous_last,) = rows(second, "SELECT max(id) FROM audit")[0]
    forge_everything(ledger_path, "2")  # anchor and all: only the backups remember
    with pytest.raises(StoreError) as caught:
        backup(ledger_path, folder, at(hour=22))
    assert caught.value.message == (
        "backup refused: the ledger's audit chain does not extend the previous backup: event"
        f" {previous_last} is not the one that ends the previous backup {second.name} — the"
        " chain was rewritten"
    )
    assert caught.value.hint is not None and "earlier backups are kept" in caught.value.hint
    assert [b.path for b in list_backups(folder)] == [second, first]
    assert not list(folder.glob("*.partial"))


def test_a_backup_after_a_restore_branches_on_purpose(
    paths: tuple[Path, Path], tmp_path: Path
) -> None:
    ledger_path, anchor = paths
    folder = tmp_path / "backups"
    first = backup(ledger_path, folder, at(hour=20))
    with Ledger.open(ledger_path, anchor=anchor) as ledger, ledger.transaction() as tx:
        tx.accept_entries(JOURNAL, [cell("p20", "5", day=DAY + timedelta(days=60))], at())
    second = backup(ledger_path, folder, at(hour=21))
    restore(first, ledger_path, at(hour=22), anchor=anchor)  # the second's last event is gone
    third = backup(ledger_path, folder, at(hour=23))
    assert [b.path for b in list_backups(folder)] == [third, second, first]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_ledger_wal_shm_anchor_and_backups_are_0600_under_umask_022(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        path, anchor = tmp_path / "var" / "ledger.sqlite3", tmp_path / "anchor" / "l.anchor"
        with Ledger.open(path, anchor=anchor) as ledger:
            with ledger.transaction() as tx:
                tx.accept_entries(JOURNAL, [cell("p01", "5")], at())
            with ledger.snapshot():  # the connection is open: -wal and -shm exist
                sides = [path.with_name(path.name + s) for s in ("-wal", "-shm")]
                assert all(side.exists() for side in sides)
                assert [mode(p) for p in (path, *sides, anchor)] == [0o600] * 4
        copy = backup(path, tmp_path / "backups", at(hour=20))
        assert (mode(copy), mode(copy.parent)) == (0o600, 0o700)
        restore(copy, path, at(hour=21), anchor=anchor)
        assert mode(path) == 0o600
        stray = tmp_path / "old.sqlite3"  # a ledger made world-readable by an older version
        shutil.copyfile(path, stray)
        os.chmod(stray, 0o644)
        Ledger.open(stray).close()
        assert mode(stray) == 0o600
    finally:
        os.umask(old)


def test_restore_with_a_damaged_anchor_changes_nothing(
    paths: tuple[Path, Path], tmp_path: Path
) -> None:
    ledger_path, anchor = paths
    first = backup(ledger_path, tmp_path / "backups", at(hour=20))
    before = ledger_path.read_bytes()
    anchor.write_text("{")
    with pytest.raises(StoreError, match="is damaged"):
        restore(first, ledger_path, at(hour=21), anchor=anchor)
    assert ledger_path.read_bytes() == before
    assert sorted(p.name for p in ledger_path.parent.iterdir()) == ["ledger.sqlite3"]
