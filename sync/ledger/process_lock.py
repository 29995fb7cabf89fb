"""One process at a time per ledger: an OS lock on a file beside it (``<ledger>.lock``).

Two ``sync`` (or ``run``, ``lock``, ``setup``, ``rebuild``, ``restore``) processes on one ledger
would both read the journals, both accept, both write reverts and findings; SQLite would keep
each transaction whole, but not the cycle around them. So every command that writes takes this lock
before it opens the ledger and keeps it until it closes it (the daemon: for its whole life); a
second one waits up to ``wait`` seconds and then gives up with :class:`~rules.errors.LedgerBusy`
naming the holder (its pid, command and start, written into the lock file). Read-only commands
(``status``, ``audit verify``, ``backup``: an online SQLite backup) take no lock.

The lock is ``flock`` (POSIX) or ``msvcrt.locking`` (Windows) on an open file: the OS drops it when
the process ends, however it ends, so a crash never leaves a stale lock behind. It is advisory and
local: a ledger on a network share used from two machines is not covered (keep the ledger on the
server's own disk). The lock file is created 0600 and left in place (deleting it while held would
let a second process lock a new file of the same name).
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from datetime import datetime
from pathlib import Path

from rules.errors import LedgerBusy

if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
    import msvcrt

    def _try_lock(fd: int) -> bool:
        os.lseek(fd, 1 << 20, os.SEEK_SET)  # a byte far from the holder's note, which stays readable
        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True

else:
    import fcntl

    def _try_lock(fd: int) -> bool:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return False
        return True


logger = logging.getLogger(__name__)

POLL_SECONDS = 0.1


def lock_path(ledger: Path) -> Path:
    return ledger.with_name(ledger.name + ".lock")


class LedgerLock:
    """A held lock; :meth:`release` (or the end of the process) lets the next one in."""

    def __init__(self, path: Path, fd: int) -> None:
        self.path = path
        self._fd: int | None = fd

    @classmethod
    def acquire(cls, ledger: Path, *, wait: float = 0.0, now: datetime | None = None
                ) -> LedgerLock:
        """Lock ``ledger`` for this process, waiting up to ``wait`` seconds for another holder."""
        path = lock_path(ledger)
        path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o600)
        deadline = time.monotonic() + wait
        waited = False
        while not _try_lock(fd):
            if time.monotonic() >= deadline:
                holder = _holder(fd)
                os.close(fd)
                raise LedgerBusy(
                    f"another ejournal process is using the ledger {ledger}: {holder}; "
                    f"gave up after waiting {wait:g} s",
                    hint="let it finish and run the command again; while `ejournal run` (the "
                         "daemon) is running it does sync, lock and backup itself — stop it first "
                         "to run them by hand",
                )
            if not waited:
                logger.info("ledger %s is locked by another process: waiting up to %g s",
                            ledger, wait)
                waited = True
            time.sleep(POLL_SECONDS)
        note = {"pid": os.getpid(), "command": _command(),
                "since": (now or datetime.now().astimezone()).isoformat(timespec="seconds")}
        os.ftruncate(fd, 0)
        os.lseek(fd, 0, os.SEEK_SET)
        os.write(fd, json.dumps(note).encode())
        logger.debug("ledger %s locked by pid %d", ledger, os.getpid())
        return cls(path, fd)

    def release(self) -> None:
        """Unlock (idempotent). The note stays: it is only read while the file is locked."""
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor drops flock / msvcrt locks
            self._fd = None

    @property
    def held(self) -> bool:
        return self._fd is not None


def _command() -> str:
    """``ejournal sync`` — the program's name and its first argument (no paths, no options)."""
    args = [Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python", *sys.argv[1:2]]
    return " ".join(a for a in args if not a.startswith("-"))


def _holder(fd: int) -> str:
    """Who holds the lock, from its note ("pid 4242, `ejournal run`, since …")."""
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        note = json.loads(os.read(fd, 4096) or b"{}")
        return f"pid {int(note['pid'])}, `{note['command']}`, since {note['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "a process that left no note"
