"""Ledger parts about the service's own bookkeeping: the spreadsheet registry (with per-tab written
hashes and protection ids), key → value state (with the dirty list and each file's open ranges),
ACL desired vs observed, and runs."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import delete, insert, select, update

from rules.errors import StoreError
from sync.backends.protocol import CellRange, Grant, Role
from sync.ledger import schema as t
from sync.ledger.audit import AuditLog
from sync.ledger.model import (
    AclRecord,
    FileKind,
    FileRecord,
    FileStatus,
    RunRecord,
    aware,
    from_rows,
)
from sync.ledger.state import (
    DIRTY_KEY,
    LOCKS_PENDING_KEY,
    OPEN_RANGES_KEY,
    get_state,
    put_state,
)
from sync.ledger.statements import TAB_HASH

OpenRanges = Mapping[str, Sequence[CellRange]]  # tab title → its open (unprotected) ranges


def _file(row: Any) -> FileRecord:
    return FileRecord(
        id=row.id,
        kind=FileKind(row.kind),
        key=row.key,
        name=row.name,
        created_at=row.created_at,
        layout_version=row.layout_version,
        status=FileStatus(row.status),
        last_seen_version=row.last_seen_version,
        last_read_at=row.last_read_at,
    )


class FilesPart(AuditLog):
    """The spreadsheet registry: which file is which journal/diary, what was seen and written."""

    def register_file(
        self,
        file_id: str,
        kind: FileKind,
        key: str,
        name: str,
        now: datetime,
        *,
        layout_version: int = 1,
        protections: Mapping[str, int] | None = None,
        version: str | None = None,
    ) -> FileRecord:
        """Record a created spreadsheet (audited ``setup.created``); replaces an older file of the
        same kind+key (a re-created spreadsheet), whose tab hashes and ACL rows go with it."""
        aware(now)
        old = self.file_for(kind, key)
        if old is not None and old.id == file_id:
            raise StoreError(
                f"file {file_id} is already registered as {kind.value} {key}",
                "look it up with file_for() instead of registering it again",
            )
        if old is not None:
            self._db.execute(delete(t.files).where(t.files.c.id == old.id))
        self._db.execute(
            insert(t.files).values(
                id=file_id,
                kind=kind.value,
                key=key,
                name=name,
                created_at=now,
                layout_version=layout_version,
                status=FileStatus.OK.value,
                last_seen_version=version,
            )
        )
        if protections:
            self.set_protections(file_id, protections)
        payload: dict[str, Any] = {"file": file_id, "kind": kind.value, "key": key}
        if old is not None:
            payload["replaces"] = old.id
        self.audit_append("setup.created", payload, now)
        record = self.file(file_id)
        assert record is not None
        return record

    def file(self, file_id: str) -> FileRecord | None:
        """The registered file with this id."""
        row = self._db.execute(select(t.files).where(t.files.c.id == file_id)).first()
        return _file(row) if row else None

    def file_for(self, kind: FileKind, key: str) -> FileRecord | None:
        """The registered file of this kind and key ("journal", "7Б/math")."""
        query = select(t.files).where(t.files.c.kind == kind.value, t.files.c.key == key)
        row = self._db.execute(query).first()
        return _file(row) if row else None

    def files(self, kind: FileKind | None = None) -> list[FileRecord]:
        """All registered files (of one kind), ordered by kind and key."""
        query = select(t.files).order_by(t.files.c.kind, t.files.c.key)
        if kind is not None:
            query = query.where(t.files.c.kind == kind.value)
        return [_file(row) for row in self._db.execute(query)]

    def file_seen(self, file_id: str, version: str, now: datetime) -> None:
        """Remember the version read (so an unchanged file is not read again)."""
        self._update_file(file_id, last_seen_version=version, last_read_at=aware(now))

    def file_version(self, file_id: str, version: str) -> None:
        """The version the file has after the service's own writes (nothing new to read there)."""
        self._update_file(file_id, last_seen_version=version)

    def set_file_status(
        self, file_id: str, status: FileStatus, *, layout_version: int | None = None
    ) -> None:
        """Mark a file ok / missing / needs_repair (and its layout version after a repair)."""
        values: dict[str, Any] = {"status": status.value}
        if layout_version is not None:
            values["layout_version"] = layout_version
        self._update_file(file_id, **values)

    def _update_file(self, file_id: str, **values: Any) -> None:
        done = self._db.execute(update(t.files).where(t.files.c.id == file_id).values(**values))
        if done.rowcount == 0:
            raise StoreError(f"file {file_id} is not registered", "register_file() it first")

    def tab_hash(self, file_id: str, tab: str) -> str | None:
        """Content hash of what the service last wrote to a tab (None: never written)."""
        return self._db.execute(TAB_HASH, {"file_id": file_id, "tab": tab}).scalar()

    def set_tab_hash(self, file_id: str, tab: str, content_hash: str, now: datetime) -> None:
        """Record what was just written to a tab (see ``audit.content_hash``)."""
        self._upsert_tab(file_id, tab, content_hash=content_hash, written_at=aware(now))

    def protections(self, file_id: str) -> dict[str, int]:
        """Tab title → sheet-protection id, as ``Backend.set_open_ranges`` wants them."""
        ft = t.file_tabs.c
        query = select(ft.tab, ft.protection_id).where(
            ft.file_id == file_id, ft.protection_id.is_not(None)
        )
        return {row.tab: row.protection_id for row in self._db.execute(query)}

    def set_protections(self, file_id: str, protections: Mapping[str, int]) -> None:
        """Store tabs' protection ids (from ``FileInfo.protections`` or ``add_tabs``)."""
        for tab, protection_id in protections.items():
            self._upsert_tab(file_id, tab, protection_id=protection_id)

    def _upsert_tab(self, file_id: str, tab: str, **values: Any) -> None:
        ft = t.file_tabs.c
        done = self._db.execute(
            update(t.file_tabs).where(ft.file_id == file_id, ft.tab == tab).values(**values)
        )
        if done.rowcount == 0:
            if self.file(file_id) is None:
                raise StoreError(f"file {file_id} is not registered", "register_file() it first")
            self._db.execute(insert(t.file_tabs).values(file_id=file_id, tab=tab, **values))

    # ------------------------------------------------------------------ state

    def state_get(self, key: str, default: str | None = None) -> str | None:
        """A stored state value (Drive change token, last lock run, …)."""
        value = get_state(self._db, key)
        return default if value is None else value

    def state_set(self, key: str, value: str, now: datetime) -> None:
        """Store a state value."""
        put_state(self._db, key, value, aware(now))

    def dirty_files(self) -> set[str]:
        """File ids the next cycle must re-read even without a change in the feed."""
        text = self.state_get(DIRTY_KEY)
        return set(json.loads(text)) if text else set()

    def set_dirty_files(self, ids: Iterable[str], now: datetime) -> None:
        """Replace the dirty list (written only when it changes)."""
        text = json.dumps(sorted(set(ids)))
        if self.state_get(DIRTY_KEY) != text:
            self.state_set(DIRTY_KEY, text, now)

    def add_dirty_files(self, ids: Iterable[str], now: datetime) -> None:
        """Put files on the dirty list: the next cycle re-reads them (a repair's, a lock's follow-up)."""
        self.set_dirty_files(self.dirty_files() | set(ids), now)

    def pending_locks(self) -> dict[str, datetime]:
        """Files whose lock work (read, ledger lock, protection) failed, and since when."""
        text = self.state_get(LOCKS_PENDING_KEY)
        return {k: datetime.fromisoformat(v) for k, v in json.loads(text).items()} if text else {}

    def set_pending_locks(self, done: Iterable[str], failed: Iterable[str], now: datetime
                          ) -> None:
        """After a lock run: ``done`` leave the pending list, ``failed`` join it (keeping the
        time they first failed); written only when it changes."""
        pending = self.pending_locks()
        for file_id in done:
            pending.pop(file_id, None)
        for file_id in failed:
            pending.setdefault(file_id, aware(now))
        text = json.dumps({k: v.isoformat() for k, v in sorted(pending.items())})
        if (self.state_get(LOCKS_PENDING_KEY) or "{}") != text:
            self.state_set(LOCKS_PENDING_KEY, text, now)

    def recorded_open_ranges(self, file_id: str) -> str | None:
        """The canonical text of the open ranges last set on a file ("" or None: unknown)."""
        return self.state_get(OPEN_RANGES_KEY.format(file_id=file_id))

    def open_ranges_set_at(self, file_id: str) -> datetime | None:
        """When the open ranges last set on a file were recorded (its protection landed)."""
        key = OPEN_RANGES_KEY.format(file_id=file_id)
        found = self._db.execute(select(t.state.c.updated_at).where(t.state.c.key == key)).scalar()
        return found

    def record_open_ranges(self, file_id: str, ranges: OpenRanges | None, now: datetime) -> None:
        """Remember the ranges just set on a file (after ``create``/``set_open_ranges``); None
        forgets them, so the next lock run sets every tab's open cells again."""
        text = "" if ranges is None else encode_ranges(ranges)
        self.state_set(OPEN_RANGES_KEY.format(file_id=file_id), text, now)


def encode_ranges(ranges: OpenRanges) -> str:
    """Canonical text of a file's open ranges (what the ledger state records)."""
    data = {
        tab: sorted([r.start_row, r.start_col, r.end_row, r.end_col] for r in cells)
        for tab, cells in ranges.items()
    }
    return json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


class AclPart(AuditLog):
    """Who should (desired) and who does (observed) have which role on each file."""

    def set_desired_acl(self, file_id: str, roles: Mapping[str, Role], now: datetime) -> None:
        """Replace a file's desired grants (e-mail → role); e-mails not listed are desired gone."""
        self._merge_acl(
            file_id, "desired_role", {e.lower(): r.value for e, r in roles.items()}, {}, now
        )

    def set_observed_acl(self, file_id: str, grants: Iterable[Grant], now: datetime) -> None:
        """Replace a file's observed grants (as the backend listed them)."""
        roles = {g.email.lower(): g.role.value for g in grants}
        ids = {g.email.lower(): g.id for g in grants}
        self._merge_acl(file_id, "observed_role", roles, ids, now)

    def _merge_acl(
        self, file_id: str, column: str, roles: dict[str, str], ids: dict[str, str], now: datetime
    ) -> None:
        aware(now)
        a = t.acl.c
        current = {
            row.email: row for row in self._db.execute(select(t.acl).where(a.file_id == file_id))
        }
        for email in current.keys() - roles.keys():
            if getattr(current[email], column) is not None:
                values: dict[str, Any] = {column: None, "updated_at": now}
                if column == "observed_role":
                    values["grant_id"] = None
                self._db.execute(
                    update(t.acl).where(a.file_id == file_id, a.email == email).values(**values)
                )
        for email, role in roles.items():
            values = {column: role, "updated_at": now}
            if column == "observed_role":
                values["grant_id"] = ids.get(email)
            if email in current:
                row = current[email]
                same = getattr(row, column) == role and (
                    column != "observed_role" or row.grant_id == ids.get(email)
                )
                if not same:
                    self._db.execute(
                        update(t.acl).where(a.file_id == file_id, a.email == email).values(**values)
                    )
            else:
                self._db.execute(insert(t.acl).values(file_id=file_id, email=email, **values))
        self._db.execute(
            delete(t.acl).where(
                a.file_id == file_id, a.desired_role.is_(None), a.observed_role.is_(None)
            )
        )

    def acl(self, file_id: str) -> list[AclRecord]:
        """A file's grants, desired and observed, by e-mail."""
        query = select(t.acl).where(t.acl.c.file_id == file_id).order_by(t.acl.c.email)
        return from_rows(AclRecord, self._db.execute(query))

    def acl_drift(self) -> list[AclRecord]:
        """Every grant whose observed role differs from the desired one (to repair)."""
        a = t.acl.c
        query = select(t.acl).where(a.desired_role.is_distinct_from(a.observed_role))
        return from_rows(AclRecord, self._db.execute(query.order_by(a.file_id, a.email)))


def _run(row: Any) -> RunRecord:
    return RunRecord(
        id=row.id,
        kind=row.kind,
        started=row.started,
        finished=row.finished,
        ok=None if row.ok is None else bool(row.ok),
        error=row.error,
        counters=json.loads(row.counters),
    )


class RunsPart(AuditLog):
    """One row per sync cycle or job, with its counters (reads, writes, entries, findings, …)."""

    def run_started(self, kind: str, now: datetime) -> int:
        """Open a run row; returns its id (a row left unfinished means the process died)."""
        values = {"kind": kind, "started": aware(now), "counters": "{}"}
        return int(
            self._db.execute(insert(t.runs).values(**values).returning(t.runs.c.id)).scalar_one()
        )

    def run_finished(
        self, run_id: int, now: datetime, counters: Mapping[str, int], error: str | None = None
    ) -> None:
        """Close a run: finished time, ok (no ``error``) or the error text, and its counters."""
        text = json.dumps(dict(sorted(counters.items())), separators=(",", ":"))
        done = self._db.execute(
            update(t.runs)
            .where(t.runs.c.id == run_id)
            .values(finished=aware(now), ok=int(error is None), error=error, counters=text)
        )
        if done.rowcount == 0:
            raise StoreError(f"run {run_id} does not exist", "use the id run_started() returned")

    def last_run(self, kind: str, *, ok_only: bool = False) -> RunRecord | None:
        """The newest run of a kind (only successful ones with ``ok_only``)."""
        query = select(t.runs).where(t.runs.c.kind == kind)
        if ok_only:
            query = query.where(t.runs.c.ok == 1)
        row = self._db.execute(
            query.order_by(t.runs.c.started.desc(), t.runs.c.id.desc()).limit(1)
        ).first()
        return _run(row) if row else None

    def recent_runs(self, limit: int = 20) -> list[RunRecord]:
        """The newest runs of any kind, newest first."""
        query = select(t.runs).order_by(t.runs.c.started.desc(), t.runs.c.id.desc()).limit(limit)
        return [_run(row) for row in self._db.execute(query)]
