"""ProjectHTTPClient and the client builder, through the google backend on the emulator: bounded
jittered retries (and what is never retried), uncertain writes, client-side token buckets on a fake
clock, one log line per call without cell values, error translation, credentials, emulator host.
"""

from __future__ import annotations

import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from requests.structures import CaseInsensitiveDict

from config.school import BackendKind, BackendSettings
from rules.errors import BackendError, ConfigError, RateLimited, SheetAccessError, TransientError
from sync.backends.google.auth import EMULATOR_ENV, OAUTH_ENV, PRINCIPAL_ENV, SCOPES, build_client
from sync.backends.google.backend import GoogleBackend
from sync.backends.google.http import STORAGE_HINT, BadRequest, HttpPolicy, ProjectHTTPClient
from sync.backends.protocol import CellRange, Role
from tests.sync.backend_helpers import (
    GRADES,
    LESSONS,
    SVC,
    GoogleRig,
    RecordingAdapter,
    google_rig,
    sample_spec,
)

ROOT = Path(__file__).resolve().parents[3]
BATCH_GET = "values:batchGet"
BATCH_WRITE = "values:batchUpdate"


@pytest.fixture
def rig() -> Iterator[GoogleRig]:
    rig = google_rig()
    yield rig
    rig.close()
    assert rig.emu.bugs == []


@pytest.fixture
def fid(rig: GoogleRig) -> str:
    file_id = rig.backend.create(sample_spec()).id
    rig.emu.reset_counters()
    return file_id


def attempts(rig: GoogleRig, kind: str) -> int:
    return rig.emu.calls_total(kind, SVC)


def assert_backoff(sleeps: list[float], base: float = 1.0) -> None:
    """Retry n waited base·2^(n-1) scaled by a jitter in [0.5, 1]."""
    for n, slept in enumerate(sleeps):
        assert base * 2**n * 0.5 <= slept <= base * 2**n, (n, slept)
    assert sleeps != [base * 2**n for n in range(len(sleeps))]  # jittered, not a fixed ladder


# ---- what is retried ------------------------------------------------------------------------

def test_429_burst_then_success(rig: GoogleRig, fid: str) -> None:
    rig.emu.faults.add("429", match=BATCH_GET, times=3)
    assert rig.backend.read(fid, [LESSONS])[LESSONS][1][1] == "Дроби"
    assert attempts(rig, "sheets_read") == 4
    assert len(rig.time.sleeps) == 3
    assert_backoff(rig.time.sleeps)
    assert rig.backend.stats()["retries"] == 3


def test_429_forever_gives_up_after_the_bounded_retries(rig: GoogleRig, fid: str) -> None:
    rig.emu.faults.add("429", match=BATCH_GET, times=None)
    with pytest.raises(RateLimited) as err:
        rig.backend.read(fid, [LESSONS])
    assert attempts(rig, "sheets_read") == HttpPolicy().retries + 1
    assert_backoff(rig.time.sleeps)
    assert sum(rig.time.sleeps) <= 31 and "Quota exceeded" in err.value.message


def test_5xx_retried_then_translated(rig: GoogleRig, fid: str) -> None:
    rig.emu.faults.add("503", match=BATCH_WRITE, times=2)
    rig.backend.write(fid, [(CellRange(LESSONS, 1, 2), [["№ 5"]])])
    assert attempts(rig, "sheets_write") == 3
    assert rig.backend.read(fid, [LESSONS])[LESSONS][1][2] == "№ 5"
    rig.emu.faults.add("500", match=BATCH_GET, times=None)
    with pytest.raises(TransientError) as err:
        rig.backend.read(fid, [LESSONS])
    assert err.value.uncertain is False and attempts(rig, "sheets_read") == 1 + 6


def test_resets_and_timeouts_of_reads_are_retried(rig: GoogleRig, fid: str) -> None:
    rig.emu.faults.add("reset", match=BATCH_GET)
    rig.emu.faults.add("timeout", match=BATCH_GET)
    assert rig.backend.read(fid, [LESSONS])[LESSONS][0][0] == "Дата"
    assert attempts(rig, "sheets_read") == 3 and len(rig.time.sleeps) == 2


def test_write_that_timed_out_after_sending_is_uncertain_and_not_retried(rig: GoogleRig,
                                                                          fid: str) -> None:
    rig.emu.faults.add("timeout_after", match=BATCH_WRITE)
    with pytest.raises(TransientError) as err:
        rig.backend.write(fid, [(CellRange(LESSONS, 1, 2), [["№ 7"]])])
    assert err.value.uncertain is True and "re-read" in (err.value.hint or "")
    assert attempts(rig, "sheets_write") == 1 and rig.time.sleeps == []
    assert rig.backend.read(fid, [LESSONS])[LESSONS][1][2] == "№ 7"  # it WAS applied


def test_reset_write_is_uncertain(rig: GoogleRig, fid: str) -> None:
    rig.emu.faults.add("reset", match=BATCH_WRITE)
    with pytest.raises(TransientError) as err:
        rig.backend.write(fid, [(CellRange(LESSONS, 1, 2), [["№ 7"]])])
    assert err.value.uncertain is True and attempts(rig, "sheets_write") == 1


def test_write_whose_connection_never_opened_is_retried(rig: GoogleRig, fid: str) -> None:
    rig.emu.faults.add("connect_timeout", match=BATCH_WRITE)
    rig.backend.write(fid, [(CellRange(LESSONS, 1, 2), [["№ 8"]])])
    assert attempts(rig, "sheets_write") == 2


def test_uncertain_protection_change_is_re_read(rig: GoogleRig) -> None:
    info = rig.backend.create(sample_spec())
    wanted = {GRADES: [CellRange(GRADES, 2, 4, 5, 5)]}
    rig.emu.faults.add("timeout_after", match=":batchUpdate")
    with pytest.raises(TransientError) as err:
        rig.backend.set_open_ranges(info.id, wanted, info.protections)
    assert err.value.uncertain
    assert rig.backend.open_ranges(info.id) == wanted  # the caller sees it was applied


def test_drive_rate_limits_are_retried(rig: GoogleRig, fid: str) -> None:
    rig.emu.faults.add("drive_rate_limit", match="/permissions")
    rig.emu.faults.add("drive_project_rate_limit", match="/permissions")
    assert [g.role for g in rig.backend.grants(fid)] == [Role.ORGANIZER]
    assert attempts(rig, "drive") == 3


# ---- what is never retried -----------------------------------------------------------------

def test_storage_quota_is_not_retried_and_explained(rig: GoogleRig) -> None:
    rig.emu.faults.add("storage_quota", match="/drive/v3/files")
    with pytest.raises(BackendError) as err:
        rig.backend.create(sample_spec())
    assert type(err.value) is BackendError and err.value.hint == STORAGE_HINT
    assert attempts(rig, "drive") == 1 and attempts(rig, "sheets_write") == 0
    assert rig.time.sleeps == []


def test_403_and_404_are_not_retried(rig: GoogleRig) -> None:
    stranger = rig.emu.client("stranger@school.ru").create("Чужой")
    with pytest.raises(SheetAccessError, match="403"):
        rig.backend.read(stranger.id, [LESSONS])
    with pytest.raises(SheetAccessError, match="404"):
        rig.backend.info("1nosuchfile")
    assert attempts(rig, "sheets_read") == 1 and attempts(rig, "drive") == 1
    assert rig.time.sleeps == []


def test_400_is_not_retried_and_keeps_googles_message(rig: GoogleRig, fid: str) -> None:
    with pytest.raises(BadRequest) as err:
        rig.backend.rename_tab(fid, LESSONS, GRADES)
    assert 'A sheet with the name "1 четверть" already exists' in err.value.google_message
    assert err.value.google_message in err.value.message and fid in err.value.message
    assert attempts(rig, "sheets_write") == 1


class Scripted(RecordingAdapter):
    """Answers with canned responses first, then serves the emulator."""

    def __init__(self, rig: GoogleRig, canned: list[tuple[int, dict[str, str], bytes]]) -> None:
        super().__init__(rig.emu)
        self.canned = canned

    def send(self, request: requests.PreparedRequest, *args: Any, **kw: Any) -> requests.Response:
        if not self.canned:
            return super().send(request, *args, **kw)
        status, headers, body = self.canned.pop(0)
        resp = requests.Response()
        resp.status_code, resp.headers, resp._content = status, CaseInsensitiveDict(headers), body
        resp.url, resp.request, resp.encoding = request.url or "", request, "utf-8"
        return resp


QUOTA = json.dumps({"error": {"code": 429, "message": "Quota exceeded",
                              "status": "RESOURCE_EXHAUSTED"}}).encode()


def test_retry_after_is_honoured(rig: GoogleRig, fid: str) -> None:
    rig.session.mount("https://", Scripted(rig, [(429, {"Retry-After": "7"}, QUOTA)]))
    assert rig.backend.read(fid, [LESSONS])[LESSONS]
    assert rig.time.sleeps == [7.0]


def test_retry_after_beyond_the_cap_is_not_waited_for(rig: GoogleRig, fid: str) -> None:
    rig.session.mount("https://", Scripted(rig, [(429, {"Retry-After": "3600"}, QUOTA)]))
    with pytest.raises(RateLimited):
        rig.backend.read(fid, [LESSONS])
    assert rig.time.sleeps == []


def test_non_json_gateway_errors_are_transient(rig: GoogleRig, fid: str) -> None:
    html = (502, {"Content-Type": "text/html"}, b"<html>Bad Gateway</html>")
    rig.session.mount("https://", Scripted(rig, [html] * 6))
    with pytest.raises(TransientError, match="Bad Gateway"):
        rig.backend.read(fid, [LESSONS])
    assert len(rig.time.sleeps) == 5


def test_a_200_that_is_not_json_is_transient(rig: GoogleRig, fid: str) -> None:
    rig.session.mount("https://", Scripted(rig, [(200, {"Content-Type": "text/html"}, b"<html>")]))
    with pytest.raises(TransientError, match="not JSON"):
        rig.backend.info(fid)


# ---- throttling ------------------------------------------------------------------------------

def test_61_reads_in_a_minute_sleep_instead_of_hitting_429(rig: GoogleRig, fid: str) -> None:
    for _ in range(61):
        rig.backend.read(fid, [LESSONS])
    assert rig.time.sleeps == [pytest.approx(1.0)]
    assert {c.status for c in rig.emu.log} == {200}  # the emulator's own 60/min never tripped
    rig.backend.write(fid, [(CellRange(LESSONS, 1, 2), [["x"]])])  # writes have their own bucket
    assert len(rig.time.sleeps) == 1
    assert rig.backend.stats()["throttled_s"] == pytest.approx(1.0)


def test_rates_come_from_the_policy() -> None:
    rig = google_rig(HttpPolicy(reads_per_minute=30, writes_per_minute=2))
    fid = rig.backend.create(sample_spec()).id
    for _ in range(31):
        rig.backend.read(fid, [LESSONS])
    rig.backend.write(fid, [(CellRange(LESSONS, 1, 2), [["x"]])])  # 2nd write in this minute
    rig.backend.write(fid, [(CellRange(LESSONS, 1, 2), [["y"]])])
    assert rig.time.sleeps == [pytest.approx(2.0), pytest.approx(28.0)]
    rig.close()


# ---- logging and counters --------------------------------------------------------------------

def test_one_log_line_per_call_without_cell_values(rig: GoogleRig,
                                                   caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="sync")
    info = rig.backend.create(sample_spec())
    rig.emu.faults.add("503", match=BATCH_WRITE)
    rig.backend.write(info.id, [(CellRange(GRADES, 2, 3), [["Секрет-42"]])])
    rig.backend.read(info.id, [GRADES])
    http = [r.getMessage() for r in caplog.records if r.name == "sync.backends.google.http"]
    per_call = [m for m in http if "attempt" in m]
    assert len(per_call) == 5 == sum(rig.backend.stats()[k] for k in
                                      ("drive", "sheets_read", "sheets_write"))
    assert per_call[2].startswith("sheets_write POST ") and " 503 " in per_call[2]
    assert per_call[3].endswith("attempt 2")
    text = "\n".join(r.getMessage() for r in caplog.records)
    for secret in ("Секрет-42", "Иванов", sample_spec().name, GRADES, "valueRenderOption"):
        assert secret not in text
    assert info.id in text


def test_timeouts_are_always_set(rig: GoogleRig) -> None:
    http = rig.backend.http
    assert isinstance(http, ProjectHTTPClient) and http.timeout == (10.0, 90.0)
    rig.backend.client.set_timeout(None)  # gspread's "no timeout" is refused
    assert http.timeout == (10.0, 90.0)


# ---- building the client ---------------------------------------------------------------------

def settings(**kw: Any) -> BackendSettings:
    kw.setdefault("shared_drive_folder_id", "0AfolderUk9PVA")
    return BackendSettings(kind=BackendKind.GOOGLE, **kw)


def key_file(tmp_path: Path) -> Path:
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                            serialization.NoEncryption()).decode()
    path = tmp_path / "sa.json"
    path.write_text(json.dumps({
        "type": "service_account", "project_id": "ejournal", "private_key_id": "k1",
        "private_key": pem, "client_email": "sync@ejournal.iam.gserviceaccount.com",
        "client_id": "1", "token_uri": "https://oauth2.googleapis.com/token"}))
    return path


def test_service_account_client(tmp_path: Path) -> None:
    conn = build_client(settings(credentials_path=key_file(tmp_path), reads_per_minute=30), {})
    assert conn.principal == "sync@ejournal.iam.gserviceaccount.com"
    assert isinstance(conn.http, ProjectHTTPClient)
    creds: Any = conn.http.auth
    assert tuple(creds.scopes) == SCOPES
    assert conn.http.policy.reads_per_minute == 30 and conn.http.policy.base_url is None
    conn.http.session.close()


def test_oauth_user_client(tmp_path: Path) -> None:
    token = tmp_path / "token.json"
    token.write_text(json.dumps({"type": "authorized_user", "client_id": "c", "client_secret": "s",
                                 "refresh_token": "r"}))
    env = {OAUTH_ENV: str(token), PRINCIPAL_ENV: "zavuch@school.ru"}
    conn = build_client(settings(), env)
    creds: Any = conn.http.auth
    assert conn.principal == "zavuch@school.ru" and creds.refresh_token == "r"
    conn.http.session.close()
    with pytest.raises(ConfigError, match=PRINCIPAL_ENV):
        build_client(settings(), {OAUTH_ENV: str(token)})


@pytest.mark.parametrize("content, problem", [
    (None, "cannot read"), ("{not json", "not valid JSON"), ('{"type": "authorized_user"}',
                                                             "not a service-account key"),
    ('{"type": "service_account"}', "unusable")])
def test_bad_credentials_are_config_errors(tmp_path: Path, content: str | None,
                                           problem: str) -> None:
    path = tmp_path / "sa.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(ConfigError, match=problem):
        build_client(settings(credentials_path=path), {})


def test_no_credentials_at_all() -> None:
    with pytest.raises(ConfigError, match="no Google credentials") as err:
        build_client(settings(), {})
    assert "EJOURNAL_GOOGLE_CREDENTIALS" in (err.value.hint or "")


def test_emulator_host_over_plain_http() -> None:
    proc = subprocess.Popen([sys.executable, "-m", "tests.emulator", "--port", "0"], cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("EMULATOR_LISTENING http://127.0.0.1:"), line
        base = line.split()[1]
        with requests.Session() as s:
            drive = s.post(f"{base}/_emulator/drives", json={"name": "Школа", "organizers": [SVC]},
                           timeout=10).json()["id"]
        env = {EMULATOR_ENV: base.removeprefix("http://")}
        with GoogleBackend.from_settings(settings(shared_drive_folder_id=drive), env) as backend:
            assert backend.principal == SVC and backend.http.policy.base_url == base
            info = backend.create(sample_spec())
            backend.write(info.id, [(CellRange(LESSONS, 1, 2), [["№ 9"]])])
            assert backend.read(info.id, [LESSONS])[LESSONS][1] == ["02.09", "Дроби", "№ 9"]
        with requests.Session() as s:
            counted = s.get(f"{base}/_emulator/calls", timeout=10).json()
        assert counted["calls"][SVC] == {"drive": 1, "sheets_write": 2, "sheets_read": 1}
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=10)
    assert proc.returncode == 0, err
