"""``ejournal report KIND``: build a report on demand from the ledger, print where it is."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from rules.errors import EjournalError
from sync.cli.options import (
    config_option,
    json_option,
    ledger_path_of,
    print_json,
    school_from,
    verbose_option,
)
from sync.cli.show import configure_logging

KINDS = ("weekly", "monthly", "results", "attendance", "control", "curriculum", "archive",
         "statement", "all")
DAY = click.DateTime(formats=["%Y-%m-%d", "%d.%m.%Y"])


@click.command()
@click.argument("kind", type=click.Choice(KINDS))
@click.option("--period", help="Period name, e.g. «1 четверть», or «год» (default: the year).")
@click.option("--week", type=DAY, help="weekly: a day of the week (default: last week).")
@click.option("--month", type=DAY, help="monthly: a day of the month (default: last month).")
@click.option("--pupil", help="statement: the pupil id (column «Код» of the class list).")
@click.option("--no-deliver", "no_deliver", is_flag=True,
              help="Only build: do not upload or e-mail it even if [reports] says so, nor write "
                   "the teachers' board (the daemon writes it then).")
@config_option
@json_option
@verbose_option
def report(kind: str, period: str | None, week: datetime | None, month: datetime | None,
           pupil: str | None, no_deliver: bool, config_path: Path, as_json: bool,
           verbose: int) -> None:
    """Build a report from the ledger into the reports folder beside it and print where it is.

    KIND: weekly (analysis of journal keeping; when it is the newest week, records its remarks
    and writes it to the teachers' board «Анализ ведения журналов», read only for every teacher),
    monthly (teachers' work with the journals), results (period or year results with charts),
    attendance, control (control works), curriculum (КТП fulfilment), archive (print-outs per
    class), statement (one pupil, --pupil), all (every report of --period). Then delivers it as
    [reports] configures (a Drive folder shared with the deputies, e-mail); a failed delivery
    stays queued (the daemon retries it) and makes the exit code 1.

    \b
    Example:
        ejournal report results --period "1 четверть" --config demo-school/school.toml
    """
    configure_logging(verbose)
    from sync.jobs import delivery
    from sync.jobs.report_schedule import build_period_set
    from sync.jobs.reports import build_report
    from sync.jobs.service import make_backend, wall_clock
    from sync.ledger.ledger import Ledger

    school = school_from(config_path)
    now = wall_clock(school)()
    outcome = board = None
    with Ledger.open(ledger_path_of(school)) as ledger:
        if kind == "all":
            built = build_period_set(school, ledger, now, period)
        else:
            built = [build_report(school, ledger, now, kind, period=period,
                                  week=week.date() if week else None,
                                  month=month.date() if month else None, pupil=pupil)]
        if any(b.board for b in built):  # the newest weekly analysis: the teachers' board
            board = _publish_board(school, ledger, built, now, no_deliver)
        if not no_deliver and delivery.channels(school):
            for b in built:
                delivery.queue(school, ledger, b.paths, b.kind, now)
            backend = make_backend(school) if "drive" in delivery.channels(school) else None
            try:
                outcome = delivery.deliver_pending(school, ledger, backend, now)
            finally:
                _close(backend)
    lines = outcome.lines() if outcome else []
    if as_json:
        print_json({"reports": [{"kind": b.kind, "span": b.span,
                                 "files": [str(p) for p in b.paths], **b.counts} for b in built],
                    "deliveries": lines, "board": board.to_json() if board else None})
    else:
        for b in built:
            click.echo(f"{b.kind}: {b.span}")
            for path in b.paths:
                click.echo(f"  {path}")
        for line in [*lines, *([board.line()] if board else [])]:
            click.echo(line)
    if board is not None and board.failed:
        raise EjournalError(
            "the teachers' board «Анализ ведения журналов» was not written",
            "the workbook is built (see above); the daemon writes the board at its next reports "
            "run, or run this command again")
    if outcome and (outcome.retrying or outcome.failed):
        raise EjournalError(
            f"{len(outcome.retrying) + len(outcome.failed)} report deliveries failed",
            "the workbooks are built (see above); the daemon retries the deliveries — check "
            "[reports] and `ejournal run`'s log")


def _publish_board(school: Any, ledger: Any, built: list[Any], now: datetime,
                   no_deliver: bool) -> Any:
    """Write the teachers' board (``sync.jobs.board``); with ``--no-deliver``, or when the
    backend cannot be opened, leave it pending for the daemon."""
    from sync.jobs.board import BoardOutcome, mark_pending
    from sync.jobs.report_schedule import publish_built
    from sync.jobs.service import Service, make_backend

    if no_deliver:
        mark_pending(ledger, now, "built with --no-deliver")
        return None
    try:
        backend = make_backend(school)
    except EjournalError as exc:
        mark_pending(ledger, now, str(exc))
        return BoardOutcome("failed", error=str(exc))
    try:
        return publish_built(Service(school, backend, ledger, lambda: now), built, now)
    finally:
        _close(backend)


def _close(backend: object) -> None:
    close = getattr(backend, "close", None)
    if callable(close):
        close()
