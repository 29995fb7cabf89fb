"""``[ledger] anchor``: where the audit chain's head is anchored — by default beside the ledger's
folder; written anywhere else it must stay outside that folder (checked by ``ejournal check``)."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from config import load_school
from sync.cli.main import cli
from tests.config.helpers import find, problems_of, replace_once

LEDGER = 'path = "var/ledger.sqlite3"'


def test_the_default_anchor_lies_beside_the_ledgers_folder(school_dir: Path) -> None:
    school = load_school(school_dir, environ={})
    assert school.ledger_anchor is None
    assert school.anchor_path == school_dir.resolve() / "var-ledger.anchor"
    assert not school.anchor_path.is_relative_to(school.ledger_path.parent)


def test_an_anchor_is_resolved_against_the_config_folder(school_dir: Path) -> None:
    replace_once(school_dir / "school.toml", LEDGER, f'{LEDGER}\nanchor = "../safe/head.anchor"')
    school = load_school(school_dir, environ={})
    assert school.anchor_path == school_dir.resolve().parent / "safe" / "head.anchor"


def test_an_anchor_inside_the_ledgers_folder_is_a_problem(school_dir: Path) -> None:
    line = replace_once(
        school_dir / "school.toml", LEDGER, f'{LEDGER}\nanchor = "var/sub/head.anchor"'
    )
    problem = find(problems_of(school_dir), "school.toml", f"line {line + 1}",
                   "must be outside the ledger's folder")
    assert str(school_dir.resolve() / "var") in problem.message


def test_an_anchor_that_is_a_folder_is_a_problem(school_dir: Path) -> None:
    (school_dir / "anchors").mkdir()
    line = replace_once(school_dir / "school.toml", LEDGER, f'{LEDGER}\nanchor = "anchors"')
    find(problems_of(school_dir), "school.toml", f"line {line + 1}", "is a folder; name a file")


def test_check_prints_the_ledger_and_its_anchor(school_dir: Path) -> None:
    done = CliRunner().invoke(cli, ["check", "--config", str(school_dir / "school.toml")])
    assert done.exit_code == 0, done.output
    ledger = school_dir.resolve() / "var" / "ledger.sqlite3"
    assert f"Ledger: {ledger} · audit anchor: {school_dir.resolve() / 'var-ledger.anchor'}" in (
        done.output)
