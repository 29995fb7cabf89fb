"""pydantic models of ``school.toml``: the parsing edge only; nothing outside ``config/`` sees them.

Models are strict (a string where a number belongs is an error, not a conversion) and forbid unknown
keys, so a typo such as ``day_edn`` is reported with a suggestion. Every policy field defaults to
``None``, meaning "use the default of the matching ``rules.model`` dataclass", so the documented
defaults live in exactly one place. Times are written ``"23:59"`` (or as TOML times), dates as TOML
dates (``2026-09-01``).

Layout (all tables optional except ``[school]`` and ``[year]``)::

    [school]       name, timezone, max_lessons_per_day, deputy_emails
    [year]         name, start, end, week_days, period_kind, extra_school_days, journal_start
    [[year.periods]] / [[year.holidays]]   name, start, end
    [[year.transfers]] day, timetable ("monday" … "saturday": the weekday whose lessons it has)
    [[year.bands]] min_grade, max_grade, period_kind, [[year.bands.periods]] name, start, end
    [grammar]      fields of rules.model.MarkGrammar
    [lock]         fields of rules.model.LockPolicy
    [grading]      fields of rules.model.GradingPolicy (thresholds = [3, 4, 5 lower bounds])
    [[work_types]] code, name, weight, assessment
    [[grace]]      work_type, min_grade, max_grade, days     (checking norms, R8)
    [[assessment]] scheme = "marks" | "pass_fail" | "none", min_grade, max_grade, subjects
    [schedule]     fields of config.school.ScheduleSettings
    [backend]      kind = "local" | "google", folder, credentials_env, shared_drive_folder_id,
                   reads_per_minute, writes_per_minute, pool_credentials_env,
                   project_writes_per_minute
    [diaries]      fields of config.school.DiarySettings
    [ledger]       path, anchor
    [files]        classes, pupils, parents, teachers, subjects, assignments, timetable, changes,
                   substitutions (CSV paths), plans (a folder of <class>_<subject>.csv)
"""

from __future__ import annotations

import re
import typing
from datetime import date, time
from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from config.problems import Problems, suggestion


def _hhmm(value: Any) -> Any:
    """Accept "23:59" (TOML 1.0 local times need seconds, which sysadmins forget)."""
    if isinstance(value, str):
        match = re.fullmatch(r"\s*(\d{1,2}):(\d{2})(?::(\d{2}))?\s*", value)
        if match is None:
            raise ValueError(f"expected a time like '23:59', got {value!r}")
        hour, minute, second = (int(g or 0) for g in match.groups())
        return time(hour, minute, second)  # ValueError for 25:00 is reported as a problem
    return value


Clock = Annotated[time, BeforeValidator(_hhmm)]
PositiveInt = Annotated[int, Field(ge=1)]
NonNegInt = Annotated[int, Field(ge=0)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class SchoolSection(_Model):
    name: str = Field(min_length=1)
    timezone: str = "Europe/Moscow"
    max_lessons_per_day: Annotated[int, Field(ge=1, le=12)] = 8
    deputy_emails: list[str] = []  # the admin spreadsheet ("Исправления") is shared with them


class DateRange(_Model):
    name: str = Field(min_length=1)
    start: date
    end: date


class TransferEntry(_Model):
    day: date
    timetable: Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday"]


class PeriodBandEntry(_Model):
    """Grades with periods of their own (``[[year.bands]]``, e.g. half-years in 10–11)."""

    min_grade: Annotated[int, Field(ge=1, le=11)]
    max_grade: Annotated[int, Field(ge=1, le=11)]
    period_kind: Literal["quarter", "trimester", "half_year"] = "half_year"
    periods: list[DateRange] = Field(min_length=1)


class YearSection(_Model):
    name: str = Field(min_length=1)
    start: date
    end: date
    week_days: Annotated[int, Field(ge=5, le=6)] | None = None
    period_kind: Literal["quarter", "trimester", "half_year"] | None = None
    extra_school_days: list[date] = []
    transfers: list[TransferEntry] = []  # a school day on another weekday's timetable
    journal_start: date | None = None  # go-live day; lessons before it were kept on paper
    periods: list[DateRange] = Field(min_length=1)
    holidays: list[DateRange] = []
    bands: list[PeriodBandEntry] = []  # grades whose periods differ from the school's


class GrammarSection(_Model):
    allow_one: bool | None = None
    allow_modifiers: bool | None = None
    allow_double: bool | None = None
    absent: str | None = None
    late: str | None = None
    owed: str | None = None
    period_values: list[str] | None = None


class LockSection(_Model):
    day_end: Clock | None = None
    period_mark_open_before_days: NonNegInt | None = None
    period_mark_open_after_days: NonNegInt | None = None
    absence_reason_open_days: NonNegInt | None = None


class GradingSection(_Model):
    weighted: bool | None = None
    thresholds: Annotated[list[float], Field(min_length=3, max_length=3)] | None = None
    min_marks: NonNegInt | None = None
    deviation: PositiveInt | None = None


class WorkTypeEntry(_Model):
    code: str = Field(min_length=1, pattern=r"^[a-z][a-z0-9_]*$")
    name: str = Field(min_length=1)
    weight: Annotated[float, Field(gt=0, le=10)] | None = None
    assessment: bool | None = None


class GraceEntry(_Model):
    work_type: str
    min_grade: Annotated[int, Field(ge=1, le=11)]
    max_grade: Annotated[int, Field(ge=1, le=11)]
    days: Annotated[int, Field(ge=0, le=60)]


class AssessmentEntry(_Model):
    scheme: Literal["marks", "pass_fail", "none"]
    min_grade: Annotated[int, Field(ge=1, le=11)] = 1
    max_grade: Annotated[int, Field(ge=1, le=11)] = 11
    subjects: list[str] = []  # subject ids; empty: every subject


class ScheduleSection(_Model):
    sync_every_minutes: Annotated[int, Field(ge=1, le=1440)] | None = None
    lock_at: Clock | None = None
    backup_at: Clock | None = None
    acl_at: Clock | None = None
    backup_keep: PositiveInt | None = None
    weekly_report_weekday: Annotated[int, Field(ge=1, le=7)] | None = None
    weekly_report_at: Clock | None = None
    monthly_report_day: Annotated[int, Field(ge=1, le=28)] | None = None
    monthly_report_at: Clock | None = None


class BackendSection(_Model):
    kind: Literal["local", "google"] = "local"
    folder: str | None = None
    private_folder: str | None = None
    credentials_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    shared_drive_folder_id: str | None = None
    reads_per_minute: Annotated[int, Field(ge=1, le=10_000)] | None = None
    writes_per_minute: Annotated[int, Field(ge=1, le=10_000)] | None = None
    pool_credentials_env: list[Annotated[str, Field(pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")]] | None = None
    project_writes_per_minute: Annotated[int, Field(ge=1, le=100_000)] | None = None


class ReportsSection(_Model):
    drive_folder_id: str | None = None
    smtp_host: str | None = Field(default=None, min_length=1)
    smtp_port: Annotated[int, Field(ge=1, le=65535)] | None = None
    smtp_security: Literal["starttls", "ssl", "none"] | None = None
    smtp_user: str | None = None
    smtp_password_env: str | None = Field(default=None, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    smtp_from: str | None = None
    smtp_to: list[str] | None = None
    retry_minutes: Annotated[int, Field(ge=1, le=1440)] | None = None
    max_attempts: Annotated[int, Field(ge=1, le=1000)] | None = None


class DiariesSection(_Model):
    enabled: bool | None = None
    pupils_may_view: bool | None = None
    folder_id: str | None = None
    writes_per_cycle: Annotated[int, Field(ge=1, le=100_000)] | None = None
    quota_share: Annotated[float, Field(gt=0, le=1)] | None = None


class LedgerSection(_Model):
    path: str = "var/ledger.sqlite3"
    anchor: str | None = None  # default: config.school.default_anchor (beside the ledger's folder)


class FilesSection(_Model):
    classes: str = "classes.csv"
    pupils: str = "pupils.csv"
    parents: str = "parents.csv"
    teachers: str = "teachers.csv"
    subjects: str = "subjects.csv"
    assignments: str = "assignments.csv"
    timetable: str = "timetable.csv"
    changes: str = "changes.csv"
    substitutions: str = "substitutions.csv"
    plans: str = "plans"


class SchoolToml(_Model):
    school: SchoolSection
    year: YearSection
    grammar: GrammarSection = GrammarSection()
    lock: LockSection = LockSection()
    grading: GradingSection = GradingSection()
    work_types: list[WorkTypeEntry] = []
    grace: list[GraceEntry] = []
    assessment: list[AssessmentEntry] = []
    schedule: ScheduleSection = ScheduleSection()
    backend: BackendSection = BackendSection()
    reports: ReportsSection = ReportsSection()
    diaries: DiariesSection = DiariesSection()
    ledger: LedgerSection = LedgerSection()
    files: FilesSection = FilesSection()


# --------------------------------------------------------------------------- error reporting

Loc = tuple[str | int, ...]


def key_lines(text: str) -> dict[Loc, int]:
    """Map TOML key paths to the line that defines them (best effort: tables, arrays of tables and
    ``key = value`` lines; good enough to point a sysadmin at the right line)."""
    lines: dict[Loc, int] = {}
    counts: dict[Loc, int] = {}
    current: Loc = ()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.strip()
        if match := re.match(r"\[\[\s*([^\]]+?)\s*\]\]", line):
            path = _split_key(match.group(1))
            index = counts.get(path, 0)
            counts[path] = index + 1
            current = (*path, index)
            lines.setdefault(current, number)
        elif match := re.match(r"\[\s*([^\]]+?)\s*\]", line):
            current = _split_key(match.group(1))
            lines.setdefault(current, number)
        elif match := re.match(r"""([A-Za-z0-9_\-."' ]+?)\s*=""", line):
            lines.setdefault((*current, *_split_key(match.group(1))), number)
    return lines


def _split_key(key: str) -> tuple[str, ...]:
    return tuple(part.strip().strip("\"'") for part in key.split("."))


def field_path(loc: Loc) -> str:
    """``("year", "periods", 2, "end")`` → ``"year.periods[2].end"``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


def locate(loc: Loc, lines: dict[Loc, int]) -> str:
    """``"line 7, field lock.day_end"``: the line of the longest known prefix of ``loc``."""
    for size in range(len(loc), 0, -1):
        if loc[:size] in lines:
            return f"line {lines[loc[:size]]}, field {field_path(loc)}"
    return f"field {field_path(loc)}"


def _model_at(loc: Loc) -> type[BaseModel] | None:
    """The model class that holds the key at ``loc`` (for typo suggestions)."""
    model: type[BaseModel] = SchoolToml
    for part in loc:
        if isinstance(part, int):
            continue
        field = model.model_fields.get(part)
        if field is None:
            return None
        inner = _find_model(field.annotation)
        if inner is None:
            return None
        model = inner
    return model


def _find_model(annotation: Any) -> type[BaseModel] | None:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in typing.get_args(annotation):
        found = _find_model(arg)
        if found is not None:
            return found
    return None


def report_validation_error(
    error: ValidationError, file: str, lines: dict[Loc, int], problems: Problems
) -> None:
    """Turn every pydantic error into a Problem with line and dotted field path."""
    for item in error.errors(include_url=False):
        loc: Loc = tuple(item["loc"])
        kind = item["type"]
        if kind == "extra_forbidden":
            model = _model_at(loc[:-1])
            known = model.model_fields if model else ()
            message = f"unknown key {loc[-1]!r}{suggestion(str(loc[-1]), known)}"
        elif kind == "missing":
            message = "required key is missing"
        elif kind.split("_")[0] in _EXPECTED:
            message = f"{_EXPECTED[kind.split('_')[0]]} (got {item.get('input')!r})"
        else:
            message = f"{item['msg']} (got {item.get('input')!r})"
        problems.add(file, locate(loc, lines), message)


# pydantic's error kinds (their first word) → the expected format, English and Russian
_EXPECTED = {
    "date": "expected a date as YYYY-MM-DD, e.g. 2026-09-01 (дата в виде ГГГГ-ММ-ДД)",
    "time": "expected a time as HH:MM, e.g. 00:15 (время в виде ЧЧ:ММ)",
    "int": "expected a whole number, e.g. 14 (целое число)",
    "bool": "expected true or false (true или false)",
}


def toml_error_where(message: str) -> tuple[str, str]:
    """Split tomllib's "Invalid value (at line 3, column 9)" into ("line 3, column 9", "Invalid
    value")."""
    match = re.search(r"\s*\(at line (\d+), column (\d+)\)\s*$", message)
    if match is None:
        match = re.search(r"\s*\(at end of document\)\s*$", message)
        if match is None:
            return "", message
        return "end of file", message[: match.start()]
    return f"line {match.group(1)}, column {match.group(2)}", message[: match.start()]
