"""``load_school``: read ``school.toml`` and the CSV files beside it, check all, return a School.

Every mistake a sysadmin can make becomes a :class:`rules.errors.Problem` (file, line or field,
message); at the end one :class:`rules.errors.ConfigError` lists all of them. Even when
``school.toml`` is broken the CSV files are still read, so one run shows as much as possible.
Secrets come only from ``environ`` (default ``os.environ``).
"""

from __future__ import annotations

import hashlib
import os
import tomllib
import unicodedata
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from config import crosscheck, records
from config.csvdata import Table, decode, read_bytes, read_table
from config.problems import Problems, suggestion
from config.records import At
from config.schema import (
    FilesSection,
    SchoolToml,
    key_lines,
    report_validation_error,
    toml_error_where,
)
from config.school import School, Substitution
from config.settings import Settings, build_settings
from rules import calendar
from rules.errors import Problem
from rules.model import PlanItem

CONFIG_NAME = "school.toml"
_OPTIONAL_FILES = ("changes", "substitutions", "plans")  # absent = none, unless named in [files]


class _Reader:
    """Reads files relative to the config folder, remembering their bytes for the config version."""

    def __init__(self, base: Path, problems: Problems) -> None:
        self.base, self.problems = base, problems
        self.read: dict[str, bytes] = {}

    def name(self, path: Path) -> str:
        try:
            return path.relative_to(self.base).as_posix()
        except ValueError:
            return str(path)

    def table(self, kind: str, path: Path) -> Table | None:
        name = self.name(path)
        data = read_bytes(path, name, self.problems)
        if data is None:
            return None
        self.read[name] = data
        required, optional = records.COLUMNS[kind]
        return read_table(path, name, required, optional, self.problems, data=data)

    def version(self) -> str:
        digest = hashlib.sha256()
        for name in sorted(self.read):
            digest.update(name.encode() + b"\0" + self.read[name] + b"\0")
        return digest.hexdigest()[:12]


def load_school(path: Path | str, environ: Mapping[str, str] | None = None) -> School:
    """Load and check a school's configuration; raise ``ConfigError`` listing every problem.

    ``path`` is ``school.toml`` or the folder holding it; CSV paths are relative to that folder.
    """
    environ = os.environ if environ is None else environ
    path = Path(path)
    if path.is_dir() and (path / CONFIG_NAME).is_file():
        path = path / CONFIG_NAME
    base = path.parent.resolve()
    problems = Problems()
    reader = _Reader(base, problems)
    toml_name = reader.name(path.resolve())

    raw, doc, dropped = _read_toml(path, toml_name, problems)
    if raw is not None:
        reader.read[toml_name] = raw
    settings: Settings | None = None
    if doc is not None:
        text = (raw or b"").decode("utf-8-sig")
        settings = build_settings(doc, base, environ, toml_name, key_lines(text), problems)
    if doc is None or "files" in dropped:  # file names unknown: read what exists under defaults
        data = _read_data(FilesSection(), base, reader, problems, lenient=True)
    else:
        data = _read_data(doc.files, base, reader, problems)

    warnings: list[Problem] = []
    slots: list[Any] = []
    changes: list[Any] = []
    policies = settings.policies if settings and "work_types" not in dropped else None
    crosscheck.check_references(data, policies, problems)
    if settings is not None:
        _check_assessment(settings, data, toml_name, problems)
    if settings is not None:
        slots = crosscheck.check_timetable(data, settings.year, settings.max_lesson_no, problems)
        if settings.year_ok:  # the calendar needs a sound year
            changes = crosscheck.check_changes(
                data, settings.year, slots, settings.max_lesson_no, problems, warnings
            )
            lessons = calendar.all_lessons(settings.year, slots, changes)
            crosscheck.check_substitutions(data, lessons, problems)
    problems.raise_if_any(str(base))  # full paths: the sysadmin may not be in that folder
    assert settings is not None and settings.timezone is not None  # else a problem was raised

    return School(
        assessment=settings.assessment,
        name=settings.name,
        timezone=settings.timezone,
        year=settings.year,
        policies=settings.policies,
        classes=_items(data.classes),
        pupils=_items(data.pupils),
        parents=_items(data.parents),
        teachers=_items(data.teachers),
        subjects=_items(data.subjects),
        assignments=_items(data.assignments),
        slots=tuple(slots),
        changes=tuple(changes),
        plans=tuple(at.item for items in data.plans.values() for at in items),
        substitutions=tuple(
            Substitution(s.item.day, s.item.class_id, s.item.subject_id, s.item.teacher_id)
            for s in data.substitutions
        ),
        schedule=settings.schedule,
        backend=settings.backend,
        ledger_path=settings.ledger_path,
        config_dir=base,
        config_version=reader.version(),
        max_lesson_no=settings.max_lesson_no,
        warnings=tuple(warnings),
        deputy_emails=settings.deputy_emails,
        ledger_anchor=settings.ledger_anchor,
        reports=settings.reports,
        diaries=settings.diaries,
    )


def _items(located: list[At[Any]]) -> tuple[Any, ...]:
    return tuple(at.item for at in located)


def _read_toml(
    path: Path, name: str, problems: Problems
) -> tuple[bytes | None, SchoolToml | None, set[str]]:
    """Bytes, model and the top-level tables dropped because they were invalid (reported).

    Dropping a broken optional table (say ``[lock]`` with a typo) keeps the rest usable, so the
    CSV files are still cross-checked against the year and the work types in the same run."""
    raw = read_bytes(path, name, problems)
    if raw is None:
        return None, None, set()
    text = decode(raw, name, problems)
    if text is None:
        return raw, None, set()
    try:
        parsed = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        where, message = toml_error_where(str(exc))
        problems.add(name, where, f"TOML syntax error: {message}")
        return raw, None, set()
    try:
        return raw, SchoolToml.model_validate(parsed), set()
    except ValidationError as exc:
        report_validation_error(exc, name, key_lines(text), problems)
        dropped = {str(e["loc"][0]) for e in exc.errors() if e["loc"]}
    try:
        salvage = {k: v for k, v in parsed.items() if k not in dropped}
        return raw, SchoolToml.model_validate(salvage), dropped
    except ValidationError:  # a required table is broken: nothing to salvage
        return raw, None, dropped


def _read_data(
    files: FilesSection, base: Path, reader: _Reader, problems: Problems, lenient: bool = False
) -> crosscheck.Data:
    """Read every CSV file; an optional file that was not named in [files] may be absent (any
    file when ``lenient``: the TOML that names them is broken)."""
    tables: dict[str, Table | None] = {}
    names: dict[str, str] = {}
    absent: set[str] = set()  # optional files left out on purpose (not a failure)
    for kind in records.COLUMNS:
        if kind == "plans":
            continue
        path = base / getattr(files, kind)
        names[kind] = reader.name(path)
        explicit = kind in files.model_fields_set
        optional = lenient or (kind in _OPTIONAL_FILES and not explicit)
        if optional and not path.exists():
            tables[kind] = None
            absent.add(kind)
            continue
        tables[kind] = reader.table(kind, path)

    plans, plan_keys = _read_plans(files, base, reader, problems)

    def rows(kind: str, read: Any) -> list[Any]:
        table = tables[kind]
        return read(table, problems) if table is not None else []

    return crosscheck.Data(
        files=names,
        classes=rows("classes", records.read_classes),
        pupils=rows("pupils", records.read_pupils),
        parents=rows("parents", records.read_parents),
        teachers=rows("teachers", records.read_teachers),
        subjects=rows("subjects", records.read_subjects),
        assignments=rows("assignments", records.read_assignments),
        slots=rows("timetable", records.read_timetable),
        changes=rows("changes", records.read_changes),
        substitutions=rows("substitutions", records.read_substitutions),
        plans=plans,
        plan_keys=plan_keys,
        unread=frozenset(k for k, t in tables.items() if t is None and k not in absent),
    )


def _read_plans(
    files: FilesSection, base: Path, reader: _Reader, problems: Problems
) -> tuple[dict[str, list[At[PlanItem]]], dict[str, tuple[str, str]]]:
    """The КТП files ``<class>_<subject>.csv`` of the plans folder, and the key of each."""
    folder = base / files.plans
    plans: dict[str, list[At[PlanItem]]] = {}
    keys: dict[str, tuple[str, str]] = {}
    if not folder.is_dir():
        if "plans" in files.model_fields_set or folder.exists():
            problems.add(reader.name(folder), "", "plans must be a folder of CSV files")
        return plans, keys
    for path in sorted(folder.glob("*.csv")):
        name = reader.name(path)
        stem = unicodedata.normalize("NFC", path.stem)
        class_id, sep, subject_id = stem.partition("_")
        if not sep or not class_id or not subject_id:
            problems.add(name, "", "name plan files <class>_<subject>.csv, e.g. 7Б_algebra.csv")
            continue
        keys[name] = (class_id, subject_id)
        table = reader.table("plans", path)
        if table is not None:
            plans[name] = records.read_plan(table, class_id, subject_id, problems)
    return plans, keys


def _check_assessment(settings: Settings, data: Any, toml_name: str, problems: Problems) -> None:
    """Every subject an ``[[assessment]]`` band names is in subjects.csv."""
    known = [s.id for s in _items(data.subjects)]
    for band, where in zip(settings.assessment, settings.assessment_at, strict=True):
        for subject in band.subjects:
            if subject not in known:
                problems.add(toml_name, where,
                             f"assessment: unknown subject {subject!r}{suggestion(subject, known)}")
