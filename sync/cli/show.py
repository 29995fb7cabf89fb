"""What the CLI prints: one-screen summaries of the jobs' JSON, the status page, logging set-up.

Kept apart from ``sync.cli.main`` so the commands stay thin (parse options, call one function, print).
Everything printed here comes from counts, ids and file names (``sync.cli.names``: a diary by
its pupil's id) — never a pupil's name or mark.
"""

from __future__ import annotations

import logging
import sys
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, tzinfo
from typing import Any, TextIO

import click

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Logs to whatever ``sys.stderr`` is at the moment (tests swap it between commands)."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


class SchoolTimeFormatter(logging.Formatter):
    """Log times in the school's time zone with its offset («2026-12-05 11:42:12,320 +0300»), as
    the schedule in school.toml is: a sysadmin on a UTC server reads the school's hours. Until
    a school is loaded (``set_log_zone``), the machine's zone, with its offset too."""

    zone: tzinfo | None = None

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:
        when = datetime.fromtimestamp(record.created, self.zone or UTC)
        when = when if self.zone else when.astimezone()
        return f"{when:%Y-%m-%d %H:%M:%S},{int(record.msecs):03d} {when:%z}"


def set_log_zone(zone: tzinfo) -> None:
    """From now on, log times in ``zone`` (the school's, once its configuration is loaded)."""
    SchoolTimeFormatter.zone = zone


_handler: _StderrHandler | None = None


def configure_logging(verbosity: int, *, default: int = logging.WARNING) -> None:
    """stdlib logging for this process: WARNING (``default``), -v INFO, -vv DEBUG; to stderr.
    A ``-v`` before the command (``ejournal -v sync``) counts as well as one after it."""
    global _handler
    context = click.get_current_context(silent=True)
    verbosity += int(context.find_root().params.get("verbose") or 0) if context else 0
    level = default if verbosity <= 0 else (logging.INFO if verbosity == 1 else logging.DEBUG)
    if verbosity == 1 and default < logging.INFO:
        level = default
    root = logging.getLogger()
    if _handler is None:
        _handler = _StderrHandler()
        _handler.setFormatter(SchoolTimeFormatter(LOG_FORMAT))
        root.addHandler(_handler)
    _handler.setLevel(level)
    root.setLevel(level)
    for noisy in ("urllib3", "google", "gspread"):  # their DEBUG lines may carry URLs and bodies
        logging.getLogger(noisy).setLevel(max(level, logging.INFO))


# --------------------------------------------------------------------------- job summaries


def _calls(api: Mapping[str, Any]) -> str:
    shown = [f"{k} {v:g}" for k, v in sorted(api.items()) if isinstance(v, int | float) and v]
    return ", ".join(shown) or "none"


def cycle_lines(data: Mapping[str, Any]) -> list[str]:
    """``CycleSummary.to_json()`` as a few lines."""
    findings = data.get("findings") or {}
    lines = [
        f"Sync: {data.get('files_changed', 0)} files changed, "
        f"{data.get('journals_read', 0)} journals read, "
        f"{data.get('entries_accepted', 0)} entries accepted, "
        f"{data.get('lessons_changed', 0)} lessons changed",
        f"Findings: {findings.get('opened', 0)} opened, {findings.get('resolved', 0)} resolved, "
        f"{findings.get('open', 0)} open",
        f"Violations: {data.get('violations', 0)} (reverted {data.get('reverts', 0)}); "
        f"writes: {data.get('writes', 0)}; API calls: {_calls(data.get('api_calls') or {})}",
    ]
    readopted = data.get("readopted") or []
    if readopted:
        lines.append(f"Re-adopted (the manifest was lost; name and content prove them ours): "
                     f"{len(readopted)} spreadsheets")
    for key, what in (("set_aside", "Set aside (damaged, kept in .trash/)"),
                      ("rebuilt", "Re-created from the ledger")):
        if data.get(key):
            lines.append(f"{what}: {', '.join(map(str, data[key]))}")
    lines += _problems(data)
    corrections = data.get("corrections")
    if corrections:
        lines.append(
            f"Corrections: {corrections.get('applied', 0)} applied, "
            f"{corrections.get('rejected', 0)} rejected, {corrections.get('deferred', 0)} deferred"
        )
    return lines


FIRST_SYNC_FINDINGS = 1000  # opened by a first cycle: the year's past was checked, not kept here


def journal_start_hint(data: Mapping[str, Any], year: Any) -> str | None:
    """After a first cycle that opened thousands of findings in a school whose ``[year]
    journal_start`` is unset or the year's first day: the likely cause and the setting."""
    opened = int((data.get("findings") or {}).get("opened") or 0)
    start = year.journal_start
    if not data.get("first_cycle") or opened < FIRST_SYNC_FINDINGS or (
            start is not None and start > year.start):
        return None
    return (f"{opened} findings opened by the first sync: if the journals were kept on paper "
            "until now, set [year] journal_start in school.toml to the day the school goes live "
            "(lessons before it are not checked)")


def lock_lines(data: Mapping[str, Any]) -> list[str]:
    """``LockSummary.to_json()`` as a few lines."""
    locks = data.get("locks") or {}
    lines = [
        f"Locks: {data.get('journals', 0)} journals, "
        f"{data.get('protections_written', 0)} protections written, "
        f"{locks.get('days', 0)} days / {locks.get('entries', 0)} entries / "
        f"{locks.get('periods', 0)} periods newly locked",
        f"Entries accepted at the lock: {data.get('entries_accepted', 0)}; "
        f"violations: {data.get('violations', 0)}; API calls: {_calls(data.get('api_calls') or {})}",
    ]
    return lines + _problems(data)


def setup_lines(data: Mapping[str, Any]) -> list[str]:
    """``SetupSummary.to_json()`` as a few lines (outcomes may be counts or lists of files)."""
    lines = [
        f"Setup: {_n(data.get('total'))} spreadsheets: {_n(data.get('created'))} created, "
        f"{_n(data.get('present'))} already there, {_n(data.get('rebuilt'))} rebuilt, "
        f"{_n(data.get('failed'))} failed; shared {_n(data.get('grants'))}, "
        f"unshared {_n(data.get('revokes'))}; API calls: {_calls(data.get('api_calls') or {})}"
    ]
    failed = data.get("failed")
    for item in failed if isinstance(failed, list) else data.get("failed_files") or []:
        lines.append("Failed: " + ": ".join(str(part) for part in item))
    if data.get("stopped"):
        lines.append(f"Stopped: {data['stopped']}")
    return lines


def _n(value: Any) -> int:
    """A count given as a number or as the list of what was counted."""
    if isinstance(value, list | tuple | dict):
        return len(value)
    return int(value or 0)


def _problems(data: Mapping[str, Any]) -> list[str]:
    lines = []
    busy = data.get("skipped_busy") or []
    if busy:
        lines.append(f"Skipped (file busy, retried next time): {', '.join(busy)}")
    for failed in data.get("failed") or []:
        lines.append(f"Failed: {failed.get('name') or failed.get('file')}: {failed.get('error')}")
    for error in data.get("errors") or []:
        lines.append(f"Error: {error}")
    return lines


def generic_lines(title: str, data: Mapping[str, Any]) -> list[str]:
    """Any summary's scalar counters on one line, lists by their length."""
    parts = []
    for key, value in data.items():
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, int | float):
            parts.append(f"{key.replace('_', ' ')} {value:g}")
        elif isinstance(value, list | tuple):
            parts.append(f"{key.replace('_', ' ')} {len(value)}")
    return [f"{title}: " + (", ".join(parts) or "done")]


def rebuild_lines(data: Mapping[str, Any]) -> list[str]:
    """``rebuild``'s counts, then by name what was set aside, rebuilt, or failed."""
    lines = generic_lines("Rebuild", data)
    if data.get("set_aside"):
        lines.append(f"Set aside (kept in .trash/): {', '.join(data['set_aside'])}")
    if data.get("rebuilt"):
        lines.append(f"Rebuilt from the ledger: {', '.join(data['rebuilt'])}")
    lines += [f"Failed: {name}: {error}" for name, error in data.get("failed") or []]
    return lines


def echo_lines(lines: list[str]) -> None:
    for line in lines:
        click.echo(line)


# --------------------------------------------------------------------------- status


@dataclass
class Status:
    """The ledger at a glance (``ejournal status``)."""

    ledger: str
    schema: int
    files: dict[str, int] = field(default_factory=dict)  # "journal ok" → count
    runs: list[dict[str, Any]] = field(default_factory=list)
    findings_open: int = 0
    journals_with_findings: int = 0
    class_findings_open: int = 0  # class spreadsheets: findings about "Посещаемость" (ledger only)
    classes_with_findings: int = 0
    absence_reasons: dict[str, int] = field(default_factory=dict)  # reason code → count
    absences_kept_as_typed: int = 0  # text that is no reason, kept when its day locked
    violations: int = 0
    violations_unreverted: int = 0
    corrections_pending: int = 0
    corrections_deferred: int = 0
    late_entries: list[dict[str, Any]] = field(default_factory=list)  # awaiting a correction
    locks_pending: list[dict[str, Any]] = field(default_factory=list)  # lock work failed: retried
    board: dict[str, Any] = field(default_factory=dict)  # the teachers' board: ``board.shown``
    audit_head: str = ""
    audit_events: int = 0
    anchor: str = ""  # the anchor file; anchor_event the event it names (None: not written)
    anchor_event: int | None = None
    anchor_problem: str | None = None  # why the chain does not extend it
    change_token: bool = False
    backups: list[str] = field(default_factory=list)
    unaccounted: str | None = None  # why the last sync could not account for the spreadsheets

    def note_last_sync(self) -> None:
        """The files are not accounted for when the newest sync could not list them."""
        last = next((r for r in self.runs if r["kind"] == "sync"), None)
        error = (last or {}).get("error") or ""
        lost = error.startswith(("change list:", "re-adoption:"))
        self.unaccounted = f"the last sync: {error}" if lost else None

    def to_json(self) -> dict[str, Any]:
        return {
            "ledger": self.ledger,
            "schema": self.schema,
            "files": {k.replace(" ", "_"): v for k, v in self.files.items()},  # journal_ok
            "runs": list(self.runs),
            "findings_open": self.findings_open,
            "journals_with_findings": self.journals_with_findings,
            "class_findings_open": self.class_findings_open,
            "classes_with_findings": self.classes_with_findings,
            "absence_reasons": dict(self.absence_reasons),
            "absences_kept_as_typed": self.absences_kept_as_typed,
            "violations": self.violations,
            "violations_unreverted": self.violations_unreverted,
            "corrections_pending": self.corrections_pending,
            "corrections_deferred": self.corrections_deferred,
            "late_entries": list(self.late_entries),
            "locks_pending": list(self.locks_pending),
            "board": dict(self.board),
            "audit_head": self.audit_head,
            "audit_events": self.audit_events,
            "anchor": self.anchor,
            "anchor_event": self.anchor_event,
            "anchor_problem": self.anchor_problem,
            "change_token": self.change_token,
            "unaccounted": self.unaccounted,
            "backups": list(self.backups),
        }

    def lines(self) -> list[str]:
        out = [f"Ledger: {self.ledger} (schema {self.schema})"]
        files = ", ".join(f"{k}: {v}" for k, v in sorted(self.files.items())) or "none"
        if self.unaccounted:
            files = f"NOT ACCOUNTED FOR ({files} in the ledger) — {self.unaccounted}"
        out.append(f"Spreadsheets: {files}")
        if not self.files:
            out.append("  (none registered yet: run `ejournal setup`)")
        out.append(
            f"Open findings: {self.findings_open} in {self.journals_with_findings} journals; "
            f"violations: {self.violations} ({self.violations_unreverted} not reverted yet)"
        )
        out.append(
            f"Class spreadsheets: {self.class_findings_open} open findings in "
            f"{self.classes_with_findings} class{'' if self.classes_with_findings == 1 else 'es'}; "
            f"absence reasons: {self._reasons()}"
        )
        out.append(
            f"Corrections pending: {self.corrections_pending}; "
            f"waiting for their journal: {self.corrections_deferred}"
        )
        journals = len({e["journal"] for e in self.late_entries})
        out.append(f"Late entries awaiting the deputy's correction: {len(self.late_entries)}"
                   + (f" in {journals} journal{'' if journals == 1 else 's'}" if journals else ""))
        out.append(f"Locks pending (read or protection failed; every sync cycle retries): "
                   f"{len(self.locks_pending)}")
        for lock in self.locks_pending:
            out.append(f"  {lock.get('name') or lock['key']} (file {lock['file']}) since "
                       f"{lock['since']} ({lock['hours']} h)")
            for day in lock.get("open_days", []):
                out.append(f"    {day['day']} still open in the file, closed {day['closed']}")
        out.append(f"Teachers' board: {self._board()}")
        out.append("Last runs:")
        for run in self.runs:
            state = {True: "ok", False: "FAILED", None: "unfinished"}[run["ok"]]
            error = f" — {run['error']}" if run.get("error") else ""
            started = datetime.fromisoformat(run["started"]).strftime("%d.%m %H:%M")
            out.append(f"  {started}  {run['kind']:<14} {state}{error}")
        if not self.runs:
            out.append("  none yet")
        out.append(f"Audit chain head: {self.audit_head} (event {self.audit_events})")
        if self.anchor_problem:
            state = "MISSING" if self.anchor_event is None else "DOES NOT MATCH"
            anchored = f"{state} — {self.anchor_problem}; run `ejournal audit verify`"
        elif self.anchor_event is None:
            anchored = "not written yet"
        else:
            anchored = f"event {self.anchor_event}, the chain extends it"
        out.append(f"Audit anchor: {self.anchor} ({anchored})")
        out.append(
            f"Backups: {len(self.backups)}"
            + (f", newest {self.backups[0]}" if self.backups else "")
        )
        return out


    def _board(self) -> str:
        board = self.board
        if board.get("pending"):
            return (f"write PENDING since {board['pending'][:16]} ({board.get('error', '')}); "
                    "the daemon's reports run retries it")
        if board.get("written"):
            return f"up to date (file {board.get('file')}, written {board['written'][:16]})"
        return "not written yet (setup creates it, the weekly analysis writes it)"

    def _reasons(self) -> str:
        """ "12 (б 7, н 3, у 2; 1 kept as typed)": the total, then per code in code order."""
        total = sum(self.absence_reasons.values()) + self.absences_kept_as_typed
        parts = [f"{code} {n}" for code, n in sorted(self.absence_reasons.items())]
        detail = ", ".join(parts)
        if self.absences_kept_as_typed:
            kept = f"{self.absences_kept_as_typed} kept as typed"
            detail = f"{detail}; {kept}" if detail else kept
        return f"{total} ({detail})" if detail else str(total)


def count_files(records: list[Any]) -> dict[str, int]:
    counts = Counter(f"{r.kind.value} {r.status.value}" for r in records)
    return dict(counts)
