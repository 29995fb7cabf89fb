"""The teachers' board kept up to date: the newest weekly analysis of journal keeping in the
«Анализ ведения журналов» spreadsheet every teacher reads (``sync.layout.board``).

:func:`publish_board` runs whenever the weekly analysis is built as the newest one (the daemon's
Monday job, ``ejournal report weekly``, the demo), from ``rebuild`` (forced) and from the daemon's
reports job while a write is pending. It compares the board's content — without the build moment
and the chain head, which move on every build — with the SHA-256 the ledger keeps of what was
written (``board.shown``): unchanged costs nothing; changed costs ONE ``replace_tabs`` write (both
tabs, RAW); a board never made, or deleted, is created (1 Drive create + 1 Sheets write) and
shared read only (``sync.jobs.sharing``). A failed write is recorded as pending and reported (the
caller's workbook is built and delivered all the same); the next publish writes it.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from rules.errors import BackendError, SheetAccessError
from sync.jobs.reports import latest_board
from sync.jobs.service import Service
from sync.jobs.spreadsheets import BOARD_KEY, create_file
from sync.layout.board.spec import BoardContent, board_spec, board_tabs
from sync.ledger.audit import content_hash
from sync.ledger.ledger import Ledger
from sync.ledger.model import FileKind, FileRecord
from sync.ledger.state import BOARD_SHOWN_KEY

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class BoardOutcome:
    """What one publish did: ``action`` is created | written | unchanged | failed."""

    action: str
    file_id: str | None = None
    writes: int = 0  # Sheets write calls (a create's layout write included)
    error: str | None = None

    @property
    def failed(self) -> bool:
        return self.action == "failed"

    def line(self) -> str:
        """One line for a command's output (ids, never names)."""
        if self.failed:
            return f"board: write failed, retried by the next run ({self.error})"
        return f"board: {self.action} (file {self.file_id}, {self.writes} write(s))"

    def to_json(self) -> dict[str, Any]:
        return {"action": self.action, "file": self.file_id, "writes": self.writes,
                "error": self.error}


def publish_board(svc: Service, now: datetime, content: BoardContent | None = None, *,
                  force: bool = False) -> BoardOutcome:
    """Write ``content`` (default: the newest analysis, from the ledger) to the board if it
    changed (``force``: in any case). Never raises for a backend failure: it is recorded as
    pending and returned."""
    if content is None:
        content = latest_board(svc.school, svc.ledger, now)
    digest = _digest(content)
    with svc.ledger.snapshot() as tx:
        record = tx.file_for(FileKind.BOARD, BOARD_KEY)
    shown = shown_state(svc.ledger)
    try:
        if record is None:
            return BoardOutcome("created", _create(svc, content, digest, now).id, 1)
        if (not force and shown.get("file") == record.id and shown.get("hash") == digest
                and not shown.get("pending")):
            return BoardOutcome("unchanged", record.id)
        try:
            svc.backend.replace_tabs(record.id, board_tabs(content))
        except SheetAccessError:
            log.warning("board %s is gone: creating it again", record.id)
            return BoardOutcome("created", _create(svc, content, digest, now).id, 1)
    except BackendError as exc:
        error = f"{type(exc).__name__}: {exc}"
        log.warning("board: write failed (%s); retried by the next run", type(exc).__name__)
        _remember(svc.ledger, {**shown, "pending": now.isoformat(), "error": error}, now)
        return BoardOutcome("failed", record.id if record else None, error=error)
    _remember(svc.ledger, {"file": record.id, "hash": digest, "written": now.isoformat()}, now)
    log.info("board %s written", record.id)
    return BoardOutcome("written", record.id, 1)


def rebuild_board(svc: Service, now: datetime) -> FileRecord:
    """The board file is gone (the repair path): create it anew with the newest analysis,
    registered under the same key and shared again."""
    content = latest_board(svc.school, svc.ledger, now)
    return _create(svc, content, _digest(content), now)


def _digest(content: BoardContent) -> str:
    return content_hash([t.rows for t in board_tabs(content.steady())])


def _create(svc: Service, content: BoardContent, digest: str, now: datetime) -> FileRecord:
    spec = board_spec(content, folder=svc.school.backend.shared_drive_folder_id)
    record, changes = create_file(svc, FileKind.BOARD, BOARD_KEY, spec, now=now)
    _remember(svc.ledger, {"file": record.id, "hash": digest, "written": now.isoformat()}, now)
    if changes.failed:  # the file is there; ``acl fix`` (daily) shares it
        log.warning("board %s created, %d grant(s) failed", record.id, len(changes.failed))
    log.info("board created as file %s", record.id)
    return record


def shown_state(ledger: Ledger) -> dict[str, Any]:
    """What the ledger knows of the board: file id, content hash, and ``pending`` (since when
    a write failed) with its ``error``."""
    with ledger.snapshot() as tx:
        text = tx.state_get(BOARD_SHOWN_KEY)
    return dict(json.loads(text)) if text else {}


def board_pending(ledger: Ledger) -> bool:
    """Whether a board write failed (or was skipped) and waits for the next run."""
    return bool(shown_state(ledger).get("pending"))


def mark_pending(ledger: Ledger, now: datetime, why: str) -> None:
    """Leave the board for the daemon's next reports run (``ejournal report --no-deliver``)."""
    _remember(ledger, {**shown_state(ledger), "pending": now.isoformat(), "error": why}, now)


def _remember(ledger: Ledger, state: dict[str, Any], now: datetime) -> None:
    with ledger.transaction() as tx:
        tx.state_set(BOARD_SHOWN_KEY, json.dumps(state, sort_keys=True), now)


__all__ = ["BoardOutcome", "board_pending", "mark_pending", "publish_board", "rebuild_board",
           "shown_state"]
