"""``ejournal check`` refuses a pool of service principals beyond the project's write quota."""

from __future__ import annotations

from pathlib import Path

import pytest

from sync.cli.main import main
from tests.config.conftest import copy_example
from tests.config.helpers import replace_once


def test_check_refuses_a_pool_beyond_300_writes_a_minute(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    school = copy_example(tmp_path / "school")
    names = [f"POOL_{n}" for n in range(1, 6)]
    for name in ["EJOURNAL_GOOGLE_CREDENTIALS", *names]:
        key = tmp_path / f"{name}.json"
        key.write_text("{}", encoding="utf-8")
        monkeypatch.setenv(name, str(key))
    pool = ", ".join(f'"{n}"' for n in names)
    local = 'kind = "local"\nfolder = "var/sheets"\nprivate_folder = "var/private"'
    replace_once(school / "school.toml", local,
                 f'kind = "google"\nshared_drive_folder_id = "0AbC"\npool_credentials_env = [{pool}]')

    assert main(["check", "--config", str(school / "school.toml")]) == 1

    err = capsys.readouterr().err
    assert "6 principals × 60 writes/min = 360 writes/min exceeds the project's quota of 300" in err
    assert "Traceback" not in err
    replace_once(school / "school.toml", ', "POOL_5"]', "]")
    assert main(["check", "--config", str(school / "school.toml")]) == 0
