"""The emulator as a loopback HTTP server (``python -m tests.emulator``), driven by real gspread.

The client is built like production with ``EJOURNAL_GOOGLE_EMULATOR_HOST``: a plain
``requests.Session`` whose Google-host requests are rewritten to ``http://127.0.0.1:PORT``.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import gspread
import pytest
import requests

from tests.emulator import RedirectAdapter

ROOT = Path(__file__).resolve().parents[1]
SVC = "service@ejournal.iam.gserviceaccount.com"
TEACHER = "teacher@school.ru"


@contextmanager
def server(*args: str) -> Iterator[str]:
    """Run the emulator in a subprocess; yields its base URL; always stops it."""
    proc = subprocess.Popen([sys.executable, "-m", "tests.emulator", "--port", "0", *args],
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("EMULATOR_LISTENING http://127.0.0.1:"), line
        yield line.split()[1]
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
        assert proc.returncode == 0, err


@contextmanager
def session_for(base: str, principal: str) -> Iterator[requests.Session]:
    with requests.Session() as s:
        s.headers["Authorization"] = f"Bearer {principal}"
        s.mount("https://", RedirectAdapter(base))
        yield s


def control(base: str, method: str, name: str, body: object = None) -> requests.Response:
    with requests.Session() as s:
        return s.request(method, f"{base}/_emulator/{name}", json=body, timeout=10)


def test_gspread_over_loopback_http_and_control_api(tmp_path: Path) -> None:
    state = tmp_path / "state.pkl"
    with server("--state", str(state)) as base:
        drive = control(base, "POST", "drives", {"name": "Школа", "organizers": [SVC]}).json()
        with session_for(base, SVC) as s:
            gc = gspread.Client(auth=None, session=s)
            gc.set_timeout(10)
            sh = gc.create("Журнал 5А", folder_id=drive["id"])
            sh.sheet1.update([["Иванов", "5"]], "A1:B1")
            sh.share(TEACHER, perm_type="user", role="writer", notify=False)
            assert sh.sheet1.get_all_values() == [["Иванов", "5"]]
            # scripted faults over HTTP: a status fault and a dropped connection
            assert control(base, "POST", "faults", [{"kind": "503", "match": "/values/"},
                                                     {"kind": "reset", "match": "/values/"}]
                           ).json()["pending"][0]["kind"] == "503"
            with pytest.raises(gspread.exceptions.APIError) as err:
                sh.sheet1.get_all_values()
            assert err.value.code == 503
            with pytest.raises(requests.exceptions.ConnectionError):
                sh.sheet1.get_all_values()
            assert control(base, "GET", "faults").json()["pending"] == []
        with session_for(base, TEACHER) as s:
            teacher = gspread.Client(auth=None, session=s)
            teacher.set_timeout(10)
            assert teacher.open_by_key(sh.id).sheet1.acell("B1").value == "5"
        calls = control(base, "GET", "calls").json()
        # service: create (1 drive + 1 read), 4x sheet1 metadata (reads), 1 update, 1 share,
        # 3 values reads (two of them faulted); teacher: open, sheet1, acell
        assert calls["calls"] == {SVC: {"drive": 2, "sheets_read": 8, "sheets_write": 1},
                                  TEACHER: {"sheets_read": 3}}
        assert calls["total"] == 14 and len(calls["log"]) == 14
        assert [d[0] for d in calls["faults"]["delivered"]] == ["503", "reset"]
        files = control(base, "GET", "files").json()["files"]
        assert [(f["id"], f["name"], f["owner"], f["driveId"]) for f in files] == [
            (sh.id, "Журнал 5А", None, drive["id"])]
        assert [p["emailAddress"] for p in files[0]["permissions"]] == [TEACHER]
        assert files[0]["version"] >= 3
        assert control(base, "POST", "clock", {"advance": 90}).json() == {
            "now": "2024-09-02T06:01:30.000Z"}
        assert control(base, "POST", "clock", {"set": "2025-01-01T00:00:00Z"}).json() == {
            "now": "2025-01-01T00:00:00.000Z"}
        assert control(base, "POST", "clock", {"bogus": 1}).status_code == 400
        assert control(base, "POST", "reset", {"counters_only": True}).status_code == 200
        assert control(base, "GET", "calls").json()["total"] == 0
    # state survives a restart
    with server("--state", str(state)) as base:
        files = control(base, "GET", "files").json()["files"]
        assert [f["id"] for f in files] == [sh.id]
        assert control(base, "POST", "reset").status_code == 200
        assert control(base, "GET", "files").json()["files"] == []


def test_unknown_routes_are_json_404() -> None:
    with server() as base, requests.Session() as s:
        for path in ("/", "/nothing/here", "/drive/v3/nothing", "/_emulator/nothing"):
            r = s.get(base + path, headers={"Authorization": f"Bearer {SVC}"}, timeout=10)
            assert r.status_code == 404, path
            assert r.json()["error"]["status"] == "NOT_FOUND"
        r = s.get(f"{base}/drive/v3/files", timeout=10)  # no credentials at all
        assert (r.status_code, r.json()["error"]["status"]) == (401, "UNAUTHENTICATED")
