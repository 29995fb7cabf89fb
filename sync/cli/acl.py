"""``ejournal acl check|fix``: who can open which spreadsheet, listed from Drive and compared with
what the configuration and the class pages say (``sync.jobs.acl``); registered on the
``ejournal`` group by ``sync.cli.main``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from sync.cli.names import file_names, label_names
from sync.cli.options import (
    config_option,
    exit_on_violations,
    json_option,
    print_json,
    service_for,
    verbose_option,
)
from sync.cli.show import configure_logging, echo_lines


@click.group()
def acl() -> None:
    """Check or repair who can open which spreadsheet (sharing listed from Drive).

    \b
    Example:
        ejournal acl check --config demo-school/school.toml
    """


@acl.command()
@config_option
@json_option
@verbose_option
def check(config_path: Path, as_json: bool, verbose: int) -> None:
    """List every spreadsheet's sharing from Drive and report what differs from the wanted
    access (link shares, a pupil on a journal, a parent on another child's diary, a missing
    grant). Changes nothing. Exit code 3 when anything differs.

    \b
    Example:
        ejournal acl check --config demo-school/school.toml
    """
    _run(config_path, as_json, verbose, fix=False)


@acl.command()
@config_option
@json_option
@verbose_option
def fix(config_path: Path, as_json: bool, verbose: int) -> None:
    """Like ``check``, then repair: remove what nobody should have, grant what is missing; every
    repair is audited. The daemon runs it every day at [schedule] acl_at. Exit code 3 when
    something could not be repaired (a refused revoke, a parent among the shared drive's members).

    \b
    Example:
        ejournal acl fix --config demo-school/school.toml
    """
    _run(config_path, as_json, verbose, fix=True)


def _run(config_path: Path, as_json: bool, verbose: int, *, fix: bool) -> None:
    configure_logging(verbose)
    from sync.jobs.acl import run_acl

    with service_for(config_path) as svc:
        report = run_acl(svc, svc.now(), fix=fix)
        data = _named(report.to_json(), label_names(svc), file_names(svc))
    if as_json:
        print_json(data)
    else:
        echo_lines(_lines(data, fix))
    exit_on_violations(int(data["left"]) + len(data["unlisted"]))


def _named(data: dict[str, Any], labels: dict[str, str], names: dict[str, str]) -> dict[str, Any]:
    """Each file named as a person knows it (``sync.cli.names``): ``drift`` and ``failed`` items'
    ``name`` (their ``file`` id kept), and a ``name`` beside each ``unlisted`` item's ``file``."""
    return {**data,
            "drift": [{**d, "name": labels.get(d["name"], d["name"])} for d in data["drift"]],
            "failed": [{**f, "name": labels.get(f["name"], f["name"])} for f in data["failed"]],
            "unlisted": [{**f, "name": names.get(f["file"], f["file"])} for f in data["unlisted"]]}


def _lines(data: dict[str, Any], fix: bool) -> list[str]:
    out = [f"Files checked: {data['files']}; differences: {len(data['drift'])}"
           + (f"; repaired: {data['repaired']}" if fix else "")]
    for d in data["drift"]:
        out.append(f"  {d['what']:<12} {d['name']}: {d['who']} ({d['kind']}) "
                   f"has {d['observed'] or '-'}, should have {d['desired'] or '-'}")
    for f in data["failed"]:
        out.append(f"  FAILED {f['name']} {f['who']}: {f['error']} (the next run retries)")
    for f in data["unlisted"]:
        out.append(f"  NOT LISTED {f['name']} (file {f['file']}): {f['error']}")
    return out
