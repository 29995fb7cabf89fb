"""Online backups of the ledger, their rotation, and restore (R16: "a reliable state").

``backup`` uses SQLite's online backup API (``sqlite3.Connection.backup``) in one step, which copies a
consistent snapshot while the service keeps writing (WAL: the writer is never blocked). The copy is
written as ``<stem>-<YYYYMMDDTHHMMSSZ>.sqlite3.partial`` (0600), switched to a single-file journal,
checked (``PRAGMA integrity_check``, the audit chain and the data against it: ``sync.ledger.verify``)
and checked to *extend the previous backup*: its chain must still hold the previous backup's newest
event with the same hash, unless it records a ``restore`` made since (the history branched there on
purpose). Only then is it renamed into place and the newest ``keep`` backups of that ledger are
kept; a refused backup deletes nothing, so the good ones stay. ``restore`` refuses a backup that
fails the same checks, moves the current ledger aside (``*.before-restore-<ts>``, with its WAL),
never deleting it, copies the backup in (0600), migrates it if it is older, re-anchors the chain head
(the restored chain does not extend the old anchor) and appends an audit event ``restore`` naming
the backup and the head anchored before.
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
from sync.ledger import anchor as anchors
from sync.ledger.audit import AuditReport
from sync.ledger.db import translate
from sync.ledger.ledger import Ledger
from sync.ledger.model import aware
from sync.ledger.verify import verify_database

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


def registered_files(path: Path | str) -> list[str]:
    """The ids of the spreadsheets a ledger file registers (journals, class and admin sheets),
    read without migrating or locking it: what tells whose school a backup is."""
    with _sqlite(Path(path)) as connection:
        rows = connection.execute(
            "SELECT id FROM files WHERE kind != 'diary' ORDER BY id"
        ).fetchall()
    return [str(row[0]) for row in rows]


def check_file(path: Path) -> AuditReport:
    """Integrity check plus the audit check (chain and data) of a ledger file; raises if bad."""
    if not path.is_file():
        raise StoreError(f"{path} does not exist", "list the backups with 'ejournal backup --list'")
    with _sqlite(path) as connection:
        result = connection.execute("PRAGMA integrity_check").fetchall()
        if result != [("ok",)]:
            first = result[0][0] if result else "no answer"
            raise StoreError(f"{path} failed the integrity check: {first}", "use an older backup")
        report = verify_database(connection).report
    if not report.ok:
        more = len(report.problems) - 1
        what = "audit chain broken" if report.first_bad_id is not None else "audit check failed"
        raise StoreError(
            f"{path}: {what}: {report.problem}"
            + (f" (and {more} more problems)" if more else ""),
            "use an older backup; `ejournal audit verify` lists every problem of the live ledger",
        )
    return report


def _extends(path: Path, previous: BackupInfo) -> None:
    """Refuse a backup whose chain does not extend ``previous``'s (see the module)."""
    with _sqlite(previous.path) as old:
        mark = anchors.head_mark(old)
        if mark is None:
            return
        with _sqlite(path) as new:
            trouble = anchors.problem(new, mark, f"that ends the previous backup {previous.path.name}")
            if trouble is None:
                return
            restored = new.execute(
                "SELECT id, hash FROM audit WHERE kind = 'restore' ORDER BY id DESC LIMIT 1"
            ).fetchone()
        if restored is not None and anchors.problem(old, anchors.Mark(*restored), "") is not None:
            logger.warning(  # a restore the previous backup does not hold: made since it
                "backup: the ledger was restored since %s (event %d); its history branches there",
                previous.path.name, restored[0],
            )
            return
    raise StoreError(
        f"backup refused: the ledger's audit chain does not extend the previous backup: {trouble}",
        "the earlier backups are kept; run `ejournal audit verify` and restore the newest good"
        " backup (`ejournal restore PATH`)",
    )


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
        dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    final = dest / f"{source.stem}-{_stamp(now)}.sqlite3"
    if final.exists():
        raise StoreError(f"backup {final} already exists", "one backup per second at most; retry")
    previous = next((b for b in list_backups(dest) if b.ledger == source.stem), None)
    partial = final.with_name(final.name + ".partial")
    try:
        with _files("writing the backup"):
            partial.unlink(missing_ok=True)
            anchors.create_private(partial)
        with _sqlite(source) as src, _sqlite(partial) as dst:
            src.backup(dst)  # pages=-1: one step, a consistent snapshot
            dst.execute("PRAGMA journal_mode = DELETE")  # a self-contained single file
        report = check_file(partial)
        if previous is not None:
            _extends(partial, previous)
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


def restore(
    backup_path: Path | str,
    ledger_path: Path | str,
    now: datetime,
    *,
    anchor: Path | None = None,
) -> Restored:
    """Replace the ledger by a verified backup; the current ledger is moved aside, never deleted;
    ``anchor``: the chain-head anchor, re-anchored on the restored chain. Every registered file
    is put on the dirty list: the next sync cycle re-reads them all (marks typed since the backup
    come in), no ``rebuild`` needed."""
    aware(now)
    source, target = Path(backup_path), Path(ledger_path)
    checked = check_file(source)
    before = anchors.read_mark(anchor) if anchor is not None else None  # damaged: nothing moved
    incoming = target.with_name(target.name + ".restoring")
    with _files(
        f"copying {source.name} next to the ledger"
    ):  # first, so a full disk changes nothing
        target.parent.mkdir(parents=True, exist_ok=True)
        incoming.unlink(missing_ok=True)
        anchors.create_private(incoming)
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
    if anchor is not None:
        with _sqlite(target) as restored:
            mark = anchors.head_mark(restored)
        if mark is not None:
            anchors.write_mark(anchor, mark, now)
        else:
            with _files(f"removing the anchor {anchor}"):
                anchor.unlink(missing_ok=True)
    with Ledger.open(target, now=now, anchor=anchor) as ledger, ledger.transaction() as tx:
        # the spreadsheets moved on since the backup: the next cycle reads every one of them
        tx.add_dirty_files({f.id for f in tx.files()}, now)
        head = tx.audit_append(
            "restore",
            {
                "backup": source.name,
                "backup_head": checked.head,
                "backup_events": checked.events,
                "previous": previous.name if previous else None,
                "anchor_before": [before.event, before.head] if before else None,
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
