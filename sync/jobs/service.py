"""The running service's wiring: one school, its spreadsheet backend, its ledger and its clock.

Every job (setup, sync cycle, nightly locks, corrections, backup, rebuild, demo) takes a
:class:`Service`. Only this module reads the real clock (``wall_clock``); tests and the demo pass
their own ``clock`` so that time is an argument everywhere else.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from types import TracebackType
from typing import Any

from config.school import BackendKind, School
from rules.errors import ConfigError, Problem
from sync.backends.protocol import Backend
from sync.ledger.ledger import Ledger
from sync.ledger.process_lock import LedgerLock

logger = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def journal_key(class_id: str, subject_id: str) -> str:
    """The ledger's key of a journal: ``"7Б/math"``."""
    return f"{class_id}/{subject_id}"


def split_journal_key(key: str) -> tuple[str, str]:
    class_id, _, subject_id = key.partition("/")
    return class_id, subject_id


def wall_clock(school: School) -> Clock:
    """The real clock in the school's time zone (the only place the service reads the time)."""
    return lambda: datetime.now(school.timezone)


def make_backend(school: School, environ: Mapping[str, str] | None = None,
                 clock: Clock | None = None) -> Backend:
    """The backend named in the school's configuration (``clock``: the service's)."""
    settings = school.backend
    if settings.kind is BackendKind.LOCAL:
        from sync.backends.local.backend import LocalBackend

        return LocalBackend.from_settings(settings, clock)
    if settings.kind is BackendKind.GOOGLE:
        from sync.backends.google.backend import GoogleBackend

        return GoogleBackend.from_settings(settings, environ)
    raise ConfigError([Problem("school.toml", "field backend.kind", f"unknown {settings.kind!r}")])


@dataclass
class Service:
    """One school's running service. Close it (or use ``with``) to release the ledger."""

    school: School
    backend: Backend
    ledger: Ledger
    clock: Clock
    counters: dict[str, int] = field(default_factory=dict)
    ledger_lock: LedgerLock | None = None  # held from open to close (one process per ledger)

    @classmethod
    def open(
        cls,
        school: School,
        *,
        backend: Backend | None = None,
        clock: Clock | None = None,
        environ: Mapping[str, str] | None = None,
        lock_wait: float = 0.0,
    ) -> Service:
        """Lock the ledger for this process (waiting up to ``lock_wait`` seconds for another
        holder, then :class:`~rules.errors.LedgerBusy`), then open the backend and the ledger."""
        clock = clock or wall_clock(school)
        lock = LedgerLock.acquire(school.ledger_path, wait=lock_wait, now=clock())
        try:
            backend = backend if backend is not None else make_backend(school, environ, clock)
            ledger = Ledger.open(school.ledger_path, now=clock(), anchor=school.anchor_path)
        except BaseException:
            lock.release()
            raise
        return cls(school=school, backend=backend, ledger=ledger, clock=clock, ledger_lock=lock)

    def now(self) -> datetime:
        """The current moment, tz-aware in the school's zone."""
        return self.clock().astimezone(self.school.timezone)

    def api_calls(self) -> dict[str, float]:
        """The backend's call counters by kind (empty for backends that do not count)."""
        stats: Any = getattr(self.backend, "stats", None)
        return dict(stats()) if callable(stats) else {}

    def close(self) -> None:
        try:
            self.ledger.close()
            close: Any = getattr(self.backend, "close", None)
            if callable(close):
                close()
        finally:
            if self.ledger_lock is not None:
                self.ledger_lock.release()

    def __enter__(self) -> Service:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
