"""All problems at once, secrets from the environment, tolerant CSV input, and never a traceback."""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config import load_school
from config.school import BackendKind
from config.settings import EMULATOR_ENV, OAUTH_ENV, PRINCIPAL_ENV
from rules.errors import ConfigError
from sync.backends.google import auth as google_auth
from tests.config.conftest import copy_example
from tests.config.helpers import append_line, find, has, problems_of, replace_once


def test_all_mistakes_are_reported_at_once(school_dir: Path) -> None:
    typo = replace_once(school_dir / "school.toml", '# day_end = "23:59"', 'day_edn = "23:00"')
    replace_once(school_dir / "pupils.csv", "s0005,5А,", "s0005,5Я,")
    replace_once(school_dir / "parents.csv", "antonova.kv.example@gmail.com", "antonova.kv@")
    bad_slot = append_line(school_dir / "timetable.csv", "6,1,5А,music,")
    plan = school_dir / "plans/7Б_algebra.csv"
    replace_once(plan, "Входная контрольная работа,1,control", "Входная контрольная работа,1,x")
    problems = problems_of(school_dir)
    assert {p.file for p in problems} == {
        "school.toml",
        "pupils.csv",
        "parents.csv",
        "timetable.csv",
        "plans/7Б_algebra.csv",
    }
    find(problems, "school.toml", f"line {typo}, field lock.day_edn", "unknown key")
    find(problems, "timetable.csv", f"line {bad_slot}, column weekday", "school week")


def test_csv_problems_are_reported_even_when_the_toml_is_broken(school_dir: Path) -> None:
    broken = replace_once(school_dir / "school.toml", "weighted = true", "weighted = = true")
    pupil = replace_once(school_dir / "pupils.csv", "s0005,5А,", "s0005,5Я,")
    problems = problems_of(school_dir)
    find(problems, "school.toml", f"line {broken}", "TOML syntax error")
    find(problems, "pupils.csv", f"line {pupil}, column class_id", "unknown class '5Я'")


def test_error_message_lists_every_problem(school_dir: Path) -> None:
    replace_once(school_dir / "pupils.csv", "s0005,5А,", "s0005,5Я,")
    replace_once(school_dir / "pupils.csv", "s0006,5А,", "s0006,5Ю,")
    with pytest.raises(ConfigError) as info:
        load_school(school_dir, environ={})
    assert str(info.value).startswith("configuration has 2 problems")
    assert "pupils.csv: line 7, column class_id: unknown class '5Ю'" in str(info.value)
    assert info.value.hint


# --------------------------------------------------------------------------- secrets


def _google(school_dir: Path, extra: str = "") -> None:
    replace_once(
        school_dir / "school.toml",
        'kind = "local"\nfolder = "var/sheets"\nprivate_folder = "var/private"',
        f'kind = "google"\nshared_drive_folder_id = "0AbCdEfGh"{extra}',
    )


def test_google_key_path_comes_from_the_environment(school_dir: Path, tmp_path: Path) -> None:
    _google(school_dir)
    key = tmp_path / "key.json"
    key.write_text("{}", encoding="utf-8")
    school = load_school(school_dir, environ={"EJOURNAL_GOOGLE_CREDENTIALS": str(key)})
    assert school.backend.kind is BackendKind.GOOGLE
    assert school.backend.credentials_path == key
    assert school.backend.shared_drive_folder_id == "0AbCdEfGh"
    assert (school.backend.reads_per_minute, school.backend.writes_per_minute) == (60, 60)


def test_config_may_name_another_variable(school_dir: Path, tmp_path: Path) -> None:
    _google(school_dir, '\ncredentials_env = "SCHOOL_KEY"')
    key = tmp_path / "key.json"
    key.write_text("{}", encoding="utf-8")
    school = load_school(school_dir, environ={"SCHOOL_KEY": str(key)})
    assert school.backend.credentials_path == key


def test_os_environ_is_the_default(
    school_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _google(school_dir)
    key = tmp_path / "key.json"
    key.write_text("{}", encoding="utf-8")
    monkeypatch.setenv("EJOURNAL_GOOGLE_CREDENTIALS", str(key))
    assert load_school(school_dir).backend.credentials_path == key


def test_missing_credentials_are_a_problem(school_dir: Path, tmp_path: Path) -> None:
    _google(school_dir)
    unset = problems_of(school_dir)
    assert has(unset, "school.toml", "EJOURNAL_GOOGLE_CREDENTIALS is not set")
    missing = str(tmp_path / "nowhere.json")
    problems = problems_of(school_dir, {"EJOURNAL_GOOGLE_CREDENTIALS": missing})
    assert has(problems, "school.toml", "which is not a file")


def test_no_key_is_needed_with_the_emulator_host(school_dir: Path, tmp_path: Path) -> None:
    _google(school_dir)
    school = load_school(school_dir, environ={EMULATOR_ENV: "127.0.0.1:8089"})
    assert school.backend.kind is BackendKind.GOOGLE
    assert school.backend.credentials_path is None
    wrong = {EMULATOR_ENV: "127.0.0.1:8089", "EJOURNAL_GOOGLE_CREDENTIALS": str(tmp_path / "no")}
    assert has(problems_of(school_dir, wrong), "school.toml", "which is not a file")  # still checked


def test_no_key_is_needed_with_oauth_user_credentials(school_dir: Path, tmp_path: Path) -> None:
    _google(school_dir)
    token = tmp_path / "authorized_user.json"
    token.write_text("{}", encoding="utf-8")
    oauth = {OAUTH_ENV: str(token), PRINCIPAL_ENV: "zavuch@school.ru"}
    assert load_school(school_dir, environ=oauth).backend.credentials_path is None
    problems = problems_of(school_dir, {**oauth, OAUTH_ENV: str(tmp_path / "gone.json")})
    assert [p.message for p in problems] == [
        f"{OAUTH_ENV} points to {tmp_path / 'gone.json'}, which is not a file"]
    problems = problems_of(school_dir, {OAUTH_ENV: str(token)})
    assert len(problems) == 1 and f"{PRINCIPAL_ENV} is not" in problems[0].message


def test_without_any_credentials_there_is_one_clear_problem(school_dir: Path) -> None:
    _google(school_dir)
    (problem,) = problems_of(school_dir, {})
    assert problem.file == "school.toml" and "backend.credentials_env" in problem.where
    for name in ("EJOURNAL_GOOGLE_CREDENTIALS is not set", OAUTH_ENV, EMULATOR_ENV):
        assert name in problem.message


def test_the_alternatives_are_the_ones_the_google_client_honours() -> None:
    assert (EMULATOR_ENV, OAUTH_ENV, PRINCIPAL_ENV) == (
        google_auth.EMULATOR_ENV, google_auth.OAUTH_ENV, google_auth.PRINCIPAL_ENV)


def test_a_key_cannot_be_written_into_the_config(school_dir: Path) -> None:
    _google(school_dir, '\ncredentials_path = "/etc/key.json"')
    assert has(problems_of(school_dir), "school.toml", "unknown key 'credentials_path'")


# --------------------------------------------------------------------------- tolerant input


def test_excel_csv_with_bom_semicolons_and_russian_dates(school_dir: Path) -> None:
    path = school_dir / "pupils.csv"
    rows = [line.split(",") for line in path.read_text(encoding="utf-8").splitlines()]
    for row in rows[1:]:
        y, m, d = row[5].split("-")
        row[5] = f"{d}.{m}.{y}"
    text = "\r\n".join(";".join(row) for row in rows) + "\r\n;;;;;;;\r\n"
    path.write_bytes(b"\xef\xbb\xbf" + text.encode("utf-8"))
    reference = load_school(copy_example(school_dir.parent / "reference"), environ={})
    assert load_school(school_dir, environ={}).pupils == reference.pupils


def test_optional_files_may_be_absent(school_dir: Path) -> None:
    for name in ("changes.csv", "substitutions.csv"):
        (school_dir / name).unlink()
    for plan in (school_dir / "plans").iterdir():
        plan.unlink()
    (school_dir / "plans").rmdir()
    school = load_school(school_dir, environ={})
    assert (school.changes, school.substitutions, school.plans) == ((), (), ())


def test_optional_file_named_in_the_toml_must_exist(school_dir: Path) -> None:
    (school_dir / "changes.csv").unlink()
    replace_once(school_dir / "school.toml", '# changes = "changes.csv"', 'changes = "changes.csv"')
    find(problems_of(school_dir), "changes.csv", "", "file not found")


def test_minimal_toml_gets_every_default(tmp_path: Path) -> None:
    folder = copy_example(tmp_path / "school")
    shutil.rmtree(folder / "plans")  # they use work types this minimal file does not define
    (folder / "school.toml").write_text(
        '[school]\nname = "Школа"\n[year]\nname = "2026/27"\nstart = 2026-09-01\n'
        'end = 2027-05-31\n[[year.periods]]\nname = "Год"\nstart = 2026-09-01\n'
        "end = 2027-05-31\n"
        '[[work_types]]\ncode = "control"\nname = "Контрольная работа"\n'
        '[[work_types]]\ncode = "independent"\nname = "Самостоятельная"\n'
        '[[work_types]]\ncode = "practical"\nname = "Практическая"\n',
        encoding="utf-8",
    )
    school = load_school(folder, environ={})
    assert school.timezone.key == "Europe/Moscow"
    assert school.year.week_days == 5 and school.max_lesson_no == 8
    assert school.ledger_path == folder.resolve() / "var" / "ledger.sqlite3"
    assert school.policies.work_type("control") is not None
    assert school.policies.work_type("control").weight == 1.0  # type: ignore[union-attr]


# --------------------------------------------------------------------------- never a traceback


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("school.toml", b"", "required key is missing"),
        ("school.toml", b"\x00\xff\xfe garbage \x81", "is not UTF-8 text"),
        ("school.toml", b"[school\nname = 1", "TOML syntax error"),
        ("school.toml", b"school = 5\nyear = []", "valid dictionary"),
        ("pupils.csv", b"", "file is empty"),
        ("pupils.csv", b"\n\n  \n", "file is empty"),
        ("pupils.csv", b"id,class_id\xff\xfe", "is not UTF-8 text"),
        ("pupils.csv", b'id,"class_id\n"s1,5A', "broken CSV"),
        ("pupils.csv", b"id,class\x00_id\n", "missing the column 'class_id'"),
        ("teachers.csv", "\ufeff".encode() + b"id;full_name;email\nx;;\n", "value is required"),
    ],
)
def test_garbage_files_give_problems(
    school_dir: Path, name: str, content: bytes, message: str
) -> None:
    (school_dir / name).write_bytes(content)
    assert has(problems_of(school_dir), name, message)


def test_a_folder_instead_of_a_file(school_dir: Path) -> None:
    (school_dir / "classes.csv").unlink()
    (school_dir / "classes.csv").mkdir()
    find(problems_of(school_dir), "classes.csv", "", "is a folder")


def test_a_folder_without_school_toml(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_school(tmp_path, environ={})
    assert [p.message for p in info.value.problems] != []


def test_a_missing_config_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_school(tmp_path / "nowhere" / "school.toml", environ={})
    assert "file not found" in str(info.value)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    name=st.sampled_from(["school.toml", "pupils.csv", "timetable.csv", "changes.csv"]),
    content=st.binary(max_size=200) | st.text(max_size=200).map(str.encode),
)
def test_fuzzed_files_never_raise_anything_but_config_error(name: str, content: bytes) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        folder = copy_example(Path(tmp) / "school")
        (folder / name).write_bytes(content)
        try:
            load_school(folder, environ={})
        except ConfigError as exc:
            assert exc.problems
