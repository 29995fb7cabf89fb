"""``ejournal setup`` over the emulator (real gspread) and the local backend: budgets, sharing,
resuming after a crash, an exhausted quota or a crash between create and register, progress.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from pathlib import Path

import pytest

from config import load_school
from config.school import School
from rules.errors import ConfigError
from sync.jobs.setup import SetupProgress, run_setup
from sync.jobs.sharing import desired_roles
from sync.jobs.spreadsheets import expected_files, file_spec
from sync.ledger.model import FileKind
from sync.ledger.state import SETUP_TOKEN_KEY
from tests.sync.layout_helpers import EXAMPLE, example_school
from tests.sync.setup_helpers import (
    SUB_DAY,
    Crash,
    FakeClock,
    GoogleService,
    at,
    crash_after,
    google_service,
    local_service,
    small_school,
)

START = at(SUB_DAY, 8)
Plan = list[tuple[FileKind, str]]  # the substitution day: 5А math is also shared with volkova


def grants_of(school: School, plan: Plan, moment: datetime) -> int:
    """Grants setup must make for ``plan``, from the configuration (who teaches what)."""
    return sum(len(desired_roles(school, kind, key, moment)) for kind, key in plan)


def assert_complete(g: GoogleService, plan: Plan) -> None:
    """Every planned file registered once, present on the drive, shared as configured; no
    duplicate or unregistered spreadsheet on the drive."""
    with g.svc.ledger.snapshot() as tx:
        records = tx.files()
        acl = {r.id: {a.email: (a.desired_role, a.observed_role) for a in tx.acl(r.id)}
               for r in records}
    assert sorted((r.kind, r.key) for r in records) == sorted(plan)
    sheets = {f.id: f for f in g.emu.files.values() if f.spreadsheet is not None}
    assert set(sheets) == {r.id for r in records}
    assert max(Counter(f.name for f in sheets.values()).values()) == 1
    for r in records:
        wanted = desired_roles(g.svc.school, r.kind, r.key, g.svc.now())
        assert wanted, f"{r.kind} {r.key} is shared with nobody"
        for email, role in wanted.items():
            assert g.emu.role_of(email, r.id) == role.value
            assert acl[r.id][email] == (role.value, role.value)


def test_setup_of_the_example_school_keeps_the_budget(tmp_path: Path) -> None:
    """49 files (the teachers' board among them): exactly one Drive create and one Sheets write
    each, no Sheets read, one Drive call per grant plus the change token; journals shared with
    every teacher of a split group, the board with every teacher and the deputy as reader."""
    school = example_school()
    plan = expected_files(school)
    with google_service(tmp_path, school, START) as g:
        seen: list[SetupProgress] = []
        summary = run_setup(g.svc, progress=seen.append)
        assert summary.complete and len(summary.created) == len(plan) == 49
        assert g.drive_calls("POST", "/drive/v3/files") == 49
        assert g.calls("sheets_write") == 49 and g.calls("sheets_read") == 0
        grants = grants_of(school, plan, START)
        assert summary.grants == grants == g.drive_calls("POST", "/permissions")
        assert g.calls("drive") == 49 + grants + 1  # + the change token
        assert_complete(g, plan)
        split = [(c, s) for c, s in school.journals() if len(school.teachers_of(c, s)) > 1]
        assert split, "the example school has a split group"
        deputy = school.deputy_emails[0]
        with g.svc.ledger.snapshot() as tx:
            admin = tx.file_for(FileKind.ADMIN, "admin")
            journals = [tx.file_for(FileKind.JOURNAL, f"{c}/{s}") for c, s in split]
            board = tx.file_for(FileKind.BOARD, "board")
        assert admin is not None and g.emu.role_of(deputy, admin.id) == "writer"
        assert board is not None and g.emu.role_of(deputy, board.id) == "reader"
        assert {g.emu.role_of(t.email, board.id) for t in school.teachers} == {"reader"}
        for (c, s), journal in zip(split, journals, strict=True):
            assert journal is not None
            for teacher_id in school.teachers_of(c, s):
                teacher = school.teacher(teacher_id)
                assert teacher and g.emu.role_of(teacher.email, journal.id) == "writer"
        report = g.svc.ledger.audit_verify()
        assert report.ok and report.events == 49 + grants  # setup.created + acl.granted
        assert [p.done for p in seen] == list(range(1, 50)) and {p.total for p in seen} == {49}


def test_second_run_only_checks_presence(tmp_path: Path) -> None:
    school = small_school()
    with google_service(tmp_path, school, START) as g:
        assert run_setup(g.svc).complete
        g.emu.reset_counters()
        again = run_setup(g.svc)
        n = len(expected_files(school))
        assert again.complete and len(again.present) == n and not again.created
        assert g.calls("sheets_read") == g.calls("sheets_write") == 0
        assert g.calls("drive") == n + 1  # one info per file + the change token
        assert g.drive_calls("GET", "/startPageToken") == 1


def test_resume_after_a_crash_mid_way(tmp_path: Path) -> None:
    """Killed after 3 of 8 files; the second run checks the 3, makes the 5 others, no duplicates,
    with exact call counts."""
    school = small_school()
    plan = expected_files(school)
    with google_service(tmp_path, school, START) as g:
        with pytest.raises(Crash):
            run_setup(g.svc, progress=crash_after(3))
        with g.svc.ledger.snapshot() as tx:
            assert len(tx.files()) == 3
            assert tx.state_get(SETUP_TOKEN_KEY)  # the unfinished run's change token
            run = tx.last_run("setup")
            assert run is not None and run.ok is None  # the run row shows the process died
        g.emu.reset_counters()
        seen: list[SetupProgress] = []
        summary = run_setup(g.svc, progress=seen.append)
        assert summary.complete and len(summary.present) == 3 and len(summary.created) == 5
        grants = grants_of(school, plan[3:], START)
        assert g.drive_calls("POST", "/drive/v3/files") == 5
        assert g.calls("sheets_write") == 5 and g.calls("sheets_read") == 0
        assert g.calls("drive") == 1 + 3 + 5 + grants  # changes + infos + creates + grants
        assert g.drive_calls("GET", "/drive/v3/changes") == 1
        assert_complete(g, plan)
        assert [p.action for p in seen] == ["present"] * 3 + ["created"] * 5
        with g.svc.ledger.snapshot() as tx:
            assert tx.state_get(SETUP_TOKEN_KEY) == ""  # complete: nothing to sweep next time
            run = tx.last_run("setup")
            assert run is not None and run.ok is True


def test_orphan_of_a_crash_between_create_and_register_is_deleted(tmp_path: Path) -> None:
    school = small_school()
    plan = expected_files(school)
    with google_service(tmp_path, school, START) as g:
        with pytest.raises(Crash):
            run_setup(g.svc, progress=crash_after(2))
        kind, key = plan[2]  # the process died right after creating this one
        orphan = g.svc.backend.create(file_spec(g.svc, kind, key, now=START)).id
        summary = run_setup(g.svc)
        assert summary.orphans_removed == [orphan] and orphan not in g.emu.files
        assert summary.complete and len(summary.created) == len(plan) - 2
        assert_complete(g, plan)


def test_resume_after_the_sheets_quota_is_exhausted(tmp_path: Path) -> None:
    """A 429 storm on Sheets writes from the 4th file on: bounded retries, the half-made file is
    deleted, the run stops and says why; once the quota is back the next run completes."""
    school = small_school()
    plan = expected_files(school)
    with google_service(tmp_path, school, START) as g:

        def storm(p: SetupProgress) -> None:
            if p.done == 3:
                g.emu.faults.add(429, match=":batchUpdate", times=None)

        first = run_setup(g.svc, progress=storm)
        assert not first.complete and first.stopped and "quota" in first.stopped
        assert len(first.created) == 3 and [f for f, _ in first.failed] == [
            f"{plan[3][0].value} {plan[3][1]}"]
        assert len([f for f in g.emu.files.values() if f.spreadsheet is not None]) == 3
        assert g.rig.time.sleeps, "retried with backoff before giving up"
        g.emu.faults.clear()
        second = run_setup(g.svc)
        assert second.complete and len(second.present) == 3 and len(second.created) == 5
        assert_complete(g, plan)


def test_failed_sharing_is_completed_by_the_next_run(tmp_path: Path) -> None:
    school = small_school()
    plan = expected_files(school)
    with google_service(tmp_path, school, START) as g:
        g.emu.faults.add(500, match="/permissions", times=6)  # more than the retries: 1 grant fails
        first = run_setup(g.svc)
        assert len(first.failed) == 1 and "sharing" in first.failed[0][1]
        assert len(first.created) == len(plan) and not first.complete
        with g.svc.ledger.snapshot() as tx:
            drift = tx.acl_drift()
        assert len(drift) == 1 and drift[0].desired_role == "writer" and drift[0].observed_role is None
        g.emu.reset_counters()
        second = run_setup(g.svc)
        assert second.complete and second.grants == 1
        assert g.drive_calls("POST", "/permissions") == 1
        assert_complete(g, plan)


def test_a_deleted_file_is_rebuilt_by_setup(tmp_path: Path) -> None:
    school = small_school()
    with google_service(tmp_path, school, START) as g:
        run_setup(g.svc)
        with g.svc.ledger.snapshot() as tx:
            old = tx.file_for(FileKind.JOURNAL, "5А/russian")
        assert old is not None
        g.emu.client(g.emu.service_principal).del_spreadsheet(old.id)
        summary = run_setup(g.svc)
        assert summary.rebuilt == ["journal 5А/russian"] and summary.complete
        with g.svc.ledger.snapshot() as tx:
            new = tx.file_for(FileKind.JOURNAL, "5А/russian")
        assert new is not None and new.id != old.id and new.id in g.emu.files
        assert_complete(g, expected_files(school))


def test_progress_eta_follows_the_quota_pace(tmp_path: Path) -> None:
    school = small_school()
    n = len(expected_files(school))
    per_minute = school.backend.writes_per_minute
    with google_service(tmp_path, school, START) as g:
        seen: list[SetupProgress] = []
        run_setup(g.svc, progress=seen.append)
    assert [(p.done, p.total) for p in seen] == [(i, n) for i in range(1, n + 1)]
    assert [p.eta_seconds for p in seen] == [(n - i) * 60 / per_minute for i in range(1, n + 1)]
    assert [p.kind for p in seen[:2]] == ["admin", "class"]


def test_local_backend_setup_resumes_without_duplicates(tmp_path: Path) -> None:
    school = small_school()
    plan = expected_files(school)
    clock = FakeClock(START)
    with local_service(tmp_path, school, clock) as svc:
        with pytest.raises(Crash):
            run_setup(svc, progress=crash_after(4))
        seen: list[SetupProgress] = []
        summary = run_setup(svc, progress=seen.append)
        assert summary.complete and len(summary.present) == 4 and len(summary.created) == 4
        assert all(p.eta_seconds is None or p.eta_seconds >= 0 for p in seen)
        assert seen[-1].eta_seconds == 0
        with svc.ledger.snapshot() as tx:
            records = tx.files()
        assert sorted((r.kind, r.key) for r in records) == sorted(plan)
        files = sorted(p.name for p in (tmp_path / "sheets").glob("*.xlsx"))
        assert len(files) == len(plan) == len(set(files))
        for r in records:
            grants = {(g.email, g.role) for g in svc.backend.grants(r.id)}
            wanted = desired_roles(school, r.kind, r.key, START)
            assert set(wanted.items()) <= grants


def test_deputy_emails_in_the_config(tmp_path: Path) -> None:
    assert example_school().deputy_emails == ("zamestitel.uvr.example@gmail.com",)
    folder = tmp_path / "school"
    folder.mkdir()
    for path in EXAMPLE.parent.iterdir():
        if path.is_file():
            (folder / path.name).write_bytes(path.read_bytes())
    (folder / "plans").mkdir()
    toml = folder / "school.toml"
    text = EXAMPLE.read_text(encoding="utf-8")
    line = next(i for i, s in enumerate(text.splitlines(), 1) if s.startswith("deputy_emails"))
    toml.write_text(text.replace('deputy_emails = ["zamestitel.uvr.example@gmail.com"]',
                                 'deputy_emails = ["zavuch at school", "z@school.ru"]'),
                    encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_school(toml, environ={})
    assert f"line {line}, field school.deputy_emails[0]" in str(err.value)
    assert "'zavuch at school' is not an e-mail address" in str(err.value)
    toml.write_text(text.replace('deputy_emails = ["zamestitel.uvr.example@gmail.com"]', ""),
                    encoding="utf-8")
    assert load_school(toml, environ={}).deputy_emails == ()


def test_the_same_error_for_every_file_stops_the_run(tmp_path: Path) -> None:
    """A service account without a shared drive: every create is refused (403
    storageQuotaExceeded, never retried); setup stops after three files and says why."""
    school = small_school()
    with google_service(tmp_path, school, START) as g:
        g.emu.faults.add("storage_quota", times=None,
                         match=lambda method, path: method == "POST" and path == "/drive/v3/files")
        summary = run_setup(g.svc)
        assert summary.stopped and "3 files failed in a row" in summary.stopped
        assert [f for f, _ in summary.failed] == [f"{k.value} {key}"
                                                  for k, key in expected_files(school)[:3]]
        assert "shared drive" in summary.failed[0][1].lower()
        assert g.drive_calls("POST", "/drive/v3/files") == 3 and g.calls("sheets_write") == 0
        with g.svc.ledger.snapshot() as tx:
            run = tx.last_run("setup")
            assert tx.files() == [] and run is not None and run.ok is False
