"""requests transport adapters: serve Google URLs from an in-process emulator, or redirect them.

``EmulatorAdapter(emu)`` answers every request it is mounted for from ``emu.handle`` and builds a
real ``requests.Response``; scripted transport faults become ``ReadTimeout``/``ConnectTimeout``/
``ConnectionError``. ``RedirectAdapter(base)`` rewrites Google hosts to ``base`` (e.g. the loopback
server, as ``EJOURNAL_GOOGLE_EMULATOR_HOST`` will) and sends over real HTTP.
"""

from __future__ import annotations

import io
from datetime import timedelta
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from requests.adapters import BaseAdapter, HTTPAdapter
from requests.structures import CaseInsensitiveDict

from .core import GoogleEmulator

GOOGLE_HOSTS = ("sheets.googleapis.com", "www.googleapis.com")
_REASONS = {200: "OK", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
            403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed",
            429: "Too Many Requests", 500: "Internal Server Error", 503: "Service Unavailable"}


class EmulatorAdapter(BaseAdapter):
    """Serve requests from ``emu`` in process (thread-safe through ``emu.lock``)."""

    def __init__(self, emu: GoogleEmulator) -> None:
        super().__init__()
        self.emu = emu

    def send(self, request: requests.PreparedRequest, stream: bool = False,
             timeout: Any = None, verify: Any = True, cert: Any = None,
             proxies: Any = None) -> requests.Response:
        with self.emu.lock:
            body = request.body if isinstance(request.body, (bytes, str)) else None
            reply = self.emu.handle(request.method or "GET", request.url or "", request.headers,
                                    body)
        if reply.raise_ == "connect_timeout":
            raise requests.exceptions.ConnectTimeout("emulator: connect timed out",
                                                     request=request)
        if reply.raise_ == "timeout":
            raise requests.exceptions.ReadTimeout("emulator: read timed out", request=request)
        if reply.raise_ == "reset":
            raise requests.exceptions.ConnectionError(
                ConnectionResetError(104, "Connection reset by peer"), request=request)
        resp = requests.Response()
        resp.status_code = reply.status
        resp.reason = _REASONS.get(reply.status, "")
        resp.headers = CaseInsensitiveDict(reply.headers)
        resp._content = reply.body
        resp.raw = io.BytesIO(reply.body)
        resp.encoding = "utf-8"
        resp.url = request.url or ""
        resp.request = request
        resp.connection = self  # type: ignore[assignment]
        resp.elapsed = timedelta(0)
        return resp

    def close(self) -> None:
        """Nothing to release: no sockets."""


class RedirectAdapter(HTTPAdapter):
    """Send Google-host requests to ``base`` (``http://127.0.0.1:PORT``) instead."""

    def __init__(self, base: str, **kw: Any) -> None:
        super().__init__(**kw)
        parts = urlsplit(base)
        self.scheme, self.netloc = parts.scheme or "http", parts.netloc

    def send(self, request: requests.PreparedRequest, *args: Any, **kw: Any
             ) -> requests.Response:
        parts = urlsplit(request.url or "")
        if parts.hostname in GOOGLE_HOSTS:
            request.url = urlunsplit((self.scheme, self.netloc, parts.path, parts.query, ""))
        return super().send(request, *args, **kw)


def gspread_client(emu: GoogleEmulator, principal: str, *, http_client: Any = None,
                   adapter: BaseAdapter | None = None) -> Any:
    """A real ``gspread.Client`` authenticated as ``principal`` (non-refreshing token)."""
    import gspread
    from google.oauth2.credentials import Credentials

    kw: dict[str, Any] = {}
    if http_client is not None:
        kw["http_client"] = http_client
    gc = gspread.Client(auth=Credentials(token=principal), **kw)  # type: ignore[no-untyped-call]
    adapter = adapter or EmulatorAdapter(emu)
    gc.http_client.session.mount("https://", adapter)
    gc.http_client.session.mount("http://", adapter)
    return gc
