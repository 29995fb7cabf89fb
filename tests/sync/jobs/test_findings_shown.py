"""«Замечания» is not rendered again while a journal's open findings stand still
(``sync.jobs.findings_tab.ShownFindings``) — and is written again whenever what it shows is not
what the ledger holds: a finding opened or resolved, or the last write of the tab failed."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from sync.jobs import findings_tab
from sync.jobs.cycle import run_cycle
from tests.sync.engine_fixtures import DAY, SVC, EngineRig, at, make_rig

CLASS, SUBJECT = "7Б", "algebra"


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[EngineRig]:
    rig = make_rig(tmp_path)
    run_cycle(rig.svc)
    yield rig
    rig.close()
    assert rig.emu.bugs == []


@pytest.fixture
def rendered(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """How many findings each rendering of «Замечания» with findings was asked to show."""
    calls: list[int] = []
    render = findings_tab.render_findings

    def spy(items, **kw):  # type: ignore[no-untyped-def]
        if items:
            calls.append(len(items))
        return render(items, **kw)

    monkeypatch.setattr(findings_tab, "render_findings", spy)
    return calls


def type_mark(rig: EngineRig, pupil_no: int, value: str) -> None:
    pupil = rig.school.pupils_in(CLASS)[pupil_no].id
    rig.type(rig.teacher_email(CLASS, SUBJECT), rig.journal(CLASS, SUBJECT).id,
             rig.cell(CLASS, SUBJECT, pupil, DAY), value)


def messages(rig: EngineRig) -> list[str]:
    return [line[1] for line in rig.findings_tab(rig.journal(CLASS, SUBJECT).id)[1:]
            if len(line) > 1 and line[1]]


def test_findings_standing_still_are_not_rendered_again(rig: EngineRig,
                                                        rendered: list[int]) -> None:
    rig.set_now(at(DAY, 10))
    type_mark(rig, 0, "6")
    assert run_cycle(rig.svc).tally.findings_opened == 1
    shown = messages(rig)
    assert any("«6»" in m for m in shown)
    rendered.clear()

    rig.set_now(at(DAY, 11))
    type_mark(rig, 1, "5")  # the journal changes, its findings do not
    summary = run_cycle(rig.svc)

    assert summary.tally.journals_read == 1 and summary.tally.entries_accepted == 1
    assert (summary.tally.findings_opened, summary.tally.findings_resolved) == (0, 0)
    assert rendered == []
    assert messages(rig) == shown

    rig.set_now(at(DAY, 12))
    type_mark(rig, 0, "4")  # the typo fixed: the finding resolves and the tab is written
    assert run_cycle(rig.svc).tally.findings_resolved == 1
    assert rendered
    assert not any("«6»" in m for m in messages(rig))


def test_a_findings_write_that_failed_is_made_by_the_next_read(rig: EngineRig,
                                                               rendered: list[int]) -> None:
    """The ledger opened the finding but the tab's write failed (503): the next read, whose
    findings are the same, still writes the tab, since its recorded hash is not the rendered one."""
    journal = rig.journal(CLASS, SUBJECT).id
    rig.set_now(at(DAY, 10))
    type_mark(rig, 0, "6")
    rig.emu.faults.add("503", match=lambda m, p: journal in p and p.endswith("values:batchUpdate"),
                       times=None, principal=SVC)
    assert run_cycle(rig.svc).tally.findings_opened == 1
    assert not any("«6»" in m for m in messages(rig))  # not written
    rig.emu.faults.clear()

    rig.set_now(at(DAY, 11))
    type_mark(rig, 1, "5")
    summary = run_cycle(rig.svc)

    assert (summary.tally.findings_opened, summary.tally.findings_resolved) == (0, 0)
    assert any("«6»" in m for m in messages(rig))
    rendered.clear()
    rig.set_now(at(DAY, 12))
    type_mark(rig, 2, "4")
    run_cycle(rig.svc)
    assert rendered == []  # written and recorded now: the next read leaves it
