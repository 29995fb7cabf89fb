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
from sync.jobs.findings_tab import ShownFindings
from sync.jobs.journal_service import KeptGrades
from sync.jobs.settled import SettledTabs
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


def lost_manifest(school: School) -> str | None:
    """On the local backend: why its files cannot be named (the manifest gone beside them; the
    next ``sync`` re-adopts them), read from the folders alone; None when nothing is lost."""
    settings = school.backend
    if settings.kind is not BackendKind.LOCAL or settings.folder is None:
        return None
    from sync.backends.local.adopt import lost_manifest_note

    return lost_manifest_note(settings.folder, settings.private_folder)


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


def make_pool(school: School, environ: Mapping[str, str] | None = None) -> tuple[Backend, ...]:
    """The pool's other principals (google ``[backend] pool_credentials_env``), each a backend
    of its own with its own per-user quota; they write diaries (``sync.jobs.diaries``)."""
    settings = school.backend
    if settings.kind is not BackendKind.GOOGLE or not settings.pool_credentials:
        return ()
    from sync.backends.google.auth import build_pool_client
    from sync.backends.google.backend import GoogleBackend

    return tuple(GoogleBackend(build_pool_client(settings, key, environ),
                               folder=settings.shared_drive_folder_id)
                 for key in settings.pool_credentials)


@dataclass
class Service:
    """One school's running service. Close it (or use ``with``) to release the ledger."""

    school: School
    backend: Backend
    ledger: Ledger
    clock: Clock
    counters: dict[str, int] = field(default_factory=dict)
    ledger_lock: LedgerLock | None = None  # held from open to close (one process per ledger)
    pool: tuple[Backend, ...] = ()  # more principals that write diaries (``make_pool``)
    grades: KeptGrades = field(default_factory=KeptGrades)  # recommendations kept between cycles
    settled: SettledTabs = field(default_factory=SettledTabs)  # closed tabs not parsed again
    shown_findings: ShownFindings = field(default_factory=ShownFindings)  # «Замечания» as rendered

    def __post_init__(self) -> None:
        """Each principal of the pool takes the others' changes for its own (the change feed's
        ``by_me``)."""
        names = self.principals()
        for backend in self.writers():
            also_me: Any = getattr(backend, "also_me", None)
            if callable(also_me):
                also_me(names)

    def writers(self) -> tuple[Backend, ...]:
        """The backends diaries are written through: the service's, then its pool's."""
        return (self.backend, *self.pool)

    def principals(self) -> set[str]:
        """The service's identities (lower-case): its principal and its pool's."""
        return {b.principal.lower() for b in self.writers()}

    @classmethod
    def open(
        cls,
        school: School,
        *,
        backend: Backend | None = None,
        clock: Clock | None = None,
        environ: Mapping[str, str] | None = None,
        lock_wait: float = 0.0,
        pool: tuple[Backend, ...] | None = None,
    ) -> Service:
        """Lock the ledger for this process (waiting up to ``lock_wait`` seconds for another
        holder, then :class:`~rules.errors.LedgerBusy`), then open the backend and the ledger."""
        clock = clock or wall_clock(school)
        lock = LedgerLock.acquire(school.ledger_path, wait=lock_wait, now=clock())
        try:
            if pool is None:
                pool = make_pool(school, environ) if backend is None else ()
            backend = backend if backend is not None else make_backend(school, environ, clock)
            ledger = Ledger.open(school.ledger_path, now=clock(), anchor=school.anchor_path)
        except BaseException:
            lock.release()
            raise
        return cls(school=school, backend=backend, ledger=ledger, clock=clock, ledger_lock=lock,
                   pool=pool)

    def now(self) -> datetime:
        """The current moment, tz-aware in the school's zone."""
        return self.clock().astimezone(self.school.timezone)

    def api_calls(self) -> dict[str, float]:
        """The backends' call counters by kind, the pool's added (empty for backends that do
        not count)."""
        out: dict[str, float] = {}
        for backend in self.writers():
            stats: Any = getattr(backend, "stats", None)
            for key, value in (stats() if callable(stats) else {}).items():
                out[key] = out.get(key, 0) + value
        return out

    def close(self) -> None:
        try:
            self.ledger.close()
            for backend in self.writers():
                close: Any = getattr(backend, "close", None)
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
