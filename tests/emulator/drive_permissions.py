"""Drive v3 permissions.* (create, list, get, update, delete).

Only owner/organizer/fileOrganizer, or a writer when ``writersCanShare`` is true, may change
sharing; readers and commenters cannot even list permissions. Ids are stable per grantee. The
owner's permission and (shared drives) inherited member permissions are listed but cannot be
deleted. Role ``owner`` needs ``transferOwnership=true`` and is impossible in shared drives.
"""

from __future__ import annotations

from typing import Any

from .core import GoogleEmulator
from .drive import Query, all_permissions, masked, qbool, qparam
from .errors import GoogleError
from .models import PERMISSION_TYPES, ROLE_RANK, DriveFile, Permission

PERMISSION_DEFAULT_FIELDS = "kind,id,type,role"
_INSUFFICIENT = "The user does not have sufficient permissions for this file."


def _insufficient() -> GoogleError:
    return GoogleError(403, _INSUFFICIENT, reason="insufficientFilePermissions")


def can_share(emu: GoogleEmulator, principal: str, f: DriveFile) -> bool:
    rank = ROLE_RANK[emu.role_in(principal, f) or "reader"]
    return rank >= 4 or (rank == 3 and f.writers_can_share)


def _file(emu: GoogleEmulator, principal: str, query: Query, file_id: str, share: bool
          ) -> DriveFile:
    f = emu.file_for(principal, file_id, "reader", api="drive",
                     all_drives=qbool(query, "supportsAllDrives"))
    if share and not can_share(emu, principal, f):
        raise _insufficient()
    if not share and ROLE_RANK[emu.role_in(principal, f) or "reader"] < 3:
        raise _insufficient()
    return f


def _required(field: str) -> GoogleError:
    return GoogleError(400, f"The permission {field} field is required.", reason="required",
                       location=f"permission.{field}", location_type="other")


def _invalid(field: str, value: Any) -> GoogleError:
    return GoogleError(400, f"The value of the parameter '{field}' is invalid: {value!r}.",
                       reason="invalid", location=f"permission.{field}", location_type="other")


def create(emu: GoogleEmulator, principal: str, query: Query, body: Any, ids: list[str]
           ) -> tuple[int, Any]:
    f = _file(emu, principal, query, ids[0], share=True)
    body = body if isinstance(body, dict) else {}
    ptype, role = body.get("type"), body.get("role")
    if not ptype:
        raise _required("type")
    if ptype not in PERMISSION_TYPES:
        raise _invalid("type", ptype)
    if not role:
        raise _required("role")
    if role not in ROLE_RANK:
        raise _invalid("role", role)
    email = (body.get("emailAddress") or "").lower() or None
    domain = (body.get("domain") or "").lower() or None
    if ptype in ("user", "group") and not email:
        raise _required("emailAddress")
    if ptype == "domain" and not domain:
        raise _required("domain")
    if role in ("organizer", "fileOrganizer") and f.drive_id is None:
        raise GoogleError(403, "The organizer and fileOrganizer roles are only valid for shared "
                          "drive items.", reason="invalidSharingRequest")
    if role == "owner":
        if f.drive_id is not None:
            raise GoogleError(403, "Shared drive items cannot have an owner.",
                              reason="teamDrivesSharingRestrictionNotAllowed")
        if not qbool(query, "transferOwnership"):
            raise GoogleError(403, "The transferOwnership parameter must be enabled when the "
                              "permission role is 'owner'.", reason="forbidden",
                              location="transferOwnership", location_type="parameter")
        if ptype != "user" or ROLE_RANK[emu.role_in(principal, f) or "reader"] < 5:
            raise _insufficient()
    grantee = email or domain or "anyone"
    pid = emu.permission_id(grantee)
    if role == "owner":
        old = f.owner
        f.owner = email
        f.permissions = [p for p in f.permissions if p.id != pid]
        if old:
            f.permissions.append(Permission(emu.permission_id(old), "user", "writer", old))
        perm = Permission(pid, "user", "owner", email)
    else:
        existing = f.permission(pid)
        perm = existing or Permission(pid, ptype, role, email, domain)
        perm.role = role
        perm.allow_file_discovery = bool(body.get("allowFileDiscovery", False))
        if existing is None:
            f.permissions.append(perm)
    emu.touch(f, principal)
    return 200, masked(perm.to_json(), query, PERMISSION_DEFAULT_FIELDS)


def _find(emu: GoogleEmulator, f: DriveFile, pid: str) -> dict[str, Any]:
    for item in all_permissions(emu, f):
        if item["id"] == pid:
            return item
    raise GoogleError(404, f"Permission not found: {pid}.", reason="notFound",
                      location="permissionId", location_type="parameter")


def list_permissions(emu: GoogleEmulator, principal: str, query: Query, _: Any, ids: list[str]
                     ) -> tuple[int, Any]:
    f = _file(emu, principal, query, ids[0], share=False)
    items = all_permissions(emu, f)
    try:
        size = max(1, min(100, int(qparam(query, "pageSize") or 100)))
        start = int(qparam(query, "pageToken") or 0)
    except ValueError:
        raise GoogleError(400, "Invalid Value", reason="invalid", location="pageToken",
                          location_type="parameter") from None
    out: dict[str, Any] = {"kind": "drive#permissionList", "permissions": items[start:start + size]}
    if start + size < len(items):
        out["nextPageToken"] = str(start + size)
    return 200, masked(out, query, None)


def get(emu: GoogleEmulator, principal: str, query: Query, _: Any, ids: list[str]
        ) -> tuple[int, Any]:
    f = _file(emu, principal, query, ids[0], share=False)
    return 200, masked(_find(emu, f, ids[1]), query, PERMISSION_DEFAULT_FIELDS)


def update(emu: GoogleEmulator, principal: str, query: Query, body: Any, ids: list[str]
           ) -> tuple[int, Any]:
    f = _file(emu, principal, query, ids[0], share=True)
    _find(emu, f, ids[1])
    perm = f.permission(ids[1])
    if perm is None:
        raise GoogleError(403, "The authenticated user cannot update this permission.",
                          reason="cannotModifyInheritedPermission")
    role = (body or {}).get("role")
    if role not in ROLE_RANK or role == "owner":
        raise _invalid("role", role)
    before = f.access_snapshot()
    perm.role = role
    emu.touch(f, principal, before=before)
    return 200, masked(perm.to_json(), query, PERMISSION_DEFAULT_FIELDS)


def delete(emu: GoogleEmulator, principal: str, query: Query, _: Any, ids: list[str]
           ) -> tuple[int, Any]:
    f = _file(emu, principal, query, ids[0], share=True)
    item = _find(emu, f, ids[1])
    if item["role"] == "owner":
        raise GoogleError(403, "The owner of a file cannot be removed.",
                          reason="cannotRemoveOwner")
    perm = f.permission(ids[1])
    if perm is None:
        raise GoogleError(403, "The authenticated user cannot delete an inherited permission.",
                          reason="cannotDeletePermission")
    before = f.access_snapshot()
    f.permissions.remove(perm)
    emu.touch(f, principal, before=before)
    return 204, None
