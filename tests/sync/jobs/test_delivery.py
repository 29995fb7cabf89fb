"""Delivering reports: e-mail to a real local SMTP server (aiosmtpd) started by the tests, a Drive
upload into the emulator's shared drive through the real google backend; failures retried later,
given up after ``max_attempts`` and reported — the workbook never leaves the reports folder."""

from __future__ import annotations

import random
import socket
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path
from typing import Any

import pytest
import requests
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from config import load_school
from config.school import School
from rules.errors import DeliveryError
from sync.backends.google.auth import client_for_session
from sync.backends.google.backend import GoogleBackend
from sync.jobs import delivery
from sync.jobs.report_schedule import reports_job
from sync.jobs.reports import build_period_report
from sync.jobs.service import Service
from sync.ledger.ledger import Ledger
from tests.emulator import FOLDER_MIME, EmulatorAdapter, GoogleEmulator
from tests.reports.ledger_data import at, fill
from tests.reports.school_files import write_school
from tests.sync.backend_helpers import FakeTime

DEPUTY = "deputy@school7.example"
NOW = at(date(2026, 9, 22), 10)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Inbox:
    """An SMTP server's handler: keeps what it accepted; refuses DATA ``fail`` times first."""

    fail: int = 0
    messages: list[Message] = field(default_factory=list)
    envelopes: list[Any] = field(default_factory=list)
    logins: list[tuple[bytes, bytes]] = field(default_factory=list)

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.fail:
            self.fail -= 1
            return "451 4.3.0 Mailbox busy, try again later"
        self.envelopes.append(envelope)
        self.messages.append(message_from_bytes(envelope.content, policy=policy.default))
        return "250 OK"

    def auth(self, server: Any, session: Any, envelope: Any, mechanism: str, data: Any
             ) -> AuthResult:
        assert isinstance(data, LoginPassword)
        self.logins.append((data.login, data.password))
        return AuthResult(success=data.password == b"s3cret")


@pytest.fixture
def smtp() -> Iterator[tuple[Inbox, int]]:
    inbox, port = Inbox(), free_port()
    server = Controller(inbox, hostname="127.0.0.1", port=port, authenticator=inbox.auth,
                        auth_require_tls=False)
    server.start()
    yield inbox, port
    server.stop()


def school_with(tmp_path: Path, reports: str, **kw: Any) -> School:
    return load_school(write_school(tmp_path / "school", reports, **kw),
                       environ={"EJOURNAL_GOOGLE_EMULATOR_HOST": "127.0.0.1:1"})


def smtp_school(tmp_path: Path, port: int, **extra: Any) -> School:
    lines = "".join(f"{k} = {v!r}\n".replace("'", '"') for k, v in extra.items())
    return school_with(tmp_path, (
        f'\n[reports]\nsmtp_host = "127.0.0.1"\nsmtp_port = {port}\nsmtp_security = "none"\n'
        f'smtp_from = "journal@school7.example"\nsmtp_user = "journal"\n{lines}'))


def built(school: School, ledger: Ledger) -> Path:
    fill(ledger, school)
    report = build_period_report(school, ledger, NOW, "results", "1 четверть")
    assert delivery.queue(school, ledger, report.paths, report.kind, NOW) == len(
        delivery.channels(school))
    return report.paths[0]


ENV = {"EJOURNAL_SMTP_PASSWORD": "s3cret"}


def test_the_deputy_receives_the_workbook_by_email(tmp_path: Path, smtp: tuple[Inbox, int]
                                                   ) -> None:
    inbox, port = smtp
    school = smtp_school(tmp_path, port)
    with Ledger.open(school.ledger_path, now=NOW) as ledger:
        path = built(school, ledger)
        outcome = delivery.deliver_pending(school, ledger, None, NOW, environ=ENV)
        with ledger.snapshot() as tx:
            (record,) = tx.deliveries()
    assert outcome.done == [f"email: {path.name}"] and not outcome.retrying
    assert inbox.logins == [(b"journal", b"s3cret")]
    (msg,) = inbox.messages
    assert inbox.envelopes[0].rcpt_tos == [DEPUTY]  # smtp_to defaults to the deputies
    assert msg["Subject"] == "МБОУ «Тестовая школа № 7»: Итоги успеваемости · 1 четверть"
    (attachment,) = [p for p in msg.walk() if p.get_filename()]
    assert attachment.get_filename() == path.name
    assert attachment.get_payload(decode=True) == path.read_bytes()
    assert (record.status, record.attempts, record.remote_id) == ("done", 1, msg["Message-ID"])


def test_a_failing_smtp_server_is_retried_later(tmp_path: Path, smtp: tuple[Inbox, int]) -> None:
    inbox, port = smtp
    inbox.fail = 2  # "451 try again later" twice
    school = smtp_school(tmp_path, port)
    with Ledger.open(school.ledger_path, now=NOW) as ledger:
        built(school, ledger)
        first = delivery.deliver_pending(school, ledger, None, NOW, environ=ENV)
        assert len(first.retrying) == 1 and "451" in first.retrying[0] and not first.done
        with ledger.snapshot() as tx:
            (record,) = tx.deliveries()
        assert (record.status, record.attempts) == ("pending", 1)
        assert record.next_attempt_at == NOW + timedelta(minutes=30)
        early = delivery.deliver_pending(school, ledger, None, NOW + timedelta(minutes=10),
                                         environ=ENV)
        assert early.lines() == []  # not due yet: not tried
        delivery.deliver_pending(school, ledger, None, NOW + timedelta(minutes=30), environ=ENV)
        last = delivery.deliver_pending(school, ledger, None, NOW + timedelta(minutes=60),
                                        environ=ENV)
        with ledger.snapshot() as tx:
            (record,) = tx.deliveries()
    assert len(last.done) == 1 and (record.status, record.attempts) == ("done", 3)
    assert len(inbox.messages) == 1


def test_a_server_that_stays_down_is_given_up_and_the_file_kept(tmp_path: Path) -> None:
    school = smtp_school(tmp_path, free_port(), max_attempts=2)  # nobody listens there
    with Ledger.open(school.ledger_path, now=NOW) as ledger:
        path = built(school, ledger)
        first = delivery.deliver_pending(school, ledger, None, NOW, environ=ENV)
        second = delivery.deliver_pending(school, ledger, None, NOW + timedelta(hours=1),
                                          environ=ENV)
        with ledger.snapshot() as tx:
            (record,) = tx.deliveries()
    assert len(first.retrying) == 1 and "ConnectionRefusedError" in first.retrying[0]
    assert len(second.failed) == 1 and second.lines()[0].startswith(
        "delivery failed for good (the file stays in the reports folder): email: ")
    assert (record.status, record.attempts) == ("failed", 2) and path.is_file()


def test_a_missing_smtp_password_is_a_clear_failure(tmp_path: Path, smtp: tuple[Inbox, int]
                                                    ) -> None:
    school = smtp_school(tmp_path, smtp[1])
    with Ledger.open(school.ledger_path, now=NOW) as ledger:
        built(school, ledger)
        outcome = delivery.deliver_pending(school, ledger, None, NOW, environ={})
    assert outcome.retrying == [
        "email: Итоги успеваемости · 1 четверть.xlsx: DeliveryError: the SMTP password variable "
        "EJOURNAL_SMTP_PASSWORD is not set"]
    assert smtp[0].messages == []


def test_the_daemons_reports_job_reports_a_failed_delivery(tmp_path: Path) -> None:
    school = smtp_school(tmp_path, free_port())  # the server is down
    with Ledger.open(school.ledger_path, now=NOW) as ledger:
        fill(ledger, school)
    svc = Service.open(school, clock=lambda: at(date(2026, 9, 22), 8))
    try:
        with pytest.raises(DeliveryError, match="report deliveries failed and will be retried"):
            reports_job(svc)  # builds last week's analysis and period 1's reports
        with svc.ledger.snapshot() as tx:
            pending = tx.deliveries(status="pending")
        assert len(pending) == 1 + 4 + 3  # weekly, 4 period reports, 3 class archives
        assert all(d.attempts == 1 for d in pending)
        assert all((school.ledger_path.parent / "reports" / d.path).is_file() for d in pending)
    finally:
        svc.close()


# --------------------------------------------------------------------------- Drive


@dataclass
class DriveRig:
    emu: GoogleEmulator
    folder: str
    backend: GoogleBackend
    school: School


@pytest.fixture
def drive(tmp_path: Path) -> Iterator[DriveRig]:
    emu = GoogleEmulator()
    shared = emu.create_shared_drive("Школа", organizers=[emu.service_principal])
    folder = emu.create_file(emu.service_principal, "Отчёты", FOLDER_MIME, [shared],
                             id="fld-reports").id
    session = requests.Session()
    session.mount("https://", EmulatorAdapter(emu))
    time = FakeTime(emu)
    conn = client_for_session(session, emu.service_principal, clock=time.now, sleep=time.sleep,
                              rng=random.Random(1))
    backend = GoogleBackend(conn, folder=shared)
    school = school_with(tmp_path, f'\n[reports]\ndrive_folder_id = "{folder}"\n', backend=(
        f'[backend]\nkind = "google"\nshared_drive_folder_id = "{shared}"\n'))
    yield DriveRig(emu, folder, backend, school)
    session.close()


def in_folder(rig: DriveRig) -> list[Any]:
    return [f for f in rig.emu.files.values() if rig.folder in f.parents and not f.trashed]


def test_the_upload_lands_in_the_folder_shared_with_the_deputies_only(drive: DriveRig) -> None:
    with Ledger.open(drive.school.ledger_path, now=NOW) as ledger:
        path = built(drive.school, ledger)
        outcome = delivery.deliver_pending(drive.school, ledger, drive.backend, NOW)
        with ledger.snapshot() as tx:
            (record,) = tx.deliveries()
    assert outcome.done == [f"drive: {path.name}"]
    (uploaded,) = in_folder(drive)
    assert uploaded.name == "Итоги успеваемости · 1 четверть · 2026-09-22 10-00.xlsx"
    assert uploaded.content == path.read_bytes() and record.remote_id == uploaded.id
    assert [(p.email_address, p.role) for p in uploaded.permissions] == [(DEPUTY, "reader")]
    deputy = drive.emu.client(DEPUTY)
    got = deputy.http_client.request(
        "get", f"https://www.googleapis.com/drive/v3/files/{uploaded.id}",
        params={"alt": "media", "supportsAllDrives": "true"})
    assert got.content == path.read_bytes()  # the deputy can open it; a teacher cannot:
    teacher = drive.emu.client("ivanova@school7.example")
    with pytest.raises(Exception, match="File not found"):
        teacher.http_client.request(
            "get", f"https://www.googleapis.com/drive/v3/files/{uploaded.id}",
            params={"alt": "media", "supportsAllDrives": "true"})


def test_an_upload_that_timed_out_after_landing_is_not_uploaded_twice(drive: DriveRig) -> None:
    drive.emu.faults.add("timeout_after", match="/upload/drive/v3/files")
    with Ledger.open(drive.school.ledger_path, now=NOW) as ledger:
        built(drive.school, ledger)
        first = delivery.deliver_pending(drive.school, ledger, drive.backend, NOW)
        assert len(first.retrying) == 1 and "TransientError" in first.retrying[0]
        assert len(in_folder(drive)) == 1  # it did land
        again = delivery.deliver_pending(drive.school, ledger, drive.backend,
                                         NOW + timedelta(minutes=30))
    assert len(again.done) == 1
    (uploaded,) = in_folder(drive)  # found by name, not uploaded again
    assert [p.email_address for p in uploaded.permissions] == [DEPUTY]


def test_drive_delivery_without_the_google_backend_fails_loudly(tmp_path: Path,
                                                                drive: DriveRig) -> None:
    with Ledger.open(drive.school.ledger_path, now=NOW) as ledger:
        built(drive.school, ledger)
        outcome = delivery.deliver_pending(drive.school, ledger, None, NOW)
    assert outcome.retrying and "needs the google backend" in outcome.retrying[0]
