"""Drive v3 files.* (create, get, list, update, copy, delete) and the comments gspread's copy uses.

Rules (https://developers.google.com/drive/api/reference/rest/v3/files): a file has one parent;
creating or copying into a folder needs writer on it; shared-drive files answer only with
``supportsAllDrives=true`` and are listed only with ``includeItemsFromAllDrives=true``; renaming
needs writer, ``writersCanShare`` the owner/organizer, trashing fileOrganizer+, deleting
owner/organizer. Every change goes through ``emu.touch`` (version, modifiedTime, changes feed).
"""

from __future__ import annotations

import base64
from typing import Any

from .core import GoogleEmulator
from .drive import FILE_DEFAULT_FIELDS, Query, file_json, masked, qbool, qparam
from .drive_query import compile_q
from .errors import GoogleError, drive_file_not_found
from .models import FOLDER_MIME, ROLE_RANK, SPREADSHEET_MIME, DriveFile

WRITABLE = {"name", "description", "mimeType", "starred", "trashed", "writersCanShare",
            "copyRequiresWriterPermission", "properties", "appProperties", "parents"}


def _field_not_writable(name: str) -> GoogleError:
    return GoogleError(403, f"The resource body includes fields which are not directly writable. "
                       f"({name})", reason="fieldNotWritable")


def _check_body(body: Any, allowed: set[str]) -> dict[str, Any]:
    if body is None:
        return {}
    if not isinstance(body, dict):
        raise GoogleError(400, "Invalid JSON payload received.", reason="parseError")
    for key in body:
        if key not in allowed:
            raise _field_not_writable(key)
    return body


def _parent_for(emu: GoogleEmulator, principal: str, parents: Any, all_drives: bool) -> list[str]:
    """Validate a ``parents`` list: one parent, visible and writable by ``principal``."""
    if not parents:
        return [emu.root_id(principal)]
    if not isinstance(parents, list) or len(parents) > 1:
        raise GoogleError(403, "Increasing the number of parents is not allowed.",
                          reason="cannotAddParent")
    parent = parents[0]
    if parent in ("root", emu.root_id(principal)):
        return [emu.root_id(principal)]
    drive = emu.drives.get(parent)
    if drive is not None:
        role = drive.members.get(principal) or next(
            (r for g, r in drive.members.items() if principal in emu.groups.get(g, ())), None)
        if role is None or not all_drives:
            raise drive_file_not_found(parent)
        if ROLE_RANK[role] < 3:
            raise GoogleError(403, "The user does not have sufficient permissions for this file.",
                              reason="insufficientFilePermissions")
        return [parent]
    folder = emu.file_for(principal, parent, "writer", api="drive", all_drives=all_drives)
    if folder.mime_type != FOLDER_MIME:
        raise GoogleError(400, "The specified parent is not a folder.", reason="invalidParent")
    return [parent]


def _apply_meta(f: DriveFile, body: dict[str, Any]) -> None:
    if "description" in body:
        f.description = body["description"]
    if body.get("writersCanShare") is not None:
        f.writers_can_share = bool(body["writersCanShare"])
    if body.get("copyRequiresWriterPermission") is not None:
        f.copy_requires_writer_permission = bool(body["copyRequiresWriterPermission"])
    for key, attr in (("properties", "properties"), ("appProperties", "app_properties")):
        if isinstance(body.get(key), dict):
            target = getattr(f, attr)
            for k, v in body[key].items():
                if v is None:
                    target.pop(k, None)
                else:
                    target[k] = str(v)


def create(emu: GoogleEmulator, principal: str, query: Query, body: Any, _: list[str]
           ) -> tuple[int, Any]:
    body = _check_body(body, WRITABLE)
    all_drives = qbool(query, "supportsAllDrives")
    parents = _parent_for(emu, principal, body.get("parents"), all_drives)
    mime = body.get("mimeType") or "application/octet-stream"
    name = body.get("name") or "Untitled"
    f = emu.create_file(principal, name, mime, parents)
    _apply_meta(f, body)
    return 200, masked(file_json(emu, f, principal), query, FILE_DEFAULT_FIELDS)


def get(emu: GoogleEmulator, principal: str, query: Query, _: Any, ids: list[str]
        ) -> tuple[int, Any]:
    if qparam(query, "alt") == "media":
        from .drive_upload import download

        return 200, download(emu, principal, query, ids[0])
    f = emu.file_for(principal, ids[0], "reader", api="drive",
                     all_drives=qbool(query, "supportsAllDrives"))
    return 200, masked(file_json(emu, f, principal), query, FILE_DEFAULT_FIELDS)


def list_files(emu: GoogleEmulator, principal: str, query: Query, _: Any, __: list[str]
               ) -> tuple[int, Any]:
    q = qparam(query, "q") or ""
    match = compile_q(q, lambda ref: emu.root_id(principal) if ref == "root" else ref)
    try:
        size = max(1, min(1000, int(qparam(query, "pageSize") or 100)))
        start = int(base64.urlsafe_b64decode(qparam(query, "pageToken") or "MA==").decode())
    except ValueError:
        raise GoogleError(400, "Invalid Value", reason="invalid", location="pageToken",
                          location_type="parameter") from None
    all_drives = qbool(query, "includeItemsFromAllDrives")
    corpora = qparam(query, "corpora") or "user"
    drive_id = qparam(query, "driveId")
    if corpora == "drive" and (not drive_id or not all_drives):
        raise GoogleError(403, "The includeItemsFromAllDrives parameter must be set to true "
                          "when corpora is drive.", reason="teamDriveIdRequiresIncludeItems")
    hits = [f for f in emu.files.values()
            if (f.drive_id is None or all_drives) and (drive_id is None or f.drive_id == drive_id)
            and match(f) and emu.role_in(principal, f) is not None]
    order = qparam(query, "orderBy")
    if order:
        key, _sp, direction = order.partition(" ")
        attr = {"modifiedTime": "modified_time", "createdTime": "created_time",
                "name": "name"}.get(key)
        if attr is None:
            raise GoogleError(400, "Invalid Value", reason="invalid", location="orderBy",
                              location_type="parameter")
        hits.sort(key=lambda f: getattr(f, attr), reverse=direction == "desc")
    page = hits[start:start + size]
    out: dict[str, Any] = {"kind": "drive#fileList", "incompleteSearch": False}
    if start + size < len(hits):
        out["nextPageToken"] = base64.urlsafe_b64encode(str(start + size).encode()).decode()
    out["files"] = [file_json(emu, f, principal) for f in page]
    return 200, masked(out, query, "kind,incompleteSearch,nextPageToken,files(kind,id,name,"
                                    "mimeType)")


def update(emu: GoogleEmulator, principal: str, query: Query, body: Any, ids: list[str]
           ) -> tuple[int, Any]:
    body = _check_body(body, WRITABLE - {"parents"})
    all_drives = qbool(query, "supportsAllDrives")
    f = emu.file_for(principal, ids[0], "reader", api="drive", all_drives=all_drives)
    rank = ROLE_RANK[emu.role_in(principal, f) or "reader"]
    need = 3
    if "writersCanShare" in body:
        need = 5 if f.drive_id is None else 4
    if "trashed" in body:
        need = max(need, 5 if f.drive_id is None else 4)
    if rank < need:
        raise GoogleError(403, "The user does not have sufficient permissions for this file.",
                          reason="insufficientFilePermissions")
    before = f.access_snapshot()
    add = [p for p in (qparam(query, "addParents") or "").split(",") if p]
    remove = [p for p in (qparam(query, "removeParents") or "").split(",") if p]
    if add or remove:
        new_parents = [p for p in f.parents if p not in remove]
        for p in add:
            _parent_for(emu, principal, [p], all_drives)
            new_parents.append(p if p != "root" else emu.root_id(principal))
        if len(new_parents) != 1:
            raise GoogleError(403, "Increasing the number of parents is not allowed.",
                              reason="cannotAddParent")
        f.parents = new_parents
    if body.get("name") is not None:
        f.name = body["name"]
        if f.spreadsheet is not None:
            f.spreadsheet.title = f.name
    if body.get("trashed") is not None:
        f.trashed = bool(body["trashed"])
    _apply_meta(f, body)
    emu.touch(f, principal, before=before)
    return 200, masked(file_json(emu, f, principal), query, FILE_DEFAULT_FIELDS)


def copy(emu: GoogleEmulator, principal: str, query: Query, body: Any, ids: list[str]
         ) -> tuple[int, Any]:
    body = _check_body(body, WRITABLE)
    all_drives = qbool(query, "supportsAllDrives")
    src = emu.file_for(principal, ids[0], "reader", api="drive", all_drives=all_drives)
    if src.mime_type == FOLDER_MIME:
        raise GoogleError(403, "This file cannot be copied by the user.",
                          reason="cannotCopyFile")
    if src.copy_requires_writer_permission and ROLE_RANK[emu.role_in(principal, src) or
                                                         "reader"] < 3:
        raise GoogleError(403, "The user does not have sufficient permissions for this file.",
                          reason="insufficientFilePermissions")
    parents = body.get("parents") or [p for p in src.parents if p != emu.root_id(src.owner or "")]
    parents = _parent_for(emu, principal, parents, all_drives)
    name = body.get("name") or f"Copy of {src.name}"
    new_id = emu.new_id("file")
    sheet = src.spreadsheet.copy(new_id, name) if src.spreadsheet is not None else None
    mime = src.mime_type if src.mime_type == SPREADSHEET_MIME else body.get("mimeType",
                                                                            src.mime_type)
    f = emu.create_file(principal, name, mime, parents, id=new_id, spreadsheet=sheet,
                        copy_requires_writer_permission=src.copy_requires_writer_permission,
                        writers_can_share=src.writers_can_share)
    _apply_meta(f, body)
    return 200, masked(file_json(emu, f, principal), query, FILE_DEFAULT_FIELDS)


def delete(emu: GoogleEmulator, principal: str, query: Query, _: Any, ids: list[str]
           ) -> tuple[int, Any]:
    f = emu.file_for(principal, ids[0], "reader", api="drive",
                     all_drives=qbool(query, "supportsAllDrives"))
    if ROLE_RANK[emu.role_in(principal, f) or "reader"] < 5:
        raise GoogleError(403, "The user does not have sufficient permissions for this file.",
                          reason="insufficientFilePermissions")
    emu.remove_file(f)
    return 204, None


def list_comments(emu: GoogleEmulator, principal: str, query: Query, _: Any, ids: list[str]
                  ) -> tuple[int, Any]:
    f = emu.file_for(principal, ids[0], "reader", api="drive")
    return 200, masked({"kind": "drive#commentList", "comments": list(f.comments)}, query, None)


def create_comment(emu: GoogleEmulator, principal: str, query: Query, body: Any,
                   ids: list[str]) -> tuple[int, Any]:
    f = emu.file_for(principal, ids[0], "commenter", api="drive")
    if not isinstance(body, dict) or not body.get("content"):
        raise GoogleError(400, "Required parameter: content", reason="required",
                          location="content", location_type="parameter")
    comment = {"kind": "drive#comment", "id": emu.new_id("permission")[:11],
               "content": body["content"], "anchor": body.get("anchor")}
    f.comments.append(comment)
    emu.touch(f, principal)
    return 200, masked(comment, query, None)
