"""The simulated school's world: the example school on a backend, the service, a clock, hands.

Two backends: the in-process Google emulator (the real gspread client underneath, one client per
simulated person, the emulator's clock as the service's clock — the engine tests' rig) and the
local backend (a folder of .xlsx files edited as LibreOffice would, ``sync.demo.teachers.type_into``,
on the demo's simulated clock). The service's backend is wrapped in a :class:`Fuse` that can kill
the process at its N-th backend call (and fill the local disk once); the simulated people never go
through it: they type as themselves, and the simulation reads journals through its own backend.
"""

from __future__ import annotations

import dataclasses
import errno
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from pathlib import Path
from typing import IO, Any

import gspread

from config import load_school
from config.school import School
from sync.backends.local import xlsx
from sync.backends.local.backend import LocalBackend
from sync.backends.protocol import Backend, CellRange, Grid
from sync.demo.run import SimClock, _copy_example
from sync.demo.teachers import type_into
from sync.jobs.service import Service, make_backend
from sync.jobs.setup import run_setup
from sync.ledger.model import FileKind
from tests.emulator import GoogleEmulator
from tests.sync.backend_helpers import FakeTime
from tests.sync.engine_fixtures import ORGANIZER, SVC, EngineRig, school_for

CALLS = frozenset(("start_token", "changes", "own_versions", "create", "tabs", "add_tabs",
                   "replace_tabs", "rename_tab", "read", "write", "set_open_ranges",
                   "open_ranges", "info", "delete", "grants", "grant", "revoke"))  # the protocol


REFUSED = (400, 403)  # a protected cell (400, as Google answers), no access (403)


class Killed(BaseException):
    """The process dies here (nothing in the service catches a BaseException)."""


class Disk:
    """The local backend's disk: ``fill()`` makes the next save run out of space half-way (the
    workbook serializer writes half a file, then OSError ENOSPC), once."""

    def __init__(self) -> None:
        self.full = False
        self.filled = 0

    def fill(self) -> None:
        self.full = True

    def serializer(self, wb: Any, out: IO[bytes]) -> None:
        if self.full:
            self.full = False
            self.filled += 1
            out.write(b"PK\x03\x04 half a workbook")
            out.flush()
            raise OSError(errno.ENOSPC, "No space left on device")
        xlsx.save(wb, out)


class Fuse:
    """The service's backend, with a fuse: ``arm(n)`` kills the process at the n-th call of the
    backend protocol from now."""

    def __init__(self, inner: Backend) -> None:
        self.inner = inner
        self.left: int | None = None
        self.kills = 0

    def arm(self, calls: int) -> None:
        self.left = calls

    def __getattr__(self, name: str) -> Any:
        found = getattr(self.inner, name)
        if name not in CALLS:
            return found

        def call(*args: Any, **kwargs: Any) -> Any:
            if self.left is not None:
                self.left -= 1
                if self.left <= 0:
                    self.left = None
                    self.kills += 1
                    raise Killed(name)
            return found(*args, **kwargs)

        return call


@dataclass
class World:
    """One simulated school: its service (re-openable), clock and the people's hands."""

    kind: str  # "emulator" | "local"
    school: School
    folder: Path
    set_now: Callable[[datetime], None]
    now: Callable[[], datetime]
    make_inner: Callable[[], Backend]
    reader: Backend  # the simulation's own eyes on the spreadsheets (not the service's calls)
    rig: EngineRig | None = None
    disk: Disk | None = None
    svc: Service = field(init=False)
    fuse: Fuse = field(init=False)

    def open(self) -> Service:
        """A new service process on the ledger (the previous one closed first)."""
        if getattr(self, "svc", None) is not None:
            self.svc.close()
        self.fuse = Fuse(self.make_inner())
        self.svc = Service.open(self.school, backend=self.fuse,  # type: ignore[arg-type]
                                clock=self.now)
        return self.svc

    def at(self, day: date, moment: time) -> None:
        self.set_now(datetime.combine(day, moment, tzinfo=self.school.timezone))

    def files(self, kind: FileKind) -> dict[str, str]:
        with self.svc.ledger.snapshot() as tx:
            return {f.key: f.id for f in tx.files(kind)}

    def read(self, file_id: str, tabs: Sequence[str]) -> dict[str, Grid]:
        return self.reader.read(file_id, tabs)

    def type(self, who: str, file_id: str, edits: Sequence[tuple[CellRange, str]], *,
             owner: bool = False) -> list[CellRange]:
        """``who`` types ``edits`` into a spreadsheet; returns the cells that refused (protected).
        ``owner``: someone with owner rights, past the protection."""
        if not edits:
            return []
        if self.rig is None:
            refused: list[CellRange] = []
            path = Path(self.reader.path(file_id))  # type: ignore[attr-defined]
            type_into(path, edits, saved_at=self.now(), owner=owner, refused=refused)
            return refused
        principal = ORGANIZER if owner else who
        client = self.rig.client(principal).http_client
        try:
            self._batch(client, file_id, edits)
            return []
        except gspread.exceptions.APIError as exc:
            if exc.response.status_code not in REFUSED:
                raise
        out = []  # one protected cell refuses the whole batch: the person types cell by cell
        for target, value in edits:
            try:
                self._batch(client, file_id, [(target, value)])
            except gspread.exceptions.APIError as exc:
                if exc.response.status_code not in REFUSED:
                    raise
                out.append(target)
        return out

    def _batch(self, client: Any, file_id: str, edits: Sequence[tuple[CellRange, str]]) -> None:
        assert self.rig is not None
        body = {"valueInputOption": "USER_ENTERED",
                "data": [{"range": t.a1().split(":")[0], "values": [[v]]} for t, v in edits]}
        for _ in range(5):  # a person's own per-minute quota: they wait a minute and retry
            try:
                client.values_batch_update(file_id, body=body)
                return
            except gspread.exceptions.APIError as exc:
                if exc.response.status_code != 429:
                    raise
                self.rig.emu.clock.advance(61)
        client.values_batch_update(file_id, body=body)

    def close(self) -> None:
        if self.rig is not None:
            self.rig.close()
        else:
            self.svc.close()


def emulator_world(folder: Path, school: School, start: datetime) -> World:
    """The school on the in-process Google emulator (a shared drive the service organizes)."""
    emu = GoogleEmulator(service_principal=SVC, start=start)
    drive = emu.create_shared_drive("ГБОУ Школа № 1234", organizers=[SVC, ORGANIZER])
    google = school_for(folder / "var" / "ledger.sqlite3", drive=drive)
    school = dataclasses.replace(school, backend=google.backend, ledger_path=google.ledger_path)
    rig = EngineRig(emu, drive, school, school.ledger_path, FakeTime(emu),
                    svc=None)  # type: ignore[arg-type]
    world = World("emulator", school, folder, rig.set_now, rig.now,
                  lambda: rig.backend(seed=random.randrange(1 << 30)), rig.inspector, rig=rig)
    rig.svc = world.open()
    return world


def local_world(folder: Path, adapt: Callable[[School], School], start: datetime) -> World:
    """The school on the local backend in ``folder`` (the demo's copy of the example)."""
    config = _copy_example(folder)
    school = adapt(load_school(config))
    clock = SimClock(start)

    def set_now(when: datetime) -> None:
        clock.current = when

    disk = Disk()

    def backend() -> Backend:  # LocalBackend.from_settings, with the simulation's disk
        settings = school.backend
        return LocalBackend(settings.folder, clock=clock, serializer=disk.serializer,
                            private_folder=settings.private_folder)

    world = World("local", school, folder, set_now, clock, backend,
                  make_backend(school, {}, clock), disk=disk)
    world.open()
    return world


def set_up(world: World) -> int:
    """``ejournal setup``: every spreadsheet created and shared; returns how many."""
    summary = run_setup(world.svc)
    if summary.failed:
        raise AssertionError(f"setup failed: {summary.to_json()}")
    with world.svc.ledger.snapshot() as tx:
        return len(tx.files())


def with_diaries(school: School) -> School:
    """The example school as the simulation runs it: the parents' diaries on."""
    return dataclasses.replace(school, diaries=dataclasses.replace(school.diaries, enabled=True))
