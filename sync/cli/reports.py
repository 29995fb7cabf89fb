"""``ejournal report KIND``: build a report on demand from the ledger, print where it is."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

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
@config_option
@json_option
@verbose_option
def report(kind: str, period: str | None, week: datetime | None, month: datetime | None,
           pupil: str | None, config_path: Path, as_json: bool, verbose: int) -> None:
    """Build a report from the ledger into the reports folder beside it and print where it is.

    KIND: weekly (analysis of journal keeping; records its remarks when it is the newest week),
    monthly (teachers' work with the journals), results (period or year results with charts),
    attendance, control (control works), curriculum (КТП fulfilment), archive (print-outs per
    class), statement (one pupil, --pupil), all (every report of --period). Reads the ledger only.

    \b
    Example:
        ejournal report results --period "1 четверть" --config config/example/school.toml
    """
    configure_logging(verbose)
    from sync.jobs.report_schedule import build_period_set
    from sync.jobs.reports import build_report
    from sync.jobs.service import wall_clock
    from sync.ledger.ledger import Ledger

    school = school_from(config_path)
    now = wall_clock(school)()
    with Ledger.open(ledger_path_of(school)) as ledger:
        if kind == "all":
            built = build_period_set(school, ledger, now, period)
        else:
            built = [build_report(school, ledger, now, kind, period=period,
                                  week=week.date() if week else None,
                                  month=month.date() if month else None, pupil=pupil)]
    if as_json:
        print_json([{"kind": b.kind, "span": b.span, "files": [str(p) for p in b.paths],
                     **b.counts} for b in built])
        return
    for b in built:
        click.echo(f"{b.kind}: {b.span}")
        for path in b.paths:
            click.echo(f"  {path}")
