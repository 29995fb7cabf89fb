"""Busy vs damaged through the CLI on the local backend (the real clock, the default settle time).

Garbage in a journal's .xlsx that has settled (its mtime ten minutes back, no lock file) is set
aside by ``sync`` (kept in ``.trash/``) and rebuilt under its own name: exit code 4 once (what was
typed since the last read is only in the kept copy), then 0. ``rebuild`` sets aside fresh garbage
at once (asked for by a person: no lock file, so no save in progress), and a file held open (a
lock file beside it) is reported busy with the stale-lock hint instead of looping.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest

from tests.sync.cli.cli_helpers import journal_file, run

GARBAGE = b"garbage\n"

pytestmark = pytest.mark.slow


def test_sync_sets_a_settled_damaged_journal_aside_and_rebuilds_it(
    synced_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file_id, path = journal_file(synced_config, "7Б/physics")
    path.write_bytes(GARBAGE)
    past = time.time() - 600
    os.utime(path, (past, past))

    code, out, err = run(capsys, "sync", "--config", str(synced_config), "--json")
    assert code == 4, err
    data = json.loads(out)
    new_id, new_path = journal_file(synced_config, "7Б/physics")
    physics = "Журнал 7Б · Физика · 2026/27"  # named, not by id, for the sysadmin who reads it
    assert (data["set_aside"], data["rebuilt"], data["failed"]) == ([physics], [physics], [])
    assert new_id != file_id
    assert data["skipped_busy"] == []
    assert new_path.name == path.name and new_path.stat().st_size > len(GARBAGE)
    assert [p.read_bytes() for p in (path.parent / ".trash").iterdir()] == [GARBAGE]

    code, out, err = run(capsys, "sync", "--config", str(synced_config), "--json")
    assert code == 0, err
    data = json.loads(out)
    assert (data["set_aside"], data["failed"], data["skipped_busy"]) == ([], [], [])
    assert len(list(path.parent.glob("*.xlsx"))) == 48  # 44 journals, 3 classes, the board (admin's: private)


def test_rebuild_sets_fresh_garbage_aside_but_leaves_a_file_held_open(
    synced_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file_id, path = journal_file(synced_config, "7Б/physics")
    path.write_bytes(GARBAGE)  # fresh: a sync would wait for it to settle
    held_id, held = journal_file(synced_config, "5А/math")
    lock = held.parent / f".~lock.{held.name}#"
    held.write_bytes(GARBAGE)
    lock.write_text("teacher,host,01.12.2026 10:00,\n", encoding="utf-8")

    code, out, err = run(capsys, "rebuild", "--config", str(synced_config), "--json")
    assert code == 4, err
    data = json.loads(out)
    physics, math = "Журнал 7Б · Физика · 2026/27", "Журнал 5А · Математика · 2026/27"
    assert data["set_aside"] == [physics]
    assert physics in data["rebuilt"]
    assert [item[0] for item in data["failed"]] == [math]  # [name, error]: named, not by label
    assert "is open in a spreadsheet program" in data["failed"][0][1]
    assert held.read_bytes() == GARBAGE  # a file held open is never set aside under someone

    lock.unlink()
    past = time.time() - 600
    os.utime(held, (past, past))
    code, out, err = run(capsys, "rebuild", "--config", str(synced_config), "--json")
    assert code == 0, err
    assert json.loads(out)["set_aside"] == [math]
    assert len(list(path.parent.glob("*.xlsx"))) == 48
    assert sorted(p.read_bytes() for p in (path.parent / ".trash").iterdir()) == [GARBAGE] * 2
    assert file_id != journal_file(synced_config, "7Б/physics")[0]
    assert held_id != journal_file(synced_config, "5А/math")[0]
