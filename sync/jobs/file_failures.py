"""Per-file failures of a sync cycle, and the files it rebuilds from the ledger.

Busy (a lock file, a save in progress) is skipped and retried next cycle; any other failure is
counted with its file id and retried too; a *damaged* file (settled bytes that are no spreadsheet:
:class:`~sync.backends.protocol.FileDamaged`) cannot get better by waiting, so it is set aside —
the local backend moves it to ``.trash/``, kept for a person to look at — and rebuilt from the
ledger under its own name, with every cell the ledger had taken in from it.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from datetime import datetime

from rules.errors import EjournalError
from sync.backends.protocol import FileBusy
from sync.jobs.repair import rebuild_file, set_aside
from sync.jobs.service import Service
from sync.jobs.summary import CycleSummary, FileProblem, describe
from sync.ledger.model import FileRecord

log = logging.getLogger(__name__)


def file_failed(summary: CycleSummary, file_id: str, what: str, exc: BaseException) -> None:
    """Count one file's failure (busy: skipped) for the summary and the log (ids only)."""
    if isinstance(exc, FileBusy):
        log.info("file %s busy (%s): retried next cycle", file_id, what)
        summary.skipped_busy.append(file_id)
        return
    log.warning("file %s: %s failed: %s", file_id, what, describe(exc))
    summary.failed.append(FileProblem(file_id, f"{what}: {describe(exc)}"))


def rebuild_files(svc: Service, files: list[FileRecord], damaged: Collection[str],
                  summary: CycleSummary, now: datetime) -> set[str]:
    """Rebuild each file gone (or damaged: set aside first); the ids fully handled."""
    done: set[str] = set()
    for record in files:
        try:
            if record.id in damaged:
                set_aside(svc, record)
                summary.set_aside.append(record.id)
            new = rebuild_file(svc, record, now=now)
        except EjournalError as exc:
            file_failed(summary, record.id, "rebuild", exc)
            continue
        summary.rebuilt.append(new.id)
        done.add(record.id)
    return done
