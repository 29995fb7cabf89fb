"""``python -m tests.sim [--days N] [--backend emulator|local] [--seed S] [--faults/--no-faults]``:
the year simulation (``--days 0``: every school day of the year); prints its table, exit code 1
when an invariant failed."""

from __future__ import annotations

import argparse
import logging
import sys

from tests.sim.run import InvariantBroken, simulate


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.sim", description=__doc__)
    parser.add_argument("--days", type=int, default=20, help="school days (0: the whole year)")
    parser.add_argument("--backend", choices=("emulator", "local"), default="emulator")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--faults", action=argparse.BooleanOptionalAction, default=True)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.ERROR)
    command = " ".join(["python -m tests.sim", *(argv if argv is not None else sys.argv[1:])])
    print(command)
    try:
        figures = simulate(args.days, backend=args.backend, seed=args.seed, faults=args.faults)
    except InvariantBroken as exc:
        print(f"INVARIANT BROKEN:\n{exc}")
        return 1
    print(figures.table())
    return 1 if figures.violations else 0


if __name__ == "__main__":
    sys.exit(main())
