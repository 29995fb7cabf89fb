"""GoogleEmulator: state, principals, access rules, routing, clock, quotas, faults and counters.

Contract for the Sheets half (``sheets.py`` / ``spreadsheet.py``)
-----------------------------------------------------------------
* Routing: every request for host ``sheets.googleapis.com`` (or a path starting
  ``/v4/spreadsheets``) goes to
  ``tests.emulator.sheets.handle_sheets(emu, principal, method, path, query, body)``
  with ``path`` the raw percent-encoded path after ``/v4/spreadsheets`` ("" for
  spreadsheets.create, "/ID", "/ID:batchUpdate", "/ID/values/%27S%27%21A1", ...), ``query`` from
  ``parse_qs(keep_blank_values=True)`` and ``body`` the decoded JSON or None. It returns
  ``(status, json_body_or_None)`` and may raise ``GoogleError``. Quotas, faults and counters are
  applied here before the call; the Sheets half must not count anything itself.
* Access: ``emu.file_for(principal, spreadsheet_id, need)`` returns the ``DriveFile`` or raises
  Sheets' 404 NOT_FOUND (no such file) / 403 PERMISSION_DENIED (exists but no or too weak a role);
  ``need`` is "reader", "commenter", "writer" or "owner" ("owner" is satisfied by owner and the
  shared-drive organizer). ``emu.role_of(principal, file_id)`` gives the effective role or None.
* ``emu.create_file(principal, name, mime_type, parents=None, **kw)`` creates a Drive file (in the
  principal's My Drive when ``parents`` is None); for the spreadsheet mime type it calls
  ``Spreadsheet.new(id, name)`` unless ``spreadsheet=`` is passed in ``kw``.
* ``emu.touch(file)``: call after every content change; bumps ``version`` and ``modifiedTime``,
  records ``lastModifyingUser`` (the current caller) and appends to the changes feed.
  (``before=file.access_snapshot()`` is only for access changes: it makes the feed report the
  file as removed to those who lost access.)
* Concurrency: transports hold ``emu.lock`` (an RLock) around ``emu.handle``; handlers need no
  locking of their own.
* Titles: Drive renames set ``file.spreadsheet.title``; Sheets renames must set ``file.name``.
* ``emu.new_id(kind)``: "file"/"spreadsheet" 44 chars, "folder" 33, "drive" 19, "permission"
  20 digits, "int" a decimal string < 2**31 (sheetId, protectedRangeId).
* ``emu.clock`` (``now()`` tz-aware UTC), ``emu.service_principal``, ``emu.files``
  (id -> DriveFile).
"""

from __future__ import annotations

import json
import logging
import random
import string
import threading
import traceback
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, NamedTuple
from urllib.parse import parse_qs, urlsplit

from .errors import GoogleError, drive_file_not_found, sheets_not_found, sheets_permission_denied
from .models import (
    FOLDER_MIME,
    ROLE_RANK,
    SPREADSHEET_MIME,
    Change,
    Clock,
    DriveFile,
    Permission,
    SharedDrive,
)
from .quota import Faults, Quotas, fault_error, storage_quota_error

log = logging.getLogger("tests.emulator")

SHEETS_HOST = "sheets.googleapis.com"
DRIVE_HOST = "www.googleapis.com"
_ID_CHARS = string.ascii_letters + string.digits + "-_"
_NEED_RANK = {"reader": 1, "commenter": 2, "writer": 3, "fileOrganizer": 4, "owner": 5,
              "organizer": 5}


class CallRecord(NamedTuple):
    principal: str
    method: str
    path: str
    status: int


@dataclass
class Reply:
    """What the transport sends back; ``raise_`` asks it to fail instead (timeouts, resets)."""

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    raise_: str | None = None

    def json(self) -> Any:
        return json.loads(self.body) if self.body else None


def classify(api: str, method: str, path: str) -> str:
    """Quota kind of a call: "sheets_read", "sheets_write" or "drive"."""
    if api == "drive":
        return "drive"
    if method == "GET" or path.endswith((":search", "DataFilter")):
        return "sheets_read"
    return "sheets_write"


class GoogleEmulator:
    """Offline, stateful Sheets v4 + Drive v3; see the module docstring for the Sheets contract."""

    def __init__(self, *, service_principal: str = "service@ejournal.iam.gserviceaccount.com",
                 per_user_quota: int = 60, per_project_quota: int = 300,
                 drive_quota: int = 12000, quotas: bool = True, seed: int = 0,
                 start: datetime | None = None, sa_storage_quota: bool = False) -> None:
        self.service_principal = service_principal
        self._start = start
        self.clock = Clock(start)
        self.quotas = Quotas(self.clock, per_user_quota, per_project_quota, drive_quota, quotas)
        self.faults = Faults()
        #: When True, service accounts cannot own files in My Drive (403 storageQuotaExceeded).
        self.sa_storage_quota = sa_storage_quota
        self._rng = random.Random(seed)
        self.files: dict[str, DriveFile] = {}
        self.drives: dict[str, SharedDrive] = {}
        self.groups: dict[str, set[str]] = {}
        self.changes: list[Change] = []
        self._perm_ids: dict[str, str] = {}
        self._roots: dict[str, str] = {}
        self.calls: dict[str, Counter[str]] = {}
        self.log: list[CallRecord] = []
        self.bugs: list[str] = []
        self.current_principal: str | None = None
        #: Serialises transports sharing this emulator (adapters of several clients, server).
        self.lock = threading.RLock()

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        del state["lock"]
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self.lock = threading.RLock()

    def reset(self) -> None:
        """Forget all files, drives, groups, changes, counters, faults and quota use."""
        self.clock.set(Clock(self._start).now())
        for store in (self.files, self.drives, self.groups, self._perm_ids, self._roots,
                      self.calls):
            store.clear()
        self.changes.clear()
        self.log.clear()
        self.bugs.clear()
        self.faults.clear()
        self.quotas.reset()

    # ---- ids, clock, principals -------------------------------------------------------------

    def new_id(self, kind: str = "file") -> str:
        """A fresh Google-looking id (see module docstring for the kinds)."""
        rng = self._rng
        if kind == "permission":
            return "".join(rng.choice(string.digits) for _ in range(20))
        if kind == "int":
            return str(rng.randrange(1, 2**31 - 1))
        if kind == "drive":
            return "0A" + "".join(rng.choice(_ID_CHARS[:62]) for _ in range(11)) + "Uk9PVA"
        length = 33 if kind == "folder" else 44
        while True:
            new = "1" + "".join(rng.choice(_ID_CHARS) for _ in range(length - 1))
            if new not in self.files:
                return new

    def permission_id(self, grantee: str) -> str:
        """Stable permission id per grantee (e-mail, domain or "anyone"), like Google's."""
        if grantee == "anyone":
            return "anyoneWithLink"
        pid = self._perm_ids.get(grantee.lower())
        if pid is None:
            pid = self._perm_ids[grantee.lower()] = self.new_id("permission")
        return pid

    def root_id(self, principal: str) -> str:
        """Id of the principal's My Drive root folder (usable in ``'…' in parents``)."""
        rid = self._roots.get(principal)
        if rid is None:
            rid = self._roots[principal] = "0A" + self.new_id("drive")[2:13] + "Uk9PVA"
        return rid

    def add_group(self, email: str, members: list[str]) -> None:
        """Declare a Google group so ``type=group`` permissions reach its members."""
        self.groups.setdefault(email.lower(), set()).update(m.lower() for m in members)

    def create_shared_drive(self, name: str, organizers: list[str] | None = None) -> str:
        """Create a shared drive; its id works as a folder id in ``parents``."""
        drive = SharedDrive(self.new_id("drive"), name, created_time=self.clock.now())
        for who in organizers or [self.service_principal]:
            drive.members[who.lower()] = "organizer"
        self.drives[drive.id] = drive
        return drive.id

    def add_drive_member(self, drive_id: str, principal: str, role: str) -> None:
        if role not in ROLE_RANK or role == "owner":
            raise ValueError(f"bad shared drive role {role!r}")
        self.drives[drive_id].members[principal.lower()] = role

    # ---- access -----------------------------------------------------------------------------

    def _grants(self, principal: str, perm: Permission) -> bool:
        if perm.type == "anyone":
            return True
        if perm.type == "domain":
            return principal.rpartition("@")[2] == (perm.domain or "").lower()
        email = (perm.email_address or "").lower()
        if perm.type == "user":
            return email == principal
        return principal in self.groups.get(email, ())

    def role_in(self, principal: str, file: DriveFile) -> str | None:
        """Effective role of ``principal`` on ``file`` (owner, direct, inherited, shared drive)."""
        principal = principal.lower()
        if file.owner is not None and file.owner.lower() == principal:
            return "owner"
        best, rank = None, 0
        seen: set[str] = set()
        node: DriveFile | None = file
        pending = [file]
        while pending:
            node = pending.pop()
            if node.id in seen:
                continue
            seen.add(node.id)
            if node.owner is not None and node.owner.lower() == principal and node is not file:
                best, rank = "writer", max(rank, 3)  # folder owners edit what is inside
            for perm in node.permissions:
                if ROLE_RANK[perm.role] > rank and self._grants(principal, perm):
                    best, rank = perm.role, ROLE_RANK[perm.role]
            pending.extend(self.files[p] for p in node.parents if p in self.files)
        if file.drive_id is not None and file.drive_id in self.drives:
            for who, role in self.drives[file.drive_id].members.items():
                if ROLE_RANK[role] > rank and (who == principal or principal in
                                               self.groups.get(who, ())):
                    best, rank = role, ROLE_RANK[role]
        return best

    def role_of(self, principal: str, file_id: str) -> str | None:
        file = self.files.get(file_id)
        return None if file is None else self.role_in(principal, file)

    def file_for(self, principal: str, file_id: str, need: str, *, api: str = "sheets",
                 all_drives: bool = True) -> DriveFile:
        """The file if ``principal`` has at least ``need``; otherwise the API's error."""
        file = self.files.get(file_id)
        role = None if file is None else self.role_in(principal, file)
        if api == "drive":
            if file is None or role is None or (file.drive_id and not all_drives):
                raise drive_file_not_found(file_id)
            if ROLE_RANK[role] < _NEED_RANK[need]:
                raise GoogleError(403, "The user does not have sufficient permissions for this "
                                  "file.", reason="insufficientFilePermissions")
            return file
        if file is None:
            raise sheets_not_found()
        if role is None or ROLE_RANK[role] < _NEED_RANK[need]:
            raise sheets_permission_denied()
        if file.spreadsheet is None:  # a folder or other Drive file opened with the Sheets API
            raise GoogleError(400, "This operation is not supported for this document",
                              "FAILED_PRECONDITION")
        return file

    # ---- mutations shared by both halves ----------------------------------------------------

    def create_file(self, principal: str, name: str, mime_type: str,
                    parents: list[str] | None = None, **kw: Any) -> DriveFile:
        """Create a file as ``principal``; a shared-drive parent makes the drive its owner."""
        parent = (parents or [self.root_id(principal)])[0]
        if parent == "root":
            parent = self.root_id(principal)
        drive_id: str | None = None
        if parent in self.drives:
            drive_id = parent
        elif parent in self.files:
            drive_id = self.files[parent].drive_id
        if drive_id is None and self.sa_storage_quota and principal.endswith(
                ".iam.gserviceaccount.com"):
            raise storage_quota_error()
        now = self.clock.now()
        spreadsheet = kw.pop("spreadsheet", None)
        kind = "folder" if mime_type == FOLDER_MIME else "file"
        file = DriveFile(id=kw.pop("id", None) or self.new_id(kind), name=name,
                         mime_type=mime_type, parents=[parent],
                         owner=None if drive_id else principal, created_time=now,
                         modified_time=now, drive_id=drive_id, last_modifying_user=principal,
                         **kw)
        if mime_type == SPREADSHEET_MIME:
            if spreadsheet is None:
                from .spreadsheet import Spreadsheet
                spreadsheet = Spreadsheet.new(file.id, name)
            file.spreadsheet = spreadsheet
        self.files[file.id] = file
        self._record_change(file)
        return file

    def touch(self, file: DriveFile, principal: str | None = None,
              before: DriveFile | None = None) -> None:
        """Record a change of ``file``: version+1, modifiedTime=now, changes feed entry.

        ``modifiedTime`` moves forward on every change even while the emulator's clock stands
        still (by a millisecond, Drive's resolution), as real Drive's does. ``before`` (a copy
        taken before an access change) lets the feed report the file as removed to principals who
        could see it before and cannot any more.
        """
        file.version += 1
        file.modified_time = max(self.clock.now(), file.modified_time + timedelta(milliseconds=1))
        file.last_modifying_user = principal or self.current_principal or file.last_modifying_user
        self._record_change(file, before=before)

    def _record_change(self, file: DriveFile, removed: bool = False,
                       before: DriveFile | None = None) -> None:
        self.changes.append(Change(len(self.changes) + 1, file.id, self.clock.now(), removed,
                                   file if removed else before))

    def remove_file(self, file: DriveFile) -> None:
        """Delete ``file`` and everything inside it; the feed reports them as removed."""
        doomed = [file]
        while doomed:
            victim = doomed.pop()
            if self.files.pop(victim.id, None) is None:
                continue
            self._record_change(victim, removed=True)
            doomed.extend(f for f in self.files.values() if victim.id in f.parents)

    # ---- counters ---------------------------------------------------------------------------

    def calls_total(self, kind: str | None = None, principal: str | None = None) -> int:
        """Number of API calls made (faulted and rejected ones included)."""
        total = 0
        for who, counter in self.calls.items():
            if principal is None or who == principal:
                total += counter[kind] if kind else sum(counter.values())
        return total

    def reset_counters(self) -> None:
        self.calls.clear()
        self.log.clear()
        self.faults.delivered.clear()

    # ---- transport entry point --------------------------------------------------------------

    def handle(self, method: str, url: str, headers: dict[str, str] | Any,
               body: bytes | str | None) -> Reply:
        """Serve one HTTP request (absolute URL or path) and return the reply."""
        from .router import dispatch
        return dispatch(self, method.upper(), url, headers, body)

    def client(self, principal: str, **kw: Any) -> Any:
        """A real ``gspread.Client`` acting as ``principal`` through an in-process adapter."""
        from .adapter import gspread_client
        return gspread_client(self, principal, **kw)


def parse_url(url: str) -> tuple[str, str, dict[str, list[str]]]:
    """(host, raw path, query) of an absolute URL or a bare path."""
    parts = urlsplit(url)
    return parts.hostname or "", parts.path, parse_qs(parts.query, keep_blank_values=True)


def error_reply(err: GoogleError) -> Reply:
    return Reply(err.code, json.dumps(err.body()).encode(),
                 {"Content-Type": "application/json; charset=UTF-8", **err.headers})


def bug_reply(emu: GoogleEmulator, where: str) -> Reply:
    """A handler crashed: 500 to the client, traceback to the log and ``emu.bugs`` only."""
    tb = traceback.format_exc()
    emu.bugs.append(tb)
    log.error("emulator bug while serving %s\n%s", where, tb)
    return error_reply(GoogleError(500, "Internal error encountered.", "INTERNAL"))


__all__ = ["CallRecord", "GoogleEmulator", "Reply", "classify", "error_reply", "fault_error",
           "parse_url"]
