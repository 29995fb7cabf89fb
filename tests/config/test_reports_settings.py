"""[reports] of school.toml: where built reports are delivered (Drive folder, SMTP), checked at
load with file, line and field; defaults when the section is absent."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import load_school
from config.school import ReportSettings
from tests.config.helpers import problems_of, replace_once


def add_to_section(school_dir: Path, lines: list[str]) -> list[int]:
    """Put ``lines`` under the example's [reports] header; returns the header's line number
    (where a missing key is reported) and theirs."""
    path = school_dir / "school.toml"
    header = replace_once(path, "\n[reports]\n", "\n[reports]\n" + "".join(f"{x}\n" for x in lines))
    return [header + 1 + i for i in range(len(lines) + 1)]


def test_no_settings_mean_no_delivery(school_dir: Path) -> None:
    school = load_school(school_dir / "school.toml", environ={})
    defaults = ReportSettings(smtp_to=school.deputy_emails)
    assert school.reports == defaults and (defaults.smtp_host, defaults.drive_folder_id) == (
        None, None)


def test_email_settings_and_recipients_default_to_the_deputies(school_dir: Path) -> None:
    add_to_section(school_dir, ['smtp_host = "smtp.school.ru"', 'smtp_from = "journal@school.ru"',
                                'smtp_security = "ssl"', "smtp_port = 465"])
    school = load_school(school_dir / "school.toml", environ={})
    r = school.reports
    assert (r.smtp_host, r.smtp_port, r.smtp_security, r.smtp_from) == (
        "smtp.school.ru", 465, "ssl", "journal@school.ru")
    assert r.smtp_to == school.deputy_emails == ("zamestitel.uvr.example@gmail.com",)
    assert (r.retry_minutes, r.max_attempts, r.smtp_password_env) == (30, 48,
                                                                      "EJOURNAL_SMTP_PASSWORD")


@pytest.mark.parametrize(("lines", "field", "message"), [
    (['drive_folder_id = "abc"'], "reports.drive_folder_id",
     "uploading reports to Drive needs the google backend"),
    (['smtp_host = "smtp.school.ru"'], "reports.smtp_from", "e-mailing reports needs smtp_from"),
    (['smtp_host = "smtp.school.ru"', 'smtp_from = "journal@school.ru"',
      'smtp_to = ["deputy@school", "ok@school.ru"]'], "reports.smtp_to[0]",
     "'deputy@school' is not an e-mail address"),
    (['smtp_password_env = "1BAD"'], "reports.smtp_password_env", "String should match pattern"),
    (['smtp_security = "tls"'], "reports.smtp_security", "Input should be 'starttls', 'ssl' or"),
])
def test_mistakes_in_reports(school_dir: Path, lines: list[str], field: str, message: str
                             ) -> None:
    numbers = add_to_section(school_dir, lines)
    problems = [p for p in problems_of(school_dir) if message in p.message]
    assert len(problems) == 1, problems
    assert problems[0].where in [f"line {n}, field {field}" for n in numbers]
