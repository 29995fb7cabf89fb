"""The emulator over loopback HTTP: Google paths plus the ``/_emulator/`` control API.

One ``GoogleEmulator`` behind a lock serves a stdlib ``ThreadingHTTPServer``. Transport faults are
delivered as a closed connection without a response ("timeout"/"timeout_after" can also delay
first). With ``state_file`` the whole emulator is pickled after every non-GET request and on
shutdown, and loaded at start when the file exists.
"""

from __future__ import annotations

import logging
import os
import pickle
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from .core import GoogleEmulator

log = logging.getLogger("tests.emulator.server")


class EmulatorServer(ThreadingHTTPServer):
    """HTTP server owning one emulator; ``port`` 0 picks a free loopback port."""

    daemon_threads = True

    def __init__(self, emu: GoogleEmulator, host: str = "127.0.0.1", port: int = 0,
                 state_file: str | os.PathLike[str] | None = None,
                 timeout_delay: float = 0.0) -> None:
        super().__init__((host, port), _Handler)
        self.emu = emu
        self.state_file = Path(state_file) if state_file else None
        self.timeout_delay = timeout_delay

    @property
    def url(self) -> str:
        host, port = self.server_address[:2]
        return f"http://{host!s}:{port}"

    def save(self) -> None:
        """Write the emulator state atomically (no-op without ``state_file``)."""
        if self.state_file is None:
            return
        # a temp file of its own: a request thread and the shutdown may save at the same time
        tmp = self.state_file.with_name(
            f"{self.state_file.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        with self.emu.lock:  # in order: an older state never replaces a newer one
            tmp.write_bytes(pickle.dumps(self.emu))
            os.replace(tmp, self.state_file)


def load_or_new(state_file: str | os.PathLike[str] | None, **kw: Any) -> GoogleEmulator:
    """The pickled emulator from ``state_file`` if it exists, else a new one."""
    if state_file and Path(state_file).exists():
        emu = pickle.loads(Path(state_file).read_bytes())
        if isinstance(emu, GoogleEmulator):
            return emu
        raise ValueError(f"{state_file} does not hold a GoogleEmulator")
    return GoogleEmulator(**kw)


class _Handler(BaseHTTPRequestHandler):
    server: EmulatorServer
    protocol_version = "HTTP/1.1"

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else None
        with self.server.emu.lock:
            reply = self.server.emu.handle(self.command, self.path, self.headers, body)
        if reply.raise_ is not None:
            if reply.raise_ in ("timeout", "timeout_after") and self.server.timeout_delay:
                time.sleep(self.server.timeout_delay)
            self.close_connection = True
            return
        self.send_response(reply.status)
        for key, value in reply.headers.items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        if reply.body:
            self.wfile.write(reply.body)
        if self.command != "GET" and self.server.state_file is not None:
            self.server.save()

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = _serve

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s %s", self.address_string(), format % args)
