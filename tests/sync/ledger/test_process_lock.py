"""One process per ledger (``sync.ledger.process_lock``), with real second processes: a holder in
another process makes ``acquire`` give up after its bounded wait naming the holder, or go through
once the holder lets go; a holder killed with SIGKILL leaves no stale lock; ``Service.open``
holds the lock until ``close``.
"""

from __future__ import annotations

import dataclasses
import os
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from rules.errors import LedgerBusy
from sync.backends.local.backend import LocalBackend
from sync.jobs.service import Service
from sync.ledger.process_lock import LedgerLock, lock_path
from tests.sync.layout_helpers import example_school

ROOT = Path(__file__).resolve().parents[3]
HOLDER = """
import sys, time
from pathlib import Path
from sync.ledger.process_lock import LedgerLock
lock = LedgerLock.acquire(Path(sys.argv[1]))
print("locked", flush=True)
time.sleep(float(sys.argv[2]))
lock.release()
print("released", flush=True)
time.sleep(60)
"""


def holder(ledger: Path, hold: float) -> subprocess.Popen[str]:
    """Another process that locks ``ledger``, holds it ``hold`` seconds, then lives on unlocked."""
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(ledger), str(hold)], cwd=ROOT,
                            stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None and proc.stdout.readline().strip() == "locked"
    return proc


def stop(proc: subprocess.Popen[str]) -> None:
    proc.kill()
    proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


@pytest.fixture
def ledger(tmp_path: Path) -> Path:
    return tmp_path / "var" / "ledger.sqlite3"


def test_a_second_process_gives_up_after_its_wait_and_names_the_holder(ledger: Path) -> None:
    proc = holder(ledger, 60)
    try:
        began = time.monotonic()
        with pytest.raises(LedgerBusy) as caught:
            LedgerLock.acquire(ledger, wait=0.5)
        waited = time.monotonic() - began
        assert 0.5 <= waited < 3
        message = caught.value.message
        assert f"another ejournal process is using the ledger {ledger}: pid {proc.pid}, " in message
        assert "gave up after waiting 0.5 s" in message and "-c" not in message
        assert caught.value.hint and "ejournal run" in caught.value.hint
    finally:
        stop(proc)


def test_a_waiting_process_goes_in_once_the_holder_lets_go(ledger: Path) -> None:
    proc = holder(ledger, 1.0)
    try:
        began = time.monotonic()
        lock = LedgerLock.acquire(ledger, wait=10)
        assert 0.5 < time.monotonic() - began < 9
        assert proc.stdout is not None and proc.stdout.readline().strip() == "released"
        lock.release()
    finally:
        stop(proc)


def test_a_killed_holder_leaves_no_stale_lock(ledger: Path) -> None:
    proc = holder(ledger, 60)
    os.kill(proc.pid, signal.SIGKILL)
    stop(proc)
    began = time.monotonic()
    LedgerLock.acquire(ledger, wait=0).release()  # no wait needed: the OS dropped the lock
    assert time.monotonic() - began < 1


def test_the_lock_file_is_private_and_names_this_process(ledger: Path) -> None:
    lock = LedgerLock.acquire(ledger)
    try:
        path = lock_path(ledger)
        assert path == ledger.parent / "ledger.sqlite3.lock"
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert f'"pid": {os.getpid()}' in path.read_text()
        with pytest.raises(LedgerBusy):  # even a second open in this process is refused
            LedgerLock.acquire(ledger)
    finally:
        lock.release()
    lock.release()  # idempotent
    LedgerLock.acquire(ledger).release()


def test_a_service_holds_the_ledger_from_open_to_close(tmp_path: Path) -> None:
    school = dataclasses.replace(example_school(), ledger_path=tmp_path / "ledger.sqlite3")
    backend = LocalBackend(tmp_path / "sheets")
    svc = Service.open(school, backend=backend)
    try:
        with pytest.raises(LedgerBusy):
            Service.open(school, backend=backend)
    finally:
        svc.close()
    Service.open(school, backend=backend).close()
