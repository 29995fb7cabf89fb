"""Ledger parts about what happened *to* a journal: validation findings and tampering violations
(plus the cell-target helpers that ``corrections`` shares)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import date, datetime
from typing import Any, NamedTuple

from sqlalchemy import func, insert, select, update

from rules.errors import StoreError
from rules.model import Finding
from sync.ledger import schema as t
from sync.ledger.audit import AuditLog, content_hash
from sync.ledger.model import (
    LESSON_FIELDS,
    CellRef,
    Field,
    FindingRecord,
    ViolationRecord,
    aware,
    from_rows,
)
from sync.ledger.statements import (
    OPEN_FINDING_KEYS,
    OPEN_FINDING_ROWS,
    OPEN_FINDINGS,
    UNREVERTED_VIOLATIONS,
)


class FindingRow(NamedTuple):
    """An open finding without its times (:meth:`FindingsPart.open_findings`): a
    :class:`~sync.ledger.model.FindingRecord`'s fields but ``opened`` and ``resolved``."""

    id: int
    journal: str
    rule: str
    severity: str
    pupil_id: str | None
    day: date | None
    field: str | None
    cell: str | None
    message: str


def fingerprint(finding: Finding) -> str:
    """A finding's identity: rule, pupil, day, field and message (not the A1 cell: rows move)."""
    loc = finding.location
    return content_hash([finding.rule, loc.pupil_id, loc.day, loc.field, finding.message])


def target_of(row: Any) -> CellRef:
    return CellRef(
        field=Field(row.field),
        pupil_id=row.pupil_id,
        day=row.day,
        lesson_no=row.lesson_no,
        period=row.period,
        cell=getattr(row, "cell", None),
    )


def target_columns(target: CellRef) -> dict[str, Any]:
    return {
        "field": target.field.value,
        "pupil_id": target.pupil_id,
        "day": target.day,
        "lesson_no": target.lesson_no,
        "period": target.period,
    }


def same_target(c: Any, target: CellRef) -> list[Any]:
    """WHERE clauses of a table's rows about ``target``'s cell (columns ``c``: ``table.c``)."""
    return [c[k].is_(None) if v is None else c[k] == v for k, v in target_columns(target).items()]


def target_problem(target: CellRef) -> str | None:
    """Why a correction target cannot name a cell (English), or None if it is complete."""
    if target.field is Field.MARK and None in (target.pupil_id, target.day, target.lesson_no):
        return "a mark correction needs the pupil, the date and the lesson number"
    if target.field is Field.PERIOD_MARK and None in (target.pupil_id, target.period):
        return "a period-mark correction needs the pupil and the period"
    if target.field in LESSON_FIELDS and None in (target.day, target.lesson_no):
        return "a lesson correction needs the date and the lesson number"
    return None


class FindingsPart(AuditLog):
    """Open and resolved validation findings per journal."""

    def sync_findings(
        self, journal: str, findings: Iterable[Finding], now: datetime, *,
        keep: Callable[[str, date | None, str | None], bool] | None = None,
    ) -> tuple[int, int]:
        """Make the journal's open findings equal ``findings``; returns (opened, resolved).

        A finding still present keeps its ``opened`` time (its A1 cell and severity are refreshed).
        ``keep(rule, day, cell)``: open findings it holds for stay as they are, whatever
        ``findings`` says (those of a settled period tab, not validated again).
        """
        aware(now)
        f = t.findings.c
        current, kept = {}, set()
        for row in self._db.execute(OPEN_FINDING_KEYS, {"journal": journal}):
            if keep is not None and keep(row.rule, row.day, row.cell):
                kept.add(row.fingerprint)
            else:
                current[row.fingerprint] = row
        wanted = {fingerprint(finding): finding for finding in findings}
        new = [
            {
                "journal": journal,
                "fingerprint": key,
                "rule": item.rule,
                "severity": item.severity.value,
                "pupil_id": item.location.pupil_id,
                "day": item.location.day,
                "field": item.location.field,
                "cell": item.location.cell,
                "message": item.message,
                "opened": now,
            }
            for key, item in wanted.items()
            if key not in current and key not in kept
        ]
        if new:
            self._db.execute(insert(t.findings), new)
        gone = [row.id for key, row in current.items() if key not in wanted]
        if gone:
            self._db.execute(update(t.findings).where(f.id.in_(gone)).values(resolved=now))
        for key, row in current.items():
            item = wanted.get(key)
            if item is not None and (row.cell, row.severity) != (
                item.location.cell,
                item.severity.value,
            ):
                self._db.execute(
                    update(t.findings)
                    .where(f.id == row.id)
                    .values(cell=item.location.cell, severity=item.severity.value)
                )
        return len(new), len(gone)

    def findings(self, journal: str, *, include_resolved: bool = False) -> list[FindingRecord]:
        """A journal's open findings (or all of them), oldest first."""
        f = t.findings.c
        if not include_resolved:  # every read journal asks: the statement built once
            return from_rows(FindingRecord, self._db.execute(OPEN_FINDINGS, {"journal": journal}))
        query = select(t.findings).where(f.journal == journal)
        return from_rows(FindingRecord, self._db.execute(query.order_by(f.opened, f.id)))

    def open_findings(self, journal: str) -> list[FindingRow]:
        """A journal's open findings, oldest first, without their times: read for every journal
        read (a year of them), five times cheaper than :meth:`findings` (no timestamps converted)."""
        return [FindingRow(*r) for r in self._db.execute(OPEN_FINDING_ROWS, {"journal": journal})]

    def open_findings_count(self) -> int:
        """Every open finding the ledger holds (journals and class spreadsheets alike)."""
        query = select(func.count()).select_from(t.findings).where(t.findings.c.resolved.is_(None))
        return int(self._db.execute(query).scalar_one())


class ViolationsPart(AuditLog):
    """Tampering: a locked cell found changed; recorded, reverted, audited."""

    def record_violation(
        self, journal: str, target: CellRef, locked_value: str, attempted_value: str, now: datetime
    ) -> int:
        """Record a changed locked cell (audited ``violation.detected``); returns its id. The same
        unreverted attempt found again (the revert write failed) returns the existing id."""
        aware(now)
        v = t.violations.c
        columns = target_columns(target)
        same = select(v.id).where(
            v.journal == journal,
            v.reverted_at.is_(None),
            v.attempted_value == attempted_value,
            *same_target(v, target),
        )
        existing = self._db.execute(same).scalar()
        if existing is not None:
            return int(existing)
        violation_id: int = self._db.execute(
            insert(t.violations)
            .values(
                journal=journal,
                cell=target.cell,
                locked_value=locked_value,
                attempted_value=attempted_value,
                detected_at=now,
                **columns,
            )
            .returning(t.violations.c.id)
        ).scalar_one()
        payload = {
            "id": violation_id,
            "journal": journal,
            **columns,
            "locked": locked_value,
            "attempted": attempted_value,
        }
        self.audit_append("violation.detected", payload, now)
        return violation_id

    def violation_reverted(self, violation_id: int, now: datetime) -> None:
        """The ledger value was written back (audited ``violation.reverted``)."""
        v = t.violations.c
        done = self._db.execute(
            update(t.violations)
            .where(v.id == violation_id, v.reverted_at.is_(None))
            .values(reverted_at=aware(now))
        )
        if done.rowcount == 0:
            raise StoreError(
                f"violation {violation_id} does not exist or was already reverted",
                "use an id from record_violation() or unreverted_violations()",
            )
        self.audit_append("violation.reverted", {"id": violation_id}, now)

    def violations(
        self, journal: str | None = None, *, unreverted: bool = False, since: datetime | None = None
    ) -> list[ViolationRecord]:
        """Violations (of one journal; only unreverted ones; detected since), oldest first."""
        v = t.violations.c
        if journal is not None and unreverted and since is None:  # every read journal: built once
            rows = self._db.execute(UNREVERTED_VIOLATIONS, {"journal": journal})
        else:
            query = select(t.violations)
            if journal is not None:
                query = query.where(v.journal == journal)
            if unreverted:
                query = query.where(v.reverted_at.is_(None))
            if since is not None:
                query = query.where(v.detected_at >= since)
            rows = self._db.execute(query.order_by(v.detected_at, v.id))
        return [
            ViolationRecord(r.id, r.journal, target_of(r), r.locked_value, r.attempted_value,
                            r.detected_at, r.reverted_at)
            for r in rows
        ]
