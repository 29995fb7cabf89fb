"""The ledger's WAL stays small: a commit that grew it above the limit truncates it."""

from __future__ import annotations

import logging
import sqlite3
from datetime import timedelta
from pathlib import Path

import pytest

from sync.ledger.db import WAL_LIMIT
from sync.ledger.ledger import Ledger
from tests.sync.ledger_helpers import DAY, at, cell, lesson

MARKS = ["5", "4", "3", "н"]


def wal_size(ledger: Ledger) -> int:
    wal = Path(f"{ledger.path}-wal")
    return wal.stat().st_size if wal.exists() else 0


def big_transaction(ledger: Ledger, journals: int, days: int = 20) -> int:
    """One transaction of ``journals`` × ``days`` lessons × 30 cells; returns the cells."""
    count = 0
    with ledger.transaction() as tx:
        for j in range(journals):
            for d in range(days):
                day = DAY + timedelta(days=d)
                tx.upsert_lesson(f"7Б/s{j}", lesson(day, topic=f"Тема {d}"), at(day))
                cells = [cell(f"p{n:02d}", MARKS[(n + d) % 4], day=day) for n in range(30)]
                count += len(tx.accept_entries(f"7Б/s{j}", cells, at(day)))
    return count


def entries_in(path: Path) -> int:
    with sqlite3.connect(path) as raw:
        (count,) = raw.execute("SELECT count(*) FROM entries").fetchone()
    raw.close()
    return int(count)


def test_the_limit_is_64_mib_and_set_on_every_connection(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "ledger.sqlite3") as ledger:
        assert ledger.wal_limit == WAL_LIMIT == 64 * 2**20
        with ledger.engine.connect() as connection:
            limit = connection.exec_driver_sql("PRAGMA journal_size_limit").scalar()
        assert limit == 64 * 2**20


def test_a_large_transaction_leaves_no_wal_above_the_limit(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "ledger.sqlite3") as ledger:
        ledger.wal_limit = 2**20  # 1 MiB: the same code path as 64 MiB, a test-sized transaction
        written = big_transaction(ledger, journals=6)
        assert written == 6 * 20 * 30
        assert wal_size(ledger) <= 2**20
        assert entries_in(ledger.path) == 3600  # checkpointed into the database, nothing lost


def test_a_small_transaction_keeps_its_wal(tmp_path: Path) -> None:
    with Ledger.open(tmp_path / "ledger.sqlite3") as ledger:
        big_transaction(ledger, journals=1, days=1)
        assert 0 < wal_size(ledger) <= WAL_LIMIT  # no checkpoint paid on an ordinary commit


def test_a_reader_holding_the_wal_delays_the_truncation(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with Ledger.open(tmp_path / "ledger.sqlite3") as ledger:
        ledger.wal_limit = 2**20
        big_transaction(ledger, journals=1, days=1)
        reader = sqlite3.connect(ledger.path, isolation_level=None)  # another process reading
        try:
            reader.execute("BEGIN")
            reader.execute("SELECT count(*) FROM entries").fetchone()
            with caplog.at_level(logging.WARNING, logger="sync.ledger.db"):
                big_transaction(ledger, journals=6)
            assert wal_size(ledger) > 2**20  # held back by the reader's snapshot
            assert "not truncated: a reader holds it" in caplog.text
            assert entries_in(ledger.path) == 3600  # the commit went through (its first 30 cells
            # are the ones already there)
            reader.execute("COMMIT")
        finally:
            reader.close()
        with ledger.transaction() as tx:  # the next commit truncates it
            tx.state_set("k", "v", at())
        assert wal_size(ledger) <= 2**20
