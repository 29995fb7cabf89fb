"""The CLI against the emulator over HTTP, as an operator would try it offline.

``python -m tests.emulator --port 0`` runs as a subprocess; the test creates a shared drive through
the emulator's control API, writes a copy of the example school with the google backend pointing at
it, and runs ``ejournal setup``, ``sync --json``, ``lock`` and ``audit verify`` as subprocesses with
``EJOURNAL_GOOGLE_EMULATOR_HOST`` set. A teacher's edit of a locked day is refused by the emulator; a
shared-drive manager's edit of a locked cell is reverted by the next ``sync`` (exit code 3). No
service-account key is needed (nor set) with the emulator host.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import gspread
import pytest

from config import load_school
from config.school import School
from sync.jobs.service import wall_clock
from sync.layout.journal.spec import parse_journal
from sync.ledger.ledger import Ledger
from sync.ledger.model import FileKind
from tests.emulator.adapter import RedirectAdapter

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "config" / "example"
SVC = "service@ejournal.iam.gserviceaccount.com"  # the emulator's (and the client's) default
DIRECTOR = "director@school.ru"  # a manager of the shared drive: may edit protected cells
JOURNAL = ("7Б", "algebra")

pytestmark = pytest.mark.slow


@contextmanager
def emulator(tmp_path: Path) -> Iterator[str]:
    """The emulator served on a free loopback port; yields its base URL."""
    log = (tmp_path / "emulator.log").open("w", encoding="utf-8")
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.emulator", "--port", "0", "--no-quotas"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=log,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("EMULATOR_LISTENING "), line
        yield line.split()[1]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
        if proc.stdout is not None:
            proc.stdout.close()
        log.close()


def control(base: str, name: str, body: dict[str, Any] | None = None) -> Any:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(
        f"{base}/_emulator/{name}",
        data=data,
        method="GET" if body is None else "POST",
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as answer:
        return json.loads(answer.read() or b"null")


def sheets_calls(base: str) -> dict[str, int]:
    calls = control(base, "calls")["calls"].get(SVC, {})
    return {k: int(calls.get(k, 0)) for k in ("sheets_read", "sheets_write", "drive")}


def google_school(tmp_path: Path, drive: str, base: str) -> tuple[Path, dict[str, str]]:
    """A copy of the example school on the google backend; the environment for the CLI (the
    emulator host at ``base``, no credentials)."""
    folder = tmp_path / "school"
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("var", "__pycache__"))
    config = folder / "school.toml"
    text = config.read_text(encoding="utf-8")
    local = 'kind = "local"\nfolder = "var/sheets"\nprivate_folder = "var/private"'
    assert local in text
    google = (
        f'kind = "google"\nshared_drive_folder_id = "{drive}"\n'
        "reads_per_minute = 6000\nwrites_per_minute = 6000"
    )
    config.write_text(text.replace(local, google), encoding="utf-8")
    return config, {"EJOURNAL_GOOGLE_EMULATOR_HOST": base.split("//")[1]}


def cli_env(extra: dict[str, str]) -> dict[str, str]:
    """The process environment without any Google credentials of the developer's, plus ``extra``."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("EJOURNAL_GOOGLE_")}
    return {**clean, **extra}


def cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "sync", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )


@contextmanager
def client(base: str, principal: str) -> Iterator[Any]:
    """A real gspread client acting as ``principal`` against the served emulator."""
    from google.oauth2.credentials import Credentials

    gc = gspread.Client(auth=Credentials(token=principal))  # type: ignore[no-untyped-call]
    gc.http_client.session.mount("https://", RedirectAdapter(base))
    try:
        yield gc
    finally:
        gc.http_client.session.close()


def past_cell(school: School, today: date) -> tuple[Any, str, str]:
    """The first lesson of the journal before today, its first pupil and the lesson's teacher."""
    lessons = school.lessons()[JOURNAL]
    past = [x for x in lessons if x.day < today]
    if not past:
        pytest.skip("the example year has not begun: no locked day to try")
    lesson = past[0]
    pupil = school.pupils_in(JOURNAL[0], on=lesson.day)[0]
    teacher = school.teacher(lesson.teacher_id)
    assert teacher is not None
    return lesson, pupil.id, teacher.email


def test_setup_sync_lock_and_audit_over_http(tmp_path: Path) -> None:
    with emulator(tmp_path) as base:
        drive = control(base, "drives", {"name": "Школа", "organizers": [SVC, DIRECTOR]})["id"]
        config, extra = google_school(tmp_path, drive, base)
        env = cli_env(extra)

        done = cli(env, "setup", "--config", str(config))
        assert done.returncode == 0, done.stderr
        assert "Setup: 49 spreadsheets: 49 created" in done.stdout
        files = control(base, "files")["files"]
        assert len(files) == 49 and all(f["driveId"] == drive for f in files)

        done = cli(env, "sync", "--config", str(config), "--json")
        assert done.returncode == 0, done.stderr
        first = json.loads(done.stdout)
        assert first["kind"] == "sync" and first["ok"] and first["first_cycle"]
        assert first["journals_read"] == 44 and first["violations"] == 0

        control(base, "reset", {"counters_only": True})
        done = cli(env, "sync", "--config", str(config), "--json")
        assert done.returncode == 0, done.stderr
        idle = json.loads(done.stdout)
        assert (idle["journals_read"], idle["writes"]) == (0, 0)
        calls = sheets_calls(base)
        assert (calls["sheets_read"], calls["sheets_write"]) == (0, 0)
        assert calls["drive"] <= 1  # the change list only

        done = cli(env, "lock", "--config", str(config), "--json")
        assert done.returncode == 0, done.stderr
        assert json.loads(done.stdout)["kind"] == "lock"

        school = load_school(config, environ=extra)
        lesson, pupil_id, teacher = past_cell(school, wall_clock(school)().date())
        with Ledger.open(school.ledger_path) as ledger, ledger.snapshot() as tx:
            record = tx.file_for(FileKind.JOURNAL, "/".join(JOURNAL))
            locked = tx.locked("/".join(JOURNAL)).mark(pupil_id, lesson.day, lesson.lesson_no)
        assert record is not None
        assert locked is not None  # the lock job locked the day in the ledger

        tab = lesson.period
        with client(base, DIRECTOR) as gc:
            values = gc.http_client.values_batch_get(
                record.id, [f"'{tab}'"], params={"valueRenderOption": "UNFORMATTED_VALUE"}
            )["valueRanges"][0].get("values", [])
        reading = parse_journal({tab: values}, school, *JOURNAL, school.lessons()[JOURNAL])
        cell = reading.map.cell(pupil_id, (lesson.day, lesson.lesson_no))
        assert cell is not None
        tampered = "2" if locked != "2" else "5"

        with client(base, teacher) as gc:  # the teacher's edit of a locked day: refused
            with pytest.raises(gspread.exceptions.APIError) as refused:
                gc.http_client.values_update(
                    record.id,
                    cell.a1(),
                    params={"valueInputOption": "USER_ENTERED"},
                    body={"values": [[tampered]]},
                )
            assert refused.value.response.status_code == 400  # as Google answers it
            assert "protected cell" in str(refused.value)
        with client(base, DIRECTOR) as gc:  # a manager can: tampering
            gc.http_client.values_update(
                record.id,
                cell.a1(),
                params={"valueInputOption": "USER_ENTERED"},
                body={"values": [[tampered]]},
            )

        done = cli(env, "sync", "--config", str(config), "--json")
        assert done.returncode == 3, done.stdout  # finished, but found violations
        after = json.loads(done.stdout)
        assert (after["violations"], after["reverts"]) == (1, 1)
        with client(base, DIRECTOR) as gc:
            back = gc.http_client.values_get(
                record.id, cell.a1(), params={"valueRenderOption": "UNFORMATTED_VALUE"}
            ).get("values", [[""]])
        assert str(back[0][0] if back and back[0] else "") == locked

        done = cli(env, "audit", "verify", "--config", str(config))
        assert done.returncode == 0, done.stderr
        assert done.stdout.startswith("Audit chain OK: ")


def test_setup_with_a_wrong_shared_drive_is_a_clear_error(tmp_path: Path) -> None:
    with emulator(tmp_path) as base:
        config, extra = google_school(tmp_path, "0ANoSuchDrive", base)
        env = cli_env(extra)
        done = cli(env, "setup", "--config", str(config))
        files = control(base, "files")["files"]
    assert done.returncode == 4  # finished, some files failed: run it again
    errors = [line for line in done.stderr.splitlines() if line.startswith("Error: ")]
    assert errors == [
        "Error: setup is incomplete: some spreadsheets could not be created or repaired"
    ]
    assert "Hint: run `ejournal setup` again" in done.stderr
    assert "Stopped: " in done.stdout and "Traceback" not in done.stderr
    assert files == []  # nothing half-made
