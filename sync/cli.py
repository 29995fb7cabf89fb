"""The ``ejournal`` command line.

Commands are thin: parse options, call one function, print its summary. Exit codes are a contract
(README "Exit codes"): 0 ok; 1 an :class:`~rules.errors.EjournalError` (printed as ``Error: …`` and
``Hint: …``, no traceback); 2 usage; 3 finished but found violations.
"""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from rules.errors import ConfigError, EjournalError, StoreError
from sync.cli_show import (
    Status,
    configure_logging,
    count_files,
    cycle_lines,
    echo_lines,
    generic_lines,
    lock_lines,
    setup_lines,
)

if TYPE_CHECKING:
    from config.school import School
    from sync.app import Service

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_VIOLATIONS = 3

CONTEXT_SETTINGS = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def config_option(func: Any) -> Any:
    """The shared ``--config PATH`` option (also ``EJOURNAL_CONFIG``)."""
    return click.option(
        "--config",
        "config_path",
        type=click.Path(path_type=Path),
        envvar="EJOURNAL_CONFIG",
        required=True,
        help="Path to the school's school.toml (or set EJOURNAL_CONFIG).",
    )(func)


def verbose_option(func: Any) -> Any:
    """The shared ``-v`` option: -v logs INFO lines (ids and counts), -vv DEBUG."""
    return click.option(
        "-v",
        "--verbose",
        "verbose",
        count=True,
        help="Log what happens to stderr: -v INFO (ids and counts), -vv DEBUG.",
    )(func)


def json_option(func: Any) -> Any:
    """The shared ``--json`` option: print the job's summary as JSON instead of text."""
    return click.option(
        "--json", "as_json", is_flag=True, help="Print the summary as JSON (for scripts)."
    )(func)


def _school(config_path: Path) -> School:
    from config import load_school

    return load_school(config_path)


@contextmanager
def _service(config_path: Path) -> Iterator[Service]:
    """The school's service (backend and ledger) for one command, closed afterwards."""
    from sync.app import Service

    with Service.open(_school(config_path)) as svc:
        yield svc


def _ledger_path(school: School) -> Path:
    if not school.ledger_path.is_file():
        raise StoreError(
            f"no ledger at {school.ledger_path}",
            "run `ejournal setup` first (or check [ledger] path in school.toml)",
        )
    return school.ledger_path


def _print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _exit_on_violations(violations: int) -> None:
    """Exit code 3: the job finished but found violations (tampering with locked cells)."""
    if violations:
        raise click.exceptions.Exit(EXIT_VIOLATIONS)


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="ejournal")
def cli() -> None:
    """ejournal: a grade journal and parent diary for Russian schools, kept in spreadsheets.

    Teachers fill in one spreadsheet per class and subject; ejournal validates every entry, locks past
    dates, keeps the master copy in its own ledger, builds read-only diaries for parents and writes
    the reports the deputy director needs.

    \b
    Example:
        ejournal demo --dir demo-school
    """


@cli.command()
@config_option
def check(config_path: Path) -> None:
    """Check the school's configuration and print a short summary.

    Every problem in school.toml and the CSV files is listed at once, with its file and line or
    field. Exit code 0 when the configuration is valid, 1 otherwise.

    \b
    Example:
        ejournal check --config config/example/school.toml
    """
    from config import load_school

    school = load_school(config_path)
    click.echo(f"School: {school.name} · {school.year.name} · timezone {school.timezone.key}")
    pupils_per_class = Counter(p.class_id for p in school.pupils)
    click.echo(
        f"Classes: {len(school.classes)} · pupils: {len(school.pupils)} · "
        f"parents: {len(school.parents)} · teachers: {len(school.teachers)} · "
        f"subjects: {len(school.subjects)} · journals: {len(school.journals())}"
    )
    for cls in school.classes:
        click.echo(f"  {cls.id}: {pupils_per_class.get(cls.id, 0)} pupils")
    click.echo("Lessons per period (all journals):")
    for period, count in school.lessons_per_period().items():
        click.echo(f"  {period}: {count}")
    click.echo(f"Config version: {school.config_version}")
    for warning in school.warnings:
        click.echo(f"Warning: {warning}")
    click.echo("OK: configuration is valid.")


@cli.command()
@config_option
@verbose_option
def setup(config_path: Path, verbose: int) -> None:
    """Create (or repair) every spreadsheet of the school: journals, class sheets, the admin sheet.

    Resumable: files already created are skipped, so after a crash or an exhausted quota just run
    it again. A progress bar shows the files done and the time left at the quota's pace. Exit code
    1 when some files could not be created (run it again).

    \b
    Example:
        ejournal setup --config config/example/school.toml
    """
    configure_logging(verbose)
    from sync.setup import run_setup

    with _service(config_path) as svc, _setup_progress() as progress:
        summary = run_setup(svc, progress=progress)
    data = summary.to_json()
    echo_lines(setup_lines(data))
    if not data.get("complete", True):
        raise EjournalError(
            "setup is incomplete: some spreadsheets could not be created or repaired",
            "run `ejournal setup` again: it resumes where it stopped",
        )


@contextmanager
def _setup_progress() -> Iterator[Callable[[Any], None]]:
    """A rich progress bar fed by ``run_setup``'s progress callback (on stderr)."""
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("ETA {task.fields[eta]}"),
    )
    with Progress(*columns, console=Console(stderr=True), transient=False) as bar:
        task = bar.add_task("Setup", total=None, eta="…")

        def update(p: Any) -> None:
            eta = getattr(p, "eta_seconds", None)
            shown = "…" if eta is None else f"{int(eta) // 60}:{int(eta) % 60:02d}"
            bar.update(task, total=p.total, completed=p.done, eta=shown)

        yield update


@cli.command(name="sync")
@config_option
@json_option
@verbose_option
def sync_command(config_path: Path, as_json: bool, verbose: int) -> None:
    """Run one sync cycle: read the changed journals, accept valid entries, revert tampering.

    Prints what the cycle did (entries accepted, findings, violations, writes, API calls by kind);
    --json prints the cycle summary as JSON. Exit code 3 when locked cells were found changed
    (violations: reverted and audited).

    \b
    Example:
        ejournal sync --config config/example/school.toml --json
    """
    configure_logging(verbose)
    from sync.engine import run_cycle

    with _service(config_path) as svc:
        summary = run_cycle(svc)
    data = summary.to_json()
    if as_json:
        _print_json(data)
    else:
        echo_lines(cycle_lines(data))
    _exit_on_violations(int(data.get("violations") or 0))


@cli.command()
@config_option
@json_option
@verbose_option
def lock(config_path: Path, as_json: bool, verbose: int) -> None:
    """Run the lock job now: protect the cells whose time is over, then read and lock them.

    The daemon runs it every night at [schedule] lock_at; running it by hand is harmless (a journal
    whose open cells did not change is not written). Exit code 3 when violations were found.

    \b
    Example:
        ejournal lock --config config/example/school.toml
    """
    configure_logging(verbose)
    from sync.locking import run_locks

    with _service(config_path) as svc:
        summary = run_locks(svc)
    data = summary.to_json()
    if as_json:
        _print_json(data)
    else:
        echo_lines(lock_lines(data))
    _exit_on_violations(int(data.get("violations") or 0))


@cli.command()
@config_option
@verbose_option
def run(config_path: Path, verbose: int) -> None:
    """Run the daemon: sync every N minutes, lock every night, back up the ledger every day.

    Times come from [schedule] in school.toml (school time). A failing job is logged and retried,
    never fatal. SIGTERM or Ctrl-C stops it cleanly after the job in progress. Logs go to stderr
    (INFO by default; -v is the same, -vv adds DEBUG).

    \b
    Example:
        ejournal run --config /etc/ejournal/school.toml
    """
    configure_logging(verbose, default=logging.INFO)
    from sync.app import Service
    from sync.daemon import run_daemon

    school = _school(config_path)
    stop = threading.Event()
    with _stop_on_signals(stop):
        run_daemon(lambda: Service.open(school), stop=stop)
    click.echo("Stopped.", err=True)


@contextmanager
def _stop_on_signals(stop: threading.Event) -> Iterator[None]:
    """SIGTERM/SIGINT set ``stop`` while the daemon runs; the previous handlers come back after."""

    def handler(signum: int, frame: Any) -> None:
        logging.getLogger(__name__).info("signal %d: stopping after the current job", signum)
        stop.set()

    previous = {sig: signal.signal(sig, handler) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        yield
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


@cli.command()
@config_option
@json_option
@verbose_option
def status(config_path: Path, as_json: bool, verbose: int) -> None:
    """Show the ledger at a glance: spreadsheets, last runs, open findings, violations, audit head.

    Reads the ledger only (no spreadsheet calls).

    \b
    Example:
        ejournal status --config config/example/school.toml
    """
    configure_logging(verbose)
    from sync.backup import list_backups
    from sync.corrections import DEFERRED_STATE
    from sync.daemon import backups_dir
    from sync.store import Ledger
    from sync.store_types import FileKind

    school = _school(config_path)
    with Ledger.open(_ledger_path(school)) as ledger:
        with ledger.snapshot() as tx:
            files = tx.files()
            findings = {f.key: len(tx.findings(f.key)) for f in files if f.kind is FileKind.JOURNAL}
            violations = tx.violations()
            info = Status(
                ledger=str(ledger.path),
                schema=0,
                files=count_files(files),
                runs=[
                    {
                        "kind": r.kind,
                        "started": r.started.astimezone(school.timezone).strftime("%d.%m %H:%M"),
                        "ok": r.ok,
                        "error": r.error,
                    }
                    for r in tx.recent_runs(10)
                ],
                findings_open=sum(findings.values()),
                journals_with_findings=sum(1 for n in findings.values() if n),
                violations=len(violations),
                violations_unreverted=sum(1 for v in violations if v.reverted_at is None),
                corrections_pending=len(tx.corrections(pending=True)),
                corrections_deferred=int(tx.state_get(DEFERRED_STATE) or 0),
                change_token=tx.state_get("changes_token") is not None,
            )
        info.schema = ledger.schema_version()
        info.audit_head = ledger.audit_head()
    info.backups = [b.path.name for b in list_backups(backups_dir(school))]
    if as_json:
        _print_json(info.to_json())
    else:
        echo_lines(info.lines())


@cli.group()
def audit() -> None:
    """The audit log: an append-only SHA-256 hash chain of everything the ledger accepted.

    \b
    Example:
        ejournal audit verify --config config/example/school.toml
    """


@audit.command(name="verify")
@config_option
@verbose_option
def audit_verify(config_path: Path, verbose: int) -> None:
    """Re-walk the whole audit chain; exit code 1 names the first event that does not fit.

    \b
    Example:
        ejournal audit verify --config config/example/school.toml
    """
    configure_logging(verbose)
    from sync.store import Ledger

    school = _school(config_path)
    with Ledger.open(_ledger_path(school)) as ledger:
        report = ledger.audit_verify()
    if not report.ok:
        where = f"event {report.first_bad_id}" if report.first_bad_id is not None else "its end"
        raise StoreError(
            f"audit chain broken at {where}: {report.problem}",
            "restore the newest good backup (`ejournal backup --list`, `ejournal restore PATH`)",
        )
    click.echo(f"Audit chain OK: {report.events} events, head {report.head}")


@cli.command()
@config_option
@click.option("--list", "list_only", is_flag=True, help="List the backups instead of taking one.")
@verbose_option
def backup(config_path: Path, list_only: bool, verbose: int) -> None:
    """Back up the ledger now (online, verified), keeping the newest [schedule] backup_keep.

    Backups go to backups/ beside the ledger; the daemon takes one every day at backup_at.

    \b
    Example:
        ejournal backup --config config/example/school.toml
    """
    configure_logging(verbose)
    from sync.app import wall_clock
    from sync.backup import backup as take_backup
    from sync.backup import list_backups
    from sync.daemon import backups_dir

    school = _school(config_path)
    folder = backups_dir(school)
    if list_only:
        found = list_backups(folder)
        for item in found:
            click.echo(f"{item.path}  {item.size} bytes")
        click.echo(f"{len(found)} backups in {folder}")
        return
    keep = school.schedule.backup_keep
    path = take_backup(_ledger_path(school), folder, wall_clock(school)(), keep=keep)
    click.echo(f"Backup written: {path} (the newest {keep} are kept)")


@cli.command()
@config_option
@click.argument("backup_path", metavar="PATH", type=click.Path(path_type=Path))
@verbose_option
def restore(config_path: Path, backup_path: Path, verbose: int) -> None:
    """Replace the ledger by a verified backup; the current ledger is moved aside, never deleted.

    Stop the daemon first. Afterwards, `ejournal rebuild` re-renders the spreadsheets from the
    restored ledger.

    \b
    Example:
        ejournal restore --config config/example/school.toml var/backups/ledger-20261020T233000Z.sqlite3
    """
    configure_logging(verbose)
    from sync.app import wall_clock
    from sync.backup import restore as do_restore

    school = _school(config_path)
    done = do_restore(backup_path, school.ledger_path, wall_clock(school)())
    click.echo(f"Restored {done.ledger} from {backup_path}")
    if done.previous is not None:
        click.echo(f"The previous ledger is kept as {done.previous}")
    click.echo(f"Audit chain head: {done.head}")
    click.echo("Next: `ejournal rebuild` to re-render the spreadsheets from the restored ledger.")


@cli.command()
@config_option
@json_option
@verbose_option
def rebuild(config_path: Path, as_json: bool, verbose: int) -> None:
    """Re-render every spreadsheet from the ledger: the answer to a deleted or vandalised file.

    \b
    Example:
        ejournal rebuild --config config/example/school.toml
    """
    configure_logging(verbose)
    from sync.repair import rebuild_all

    with _service(config_path) as svc:
        summary = rebuild_all(svc, now=svc.now())
    data = summary.to_json()
    if as_json:
        _print_json(data)
    else:
        echo_lines(generic_lines("Rebuild", data))
    if data.get("failed"):
        raise EjournalError(
            "rebuild is incomplete: some spreadsheets failed",
            "run `ejournal rebuild` again (see `ejournal status` and the log with -v)",
        )


@cli.command()
@click.option(
    "--dir",
    "directory",
    type=click.Path(path_type=Path, file_okay=False),
    required=True,
    help="A new (or empty) folder for the demo school.",
)
@click.option(
    "--days",
    type=click.IntRange(1, 30),
    default=5,
    show_default=True,
    help="School days to simulate.",
)
@verbose_option
def demo(directory: Path, days: int, verbose: int) -> None:
    """Build a demo school in a folder and simulate teachers entering a few school days.

    The example school is copied into DIR with the local backend (spreadsheets in DIR/sheets as
    .xlsx files, the ledger in DIR/var); teachers enter marks (a double mark and a few typos among
    them), absences, topics and homework; sync and the nightly locks run on a simulated clock.
    Open DIR/sheets in LibreOffice or Excel afterwards.

    \b
    Example:
        ejournal demo --dir demo-school
    """
    configure_logging(verbose, default=logging.ERROR)  # the demo tells its own story
    from sync.demo import run_demo

    run_demo(directory, days=days, echo=click.echo)


def _print_error(exc: EjournalError) -> None:
    click.echo(f"Error: {exc.message}", err=True)
    hint = exc.hint
    if hint is None and isinstance(exc, ConfigError):
        hint = "fix every problem listed above, then run `ejournal check` again"
    if hint:
        click.echo(f"Hint: {hint}", err=True)


def main(argv: list[str] | None = None) -> int:
    """Console entry point: run the CLI and map errors to the documented exit codes."""
    try:
        # without standalone mode click returns an Exit's code (e.g. 3, violations) instead
        code = cli.main(args=argv, prog_name="ejournal", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return int(exc.exit_code)
    except click.Abort:
        click.echo("Aborted.", err=True)
        return EXIT_ERROR
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    except EjournalError as exc:
        _print_error(exc)
        return EXIT_ERROR
    return code if isinstance(code, int) and not isinstance(code, bool) else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
