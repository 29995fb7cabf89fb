"""The access invariants (DESIGN.md §7, R1/R17), walked over every file of the emulator:

* a parent reads their own child's diary at most (reader), nothing else: every other diary and
  every journal answer 403/404 to them;
* a pupil reads at most their own diary (reader);
* no parent or pupil is a writer (or more) anywhere;
* no file is shared with ``anyone`` or a whole domain.

Roles are taken from the emulator's own access decision for every (person, file) pair; the
refusals are then confirmed with a real gspread client acting as one parent and one pupil.
"""

from __future__ import annotations

from typing import Any

import gspread

from sync.ledger.model import FileKind
from tests.sync.engine_fixtures import EngineRig

READ_ONLY = ("reader", "commenter")


def people(rig: EngineRig) -> tuple[dict[str, set[str]], dict[str, str]]:
    """Parent e-mail → their children (configuration and class pages); pupil e-mail → pupil."""
    parents: dict[str, set[str]] = {}
    for p in rig.school.parents:
        if p.email:
            parents.setdefault(p.email.lower(), set()).add(p.pupil_id)
    pupils = {p.email.lower(): p.id for p in rig.school.pupils if p.email}
    with rig.svc.ledger.snapshot() as tx:
        for c in tx.contacts():
            if c.email and c.slot == 0:
                pupils[c.email] = c.pupil_id
            elif c.email:
                parents.setdefault(c.email, set()).add(c.pupil_id)
    return parents, pupils


def violations(rig: EngineRig) -> list[str]:
    """Every breach of the invariants (empty when the school's access is as it must be)."""
    with rig.svc.ledger.snapshot() as tx:
        kinds = {f.id: (f.kind, f.key) for f in tx.files()}
    parents, pupils = people(rig)
    out: list[str] = []
    for file_id, f in rig.emu.files.items():
        for p in f.permissions:
            if p.type in ("anyone", "domain"):
                out.append(f"{f.name}: shared with {p.type} {p.domain or ''}".rstrip())
        kind, key = kinds.get(file_id, (None, None))
        for who, children in parents.items():
            out += _check(rig, f, who, kind is FileKind.DIARY and key in children, "parent")
        for who, pupil in pupils.items():
            out += _check(rig, f, who, kind is FileKind.DIARY and key == pupil, "pupil")
    return out


def _check(rig: EngineRig, f: Any, who: str, own: bool, what: str) -> list[str]:
    role = rig.emu.role_in(who, f)
    if role is None:
        return []
    if not own:
        return [f"{f.name}: the {what} {who} has {role} on a file that is not their child's diary"]
    if role not in READ_ONLY:
        return [f"{f.name}: the {what} {who} is {role}, not a reader"]
    return []


def refusals(rig: EngineRig, who: str, own: set[str]) -> list[str]:
    """Files ``who`` can open through the API besides their own diaries ``own`` (real client)."""
    out = []
    client = rig.client(who).http_client
    rig.emu.clock.advance(61)  # a fresh minute of read quota for this person
    for file_id, f in rig.emu.files.items():
        if f.spreadsheet is None or file_id in own:
            continue
        try:
            client.values_get(file_id, f"'{f.spreadsheet.sheets[0].title}'!A1")
        except gspread.exceptions.APIError as exc:
            if exc.response.status_code in (403, 404):
                continue
            raise
        out.append(f"{who} opened {f.name}")
    return out


def assert_invariants(rig: EngineRig) -> None:
    """The invariants hold; checked with real clients for one parent and one pupil as well."""
    assert violations(rig) == []
    parents, pupils = people(rig)
    with rig.svc.ledger.snapshot() as tx:
        diary_of = {f.key: f.id for f in tx.files(FileKind.DIARY)}
    for who, children in sorted(parents.items())[:1]:
        assert refusals(rig, who, {diary_of[c] for c in children if c in diary_of}) == []
    for who, pupil in sorted(pupils.items())[:1]:
        assert refusals(rig, who, {diary_of[pupil]} if pupil in diary_of else set()) == []
