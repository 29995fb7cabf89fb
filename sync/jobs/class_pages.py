"""The class teacher's page from the ledger and back (R4/R5, 1.13, 4.3): the register of parents
kept on «Список класса», checked before it changes anyone's access, and the «Нужна причина»
column of «Посещаемость» (the days a subject teacher wrote «н» and no reason is given yet).

:func:`contact_offers` turns a read roster into the register the ledger takes. Only valid values
change it: a slot whose e-mail is not an address, whose application date does not read as a
date, lies in the future, or comes without an e-mail keeps what the ledger had, and the class
teacher gets a finding on the class page's «Замечания». Rows missing from the read (a damaged
tab) keep theirs too, so a repair never drops a parent.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence
from datetime import date, timedelta

from config.school import School
from rules.context import fmt_day
from rules.model import Finding, Location, Severity
from sync.jobs.service import journal_key
from sync.layout.class_sheet.spec import (
    ClassReading,
    ClassValues,
    ParentRow,
    PupilContacts,
    RosterRow,
)
from sync.layout.labels import RU, Labels
from sync.ledger.contacts import PUPIL_SLOT, ContactInput, ContactRecord
from sync.ledger.ledger import Tx

FIELD = "contact"  # the findings' field


def ledger_class_values(tx: Tx, school: School, class_id: str, today: date) -> ClassValues:
    """What the ledger says the class page shows: reasons, the register (once it was read), and
    the days waiting for a reason."""
    reasons = {(r.pupil_id, r.day): r.shown for r in tx.absences(class_id)}
    known = tx.contacts_known(class_id)
    contacts = register(tx.contacts(class_id)) if known else None
    return ClassValues(reasons, contacts, needs_reason(tx, school, class_id, today))


def register(records: Iterable[ContactRecord]) -> dict[str, PupilContacts]:
    """The ledger's register as roster rows' contact cells."""
    out: dict[str, PupilContacts] = {}
    for r in records:
        mine = out.get(r.pupil_id, PupilContacts())
        if r.slot == PUPIL_SLOT:
            mine = PupilContacts(r.email, r.consent is not None, mine.parents)
        else:
            parent = ParentRow(r.slot, None, r.name, r.email, r.consent)
            mine = PupilContacts(mine.email, mine.may_view, (*mine.parents, parent))
        out[r.pupil_id] = mine
    return out


def needs_reason(tx: Tx, school: School, class_id: str, today: date) -> dict[str, str]:
    """Pupil → "19.10 (2 ур.), 20.10 (1 ур.)": the days whose reason cells are still open on
    which a subject teacher wrote «н» and the class teacher gave no reason yet."""
    first = today - timedelta(days=school.policies.lock.absence_reason_open_days)
    given = {(r.pupil_id, r.day) for r in tx.absences(class_id) if r.reason}
    journals = [journal_key(cls, subject) for cls, subject in school.journals() if cls == class_id]
    counts = Counter(k for k in tx.absences_typed(journals, first, today) if k not in given)
    out: dict[str, list[str]] = {}
    for (pupil, day), n in sorted(counts.items(), key=lambda item: (item[0][1], item[0][0])):
        out.setdefault(pupil, []).append(f"{day:%d.%m} ({n} ур.)")
    return {pupil: ", ".join(days) for pupil, days in out.items()}


def contact_offers(reading: ClassReading, held: Sequence[ContactRecord], school: School,
                   class_id: str, today: date, labels: Labels = RU
                   ) -> tuple[list[ContactInput], list[Finding]]:
    """The register to offer from a read roster, and the class teacher's findings (see module)."""
    old = {(r.pupil_id, r.slot): r for r in held}
    bad = {p.cell for p in reading.problems if p.cell}
    offers: dict[tuple[str, int], ContactInput] = {
        k: ContactInput(r.pupil_id, r.slot, r.name, r.email, r.consent) for k, r in old.items()}
    findings: list[Finding] = []
    enrolled = {p.id for p in school.pupils_in(class_id)}
    for row in reading.roster:
        if row.pupil_id is None or row.pupil_id not in enrolled:
            continue
        for key in [k for k in offers if k[0] == row.pupil_id]:
            del offers[key]  # the row was read: it says what the register holds now
        for item in _row_offers(row, old, bad, today, findings, class_id, labels):
            offers[(item.pupil_id, item.slot)] = item
    return list(offers.values()), findings


def _row_offers(row: RosterRow, old: dict[tuple[str, int], ContactRecord], bad: set[str],
                today: date, findings: list[Finding], class_id: str, labels: Labels
                ) -> list[ContactInput]:
    pid = row.pupil_id
    assert pid is not None
    out: list[ContactInput] = []
    kept = old.get((pid, PUPIL_SLOT))
    email = row.email.lower()
    if row.cells.get("pupil_email") in bad and kept is not None:
        email = kept.email  # an unreadable address keeps the one the ledger had
    allowed = row.may_view
    if allowed is None:  # column absent or unreadable: as the ledger had it
        consent = kept.consent if kept is not None else None
    else:
        consent = (kept.consent if kept is not None and kept.consent else today) if allowed \
            else None
    if email or consent:
        out.append(ContactInput(pid, PUPIL_SLOT, "", email, consent))
    seen: dict[str, int] = {}
    for parent in row.parents:
        item = _parent_offer(row, parent, old.get((pid, parent.slot)), bad, today, findings,
                             class_id)
        if item is None:
            continue
        if item.email and item.email in seen:
            findings.append(_finding(class_id, row, f"parent_email:{parent.slot}",
                                     "contact_duplicate", f"адрес {item.email} уже записан у "
                                     f"родителя {seen[item.email]} этого ученика", labels))
        elif item.email:
            seen[item.email] = parent.slot
        out.append(item)
    return out


def _parent_offer(row: RosterRow, parent: ParentRow, kept: ContactRecord | None, bad: set[str],
                  today: date, findings: list[Finding], class_id: str) -> ContactInput | None:
    pid = row.pupil_id
    assert pid is not None
    n = parent.slot
    email, consent = parent.email.lower(), parent.consent
    if row.cells.get(f"parent_email:{n}") in bad:
        email = kept.email if kept is not None else ""
    if row.cells.get(f"parent_consent:{n}") in bad:
        consent = kept.consent if kept is not None else None
    elif consent is not None and consent > today:
        findings.append(_finding(
            class_id, row, f"parent_consent:{n}", "contact_consent_future",
            f"дата заявления {fmt_day(consent)} ещё не наступила; доступ к дневнику по ней не "
            "выдаётся — проверьте дату"))
        consent = kept.consent if kept is not None else None
    if consent is not None and not email:
        findings.append(_finding(
            class_id, row, f"parent_email:{n}", "contact_consent_without_email",
            "есть дата заявления, но нет адреса Google: открыть дневник некому",
            severity=Severity.WARNING))
    if not (email or consent or parent.full_name):
        return None
    return ContactInput(pid, n, parent.full_name, email, consent)


def _finding(class_id: str, row: RosterRow, column: str, rule: str, text: str,
             labels: Labels = RU, severity: Severity = Severity.ERROR) -> Finding:
    cell = row.cells.get(column)
    where = cell.rpartition("!")[2] if cell else ""
    message = f"Лист «{labels.roster_tab}», ячейка {where}: {text}."
    return Finding(rule, severity, Location(class_id, row.pupil_id, None, FIELD, cell), message)
