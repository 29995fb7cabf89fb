"""Exit codes of jobs that finish with some files failed (README "Exit codes": 4), on the local backend.

Each failure is a real condition on disk: a journal whose path became a folder (unreadable), a
private folder nobody may write (the manifest cannot be saved). The daemon logs such a run at ERROR.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from config import load_school
from sync.jobs.daemon import Daemon, default_jobs
from sync.jobs.service import Service
from tests.sync.cli.cli_helpers import journal_file, run
from tests.sync.cli.places import read_only

pytestmark = pytest.mark.slow


def unreadable(path: Path) -> None:
    """The journal's .xlsx replaced by a folder of the same name: every read fails (EISDIR)."""
    path.unlink()
    path.mkdir()


def test_sync_and_rebuild_exit_4_when_a_journal_cannot_be_read(
    synced_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file_id, path = journal_file(synced_config, "7Б/physics")
    unreadable(path)

    code, out, err = run(capsys, "sync", "--config", str(synced_config), "--json")
    assert code == 4, err
    data = json.loads(out)
    assert data["ok"] is False and data["violations"] == 0
    assert [(p["file"], p["name"]) for p in data["failed"]] == [
        (file_id, "Журнал 7Б · Физика · 2026/27")]  # the id for machines, the name for people
    code, out, err = run(capsys, "sync", "--config", str(synced_config))
    assert code == 4 and "\nFailed: Журнал 7Б · Физика · 2026/27: " in out

    code, out, err = run(capsys, "rebuild", "--config", str(synced_config))
    assert code == 4, out
    assert "Error: rebuild is incomplete: some spreadsheets failed" in err
    assert "Hint: run `ejournal rebuild` again" in err and "Traceback" not in err
    assert "\nFailed: Журнал 7Б · Физика · 2026/27: " in out  # its name, not «journal 7Б/physics»
    code, out, err = run(capsys, "setup", "--config", str(synced_config))
    assert code == 4, out + err
    assert "\nFailed: Журнал 7Б · Физика · 2026/27: " in out  # setup names it the same way

    path.rmdir()  # the folder gone: the file is missing, and rebuild re-creates it
    code, out, err = run(capsys, "rebuild", "--config", str(synced_config), "--json")
    assert code == 0, err
    assert json.loads(out)["failed"] == []


def test_sync_exits_4_when_the_manifests_folder_is_not_writable(
    synced_config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    private = synced_config.parent / "var" / "private"  # where the manifest lives, beside the admin's
    with read_only(private):
        code, out, err = run(capsys, "sync", "--config", str(synced_config), "--json")
    assert code == 4, err
    data = json.loads(out)
    assert data["ok"] is False and data["failed"] == []
    (error,) = data["errors"]
    assert error.startswith("change list: ") and "manifest" in error
    code, _, err = run(capsys, "sync", "--config", str(synced_config))
    assert code == 0, err  # writable again: the next cycle is whole


def test_the_daemon_logs_a_sync_with_failed_files_at_error(
    synced_config: Path, caplog: pytest.LogCaptureFixture
) -> None:
    _, path = journal_file(synced_config, "5А/math")
    unreadable(path)
    school = load_school(synced_config)
    with Service.open(school) as svc:
        daemon = Daemon(svc, [j for j in default_jobs(school) if j.name == "sync"])
        with caplog.at_level(logging.INFO, logger="sync.jobs.daemon"):
            ran = daemon.tick()
    assert ran == [("sync", False)]
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert [r.getMessage() for r in errors] == [
        "daemon: job sync finished with 1 failed file(s) and 0 error(s)"
    ]
