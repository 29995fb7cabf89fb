"""Protected ranges: add/update/delete requests and the edit guard (platform.md §3.4, §6.2).

Enforcement: a caller whose Drive role is below owner/organizer may not change a cell inside a
protected range (outside its ``unprotectedRanges``) unless listed in ``editors.users``;
``warningOnly`` ranges never block API edits. Only owners/organizers or the range's editors may
update or delete a protection. The error is HTTP 400 INVALID_ARGUMENT with Google's text
"You are trying to edit a protected cell or object…" (platform.md §6.2).
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

from .errors import GoogleError, invalid_argument
from .fields import parse_mask
from .spreadsheet import Box, Sheet, Spreadsheet

PROTECTED_MSG = ("You are trying to edit a protected cell or object. Please contact the "
                 "spreadsheet owner to remove protection if you need to edit.")


def protected_error() -> GoogleError:
    return GoogleError(400, PROTECTED_MSG, "INVALID_ARGUMENT")


def is_admin(role: str | None) -> bool:
    return role in ("owner", "organizer")


def may_edit_range(pr: dict[str, Any], principal: str, role: str | None) -> bool:
    if is_admin(role):
        return True
    return principal.lower() in (u.lower() for u in pr.get("editors", {}).get("users", []))


def make_guard(principal: str, role: str | None) -> Callable[[Sheet, int, int, int, int], None]:
    """Guard for cell edits by ``principal`` (a no-op for owners/organizers)."""

    def guard(sheet: Sheet, r0: int, r1: int, c0: int, c1: int) -> None:
        if is_admin(role) or not sheet.protected:
            return
        for pr in sheet.protected:
            if pr.get("warningOnly") or may_edit_range(pr, principal, role):
                continue
            box: Box = pr["range"]
            if not box.intersects(r0, r1, c0, c1):
                continue
            ir0, ir1, ic0, ic1 = _intersection(box, r0, r1, c0, c1)
            holes = [h for h in pr.get("unprotectedRanges", []) if h.intersects(ir0, ir1, ic0, ic1)]
            for r in range(ir0, ir1):
                for c in range(ic0, ic1):
                    if not any(h.contains(r, c) for h in holes):
                        raise protected_error()

    return guard


def _intersection(box: Box, r0: int, r1: int, c0: int, c1: int) -> tuple[int, int, int, int]:
    return (max(box.r0 or 0, r0), r1 if box.r1 is None else min(box.r1, r1),
            max(box.c0 or 0, c0), c1 if box.c1 is None else min(box.c1, c1))


def _range_of(sp: Spreadsheet, gr: dict[str, Any] | None, where: str) -> tuple[Sheet, Box]:
    if not isinstance(gr, dict):
        raise invalid_argument(f"{where}: range is required.")
    sheet = sp.sheet_by_id(int(gr.get("sheetId", 0)))
    if sheet is None:
        raise invalid_argument(f"{where}: No grid with id: {gr.get('sheetId', 0)}")
    return sheet, Box.from_grid_range(gr)


def _is_sheet_wide(box: Box) -> bool:
    return box.r0 in (None, 0) and box.r1 is None and box.c0 in (None, 0) and box.c1 is None


def _check_editors(pr: dict[str, Any], where: str) -> None:
    eds = pr.get("editors") or {}
    if pr.get("warningOnly") and (eds.get("users") or eds.get("groups")
                                  or eds.get("domainUsersCanEdit")):
        raise invalid_argument(
            f"{where}: ProtectedRange is warningOnly. Editors cannot be set on it.")


def add_protected_range(sp: Spreadsheet, req: dict[str, Any], where: str, principal: str,
                        role: str | None) -> dict[str, Any]:
    spec = req.get("protectedRange") or {}
    if spec.get("namedRangeId"):
        raise invalid_argument(f"{where}: emulator does not support namedRangeId protections")
    sheet, box = _range_of(sp, spec.get("range"), where)
    _check_editors(spec, where)
    if _is_sheet_wide(box) and any(_is_sheet_wide(p["range"]) for p in sheet.protected):
        raise invalid_argument(f'{where}: Sheet "{sheet.title}" already has sheet protection.')
    holes = [Box.from_grid_range(g) for g in spec.get("unprotectedRanges") or []]
    if holes and not _is_sheet_wide(box):
        raise invalid_argument(f"{where}: unprotectedRanges can only be set on sheet protections.")
    pid = spec.get("protectedRangeId")
    if pid is None or pid in sp.all_protected_ids():
        pid = sp.new_id(sp.all_protected_ids())
    eds = copy.deepcopy(spec.get("editors") or {})
    stored_users = list(eds.get("users") or [])
    if principal not in (u.lower() for u in stored_users):
        stored_users.append(principal)  # the requester is always an editor (cassette)
    pr = {"protectedRangeId": pid, "range": box, "description": spec.get("description"),
          "warningOnly": bool(spec.get("warningOnly")), "unprotectedRanges": holes,
          "editors": {**{k: v for k, v in eds.items() if v}, "users": stored_users}}
    sheet.protected.append(pr)
    reply: dict[str, Any] = {"protectedRangeId": pid, "range": box.to_grid_range(sheet.sheet_id)}
    if pr["description"]:
        reply["description"] = pr["description"]
    if pr["warningOnly"]:
        reply["warningOnly"] = True
    if holes:
        reply["unprotectedRanges"] = [h.to_grid_range(sheet.sheet_id) for h in holes]
    reply["requestingUserCanEdit"] = True
    reply["editors"] = {k: v for k, v in eds.items() if v}
    return {"addProtectedRange": {"protectedRange": reply}}


def _find(sp: Spreadsheet, pid: Any, where: str) -> tuple[Sheet, dict[str, Any]]:
    for sheet in sp.sheets:
        for pr in sheet.protected:
            if pr["protectedRangeId"] == pid:
                return sheet, pr
    raise invalid_argument(f"{where}: No protected range with id: {pid}")


def update_protected_range(sp: Spreadsheet, req: dict[str, Any], where: str, principal: str,
                           role: str | None) -> dict[str, Any]:
    spec = req.get("protectedRange") or {}
    mask = req.get("fields")
    if not mask:
        raise invalid_argument(f"{where}: At least one field must be updated.")
    sheet, pr = _find(sp, spec.get("protectedRangeId"), where)
    if not may_edit_range(pr, principal, role):
        raise protected_error()
    tree = parse_mask(mask)
    keys = set(tree) if "*" not in tree else {"range", "description", "warningOnly",
                                              "unprotectedRanges", "editors"}
    new = dict(pr)
    if "range" in keys:
        sheet2, new["range"] = _range_of(sp, spec.get("range"), where)
        if sheet2 is not sheet:
            sheet.protected.remove(pr)
            sheet2.protected.append(pr)
            sheet = sheet2
    if "description" in keys:
        new["description"] = spec.get("description")
    if "warningOnly" in keys:
        new["warningOnly"] = bool(spec.get("warningOnly"))
    if "unprotectedRanges" in keys:
        new["unprotectedRanges"] = [Box.from_grid_range(g)
                                    for g in spec.get("unprotectedRanges") or []]
    if "editors" in keys:
        eds = copy.deepcopy(spec.get("editors") or {})
        sub = tree.get("editors") if "*" not in tree else None
        if sub:  # editors.users only, etc.
            eds = {**pr.get("editors", {}), **{k: eds.get(k) for k in sub}}
        new["editors"] = {k: v for k, v in eds.items() if v}
    for k in keys - {"range", "description", "warningOnly", "unprotectedRanges", "editors"}:
        raise invalid_argument(f"{where}: Invalid field mask: {k}")
    if new["unprotectedRanges"] and not _is_sheet_wide(new["range"]):
        raise invalid_argument(f"{where}: unprotectedRanges can only be set on sheet protections.")
    _check_editors(new, where)
    pr.update(new)
    return {}


def delete_protected_range(sp: Spreadsheet, req: dict[str, Any], where: str, principal: str,
                           role: str | None) -> dict[str, Any]:
    sheet, pr = _find(sp, req.get("protectedRangeId"), where)
    if not may_edit_range(pr, principal, role):
        raise protected_error()
    sheet.protected.remove(pr)
    return {}
