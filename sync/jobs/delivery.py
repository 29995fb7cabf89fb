"""Delivering built reports to the deputies: a Drive folder and/or e-mail (``[reports]``).

Every workbook is first written to the reports folder beside the ledger; then one delivery per
channel is queued in the ledger's outbox (``report_deliveries``) and tried. A failed attempt is
retried ``retry_minutes`` later (the daemon's reports job), up to ``max_attempts``, then reported
as failed — the file stays on disk, so no report is ever lost. Logs carry delivery ids, kinds and
error classes, never names or marks.

- **drive** (google backend): the workbook is uploaded into ``drive_folder_id`` as
  «<name> · <build time>.xlsx» and shared as reader with each deputy;
- **email**: one message per workbook to ``smtp_to`` (default the deputies), the workbook
  attached, over SMTP (STARTTLS, SSL or plain as configured; login when ``smtp_user`` is set, the
  password from the environment variable ``smtp_password_env``).
"""

from __future__ import annotations

import email.policy
import logging
import os
import smtplib
import ssl
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from pathlib import Path
from typing import Any, Protocol

from config.school import School
from rules.errors import DeliveryError
from sync.backends.protocol import Backend, Role
from sync.ledger.ledger import Ledger
from sync.ledger.reports import DeliveryRecord

logger = logging.getLogger(__name__)

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SMTP_TIMEOUT = 30.0
# headers unfolded up to RFC 5322's 998 characters: Python's folding of a long Cyrillic subject
# into several encoded words loses the space at each fold («№ 7» arrives as «№7»)
MAIL_POLICY = email.policy.SMTP.clone(max_line_length=998)
SmtpFactory = Callable[..., Any]  # smtplib.SMTP or smtplib.SMTP_SSL (tests pass their own)


class Uploader(Protocol):
    """What a backend offers for the drive channel (the google backend's ``upload``)."""

    def upload(self, name: str, data: bytes, mime_type: str, folder: str, *,
               maybe_there: bool = False) -> str: ...

    def grant(self, file_id: str, email: str, role: Role) -> Any: ...


@dataclass
class DeliverySummary:
    """What one pass over the outbox did."""

    done: list[str] = field(default_factory=list)  # "email: <file>", "drive: <file>"
    retrying: list[str] = field(default_factory=list)  # "<channel>: <file>: <error>"
    failed: list[str] = field(default_factory=list)  # gave up after max_attempts

    def lines(self) -> list[str]:
        return ([f"delivered {x}" for x in self.done]
                + [f"delivery failed, will retry: {x}" for x in self.retrying]
                + [f"delivery failed for good (the file stays in the reports folder): {x}"
                   for x in self.failed])


def channels(school: School) -> list[str]:
    """The configured delivery channels."""
    settings = school.reports
    return [c for c, on in (("drive", settings.drive_folder_id), ("email", settings.smtp_host))
            if on]


def queue(school: School, ledger: Ledger, paths: Sequence[Path], report: str,
          now: datetime) -> int:
    """Queue every workbook on every configured channel; returns the deliveries queued."""
    wanted = channels(school)
    if not wanted:
        return 0
    root = reports_root(school)
    with ledger.transaction() as tx:
        for path in paths:
            for channel in wanted:
                tx.queue_delivery(str(path.relative_to(root)), report, channel, now)
    return len(paths) * len(wanted)


def reports_root(school: School) -> Path:
    return school.ledger_path.parent / "reports"


def deliver_pending(school: School, ledger: Ledger, backend: Backend | None, now: datetime, *,
                    smtp: SmtpFactory | None = None,
                    environ: Mapping[str, str] | None = None) -> DeliverySummary:
    """Try every delivery that is due; record each outcome in the outbox."""
    summary = DeliverySummary()
    with ledger.snapshot() as tx:
        due = tx.delivery_due(now)
    settings = school.reports
    for item in due:
        path = reports_root(school) / item.path
        label = f"{item.channel}: {path.name}"
        try:
            if not path.is_file():
                raise DeliveryError(f"the workbook {item.path} is no longer in the reports folder",
                                    "build the report again: `ejournal report …`")
            if item.channel == "drive":
                remote = _to_drive(school, backend, item, path)
            elif item.channel == "email":
                remote = _by_email(school, item, path, smtp, os.environ if environ is None
                                   else environ)
            else:
                raise DeliveryError(f"unknown delivery channel {item.channel!r}")
        except Exception as exc:
            error = f"{type(exc).__name__}: {getattr(exc, 'message', None) or exc}"
            gives_up = item.attempts + 1 >= settings.max_attempts or not path.is_file()
            retry_at = None if gives_up else now + timedelta(minutes=settings.retry_minutes)
            with ledger.transaction() as tx:
                tx.delivery_failed(item.id, error, now, retry_at=retry_at)
            logger.warning("delivery %d (%s, %s) attempt %d failed: %s", item.id, item.report,
                           item.channel, item.attempts + 1, type(exc).__name__)
            (summary.failed if gives_up else summary.retrying).append(f"{label}: {error}")
            continue
        with ledger.transaction() as tx:
            tx.delivery_done(item.id, remote, now)
        logger.info("delivery %d (%s, %s) done", item.id, item.report, item.channel)
        summary.done.append(label)
    return summary


def _to_drive(school: School, backend: Backend | None, item: DeliveryRecord, path: Path) -> str:
    folder = school.reports.drive_folder_id
    if backend is None or not callable(getattr(backend, "upload", None)) or folder is None:
        raise DeliveryError("uploading reports to Drive needs the google backend",
                            "set [backend] kind = \"google\" or remove [reports] drive_folder_id")
    uploader: Uploader = backend  # type: ignore[assignment]
    stamp = item.created_at.astimezone(school.timezone).strftime("%Y-%m-%d %H-%M")
    name = f"{path.stem} · {stamp}{path.suffix}"
    file_id = uploader.upload(name, path.read_bytes(), XLSX, folder,
                              maybe_there=item.attempts > 0)
    for deputy in school.deputy_emails:
        uploader.grant(file_id, deputy, Role.READER)
    return file_id


def message(school: School, path: Path, report: str, now: datetime) -> EmailMessage:
    """The e-mail of one workbook (Russian text; the workbook attached)."""
    settings = school.reports
    msg = EmailMessage(policy=MAIL_POLICY)
    msg["Subject"] = f"{school.name}: {path.stem}"
    msg["From"] = settings.smtp_from or ""
    msg["To"] = ", ".join(settings.smtp_to)
    msg["Date"] = formatdate(now.timestamp(), localtime=False)
    msg["Message-ID"] = make_msgid(domain=(settings.smtp_from or "ejournal").partition("@")[2]
                                   or None)
    msg.set_content(
        f"Здравствуйте!\n\nВо вложении — отчёт «{path.stem}», сформированный электронным "
        f"журналом {now.astimezone(school.timezone):%d.%m.%Y %H:%M}.\nВид отчёта: {report}.\n\n"
        "Письмо отправлено автоматически; отвечать на него не нужно.\n")
    msg.add_attachment(path.read_bytes(), maintype="application",
                       subtype=XLSX.split("/")[1], filename=path.name)
    return msg


def _by_email(school: School, item: DeliveryRecord, path: Path, smtp: SmtpFactory | None,
              environ: Mapping[str, str]) -> str:
    settings = school.reports
    if not settings.smtp_host:
        raise DeliveryError("no SMTP server is configured", "set [reports] smtp_host")
    password = None
    if settings.smtp_user:
        password = environ.get(settings.smtp_password_env)
        if not password:
            raise DeliveryError(
                f"the SMTP password variable {settings.smtp_password_env} is not set",
                "set it in the service's environment (never in school.toml)")
    msg = message(school, path, item.report, item.created_at)
    secure = settings.smtp_security
    factory = smtp or (smtplib.SMTP_SSL if secure == "ssl" else smtplib.SMTP)
    context = ssl.create_default_context()
    kwargs: dict[str, Any] = {"timeout": SMTP_TIMEOUT}
    if secure == "ssl" and smtp is None:
        kwargs["context"] = context
    with factory(settings.smtp_host, settings.smtp_port, **kwargs) as client:
        if secure == "starttls":
            client.starttls(context=context)
        if settings.smtp_user and password:
            client.login(settings.smtp_user, password)
        refused = client.send_message(msg)
    if refused:
        raise DeliveryError(f"the SMTP server refused {len(refused)} recipient(s)",
                            "check [reports] smtp_to")
    return str(msg["Message-ID"])
