"""Drive v3 calls of the ``google`` backend: the change feed, file metadata and sharing.

They need only the backend's JSON call (``GoogleBackend._call``, retries and error mapping
included) and its principal; :class:`sync.backends.google.backend.GoogleBackend` delegates to them. Call
budgets are listed in ``sync.backends.google.backend``.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from datetime import datetime
from typing import Any, Protocol
from urllib.parse import quote

from gspread.urls import DRIVE_FILES_API_V3_URL

from rules.errors import BackendError
from sync.backends.protocol import FileInfo, Grant, Role

DRIVE_CHANGES_URL = "https://www.googleapis.com/drive/v3/changes"
FILE_FIELDS = "id,name,version,modifiedTime,trashed,lastModifyingUser(emailAddress,me)"
CHANGE_FIELDS = ("nextPageToken,newStartPageToken,changes(fileId,removed,time,file(name,"
                 "modifiedTime,version,trashed,permissionIds,lastModifyingUser(emailAddress,me)))")
GRANTABLE = (Role.READER, Role.COMMENTER, Role.WRITER)
ALL_DRIVES = {"supportsAllDrives": "true"}


class Call(Protocol):
    """One Google API request answering a JSON object (``GoogleBackend._call``)."""

    def __call__(self, method: str, url: str, params: Mapping[str, Any] | None = None,
                 body: Mapping[str, Any] | None = None) -> dict[str, Any]: ...


def file_url(file_id: str) -> str:
    """Drive's URL of one file."""
    return f"{DRIVE_FILES_API_V3_URL}/{quote(file_id, safe='')}"


def file_info(file_id: str, f: Mapping[str, Any], mine: Collection[str],
              removed: bool = False) -> FileInfo:
    """A Drive file resource (``FILE_FIELDS``) as :class:`FileInfo`; ``by_me``: the last change
    was made by one of the service's principals ``mine`` (lower-case e-mails: it and its pool)."""
    user = f.get("lastModifyingUser") or {}
    by_me = bool(user.get("me")) or str(user.get("emailAddress", "")).lower() in mine
    ids = f.get("permissionIds")
    return FileInfo(id=file_id, name=str(f.get("name", "")), version=str(f.get("version", "")),
                    modified=_when(f.get("modifiedTime")), by_me=by_me,
                    removed=removed or bool(f.get("trashed")),
                    modified_by=str(user.get("emailAddress", "")).lower(),
                    permission_ids=None if ids is None else tuple(sorted(map(str, ids))))


def start_token(call: Call) -> str:
    data = call("get", DRIVE_CHANGES_URL + "/startPageToken", ALL_DRIVES)
    return str(data["startPageToken"])


def changes(call: Call, token: str, mine: Collection[str]) -> tuple[list[FileInfo], str]:
    """Changed files since ``token`` (latest state per file) and the next token."""
    found: dict[str, FileInfo] = {}
    page: str | None = token
    while page is not None:
        data = call("get", DRIVE_CHANGES_URL, {
            "pageToken": page, "pageSize": 1000, "includeItemsFromAllDrives": "true",
            "supportsAllDrives": "true", "fields": CHANGE_FIELDS})
        for change in data.get("changes", []):
            fid = change["fileId"]
            found.pop(fid, None)  # keep the order of the latest change
            found[fid] = file_info(fid, change.get("file") or {}, mine,
                                   bool(change.get("removed")))
        if "newStartPageToken" in data:
            return list(found.values()), str(data["newStartPageToken"])
        page = data.get("nextPageToken")
    raise BackendError("Drive's change list ended without a newStartPageToken")


def grants(call: Call, file_id: str) -> list[Grant]:
    """Everyone the file is shared with (100 per Drive call)."""
    out: list[Grant] = []
    page: str | None = None
    url = file_url(file_id) + "/permissions"
    while True:
        params = {**ALL_DRIVES, "pageSize": 100, "fields": "nextPageToken,permissions(id,"
                  "type,role,emailAddress,domain,permissionDetails(inherited))"}
        if page:
            params["pageToken"] = page
        data = call("get", url, params)
        for p in data.get("permissions", []):
            kind = p.get("type", "user")
            email = p.get("emailAddress") or p.get("domain") or kind
            inherited = any(d.get("inherited") for d in p.get("permissionDetails", []))
            out.append(Grant(str(p["id"]), str(email), Role(p["role"]), kind, inherited))
        page = data.get("nextPageToken")
        if not page:
            return out


def grant(call: Call, file_id: str, email: str, role: Role) -> Grant:
    """Share with one Google account, without a notification e-mail; never ``anyone``."""
    role = Role(role)
    if role not in GRANTABLE:
        raise BackendError(f"refusing to grant role {role.value!r} on file {file_id}",
                           hint="only reader, commenter and writer are granted per file")
    address = email.strip()
    if "@" not in address or any(c.isspace() for c in address) or address.startswith("@"):
        raise BackendError(f"refusing to share file {file_id} with {address!r}: not an "
                           "e-mail address (files are never shared with anyone or domains)")
    data = call(
        "post", file_url(file_id) + "/permissions",
        {**ALL_DRIVES, "sendNotificationEmail": "false", "fields": "id,type,role,emailAddress"},
        {"type": "user", "role": role.value, "emailAddress": address})
    return Grant(str(data["id"]), str(data.get("emailAddress", address)),
                 Role(data.get("role", role.value)), str(data.get("type", "user")))


def revoke(call: Call, file_id: str, grant_id: str) -> None:
    call("delete", f"{file_url(file_id)}/permissions/{quote(grant_id, safe='')}", ALL_DRIVES)


def _when(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None
