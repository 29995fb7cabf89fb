"""``python -m tests.emulator --port PORT [--state FILE]``: serve the emulator on loopback.

Prints ``EMULATOR_LISTENING http://127.0.0.1:PORT`` on stdout once ready (``--port 0`` picks a
free port). SIGTERM/SIGINT stop it cleanly (state saved when ``--state`` is given).
"""

from __future__ import annotations

import argparse
import logging
import signal
import sys
from typing import Any

from .server import EmulatorServer, load_or_new


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.emulator", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--state", default=None, help="pickle file to load and keep updated")
    parser.add_argument("--service-principal", default=None)
    parser.add_argument("--no-quotas", action="store_true")
    parser.add_argument("--timeout-delay", type=float, default=0.0,
                        help="seconds to stall before dropping a 'timeout' fault's connection")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, stream=sys.stderr,
                        format="%(asctime)s %(name)s %(levelname)s %(message)s")
    kw: dict[str, Any] = {"quotas": not args.no_quotas}
    if args.service_principal:
        kw["service_principal"] = args.service_principal
    emu = load_or_new(args.state, **kw)
    server = EmulatorServer(emu, args.host, args.port, args.state, args.timeout_delay)

    def stop(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    print(f"EMULATOR_LISTENING {server.url}", flush=True)
    try:
        server.serve_forever(poll_interval=0.1)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        server.save()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
