"""Helpers of the setup, repair and substitution tests: a Service over the emulator (real gspread
underneath) or over a folder of xlsx files, a fake clock, a smaller example school, damage
done the way people do it (through their own API clients).

Owned by engineer B (setup & repair).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from config.school import School
from sync.backends.local.backend import LocalBackend
from sync.jobs.service import Service
from sync.ledger.ledger import Ledger
from tests.sync.backend_helpers import GoogleRig, google_rig
from tests.sync.layout_helpers import example_school

MSK = ZoneInfo("Europe/Moscow")
SUB_DAY = date(2026, 11, 24)  # the example school's substitution: 5А math by volkova


def at(day: date, hour: int = 9, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=MSK)


def small_school(journals: int = 3) -> School:
    """The example school with only its first ``journals`` journals of 5А (all 3 classes)."""
    school = example_school()
    keep = list(dict.fromkeys((a.class_id, a.subject_id) for a in school.assignments
                              if a.class_id == "5А"))[:journals]
    assignments = tuple(a for a in school.assignments if (a.class_id, a.subject_id) in keep)
    return dataclasses.replace(school, assignments=assignments)


@dataclass
class FakeClock:
    """A settable school clock for the local backend's services."""

    moment: datetime

    def __call__(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@dataclass
class GoogleService:
    svc: Service
    rig: GoogleRig

    @property
    def emu(self) -> Any:
        return self.rig.emu

    def calls(self, kind: str | None = None) -> int:
        return int(self.emu.calls_total(kind=kind, principal=self.emu.service_principal))

    def drive_calls(self, method: str, suffix: str = "") -> int:
        """Drive calls of the service by HTTP method and path ending (e.g. POST creates)."""
        return sum(
            1
            for c in self.emu.log
            if c.principal == self.emu.service_principal
            and c.method == method
            and c.path.startswith("/drive/v3/")
            and c.path.endswith(suffix)
        )


@contextmanager
def google_service(tmp_path: Path, school: School, start: datetime) -> Iterator[GoogleService]:
    """A Service on a fresh emulator (shared drive, service principal as organizer) whose clock
    is the emulator's (throttle sleeps advance it)."""
    rig = google_rig(start=start)
    ledger = Ledger.open(tmp_path / "ledger.sqlite3", now=start)
    svc = Service(school=school, backend=rig.backend, ledger=ledger,
                  clock=lambda: rig.emu.clock.now())
    try:
        yield GoogleService(svc, rig)
    finally:
        svc.close()
        assert rig.emu.bugs == []


@contextmanager
def local_service(tmp_path: Path, school: School, clock: FakeClock) -> Iterator[Service]:
    ledger = Ledger.open(tmp_path / "ledger.sqlite3", now=clock())
    svc = Service(school=school, backend=LocalBackend(tmp_path / "sheets", clock=clock),
                  ledger=ledger,
                  clock=clock)
    try:
        yield svc
    finally:
        svc.close()


class Crash(Exception):
    """The process "dies" here (raised from a progress hook)."""


def crash_after(n: int) -> Any:
    """A progress callback that kills the run once ``n`` files are done."""

    def hook(p: Any) -> None:
        if p.done >= n:
            raise Crash(f"killed after {p.done} files")

    return hook
