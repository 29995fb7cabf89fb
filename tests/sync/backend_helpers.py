"""Shared helpers of the backend tests: a google backend on a fresh emulator, a sample layout, a
fake clock, and "a teacher edits the file" for each backend kind.

The google part is owned by the google-backend tests; the local part (``local_teacher_edit``) by
the local backend's engineer.
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass, field
from typing import Any

import requests

from sync.backends.google.auth import client_for_session
from sync.backends.google.backend import GoogleBackend
from sync.backends.google.http import HttpPolicy
from sync.backends.protocol import Backend, CellRange, Dropdown, Highlight, SpreadsheetSpec, TabSpec
from tests.emulator import EmulatorAdapter, GoogleEmulator

SVC = "service@ejournal.iam.gserviceaccount.com"
TEACHER = "teacher@school.ru"
GRADES = "1 четверть"
LESSONS = "Уроки"


@dataclass
class FakeTime:
    """Clock and sleep for ProjectHTTPClient on the emulator's clock: sleeping advances it."""

    emu: GoogleEmulator
    sleeps: list[float] = field(default_factory=list)

    def now(self) -> float:
        return self.emu.clock.now().timestamp()

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.emu.clock.advance(seconds)


class RecordingAdapter(EmulatorAdapter):
    """The in-process emulator transport, remembering every request (method, url, JSON body)."""

    def __init__(self, emu: GoogleEmulator) -> None:
        super().__init__(emu)
        self.wire: list[tuple[str, str, Any]] = []

    def send(self, request: requests.PreparedRequest, *args: Any, **kw: Any) -> requests.Response:
        raw = request.body
        body = json.loads(raw) if isinstance(raw, (bytes, str)) and raw else None
        self.wire.append((request.method or "", request.url or "", body))
        return super().send(request, *args, **kw)


@dataclass
class GoogleRig:
    """A google backend acting as the service principal on an in-process emulator."""

    emu: GoogleEmulator
    drive: str
    backend: GoogleBackend
    time: FakeTime
    session: requests.Session

    @property
    def wire(self) -> list[tuple[str, str, Any]]:
        """Requests the rig's backend sent: (method, url with query, JSON body)."""
        adapter = self.session.get_adapter("https://sheets.googleapis.com")
        assert isinstance(adapter, RecordingAdapter)
        return adapter.wire

    def another_backend(self) -> GoogleBackend:
        """A second backend object (fresh process: empty caches) on the same emulator."""
        return google_backend(self.emu, self.drive, self.time)

    def close(self) -> None:
        self.session.close()


def google_backend(emu: GoogleEmulator, drive: str, time: FakeTime,
                   policy: HttpPolicy | None = None, seed: int = 7) -> GoogleBackend:
    session = requests.Session()
    session.mount("https://", RecordingAdapter(emu))
    conn = client_for_session(session, emu.service_principal, policy=policy, clock=time.now,
                              sleep=time.sleep, rng=random.Random(seed))
    return GoogleBackend(conn, folder=drive, rng=random.Random(seed))


def google_rig(policy: HttpPolicy | None = None, **emu_kw: Any) -> GoogleRig:
    emu = GoogleEmulator(**emu_kw)
    drive = emu.create_shared_drive("Школа №1", organizers=[emu.service_principal])
    time = FakeTime(emu)
    backend = google_backend(emu, drive, time, policy)
    return GoogleRig(emu, drive, backend, time, backend.http.session)


def grades_tab() -> TabSpec:
    """A journal-like period tab: hidden id column, names, two lesson dates, TEXT mark cells."""
    marks = CellRange(GRADES, 2, 2, 5, 4)
    return TabSpec(
        title=GRADES,
        rows=[["id", "Ученик", "02.09", "05.09"],
              ["", "", "контрольная", ""],
              ["p1", "Иванов Иван", "5", "4"],
              ["p2", "Петрова Анна", "", "н"],
              ["p3", "Сидоров Пётр", 3, None, None]],
        row_count=10, col_count=6, frozen_rows=2, frozen_cols=2, hidden_cols=(0,),
        text_ranges=(marks,),
        dropdowns=(Dropdown(marks, ("5", "4", "3", "2", "н")),),
        highlights=(Highlight(marks, "2", "#F4CCCC"), Highlight(marks, "н", "#FFF2CC")),
        col_widths={1: 180},
        protected=True,
        open_ranges=(CellRange(GRADES, 2, 3, 5, 4),),  # the 05.09 column stays open
    )


def lessons_tab() -> TabSpec:
    return TabSpec(LESSONS, [["Дата", "Тема", "Домашнее задание"], ["02.09", "Дроби", "№ 1"]],
                   row_count=20, col_count=5, protected=False)


def sample_spec(name: str = "Журнал 7Б · Математика · 2026/27") -> SpreadsheetSpec:
    return SpreadsheetSpec(name=name, tabs=(grades_tab(), lessons_tab()))


# ---- "a teacher edits the file" -------------------------------------------------------------

def teacher_edit(backend: Backend, file_id: str, tab: str, row: int, col: int,
                 value: str) -> None:
    """Simulate a teacher typing ``value`` into one cell (0-based) of an open or unprotected range."""
    if isinstance(backend, GoogleBackend):
        google_teacher_edit(backend, file_id, tab, row, col, value)
    else:
        local_teacher_edit(backend, file_id, tab, row, col, value)


def google_teacher_edit(backend: GoogleBackend, file_id: str, tab: str, row: int, col: int,
                        value: str) -> None:
    """The teacher gets writer access (if needed) and types in the browser (USER_ENTERED)."""
    adapter = backend.http.session.get_adapter("https://sheets.googleapis.com")
    assert isinstance(adapter, EmulatorAdapter)
    emu = adapter.emu
    if emu.role_of(TEACHER, file_id) is None:
        emu.client(emu.service_principal).open_by_key(file_id).share(
            TEACHER, perm_type="user", role="writer", notify=False)
    cell = CellRange(tab, row, col, row + 1, col + 1).a1()
    emu.client(TEACHER).http_client.values_update(
        file_id, cell, params={"valueInputOption": "USER_ENTERED"}, body={"values": [[value]]})


def local_teacher_edit(backend: Backend, file_id: str, tab: str, row: int, col: int,
                       value: str) -> None:
    """The teacher types ``value`` in LibreOffice/Excel and saves: an openpyxl edit of the file in
    place. Like the UI, a locked cell of a protected tab refuses the edit, a TEXT cell keeps the
    text and a General cell turns a number into a number."""
    import openpyxl

    from sync.backends.local.backend import LocalBackend

    assert isinstance(backend, LocalBackend)
    path = backend.path(file_id)
    wb = openpyxl.load_workbook(path)
    ws = wb[tab]
    cell = ws.cell(row + 1, col + 1)
    if ws.protection.sheet and cell.protection.locked is not False:
        raise PermissionError(f"{tab}!{cell.coordinate} is protected: the teacher cannot type here")
    typed: str | int | float = value
    if cell.number_format != "@":
        for number in (int, float):
            try:
                typed = number(value.replace(",", "."))
                break
            except ValueError:
                continue
    cell.value = typed
    if isinstance(typed, str):
        cell.data_type = "s"  # typed text, never a formula
    before = path.stat().st_mtime_ns
    wb.save(path)
    saved = max(int(backend.clock().timestamp() * 1_000_000_000), before + 1_000)
    os.utime(path, ns=(saved, saved))  # saved at the backend's (simulated) time, after the last
