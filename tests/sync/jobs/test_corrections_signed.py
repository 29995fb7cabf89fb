"""Corrections are signed by a deputy (R7), over the emulator through the cycle: a row typed by
anyone else (here the shared drive's manager, who can edit the admin spreadsheet) is rejected and
changes nothing; the deputy's row is applied with its signer audited; an applied row retyped after
a later correction of the same cell never writes its old value back into the journal.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from sync.backends.protocol import CellRange, Grid, Role
from sync.jobs.acl import run_acl
from sync.jobs.cycle import run_cycle
from sync.jobs.locking import run_locks
from sync.layout.labels import RU
from sync.ledger.model import FileKind
from tests.sync.engine_fixtures import DAY, ORGANIZER, SVC, EngineRig, Killed, at, kill_at, make_rig

CLASS, SUBJECT, KEY = "7Б", "algebra", "7Б/algebra"
NEXT = date(2026, 9, 9)
DEPUTY = "zamestitel.uvr.example@gmail.com"


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[EngineRig]:
    rig = make_rig(tmp_path)
    run_cycle(rig.svc)
    rig.set_now(at(DAY, 10))
    pupil = rig.school.pupils_in(CLASS)[0].id
    where = rig.cell(CLASS, SUBJECT, pupil, DAY)
    rig.type(rig.teacher_email(CLASS, SUBJECT), rig.journal(CLASS, SUBJECT).id, where, "3")
    run_cycle(rig.svc)
    rig.set_now(at(NEXT, 0, 15))
    assert run_locks(rig.svc).ok
    run_cycle(rig.svc)
    rig.set_now(at(NEXT, 11))
    yield rig
    rig.close()
    assert rig.emu.bugs == []


def pupil_of(rig: EngineRig) -> str:
    return rig.school.pupils_in(CLASS)[0].id


def admin_id(rig: EngineRig) -> str:
    with rig.svc.ledger.snapshot() as tx:
        (admin,) = tx.files(FileKind.ADMIN)
    return admin.id


def write_row(rig: EngineRig, who: str, n: int, value: str, order: str, *, signed: str = "да",
              reason: str = "ошибка при вводе") -> None:
    """``who`` types correction row ``n`` (1 = the first under the header) of «Исправления»."""
    row = ["7Б · Алгебра", "08.09.2026", pupil_of(rig), "отметка", value, reason, order, signed]
    rig.client(who).http_client.values_update(
        admin_id(rig), CellRange(RU.corrections_tab, n, 1, n + 1, 1 + len(row)).a1(),
        params={"valueInputOption": "USER_ENTERED"}, body={"values": [row]})


def status_of(rig: EngineRig, n: int) -> str:
    grid: Grid = rig.inspector.read(admin_id(rig), [RU.corrections_tab])[RU.corrections_tab]
    header = grid[0]
    return str(grid[n][header.index(RU.status)] or "")


def ledger_value(rig: EngineRig) -> str:
    with rig.svc.ledger.snapshot() as tx:
        (entry,) = [e for e in tx.entries(KEY) if e.pupil_id == pupil_of(rig) and e.day == DAY]
    return entry.value


def shown(rig: EngineRig) -> Any:
    where = rig.cell(CLASS, SUBJECT, pupil_of(rig), DAY)
    grid = rig.grids(rig.journal(CLASS, SUBJECT).id, findings=False)[where.tab]
    return grid[where.start_row][where.start_col]


def audit(rig: EngineRig, kind: str) -> list[dict[str, Any]]:
    with rig.svc.ledger.engine.connect() as db:
        rows = db.execute(text("SELECT payload FROM audit WHERE kind = :k ORDER BY id"), {"k": kind})
        return [json.loads(r[0]) for r in rows]


def test_a_row_not_written_by_a_deputy_is_rejected_and_changes_nothing(rig: EngineRig) -> None:
    write_row(rig, ORGANIZER, 1, "5", "99-к")  # «Подписано: да» typed by the drive's manager

    summary = run_cycle(rig.svc)

    assert summary.corrections is not None
    assert (summary.corrections["applied"], summary.corrections["rejected"]) == (0, 1)
    assert ledger_value(rig) == "3" and shown(rig) == "3"
    assert status_of(rig, 1).startswith("отклонено: не подписано заместителем директора")
    (rejected,) = audit(rig, "correction.rejected")
    assert rejected["signed_by"] == ORGANIZER
    assert audit(rig, "correction.applied") == []


def test_the_deputys_row_is_applied_and_its_signer_audited(rig: EngineRig) -> None:
    write_row(rig, DEPUTY, 1, "4", "45-к")

    summary = run_cycle(rig.svc)

    assert summary.corrections is not None and summary.corrections["applied"] == 1
    assert ledger_value(rig) == "4" and shown(rig) == "4"
    (applied,) = audit(rig, "correction.applied")
    assert (applied["signed_by"], applied["old"], applied["new"]) == (DEPUTY, "3", "4")


def test_an_applied_row_retyped_never_writes_its_old_value(rig: EngineRig) -> None:
    write_row(rig, DEPUTY, 1, "4", "45-к")
    run_cycle(rig.svc)
    rig.set_now(at(NEXT, 12))
    write_row(rig, DEPUTY, 2, "5", "46-к")  # a later order corrects the same mark again
    run_cycle(rig.svc)
    assert ledger_value(rig) == "5" and shown(rig) == "5"

    rig.set_now(at(NEXT, 13))
    write_row(rig, DEPUTY, 1, "6", "45-к")  # the first row edited after it was processed …
    edited = run_cycle(rig.svc)
    assert edited.corrections is not None and edited.corrections["rejected"] == 1
    rig.set_now(at(NEXT, 14))
    write_row(rig, DEPUTY, 1, "4", "45-к")  # … and typed back as it was: the applied row again
    retyped = run_cycle(rig.svc)

    assert retyped.corrections is not None and retyped.corrections["restated"] == 1
    assert ledger_value(rig) == "5" and shown(rig) == "5"  # not the first row's 4
    rig.set_now(at(NEXT, 15))
    after = run_cycle(rig.svc)
    assert after.tally.violations == 0 and ledger_value(rig) == "5"


def test_while_a_teacher_may_write_the_admin_sheet_no_row_is_applied(rig: EngineRig) -> None:
    """A teacher made writer of the admin spreadsheet by hand types a row of her own; the deputy's
    edit after it makes the deputy Drive's last modifier. Neither row is applied while she can
    write: each is rejected naming her; once ``acl`` took her grant away, a new row applies."""
    teacher = rig.teacher_email(CLASS, SUBJECT)
    rig.inspector.grant(admin_id(rig), teacher, Role.WRITER)  # the drive's manager, by hand
    write_row(rig, teacher, 1, "5", "99-к")
    write_row(rig, DEPUTY, 2, "4", "45-к")
    rig.emu.reset_counters()

    summary = run_cycle(rig.svc)

    assert summary.corrections is not None
    assert (summary.corrections["applied"], summary.corrections["rejected"]) == (0, 2)
    assert ledger_value(rig) == "3" and shown(rig) == "3"
    reason = (f"отклонено: книгу «Исправления» может изменять не только заместитель директора"
              f" ({teacher.lower()}), подпись строки не доказана")
    assert status_of(rig, 1).startswith(reason) and status_of(rig, 2).startswith(reason)
    assert [r["signed_by"] for r in audit(rig, "correction.rejected")] == [DEPUTY, DEPUTY]
    assert audit(rig, "correction.applied") == []

    rig.set_now(at(NEXT, 12))
    fixed = run_acl(rig.svc, rig.now(), fix=True)  # the daemon's sharing check (or `acl fix`)
    assert [(d.file_id, d.who) for d in fixed.repaired] == [(admin_id(rig), teacher.lower())]
    assert teacher.lower() not in {g.email.lower() for g in rig.inspector.grants(admin_id(rig))}
    write_row(rig, DEPUTY, 3, "4", "47-к")  # the deputy types the correction again
    again = run_cycle(rig.svc)
    assert again.corrections is not None and again.corrections["applied"] == 1
    assert ledger_value(rig) == "4" and shown(rig) == "4"


def test_the_writers_are_listed_once_per_pass_with_new_rows_and_never_when_idle(
        rig: EngineRig) -> None:
    paths: list[str] = []
    rig.emu.faults.add("500", match=lambda method, path: bool(paths.append(path)), times=None,
                       principal=SVC)  # never fires: it only notes the service's every request
    write_row(rig, DEPUTY, 1, "4", "45-к")
    write_row(rig, DEPUTY, 2, "4", "46-к")

    summary = run_cycle(rig.svc)
    rig.set_now(at(NEXT, 12))
    listed_with_rows = sum("/permissions" in p for p in paths)
    paths.clear()
    run_cycle(rig.svc)  # nothing new in the sheet

    assert summary.corrections is not None and summary.corrections["rows"] == 2
    assert listed_with_rows == 1  # two new rows, one listing of the admin sheet's permissions
    assert sum("/permissions" in p for p in paths) == 0


def typed_under_the_status_write(rig: EngineRig, teacher: str) -> list[str]:
    """At the cycle's first own write to the admin spreadsheet — after its read, before its status
    write lands — the drive's manager makes ``teacher`` a writer by hand and she types row 2 with
    «Подписано: да» (a forged 5): Drive then names the service as the sheet's last modifier."""
    admin, done = admin_id(rig), []

    def teacher_types(method: str, path: str) -> bool:
        if not done and method != "GET" and admin in path:
            done.append(path)
            rig.inspector.grant(admin, teacher, Role.WRITER)
            write_row(rig, teacher, 2, "5", "99-к")
        return False  # never a fault: the hook only acts at that moment

    rig.emu.faults.add("500", match=teacher_types, times=None, principal=SVC)
    return done


def test_a_row_typed_under_the_services_write_never_passes_as_the_deputys(rig: EngineRig) -> None:
    """The forged row is first read with an unknown signer (the service wrote last) while the
    teacher may still write: rejected then, naming her. Without that check it waited, the
    sharing check took her grant away, and the deputy's next edit made it pass as hers (a 5)."""
    teacher = rig.teacher_email(CLASS, SUBJECT)
    done = typed_under_the_status_write(rig, teacher)
    write_row(rig, DEPUTY, 1, "4", "45-к")
    first = run_cycle(rig.svc)
    assert done and first.corrections is not None and first.corrections["applied"] == 1

    rig.set_now(at(NEXT, 12))
    second = run_cycle(rig.svc)  # the sheet changed under the own write: read again
    assert second.corrections is not None and second.corrections["rejected"] == 1
    assert status_of(rig, 2).startswith(
        f"отклонено: книгу «Исправления» может изменять не только заместитель директора"
        f" ({teacher.lower()})")
    # the same cycle's sharing check saw the grant and took it away
    assert teacher.lower() not in {g.email.lower() for g in rig.inspector.grants(admin_id(rig))}
    write_row(rig, DEPUTY, 3, "", "", signed="")  # the deputy edits the sheet: its last modifier
    rig.set_now(at(NEXT, 14))
    run_cycle(rig.svc)

    assert ledger_value(rig) == "4" and shown(rig) == "4"
    assert [a["new"] for a in audit(rig, "correction.applied")] == ["4"]


def test_rows_typed_by_a_writer_acl_removed_before_the_read_are_not_proven(rig: EngineRig) -> None:
    """``acl`` takes the teacher's grant away before the service read her row: the sheet changed
    since the last read, so the next pass rejects every new row — hers, even with the deputy as
    Drive's last modifier — and the deputy retyping her own correction as a new row applies it."""
    teacher = rig.teacher_email(CLASS, SUBJECT)
    typed_under_the_status_write(rig, teacher)
    write_row(rig, DEPUTY, 1, "4", "45-к")
    run_cycle(rig.svc)
    rig.set_now(at(NEXT, 12))
    assert [d.who for d in run_acl(rig.svc, rig.now(), fix=True).repaired] == [teacher.lower()]
    write_row(rig, DEPUTY, 3, "", "", signed="")  # the deputy's edit: Drive's last modifier
    rig.set_now(at(NEXT, 13))

    summary = run_cycle(rig.svc)

    assert summary.corrections is not None and summary.corrections["rejected"] == 1
    assert ledger_value(rig) == "4" and shown(rig) == "4"
    assert status_of(rig, 2).startswith(
        f"отклонено: подпись строки не доказана: до того как сервис прочёл эту строку, книгу "
        f"«Исправления» мог изменять не только заместитель директора ({teacher.lower()}")
    (exposed,) = audit(rig, "corrections.exposed")
    assert exposed["writers"] == [teacher.lower()]
    rig.set_now(at(NEXT, 14))
    write_row(rig, DEPUTY, 4, "5", "99-к", reason="ошибка при вводе, повторно")
    again = run_cycle(rig.svc)
    assert again.corrections is not None and again.corrections["applied"] == 1
    assert ledger_value(rig) == "5" and shown(rig) == "5"


def test_when_acl_cannot_tell_whether_the_sheet_changed_new_rows_are_not_proven(
        rig: EngineRig) -> None:
    """The version check after the revoke fails (a 503): taken as changed, so the next new row
    is rejected — never applied on a guess; the one after it is applied."""
    teacher = rig.teacher_email(CLASS, SUBJECT)
    admin = admin_id(rig)
    rig.inspector.grant(admin, teacher, Role.WRITER)
    rig.emu.faults.add("503", principal=SVC, times=1,
                       match=lambda method, path: method == "GET" and path.endswith(admin))
    run_acl(rig.svc, rig.now(), fix=True)
    assert [f[0] for f in rig.emu.faults.delivered] == ["503"]
    write_row(rig, DEPUTY, 1, "4", "45-к")

    summary = run_cycle(rig.svc)

    assert summary.corrections is not None and summary.corrections["rejected"] == 1
    assert ledger_value(rig) == "3"
    assert status_of(rig, 1).startswith("отклонено: подпись строки не доказана")
    rig.set_now(at(NEXT, 12))
    write_row(rig, DEPUTY, 2, "4", "45-к", reason="ошибка при вводе, повторно")
    assert run_cycle(rig.svc).corrections["applied"] == 1  # type: ignore[index]
    assert ledger_value(rig) == "4"


def test_a_revoke_in_the_cycle_that_answered_the_rows_exposes_nothing(rig: EngineRig) -> None:
    """The teacher made writer by hand types a forged row and is Drive's last modifier: the cycle
    rejects it (signed by her) and its sharing check takes her grant away in the same cycle —
    every row was answered before the revoke, so the deputy's next row is applied, not «не
    доказана» (the year simulation once rejected it: the sheet was still on the dirty list)."""
    teacher = rig.teacher_email(CLASS, SUBJECT)
    write_row(rig, DEPUTY, 1, "", "", signed="")  # an edit: the cycle notes the sheet's sharing
    run_cycle(rig.svc)
    rig.inspector.grant(admin_id(rig), teacher, Role.WRITER)
    write_row(rig, teacher, 1, "5", "99-к")

    first = run_cycle(rig.svc)

    assert first.corrections is not None and first.corrections["rejected"] == 1
    assert teacher.lower() not in {g.email.lower() for g in rig.inspector.grants(admin_id(rig))}
    assert audit(rig, "corrections.exposed") == []
    rig.set_now(at(NEXT, 12))
    write_row(rig, DEPUTY, 2, "4", "45-к")
    second = run_cycle(rig.svc)
    assert second.corrections is not None and second.corrections["applied"] == 1
    assert ledger_value(rig) == "4" and shown(rig) == "4"


def test_a_cycle_killed_after_reading_the_rows_leaves_them_unproven(rig: EngineRig) -> None:
    """The cycle read the teacher's row (the deputy edited after her: Drive names the deputy) and
    was killed before deciding it; ``acl`` then took the teacher's grant away. The version did
    not move since that read, but its rows were never answered: the next pass proves nothing."""
    teacher = rig.teacher_email(CLASS, SUBJECT)
    rig.inspector.grant(admin_id(rig), teacher, Role.WRITER)
    write_row(rig, teacher, 1, "5", "99-к")
    write_row(rig, DEPUTY, 2, "", "", signed="")  # the deputy's edit: Drive's last modifier

    with pytest.raises(Killed):
        run_cycle(rig.svc, on_step=kill_at("committed"))
    svc = rig.new_service()
    assert [d.who for d in run_acl(svc, rig.now(), fix=True).repaired] == [teacher.lower()]

    summary = run_cycle(svc)

    assert summary.corrections is not None and summary.corrections["applied"] == 0
    assert ledger_value(rig) == "3"
    assert status_of(rig, 1).startswith("отклонено: подпись строки не доказана")
