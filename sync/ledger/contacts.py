"""Ledger part holding the class pages' register: each pupil's parents (name, Google e-mail, the
date of their application — consent, R2/1.13) and the pupil's own account (slot 0), as the class
teacher keeps them on «Список класса» (R4/R5, 4.3). Who may read a diary comes from here once a
class page was read (``contacts_known``); before that, from the configuration.

Offering a class's register replaces it: a slot that changed is written and audited
(``contact.changed``: pupil, slot, old and new e-mail and consent), a slot no longer offered is
emptied (audited with ``new`` None; the row stays, so "changed since" sees it). Only valid values
are offered (the cycle keeps the old value of a slot whose new text is wrong, and reports it), so
the ledger never holds a malformed address.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import insert, select, update

from sync.ledger import schema as t
from sync.ledger.audit import AuditLog
from sync.ledger.model import aware, from_rows
from sync.ledger.state import CONTACTS_READ_KEY, get_state, put_state

PUPIL_SLOT = 0  # the pupil's own account, allowed to view (slot 0's ``consent``)


@dataclass(frozen=True, slots=True)
class ContactInput:
    """One slot of a pupil's row on «Список класса» (``email`` lower case)."""

    pupil_id: str
    slot: int
    name: str
    email: str
    consent: date | None


@dataclass(frozen=True, slots=True)
class ContactRecord:
    class_id: str
    pupil_id: str
    slot: int
    name: str
    email: str
    consent: date | None
    updated_at: datetime


class ContactsPart(AuditLog):
    """The parents' register of each class (see the module docstring)."""

    def contacts(self, class_id: str | None = None, pupil_id: str | None = None
                 ) -> list[ContactRecord]:
        """The register (of one class, or one pupil), by pupil and slot."""
        c = t.contacts.c
        query = select(t.contacts)
        if class_id is not None:
            query = query.where(c.class_id == class_id)
        if pupil_id is not None:
            query = query.where(c.pupil_id == pupil_id)
        return from_rows(ContactRecord, self._db.execute(query.order_by(c.pupil_id, c.slot)))

    def contacts_known(self, class_id: str) -> bool:
        """Whether the class page's register was read at least once (else: the configuration)."""
        return get_state(self._db, CONTACTS_READ_KEY.format(class_id=class_id)) is not None

    def accept_contacts(self, class_id: str, items: Iterable[ContactInput], now: datetime
                        ) -> set[str]:
        """Replace the class's register by ``items``; returns the pupils whose slots changed."""
        aware(now)
        c = t.contacts.c
        current = {(r.pupil_id, r.slot): r for r in self.contacts(class_id)}
        offered = {(i.pupil_id, i.slot): i for i in items}
        changed: set[str] = set()
        events: list[tuple[str, dict[str, Any]]] = []
        for key, item in offered.items():
            row = current.get(key)
            new = {"name": item.name, "email": item.email, "consent": item.consent}
            if row is not None and (row.name, row.email, row.consent) == tuple(new.values()):
                continue
            if row is None:
                self._db.execute(insert(t.contacts).values(
                    pupil_id=item.pupil_id, slot=item.slot, class_id=class_id, updated_at=now,
                    **new))
            else:
                self._db.execute(update(t.contacts).where(
                    c.pupil_id == item.pupil_id, c.slot == item.slot).values(updated_at=now, **new))
            changed.add(item.pupil_id)
            events.append(_event(class_id, key, row, item))
        for key, row in current.items():
            if key not in offered and (row.name, row.email, row.consent) != ("", "", None):
                self._db.execute(update(t.contacts).where(c.pupil_id == key[0], c.slot == key[1])
                                 .values(name="", email="", consent=None, updated_at=now))
                changed.add(key[0])
                events.append(_event(class_id, key, row, None))
        self._audit_many(events, now)
        put_state(self._db, CONTACTS_READ_KEY.format(class_id=class_id), now.isoformat(), now)
        return changed


def _event(class_id: str, key: tuple[str, int], old: ContactRecord | None,
           new: ContactInput | None) -> tuple[str, dict[str, Any]]:
    def facts(x: ContactRecord | ContactInput | None) -> dict[str, Any] | None:
        return None if x is None else {"email": x.email, "consent": x.consent}

    return "contact.changed", {"class": class_id, "pupil": key[0], "slot": key[1],
                               "old": facts(old), "new": facts(new)}
