"""The ledger commands of the CLI: status, audit verify, backup (and --list), restore; exit codes.

Each test works on a copy of the example school in tmp_path whose ledger holds a small realistic
history (tests.sync.ledger_helpers.build_history) plus a registered journal, a violation and a
pending correction. No spreadsheet is touched by these commands.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from config.school import default_anchor
from rules.model import Finding, Location, Severity
from sync.cli.main import main
from sync.ledger.ledger import Ledger
from sync.ledger.model import AbsenceInput, CellRef, Field, FileKind
from tests.sync.ledger_helpers import JOURNAL, build_history, cut_tail, forge_everything, rows

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "config" / "example"
MSK = ZoneInfo("Europe/Moscow")
NOW = datetime(2026, 9, 20, 12, 0, tzinfo=MSK)


@pytest.fixture
def school_dir(tmp_path: Path) -> Path:
    target = tmp_path / "school"
    shutil.copytree(EXAMPLE, target, ignore=shutil.ignore_patterns("var"))
    return target


@pytest.fixture
def config(school_dir: Path) -> Path:
    """school.toml of a copy whose ledger (var/ledger.sqlite3) has a little history."""
    ledger_path = school_dir / "var" / "ledger.sqlite3"
    with Ledger.open(ledger_path, now=NOW, anchor=default_anchor(ledger_path)) as ledger:
        build_history(ledger, 60)
        with ledger.transaction() as tx:
            tx.register_file("file-7b-math", FileKind.JOURNAL, JOURNAL, "Журнал", NOW)
            tx.register_file("file-admin", FileKind.ADMIN, "admin", "Администрация", NOW)
            target = CellRef(Field.MARK, "p01", date(2026, 9, 8), 1)
            tx.record_violation(JOURNAL, target, "5", "2", NOW)
            tx.record_correction("h1", JOURNAL, target, "4", "ошибка", "45-к", NOW)
            run = tx.run_started("sync", NOW)
            tx.run_finished(run, NOW, {"entries_accepted": 3})
    return school_dir / "school.toml"


def run_cli(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


def test_status_shows_registry_runs_findings_violations_and_head(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = run_cli("status", "--config", str(config), capsys=capsys)
    assert code == 0, err
    assert "Spreadsheets: admin ok: 1, journal ok: 1" in out
    assert "violations: 1 (1 not reverted yet)" in out
    assert "Corrections pending: 1" in out
    assert re.search(r"20\.09 12:00\s+sync\s+ok", out)
    with Ledger.open(config.parent / "var" / "ledger.sqlite3") as ledger:
        head = ledger.audit_head()
    assert f"Audit chain head: {head}" in out
    assert "Backups: 0" in out


def test_status_json(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run_cli("status", "--config", str(config), "--json", capsys=capsys)
    assert code == 0
    data = json.loads(out)
    assert data["files"] == {"journal_ok": 1, "admin_ok": 1}  # JSON keys without spaces
    assert (data["violations"], data["violations_unreverted"], data["corrections_pending"]) == (
        1,
        1,
        1,
    )
    assert data["runs"][0]["kind"] == "sync" and data["runs"][0]["ok"] is True
    started = datetime.fromisoformat(data["runs"][0]["started"])  # ISO 8601 with the offset
    assert started.utcoffset() is not None
    assert len(data["audit_head"]) == 64


def test_status_counts_class_findings_and_absence_reasons(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli("status", "--config", str(config), capsys=capsys)
    assert code == 0
    assert "Class spreadsheets: 0 open findings in 0 classes; absence reasons: 0\n" in out

    day, later = date(2026, 9, 14), date(2026, 9, 15)
    path = config.parent / "var" / "ledger.sqlite3"
    with Ledger.open(path) as ledger, ledger.transaction() as tx:
        for class_id in ("7Б", "5А"):
            tx.register_file(f"file-{class_id}", FileKind.CLASS, class_id, class_id, NOW)
        tx.accept_absences(
            "7Б",
            [
                AbsenceInput("p01", day, "б", "б"),
                AbsenceInput("p02", day, "Б", "б"),
                AbsenceInput("p03", day, "н", "н"),
                AbsenceInput("p01", later, "у", "у"),
                AbsenceInput("p04", later, "болел", ""),  # kept as typed at a lock
                AbsenceInput("p05", later, "", ""),  # erased: no reason
            ],
            NOW,
        )
        tx.accept_absences("5А", [AbsenceInput("p21", day, "б", "б")], NOW)
        where = Location("7Б", "p06", later, Field.ABSENCE_REASON.value, "E9")
        tx.sync_findings(
            "7Б",
            [
                Finding("absence_reason", Severity.ERROR, where, "«х» — нет такой причины"),
                Finding("absence_outside", Severity.ERROR, Location("7Б"), "вне столбцов"),
            ],
            NOW,
        )

    code, out, _ = run_cli("status", "--config", str(config), capsys=capsys)
    assert code == 0
    assert (
        "Class spreadsheets: 2 open findings in 1 class; "
        "absence reasons: 6 (б 3, н 1, у 1; 1 kept as typed)\n"
    ) in out
    assert "Open findings: 0 in 0 journals" in out  # the class findings are not a journal's
    code, out, _ = run_cli("status", "--config", str(config), "--json", capsys=capsys)
    data = json.loads(out)
    assert (data["class_findings_open"], data["classes_with_findings"]) == (2, 1)
    assert data["absence_reasons"] == {"б": 3, "н": 1, "у": 1}
    assert data["absences_kept_as_typed"] == 1


def test_status_without_a_ledger_says_to_run_setup(
    school_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli("status", "--config", str(school_dir / "school.toml"), capsys=capsys)
    assert code == 1
    assert err.startswith("Error: no ledger at ")
    assert "Hint: run `ejournal setup` first" in err
    assert not (school_dir / "var" / "ledger.sqlite3").exists()  # not created by looking


def test_audit_verify_passes_then_names_the_altered_event(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = run_cli("audit", "verify", "--config", str(config), capsys=capsys)
    assert code == 0
    assert re.match(r"Audit chain OK: \d+ events, head [0-9a-f]{64}", out)

    path = config.parent / "var" / "ledger.sqlite3"
    connection = sqlite3.connect(path, isolation_level=None)
    try:  # one byte of one event's payload, as someone with file access would do it
        connection.execute("DROP TRIGGER audit_no_update")
        payload = connection.execute("SELECT payload FROM audit WHERE id = 7").fetchone()[0]
        altered = payload.replace('"5"', '"4"', 1) if '"5"' in payload else payload[:-2] + "0}"
        assert altered != payload
        connection.execute("UPDATE audit SET payload = ? WHERE id = 7", (altered,))
    finally:
        connection.close()

    code, out, err = run_cli("audit", "verify", "--config", str(config), capsys=capsys)
    assert code == 1
    errors = [line for line in err.splitlines() if line.startswith("Error: ")]
    assert len(errors) == 1 and errors[0].startswith("Error: audit chain broken at event 7: ")
    assert "Hint: restore the newest good backup" in err
    assert "Traceback" not in err


def test_backup_then_list_then_restore(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out, err = run_cli("backup", "--config", str(config), capsys=capsys)
    assert code == 0, err
    match = re.match(r"Backup written: (\S+) \(the newest 14 are kept\)", out)
    assert match
    taken = Path(match[1])
    assert taken.parent == config.parent / "var" / "backups" and taken.is_file()

    code, out, _ = run_cli("backup", "--config", str(config), "--list", capsys=capsys)
    assert code == 0
    assert str(taken) in out and "1 backups in" in out

    ledger_path = config.parent / "var" / "ledger.sqlite3"
    with Ledger.open(ledger_path) as ledger:
        backed_up_head = ledger.audit_head()
        with ledger.transaction() as tx:  # something happens after the backup
            tx.audit_append("test.later", {"n": 1}, NOW)

    code, out, err = run_cli("restore", "--config", str(config), str(taken), capsys=capsys)
    assert code == 0, err
    assert f"Restored {ledger_path} from {taken}" in out
    kept = re.search(r"The previous ledger is kept as (\S+)", out)
    assert kept and Path(kept[1]).is_file()
    with Ledger.open(ledger_path) as ledger:
        report = ledger.audit_verify()
        with ledger.snapshot() as tx:
            assert tx.file("file-7b-math") is not None
    assert report.ok
    assert f"Audit chain head: {report.head}" in out
    assert report.head != backed_up_head  # the restore itself is audited on top


def test_restore_of_a_missing_file_is_an_error(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli(
        "restore", "--config", str(config), str(config.parent / "nope.sqlite3"), capsys=capsys
    )
    assert code == 1
    assert "does not exist" in err and "Traceback" not in err


def test_restore_needs_its_path_argument(config: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = run_cli("restore", "--config", str(config), capsys=capsys)
    assert code == 2
    assert "Missing argument 'PATH'" in err


def test_verbose_logs_ids_and_counts_to_stderr(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = run_cli("audit", "verify", "--config", str(config), "-v", capsys=capsys)
    assert code == 0
    assert re.search(r"INFO sync\.ledger\.ledger: ledger \S+ open at schema version \d+", err)
    assert re.search(r"INFO sync\.ledger\.ledger: ledger \S+: audit chain ok, \d+ events", err)
    code, _, err = run_cli("audit", "verify", "--config", str(config), capsys=capsys)
    assert "INFO" not in err  # quiet without -v


# --------------------------------------------------------------------------- the attacks (issue 8)

ROW = "entries (journal 7Б/math, day 2026-09-08, lesson_no 1, pupil_id p01)"
KEY = "journal = '7Б/math' AND day = '2026-09-08' AND lesson_no = 1 AND pupil_id = 'p01'"


def sql(path: Path, statement: str) -> None:
    connection = sqlite3.connect(path, isolation_level=None)
    try:
        connection.execute(statement)
    finally:
        connection.close()


def problem_lines(out: str) -> list[str]:
    return [line.removeprefix("Problem: ") for line in out.splitlines()
            if line.startswith("Problem: ")]


ATTACKS = {
    "update a mark": (f"UPDATE entries SET value = '2' WHERE {KEY}",
                      f"{ROW}: the row does not match its seal — changed outside ejournal"),
    "unlock a lesson": ("UPDATE lessons SET marks_locked_at = NULL WHERE day = '2026-09-08'",
                        "lessons (journal 7Б/math, day 2026-09-08, lesson_no 1): the row does not"
                        " match its seal — changed outside ejournal"),
    "insert a mark": ("INSERT INTO entries (journal, day, lesson_no, pupil_id, raw, value, kind,"
                      " first_seen, last_changed) VALUES ('7Б/math', '2026-09-08', 1, 'p24', '5',"
                      " '5', 'mark', '2026-09-08 10:00:00.000000', '2026-09-08 10:00:00.000000')",
                      "entries (journal 7Б/math, day 2026-09-08, lesson_no 1, pupil_id p24): a row"
                      " the chain never sealed — inserted outside ejournal"),
}


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_audit_verify_names_the_row_a_direct_edit_changed(
    config: Path, capsys: pytest.CaptureFixture[str], attack: str
) -> None:
    code, _, err = run_cli("audit", "verify", "--config", str(config), capsys=capsys)
    assert code == 0, err
    statement, line = ATTACKS[attack]
    sql(config.parent / "var" / "ledger.sqlite3", statement)
    code, out, err = run_cli("audit", "verify", "--config", str(config), capsys=capsys)
    assert code == 1
    assert problem_lines(out) == [line]
    assert f"Error: audit failed, 1 problems; the first: {line}" in err


def test_audit_verify_names_a_deleted_row_by_partition_and_event(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = config.parent / "var" / "ledger.sqlite3"
    connection = sqlite3.connect(path)
    try:
        (count,) = connection.execute(
            "SELECT count(*) FROM entries WHERE day = '2026-09-08'").fetchone()
        (event,) = connection.execute(  # the one transaction of that day sealed it, last
            "SELECT max(id) FROM audit WHERE kind = 'data.sealed' AND payload LIKE"
            " '%\"2026-09-08\"%'").fetchone()
    finally:
        connection.close()
    sql(path, f"DELETE FROM entries WHERE {KEY}")
    code, out, _ = run_cli("audit", "verify", "--config", str(config), capsys=capsys)
    assert code == 1
    assert problem_lines(out) == [
        f"entries (journal 7Б/math, day 2026-09-08): {count - 1} rows where event {event} sealed"
        f" {count} — 1 deleted outside ejournal"
    ]


def test_a_rewritten_chain_and_a_cut_tail_are_named_by_the_anchor(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    anchor = config.parent / "var-ledger.anchor"  # the default: beside the ledger's folder
    path = config.parent / "var" / "ledger.sqlite3"
    code, out, _ = run_cli("status", "--config", str(config), capsys=capsys)
    assert code == 0 and anchor.is_file()
    (last,) = rows(path, "SELECT max(id) FROM audit")[0]
    assert f"Audit anchor: {anchor} (event {last}, the chain extends it)" in out

    forged = path.with_name("forged.sqlite3")
    shutil.copyfile(path, forged)
    forge_everything(forged, "2")
    shutil.copyfile(forged, path)
    code, out, _ = run_cli("audit", "verify", "--config", str(config), capsys=capsys)
    assert code == 1
    assert problem_lines(out) == [
        f"event {last} is not the one anchored in {anchor} — the chain was rewritten"]

    shutil.copyfile(forged, path)  # the forged copy, cut too
    cut_tail(path, 2)
    code, out, _ = run_cli("audit", "verify", "--config", str(config), capsys=capsys)
    assert code == 1
    lines = problem_lines(out)
    assert lines[0] == (f"the chain no longer has event {last}, the one anchored in {anchor}"
                        " — events were cut from its end")
    code, out, err = run_cli("status", "--config", str(config), capsys=capsys)
    assert code == 3  # the "violations found" code
    assert f"Audit anchor: {anchor} (DOES NOT MATCH — {lines[0]}; run `ejournal audit verify`)" in out
    assert "Hint: " in err and "`ejournal audit verify --reanchor`" in err


def test_audit_verify_reports_a_missing_anchor_and_reanchors_only_when_asked(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    anchor = config.parent / "var-ledger.anchor"
    path = config.parent / "var" / "ledger.sqlite3"
    (events,) = rows(path, "SELECT count(*) FROM audit")[0]
    anchor.unlink()  # lost, or taken away by whoever forged the chain
    code, out, err = run_cli("audit", "verify", "--config", str(config), capsys=capsys)
    assert code == 1
    assert problem_lines(out) == [
        f"the audit anchor {anchor} is missing: the chain's head ({events} events) cannot be"
        " checked against it — a forged chain would look the same"]
    assert "Error: audit failed: the audit anchor is missing" in err
    assert "Hint: " in err and "`ejournal audit verify --reanchor`" in err
    assert not anchor.exists()  # not re-made from a head nobody vouched for

    sql(path, f"UPDATE entries SET value = '5' WHERE {KEY}")  # and the data was changed too
    code, out, _ = run_cli("audit", "verify", "--reanchor", "--config", str(config),
                           capsys=capsys)
    assert code == 1 and len(problem_lines(out)) == 2 and not anchor.exists()


def test_status_shows_a_missing_anchor_the_ledger_wrote_exits_3_and_never_re_makes_it(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    anchor = config.parent / "var-ledger.anchor"
    path = config.parent / "var" / "ledger.sqlite3"
    (last,) = rows(path, "SELECT max(id) FROM audit")[0]
    anchor.unlink()  # a forger's first step: the next run would anchor the forged head
    for _ in range(2):  # the first status re-made nothing the second could find
        code, out, err = run_cli("status", "--config", str(config), capsys=capsys)
        assert code == 3  # the "violations found" code
        assert (f"Audit anchor: {anchor} (MISSING — the audit anchor {anchor} is missing, though the"
                f" ledger wrote it ({anchor}, event {last}): it is not re-made") in out
        assert "Hint: " in err and "`ejournal audit verify --reanchor`" in err
        assert not anchor.exists()


def test_audit_verify_reanchor_anchors_a_ledger_that_otherwise_verifies(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    anchor = config.parent / "var-ledger.anchor"
    path = config.parent / "var" / "ledger.sqlite3"
    (last, head) = rows(path, "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1")[0]
    anchor.unlink()
    code, out, err = run_cli("audit", "verify", "--reanchor", "--config", str(config),
                             capsys=capsys)
    assert code == 0, err
    assert out.startswith(f"Anchored anew: head {head} of ")
    assert json.loads(anchor.read_text(encoding="utf-8"))["event"] == last
    assert "Audit chain OK" in out


def test_status_lists_the_past_days_a_pending_journal_still_leaves_open(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The protection last landed at 10:00 on 08.09 (that day's column open), then the lock job
    failed from 00:15 on 09.09: 08.09 is still open in the file since its day_end (23:59)."""
    ledger_path = config.parent / "var" / "ledger.sqlite3"
    with Ledger.open(ledger_path, anchor=default_anchor(ledger_path)) as ledger, \
            ledger.transaction() as tx:
        tx.register_file("file-7b-algebra", FileKind.JOURNAL, "7Б/algebra", "Алгебра", NOW)
        tx.record_open_ranges("file-7b-algebra", {}, datetime(2026, 9, 8, 10, tzinfo=MSK))
        tx.set_pending_locks([], ["file-7b-algebra"], datetime(2026, 9, 9, 0, 15, tzinfo=MSK))
    code, out, err = run_cli("status", "--config", str(config), capsys=capsys)
    assert code == 0, err
    lines = out.splitlines()
    # named as registered (here «Алгебра»), the id beside it
    at = next(i for i, x in enumerate(lines) if x.startswith("  Алгебра (file file-7b-algebra)"))
    assert "since 2026-09-09T00:15+03:00" in lines[at]
    assert lines[at + 1] == "    2026-09-08 still open in the file, closed 2026-09-08T23:59+03:00"
    assert not lines[at + 2].startswith("    ")  # no other day
    code, out, _ = run_cli("status", "--config", str(config), "--json", capsys=capsys)
    (pending,) = json.loads(out)["locks_pending"]
    assert (pending["file"], pending["name"]) == ("file-7b-algebra", "Алгебра")
    assert pending["open_days"] == [{"day": "2026-09-08", "closed": "2026-09-08T23:59+03:00"}]
