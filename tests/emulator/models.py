"""Plain state objects of the emulated Drive: clock, files, permissions, shared drives, changes.

No behaviour beyond small helpers; the rules live in ``core.py`` (access) and ``drive_*.py`` (API).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

FOLDER_MIME = "application/vnd.google-apps.folder"
SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"

#: Drive roles from weakest to strongest; "owner" and "organizer" are both top level.
ROLE_RANK: dict[str, int] = {
    "reader": 1,
    "commenter": 2,
    "writer": 3,
    "fileOrganizer": 4,
    "organizer": 5,
    "owner": 5,
}
PERMISSION_TYPES = ("user", "group", "domain", "anyone")


def rfc3339(dt: datetime) -> str:
    """Drive/Sheets timestamp form: ``2023-08-17T10:52:55.207Z``."""
    dt = dt.astimezone(UTC)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + f"{dt.microsecond // 1000:03d}Z"


def parse_rfc3339(text: str) -> datetime:
    """Parse an RFC 3339 timestamp; a missing offset means UTC (as Drive's ``q`` does)."""
    dt = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return dt if dt.tzinfo else dt.replace(tzinfo=UTC)


class Clock:
    """Controllable UTC clock shared by quotas, timestamps and the changes feed."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2024, 9, 2, 6, 0, tzinfo=UTC)
        if self._now.tzinfo is None:
            raise ValueError("Clock needs a tz-aware datetime")

    def now(self) -> datetime:
        return self._now

    def advance(self, seconds: float) -> datetime:
        self._now += timedelta(seconds=seconds)
        return self._now

    def set(self, dt: datetime) -> datetime:
        if dt.tzinfo is None:
            raise ValueError("Clock needs a tz-aware datetime")
        self._now = dt.astimezone(UTC)
        return self._now


@dataclass
class Permission:
    """One Drive permission; ``id`` is stable per grantee (as Google's are)."""

    id: str
    type: str  # user | group | domain | anyone
    role: str  # owner | organizer | fileOrganizer | writer | commenter | reader
    email_address: str | None = None
    domain: str | None = None
    allow_file_discovery: bool = False

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"kind": "drive#permission", "id": self.id, "type": self.type,
                               "role": self.role}
        if self.email_address:
            out["emailAddress"] = self.email_address
            out["displayName"] = self.email_address.split("@")[0]
        if self.domain:
            out["domain"] = self.domain
        if self.type in ("domain", "anyone"):
            out["allowFileDiscovery"] = self.allow_file_discovery
        out["deleted"] = False
        out["pendingOwner"] = False
        return out


@dataclass
class DriveFile:
    """A Drive file or folder; ``spreadsheet`` holds the Sheets state for spreadsheets."""

    id: str
    name: str
    mime_type: str
    parents: list[str]
    owner: str | None  # None for files that live in a shared drive (owned by the drive)
    created_time: datetime
    modified_time: datetime
    permissions: list[Permission] = field(default_factory=list)
    version: int = 1
    trashed: bool = False
    writers_can_share: bool = True
    copy_requires_writer_permission: bool = False
    drive_id: str | None = None
    description: str | None = None
    last_modifying_user: str | None = None
    properties: dict[str, str] = field(default_factory=dict)
    app_properties: dict[str, str] = field(default_factory=dict)
    comments: list[dict[str, Any]] = field(default_factory=list)
    spreadsheet: Any = None
    content: bytes | None = None  # an uploaded file's bytes (drive_upload)

    def permission(self, permission_id: str) -> Permission | None:
        return next((p for p in self.permissions if p.id == permission_id), None)

    def access_snapshot(self) -> DriveFile:
        """A shallow copy with its own permission list and parents (for the changes feed)."""
        return replace(self, permissions=[replace(p) for p in self.permissions],
                       parents=list(self.parents), spreadsheet=None)


@dataclass
class SharedDrive:
    """A shared drive: members get their role on every file inside it."""

    id: str
    name: str
    members: dict[str, str] = field(default_factory=dict)  # principal/group e-mail -> role
    created_time: datetime | None = None


@dataclass
class Change:
    """One entry of the Drive changes feed.

    ``snapshot`` is the removed file (``removed``) or the file as it was before an access change,
    so the feed can tell who could see it.
    """

    seq: int
    file_id: str
    time: datetime
    removed: bool = False
    snapshot: DriveFile | None = None
