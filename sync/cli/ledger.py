"""The CLI's ledger commands: ``status``, ``audit verify``, ``backup`` and ``restore``.

They read or replace the ledger only — no spreadsheet is touched — and are registered on the
``ejournal`` group by ``sync.cli.main``.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from rules.errors import BackendError, StoreError
from sync.cli.options import (
    EXIT_FILES_FAILED,
    EXIT_VIOLATIONS,
    LOCK_WAIT_SECONDS,
    REANCHOR_HINT,
    config_option,
    json_option,
    ledger_path_of,
    print_json,
    school_from,
    verbose_option,
)
from sync.cli.show import Status, configure_logging, count_files, echo_lines

if TYPE_CHECKING:
    from config.school import School
    from sync.backends.protocol import Backend
    from sync.ledger.ledger import Tx


@click.command()
@config_option
@json_option
@verbose_option
def status(config_path: Path, as_json: bool, verbose: int) -> None:
    """Show the ledger at a glance: spreadsheets, last runs, open findings (journals and class
    spreadsheets), absence reasons, violations, late entries awaiting a correction, files whose
    lock is pending (and for how long), whether the teachers' board waits for a write, audit head.

    Reads the ledger only (no spreadsheet calls). Exit code 4 when the last sync could not
    account for the spreadsheets (their list of changes failed: a manifest gone, a folder moved);
    3 when the audit anchor does not match, or is gone after the ledger wrote it.

    \b
    Example:
        ejournal status --config demo-school/school.toml
    """
    configure_logging(verbose)
    from sync.cli.names import person_name
    from sync.jobs.daemon import backups_dir
    from sync.jobs.service import lost_manifest, wall_clock
    from sync.ledger.backup import list_backups
    from sync.ledger.ledger import Ledger
    from sync.ledger.model import FileKind
    from sync.ledger.state import BOARD_SHOWN_KEY, CHANGES_TOKEN_KEY, CORRECTIONS_DEFERRED_KEY

    school = school_from(config_path)
    with Ledger.open(ledger_path_of(school), anchor=school.anchor_path) as ledger:
        with ledger.snapshot() as tx:
            files = tx.files()
            findings = {f.key: len(tx.findings(f.key)) for f in files if f.kind is FileKind.JOURNAL}
            classes = [f.key for f in files if f.kind is FileKind.CLASS]
            class_findings = {key: len(tx.findings(key)) for key in classes}
            reasons = [r for key in classes for r in tx.absences(key)]
            violations = tx.violations()
            now = wall_clock(school)()
            by_id = {f.id: f for f in files}
            pending = [
                {"file": fid, "name": person_name(by_id[fid]) if fid in by_id else fid,
                 "kind": by_id[fid].kind.value if fid in by_id else "?",
                 "key": by_id[fid].key if fid in by_id else "?",
                 "since": since.astimezone(school.timezone).isoformat(timespec="minutes"),
                 "hours": round((now - since).total_seconds() / 3600, 1),
                 "open_days": open_days(school, tx, fid, now)}
                for fid, since in sorted(tx.pending_locks().items(), key=lambda kv: kv[1])
            ]
            late = [
                {"journal": e.journal, "field": e.target.field.value, "pupil": e.target.pupil_id,
                 "day": e.target.day.isoformat() if e.target.day else None,
                 "lesson": e.target.lesson_no, "period": e.target.period, "cell": e.target.cell,
                 "detected": e.detected_at.astimezone(school.timezone).isoformat(
                     timespec="minutes")}
                for e in tx.late_entries()
            ]
            info = Status(
                ledger=str(ledger.path),
                schema=0,
                files=count_files(files),
                runs=[
                    {
                        "kind": r.kind,
                        "started": r.started.astimezone(school.timezone).isoformat(
                            timespec="seconds"),  # ISO 8601 with the school's offset
                        "ok": r.ok,
                        "error": r.error,
                    }
                    for r in tx.recent_runs(10)
                ],
                findings_open=sum(findings.values()),
                journals_with_findings=sum(1 for n in findings.values() if n),
                class_findings_open=sum(class_findings.values()),
                classes_with_findings=sum(1 for n in class_findings.values() if n),
                absence_reasons=dict(Counter(r.reason for r in reasons if r.reason)),
                absences_kept_as_typed=sum(1 for r in reasons if not r.reason),
                violations=len(violations),
                violations_unreverted=sum(1 for v in violations if v.reverted_at is None),
                corrections_pending=len(tx.corrections(pending=True)),
                corrections_deferred=int(tx.state_get(CORRECTIONS_DEFERRED_KEY) or 0),
                change_token=tx.state_get(CHANGES_TOKEN_KEY) is not None,
                late_entries=late,
                locks_pending=pending,
                board=json.loads(tx.state_get(BOARD_SHOWN_KEY) or "{}"),
            )
        info.schema = ledger.schema_version()
        info.audit_head = ledger.audit_head()
        info.audit_events = ledger.audit_events()
        mark, info.anchor_problem = ledger.anchor_check()
        info.anchor, info.anchor_event = str(school.anchor_path), mark.event if mark else None
    info.backups = [b.path.name for b in list_backups(backups_dir(school))]
    info.note_last_sync()
    info.unaccounted = lost_manifest(school) or info.unaccounted  # before a sync ran into it
    if as_json:
        print_json(info.to_json())
    else:
        echo_lines(info.lines())
    if info.unaccounted:  # the ledger's files cannot be matched to the spreadsheets: loud
        raise click.exceptions.Exit(EXIT_FILES_FAILED)
    if info.anchor_problem:  # the anchor is gone after the ledger wrote it, or does not match
        click.echo(f"Hint: {REANCHOR_HINT}", err=True)
        raise click.exceptions.Exit(EXIT_VIOLATIONS)


def open_days(school: School, tx: Tx, file_id: str, now: datetime) -> list[dict[str, str]]:
    """The past days a pending journal's protection still leaves open, and when each closed."""
    from sync.jobs.closing import unprotected
    from sync.jobs.journal_sync import journal_refs

    record, landed = tx.file(file_id), tx.open_ranges_set_at(file_id)
    ref = journal_refs(school, [record]).get(file_id) if record else None
    if ref is None or landed is None:
        return []
    days = unprotected(school, tx, ref.key, ref.class_id, ref.lessons, landed, now)
    return [{"day": day.isoformat(),
             "closed": closed.astimezone(school.timezone).isoformat(timespec="minutes")}
            for day, closed in days.items()]


@click.group()
def audit() -> None:
    """The audit log: an append-only SHA-256 hash chain of everything the ledger accepted.

    \b
    Example:
        ejournal audit verify --config demo-school/school.toml
    """


@audit.command(name="verify")
@config_option
@json_option
@click.option("--reanchor", is_flag=True,
              help="Anchor the current head anew when the anchor file is missing (only when "
                   "everything else verifies).")
@verbose_option
def audit_verify(config_path: Path, as_json: bool, reanchor: bool, verbose: int) -> None:
    """Prove the ledger: re-walk the audit chain, check that the current entries, period marks,
    lessons, absences and locks are what its events sealed, and that the chain still holds the
    head anchored outside the ledger's folder ([ledger] anchor). Exit code 1 prints one line per
    problem, naming the event, or the table and row (or the partition) that does not fit; a
    missing anchor file is such a problem, and is anchored anew only with --reanchor.

    \b
    Example:
        ejournal audit verify --config demo-school/school.toml
    """
    configure_logging(verbose)
    from sync.jobs.service import wall_clock
    from sync.ledger.anchor import missing
    from sync.ledger.ledger import Ledger

    school = school_from(config_path)
    with Ledger.open(ledger_path_of(school), anchor=school.anchor_path,
                     make_anchor=False) as ledger:
        result = ledger.verify()
        report = result.report
        lost = missing(school.anchor_path, report.events) if report.events else None
        if reanchor and lost is not None and report.problems == (lost,):
            ledger.anchor_if_missing(wall_clock(school)(), deliberate=True)
            if not as_json:
                click.echo(f"Anchored anew: head {report.head} of {report.events} events in "
                           f"{school.anchor_path}")
            report = ledger.verify().report
    if as_json:
        print_json({"ok": report.ok, "events": report.events, "head": report.head,
                    "rows": result.rows, "anchor": str(school.anchor_path),
                    "first_bad_event": report.first_bad_id, "problems": list(report.problems)})
    if lost is not None and report.problems == (lost,):  # nothing else wrong
        if not as_json:
            click.echo(f"Problem: {lost}")
        raise StoreError(
            "audit failed: the audit anchor is missing",
            "if the anchor file was lost (not removed by someone who could change the ledger),"
            " compare the ledger with a backup (`ejournal backup --list`), then anchor its current"
            " head anew with `ejournal audit verify --reanchor`",
        )
    if not report.ok:
        for line in report.problems if not as_json else ():
            click.echo(f"Problem: {line}")
        first = (
            f"audit chain broken at event {report.first_bad_id}"
            if report.first_bad_id is not None
            else f"audit failed, {len(report.problems)} problems; the first"
        )
        raise StoreError(
            f"{first}: {report.problem}",
            "restore the newest good backup (`ejournal backup --list`, `ejournal restore PATH`)",
        )
    if not as_json:
        click.echo(
            f"Audit chain OK: {report.events} events, head {report.head}; the {result.rows} rows"
            f" of the data match it; anchored in {school.anchor_path}"
        )


@click.command()
@config_option
@click.option("--list", "list_only", is_flag=True, help="List the backups instead of taking one.")
@json_option
@verbose_option
def backup(config_path: Path, list_only: bool, as_json: bool, verbose: int) -> None:
    """Back up the ledger now (online, verified), keeping the newest [schedule] backup_keep.

    Backups go to backups/ beside the ledger; the daemon takes one every day at backup_at.

    \b
    Example:
        ejournal backup --config demo-school/school.toml
    """
    configure_logging(verbose)
    from sync.jobs.daemon import backups_dir
    from sync.jobs.service import wall_clock
    from sync.ledger.backup import backup as take_backup
    from sync.ledger.backup import list_backups

    school = school_from(config_path)
    folder = backups_dir(school)
    if list_only:
        found = list_backups(folder)
        if as_json:
            print_json({"folder": str(folder),
                        "backups": [{"path": str(b.path), "bytes": b.size} for b in found]})
            return
        for item in found:
            click.echo(f"{item.path}  {item.size} bytes")
        click.echo(f"{len(found)} backups in {folder}")
        return
    keep = school.schedule.backup_keep
    path = take_backup(ledger_path_of(school), folder, wall_clock(school)(), keep=keep)
    if as_json:
        print_json({"backup": str(path), "keep": keep})
    else:
        click.echo(f"Backup written: {path} (the newest {keep} are kept)")


@click.command()
@config_option
@click.argument("backup_path", metavar="PATH", type=click.Path(path_type=Path))
@click.option("--force", is_flag=True,
              help="Restore even a ledger whose spreadsheets this school's folder does not hold.")
@verbose_option
def restore(config_path: Path, backup_path: Path, force: bool, verbose: int) -> None:
    """Replace the ledger by a verified backup; the current ledger is moved aside, never deleted.

    Refused (exit code 75) while the daemon or another command holds the ledger: stop it first.
    The next sync cycle re-reads every spreadsheet (what was typed since the backup comes in).
    A ledger none of whose spreadsheets this school's folder holds (another school's, another
    folder's) is refused unless --force.

    \b
    Example:
        ejournal restore --config demo-school/school.toml \\
            demo-school/var/backups/ledger-20261020T233000Z.sqlite3
    """
    configure_logging(verbose)
    from sync.jobs.service import wall_clock
    from sync.ledger.backup import restore as do_restore
    from sync.ledger.process_lock import LedgerLock

    school = school_from(config_path)
    lock = LedgerLock.acquire(school.ledger_path, wait=LOCK_WAIT_SECONDS)  # never under a daemon
    try:
        if not force:
            refuse_foreign(school, backup_path)
        done = do_restore(
            backup_path, school.ledger_path, wall_clock(school)(), anchor=school.anchor_path
        )
    finally:
        lock.release()
    click.echo(f"Restored {done.ledger} from {backup_path}")
    if done.previous is not None:
        click.echo(f"The previous ledger is kept as {done.previous}")
    click.echo(f"Audit chain head: {done.head}")
    click.echo("Next: the next `ejournal sync` reads every spreadsheet again (marks typed since the "
               "backup come in); `ejournal rebuild` only for files that were lost or vandalised.")


FOREIGN_SAMPLE = 5  # spreadsheets of a backup looked up in the school's folder (one call each)


def refuse_foreign(school: School, backup_path: Path) -> None:
    """Refuse a backup none of whose first spreadsheets the school's backend knows, while the
    ledger it replaces is connected (the backend knows one of its files): restoring another
    school's (or another folder's) ledger would disconnect every journal. A missing or unreadable
    current ledger cannot tell: then the backup is taken on trust."""
    from sync.jobs.service import make_backend
    from sync.ledger.backup import registered_files

    if not backup_path.is_file():
        return  # the restore itself says so
    try:
        current = registered_files(school.ledger_path) if school.ledger_path.is_file() else []
    except StoreError:
        current = []
    backend = make_backend(school)
    incoming = registered_files(backup_path)[:FOREIGN_SAMPLE]
    if not incoming or _knows_one(backend, incoming):
        return
    if _knows_one(backend, current[:FOREIGN_SAMPLE]):
        raise StoreError(
            f"the backup {backup_path} registers spreadsheets this school's folder does not hold "
            f"(none of the {len(incoming)} looked up), while the current ledger's are there: "
            "another school's or another folder's ledger?",
            "check --config and the backup's path; to restore it anyway, add --force",
        )


def _knows_one(backend: Backend, file_ids: list[str]) -> bool:
    for file_id in file_ids:
        try:
            if not backend.info(file_id).removed:
                return True
        except BackendError:
            continue
    return False
