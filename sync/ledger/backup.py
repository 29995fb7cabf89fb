"""Online backups of the ledger, their rotation, and restore (R16: "a reliable state").

``backup`` uses SQLite's online backup API (``sqlite3.Connection.backup``) in one step, which copies a
consistent snapshot while the service keeps writing (WAL: the writer is never blocked). The copy is
written as ``<stem>-<YYYYMMDDTHHMMSSZ>.sqlite3.partial``, switched to a single-file journal, checked
(``PRAGMA integrity_check`` and the whole audit chain) and only then renamed into place; the newest
``keep`` backups of that ledger are kept. ``restore`` refuses a backup that fails the same checks,
moves the current ledger aside (``*.before-restore-<ts>``, with its WAL), never deleting it, copies the
backup in, migrates it if it is older, and appends an audit event ``restore``.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sqlite3
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from rules.errors import StoreError
from sync.ledger.audit import AuditReport, verify_rows
from sync.ledger.db import translate
from sync.ledger.ledger import Ledger
from sync.ledger.model import aware
from sync.ledger.state import AUDIT_HEAD_KEY

logger = logging.getLogger(__name__)

STAMP = "%Y%m%dT%H%M%SZ"
_NAME = re.compile(r"^(?P<stem>.+)-(?P<stamp>\d{8}T\d{6}Z)\.sqlite3$")


@dataclass(frozen=True, slots=True)
class BackupInfo:
    path: Path
    ledger: str  # the ledger file's stem the backup was taken of
    taken_at: datetime
    size: int


@dataclass(frozen=True, slots=True)
class Restored:
    """Outcome of ``restore``: the ledger now in place, where the previous one went, the new head."""

    ledger: Path
    previous: Path | None
    head: str


def _stamp(now: datetime) -> str:
    return aware(now).astimezone(UTC).strftime(STAMP)


@contextmanager
def _files(what: str) -> Iterator[None]:
    """Turn OSError (disk full, permissions) during file moves into StoreError."""
    try:
        yield
    except OSError as exc:
        raise StoreError(
            f"{what} failed: {exc.strerror or exc} ({exc.filename or ''})",
            "check free disk space and the service user's permissions; nothing was deleted",
        ) from exc


@contextmanager
def _sqlite(path: Path, *, busy_timeout: float = 10.0) -> Iterator[sqlite3.Connection]:
    """A plain sqlite3 connection to an existing file, errors translated, always closed."""
    with translate(path), closing(sqlite3.connect(path, timeout=busy_timeout)) as connection:
        yield connection


def check_file(path: Path) -> AuditReport:
    """Integrity check plus audit-chain verification of a ledger file; raises StoreError if bad."""
    if not path.is_file():
        raise StoreError(f"{path} does not exist", "list the backups with 'ejournal backup --list'")
    with _sqlite(path) as connection:
        result = connection.execute("PRAGMA integrity_check").fetchall()
        if result != [("ok",)]:
            first = result[0][0] if result else "no answer"
            raise StoreError(f"{path} failed the integrity check: {first}", "use an older backup")
        head_row = connection.execute(
            "SELECT value FROM state WHERE key = ?", (AUDIT_HEAD_KEY,)
        ).fetchone()
        cursor = connection.execute(
            "SELECT id, at, kind, payload, prev_hash, hash FROM audit ORDER BY id"
        )
        report = verify_rows(cursor, head_row[0] if head_row else None)
    if not report.ok:
        raise StoreError(f"{path}: audit chain broken: {report.problem}", "use an older backup")
    return report


def backup(
    ledger_or_path: Ledger | Path | str, dest_dir: Path | str, now: datetime, keep: int = 14
) -> Path:
    """Copy the ledger online into ``dest_dir``, verify the copy, rotate; returns the backup path."""
    if keep < 1:
        raise StoreError(f"keep must be at least 1, got {keep}", "keep the newest backup at least")
    source = ledger_or_path.path if isinstance(ledger_or_path, Ledger) else Path(ledger_or_path)
    if not source.is_file():
        raise StoreError(f"ledger {source} does not exist", "check [ledger] path in school.toml")
    dest = Path(dest_dir)
    with _files(f"creating the backup folder {dest}"):
        dest.mkdir(parents=True, exist_ok=True)
    final = dest / f"{source.stem}-{_stamp(now)}.sqlite3"
    if final.exists():
        raise StoreError(f"backup {final} already exists", "one backup per second at most; retry")
    partial = final.with_name(final.name + ".partial")
    try:
        with _files("writing the backup"):
            partial.unlink(missing_ok=True)
        with _sqlite(source) as src, _sqlite(partial) as dst:
            src.backup(dst)  # pages=-1: one step, a consistent snapshot
            dst.execute("PRAGMA journal_mode = DELETE")  # a self-contained single file
        report = check_file(partial)
        with _files("writing the backup"):
            os.replace(partial, final)
    finally:
        partial.unlink(missing_ok=True)
    logger.info(
        "ledger %s backed up to %s (%d audit events, %d bytes)",
        source,
        final,
        report.events,
        final.stat().st_size,
    )
    _rotate(dest, source.stem, keep)
    return final


def list_backups(dest_dir: Path | str) -> list[BackupInfo]:
    """Backups in ``dest_dir``, newest first (files named ``<stem>-<timestamp>.sqlite3``)."""
    folder = Path(dest_dir)
    if not folder.is_dir():
        return []
    found = []
    for path in folder.iterdir():
        match = _NAME.match(path.name)
        if match and path.is_file():
            taken = datetime.strptime(match["stamp"], STAMP).replace(tzinfo=UTC)
            found.append(BackupInfo(path, match["stem"], taken, path.stat().st_size))
    return sorted(found, key=lambda b: (b.taken_at, b.path.name), reverse=True)


def _rotate(dest: Path, stem: str, keep: int) -> None:
    mine = [b for b in list_backups(dest) if b.ledger == stem]
    for old in mine[keep:]:
        old.path.unlink(missing_ok=True)
        logger.info("backup %s rotated out", old.path.name)


def restore(backup_path: Path | str, ledger_path: Path | str, now: datetime) -> Restored:
    """Replace the ledger by a verified backup; the current ledger is moved aside, never deleted."""
    aware(now)
    source, target = Path(backup_path), Path(ledger_path)
    checked = check_file(source)
    incoming = target.with_name(target.name + ".restoring")
    with _files(
        f"copying {source.name} next to the ledger"
    ):  # first, so a full disk changes nothing
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, incoming)
    previous: Path | None = None
    try:
        if target.exists():
            _checkpoint(target)
            previous = target.with_name(f"{target.name}.before-restore-{_stamp(now)}")
            if previous.exists():
                raise StoreError(
                    f"{previous} already exists", "wait a second and retry the restore"
                )
            with _files(f"moving the current ledger aside to {previous.name}"):
                for suffix in ("-wal", "-shm"):
                    side = target.with_name(target.name + suffix)
                    if side.exists():
                        os.replace(side, previous.with_name(previous.name + suffix))
                os.replace(target, previous)
        with _files("putting the backup in place"):
            os.replace(incoming, target)
    finally:
        incoming.unlink(missing_ok=True)
    with Ledger.open(target, now=now) as ledger, ledger.transaction() as tx:
        head = tx.audit_append(
            "restore",
            {
                "backup": source.name,
                "backup_head": checked.head,
                "backup_events": checked.events,
                "previous": previous.name if previous else None,
            },
            now,
        )
    logger.info("ledger %s restored from %s (previous kept as %s)", target, source, previous)
    return Restored(target, previous, head)


def _checkpoint(path: Path) -> None:
    """Fold the WAL into the main file and make sure no other process is writing."""
    try:
        with _sqlite(path, busy_timeout=2.0) as connection:
            connection.execute("BEGIN IMMEDIATE")
            connection.execute("ROLLBACK")
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    except StoreError as exc:
        if "locked" in exc.message:
            raise StoreError(
                f"ledger {path} is in use by another process",
                "stop the ejournal daemon before restoring",
            ) from exc
        logger.warning(
            "ledger %s could not be checkpointed (%s); moving it aside as it is", path, exc.message
        )
