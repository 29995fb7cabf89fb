"""Access reconciled against Drive itself (``ejournal acl check|fix``, daily in the daemon, and in
the cycle for a file whose sharing moved): who SHOULD have which role comes from the
configuration and the class pages (``sync.jobs.sharing.wanted_roles``), who DOES is listed from
the backend — never taken from the ledger's memory of what it granted.

Drift, per file: a link share (``anyone``) or a domain share (always removed); a direct grant of
someone who should have nothing there (a pupil on a journal, a parent on another child's diary,
a writer nobody asked for); a wrong role (a parent as writer of a diary: removed, then granted as
reader); a wanted grant missing. Shared-drive members reach every file by inheritance: that
cannot be removed per file, so a parent or pupil among them is reported (fix the drive's
members), never "fixed". The service principals' own access (the service account's and its
pool's) is never touched.

``fix`` repairs in this order per file — revokes, then grants (one permission operation at a time:
Drive applies only the last of concurrent ones) — and audits each repair (``acl.repaired``). A
revoke refused (403) is a failure, left for the next run; only a 404 means already gone. The
ledger then records desired and observed (as listed, after the repairs) and the permission ids,
so the cycle notices the next change in the change list without listing anything.

Cost: ONE Drive call per file (per 100 permissions) to list, plus one per repair.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rules.errors import BackendError, NotFound
from sync.backends.protocol import FileInfo, Grant, Role
from sync.jobs.service import Service, split_journal_key
from sync.jobs.sharing import MANAGED_ROLES, reconcile_acl, wanted_roles
from sync.jobs.signatures import WRITING, note_lost_writers
from sync.ledger.model import FileKind, FileRecord
from sync.ledger.state import ACL_CONFIG_KEY, ACL_SEEN_KEY

log = logging.getLogger(__name__)

LINKS = ("anyone", "domain")


@dataclass(frozen=True, slots=True)
class Drift:
    """One grant that differs from what the file should have."""

    file_id: str
    file: str  # "journal 7Б/algebra", "diary s0027"
    who: str  # e-mail, domain or "anyone"
    kind: str  # user | group | domain | anyone
    observed: str | None  # the role Drive lists, None when missing
    desired: str | None  # the role wanted, None when nobody wants it there
    inherited: bool = False  # a shared-drive member: fix the drive, not the file

    @property
    def what(self) -> str:
        if self.kind in LINKS:
            return "link"
        if self.inherited:
            return "drive_member"
        if self.observed is None:
            return "missing"
        return "extra" if self.desired is None else "role"

    def to_json(self) -> dict[str, Any]:
        return {"file": self.file_id, "name": self.file, "who": self.who, "kind": self.kind,
                "observed": self.observed, "desired": self.desired, "what": self.what}


@dataclass
class AclReport:
    files: int = 0
    drift: list[Drift] = field(default_factory=list)
    repaired: list[Drift] = field(default_factory=list)
    failed: list[tuple[Drift, str]] = field(default_factory=list)
    unlisted: list[tuple[str, str]] = field(default_factory=list)  # (file id, error)

    @property
    def left(self) -> list[Drift]:
        """Drift still there after this run (all of it for a check)."""
        return [d for d in self.drift if d not in self.repaired]

    def to_json(self) -> dict[str, Any]:
        return {"files": self.files, "drift": [d.to_json() for d in self.drift],
                "repaired": len(self.repaired),
                "failed": [{**d.to_json(), "error": e} for d, e in self.failed],
                "unlisted": [{"file": f, "error": e} for f, e in self.unlisted],
                "left": len(self.left)}


def run_acl(svc: Service, now: datetime, *, fix: bool,
            file_ids: Collection[str] | None = None) -> AclReport:
    """List every registered file's permissions (or those of ``file_ids``), find the drift and,
    with ``fix``, repair it (see the module docstring)."""
    report = AclReport()
    with svc.ledger.snapshot() as tx:
        files = [f for f in tx.files() if file_ids is None or f.id in file_ids]
    people = _parents_and_pupils(svc)
    for record in files:
        report.files += 1
        try:
            listed = svc.backend.grants(record.id)
        except BackendError as exc:
            report.unlisted.append((record.id, f"{type(exc).__name__}: {exc}"))
            log.warning("file %s: permissions not listed (%s)", record.id, type(exc).__name__)
            continue
        wanted = settled_roles(svc, record, now)
        drift = find_drift(record, listed, wanted, svc.principals(), people)
        report.drift += drift
        if fix:
            listed = _repair(svc, record, listed, drift, report)
        _record(svc, record, wanted, listed, drift if fix else [], report, now)
        if fix:  # a writer gone from the admin spreadsheet may have left rows nobody can prove
            failed = [f for f, _ in report.failed]
            note_lost_writers(svc, record.id, [
                d.who for d in drift if d.observed and Role(d.observed) in WRITING
                and not d.inherited and not any(f is d for f in failed)], now)
    log.info("acl %s: %d files, %d drift, %d repaired, %d failed, %d unlisted",
             "fix" if fix else "check", report.files, len(report.drift), len(report.repaired),
             len(report.failed), len(report.unlisted))
    return report


def settled_roles(svc: Service, record: FileRecord, now: datetime) -> dict[str, Role]:
    """The roles the file should have, except a substitute not let in yet: letting a substitute
    in waits for the day's lock job (``sync.jobs.substitutions``), so it is never granted here;
    one already in keeps access while the substitution runs."""
    wanted = wanted_roles(svc, record.kind, record.key, now)
    if record.kind is not FileKind.JOURNAL:
        return wanted
    school = svc.school
    regular = {t.email.lower() for t in school.teachers
               if t.id in school.teachers_of(*split_journal_key(record.key))}
    with svc.ledger.snapshot() as tx:
        held = {a.email for a in tx.acl(record.id) if a.observed_role}
    return {e: r for e, r in wanted.items() if e in regular or e in held}


def find_drift(record: FileRecord, listed: list[Grant], wanted: dict[str, Role],
               service: Collection[str], people: set[str]) -> list[Drift]:
    """The grants of ``listed`` that differ from ``wanted`` (see the module docstring);
    ``service``: the service's principals (its pool's included), never drift."""
    name = f"{record.kind.value} {record.key}"
    out: list[Drift] = []
    direct: dict[str, Grant] = {}
    member: dict[str, Grant] = {}
    for g in listed:
        who = g.email.lower()
        if who in service:
            continue
        if g.kind in LINKS:
            out.append(Drift(record.id, name, who, g.kind, g.role.value, None))
        elif g.inherited:
            member[who] = g
            if who in people and who not in wanted:
                out.append(Drift(record.id, name, who, g.kind, g.role.value, None, True))
        elif g.role in MANAGED_ROLES:
            direct[who] = g
            role = wanted.get(who)
            if role is None or role is not g.role:
                out.append(Drift(record.id, name, who, g.kind, g.role.value,
                                 None if role is None else role.value))
    for who, role in wanted.items():
        if who not in direct and who not in member:
            out.append(Drift(record.id, name, who, "user", None, role.value))
    return out


def _repair(svc: Service, record: FileRecord, listed: list[Grant], drift: list[Drift],
            report: AclReport) -> list[Grant]:
    """Revokes first, then grants; returns the grants as they stand afterwards."""
    now_listed = {g.id: g for g in listed}
    by_who = {(g.email.lower(), g.kind): g for g in listed}
    for d in [d for d in drift if d.observed is not None and not d.inherited]:
        grant = by_who[(d.who, d.kind)]
        try:
            svc.backend.revoke(record.id, grant.id)
        except NotFound:
            pass  # already gone
        except BackendError as exc:
            report.failed.append((d, f"revoke: {type(exc).__name__}"))
            continue
        now_listed.pop(grant.id, None)
        if d.desired is None:
            report.repaired.append(d)
    for d in drift:
        if d.desired is None or d.inherited or any(f is d for f, _ in report.failed):
            continue
        try:
            new = svc.backend.grant(record.id, d.who, Role(d.desired))
        except BackendError as exc:
            report.failed.append((d, f"grant: {type(exc).__name__}"))
            continue
        now_listed[new.id] = new
        report.repaired.append(d)
    return list(now_listed.values())


def _record(svc: Service, record: FileRecord, wanted: dict[str, Role], listed: list[Grant],
            repaired: list[Drift], report: AclReport, now: datetime) -> None:
    done = [d for d in repaired if d in report.repaired]
    observed = [g for g in listed if not g.inherited and g.kind not in LINKS
                and g.role in MANAGED_ROLES]
    with svc.ledger.transaction() as tx:
        tx.set_desired_acl(record.id, wanted, now)
        tx.set_observed_acl(record.id, observed, now)
        tx.state_set(ACL_SEEN_KEY.format(file_id=record.id),
                     json.dumps(sorted(g.id for g in listed)), now)
        for d in done:
            tx.audit_append("acl.repaired", d.to_json(), now)


def _parents_and_pupils(svc: Service) -> set[str]:
    """Every parent's and pupil's address the school knows (configuration and class pages)."""
    school = svc.school
    emails = {p.email.lower() for p in school.parents if p.email}
    emails |= {p.email.lower() for p in school.pupils if p.email}
    with svc.ledger.snapshot() as tx:
        emails |= {c.email for c in tx.contacts() if c.email}
    return emails


def follow_configuration(svc: Service, now: datetime) -> int:
    """When the configuration changed (a teacher reassigned, a substitution row deleted, a
    deputy added): every file's wanted grants applied at once, against the ledger's record of
    what was granted (``reconcile_acl``: no call for a file whose access did not change).
    Returns the grants and revokes made."""
    with svc.ledger.snapshot() as tx:
        if tx.state_get(ACL_CONFIG_KEY) == svc.school.config_version:
            return 0
        files = tx.files()
    moved, complete = 0, True
    for record in files:
        changes = reconcile_acl(svc, record.id, settled_roles(svc, record, now), now)
        moved += len(changes.granted) + len(changes.revoked)
        complete = complete and not changes.failed
    if complete:
        with svc.ledger.transaction() as tx:
            tx.state_set(ACL_CONFIG_KEY, svc.school.config_version, now)
    log.info("acl: configuration %s applied to %d files, %d changes", svc.school.config_version,
             len(files), moved)
    return moved


def follow_sharing(svc: Service, infos: Collection[FileInfo], now: datetime) -> AclReport | None:
    """In the cycle: the files whose permission ids in the change list moved since the ledger saw
    them are listed and repaired (no call for the others). A file never seen takes the change
    list's ids as its starting point (the daily run lists everything anyway)."""
    moved: set[str] = set()
    with svc.ledger.transaction() as tx:
        registered = {f.id for f in tx.files()}
        for info in infos:
            if info.permission_ids is None or info.removed or info.id not in registered:
                continue
            key = ACL_SEEN_KEY.format(file_id=info.id)
            seen = tx.state_get(key)
            if seen is None:
                tx.state_set(key, json.dumps(list(info.permission_ids)), now)
            elif tuple(json.loads(seen)) != info.permission_ids:
                moved.add(info.id)
    return run_acl(svc, now, fix=True, file_ids=moved) if moved else None


__all__ = ["AclReport", "Drift", "find_drift", "follow_configuration", "follow_sharing", "run_acl",
           "settled_roles"]
