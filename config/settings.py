"""From the parsed ``school.toml`` to domain objects, with the checks pydantic cannot express alone.

Checks here: time zone exists; periods lie inside the year and do not overlap; holidays, extra
school days and the go-live day (``journal_start``) lie inside the year; grace rules name an
existing work type and their grade bands do not overlap; work type codes are unique; grading
thresholds strictly increase; the backend's folder and credentials (the google backend needs a
service-account key file unless the environment names the emulator host or OAuth user credentials
instead — see ``sync.backends.google.auth``). Defaults come from the ``rules.model`` / ``config.school``
dataclasses: only keys the sysadmin wrote are passed on.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from config.problems import Problems, suggestion
from config.schema import Loc, SchoolToml, locate
from config.school import (
    BackendKind,
    BackendSettings,
    DiarySettings,
    ReportSettings,
    ScheduleSettings,
    default_anchor,
)
from config.year import academic_year
from rules.assessment import Assessment, AssessmentBand
from rules.model import (
    AcademicYear,
    GracePeriod,
    GradingPolicy,
    LockPolicy,
    MarkGrammar,
    Policies,
    WorkType,
)

DEFAULT_CREDENTIALS_ENV: str = BackendSettings().credentials_env
# the alternatives to a key file that ``sync.backends.google.auth.build_client`` honours (same names there)
EMULATOR_ENV = "EJOURNAL_GOOGLE_EMULATOR_HOST"
OAUTH_ENV = "EJOURNAL_GOOGLE_OAUTH_TOKEN"
PRINCIPAL_ENV = "EJOURNAL_GOOGLE_PRINCIPAL"


@dataclass(frozen=True, slots=True)
class Settings:
    """What ``school.toml`` alone yields (no CSV data yet)."""

    name: str
    timezone: ZoneInfo | None
    year: AcademicYear
    policies: Policies
    schedule: ScheduleSettings
    backend: BackendSettings
    ledger_path: Path
    max_lesson_no: int
    year_ok: bool  # the year had no problems: the calendar can be computed
    deputy_emails: tuple[str, ...] = ()
    ledger_anchor: Path | None = None
    reports: ReportSettings = field(default_factory=ReportSettings)
    diaries: DiarySettings = field(default_factory=DiarySettings)
    assessment: tuple[AssessmentBand, ...] = ()  # [[assessment]], in order (first match wins)
    assessment_at: tuple[str, ...] = ()  # where each band is written, for problems found later




def _given(section: Any) -> dict[str, Any]:
    """Only the keys the sysadmin wrote (unset keys fall back to the dataclass default)."""
    data: dict[str, Any] = section.model_dump(exclude_none=True)
    return {k: tuple(v) if isinstance(v, list) else v for k, v in data.items()}


class _Where:
    def __init__(self, file: str, lines: dict[Loc, int], problems: Problems) -> None:
        self.file, self.lines, self.problems = file, lines, problems

    def add(self, loc: Loc, message: str) -> None:
        self.problems.add(self.file, locate(loc, self.lines), message)


def build_settings(
    doc: SchoolToml,
    base: Path,
    environ: Mapping[str, str],
    file: str,
    lines: dict[Loc, int],
    problems: Problems,
) -> Settings:
    where = _Where(file, lines, problems)
    before = len(problems)
    year = academic_year(doc, where)
    year_ok = len(problems) == before
    ledger_path = (base / doc.ledger.path).resolve()
    deputies = _emails(doc.school.deputy_emails, ("school", "deputy_emails"), where)
    return Settings(
        name=doc.school.name,
        timezone=_timezone(doc.school.timezone, where),
        year=year,
        policies=_policies(doc, where),
        schedule=ScheduleSettings(**_given(doc.schedule)),
        backend=_backend(doc, base, environ, where),
        ledger_path=ledger_path,
        max_lesson_no=doc.school.max_lessons_per_day,
        year_ok=year_ok,
        deputy_emails=deputies,
        reports=_reports(doc, deputies, where),
        ledger_anchor=_anchor(doc.ledger.anchor, base, ledger_path, where),
        diaries=DiarySettings(**_given(doc.diaries)),
        assessment=_assessment(doc, where),
        assessment_at=tuple(locate(("assessment", i, "subjects"), lines)
                            for i in range(len(doc.assessment))),
    )


def _reports(doc: SchoolToml, deputies: tuple[str, ...], where: _Where) -> ReportSettings:
    """[reports]: a Drive folder needs the google backend; e-mail needs a sender and someone to
    send to (``smtp_to``, else the deputies)."""
    r = doc.reports
    given = _given(r.model_copy(update={"smtp_to": None, "smtp_from": None}))
    if r.drive_folder_id and doc.backend.kind != "google":
        where.add(("reports", "drive_folder_id"),
                  "uploading reports to Drive needs the google backend ([backend] kind)")
    to = _emails(r.smtp_to or [], ("reports", "smtp_to"), where)
    sender = _emails([r.smtp_from], ("reports", "smtp_from"), where) if r.smtp_from else ()
    if r.smtp_host:
        if not sender:
            where.add(("reports", "smtp_from"), "e-mailing reports needs smtp_from (the sender)")
        if not (to or deputies):
            where.add(("reports", "smtp_to"), "e-mailing reports needs smtp_to or "
                      "[school] deputy_emails (the recipients)")
    return ReportSettings(**given, smtp_to=to or deputies,
                          smtp_from=sender[0] if sender else None)


def _anchor(raw: str | None, base: Path, ledger_path: Path, where: _Where) -> Path | None:
    """``[ledger] anchor``: a file outside the ledger's folder (whoever can write the ledger must
    not be able to rewrite the head it is checked against)."""
    anchor = (base / raw).resolve() if raw is not None else default_anchor(ledger_path)
    loc = ("ledger", "anchor" if raw is not None else "path")
    if anchor.is_relative_to(ledger_path.parent):
        where.add(loc, f"the audit anchor {anchor} must be outside the ledger's folder"
                       f" {ledger_path.parent}")
    elif anchor.is_dir():
        where.add(loc, f"the audit anchor {anchor} is a folder; name a file")
    return anchor if raw is not None else None


def _emails(values: list[str], loc: Loc, where: _Where) -> tuple[str, ...]:
    """Google account addresses (the admin spreadsheet is shared with them), each checked."""
    out: list[str] = []
    for i, raw in enumerate(values):
        email = raw.strip()
        name, at, domain = email.partition("@")
        if not (name and at and "." in domain) or any(c.isspace() for c in email):
            where.add((*loc, i), f"{raw!r} is not an e-mail address")
        elif email.lower() not in (e.lower() for e in out):
            out.append(email)
    return tuple(out)


def _timezone(name: str, where: _Where) -> ZoneInfo | None:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        where.add(("school", "timezone"), f"unknown time zone {name!r} (e.g. 'Europe/Moscow')")
        return None


def _policies(doc: SchoolToml, where: _Where) -> Policies:
    grading = GradingPolicy(**_given(doc.grading))
    t = grading.thresholds
    if not all(1 <= x <= 5 for x in t) or not t[0] < t[1] < t[2]:
        where.add(
            ("grading", "thresholds"),
            f"thresholds for 3, 4, 5 must strictly increase within 1..5, got {list(t)}",
        )
    codes = [w.code for w in doc.work_types]
    for i, code in enumerate(codes):
        if code in codes[:i]:
            where.add(("work_types", i, "code"), f"duplicate work type {code!r}")
    bands: dict[str, list[tuple[int, GracePeriod]]] = {code: [] for code in codes}
    for i, g in enumerate(doc.grace):
        if g.work_type not in bands:
            where.add(
                ("grace", i, "work_type"),
                f"unknown work type {g.work_type!r}{suggestion(g.work_type, codes)}",
            )
            continue
        if g.min_grade > g.max_grade:
            where.add(("grace", i, "max_grade"), "max_grade is below min_grade")
            continue
        band = GracePeriod(g.min_grade, g.max_grade, g.days)
        for j, other in bands[g.work_type]:
            if band.min_grade <= other.max_grade and other.min_grade <= band.max_grade:
                where.add(
                    ("grace", i, "min_grade"),
                    f"grades {band.min_grade}–{band.max_grade} of {g.work_type!r} overlap the "
                    f"band {other.min_grade}–{other.max_grade} of grace[{j}]",
                )
        bands[g.work_type].append((i, band))
    work_types = tuple(
        WorkType(
            code=w.code,
            name=w.name,
            grace=tuple(sorted((b for _, b in bands.get(w.code, [])), key=lambda b: b.min_grade)),
            **_given(w.model_copy(update={"code": None, "name": None})),
        )
        for w in doc.work_types
    )
    return Policies(
        grammar=MarkGrammar(**_given(doc.grammar)),
        lock=LockPolicy(**_given(doc.lock)),
        grading=grading,
        work_types=work_types,
    )


def _assessment(doc: SchoolToml, where: _Where) -> tuple[AssessmentBand, ...]:
    """``[[assessment]]`` as bands; a band whose grades run backwards is a problem."""
    out = []
    for i, a in enumerate(doc.assessment):
        if a.min_grade > a.max_grade:  # kept (it covers nothing), so bands and places align
            where.add(("assessment", i, "max_grade"), "max_grade is below min_grade")
        out.append(AssessmentBand(Assessment(a.scheme), a.min_grade, a.max_grade,
                                  tuple(a.subjects)))
    return tuple(out)


def _backend(
    doc: SchoolToml, base: Path, environ: Mapping[str, str], where: _Where
) -> BackendSettings:
    b = doc.backend
    given = _given(b.model_copy(update={"kind": None, "folder": None, "private_folder": None}))
    kind = BackendKind(b.kind)
    if kind is BackendKind.LOCAL:
        folder = (base / (b.folder or "var/sheets")).resolve()
        if folder.exists() and not folder.is_dir():
            where.add(("backend", "folder"), f"{folder} exists and is not a folder")
        private = (base / b.private_folder).resolve() if b.private_folder else None
        if private is not None and (private.is_relative_to(folder)
                                    or folder.is_relative_to(private)):
            where.add(("backend", "private_folder"), f"{private} must be apart from the sheets "
                      f"folder {folder}: teachers write there, the deputies' workbook may not be")
        elif private is not None and private.exists() and not private.is_dir():
            where.add(("backend", "private_folder"), f"{private} exists and is not a folder")
        if b.pool_credentials_env:
            where.add(("backend", "pool_credentials_env"),
                      "only the google backend has a pool of service principals")
        return BackendSettings(kind=kind, folder=folder, private_folder=private, **given)
    if b.private_folder:
        where.add(("backend", "private_folder"), "only the local backend has a private folder")
    credentials = _credentials(b.credentials_env or DEFAULT_CREDENTIALS_ENV, environ, where)
    given["pool_credentials"] = _pool(b, environ, where)
    if not b.shared_drive_folder_id:
        where.add(
            ("backend", "shared_drive_folder_id"),
            "the google backend needs the id of a shared-drive folder (service accounts have no "
            "Drive storage of their own)",
        )
    return BackendSettings(kind=kind, credentials_path=credentials, **given)


def _pool(b: Any, environ: Mapping[str, str], where: _Where) -> tuple[Path, ...]:
    """The pool's key files (each variable must name one; under the emulator it holds the
    member's e-mail instead), and the pool within the project's write quota."""
    loc = ("backend", "pool_credentials_env")
    names = list(b.pool_credentials_env or [])
    main = b.credentials_env or DEFAULT_CREDENTIALS_ENV
    if len(set(names)) != len(names) or main in names:
        where.add(loc, f"the pool names an environment variable twice (or the main one, {main})")
    emulator = bool(environ.get(EMULATOR_ENV, "").strip())
    paths = []
    for name in names:
        raw = environ.get(name, "").strip()
        if not raw:
            where.add(loc, f"environment variable {name} is not set: it must hold the path of "
                      "a pool member's service-account key file")
        elif emulator:
            paths.append(Path(raw))
        elif not Path(raw).expanduser().is_file():
            where.add(loc, f"{name} points to {Path(raw).expanduser()}, which is not a file")
        else:
            paths.append(Path(raw).expanduser())
    defaults = BackendSettings()
    rate = b.writes_per_minute or defaults.writes_per_minute
    cap = b.project_writes_per_minute or defaults.project_writes_per_minute
    total = (1 + len(names)) * rate
    if names and total > cap:
        where.add(loc, f"{1 + len(names)} principals × {rate} writes/min = {total} writes/min "
                  f"exceeds the project's quota of {cap} writes/min: use at most {cap // rate} "
                  "principals (the service account included), or lower writes_per_minute")
    return tuple(paths)


def _credentials(env_name: str, environ: Mapping[str, str], where: _Where) -> Path | None:
    """The service-account key file named by ``env_name``: required unless the environment names
    the emulator host or an OAuth token file instead (a key variable that is set is checked
    anyway: a wrong path bites as soon as the alternative goes)."""
    loc = ("backend", "credentials_env")
    raw = environ.get(env_name, "").strip()
    credentials = Path(raw).expanduser() if raw else None
    if credentials is not None and not credentials.is_file():
        where.add(loc, f"{env_name} points to {credentials}, which is not a file")
    if environ.get(EMULATOR_ENV, "").strip():
        return credentials
    token = environ.get(OAUTH_ENV, "").strip()
    if token:
        if not Path(token).expanduser().is_file():
            where.add(loc, f"{OAUTH_ENV} points to {Path(token).expanduser()}, which is not a file")
        if not environ.get(PRINCIPAL_ENV, "").strip():
            where.add(loc, f"{OAUTH_ENV} is set but {PRINCIPAL_ENV} is not: it must hold the "
                      "e-mail of the Google user whose token it is")
        return credentials
    if credentials is None:
        where.add(
            loc,
            f"environment variable {env_name} is not set: it must hold the path of the "
            "service-account key file (keys never go into the config files); or set "
            f"{OAUTH_ENV} to an OAuth user token file, or {EMULATOR_ENV} to an emulator's host",
        )
    return credentials
