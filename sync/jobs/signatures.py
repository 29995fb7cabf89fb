"""Who signed a correction (R7): only a deputy director's row changes a locked cell.

The «Подписано» mark in a row is typed text anyone with access could type, so on Google the
signer is the person Drive names as the last to modify the admin spreadsheet when the service
reads rows new to it (``FileInfo.modified_by`` of the change feed, else of one ``info`` call): a
row is applied only when that person is one of ``[school] deputy_emails``; a row by anyone else is
answered «отклонено: не подписано заместителем директора» — the signer is audited either way. When
the last change was the service's own (its status write), the signer of a new row is unknown: the
row waits for the next change of the sheet. A row deferred because its journal could not be read
keeps the signer it was read with (ledger state ``CORRECTIONS_SIGNERS_KEY``).

Drive names only the LAST modifier, so a row typed by someone else just before a deputy's own
edit would pass as the deputy's: a row is therefore applied only when nobody but the deputies and
the service may write the admin spreadsheet at the read (its permissions listed, one Drive call,
only when a new row is decided: :func:`foreign_writers`); while anyone else may (a teacher made
writer by hand, a link share), every new row is rejected (:data:`FOREIGN_WRITERS`, naming them) and
``acl`` takes the grant away. That check is made when a row is FIRST seen, whoever Drive names
(a row whose signer is unknown yet is checked too, and remembered as ``"?"`` while it waits): a
row typed by a writer who has lost the grant since must never wait for the deputy's next edit to
pass as hers. And a grant taken away before the service read the rows typed under it leaves rows
nobody can prove: when ``acl`` revokes a writer of the admin spreadsheet and the sheet changed
since the service last read it (:func:`note_lost_writers`, one Drive call), every row new at the
next pass is rejected (:data:`EXPOSED`); a writer removed by hand outside the service cannot be
seen — Drive keeps no per-row author. The shared drive's managers (inherited ``organizer``) are not
counted: they can grant themselves anything, so no check keeps them out — give that role to the
school's administrators only. The local backend knows no users at all
(``modified_by`` None): there the admin workbook must live where only the deputies can write —
``[backend] private_folder``. Without one, every row is rejected (:data:`NOT_PRIVATE`): in the
teachers' folder anyone who keeps a journal could sign a correction of their own marks.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from datetime import datetime

from config.school import BackendKind, School
from rules.errors import BackendError
from sync.backends.protocol import FileInfo, Role
from sync.jobs.own_writes import remember_own_writes
from sync.jobs.service import Service
from sync.ledger.ledger import Tx
from sync.ledger.model import FileKind
from sync.ledger.state import (
    CORRECTIONS_EXPOSED_KEY,
    CORRECTIONS_SIGNERS_KEY,
    CORRECTIONS_UNANSWERED_KEY,
)

UNSIGNED = "не подписано заместителем директора (последним лист изменял {who})"
FOREIGN_WRITERS = ("книгу «Исправления» может изменять не только заместитель директора ({who}), "
                   "подпись строки не доказана; уберите у них право записи и впишите строку заново")
EXPOSED = ("подпись строки не доказана: до того как сервис прочёл эту строку, книгу «Исправления» "
           "мог изменять не только заместитель директора ({who}, право записи снято); проверьте "
           "строку и внесите исправление заново новой строкой, дополнив причину")
UNPROVEN = "?"  # a deferred row's remembered signer: unknown, but first seen with no foreign writer
WRITING = frozenset({Role.WRITER, Role.OWNER, Role.FILE_ORGANIZER, Role.ORGANIZER})
NOT_PRIVATE = ("книга с листом «Исправления» лежит в папке учителей, подписать строку там может "
               "любой; исправления применяются, только когда книга администрации в закрытой папке "
               "заместителей директора (private_folder в разделе [backend] файла school.toml)")


def place_problem(school: School) -> str | None:
    """Why the local backend's corrections cannot be trusted (Russian), or None: without a
    private folder its admin workbook lives in the teachers' folder (``ejournal check`` warns)."""
    backend = school.backend
    if backend.kind is BackendKind.LOCAL and backend.private_folder is None:
        return NOT_PRIVATE
    return None


def signer_of_read(svc: Service, admin_id: str, seen: FileInfo | None) -> str | None:
    """Who last changed the admin spreadsheet as the cycle read it: an e-mail, "" when unknown
    (the service's own write was the last), None when the backend knows no users."""
    info = seen if seen is not None else svc.backend.info(admin_id)
    who = info.modified_by
    if who is None:
        return None
    return "" if who.lower() == svc.backend.principal.lower() else who.lower()


def note_lost_writers(svc: Service, file_id: str, who: Collection[str], now: datetime) -> None:
    """``acl`` took write access to ``file_id`` from ``who``: when that is the admin spreadsheet
    and it changed since the service last read it, or the rows of that read were never decided (a
    crash between the cycle's commit and its corrections pass: ``CORRECTIONS_UNANSWERED_KEY``),
    rows of theirs may be there unproven: the next pass rejects every row new to it
    (:data:`EXPOSED`). A revoke later in the cycle that answered the rows exposes nothing."""
    if not who:
        return
    remember_own_writes(svc)  # the revokes themselves moved the version: they are ours
    with svc.ledger.snapshot() as tx:
        record = tx.file(file_id)
        unfinished = tx.state_get(CORRECTIONS_UNANSWERED_KEY) == "1"  # read, not decided (a crash)
    if record is None or record.kind is not FileKind.ADMIN:
        return
    try:
        unseen = unfinished or svc.backend.info(file_id).version != record.last_seen_version
    except BackendError:
        unseen = True  # cannot tell: as if changed
    if not unseen:
        return
    with svc.ledger.transaction() as tx:
        known = set(json.loads(tx.state_get(CORRECTIONS_EXPOSED_KEY) or "[]"))
        tx.state_set(CORRECTIONS_EXPOSED_KEY, json.dumps(sorted(known | set(who))), now)
        tx.set_dirty_files(tx.dirty_files() | {file_id}, now)  # the next cycle reads it at once
        tx.audit_append("corrections.exposed", {"file": file_id, "writers": sorted(who)}, now)


def foreign_writers(svc: Service, admin_id: str) -> list[str]:
    """Who, besides the deputies and the service's principals, may change the admin spreadsheet
    now (one Drive call); a shared-drive manager is not counted (see the module)."""
    allowed = {d.lower() for d in svc.school.deputy_emails} | svc.principals()
    out: set[str] = set()
    for grant in svc.backend.grants(admin_id):
        if grant.role not in WRITING or (grant.inherited and grant.role is Role.ORGANIZER):
            continue
        who = grant.email.lower() if grant.kind == "user" else f"{grant.kind} {grant.email}"
        if who not in allowed:
            out.add(who)
    return sorted(out)


@dataclass
class Signatures:
    """The signers of one pass over «Исправления»."""

    signer: str | None  # of this read (see :func:`signer_of_read`)
    deputies: frozenset[str]
    remembered: dict[str, str] = field(default_factory=dict)  # row key → signer, rows deferred
    refused: str | None = None  # every row is rejected for this (:func:`place_problem`)
    writers: Callable[[], list[str]] = list  # who else may write the sheet (asked once, lazily)
    exposed: list[str] = field(default_factory=list)  # writers revoked with rows unseen
    _foreign: list[str] | None = None

    @classmethod
    def load(cls, tx: Tx, signer: str | None, svc: Service, admin_id: str = "") -> Signatures:
        text = tx.state_get(CORRECTIONS_SIGNERS_KEY)
        # a backend that names nobody (local) is only safe with the workbook in a private folder
        unsafe = signer is None and not getattr(svc.backend, "keeps_private", True)
        return cls(signer, frozenset(d.lower() for d in svc.school.deputy_emails),
                   json.loads(text) if text else {}, NOT_PRIVATE if unsafe else None,
                   lambda: foreign_writers(svc, admin_id),
                   json.loads(tx.state_get(CORRECTIONS_EXPOSED_KEY) or "[]"))

    def of(self, row_key: str) -> str | None:
        """The row's signer: None (no users to check), "" (unknown yet), or an e-mail."""
        if self.signer is None:
            return None
        remembered = self.remembered.get(row_key, UNPROVEN)
        return self.signer if remembered == UNPROVEN else remembered

    def problem(self, row_key: str) -> str | None:
        """Why the row may not change the ledger (Russian), or None."""
        if self.refused:
            return self.refused
        who = self.of(row_key)
        if who is None:
            return None
        if who and who not in self.deputies:
            return UNSIGNED.format(who=who)
        if self._foreign is None:
            self._foreign = self.writers()
        if self._foreign:
            return FOREIGN_WRITERS.format(who=", ".join(self._foreign))
        if self.exposed and row_key not in self.remembered:
            return EXPOSED.format(who=", ".join(self.exposed))
        return None

    def save(self, tx: Tx, deferred: set[str], now: datetime) -> None:
        """Keep the signers of the rows deferred now (:data:`UNPROVEN` for an unknown one);
        forget the others. The pass has answered the exposure (:func:`note_lost_writers`)."""
        keep = {k: v or UNPROVEN for k in deferred if (v := self.of(k)) is not None}
        text = json.dumps(keep, sort_keys=True)
        if (tx.state_get(CORRECTIONS_SIGNERS_KEY) or "{}") != text:
            tx.state_set(CORRECTIONS_SIGNERS_KEY, text, now)
        if self.exposed:
            tx.state_set(CORRECTIONS_EXPOSED_KEY, "[]", now)
        if tx.state_get(CORRECTIONS_UNANSWERED_KEY) == "1":
            tx.state_set(CORRECTIONS_UNANSWERED_KEY, "", now)  # every row read is decided now


__all__ = ["EXPOSED", "FOREIGN_WRITERS", "NOT_PRIVATE", "UNSIGNED", "Signatures", "foreign_writers",
           "note_lost_writers", "place_problem", "signer_of_read"]
