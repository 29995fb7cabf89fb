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
``acl`` takes the grant away. The shared drive's managers (inherited ``organizer``) are not
counted: they can grant themselves anything, so no check keeps them out — give that role to the
school's administrators only. The local backend knows no users at all
(``modified_by`` None): there the admin workbook must live where only the deputies can write —
``[backend] private_folder``. Without one, every row is rejected (:data:`NOT_PRIVATE`): in the
teachers' folder anyone who keeps a journal could sign a correction of their own marks.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from config.school import BackendKind, School
from sync.backends.protocol import FileInfo, Role
from sync.jobs.service import Service
from sync.ledger.ledger import Tx
from sync.ledger.state import CORRECTIONS_SIGNERS_KEY

UNSIGNED = "не подписано заместителем директора (последним лист изменял {who})"
FOREIGN_WRITERS = ("книгу «Исправления» может изменять не только заместитель директора ({who}), "
                   "подпись строки не доказана; уберите у них право записи и впишите строку заново")
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
    _foreign: list[str] | None = None

    @classmethod
    def load(cls, tx: Tx, signer: str | None, svc: Service, admin_id: str = "") -> Signatures:
        text = tx.state_get(CORRECTIONS_SIGNERS_KEY)
        # a backend that names nobody (local) is only safe with the workbook in a private folder
        unsafe = signer is None and not getattr(svc.backend, "keeps_private", True)
        return cls(signer, frozenset(d.lower() for d in svc.school.deputy_emails),
                   json.loads(text) if text else {}, NOT_PRIVATE if unsafe else None,
                   lambda: foreign_writers(svc, admin_id))

    def of(self, row_key: str) -> str | None:
        """The row's signer: None (no users to check), "" (unknown yet), or an e-mail."""
        if self.signer is None:
            return None
        return self.remembered.get(row_key) or self.signer

    def problem(self, row_key: str) -> str | None:
        """Why the row may not change the ledger (Russian), or None."""
        if self.refused:
            return self.refused
        who = self.of(row_key)
        if who is None or who == "":
            return None
        if who not in self.deputies:
            return UNSIGNED.format(who=who)
        if self._foreign is None:
            self._foreign = self.writers()
        return FOREIGN_WRITERS.format(who=", ".join(self._foreign)) if self._foreign else None

    def save(self, tx: Tx, deferred: set[str], now: datetime) -> None:
        """Keep the signers of the rows deferred now; forget the others."""
        keep = {k: v for k in deferred if (v := self.of(k) or "")}
        text = json.dumps(keep, sort_keys=True)
        if (tx.state_get(CORRECTIONS_SIGNERS_KEY) or "{}") != text:
            tx.state_set(CORRECTIONS_SIGNERS_KEY, text, now)


__all__ = ["FOREIGN_WRITERS", "NOT_PRIVATE", "UNSIGNED", "Signatures", "foreign_writers",
           "place_problem", "signer_of_read"]
