"""Quotas on the emulator clock and scripted faults, as seen by the real gspread client.

Limits from https://developers.google.com/sheets/api/limits (platform.md §3.1): 60 reads + 60
writes per minute per user, 300 + 300 per project; excess is 429 RESOURCE_EXHAUSTED.
"""

from __future__ import annotations

import gspread
import pytest
import requests

from tests.emulator import GoogleEmulator

DRIVE = "https://www.googleapis.com/drive/v3"
TEACHER = "teacher@school.ru"


def journal(emu: GoogleEmulator, *share_with: str) -> str:
    """A spreadsheet made through Drive (no Sheets quota used), shared as writer."""
    svc = emu.client(emu.service_principal)
    sid = svc.http_client.request("post", f"{DRIVE}/files", json={
        "name": "J", "mimeType": "application/vnd.google-apps.spreadsheet"}).json()["id"]
    for who in share_with:
        svc.http_client.request("post", f"{DRIVE}/files/{sid}/permissions",
                                json={"type": "user", "role": "writer", "emailAddress": who})
    return str(sid)


def read(gc: gspread.Client, sid: str) -> dict:
    return gc.http_client.values_get(sid, "'Sheet1'!A1:B2")


def write(gc: gspread.Client, sid: str) -> dict:
    return gc.http_client.values_update(sid, "'Sheet1'!A1", params={"valueInputOption": "RAW"},
                                        body={"values": [["5"]]})


def quota_error(gc: gspread.Client, fn, sid: str) -> dict:
    with pytest.raises(gspread.exceptions.APIError) as err:
        fn(gc, sid)
    assert err.value.response.status_code == 429
    return err.value.response.json()["error"]


def test_61st_read_in_a_minute_is_429_until_the_clock_moves() -> None:
    emu = GoogleEmulator()
    sid = journal(emu, TEACHER)
    teacher = emu.client(TEACHER)
    for _ in range(60):
        read(teacher, sid)
    err = quota_error(teacher, read, sid)
    assert err["status"] == "RESOURCE_EXHAUSTED"
    assert err["message"] == (
        "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per "
        "user' of service 'sheets.googleapis.com' for consumer 'project_number:123456789012'.")
    assert err["details"][0]["reason"] == "RATE_LIMIT_EXCEEDED"
    write(teacher, sid)  # writes have their own bucket
    teacher.http_client.request("get", f"{DRIVE}/files/{sid}")  # and so has Drive
    emu.clock.advance(60)
    assert "range" in read(teacher, sid)
    assert emu.calls[TEACHER] == {"sheets_read": 62, "sheets_write": 1, "drive": 1}
    assert [r.status for r in emu.log if r.principal == TEACHER].count(429) == 1


def test_61st_write_is_429_write_requests() -> None:
    emu = GoogleEmulator()
    sid = journal(emu, TEACHER)
    teacher = emu.client(TEACHER)
    for _ in range(60):
        write(teacher, sid)
    assert "'Write requests per minute per user'" in quota_error(teacher, write, sid)["message"]
    emu.clock.advance(1)  # buckets refill continuously: one more token per second
    write(teacher, sid)
    quota_error(teacher, write, sid)


def test_project_bucket_is_shared_by_all_principals() -> None:
    users = [f"t{i}@school.ru" for i in range(6)]
    emu = GoogleEmulator()
    sid = journal(emu, *users)
    clients = [emu.client(u) for u in users]
    for gc in clients[:5]:
        for _ in range(60):
            read(gc, sid)
    err = quota_error(clients[5], read, sid)  # first read of a fresh user: project exhausted
    assert "limit 'Read requests per minute' of service" in err["message"]
    assert emu.calls_total("sheets_read") == 301
    emu.clock.advance(60)
    read(clients[5], sid)


def test_quotas_can_be_disabled_and_drive_has_its_own_bucket() -> None:
    emu = GoogleEmulator(quotas=False)
    sid = journal(emu, TEACHER)
    teacher = emu.client(TEACHER)
    for _ in range(100):
        read(teacher, sid)
    small = GoogleEmulator(drive_quota=3)
    sid = journal(small)  # 1 drive call
    svc = small.client(small.service_principal)
    svc.http_client.request("get", f"{DRIVE}/files/{sid}")
    svc.http_client.request("get", f"{DRIVE}/files/{sid}")
    with pytest.raises(gspread.exceptions.APIError) as err:
        svc.http_client.request("get", f"{DRIVE}/files/{sid}")
    body = err.value.response.json()["error"]
    assert (body["code"], body["errors"][0]["reason"], body["errors"][0]["domain"]) == (
        403, "userRateLimitExceeded", "usageLimits")


# ---- faults -------------------------------------------------------------------------------------

@pytest.mark.parametrize(("kind", "status", "key", "value"), [
    ("429", 429, "status", "RESOURCE_EXHAUSTED"),
    ("500", 500, "status", "INTERNAL"),
    ("503", 503, "status", "UNAVAILABLE"),
    ("drive_rate_limit", 403, "reason", "userRateLimitExceeded"),
    ("drive_project_rate_limit", 403, "reason", "rateLimitExceeded"),
    ("storage_quota", 403, "reason", "storageQuotaExceeded"),
])
def test_status_faults_reach_gspread_as_api_errors(kind: str, status: int, key: str,
                                                   value: str) -> None:
    emu = GoogleEmulator()
    sid = journal(emu, TEACHER)
    teacher = emu.client(TEACHER)
    emu.faults.add(kind, match="/values/", principal=TEACHER)
    with pytest.raises(gspread.exceptions.APIError) as err:
        write(teacher, sid)
    assert err.value.code == status
    error = err.value.response.json()["error"]
    assert (error.get("status") if key == "status" else error["errors"][0]["reason"]) == value
    assert read(teacher, sid).get("values") is None  # the faulted write was not applied
    write(teacher, sid)  # times=1: the next call goes through
    assert emu.faults.delivered == [(kind, TEACHER, "PUT",
                                     f"/v4/spreadsheets/{sid}/values/%27Sheet1%27%21A1")]


@pytest.mark.parametrize(("kind", "exc", "applied"), [
    ("timeout", requests.exceptions.ReadTimeout, False),
    ("connect_timeout", requests.exceptions.ConnectTimeout, False),
    ("reset", requests.exceptions.ConnectionError, False),
    ("timeout_after", requests.exceptions.ReadTimeout, True),
])
def test_transport_faults_raise_requests_exceptions(kind: str, exc: type, applied: bool) -> None:
    emu = GoogleEmulator()
    sid = journal(emu, TEACHER)
    teacher = emu.client(TEACHER)
    version = emu.files[sid].version
    emu.faults.add(kind, match=lambda method, path: method == "PUT")
    with pytest.raises(exc):
        write(teacher, sid)
    assert (read(teacher, sid).get("values") == [["5"]]) is applied
    assert (emu.files[sid].version == version + 1) is applied
    assert emu.calls[TEACHER] == {"sheets_write": 1, "sheets_read": 1}


def test_fault_times_principal_filter_and_counting() -> None:
    emu = GoogleEmulator()
    sid = journal(emu, TEACHER)
    teacher, svc = emu.client(TEACHER), emu.client(emu.service_principal)
    emu.faults.add(503, times=2, principal=TEACHER)
    read(svc, sid)  # other principals are not affected
    for _ in range(2):
        with pytest.raises(gspread.exceptions.APIError):
            read(teacher, sid)
    read(teacher, sid)
    assert [d[0] for d in emu.faults.delivered] == ["503", "503"]
    assert emu.calls_total(principal=TEACHER) == 3 and not emu.faults.pending
    with pytest.raises(ValueError):
        emu.faults.add("teapot")
    emu.reset_counters()
    assert emu.calls_total() == 0 and emu.log == [] and emu.faults.delivered == []


def test_handler_bug_is_500_with_traceback_kept_out_of_the_body(
        monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.emulator import drive_files

    def boom(*args: object) -> None:
        raise KeyError("emulator bug")

    emu = GoogleEmulator()
    sid = journal(emu)
    monkeypatch.setattr(drive_files, "get", boom)
    svc = emu.client(emu.service_principal)
    with pytest.raises(gspread.exceptions.APIError) as err:
        svc.http_client.request("get", f"{DRIVE}/files/{sid}")
    assert err.value.response.json() == {"error": {
        "code": 500, "message": "Internal error encountered.", "status": "INTERNAL"}}
    assert len(emu.bugs) == 1 and "KeyError: 'emulator bug'" in emu.bugs[0]


def test_concurrent_clients_share_one_consistent_state() -> None:
    from concurrent.futures import ThreadPoolExecutor

    users = [f"t{i}@school.ru" for i in range(4)]
    emu = GoogleEmulator(quotas=False)
    sid = journal(emu, *users)
    version = emu.files[sid].version

    def work(user: str) -> None:
        gc = emu.client(user)
        for _ in range(25):
            write(gc, sid)

    with ThreadPoolExecutor(4) as pool:
        list(pool.map(work, users))
    assert emu.files[sid].version == version + 100
    assert emu.calls_total("sheets_write") == 100 and not emu.bugs
