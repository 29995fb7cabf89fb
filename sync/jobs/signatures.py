"""Who signed a correction (R7): only a deputy director's row changes a locked cell.

The «Подписано» mark in a row is typed text anyone with access could type, so on Google the
signer is the person Drive names as the last to modify the admin spreadsheet when the service
reads rows new to it (``FileInfo.modified_by`` of the change feed, else of one ``info`` call): a
row is applied only when that person is one of ``[school] deputy_emails``; a row by anyone else is
answered «отклонено: не подписано заместителем директора» — the signer is audited either way. When
the last change was the service's own (its status write), the signer of a new row is unknown: the
row waits for the next change of the sheet. A row deferred because its journal could not be read
keeps the signer it was read with (ledger state ``CORRECTIONS_SIGNERS_KEY``).

Limits, written down: Drive names only the LAST modifier, so a row typed by someone else just
before a deputy's own edit is taken as the deputy's; and the local backend knows no users at all
(``modified_by`` None): there the admin workbook must live where only the deputies can write —
``[backend] private_folder``. Without one, every row is rejected (:data:`NOT_PRIVATE`): in the
teachers' folder anyone who keeps a journal could sign a correction of their own marks.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime

from config.school import BackendKind, School
from sync.backends.protocol import FileInfo
from sync.jobs.service import Service
from sync.ledger.ledger import Tx
from sync.ledger.state import CORRECTIONS_SIGNERS_KEY

UNSIGNED = "не подписано заместителем директора (последним лист изменял {who})"
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


@dataclass
class Signatures:
    """The signers of one pass over «Исправления»."""

    signer: str | None  # of this read (see :func:`signer_of_read`)
    deputies: frozenset[str]
    remembered: dict[str, str] = field(default_factory=dict)  # row key → signer, rows deferred
    refused: str | None = None  # every row is rejected for this (:func:`place_problem`)

    @classmethod
    def load(cls, tx: Tx, signer: str | None, svc: Service) -> Signatures:
        text = tx.state_get(CORRECTIONS_SIGNERS_KEY)
        # a backend that names nobody (local) is only safe with the workbook in a private folder
        unsafe = signer is None and not getattr(svc.backend, "keeps_private", True)
        return cls(signer, frozenset(d.lower() for d in svc.school.deputy_emails),
                   json.loads(text) if text else {}, NOT_PRIVATE if unsafe else None)

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
        if who is None or who == "" or who in self.deputies:
            return None
        return UNSIGNED.format(who=who)

    def save(self, tx: Tx, deferred: set[str], now: datetime) -> None:
        """Keep the signers of the rows deferred now; forget the others."""
        keep = {k: v for k in deferred if (v := self.of(k) or "")}
        text = json.dumps(keep, sort_keys=True)
        if (tx.state_get(CORRECTIONS_SIGNERS_KEY) or "{}") != text:
            tx.state_set(CORRECTIONS_SIGNERS_KEY, text, now)


__all__ = ["NOT_PRIVATE", "UNSIGNED", "Signatures", "place_problem", "signer_of_read"]
