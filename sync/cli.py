"""The ``ejournal`` command line.

Commands are thin: parse options, call one function, print its summary. Exit codes are a contract
(README "Exit codes"): 0 ok; 1 an :class:`~rules.errors.EjournalError` (printed as ``Error: …`` and
``Hint: …``, no traceback); 2 usage; 3 finished but found violations.
"""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path
from typing import Any

import click

from rules.errors import ConfigError, EjournalError

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


@click.group(context_settings=CONTEXT_SETTINGS)
@click.version_option(package_name="ejournal")
def cli() -> None:
    """ejournal: a grade journal and parent diary for Russian schools, kept in spreadsheets.

    Teachers fill in one spreadsheet per class and subject; ejournal validates every entry, locks past
    dates, keeps the master copy in its own ledger, builds read-only diaries for parents and writes
    the reports the deputy director needs.

    \b
    Example:
        ejournal check --config config/example/school.toml
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
        cli.main(args=argv, prog_name="ejournal", standalone_mode=False)
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
    return EXIT_OK


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
