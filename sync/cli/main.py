"""The ``ejournal`` command line.

Commands are thin: parse options, call one function, print its summary. Exit codes are a contract
(README "Exit codes"): 0 ok; 1 an :class:`~rules.errors.EjournalError` (printed as ``Error: …`` and
``Hint: …``, no traceback); 2 usage; 3 finished but found violations; 4 finished with some files
failed (retried by the next run); 75 another process holds the
ledger (:class:`~rules.errors.LedgerBusy`, after waiting ``LOCK_WAIT_SECONDS``).
"""

from __future__ import annotations

import logging
import signal
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from rules.errors import ConfigError, EjournalError, LedgerBusy
from sync.cli.acl import acl
from sync.cli.ledger import audit, backup, restore, status
from sync.cli.names import file_names, label_names, with_label_names, with_names
from sync.cli.options import (
    CONTEXT_SETTINGS,
    EXIT_BUSY,
    EXIT_ERROR,
    EXIT_OK,
    LOCK_WAIT_SECONDS,
    config_option,
    exit_files_failed,
    exit_for_run,
    exit_on_anchor,
    json_option,
    print_json,
    school_from,
    service_for,
    verbose_option,
)
from sync.cli.oserrors import os_error_lines
from sync.cli.reports import report
from sync.cli.show import (
    configure_logging,
    cycle_lines,
    echo_lines,
    journal_start_hint,
    lock_lines,
    rebuild_lines,
    setup_lines,
)
from sync.jobs.signatures import place_problem


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="ejournal")
@verbose_option
def cli(verbose: int) -> None:
    """ejournal: a grade journal and parent diary for Russian schools, kept in spreadsheets.

    -v (INFO) or -vv (DEBUG) before the command counts as after it.

    Teachers fill in one spreadsheet per class and subject; ejournal validates every entry, locks past
    dates, keeps the master copy in its own ledger, builds read-only diaries for parents and writes
    the reports the deputy director needs.

    \b
    Example:
        ejournal demo --dir demo-school
    """


@cli.command()
@config_option
@verbose_option
def check(config_path: Path, verbose: int) -> None:
    """Check the school's configuration and print a short summary.

    Every problem in school.toml and the CSV files is listed at once, with its file and line or
    field. Exit code 0 when the configuration is valid, 1 otherwise.

    \b
    Example:
        ejournal check --config config/example/school.toml
    """
    configure_logging(verbose)
    school = school_from(config_path)
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
    click.echo(f"Ledger: {school.ledger_path} · audit anchor: {school.anchor_path}")
    click.echo(f"Config version: {school.config_version}")
    for warning in school.warnings:
        click.echo(f"Warning: {warning}")
    if place_problem(school):
        click.echo("Warning: school.toml: field backend.private_folder: not set, so the admin "
                   "workbook («Исправления») lives in the teachers' folder, where anyone who "
                   "keeps a journal could sign a row: no correction is applied")
        click.echo('Hint: set private_folder = "var/private" under [backend] (a folder only the '
                   "deputies and the service's user may write; see the README's Locks section) "
                   "and move the admin workbook there")
    click.echo("OK: configuration is valid.")


@cli.command()
@config_option
@verbose_option
def setup(config_path: Path, verbose: int) -> None:
    """Create (or repair) every spreadsheet of the school: journals, class sheets, the admin sheet.

    Resumable: files already created are skipped, so after a crash or an exhausted quota just run
    it again. A progress bar shows the files done and the time left at the quota's pace. Exit code
    4 when some files could not be created (run it again).

    \b
    Example:
        ejournal setup --config demo-school/school.toml
    """
    configure_logging(verbose)
    from sync.jobs.setup import run_setup

    with service_for(config_path) as svc, _setup_progress() as progress:
        names = file_names(svc)
        summary = run_setup(svc, progress=progress)
        data = with_label_names(summary.to_json(), label_names(svc), {**names, **file_names(svc)})
    echo_lines(setup_lines(data))
    if not data.get("complete", True):
        exit_files_failed(
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
    (violations: reverted and audited), 4 when some files failed (retried by the next cycle).

    \b
    Example:
        ejournal sync --config demo-school/school.toml --json
    """
    configure_logging(verbose)
    from sync.jobs.cycle import run_cycle

    with service_for(config_path) as svc:
        names = file_names(svc)  # before: a file re-created gets a new id
        summary = run_cycle(svc)
        data = with_names(summary.to_json(), {**names, **file_names(svc)})
        hint = journal_start_hint(data, svc.school.year)
        lost = svc.ledger.anchor_lost
    if as_json:
        print_json({**data, "hint": hint})
    else:
        echo_lines(cycle_lines(data) + ([f"Hint: {hint}"] if hint else []))
    exit_on_anchor(lost)
    exit_for_run(data)


@cli.command()
@config_option
@json_option
@verbose_option
def lock(config_path: Path, as_json: bool, verbose: int) -> None:
    """Run the lock job now: lock in the ledger what closed, then protect the cells whose time is over.

    The daemon runs it every night at [schedule] lock_at; running it by hand is harmless (a journal
    whose open cells did not change is not written). Exit code 3 when violations were found, 4
    when some files failed or were busy (their lock is pending: every sync cycle retries it).

    \b
    Example:
        ejournal lock --config demo-school/school.toml
    """
    configure_logging(verbose)
    from sync.jobs.locking import run_locks

    with service_for(config_path) as svc:
        summary = run_locks(svc)
        data = with_names(summary.to_json(), file_names(svc))
        lost = svc.ledger.anchor_lost
    if as_json:
        print_json(data)
    else:
        echo_lines(lock_lines(data))
    exit_on_anchor(lost)
    exit_for_run(data)


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
    from sync.jobs.daemon import run_daemon
    from sync.jobs.service import Service

    school = school_from(config_path)
    stop = threading.Event()
    with _stop_on_signals(stop):
        run_daemon(lambda: Service.open(school, lock_wait=LOCK_WAIT_SECONDS), stop=stop)
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
def rebuild(config_path: Path, as_json: bool, verbose: int) -> None:
    """Re-render every spreadsheet from the ledger: the answer to a deleted or vandalised file.

    Exit code 4 when some spreadsheets failed (run it again).

    \b
    Example:
        ejournal rebuild --config demo-school/school.toml
    """
    configure_logging(verbose)
    from sync.jobs.repair import rebuild_all

    with service_for(config_path) as svc:
        names = file_names(svc)  # before: a file rebuilt gets a new id
        summary = rebuild_all(svc, now=svc.now())
        data = with_label_names(summary.to_json(), label_names(svc), {**names, **file_names(svc)})
    if as_json:
        print_json(data)
    else:
        echo_lines(rebuild_lines(data))
    if data.get("failed"):
        exit_files_failed(
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
    from sync.demo.run import run_demo

    run_demo(directory, days=days, echo=click.echo)


for _command in (status, audit, backup, restore, report, acl):
    cli.add_command(_command)


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
    except LedgerBusy as exc:
        _print_error(exc)
        return EXIT_BUSY
    except EjournalError as exc:
        _print_error(exc)
        return EXIT_ERROR
    except OSError as exc:  # shutil.Error too: a bad path, a read-only place, a full disk
        message, hint = os_error_lines(exc)
        logging.getLogger(__name__).debug("operating-system error", exc_info=True)
        click.echo(f"Error: {message}", err=True)
        click.echo(f"Hint: {hint}", err=True)
        return EXIT_ERROR
    return code if isinstance(code, int) and not isinstance(code, bool) else EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
