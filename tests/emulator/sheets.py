"""Sheets v4 entry point: route a request to spreadsheets.* / values.* / developerMetadata.*.

Every call resolves the Drive file first (``emu.file_for``: 404/403 as Google), reads need
"reader", changes need "writer". Cell edits by plain writers go through the protection guard
(``sheets_protect``). Every successful change calls ``emu.touch(file)``; reads never do.
"""

from __future__ import annotations

import copy
from typing import Any
from urllib.parse import unquote

from . import sheets_meta, sheets_values
from .errors import GoogleError, invalid_argument
from .sheets_batch import batch_update
from .sheets_protect import make_guard
from .spreadsheet import Sheet, Spreadsheet, new_sheet_props

SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"


def _route_error(method: str, path: str) -> GoogleError:
    return GoogleError(404, f"emulator: no Sheets route for {method} /v4/spreadsheets{path}",
                       "NOT_FOUND")


def _bool(query: dict[str, list[str]], key: str) -> bool:
    return (query.get(key) or ["false"])[0].lower() == "true"


def handle_sheets(emu: Any, principal: str, method: str, path: str,
                  query: dict[str, list[str]], body: Any) -> tuple[int, Any]:
    """Serve one Sheets v4 call; ``path`` is the raw path after ``/v4/spreadsheets``."""
    if path in ("", "/"):
        if method != "POST":
            raise _route_error(method, path)
        return 200, create(emu, principal, body)
    rest = path[1:]
    sid, sep, tail = rest.partition("/")
    action = ""
    if not sep and ":" in sid:
        sid, _, action = sid.partition(":")
    sid = unquote(sid)
    if not sep:
        if method == "GET" and not action:
            file = emu.file_for(principal, sid, "reader")
            sp = file.spreadsheet
            return 200, sp.to_json(
                _bool(query, "includeGridData"), query.get("ranges"),
                (query.get("fields") or [None])[0], viewer=principal,
                viewer_is_owner=emu.role_of(principal, sid) in ("owner", "organizer"))
        if method == "POST" and action == "batchUpdate":
            return 200, _batch(emu, principal, sid, body, query)
        raise _route_error(method, path)
    if tail.startswith("values"):
        return 200, _values(emu, principal, method, sid, tail[len("values"):], query, body)
    if tail == "developerMetadata:search" and method == "POST":
        return 200, sheets_meta.search(emu.file_for(principal, sid, "reader").spreadsheet, body)
    if tail.startswith("developerMetadata/") and method == "GET":
        sp = emu.file_for(principal, sid, "reader").spreadsheet
        try:
            mid = int(unquote(tail.split("/", 1)[1]))
        except ValueError:
            raise invalid_argument("Invalid metadataId") from None
        return 200, sheets_meta.get_one(sp, mid)
    if tail.startswith("sheets/") and tail.endswith(":copyTo"):
        raise invalid_argument("emulator does not support sheets.copyTo")
    raise _route_error(method, path)


def _writable(emu: Any, principal: str, sid: str) -> tuple[Any, str | None]:
    file = emu.file_for(principal, sid, "writer")
    return file, emu.role_of(principal, sid)


def _batch(emu: Any, principal: str, sid: str, body: Any,
           query: dict[str, list[str]]) -> dict[str, Any]:
    file, role = _writable(emu, principal, sid)
    sp: Spreadsheet = file.spreadsheet
    out = batch_update(sp, body, principal, role, make_guard(principal, role))
    if file.name != sp.title:
        file.name = sp.title
    emu.touch(file)
    body = body or {}
    if body.get("includeSpreadsheetInResponse"):
        out["updatedSpreadsheet"] = sp.to_json(
            bool(body.get("responseIncludeGridData")), body.get("responseRanges"),
            viewer=principal, viewer_is_owner=role in ("owner", "organizer"))
    return out


def _values(emu: Any, principal: str, method: str, sid: str, tail: str,
            query: dict[str, list[str]], body: Any) -> dict[str, Any]:
    if tail in (":batchGet",) and method == "GET":
        sp = emu.file_for(principal, sid, "reader").spreadsheet
        return sheets_values.values_batch_get(sp, query)
    if tail in (":batchUpdate", ":batchClear") and method == "POST":
        file, role = _writable(emu, principal, sid)
        guard = make_guard(principal, role)
        sp = file.spreadsheet
        fn = (sheets_values.values_batch_update if tail == ":batchUpdate"
              else sheets_values.values_batch_clear)
        out = _atomic(sp, lambda: fn(sp, body, guard))
        emu.touch(file)
        return out
    if not tail.startswith("/") or len(tail) < 2:
        raise _route_error(method, f"/{sid}/values{tail}")
    raw = tail[1:]
    action = ""
    for suffix in (":clear", ":append"):
        if raw.endswith(suffix):
            raw, action = raw[: -len(suffix)], suffix[1:]
    text = unquote(raw)
    if method == "GET" and not action:
        sp = emu.file_for(principal, sid, "reader").spreadsheet
        return sheets_values.values_get(sp, text, query)
    file, role = _writable(emu, principal, sid)
    sp = file.spreadsheet
    guard = make_guard(principal, role)
    if method == "PUT" and not action:
        out = _atomic(sp, lambda: sheets_values.values_update(sp, text, query, body, guard))
    elif method == "POST" and action == "clear":
        out = _atomic(sp, lambda: sheets_values.values_clear(sp, text, guard))
    elif method == "POST" and action == "append":
        out = _atomic(sp, lambda: sheets_values.values_append(sp, text, query, body, guard))
    else:
        raise _route_error(method, f"/{sid}/values{tail}")
    emu.touch(file)
    return out


def _atomic(sp: Spreadsheet, fn: Any) -> Any:
    """Run a values write; on error restore the touched rows and grid sizes (all-or-nothing).

    Cheaper than a full copy: values writes only change ``cells`` and ``gridProperties``.
    """
    saved = [(s, {r: dict(row) for r, row in s.cells.items()},
              dict(s.props["gridProperties"])) for s in sp.sheets]
    try:
        return fn()
    except GoogleError:
        for s, cells, grid in saved:
            s.cells = cells
            s.props["gridProperties"] = grid
        raise


def create(emu: Any, principal: str, body: Any) -> dict[str, Any]:
    """spreadsheets.create: a Drive file in the caller's My Drive plus the requested sheets."""
    body = body or {}
    props = body.get("properties") or {}
    title = props.get("title") or "Untitled spreadsheet"
    file = emu.create_file(principal, title, SPREADSHEET_MIME)
    sp = Spreadsheet.new(file.id, title, locale=props.get("locale") or "en_US",
                         time_zone=props.get("timeZone") or "Etc/GMT")
    for key, value in props.items():
        if key not in ("title", "locale", "timeZone"):
            sp.properties[key] = copy.deepcopy(value)
    sheets = body.get("sheets") or []
    if sheets:
        sp.sheets = []
        for i, spec in enumerate(sheets):
            p = spec.get("properties") or {}
            grid = p.get("gridProperties") or {}
            taken = {s.sheet_id for s in sp.sheets}
            sheet_id = p.get("sheetId", 0 if i == 0 else sp.new_id(taken))
            new = new_sheet_props(int(sheet_id), p.get("title") or f"Sheet{i + 1}", i,
                                  int(grid.get("rowCount", 1000)), int(grid.get("columnCount", 26)))
            new["gridProperties"].update({k: v for k, v in grid.items()
                                          if k not in ("rowCount", "columnCount")})
            new.update({k: copy.deepcopy(v) for k, v in p.items()
                        if k not in ("sheetId", "title", "index", "gridProperties")})
            sp.sheets.append(Sheet(new))
        if len({s.title for s in sp.sheets}) != len(sp.sheets):
            emu.remove_file(file)
            raise invalid_argument("Invalid requests: duplicate sheet titles")
    file.spreadsheet = sp
    return sp.to_json(viewer=principal)
