"""Offline, stateful emulator of Google Sheets v4 + Drive v3 for tests with the real gspread.

Use ``GoogleEmulator().client("teacher@school.ru")`` for a real ``gspread.Client`` acting as that
principal, or mount ``EmulatorAdapter(emu)`` on any ``requests`` session. ``python -m
tests.emulator --port 0`` serves the same core over loopback HTTP.
"""

from __future__ import annotations

from .adapter import EmulatorAdapter, RedirectAdapter, gspread_client
from .core import CallRecord, GoogleEmulator, Reply
from .errors import GoogleError
from .models import FOLDER_MIME, SPREADSHEET_MIME, Clock, DriveFile, Permission, SharedDrive

__all__ = [
    "FOLDER_MIME",
    "SPREADSHEET_MIME",
    "CallRecord",
    "Clock",
    "DriveFile",
    "EmulatorAdapter",
    "GoogleEmulator",
    "GoogleError",
    "Permission",
    "RedirectAdapter",
    "Reply",
    "SharedDrive",
    "gspread_client",
]
