"""Drive v3 changes.getStartPageToken and changes.list.

Tokens are positions in ``emu.changes`` (they never expire, like Google's). A page lists each file
once, in its latest state, and only files the caller can see (removed files: if the caller could
see them when they went). Shared-drive files need ``includeItemsFromAllDrives=true``. The last
page carries ``newStartPageToken``; an idle feed answers an empty list with the same token.
Losing access (permission deleted/downgraded, file moved) is reported as ``removed`` to those who
could see the file before, when the handler passed a ``before`` snapshot to ``emu.touch``.
"""

from __future__ import annotations

from typing import Any

from .core import GoogleEmulator
from .drive import Query, file_json, masked, qbool, qparam
from .errors import GoogleError
from .models import rfc3339

CHANGES_DEFAULT_FIELDS = ("kind,nextPageToken,newStartPageToken,changes(kind,changeType,time,"
                          "removed,fileId,file(kind,id,name,mimeType))")


def start_page_token(emu: GoogleEmulator, principal: str, query: Query, _: Any, __: list[str]
                     ) -> tuple[int, Any]:
    return 200, masked({"kind": "drive#startPageToken",
                        "startPageToken": str(len(emu.changes) + 1)}, query, None)


def list_changes(emu: GoogleEmulator, principal: str, query: Query, _: Any, __: list[str]
                 ) -> tuple[int, Any]:
    token = qparam(query, "pageToken")
    if not token:
        raise GoogleError(400, "Required parameter: pageToken", reason="required",
                          location="pageToken", location_type="parameter")
    try:
        start = int(token)
        size = max(1, min(1000, int(qparam(query, "pageSize") or 100)))
    except ValueError:
        raise GoogleError(400, "Invalid Value", reason="invalid", location="pageToken",
                          location_type="parameter") from None
    if start < 1 or start > len(emu.changes) + 1:
        raise GoogleError(400, "Invalid Value", reason="invalid", location="pageToken",
                          location_type="parameter")
    all_drives = qbool(query, "includeItemsFromAllDrives")
    include_removed = qbool(query, "includeRemoved", True)
    drive_id = qparam(query, "driveId")
    window = emu.changes[start - 1:]
    latest = {c.file_id: c.seq for c in window}
    picked = []
    for change in window:
        if latest[change.file_id] != change.seq:
            continue
        f = change.snapshot if change.removed else emu.files.get(change.file_id)
        if f is None or (f.drive_id is not None and not all_drives):
            continue
        if drive_id is not None and f.drive_id != drive_id:
            continue
        removed = change.removed
        if emu.role_in(principal, f) is None:
            # lost access: reported as removed to whoever could see the file before
            before = change.snapshot
            if removed or before is None or emu.role_in(principal, before) is None:
                continue
            removed = True
        if removed and not include_removed:
            continue
        picked.append((change, f, removed))
    out: dict[str, Any] = {"kind": "drive#changeList"}
    if len(picked) > size:
        out["nextPageToken"] = str(picked[size][0].seq)
        picked = picked[:size]
    else:
        out["newStartPageToken"] = str(len(emu.changes) + 1)
    items = []
    for change, f, removed in picked:
        item: dict[str, Any] = {"kind": "drive#change", "changeType": "file",
                                "time": rfc3339(change.time), "removed": removed,
                                "fileId": change.file_id}
        if not removed:
            item["file"] = file_json(emu, f, principal)
        items.append(item)
    out["changes"] = items
    return 200, masked(out, query, CHANGES_DEFAULT_FIELDS)
