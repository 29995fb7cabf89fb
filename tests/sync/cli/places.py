"""Real bad places on disk for the CLI tests: a folder nobody may write, a path under a file.

A read-only folder is ``chmod 555`` for an ordinary user; for root (who writes through modes) it is
made immutable with ``chattr +i`` where the filesystem allows it, else the test is skipped. Both are
undone on exit so pytest can clean the temporary folder.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest


def _chattr(flag: str, path: Path) -> bool:
    done = subprocess.run(["chattr", flag, str(path)], capture_output=True, check=False)
    return done.returncode == 0


@contextmanager
def read_only(path: Path) -> Iterator[Path]:
    """``path`` (an existing folder) refuses new entries, renames and deletions meanwhile."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555)
        try:
            yield path
        finally:
            path.chmod(mode)
        return
    try:
        made = _chattr("+i", path)
    except FileNotFoundError:
        made = False
    if not made:
        pytest.skip("running as root where chattr +i is not available: no read-only folder")
    try:
        yield path
    finally:
        _chattr("-i", path)


def under_a_file(tmp: Path) -> Path:
    """A path whose parent is a regular file (NotADirectoryError on any use)."""
    blocker = tmp / "a-file"
    blocker.write_text("not a folder\n", encoding="utf-8")
    return blocker / "inside"
