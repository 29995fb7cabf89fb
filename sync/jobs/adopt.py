"""Registered files re-adopted after the local backend's manifest was lost (issue 9, item 4).

A file is re-adopted under its own id only when its name is the registered file's name and its
content proves it the service's: byte for byte the version the ledger last saw or wrote, or (a
journal, a class sheet) hidden pupil ids all of that class. Whatever cannot be proven is left
alone and reported by name; nothing is created beside it, so nothing is duplicated. A new
manifest knows no sharing and no protection state: the adopted files are shared again at once,
and the next lock run sets their open cells again (the protection itself is in the files).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime

from rules.errors import BackendError
from sync.backends.protocol import FoundFile, LostFiles
from sync.jobs.acl import run_acl
from sync.jobs.service import Service, split_journal_key
from sync.jobs.summary import CycleSummary, describe
from sync.layout.labels import RU
from sync.ledger.model import FileKind, FileRecord

log = logging.getLogger(__name__)


@dataclass
class Readoption:
    """What a re-adoption did: the names of the files adopted and of those left alone."""

    adopted: list[str] = field(default_factory=list)
    unproven: list[str] = field(default_factory=list)  # a file of that name, not provably ours
    absent: list[str] = field(default_factory=list)  # no file of that name at all
    failed: list[str] = field(default_factory=list)  # sharing not restored (file id: why)

    def errors(self) -> list[str]:
        """The lines a summary reports as errors (what stays unaccounted for)."""
        return [f"re-adoption: «{name}» is in the sheets folder but its content does not prove "
                "it is the registered spreadsheet (left alone; move it out of the folder to have "
                "it re-created)" for name in self.unproven] + [
                    f"re-adoption: sharing of file {f}" for f in self.failed]


def readopt_lost_files(svc: Service, now: datetime) -> Readoption | None:
    """On the local backend with its manifest lost: adopt what is provably ours (see the module
    docstring). None when there was nothing to do."""
    finder = getattr(svc.backend, "lost_files", None)
    lost: LostFiles | None = finder() if finder is not None else None
    if lost is None:
        return None
    with svc.ledger.snapshot() as tx:
        records = tx.files()
    result, chosen = Readoption(), dict[str, tuple[str, FoundFile]]()
    for record in records:
        found = lost.named(record.name, RU.pupil_id)
        proven = [f for f in found if _proves(svc, record, f)]
        if len(proven) == 1:
            chosen[record.id] = (record.name, proven[0])
            result.adopted.append(record.name)
        else:  # none, or two equally good (a copy): neither is taken
            (result.unproven if found else result.absent).append(record.name)
    if chosen:
        lost.adopt(chosen)
    protected = [r.id for r in records
                 if r.id in chosen and r.kind in (FileKind.JOURNAL, FileKind.CLASS)]
    with svc.ledger.transaction() as tx:  # the next lock run sets their open cells again
        for file_id in protected:
            tx.record_open_ranges(file_id, None, now)
    if chosen:  # listed and repaired: the new manifest holds no grant at all
        shared = run_acl(svc, now, fix=True, file_ids=chosen)
        result.failed += [f"{d.file_id}: {error}" for d, error in shared.failed]
    log.warning("manifest lost: %d file(s) re-adopted, %d not provably ours, %d absent",
                len(result.adopted), len(result.unproven), len(result.absent))
    return result


def _proves(svc: Service, record: FileRecord, found: FoundFile) -> bool:
    """``found`` is the registered ``record``: the content the ledger last saw, or hidden ids
    that are all pupils of the record's class."""
    version = record.last_seen_version or ""
    if version and found.digest == version.rsplit("-", 1)[-1]:
        return True
    if record.kind not in (FileKind.JOURNAL, FileKind.CLASS):
        return False
    class_id = split_journal_key(record.key)[0] if record.kind is FileKind.JOURNAL else record.key
    pupils = {p.id for p in svc.school.pupils_in(class_id)}
    return bool(found.hidden_ids) and all(ids and ids <= pupils for ids in found.hidden_ids)


def readopt_into(svc: Service, summary: CycleSummary, now: datetime) -> None:
    """A sync cycle's step: :func:`readopt_lost_files`, its outcome and failure put in ``summary``."""
    try:
        done = readopt_lost_files(svc, now)
    except (BackendError, OSError) as exc:
        log.warning("sync cycle: re-adoption failed: %s", describe(exc))
        summary.errors.append(f"re-adoption: {describe(exc)}")
        return
    if done is not None:
        summary.readopted = done.adopted
        summary.errors += done.errors()


__all__ = ["Readoption", "readopt_into", "readopt_lost_files"]
