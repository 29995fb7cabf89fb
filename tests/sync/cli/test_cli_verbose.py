"""CLI consistency: ``-v`` is accepted by every command, before it (``ejournal -v sync``) and after
it alike; ``backup`` and ``audit verify`` print JSON with ``--json`` (keys without spaces)."""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from sync.cli.main import main

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "config" / "example"

pytestmark = pytest.mark.slow

# the commands that log at INFO on a set-up school (each names ids and counts)
LOGGING = [("status",), ("audit", "verify"), ("sync",), ("lock",)]
# every command, with what it needs to run; all take -v
EVERY = [*LOGGING, ("check",), ("backup", "--list"), ("rebuild",), ("setup",), ("acl", "check"),
         ("report", "weekly", "--no-deliver")]


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    school = tmp_path_factory.mktemp("verbose") / "school"
    shutil.copytree(EXAMPLE, school, ignore=shutil.ignore_patterns("var", "__pycache__"))
    path = school / "school.toml"
    assert main(["setup", "--config", str(path)]) == 0
    return path


@pytest.mark.parametrize("command", EVERY, ids=" ".join)
def test_v_is_accepted_before_and_after_the_command(
    command: tuple[str, ...], config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    infos = []
    for args in (["-v", *command], [*command, "-v"]):
        capsys.readouterr()
        code = main([*args, "--config", str(config)])
        _, err = capsys.readouterr()
        assert code in (0, 3), err  # acl check: 3 when the local sharing differs
        assert "No such option" not in err
        infos.append(sum(" INFO " in line for line in err.splitlines()))
    if command in LOGGING:
        assert infos[0] > 0 and infos[1] > 0  # INFO lines either way


def keys(data: object) -> list[str]:
    if isinstance(data, dict):
        return [*data, *(k for v in data.values() for k in keys(v))]
    if isinstance(data, list):
        return [k for v in data for k in keys(v)]
    return []


def test_backup_and_audit_verify_print_json(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["backup", "--config", str(config), "--json"]) == 0
    taken = json.loads(capsys.readouterr().out)
    path = Path(taken["backup"])
    assert path.is_file() and taken["keep"] == 14
    assert main(["backup", "--list", "--json", "--config", str(config)]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert {"path": str(path), "bytes": path.stat().st_size} in listed["backups"]

    assert main(["audit", "verify", "--json", "--config", str(config)]) == 0
    report = json.loads(capsys.readouterr().out)
    ledger = config.parent / "var" / "ledger.sqlite3"
    with sqlite3.connect(ledger) as connection:
        (events,) = connection.execute("SELECT count(*) FROM audit").fetchone()
    assert (report["ok"], report["events"], report["problems"]) == (True, events, [])
    assert re.fullmatch(r"[0-9a-f]{64}", report["head"])
    for data in (taken, listed, report):
        assert not [k for k in keys(data) if " " in k]


def test_log_lines_carry_the_school_time_with_its_offset(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    capsys.readouterr()
    assert main(["status", "-v", "--config", str(config)]) == 0
    err = capsys.readouterr().err
    logged = [line for line in err.splitlines() if " INFO " in line]
    assert logged
    zone = ZoneInfo("Europe/Moscow")  # the example's [school] timezone
    for line in logged:
        stamp = re.match(r"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),\d{3} ([+-]\d{4}) INFO ", line)
        assert stamp is not None, line
        when = datetime.strptime(f"{stamp.group(1)} {stamp.group(2)}", "%Y-%m-%d %H:%M:%S %z")
        assert stamp.group(2) == datetime.now(zone).strftime("%z")  # +0300, not the server's
        assert abs((datetime.now(UTC) - when).total_seconds()) < 600
