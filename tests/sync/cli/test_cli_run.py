"""`ejournal run` as a process: it starts its jobs, and SIGTERM (or Ctrl-C) stops it cleanly."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "config" / "example"


def start(tmp_path: Path) -> tuple[subprocess.Popen[str], Path]:
    school = tmp_path / "school"
    shutil.copytree(EXAMPLE, school, ignore=shutil.ignore_patterns("var", "__pycache__"))
    log = tmp_path / "daemon.log"
    with log.open("w", encoding="utf-8") as sink:
        proc = subprocess.Popen(
            [sys.executable, "-m", "sync", "run", "--config", str(school / "school.toml")],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=sink,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
    return proc, log


def wait_for(log: Path, text: str, proc: subprocess.Popen[str], seconds: float = 60) -> str:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        content = log.read_text(encoding="utf-8")
        if text in content:
            return content
        if proc.poll() is not None:
            break
        time.sleep(0.1)
    raise AssertionError(f"{text!r} not logged; log:\n{log.read_text(encoding='utf-8')}")


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_run_starts_its_jobs_and_stops_cleanly_on_a_signal(
    tmp_path: Path, sig: signal.Signals
) -> None:
    proc, log = start(tmp_path)
    try:
        content = wait_for(log, "daemon: job backup done", proc)
        assert "daemon started: jobs lock, sync, backup" in content
        assert "daemon: job lock done" in content and "daemon: job sync done" in content
        proc.send_signal(sig)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    content = log.read_text(encoding="utf-8")
    assert f"signal {int(sig)}: stopping after the current job" in content
    assert "daemon stopped" in content
    assert content.rstrip().endswith("Stopped.")
    assert "Traceback" not in content
    backups = list((tmp_path / "school" / "var" / "backups").glob("ledger-*.sqlite3"))
    assert len(backups) == 1  # the first tick's catch-up backup
