"""Shared pieces of the CLI: exit codes, the reusable ``--config``/``-v``/``--json`` options and
how a command finds its school, service and ledger (so ``sync.cli.main`` and ``sync.cli.ledger`` agree)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from rules.errors import StoreError
from sync.cli.show import set_log_zone

if TYPE_CHECKING:
    from config.school import School
    from sync.jobs.service import Service

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_VIOLATIONS = 3
EXIT_FILES_FAILED = 4
EXIT_BUSY = 75  # sysexits.h EX_TEMPFAIL: another process holds the ledger; try again later
LOCK_WAIT_SECONDS = 5.0  # how long a command waits for another process's ledger lock

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


def school_from(config_path: Path) -> School:
    """The school's configuration (a ConfigError lists every problem)."""
    from config import load_school

    school = load_school(config_path)
    set_log_zone(school.timezone)  # the log's times in school time from here on
    return school


@contextmanager
def service_for(config_path: Path) -> Iterator[Service]:
    """The school's service (backend and ledger) for one command, closed afterwards; the ledger
    is this process's alone meanwhile (``LedgerBusy`` → exit code 75 after LOCK_WAIT_SECONDS)."""
    from sync.jobs.service import Service

    with Service.open(school_from(config_path), lock_wait=LOCK_WAIT_SECONDS) as svc:
        yield svc


def ledger_path_of(school: School) -> Path:
    if not school.ledger_path.is_file():
        raise StoreError(
            f"no ledger at {school.ledger_path}",
            "run `ejournal setup` first (or check [ledger] path in school.toml)",
        )
    return school.ledger_path


def print_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def exit_on_violations(violations: int) -> None:
    """Exit code 3: the job finished but found what it reports as violations (``acl``: sharing
    that differs from the wanted access)."""
    if violations:
        raise click.exceptions.Exit(EXIT_VIOLATIONS)


REANCHOR_HINT = ("find out who removed the anchor file; if it was only lost, compare the ledger with"
                 " a backup, then anchor its head anew with `ejournal audit verify --reanchor`")


def exit_on_anchor(problem: str | None) -> None:
    """Exit code 3 when the audit anchor is gone after the ledger wrote it, or does not match
    (the run did its work; a lost anchor is never re-made, ``sync.ledger.anchor``)."""
    if problem:
        click.echo(f"Problem: {problem}", err=True)
        click.echo(f"Hint: {REANCHOR_HINT}", err=True)
        raise click.exceptions.Exit(EXIT_VIOLATIONS)


def exit_for_run(data: dict[str, Any]) -> None:
    """A finished ``sync`` or ``lock`` run's exit code: 3 when it found violations (tampering with
    locked cells, reverted and audited); else 4 when some files failed or a step of the run failed
    as a whole (the change list, the manifest: ``errors``) or a registered file was gone or
    damaged and re-created from the ledger (what was typed in it since the last read is lost, or
    only in the kept copy) — for ``lock``
    also busy files, whose
    protection is then pending (the next sync cycles retry them); else 0."""
    if int(data.get("violations") or 0):
        raise click.exceptions.Exit(EXIT_VIOLATIONS)
    if data.get("failed") or data.get("errors") or data.get("set_aside") or data.get("rebuilt") or (
        data.get("kind") == "lock" and data.get("skipped_busy")
    ):
        raise click.exceptions.Exit(EXIT_FILES_FAILED)


def exit_files_failed(message: str, hint: str) -> None:
    """Exit code 4 for a job that finished but left some files failed (``setup``, ``rebuild``):
    an ``Error:`` and a ``Hint:`` line, as for any error, with the code that says "run it again"."""
    click.echo(f"Error: {message}", err=True)
    click.echo(f"Hint: {hint}", err=True)
    raise click.exceptions.Exit(EXIT_FILES_FAILED)
