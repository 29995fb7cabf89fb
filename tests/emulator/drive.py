"""Drive v3 entry point: routes ``/drive/v3/...`` to the handlers and renders Drive resources.

Handlers live in ``drive_files.py`` (files.*, comments), ``drive_upload.py`` (uploads, downloads),
``drive_permissions.py`` (permissions.*) and ``drive_changes.py`` (changes.*). Each returns
``(status, json_or_None)`` or raises GoogleError.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote

from .core import GoogleEmulator
from .drive_query import apply_mask, parse_fields
from .errors import GoogleError
from .models import ROLE_RANK, SPREADSHEET_MIME, DriveFile, rfc3339

Query = dict[str, list[str]]
Handler = Callable[[GoogleEmulator, str, Query, Any, list[str]], tuple[int, Any]]

FILE_DEFAULT_FIELDS = "kind,id,name,mimeType"


def qparam(query: Query, name: str, default: str | None = None) -> str | None:
    values = query.get(name)
    return values[-1] if values else default


def qbool(query: Query, name: str, default: bool = False) -> bool:
    """Drive booleans; gspread sends Python's ``True``/``False`` spelling."""
    value = qparam(query, name)
    return default if value is None else value.lower() == "true"


def masked(payload: dict[str, Any], query: Query, default: str | None) -> dict[str, Any]:
    """Apply ``fields`` (or the method's default field set) to a response."""
    fields = qparam(query, "fields") or default
    return apply_mask(payload, parse_fields(fields)) if fields else payload


def user_json(emu: GoogleEmulator, email: str, principal: str) -> dict[str, Any]:
    return {"kind": "drive#user", "displayName": email.split("@")[0], "me": email == principal,
            "permissionId": emu.permission_id(email), "emailAddress": email}


def file_json(emu: GoogleEmulator, f: DriveFile, principal: str) -> dict[str, Any]:
    """The full ``drive#file`` resource as ``principal`` sees it (before ``fields``)."""
    role = emu.role_in(principal, f) or "reader"
    rank = ROLE_RANK[role]
    can_share = rank >= 4 or (rank == 3 and f.writers_can_share)
    out: dict[str, Any] = {
        "kind": "drive#file", "id": f.id, "name": f.name, "mimeType": f.mime_type,
        "parents": list(f.parents), "trashed": f.trashed, "explicitlyTrashed": f.trashed,
        "version": str(f.version), "createdTime": rfc3339(f.created_time),
        "modifiedTime": rfc3339(f.modified_time),
        "writersCanShare": f.writers_can_share,
        "copyRequiresWriterPermission": f.copy_requires_writer_permission,
        "shared": bool(f.permissions), "ownedByMe": f.owner == principal,
        "capabilities": {"canEdit": rank >= 3, "canShare": can_share, "canComment": rank >= 2,
                         "canCopy": rank >= 3 or not f.copy_requires_writer_permission,
                         "canDelete": rank == 5, "canTrash": rank >= 4,
                         "canRename": rank >= 3, "canDownload": rank >= 3
                         or not f.copy_requires_writer_permission},
        "webViewLink": (f"https://docs.google.com/spreadsheets/d/{f.id}/edit?usp=drivesdk"
                        if f.mime_type == SPREADSHEET_MIME
                        else f"https://drive.google.com/drive/folders/{f.id}"),
        "properties": dict(f.properties), "appProperties": dict(f.app_properties),
    }
    if f.description is not None:
        out["description"] = f.description
    if f.owner is not None:
        out["owners"] = [user_json(emu, f.owner, principal)]
    if f.drive_id is not None:
        out["driveId"] = f.drive_id
    if f.last_modifying_user:
        out["lastModifyingUser"] = user_json(emu, f.last_modifying_user, principal)
    if rank >= 3:
        perms = all_permissions(emu, f)
        out["permissions"] = perms
        out["permissionIds"] = [p["id"] for p in perms]
    return out


def all_permissions(emu: GoogleEmulator, f: DriveFile) -> list[dict[str, Any]]:
    """Direct permissions plus the owner's and (shared drives) inherited member ones."""
    out: list[dict[str, Any]] = []
    if f.owner is not None:
        out.append({"kind": "drive#permission", "id": emu.permission_id(f.owner), "type": "user",
                    "role": "owner", "emailAddress": f.owner,
                    "displayName": f.owner.split("@")[0], "deleted": False, "pendingOwner": False})
    for p in f.permissions:
        item = p.to_json()
        if f.drive_id is not None:
            item["permissionDetails"] = [{"permissionType": "file", "role": p.role,
                                          "inherited": False}]
        out.append(item)
    if f.drive_id is not None and f.drive_id in emu.drives:
        for who, role in emu.drives[f.drive_id].members.items():
            kind = "group" if who in emu.groups else "user"
            out.append({"kind": "drive#permission", "id": emu.permission_id(who), "type": kind,
                        "role": role, "emailAddress": who, "displayName": who.split("@")[0],
                        "deleted": False, "pendingOwner": False,
                        "permissionDetails": [{"permissionType": "member", "role": role,
                                               "inherited": True, "inheritedFrom": f.drive_id}]})
    return out


def not_implemented(what: str) -> GoogleError:
    """Loud 400 for Drive requests the emulator does not serve (never a silent stub)."""
    return GoogleError(400, f"emulator: {what} is not implemented", "INVALID_ARGUMENT",
                       reason="badRequest")


_ROUTES: list[tuple[str, re.Pattern[str], str]] = [
    (m, re.compile(p), h) for m, p, h in [
        ("GET", r"/drive/v3/files", "drive_files:list_files"),
        ("POST", r"/drive/v3/files", "drive_files:create"),
        ("POST", r"/upload/drive/v3/files", "drive_upload:upload"),
        ("GET", r"/drive/v3/files/([^/]+)", "drive_files:get"),
        ("PATCH", r"/drive/v3/files/([^/]+)", "drive_files:update"),
        ("DELETE", r"/drive/v3/files/([^/]+)", "drive_files:delete"),
        ("POST", r"/drive/v3/files/([^/]+)/copy", "drive_files:copy"),
        ("GET", r"/drive/v3/files/([^/]+)/comments", "drive_files:list_comments"),
        ("POST", r"/drive/v3/files/([^/]+)/comments", "drive_files:create_comment"),
        ("GET", r"/drive/v3/files/([^/]+)/permissions", "drive_permissions:list_permissions"),
        ("POST", r"/drive/v3/files/([^/]+)/permissions", "drive_permissions:create"),
        ("GET", r"/drive/v3/files/([^/]+)/permissions/([^/]+)", "drive_permissions:get"),
        ("PATCH", r"/drive/v3/files/([^/]+)/permissions/([^/]+)", "drive_permissions:update"),
        ("DELETE", r"/drive/v3/files/([^/]+)/permissions/([^/]+)", "drive_permissions:delete"),
        ("GET", r"/drive/v3/changes/startPageToken", "drive_changes:start_page_token"),
        ("GET", r"/drive/v3/changes", "drive_changes:list_changes"),
    ]
]


def handle_drive(emu: GoogleEmulator, principal: str, method: str, path: str, query: Query,
                 body: Any) -> tuple[int, Any]:
    """Serve one Drive v3 call as ``principal``."""
    path_matched = False
    for route_method, pattern, target in _ROUTES:
        m = pattern.fullmatch(path)
        if m is None:
            continue
        path_matched = True
        if route_method != method:
            continue
        module_name, func_name = target.split(":")
        module = __import__(f"{__package__}.{module_name}", fromlist=[func_name])
        handler: Handler = getattr(module, func_name)
        return handler(emu, principal, query, body, [unquote(g) for g in m.groups()])
    if path_matched:
        raise GoogleError(405, f"Method {method} is not allowed for {path}.", reason="badRequest")
    if path.startswith("/drive/v3/files/") or path.startswith("/upload/"):
        raise not_implemented(f"{method} {path}")
    raise GoogleError(404, f"The requested URL {path} was not found on this server.",
                      "NOT_FOUND")
