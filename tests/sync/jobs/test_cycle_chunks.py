"""More changed journals than one minute of the read quota: the cycle takes them chunk by chunk
(``sync.jobs.cycle_io``), so its writes start before its last read — at Google's quota the two
per-minute limits are spent side by side — with the same calls as one pass, and a crash between
chunks loses nothing. Over the emulator, the whole example school (44 journals), with
``reads_per_minute`` lowered to 3 so that 8 changed journals make three chunks."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.jobs.cycle import run_cycle
from tests.sync.engine_fixtures import DAY, SVC, EngineRig, Killed, at, kill_at, make_rig
from tests.sync.jobs.test_cycle_budgets import journals_with_lesson_on, type_first_pupil

K = 8  # changed journals: chunks of 3, 2 (early) and 3 (the last, with everything else)


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[EngineRig]:
    rig = make_rig(tmp_path, journals=None)
    assert run_cycle(rig.svc).tally.journals_read == 44  # the first cycle: every journal, 15 chunks
    rig.set_now(at(DAY, 10))
    for journal in journals_with_lesson_on(rig, DAY)[:K]:
        type_first_pupil(rig, journal, DAY, "4,5")  # refused by the grammar: a finding to write
    rig.emu.reset_counters()
    yield rig
    rig.close()
    assert rig.emu.bugs == []


def slow_reads(rig: EngineRig, per_minute: int = 3) -> None:
    school = rig.svc.school
    rig.svc.school = dataclasses.replace(
        school, backend=dataclasses.replace(school.backend, reads_per_minute=per_minute))


def sheets_calls(rig: EngineRig) -> list[str]:
    """The service's Sheets calls in order: "r" a read, "w" a write."""
    out = []
    for call in rig.emu.log:
        if call.principal != SVC or "/spreadsheets/" not in call.path:
            continue
        read = call.method == "GET" or "DataFilter" in call.path
        out.append("r" if read else "w")
    return out


def test_writes_start_before_the_last_read_with_the_same_calls(rig: EngineRig) -> None:
    slow_reads(rig)

    summary = run_cycle(rig.svc)

    calls = sheets_calls(rig)
    assert (calls.count("r"), calls.count("w")) == (K, K)  # one read, one write per journal
    assert rig.calls()["drive"] == 1
    assert calls.index("w") < len(calls) - 1 - calls[::-1].index("r")  # overlapped
    assert calls[:4] == ["r", "r", "r", "w"]  # the first chunk is written before the 4th read
    assert summary.ok and summary.tally.journals_read == K
    assert summary.tally.findings_opened == K
    rig.emu.reset_counters()
    assert run_cycle(rig.svc).tally.journals_read == 0  # nothing left dirty
    assert rig.calls() == {"drive": 1, "sheets_read": 0, "sheets_write": 0}


def test_a_crash_after_the_first_chunk_loses_nothing(rig: EngineRig) -> None:
    """Killed at the first chunk's first write: the change token has moved past all eight, so
    only the dirty list can bring the other journals back — the next cycle reads them all and
    every finding reaches its sheet."""
    slow_reads(rig)

    with pytest.raises(Killed):
        run_cycle(rig.svc, on_step=kill_at("write"))
    svc = rig.new_service()
    again = run_cycle(svc)

    assert again.ok and again.tally.journals_read == K
    changed = journals_with_lesson_on(rig, DAY)[:K]
    for class_id, subject_id in changed:
        rows = [r for r in rig.findings_tab(rig.journal(class_id, subject_id).id)[1:]
                if any("4,5" in str(v or "") for v in r)]
        assert len(rows) == 1, (class_id, subject_id, rows)
    assert run_cycle(svc).tally.journals_read == 0


def test_at_the_default_quota_eight_journals_are_one_pass(rig: EngineRig) -> None:
    """60 reads a minute: eight journals are one chunk, read then written as before."""
    summary = run_cycle(rig.svc)
    calls = sheets_calls(rig)
    assert calls == ["r"] * K + ["w"] * K  # 60 reads a minute: one pass, reads then writes
    assert summary.tally.findings_opened == K
