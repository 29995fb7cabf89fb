"""``ejournal setup``: create (or re-create) every spreadsheet of the school, resumably.

Budget per file (DESIGN.md §6): ONE Drive create + ONE Sheets write (the whole layout), then one
Drive call per grant; 0 Sheets reads. A file registered in the ledger and present (one Drive
``info``) is skipped — only its sharing is completed if a crash interrupted it (0 calls when the
ledger's ACL says it is done). A registered file that is gone is re-created from the ledger
(``sync.jobs.repair.rebuild_file``).

Resumable: every file is registered in its own committed transaction right after its create, so a
crash or an exhausted quota loses at most the file being made. The one gap — a crash between the
create and its registration — is closed by the change feed: each run keeps a change token in the
ledger until it completes, and the next run deletes the unregistered files with a setup name
created since (orphans), before making them again. Hence no duplicates, whatever the crash point.

Progress: ``progress`` gets a :class:`SetupProgress` after every file, with an ETA at the quota
pace (files left to create × Sheets writes per file ÷ ``backend.writes_per_minute``) for a
quota-bound backend, at the observed pace for the local one.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from rules.errors import BackendError, LayoutError, RateLimited
from sync.jobs.own_writes import remember_own_writes
from sync.jobs.repair import rebuild_file
from sync.jobs.service import Service
from sync.jobs.sharing import reconcile_acl, wanted_roles
from sync.jobs.spreadsheets import (
    create_file,
    expected_files,
    expected_name,
    file_spec,
    is_present,
)
from sync.ledger.model import FileKind, FileRecord
from sync.ledger.state import SETUP_TOKEN_KEY

log = logging.getLogger(__name__)

WRITES_PER_FILE = 1  # Sheets writes to create one file (the layout batchUpdate)
MAX_FAILURES_IN_A_ROW = 3  # the same error for every file: stop, fix, run again


@dataclass(frozen=True, slots=True)
class SetupProgress:
    """After each file: ``done`` of ``total``, what happened to it, and the time still needed."""

    done: int
    total: int
    kind: str
    key: str
    action: str  # "created" | "present" | "rebuilt" | "failed"
    eta_seconds: float | None  # None until a pace is known (local backend, nothing made yet)


@dataclass
class SetupSummary:
    """What one setup run did. ``complete`` when every file exists and is shared."""

    total: int = 0
    created: list[str] = field(default_factory=list)  # "journal 7Б/math"
    present: list[str] = field(default_factory=list)
    rebuilt: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)  # (file, error)
    orphans_removed: list[str] = field(default_factory=list)  # file ids
    grants: int = 0
    revokes: int = 0
    stopped: str | None = None  # why the run ended early (run setup again to resume)
    api_calls: dict[str, float] = field(default_factory=dict)

    @property
    def complete(self) -> bool:
        return not self.failed and self.stopped is None

    def counters(self) -> dict[str, int]:
        return {
            "total": self.total,
            "created": len(self.created),
            "present": len(self.present),
            "rebuilt": len(self.rebuilt),
            "failed": len(self.failed),
            "orphans_removed": len(self.orphans_removed),
            "grants": self.grants,
            "revokes": self.revokes,
        }

    def to_json(self) -> dict[str, Any]:
        """Lists of files by outcome ("failed": [file, error] pairs), counters, why it stopped."""
        return {
            "total": self.total,
            "created": list(self.created),
            "present": list(self.present),
            "rebuilt": list(self.rebuilt),
            "failed": [list(item) for item in self.failed],
            "orphans_removed": list(self.orphans_removed),
            "grants": self.grants,
            "revokes": self.revokes,
            "complete": self.complete,
            "stopped": self.stopped,
            "api_calls": dict(self.api_calls),
        }


def run_setup(
    svc: Service, *, progress: Callable[[SetupProgress], None] | None = None
) -> SetupSummary:
    """Create or repair every journal, class spreadsheet and the admin spreadsheet (see module)."""
    school = svc.school
    before = svc.api_calls()
    plan = expected_files(school)
    lessons = school.lessons()
    now = svc.now()
    summary = SetupSummary(total=len(plan))
    with svc.ledger.snapshot() as tx:
        records = {(f.kind, f.key): f for f in tx.files()}
        old_token = tx.state_get(SETUP_TOKEN_KEY) or None
    new_token = _sweep_orphans(svc, old_token, plan, summary)
    with svc.ledger.transaction() as tx:
        run_id = tx.run_started("setup", now)
        tx.state_set(SETUP_TOKEN_KEY, new_token, now)

    pace = Pace(svc, sum((k, key) not in records for k, key in plan))
    in_a_row = 0
    for done, (kind, key) in enumerate(plan, start=1):
        label = f"{kind.value} {key}"
        now = svc.now()
        try:
            action = _ensure(svc, kind, key, records.get((kind, key)), lessons, summary, now)
            in_a_row = 0
        except RateLimited as exc:
            summary.failed.append((label, str(exc)))
            summary.stopped = f"quota exhausted at {label}: run setup again later ({exc})"
            log.warning("setup stopped at %s: quota exhausted", label)
            _report(progress, done, summary, kind, key, "failed", pace.eta())
            break
        except (BackendError, LayoutError) as exc:
            summary.failed.append((label, str(exc)))
            log.warning("setup: %s failed (%s)", label, type(exc).__name__)
            action = "failed"
            in_a_row += 1
        pace.step(made=action in ("created", "rebuilt"), planned=(kind, key) not in records)
        _report(progress, done, summary, kind, key, action, pace.eta())
        if in_a_row >= MAX_FAILURES_IN_A_ROW:
            summary.stopped = f"{in_a_row} files failed in a row: fix the cause, run setup again"
            break

    remember_own_writes(svc)  # the sharing written after each create
    summary.api_calls = {k: v - before.get(k, 0) for k, v in svc.api_calls().items()}
    with svc.ledger.transaction() as tx:
        if summary.complete:
            tx.state_set(SETUP_TOKEN_KEY, "", now)
        error = summary.stopped or (
            f"{len(summary.failed)} file(s) failed" if summary.failed else None
        )
        tx.run_finished(run_id, svc.now(), summary.counters(), error)
    log.info(
        "setup: %d created, %d present, %d rebuilt, %d failed of %d files",
        len(summary.created),
        len(summary.present),
        len(summary.rebuilt),
        len(summary.failed),
        summary.total,
    )
    return summary


def _ensure(
    svc: Service,
    kind: FileKind,
    key: str,
    record: FileRecord | None,
    lessons: Any,
    summary: SetupSummary,
    now: datetime,
) -> str:
    """Make one file exist and be shared; returns what was done."""
    label = f"{kind.value} {key}"
    if record is not None:
        if is_present(svc, record):
            changes = reconcile_acl(svc, record.id, wanted_roles(svc, kind, key, now), now)
            summary.grants += len(changes.granted)
            summary.revokes += len(changes.revoked)
            _sharing_failed(summary, label, changes.failed)
            summary.present.append(label)
            return "present"
        rebuild_file(svc, record, now=now)
        summary.rebuilt.append(label)
        return "rebuilt"
    spec = file_spec(svc, kind, key, now=now, lessons=lessons)
    _, changes = create_file(svc, kind, key, spec, now=now)
    summary.created.append(label)
    summary.grants += len(changes.granted)
    _sharing_failed(summary, label, changes.failed)
    return "created"


def _sharing_failed(summary: SetupSummary, label: str, failed: list[str]) -> None:
    """A grant that failed leaves the run incomplete (the next run grants it) but does not stop
    it: only failures to create or check files count towards ``MAX_FAILURES_IN_A_ROW``."""
    if failed:
        summary.failed.append((label, "sharing failed: " + "; ".join(failed)))


def _sweep_orphans(
    svc: Service, token: str | None, plan: list[tuple[FileKind, str]], summary: SetupSummary
) -> str:
    """The token for this run (one Drive call); after an unfinished run, delete the files it
    created but never registered (crash between create and register)."""
    if token is None:
        return svc.backend.start_token()
    infos, new_token = svc.backend.changes(token)
    names = {expected_name(svc.school, kind, key) for kind, key in plan}
    with svc.ledger.snapshot() as tx:
        orphans = [i for i in infos if not i.removed and i.name in names and tx.file(i.id) is None]
    for info in orphans:
        try:
            svc.backend.delete(info.id)
        except BackendError as exc:
            log.warning("setup: orphan file %s not deleted (%s)", info.id, type(exc).__name__)
            continue
        summary.orphans_removed.append(info.id)
        log.info("setup: deleted orphan file %s of an interrupted run", info.id)
    return new_token


class Pace:
    """ETA: files left to create × writes per file at the quota pace (google), or at the pace
    observed so far (the local backend has no quota)."""

    def __init__(self, svc: Service, to_create: int) -> None:
        self.left = to_create
        self.per_minute = svc.backend.writes_per_minute
        self.started = time.monotonic()
        self.count = 0

    def step(self, *, made: bool, planned: bool) -> None:
        """One file handled: ``made`` (a create), ``planned`` (it was counted as left to create)."""
        self.count += made
        self.left -= planned

    def eta(self) -> float | None:
        if self.per_minute:
            return self.left * WRITES_PER_FILE * 60.0 / self.per_minute
        if not self.count:
            return None if self.left else 0.0
        return self.left * (time.monotonic() - self.started) / self.count


def _report(
    progress: Callable[[SetupProgress], None] | None,
    done: int,
    summary: SetupSummary,
    kind: FileKind,
    key: str,
    action: str,
    eta: float | None,
) -> None:
    if progress is not None:
        progress(SetupProgress(done, summary.total, kind.value, key, action, eta))


__all__ = ["SetupProgress", "SetupSummary", "run_setup"]
