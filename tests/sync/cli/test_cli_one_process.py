"""One process per ledger, with real ``ejournal`` processes on a copy of the example school (local
backend): two ``sync`` started together never run their cycles at the same time (the ledger's
``runs`` rows do not overlap), and a ``sync``, ``lock`` or ``restore`` while the daemon runs exits 75
with a message naming the daemon — while ``status`` still answers.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import datetime
from itertools import pairwise
from pathlib import Path

import pytest

from sync.cli.main import main
from sync.cli.options import EXIT_BUSY, LOCK_WAIT_SECONDS

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "config" / "example"

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    school = tmp_path_factory.mktemp("one") / "school"
    shutil.copytree(EXAMPLE, school, ignore=shutil.ignore_patterns("var", "__pycache__"))
    path = school / "school.toml"
    assert main(["setup", "--config", str(path)]) == 0
    yield path


SCRIPT = Path(sys.executable).parent / "ejournal"  # the console script `pip install -e .` made


def ejournal(*args: str) -> subprocess.Popen[str]:
    """A real ``ejournal`` process."""
    return subprocess.Popen([str(SCRIPT), *args], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen[str], timeout: float = 300) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def sync_runs(config: Path) -> list[tuple[datetime, datetime]]:
    db = sqlite3.connect(config.parent / "var" / "ledger.sqlite3")
    try:
        rows = db.execute("SELECT started, finished FROM runs WHERE kind = 'sync' "
                          "ORDER BY started").fetchall()
    finally:
        db.close()
    return [(datetime.fromisoformat(a), datetime.fromisoformat(b)) for a, b in rows]


def test_two_syncs_started_together_never_overlap(config: Path) -> None:
    before = len(sync_runs(config))
    procs = [ejournal("sync", "--config", str(config), "--json") for _ in range(2)]
    results = [finish(p) for p in procs]
    codes = sorted(code for code, _, _ in results)
    assert codes in ([0, 0], [0, EXIT_BUSY]), results
    runs = sync_runs(config)[before:]
    assert len(runs) == codes.count(0)  # a refused process wrote no run
    for (_, end), (start, _) in pairwise(runs):
        assert end <= start, "two sync cycles ran at the same time"
    for code, out, err in results:
        if code == EXIT_BUSY:
            other = next(p.pid for p, r in zip(procs, results, strict=True) if r[0] == 0)
            assert err.startswith("Error: another ejournal process is using the ledger ")
            assert f": pid {other}, `ejournal sync`, since " in err
            assert f"gave up after waiting {LOCK_WAIT_SECONDS:g} s" in err and "\nHint: " in err
            assert out == ""
        else:
            assert json.loads(out)["kind"] == "sync"


def wait_for_lock(config: Path, pid: int, timeout: float = 120) -> None:
    note = config.parent / "var" / "ledger.sqlite3.lock"
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if note.exists() and f'"pid": {pid}' in note.read_text():
            return
        time.sleep(0.1)
    raise AssertionError("the daemon never locked the ledger")


def test_while_the_daemon_runs_sync_lock_and_restore_exit_75_and_status_answers(
        config: Path) -> None:
    daemon = ejournal("run", "--config", str(config))
    try:
        wait_for_lock(config, daemon.pid)
        runs = len(sync_runs(config))
        for args in (("sync",), ("lock",), ("restore", str(config.parent / "none.sqlite3"))):
            began = time.monotonic()
            code, out, err = finish(ejournal(args[0], "--config", str(config), *args[1:]))
            assert code == EXIT_BUSY, (args, err)
            assert time.monotonic() - began >= LOCK_WAIT_SECONDS
            assert f": pid {daemon.pid}, `ejournal run`, since " in err, err
            assert "Hint: let it finish" in err and "stop it first" in err
        code, out, err = finish(ejournal("status", "--config", str(config), "--json"))
        assert code == 0, err
        assert json.loads(out)  # read-only: no lock needed
    finally:
        os.kill(daemon.pid, signal.SIGTERM)
        code, _, err = finish(daemon)
    assert code == 0, err
    assert len(sync_runs(config)) >= runs  # the daemon's own cycles, none of the refused ones
    code, _, err = finish(ejournal("sync", "--config", str(config)))
    assert code in (0, 3), err  # the daemon is gone: the ledger is free again
