"""Helpers to inject one mistake into a copy of the example and collect the reported problems."""

from __future__ import annotations

from pathlib import Path

import pytest

from config import load_school
from rules.errors import ConfigError, Problem


def problems_of(folder: Path, environ: dict[str, str] | None = None) -> list[Problem]:
    """The problems loading ``folder`` reports (fails the test if it loads cleanly)."""
    with pytest.raises(ConfigError) as info:
        load_school(folder / "school.toml", environ={} if environ is None else environ)
    return info.value.problems


def replace_once(path: Path, old: str, new: str) -> int:
    """Replace the only occurrence of ``old`` in ``path``; return its 1-based line number."""
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path.name}"
    line = text[: text.index(old)].count("\n") + 1
    path.write_text(text.replace(old, new), encoding="utf-8")
    return line


def append_line(path: Path, line: str) -> int:
    """Append a line; return its 1-based line number."""
    text = path.read_text(encoding="utf-8")
    if not text.endswith("\n"):
        text += "\n"
    path.write_text(text + line + "\n", encoding="utf-8")
    return text.count("\n") + 1


def line_starting(path: Path, prefix: str) -> tuple[int, str]:
    """The first line starting with ``prefix``: its number and text."""
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if line.startswith(prefix):
            return number, line
    raise AssertionError(f"no line starts with {prefix!r} in {path.name}")


def find(problems: list[Problem], file: str, where: str, message: str) -> Problem:
    """The problem of ``file`` at ``where`` (or more precise) whose message contains ``message``."""
    for p in problems:
        at = p.where == where or p.where.startswith(where + ",")
        if p.file == file and at and message in p.message:
            return p
    listing = "\n".join(str(p) for p in problems)
    raise AssertionError(f"no problem {file}: {where}: …{message}… among\n{listing}")


def has(problems: list[Problem], file: str, message: str) -> bool:
    """Whether some problem of ``file`` mentions ``message`` (when the line does not matter)."""
    return any(p.file == file and message in p.message for p in problems)
