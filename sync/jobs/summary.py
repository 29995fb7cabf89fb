"""What one sync cycle or one nightly lock run did, as plain data (``ejournal sync --json``).

Both summaries count ids and numbers only, never names or marks, so they can go to logs, the
``runs`` table and the CLI as they are. ``to_json()`` gives a JSON-ready dict with a fixed set of
keys (the shape is tested).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from sync.jobs.closing import LockTotals


def describe(exc: BaseException) -> str:
    """An error for the summary and the log: its type and message (ids, never cell values)."""
    return f"{type(exc).__name__}: {exc}"


@dataclass
class FileProblem:
    """A file that could not be handled this time, and why (English, no cell values)."""

    file_id: str
    error: str

    def to_json(self) -> dict[str, str]:
        return {"file": self.file_id, "error": self.error}


@dataclass
class Tally:
    """Counters shared by the cycle and the lock run (what the ledger took in)."""

    journals_read: int = 0
    entries_accepted: int = 0  # new or changed mark cells and period marks
    lessons_changed: int = 0  # "Уроки" rows whose facts were new or changed
    findings_opened: int = 0
    findings_resolved: int = 0
    findings_open: int = 0  # after this run: every open one the ledger holds
    violations: int = 0  # locked cells found changed (tampering)
    late_entries: int = 0  # closed cells read changed where no read proved the value in time
    classes_read: int = 0  # class spreadsheets read ("Посещаемость")
    absences_accepted: int = 0  # new, changed or erased absence reasons

    def add(self, other: Tally) -> None:
        for name in Tally.__dataclass_fields__:
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def counters(self) -> dict[str, int]:
        return {name: int(getattr(self, name)) for name in Tally.__dataclass_fields__}

    def to_json(self, **after_journals_read: int) -> dict[str, Any]:
        """The counters as summary keys (findings nested); ``after_journals_read`` places a run's
        own counts there (the lock run's classes considered, next to the classes read)."""
        return {
            "journals_read": self.journals_read,
            **after_journals_read,
            "classes_read": self.classes_read,
            "absences_accepted": self.absences_accepted,
            "entries_accepted": self.entries_accepted,
            "lessons_changed": self.lessons_changed,
            "findings": {
                "opened": self.findings_opened,
                "resolved": self.findings_resolved,
                "open": self.findings_open,
            },
            "violations": self.violations,
            "late_entries": self.late_entries,
        }


@dataclass
class CorrectionsSummary:
    """What one pass over "Исправления" did (counts only: the log and JSON carry no names)."""

    rows: int = 0  # non-empty rows of the tab
    waiting: int = 0  # not signed yet (drafts): left alone
    applied: int = 0
    rejected: int = 0
    restated: int = 0  # processed earlier; the lost status write was repeated
    duplicates: int = 0
    deferred: int = 0  # the journal could not be read: retried next time
    cells_written: int = 0  # journal cells changed by applied corrections
    unplaced: int = 0  # applied to the ledger, but the cell is not in the journal right now
    reads: int = 0
    writes: int = 0
    errors: list[str] = field(default_factory=list)  # file ids and error kinds

    def to_json(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "waiting": self.waiting,
            "applied": self.applied,
            "rejected": self.rejected,
            "restated": self.restated,
            "duplicates": self.duplicates,
            "deferred": self.deferred,
            "cells_written": self.cells_written,
            "unplaced": self.unplaced,
            "reads": self.reads,
            "writes": self.writes,
            "errors": list(self.errors),
        }


@dataclass
class _RunSummary:
    """What a sync cycle and a lock run both report; each subclass adds only its own counts."""

    started: datetime
    finished: datetime | None = None
    tally: Tally = field(default_factory=Tally)
    substitutions: dict[str, int] = field(default_factory=dict)  # sync_substitutions' counts
    skipped_busy: list[str] = field(default_factory=list)
    failed: list[FileProblem] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)  # run-level problems (English)
    api_calls: dict[str, float] = field(default_factory=dict)  # by kind, this run only

    @property
    def ok(self) -> bool:
        return not self.failed and not self.errors and not self.skipped_busy

    def _counters(self, **own: int) -> dict[str, int]:
        """Integer counters for the ledger's ``runs`` row: the tally, ``own``, then the shared."""
        out = self.tally.counters()
        out.update(own, skipped_busy=len(self.skipped_busy), failed=len(self.failed))
        out.update({f"substitutions_{k}": v for k, v in self.substitutions.items()})
        out.update({f"api_{k}": int(v) for k, v in self.api_calls.items() if k in _API_KINDS})
        return out

    def _json(self, kind: str, *parts: dict[str, Any]) -> dict[str, Any]:
        """The JSON dict: kind, outcome and times, the run's own ``parts``, then the shared lists."""
        out: dict[str, Any] = {
            "kind": kind,
            "ok": self.ok,
            "started": self.started.isoformat(),
            "finished": self.finished.isoformat() if self.finished else None,
        }
        for part in parts:
            out.update(part)
        out.update(
            substitutions=dict(self.substitutions),
            skipped_busy=list(self.skipped_busy),
            failed=[p.to_json() for p in self.failed],
            errors=list(self.errors),
            api_calls=dict(self.api_calls),
        )
        return out


@dataclass
class CycleSummary(_RunSummary):
    """One sync cycle (``sync.jobs.cycle.run_cycle``)."""

    first_cycle: bool = False  # no change token yet: every registered file was read
    files_changed: int = 0  # registered files the change feed (or the dirty list) named
    reverts: int = 0  # locked cells written back
    writes: int = 0  # spreadsheet write calls made by the cycle's own writes
    repaired: list[str] = field(default_factory=list)  # file ids whose layout was repaired
    rebuilt: list[str] = field(default_factory=list)  # file ids re-created from the ledger
    set_aside: list[str] = field(default_factory=list)  # damaged file ids moved aside (kept)
    readopted: list[str] = field(default_factory=list)  # names re-adopted after a lost manifest
    corrections: dict[str, Any] | None = None  # process_corrections' summary, if it ran
    locks: LockTotals = field(default_factory=LockTotals)  # closed windows locked by its reads
    locks_retried: int = 0  # files whose failed lock work this cycle ran again
    diaries: dict[str, Any] | None = None  # the diary pass's summary (sync.jobs.diaries)
    acl: dict[str, Any] | None = None  # sharing listed and repaired (sync.jobs.acl), if any

    def counters(self) -> dict[str, int]:
        """Integer counters for the ledger's ``runs`` row."""
        return self._counters(
            files_changed=self.files_changed,
            reverts=self.reverts,
            writes=self.writes,
            repaired=len(self.repaired),
            rebuilt=len(self.rebuilt),
            days_locked=self.locks.days,
            locks_retried=self.locks_retried,
        )

    def to_json(self) -> dict[str, Any]:
        return self._json(
            "sync",
            {"first_cycle": self.first_cycle, "files_changed": self.files_changed},
            self.tally.to_json(),
            {
                "reverts": self.reverts,
                "writes": self.writes,
                "repaired": list(self.repaired),
                "rebuilt": list(self.rebuilt),
                "set_aside": list(self.set_aside),
                "readopted": list(self.readopted),
                "corrections": self.corrections,
                "locks": asdict(self.locks),
                "locks_retried": self.locks_retried,
                "diaries": self.diaries,
                "acl": self.acl,
            },
        )


@dataclass
class LockSummary(_RunSummary):
    """One lock run (``sync.jobs.locking.run_locks``): read and lock what closed, then protect."""

    journals: int = 0  # registered journals considered
    classes: int = 0  # registered class spreadsheets considered
    protections_written: int = 0  # set_open_ranges calls (journals whose open cells changed)
    class_protections_written: int = 0  # the same for class spreadsheets
    protections_rechecked: int = 0  # re-reads of the protection state after an uncertain write
    locked_unread: int = 0  # journals locked without a read: unchanged since the ledger took them in
    days_locked: int = 0  # (journal, day) pairs newly locked
    lessons_locked: int = 0
    entries_locked: int = 0
    periods_locked: int = 0
    period_marks_locked: int = 0
    absence_days_locked: int = 0  # (class, day) pairs newly locked
    absence_reasons_locked: int = 0
    follow_up: list[str] = field(default_factory=list)  # files the next cycle must re-write
    diaries: dict[str, Any] | None = None  # the new week's (period's) diaries, rendered at night

    def counters(self) -> dict[str, int]:
        """Integer counters for the ledger's ``runs`` row."""
        return self._counters(
            journals=self.journals,
            classes=self.classes,
            protections_written=self.protections_written,
            class_protections_written=self.class_protections_written,
            protections_rechecked=self.protections_rechecked,
            locked_unread=self.locked_unread,
            days_locked=self.days_locked,
            lessons_locked=self.lessons_locked,
            entries_locked=self.entries_locked,
            periods_locked=self.periods_locked,
            period_marks_locked=self.period_marks_locked,
            absence_days_locked=self.absence_days_locked,
            absence_reasons_locked=self.absence_reasons_locked,
            follow_up=len(self.follow_up),
        )

    def to_json(self) -> dict[str, Any]:
        return self._json(
            "lock",
            {
                "journals": self.journals,
                "protections_written": self.protections_written,
                "class_protections_written": self.class_protections_written,
                "protections_rechecked": self.protections_rechecked,
                "locked_unread": self.locked_unread,
            },
            self.tally.to_json(classes=self.classes),
            {
                "locks": {
                    "days": self.days_locked,
                    "lessons": self.lessons_locked,
                    "entries": self.entries_locked,
                    "periods": self.periods_locked,
                    "period_marks": self.period_marks_locked,
                    "absence_days": self.absence_days_locked,
                    "absence_reasons": self.absence_reasons_locked,
                },
                "follow_up": list(self.follow_up),
                "diaries": self.diaries,
            },
        )


_API_KINDS = ("sheets_read", "sheets_write", "drive", "retries")


def calls_delta(before: dict[str, float], after: dict[str, float]) -> dict[str, float]:
    """API counters of one run: ``after`` minus ``before``, per kind (seconds to the millisecond)."""
    return {key: round(value - before.get(key, 0), 3) for key, value in after.items()}
