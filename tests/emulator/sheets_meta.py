"""Developer metadata: create / update / delete requests and ``developerMetadata:search``.

Metadata located on the spreadsheet lives in ``Spreadsheet.metadata``; on a sheet or a row/column
range in that sheet's ``metadata`` (so dimension inserts/deletes move it). Only
``developerMetadataLookup`` data filters are supported (A1/GridRange filters answer 400).
"""

from __future__ import annotations

import copy
from typing import Any

from .errors import invalid_argument
from .fields import apply_update
from .spreadsheet import Spreadsheet

_KEYS = {"metadataId", "metadataKey", "metadataValue", "locationType", "metadataLocation",
         "visibility", "locationMatchingStrategy"}


def _location(sp: Spreadsheet, loc: Any, where: str) -> tuple[dict[str, Any], Any]:
    """Normalised location (with locationType) and the container list it belongs in."""
    if not isinstance(loc, dict):
        raise invalid_argument(f"{where}: developerMetadata.location is required")
    if loc.get("spreadsheet"):
        return {"locationType": "SPREADSHEET", "spreadsheet": True}, sp.metadata
    if "sheetId" in loc:
        sheet = sp.sheet_by_id(int(loc["sheetId"]))
        if sheet is None:
            raise invalid_argument(f"{where}: No grid with id: {loc['sheetId']}")
        return {"locationType": "SHEET", "sheetId": sheet.sheet_id}, sheet.metadata
    dr = loc.get("dimensionRange")
    if isinstance(dr, dict):
        sheet = sp.sheet_by_id(int(dr.get("sheetId", 0)))
        if sheet is None or dr.get("dimension") not in ("ROWS", "COLUMNS"):
            raise invalid_argument(f"{where}: invalid dimensionRange")
        norm = {"sheetId": sheet.sheet_id, "dimension": dr["dimension"],
                "startIndex": int(dr.get("startIndex", 0)), "endIndex": int(dr["endIndex"])}
        kind = "ROW" if dr["dimension"] == "ROWS" else "COLUMN"
        return {"locationType": kind, "dimensionRange": norm}, sheet.metadata
    raise invalid_argument(f"{where}: unsupported developer metadata location")


def _out(md: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(md)
    dr = out["location"].get("dimensionRange")
    if dr is not None and dr.get("startIndex") == 0:
        del dr["startIndex"]
    return out


def create_developer_metadata(sp: Spreadsheet, req: dict[str, Any], where: str) -> dict[str, Any]:
    spec = req.get("developerMetadata") or {}
    if not spec.get("metadataKey"):
        raise invalid_argument(f"{where}: developerMetadata.metadataKey is required")
    visibility = spec.get("visibility")
    if visibility not in ("DOCUMENT", "PROJECT"):
        raise invalid_argument(f"{where}: developerMetadata.visibility must be DOCUMENT or PROJECT")
    location, container = _location(sp, spec.get("location"), where)
    taken = {m["metadataId"] for m in sp.all_metadata()}
    mid = spec.get("metadataId")
    if mid is not None and int(mid) in taken:
        raise invalid_argument(f"{where}: Metadata with id {mid} already exists.")
    md: dict[str, Any] = {"metadataId": int(mid) if mid is not None else sp.new_id(taken),
                          "metadataKey": spec["metadataKey"]}
    if spec.get("metadataValue") is not None:
        md["metadataValue"] = spec["metadataValue"]
    md["location"] = location
    md["visibility"] = visibility
    container.append(md)
    return {"createDeveloperMetadata": {"developerMetadata": _out(md)}}


def _matches(sp: Spreadsheet, md: dict[str, Any], flt: dict[str, Any], where: str) -> bool:
    lookup = flt.get("developerMetadataLookup")
    if not isinstance(lookup, dict) or set(flt) != {"developerMetadataLookup"}:
        raise invalid_argument(f"{where}: emulator supports developerMetadataLookup filters only")
    unknown = set(lookup) - _KEYS
    if unknown:
        raise invalid_argument(f"{where}: unknown lookup fields {sorted(unknown)}")
    if "metadataId" in lookup and md["metadataId"] != int(lookup["metadataId"]):
        return False
    for key in ("metadataKey", "metadataValue", "visibility"):
        if key in lookup and md.get(key) != lookup[key]:
            return False
    loc = md["location"]
    if "locationType" in lookup and loc["locationType"] != lookup["locationType"]:
        return False
    if "metadataLocation" in lookup:
        want, _ = _location(sp, lookup["metadataLocation"], where)
        strategy = lookup.get("locationMatchingStrategy", "EXACT_LOCATION")
        if strategy == "INTERSECTING_LOCATION" and "dimensionRange" in want:
            a, b = want["dimensionRange"], loc.get("dimensionRange")
            return bool(b and a["sheetId"] == b["sheetId"] and a["dimension"] == b["dimension"]
                        and a["startIndex"] < b["endIndex"] and b["startIndex"] < a["endIndex"])
        if want != loc:
            return False
    return True


def _matching(sp: Spreadsheet, filters: list[Any], where: str) -> list[tuple[dict[str, Any], Any]]:
    out = []
    for md in sp.all_metadata():
        hits = [f for f in filters if _matches(sp, md, f, where)]
        if hits:
            out.append((md, hits))
    return out


def search(sp: Spreadsheet, body: Any) -> dict[str, Any]:
    filters = (body or {}).get("dataFilters")
    if not isinstance(filters, list) or not filters:
        raise invalid_argument("Invalid dataFilters: at least one data filter is required")
    matched = [{"developerMetadata": _out(md), "dataFilters": copy.deepcopy(hits)}
               for md, hits in _matching(sp, filters, "Invalid dataFilters")]
    return {"matchedDeveloperMetadata": matched} if matched else {}


def get_one(sp: Spreadsheet, metadata_id: int) -> dict[str, Any]:
    for md in sp.all_metadata():
        if md["metadataId"] == metadata_id:
            return _out(md)
    from .errors import GoogleError
    raise GoogleError(404, f"No developer metadata with ID: {metadata_id}", "NOT_FOUND")


def _remove(sp: Spreadsheet, md: dict[str, Any]) -> None:
    for container in [sp.metadata, *(s.metadata for s in sp.sheets)]:
        if any(m is md for m in container):
            container[:] = [m for m in container if m is not md]


def delete_developer_metadata(sp: Spreadsheet, req: dict[str, Any], where: str) -> dict[str, Any]:
    flt = req.get("dataFilter")
    if not isinstance(flt, dict):
        raise invalid_argument(f"{where}: dataFilter is required")
    doomed = [md for md, _ in _matching(sp, [flt], where)]
    for md in doomed:
        _remove(sp, md)
    body = {"deletedDeveloperMetadata": [_out(m) for m in doomed]} if doomed else {}
    return {"deleteDeveloperMetadata": body}


def update_developer_metadata(sp: Spreadsheet, req: dict[str, Any], where: str) -> dict[str, Any]:
    filters = req.get("dataFilters") or []
    mask = req.get("fields")
    if not mask:
        raise invalid_argument(f"{where}: At least one field must be updated.")
    spec = req.get("developerMetadata") or {}
    changed = []
    for md, _ in _matching(sp, filters, where):
        new = copy.deepcopy(md)
        apply_update(new, spec, mask)
        new["metadataId"] = md["metadataId"]
        if "location" in mask:
            new["location"], container = _location(sp, spec.get("location"), where)
            _remove(sp, md)
            container.append(md)
        md.clear()
        md.update(new)
        changed.append(_out(md))
    return {"updateDeveloperMetadata": {"developerMetadata": changed}}
