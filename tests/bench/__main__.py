"""The benchmark suite: ``python -m tests.bench [--classes 60] [--days 10,150] [--write]``.

Runs ``tests.bench.bench_year`` for each school day of ``--days`` (prepare, then measure, each in
its own process so peak RSS is the measuring process's alone), prints one table with the days
side by side (the issue-13 targets beside them) and, with ``--write``, puts it in
``docs/benchmarks.md`` under its own heading (replaced by the next ``--write``), with the
command that produced it. Each day is measured ``--rounds`` times, the days in turn, so that the
shared machine's drift (±30 % between runs) falls on every day alike: the table gives the median
CPU per changed journal with each round's figure, and its ratio to the first day round by round.
``--reuse`` measures folders a previous run prepared (``--dir``). The other benches run alone:
``python -m tests.bench.bench_ledger``, ``bench_local_backend``, ``bench_reports``,
``bench_diary_delay``, ``bench_diaries``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path
from statistics import median
from typing import Any

DOC = Path(__file__).resolve().parents[2] / "docs" / "benchmarks.md"
HEADING = "## Latest run of `python -m tests.bench` (written by `--write`)"
QUOTA = 60  # Sheets reads (and writes) a minute per user


def run(phase: str, folder: Path, classes: int, day: int, naive: int) -> dict[str, Any]:
    command = [sys.executable, "-m", "tests.bench.bench_year", phase, "--dir", str(folder),
               "--classes", str(classes), "--day", str(day), "--naive", str(naive)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit(f"{phase} day {day} failed:\n{done.stderr[-3000:]}")
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def _minutes(calls: dict[str, Any]) -> str:
    """Quota minutes of a cycle's Sheets calls: through the client's throttle in the order made
    (``bench_year.throttle_minutes``), beside the floor max(reads, writes) / 60."""
    r, w = calls["sheets_read"], calls["sheets_write"]
    return f"{calls['minutes']:.1f} (floor {max(r, w) / QUOTA:.1f}, in sequence {(r + w) / QUOTA:.1f})"


def _served(calls: dict[str, Any], per: int = 0) -> str:
    """The emulator's share of a timed action's CPU (per changed journal when ``per``)."""
    served = calls.get("serving_cpu_s")
    if served is None:
        return "not measured"
    return f"{1000 * served / per:.1f} ms" if per else f"{served:.1f} s"


def _spread(result: dict[str, Any], key: str, unit: str = " ms") -> str:
    """The median of a figure's rounds, each round beside it ("23.1 ms (22.0, 23.1, 25.3)")."""
    values = result.get(key + "_all") if not key.endswith("_ratio") else result.get(key)
    if not values:
        return "not measured"
    digits = 2 if unit == " ×" else 1
    each = ", ".join(f"{v:.{digits}f}" for v in values)
    return f"{median(values):.{digits}f}{unit} ({each})"


def table(results: list[dict[str, Any]]) -> list[str]:
    """The rows: one column per measured day, the target last."""
    def row(label: str, cells: list[str], target: str = "") -> str:
        return f"| {label} | " + " | ".join(cells) + f" | {target} |"

    def calls(c: dict[str, int]) -> str:
        return f"{c['sheets_read']} r + {c['sheets_write']} w + {c['drive']} d"

    first = results[0]
    head = [f"day {r['day_no']} ({r['day']})" for r in results]
    naive = first.get("naive") or {}
    per_journal = naive.get("calls_per_journal", 0.0)
    lines = [
        "| measure | " + " | ".join(head) + " | target |",
        "|---|" + "---|" * (len(results) + 1),
        row("entries in the ledger", [f"{r['entries']:,}" for r in results]),
        row("CPU per changed journal (busy cycle): median of the rounds (each round)",
            [_spread(r, "per_journal_ms") for r in results], "≤ 30 ms"),
        row(f"… ÷ day {first['day_no']}, round by round: median (each round)",
            [_spread(r, "per_journal_ms_ratio", " ×") for r in results], "≤ 1.2 ×"),
        row("… the next round, an hour later", [_spread(r, "per_journal_next_ms") for r in results]),
        row(f"… ÷ day {first['day_no']}, round by round",
            [_spread(r, "per_journal_next_ms_ratio", " ×") for r in results]),
        row("busy cycle: journals changed / CPU",
            [f"{r['changed']} / {r['busy_cpu_s']:.1f} s" for r in results]),
        row("busy cycle: calls", [calls(r["busy_calls"]) for r in results], "k reads"),
        row("busy cycle: quota minutes", [_minutes(r["busy_calls"]) for r in results], "≤ 7"),
        row("… of it the emulator serving (Google's side, in process)",
            [_served(r["busy_calls"], r["changed"]) for r in results]),
        row("lock job that night: CPU", [f"{r['lock_cpu_s']:.1f} s" for r in results], "≤ 20 s"),
        row("… of it the emulator serving", [_served(r["lock_calls"]) for r in results]),
        row("lock job: calls", [calls(r["lock_calls"]) for r in results]),
        row("lock job: journals read / locked unread (unchanged since the ledger took them in)",
            [f"{r.get('lock_read', '?')} / {r.get('lock_unread', '?')}" for r in results]),
        row("catch-up cycle (every file): CPU",
            [f"{r['catch_up_cpu_s']:.1f} s ({r['files']} files)" for r in results]),
        row("catch-up cycle: calls", [calls(r["catch_up_calls"]) for r in results]),
        row("catch-up cycle: quota minutes", [_minutes(r["catch_up_calls"]) for r in results],
            "≤ 14"),
        row("idle cycle: calls", [calls(r["idle_calls"]) for r in results], "0 r + 0 w + 1 d"),
        row("peak RSS: the service above the process with the emulator loaded",
            [f"{r['service_peak_mib'] or 0:.0f} MiB (+ {r['emulator_rss_mib']:.0f})"
             for r in results], "≤ 300 MiB"),
        row("ledger + WAL", [f"{r['ledger_mib']:.0f} + {r['wal_mib']:.0f} MiB" for r in results],
            "WAL ≤ 64 MiB"),
        row("fill / setup CPU (not timed above)",
            [f"{r['fill_cpu_s']:.0f} s / {r['setup_cpu_s']:.0f} s" for r in results]),
    ]
    if per_journal:
        journals = first["journals"]
        lines.append(row(
            "naive gspread peer: calls per cycle (all journals)",
            [f"{per_journal * journals:,.0f} ({per_journal:.0f} per journal, "
             f"{per_journal * journals / QUOTA:.0f} quota min)"] + [""] * (len(results) - 1),
            f"service: {first['changed']} reads for {first['changed']} changed"))
    return lines


def write_doc(lines: list[str], command: str, results: list[dict[str, Any]]) -> None:
    first = results[0]
    text = DOC.read_text(encoding="utf-8")
    section = "\n".join([
        HEADING, "",
        f"`{command}` — measured {datetime.now(UTC):%Y-%m-%d %H:%M} UTC on the shared "
        f"2-core machine: {first['classes']} classes × 25 pupils, {first['journals']} journals, "
        "the Google emulator in process, diaries off, CPU seconds of the measuring process "
        "(see `tests/bench/bench_year.py`).", "", *lines, ""])
    if HEADING in text:
        before, _, after = text.partition(HEADING)
        rest = after.split("\n## ", 1)
        text = before + section + ("\n## " + rest[1] if len(rest) > 1 else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    DOC.write_text(text, encoding="utf-8")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--classes", type=int, default=60, help="classes of 25 pupils")
    parser.add_argument("--days", default="10,150", help="school days of the year, comma-separated")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/ejournal-bench"))
    parser.add_argument("--reuse", action="store_true", help="measure the prepared folders again")
    parser.add_argument("--naive", type=int, default=60, help="journals the naive peer reads")
    parser.add_argument("--write", action="store_true", help="write the table to the docs")
    parser.add_argument("--rounds", type=int, default=3,
                        help="measures of each day, taken in turn (day 10, day 150, day 10, …)")
    args = parser.parse_args()
    days = [int(d) for d in args.days.split(",")]
    prepared: dict[int, dict[str, Any]] = {}
    for day in days:
        folder = args.dir / f"c{args.classes}-d{day}"
        path = folder / "prepared.json"
        if not (args.reuse and path.is_file()):
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(json.dumps(run("prepare", folder, args.classes, day, 0)))
        prepared[day] = json.loads(path.read_text())
    rounds: dict[int, list[dict[str, Any]]] = {day: [] for day in days}
    for i in range(args.rounds):  # in turn, so that the machine's drift falls on every day alike
        for n, day in enumerate(days):
            naive = args.naive if i == n == 0 else 0
            result = run("measure", args.dir / f"c{args.classes}-d{day}", args.classes, day, naive)
            rounds[day].append({**prepared[day], **result})
            print(f"day {day}: round {i + 1} measured", file=sys.stderr, flush=True)
    results = [summarized(rounds[day], rounds[days[0]]) for day in days]
    lines = table(results)
    print("\n".join(lines))
    if args.write:
        write_doc(lines, "python -m tests.bench " + " ".join(sys.argv[1:]), results)


def summarized(runs: list[dict[str, Any]], first_day: list[dict[str, Any]]) -> dict[str, Any]:
    """One day's rounds as one result: the round with the median CPU per changed journal, with
    every round's per-journal figures and their ratios to the first day's, round by round."""
    ordered = sorted(runs, key=lambda r: r["per_journal_ms"])
    out = dict(ordered[(len(ordered) - 1) // 2])
    for key in ("per_journal_ms", "per_journal_next_ms"):
        out[key + "_all"] = [r[key] for r in runs]
        out[key + "_ratio"] = [r[key] / f[key] for r, f in zip(runs, first_day, strict=True)]
        out[key] = median(out[key + "_all"])
    return out


if __name__ == "__main__":
    main()
