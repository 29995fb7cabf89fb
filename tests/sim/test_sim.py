"""The suite's short year simulation: 20 school days over the emulator, under faults, every
invariant checked every day — and a planted violation that the checks must catch."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import text

from tests.sim.run import InvariantBroken, simulate
from tests.sim.world import World


def test_twenty_school_days_under_faults_hold_every_invariant(tmp_path: Path) -> None:
    figures = simulate(20, backend="emulator", seed=3, folder=tmp_path, echo=None)
    c = figures.counts
    assert figures.violations == []
    assert figures.days == 20
    assert c["typed"] == c["taken"] + c["refused"]  # every cell typed is one or the other
    assert c["typos"] > 0 and c["late_within"] > 0 and c["late_beyond"] > 0
    assert c["refused"] > 0  # past lessons the spreadsheet protects
    assert c.get("tampered", 0) > 0 and c["reverted"] == c["tampered"]
    assert c["corrections_filed"] >= 3 and c["corrections_forged"] == 1
    assert c["substitutions"] == 1 and c["typed_by_substitutes"] > 0
    assert c["reasons_in_time"] > 0 and c["reasons_late"] > 0
    assert c["applications_typed"] > 0 and c["diaries_read"] >= 20
    assert c["kills"] >= 20
    assert c["api_faults"] > 0
    assert figures.rebuilt_same is True


def test_an_entry_deleted_behind_the_products_back_is_caught(tmp_path: Path) -> None:
    planted: list[tuple[str, str]] = []

    def plant(world: World, day: date) -> None:
        if day != date(2026, 9, 2):
            return
        with world.svc.ledger.engine.begin() as db:
            row = db.execute(text("SELECT journal, pupil_id, day, lesson_no FROM entries "
                                  "WHERE value != '' ORDER BY journal, pupil_id, day LIMIT 1")).one()
            db.execute(text("DELETE FROM entries WHERE journal = :j AND pupil_id = :p AND "
                            "day = :d AND lesson_no = :n"),
                       {"j": row[0], "p": row[1], "d": row[2], "n": row[3]})
        planted.append((row[0], row[1]))

    with pytest.raises(InvariantBroken) as caught:
        simulate(3, backend="emulator", seed=2, faults=False, folder=tmp_path, echo=None,
                 plant=plant)
    journal, pupil = planted[0]
    assert f"2026-09-02: lost: ('{journal}', '{pupil}'" in str(caught.value)
    assert "audit verify" in str(caught.value)  # the data seals no longer match
