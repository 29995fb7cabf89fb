"""The ledger's absence reasons (migration 2): offered like journal entries (NEW / UNCHANGED /
CHANGED / LOCKED, compared by code), audited, locked per day (empty cells too), a typo kept as
typed at the lock, and the locked view the cycle compares a read against."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from rules.errors import StoreError
from sync.ledger.ledger import Ledger
from sync.ledger.model import AbsenceInput, Change
from tests.sync.ledger_helpers import DAY, at

CLASS = "7Б"
LATER = date(2026, 9, 9)


@pytest.fixture
def ledger(tmp_path: Path) -> Iterator[Ledger]:
    with Ledger.open(tmp_path / "l.sqlite3") as opened:
        yield opened


def reason(pupil: str, code: str, *, day: date = DAY, raw: str | None = None) -> AbsenceInput:
    return AbsenceInput(pupil, day, code if raw is None else raw, code)


def audit_kinds(ledger: Ledger) -> list[str]:
    with ledger.engine.connect() as db:
        query = "SELECT kind FROM audit WHERE kind != 'data.sealed' ORDER BY id"  # see test_seals
        return list(db.exec_driver_sql(query).scalars())


def test_reasons_are_offered_compared_by_code_and_audited(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        first = tx.accept_absences(CLASS, [reason("p1", "б", raw="Б"), reason("p2", "", raw="")],
                                   at())
        assert first == [Change.NEW, Change.UNCHANGED]  # an empty cell never held: nothing
        assert tx.accept_absences(CLASS, [reason("p1", "б")], at(hour=11)) == [Change.UNCHANGED]
        assert tx.accept_absences(CLASS, [reason("p1", "у")], at(hour=12)) == [Change.CHANGED]
        assert tx.accept_absences(CLASS, [reason("p1", "", raw="")], at(hour=13)) == [
            Change.CHANGED]
        assert tx.absences(CLASS) == []
        (erased,) = tx.absences(CLASS, include_empty=True)
        assert (erased.reason, erased.first_seen, erased.last_changed) == ("", at(), at(hour=13))
        assert tx.absences("5А") == []
    assert audit_kinds(ledger) == ["absence.accepted", "absence.changed", "absence.changed"]
    assert ledger.audit_verify().ok


def test_a_locked_day_refuses_changes_and_locks_its_empty_cells(ledger: Ledger) -> None:
    with ledger.transaction() as tx:
        tx.accept_absences(CLASS, [reason("p1", "б"), reason("p2", "н", day=LATER)], at())
        tx.accept_absences(CLASS, [AbsenceInput("p3", DAY, "болен", "")], at())  # kept as typed
        assert tx.lock_absence_days(CLASS, [DAY], at(LATER, 0, 15)) == 2
        assert tx.lock_absence_days(CLASS, [DAY], at(LATER, 1)) == 0  # idempotent
        changes = tx.accept_absences(
            CLASS, [reason("p1", "у"), reason("p4", "н"), reason("p2", "у", day=LATER)],
            at(LATER, 9))
        assert changes == [Change.LOCKED, Change.LOCKED, Change.CHANGED]
        view = tx.absence_locked(CLASS)
    assert view.days == frozenset({DAY})
    assert view.cell("p1", DAY) == "б" and view.cell("p3", DAY) == "болен"
    assert view.cell("p4", DAY) == "" and view.cell("p2", LATER) is None
    assert view.invalid == frozenset({("p3", DAY)})
    kinds = audit_kinds(ledger)
    assert kinds.count("absence.locked") == 1 and "absence.locked_invalid" in kinds


def test_bad_calls_are_refused(ledger: Ledger) -> None:
    with pytest.raises(StoreError, match="offered twice"), ledger.transaction() as tx:
        tx.accept_absences(CLASS, [reason("p1", "б"), reason("p1", "н")], at())
    with pytest.raises(StoreError, match="naive"), ledger.transaction() as tx:
        tx.accept_absences(CLASS, [reason("p1", "б")], at().replace(tzinfo=None))
    with ledger.snapshot() as tx:
        assert tx.absences(CLASS) == []
