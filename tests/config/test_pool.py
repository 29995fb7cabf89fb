"""The google backend's pool of service principals: key files from the environment, and a pool
whose writes exceed the project's quota refused with the numbers."""

from __future__ import annotations

from pathlib import Path

from config import load_school
from config.settings import EMULATOR_ENV
from tests.config.helpers import has, problems_of, replace_once


def _google(school_dir: Path, extra: str) -> None:
    local = 'kind = "local"\nfolder = "var/sheets"\nprivate_folder = "var/private"'
    replace_once(school_dir / "school.toml", local,
                 f'kind = "google"\nshared_drive_folder_id = "0AbCdEfGh"{extra}')


def _keys(tmp_path: Path, names: list[str]) -> dict[str, str]:
    env = {}
    for name in ["EJOURNAL_GOOGLE_CREDENTIALS", *names]:
        key = tmp_path / f"{name}.json"
        key.write_text("{}", encoding="utf-8")
        env[name] = str(key)
    return env


def test_a_pool_of_four_more_keys_makes_five_principals(school_dir: Path, tmp_path: Path) -> None:
    names = ["POOL_1", "POOL_2", "POOL_3", "POOL_4"]
    _google(school_dir, f"\npool_credentials_env = {names!r}".replace("'", '"'))
    env = _keys(tmp_path, names)
    backend = load_school(school_dir, environ=env).backend
    assert backend.principals == 5
    assert backend.pool_credentials == tuple(Path(env[n]) for n in names)


def test_a_pool_beyond_the_projects_quota_is_refused_with_the_numbers(
        school_dir: Path, tmp_path: Path) -> None:
    names = [f"POOL_{n}" for n in range(1, 6)]
    _google(school_dir, f"\npool_credentials_env = {names!r}".replace("'", '"'))
    problems = problems_of(school_dir, _keys(tmp_path, names))
    assert [p.message for p in problems] == [
        "6 principals × 60 writes/min = 360 writes/min exceeds the project's quota of 300 "
        "writes/min: use at most 5 principals (the service account included), or lower "
        "writes_per_minute"]
    assert "backend.pool_credentials_env" in problems[0].where


def test_a_slower_pool_fits_and_a_larger_project_quota_is_honoured(
        school_dir: Path, tmp_path: Path) -> None:
    names = [f"POOL_{n}" for n in range(1, 6)]
    pool = f"\npool_credentials_env = {names!r}".replace("'", '"')
    _google(school_dir, pool + "\nwrites_per_minute = 50")  # 6 × 50 = 300
    assert load_school(school_dir, environ=_keys(tmp_path, names)).backend.principals == 6
    replace_once(school_dir / "school.toml", "writes_per_minute = 50",
                 "project_writes_per_minute = 360")  # 6 × 60 = 360
    assert load_school(school_dir, environ=_keys(tmp_path, names)).backend.principals == 6


def test_a_pool_member_without_a_key_is_a_problem(school_dir: Path, tmp_path: Path) -> None:
    _google(school_dir, '\npool_credentials_env = ["POOL_1", "POOL_2"]')
    env = _keys(tmp_path, ["POOL_1"])
    assert has(problems_of(school_dir, env), "school.toml", "POOL_2 is not set")
    env["POOL_2"] = str(tmp_path / "nowhere.json")
    assert has(problems_of(school_dir, env), "school.toml", "which is not a file")


def test_under_the_emulator_a_pool_member_is_named_by_its_e_mail(school_dir: Path) -> None:
    _google(school_dir, '\npool_credentials_env = ["POOL_1"]')
    env = {EMULATOR_ENV: "127.0.0.1:8089", "POOL_1": "pool-1@ejournal.iam.gserviceaccount.com"}
    backend = load_school(school_dir, environ=env).backend
    assert backend.pool_credentials == (Path("pool-1@ejournal.iam.gserviceaccount.com"),)


def test_the_local_backend_has_no_pool(school_dir: Path) -> None:
    replace_once(school_dir / "school.toml", 'folder = "var/sheets"',
                 'folder = "var/sheets"\npool_credentials_env = ["POOL_1"]')
    assert has(problems_of(school_dir, {}), "school.toml", "only the google backend has a pool")
