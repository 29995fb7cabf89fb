"""``ejournal report KIND`` on the tiny hand-built school (tests.reports): what it prints, where
the workbooks land, --json, and the errors a deputy or sysadmin can run into (exit code 1, one
Error/Hint pair, no traceback)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import openpyxl
import pytest

from config import load_school
from sync.cli.main import main
from sync.ledger.ledger import Ledger
from tests.reports.ledger_data import at, fill
from tests.reports.school_files import write_school


@pytest.fixture(scope="module")
def config(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = write_school(tmp_path_factory.mktemp("school"))
    school = load_school(path)
    with Ledger.open(school.ledger_path, now=at(date(2026, 9, 7), 7)) as ledger:
        fill(ledger, school)
    return path


def run_cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_report_prints_where_the_workbook_is(config: Path, capsys: pytest.CaptureFixture[str]
                                             ) -> None:
    code, out, err = run_cli(capsys, "report", "results", "--period", "1 четверть",
                             "--config", str(config))
    assert (code, err) == (0, "")
    lines = out.splitlines()
    assert lines[0] == "results: 1 четверть"
    path = Path(lines[1].strip())
    assert path == config.parent / "var" / "reports" / "2026-27" / "1 четверть" / (
        "Итоги успеваемости · 1 четверть.xlsx")
    assert openpyxl.load_workbook(path).sheetnames[0] == "Классы"


def test_report_all_of_a_period_as_json(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "report", "all", "--period", "1 четверть", "--json",
                           "--config", str(config))
    assert code == 0
    data = json.loads(out)["reports"]
    assert [d["kind"] for d in data] == ["results", "attendance", "control", "curriculum",
                                        "archive"]
    archive = data[-1]
    assert (archive["workbooks"], len(archive["files"])) == (3, 3)
    assert archive["pages"] == 3 * 2 * 4  # 3 classes × 2 journals × 4 pages
    assert all(Path(f).is_file() for d in data for f in d["files"])


def test_statement_and_weekly_by_date(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli(capsys, "report", "statement", "--period", "1 четверть",
                           "--pupil", "s-b1", "--config", str(config))
    assert code == 0 and "Выписка 7Б s-b1 · 1 четверть.xlsx" in out
    code, out, _ = run_cli(capsys, "report", "weekly", "--week", "09.09.2026",
                           "--config", str(config))
    assert code == 0 and out.splitlines()[0] == "weekly: неделя 07.09–13.09.2026"


@pytest.mark.parametrize(("args", "error", "hint"), [
    (("results", "--period", "5 четверть"), "Error: unknown period '5 четверть'",
     "Hint: use one of «1 четверть», «2 четверть» or «год» for the whole year"),
    (("statement", "--period", "1 четверть"), "Error: the pupil statement needs a pupil id",
     "Hint: add --pupil ID (the pupil id of the class list)"),
    (("statement", "--pupil", "nobody"), "Error: no pupil with id 'nobody'",
     "Hint: use the pupil id of the class list (column «Код»)"),
    (("weekly", "--week", "2027-08-02"),
     "Error: the week 2027-08-02..2027-08-08 is outside the school year 2026-09-07..2026-10-02",
     "Hint: give a week inside the year 2026/27"),
])
def test_bad_requests_are_one_clear_error(config: Path, capsys: pytest.CaptureFixture[str],
                                          args: tuple[str, ...], error: str, hint: str) -> None:
    code, out, err = run_cli(capsys, "report", *args, "--config", str(config))
    assert (code, out) == (1, "")
    assert err.splitlines() == [error, hint]


def test_no_ledger_yet(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_school(tmp_path / "fresh")
    code, _, err = run_cli(capsys, "report", "results", "--config", str(config))
    assert code == 1 and err.startswith("Error: no ledger at ")


def test_unknown_kind_is_a_usage_error(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli(capsys, "report", "grades", "--config", str(config))
    assert code == 2 and "Invalid value for '{weekly|monthly|" in err


def test_weekly_writes_the_teachers_board_once(tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    """--no-deliver leaves the board to the daemon; then one write, then none (unchanged)."""
    from sync.jobs.board import board_pending

    path = write_school(tmp_path / "school")
    school = load_school(path)
    with Ledger.open(school.ledger_path, now=at(date(2026, 9, 7), 7)) as ledger:
        fill(ledger, school)
    week = ("report", "weekly", "--week", "14.09.2026", "--config", str(path))
    code, out, _ = run_cli(capsys, *week, "--no-deliver")
    assert code == 0 and "board" not in out
    with Ledger.open(school.ledger_path) as ledger:
        assert board_pending(ledger)
    out = run_cli(capsys, "status", "--config", str(path))[1]
    assert "Teachers' board: write PENDING since " in out and "(built with --no-deliver)" in out
    code, out, _ = run_cli(capsys, *week, "--json")
    board = json.loads(out)["board"]
    assert code == 0 and (board["action"], board["writes"], board["error"]) == ("created", 1, None)
    code, out, _ = run_cli(capsys, *week)
    assert code == 0 and out.splitlines()[-1] == f"board: unchanged (file {board['file']}, 0 write(s))"
    (file,) = (path.parent / "sheets").glob("Анализ ведения журналов*.xlsx")
    assert openpyxl.load_workbook(file).sheetnames == ["Сводка", "Замечания"]
    with Ledger.open(school.ledger_path) as ledger:
        assert not board_pending(ledger)
    status = json.loads(run_cli(capsys, "status", "--config", str(path), "--json")[1])
    assert status["board"]["file"] == board["file"] and "pending" not in status["board"]
    assert f"Teachers' board: up to date (file {board['file']}, written " in run_cli(
        capsys, "status", "--config", str(path))[1]
