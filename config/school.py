"""The loaded school: one frozen object holding everything ``config/`` read and checked.

``School`` bundles the domain objects of ``rules.model`` with the deployment settings that only the
service needs (schedule of jobs, spreadsheet backend, ledger path). It is built by
:func:`config.loader.load_school` and never mutated; lookups are small linear scans, which is
plenty for a school of 1,500 pupils.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, time
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

from rules import calendar
from rules.assessment import Assessment, AssessmentBand, assessment_for, has_averages
from rules.errors import Problem
from rules.model import (
    AcademicYear,
    Assignment,
    Lesson,
    Parent,
    Period,
    PlanItem,
    Policies,
    Pupil,
    SchoolClass,
    Subject,
    Teacher,
    TimetableChange,
    TimetableSlot,
)


@dataclass(frozen=True, slots=True)
class Substitution:
    """R9: on ``day`` the ``teacher_id`` substitutes in ``class_id``+``subject_id`` and may fill
    that journal for that day only."""

    day: date
    class_id: str
    subject_id: str
    teacher_id: str


@dataclass(frozen=True, slots=True)
class ScheduleSettings:
    """When the daemon runs its jobs (school time zone)."""

    sync_every_minutes: int = 5
    lock_at: time = time(0, 0)  # nightly lock job, right after lock.day_end: read, lock, protect
    backup_at: time = time(2, 30)
    acl_at: time = time(3, 0)  # every file's sharing listed from Drive and repaired
    backup_keep: int = 14  # rotated daily backups kept
    weekly_report_weekday: int = 1  # 1=Mon … 7=Sun; the analysis of the week before, for the board
    weekly_report_at: time = time(7, 30)
    monthly_report_day: int = 1  # day of month for the previous month's report to the deputy
    monthly_report_at: time = time(7, 0)


class BackendKind(StrEnum):
    LOCAL = "local"  # a folder of .xlsx files (on-premises)
    GOOGLE = "google"  # Google Sheets + Drive via a service account


@dataclass(frozen=True, slots=True)
class BackendSettings:
    """Where the spreadsheets live. Secrets are never read from the config files: the Google key
    path comes from the environment variable named by ``credentials_env``."""

    kind: BackendKind = BackendKind.LOCAL
    folder: Path | None = None  # local: absolute folder of the .xlsx files
    private_folder: Path | None = None  # local: the manifest and the admin workbook (deputies only)
    credentials_env: str = "EJOURNAL_GOOGLE_CREDENTIALS"
    credentials_path: Path | None = None  # google: service-account key file, from the environment
    shared_drive_folder_id: str | None = None  # google: where the spreadsheets are created
    reads_per_minute: int = 60  # client-side token bucket, per principal
    writes_per_minute: int = 60
    # google: more service principals for the diaries' writes (each with its own per-user
    # quota): names of environment variables, each holding one more service-account key path
    pool_credentials_env: tuple[str, ...] = ()
    pool_credentials: tuple[Path, ...] = ()  # their key files, from the environment
    project_writes_per_minute: int = 300  # the Cloud project's Sheets write quota, all principals

    @property
    def principals(self) -> int:
        """How many principals write: the service account and its pool."""
        return 1 + len(self.pool_credentials_env)


def default_anchor(ledger_path: Path) -> Path:
    """The anchor beside the ledger's folder, not in it: ``var/ledger.sqlite3`` →
    ``var-ledger.anchor`` next to ``var/``."""
    folder = ledger_path.parent
    return folder.parent / f"{folder.name}-{ledger_path.stem}.anchor"


@dataclass(frozen=True, slots=True)
class ReportSettings:
    """Where built reports go besides the reports folder beside the ledger: a Drive folder
    (google backend; each upload is shared with the deputies) and/or e-mail over SMTP to
    ``smtp_to`` (default: the deputies). The SMTP password is read from the environment variable
    named by ``smtp_password_env`` when a message is sent, never from the config files."""

    drive_folder_id: str | None = None
    smtp_host: str | None = None
    smtp_port: int = 587
    smtp_security: str = "starttls"  # starttls | ssl | none
    smtp_user: str | None = None
    smtp_password_env: str = "EJOURNAL_SMTP_PASSWORD"
    smtp_from: str | None = None
    smtp_to: tuple[str, ...] = ()
    retry_minutes: int = 30  # a failed delivery is tried again this much later …
    max_attempts: int = 48  # … at most this many times (a day), then reported as failed


@dataclass(frozen=True, slots=True)
class DiarySettings:
    """Parents' diaries (R1–R3): one read-only spreadsheet per pupil."""

    enabled: bool = True  # build and write the diaries
    pupils_may_view: bool = False  # share each diary with the pupil's own account too (reader)
    folder_id: str | None = None  # google: shared-drive folder of the diaries (default: backend's)
    # pacing: a sync cycle writes at most this many diaries (the oldest changes first), the rest
    # wait for the next cycle; None = derived from the write quota (``diary_budget``)
    writes_per_cycle: int | None = None
    quota_share: float = 0.8  # of the principals' writes in one sync interval, for diaries


@dataclass(frozen=True, slots=True)
class School:
    """Everything the service knows about one school and one academic year."""

    name: str
    timezone: ZoneInfo
    year: AcademicYear
    policies: Policies
    classes: tuple[SchoolClass, ...]
    pupils: tuple[Pupil, ...]
    parents: tuple[Parent, ...]
    teachers: tuple[Teacher, ...]
    subjects: tuple[Subject, ...]
    assignments: tuple[Assignment, ...]
    slots: tuple[TimetableSlot, ...]
    changes: tuple[TimetableChange, ...]
    plans: tuple[PlanItem, ...]
    substitutions: tuple[Substitution, ...]
    schedule: ScheduleSettings
    backend: BackendSettings
    ledger_path: Path  # absolute
    config_dir: Path  # absolute folder of school.toml
    config_version: str  # short sha256 of every config file read; reports state it
    max_lesson_no: int = 8  # lessons per day the timetable may use
    warnings: tuple[Problem, ...] = ()  # doubtful but accepted (e.g. a change into a taken slot)
    deputy_emails: tuple[str, ...] = ()  # deputy directors: the admin spreadsheet is theirs
    ledger_anchor: Path | None = None  # [ledger] anchor as written (absolute); see anchor_path
    reports: ReportSettings = field(default_factory=ReportSettings)  # delivery of the reports
    diaries: DiarySettings = field(default_factory=DiarySettings)
    assessment: tuple[AssessmentBand, ...] = ()  # [[assessment]]: marks, зачёт or none, by band
    # every lesson of the year, computed on first use (School is immutable, so it never goes stale)
    _lessons: dict[tuple[str, str], list[Lesson]] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    # the roster by class and the teachers by journal, built on first use (every journal read asks)
    _rosters: dict[str, tuple[Pupil, ...]] | None = field(
        default=None, init=False, repr=False, compare=False
    )
    _journal_teachers: dict[tuple[str, str], tuple[str, ...]] | None = field(
        default=None, init=False, repr=False, compare=False
    )

    @property
    def anchor_path(self) -> Path:
        """Where the ledger's audit chain head is anchored (outside the ledger's folder)."""
        return self.ledger_anchor or default_anchor(self.ledger_path)

    # ------------------------------------------------------------------ lookups

    def assessment_of(self, class_id: str, subject_id: str) -> Assessment:
        """How the journal of ``class_id`` + ``subject_id`` is assessed (``rules.assessment``)."""
        found = self.school_class(class_id)
        return assessment_for(self.assessment, found.grade if found else 0, subject_id)

    def has_averages(self, class_id: str, subject_id: str) -> bool:
        """Whether the journal shows «Средний балл» and «Рекомендуемая» (marks, a marked subject)."""
        subject = self.subject(subject_id)
        return has_averages(self.assessment_of(class_id, subject_id),
                            subject.marked if subject else True)

    def school_class(self, class_id: str) -> SchoolClass | None:
        return next((c for c in self.classes if c.id == class_id), None)

    def pupil(self, pupil_id: str) -> Pupil | None:
        return next((p for p in self.pupils if p.id == pupil_id), None)

    def teacher(self, teacher_id: str) -> Teacher | None:
        return next((t for t in self.teachers if t.id == teacher_id), None)

    def subject(self, subject_id: str) -> Subject | None:
        return next((s for s in self.subjects if s.id == subject_id), None)

    def pupils_in(self, class_id: str, on: date | None = None) -> tuple[Pupil, ...]:
        """Pupils of a class (enrolled on ``on`` if given), in roster order."""
        rosters = self._rosters
        if rosters is None:
            rosters = {}
            for p in self.pupils:
                rosters[p.class_id] = (*rosters.get(p.class_id, ()), p)
            object.__setattr__(self, "_rosters", rosters)  # frozen: a cache, not state
        roster = rosters.get(class_id, ())
        return roster if on is None else tuple(p for p in roster if p.enrolled_on(on))

    def parents_of(self, pupil_id: str) -> tuple[Parent, ...]:
        return tuple(p for p in self.parents if p.pupil_id == pupil_id)

    def assignment(self, class_id: str, subject_id: str) -> Assignment | None:
        return next(
            (a for a in self.assignments if (a.class_id, a.subject_id) == (class_id, subject_id)),
            None,
        )

    def teachers_of(self, class_id: str, subject_id: str) -> tuple[str, ...]:
        """Teacher ids of a journal (several when the class is split into groups)."""
        teachers = self._journal_teachers
        if teachers is None:
            teachers = {}
            for a in self.assignments:
                key = (a.class_id, a.subject_id)
                teachers[key] = (*teachers.get(key, ()), a.teacher_id)
            object.__setattr__(self, "_journal_teachers", teachers)  # frozen: a cache, not state
        return teachers.get((class_id, subject_id), ())

    def journals(self) -> tuple[tuple[str, str], ...]:
        """(class_id, subject_id) of every journal, in assignment order; a split group counts once."""
        return tuple(dict.fromkeys((a.class_id, a.subject_id) for a in self.assignments))

    def plan(self, class_id: str, subject_id: str) -> tuple[PlanItem, ...]:
        """The КТП of a class+subject (empty if none was configured)."""
        return tuple(i for i in self.plans if (i.class_id, i.subject_id) == (class_id, subject_id))

    def substitutes_on(self, day: date) -> tuple[Substitution, ...]:
        return tuple(s for s in self.substitutions if s.day == day)

    # ------------------------------------------------------------------ lessons

    def lessons(self) -> dict[tuple[str, str], list[Lesson]]:
        """Every lesson of the year per (class_id, subject_id), from the timetable and changes.

        Computed once per School (every cycle asks for it; a big school's year takes ~0.1 s);
        callers must not modify the result.
        """
        lessons = self._lessons
        if lessons is None:
            if not self.year.bands:
                lessons = calendar.all_lessons(self.year, self.slots, self.changes)
            else:  # each grade band in its own periods (half-years in 10–11 …)
                lessons = {}
                years: dict[AcademicYear, set[str]] = {}
                for cid in {c.id for c in self.classes} | {s.class_id for s in self.slots}:
                    years.setdefault(self.year_of(cid), set()).add(cid)
                for year, ids in years.items():
                    lessons.update(calendar.all_lessons(
                        year, [s for s in self.slots if s.class_id in ids],
                        [c for c in self.changes if c.class_id in ids]))
            object.__setattr__(self, "_lessons", lessons)  # frozen: a cache, not state
        return lessons

    def year_of(self, class_id: str) -> AcademicYear:
        """The year as this class lives it: its grade band's periods, else the school's."""
        found = self.school_class(class_id)
        return self.year.for_grade(found.grade if found else 0)

    def periods_of(self, class_id: str) -> tuple[Period, ...]:
        """The study periods of a class (a journal's period tabs, its period marks)."""
        return self.year_of(class_id).periods

    def lessons_per_period(self, class_id: str | None = None) -> dict[str, int]:
        """Number of lessons per period name (in calendar order), for the school or one class."""
        counts: Counter[str] = Counter()
        for (cls, _subject), lessons in self.lessons().items():
            if class_id is None or cls == class_id:
                counts.update(lesson.period for lesson in lessons)
        periods = self.periods_of(class_id) if class_id else self.year.all_periods
        return {p.name: counts.get(p.name, 0) for p in periods}

    def weekly_lessons(self, class_id: str | None = None) -> int:
        """Regular lessons per week (a split group counts once), for the school or one class."""
        return len(
            {
                (s.class_id, s.weekday, s.lesson_no, s.subject_id)
                for s in self.slots
                if class_id is None or s.class_id == class_id
            }
        )
