"""The project's gspread HTTP client: timeouts, bounded retries, client-side throttling, logging,
call counters and THE one place where Google's errors become ``rules.errors``.

gspread's ``Worksheet`` insists on ``isinstance(client, HTTPClient)``, so this subclasses it and
overrides ``request`` (every gspread call and every direct call of the backend goes through it).

Per call:

1. classify it: ``sheets_read`` (GET, ``:search``, ``…DataFilter``), ``sheets_write`` (the rest of
   Sheets) or ``drive``; take a token from that kind's bucket, SLEEPING until one is free (reads and
   writes 60/min each by default like Google's per-user quota, Drive separately and generously);
2. send with connect/read timeouts; log one INFO line per attempt (kind, method, short path, status,
   ms, attempt; never a query string or a body, so no cell values);
3. retry, with jittered exponential backoff (``Retry-After`` honoured), only 429, 5xx, Drive 403
   ``userRateLimitExceeded``/``rateLimitExceeded``/``sharingRateLimitExceeded``, connections never
   made, and timeouts/resets of READS. A write that timed out or was reset after it was sent may
   have been applied: it is not retried here but raised as ``TransientError(uncertain=True)``;
4. translate what is left: 403/404 → ``SheetAccessError``, 429 → ``RateLimited``, 5xx/timeouts →
   ``TransientError``, ``storageQuotaExceeded`` → ``BackendError`` with the shared-drive hint,
   400 → :class:`BadRequest` (a ``BackendError`` carrying Google's message).

Retry state lives in the call (a loop, no recursion); the clock, ``sleep`` and the jitter source
are injectable so tests run on a fake clock and assert the sleeps.
"""

from __future__ import annotations

import logging
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import requests
from gspread.http_client import HTTPClient

from rules.errors import BackendError, NotFound, RateLimited, SheetAccessError, TransientError

log = logging.getLogger(__name__)

GOOGLE_HOSTS = ("sheets.googleapis.com", "www.googleapis.com")
KINDS = ("sheets_read", "sheets_write", "drive")
RATE_REASONS = frozenset({"userRateLimitExceeded", "rateLimitExceeded", "sharingRateLimitExceeded"})
STORAGE_HINT = ("service accounts have no Drive storage: set shared_drive_folder_id to a "
                "shared-drive folder")
_ID_IN_PATH = re.compile(r"/(?:v4/spreadsheets|drive/v3/files)/([^/:?]+)")


class BadRequest(BackendError):
    """Google refused the request as invalid (HTTP 400); ``google_message`` is its text."""

    def __init__(self, message: str, google_message: str, hint: str | None = None) -> None:
        super().__init__(message, hint)
        self.google_message = google_message


@dataclass(frozen=True, slots=True)
class HttpPolicy:
    """Timeouts, retry bounds and throttle rates of one client (one principal)."""

    connect_timeout: float = 10.0
    read_timeout: float = 90.0
    retries: int = 5  # retries after the first attempt
    base_delay: float = 1.0  # seconds; attempt n waits base·2^(n-1)·[0.5, 1)
    max_delay: float = 64.0  # cap of one backoff sleep; a longer Retry-After is not waited for
    reads_per_minute: int = 60
    writes_per_minute: int = 60
    drive_per_minute: int = 300  # a few per second (sharing rate limits, platform.md §3.7)
    base_url: str | None = None  # "http://host:port": send Google traffic there (the emulator)

    @classmethod
    def from_settings(cls, settings: Any, base_url: str | None = None) -> HttpPolicy:
        """From ``config.school.BackendSettings`` (retry fields used when the config has them)."""
        extra = {name: getattr(settings, name) for name in ("retries", "base_delay", "max_delay")
                 if getattr(settings, name, None) is not None}
        return cls(reads_per_minute=settings.reads_per_minute,
                   writes_per_minute=settings.writes_per_minute, base_url=base_url, **extra)


class TokenBucket:
    """``per_minute`` tokens, refilled continuously; ``acquire`` sleeps until one is free.

    Robust to a fake ``sleep`` that does not move the clock: after sleeping it takes the token it
    waited for and remembers the time it is owed until.
    """

    def __init__(self, per_minute: int, clock: Callable[[], float],
                 sleep: Callable[[float], None]) -> None:
        if per_minute < 1:
            raise ValueError(f"a rate must be at least 1 per minute, got {per_minute}")
        self.rate = per_minute / 60.0
        self.capacity = float(per_minute)
        self.tokens = float(per_minute)
        self.clock, self.sleep = clock, sleep
        self.stamp = clock()
        self._lock = threading.Lock()

    def acquire(self) -> float:
        """Take one token; returns the seconds slept for it."""
        with self._lock:
            now = self.clock()
            if now > self.stamp:
                self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
                self.stamp = now
            if self.tokens >= 1.0:
                self.tokens -= 1.0
                return 0.0
            wait = (self.stamp - now) + (1.0 - self.tokens) / self.rate
            self.sleep(wait)
            self.stamp, self.tokens = now + wait, 0.0
            return wait


def classify(method: str, url: str) -> str:
    """Quota kind of a call: "sheets_read", "sheets_write" or "drive" (like Google counts)."""
    parts = urlsplit(url)
    if parts.path.startswith(("/drive/", "/upload/drive/")):
        return "drive"
    if method.upper() == "GET" or parts.path.endswith((":search", "DataFilter")):
        return "sheets_read"
    return "sheets_write"


def short_path(url: str) -> str:
    """The path without host, query or A1 range (ranges can hold tab names, never values)."""
    path = urlsplit(url).path
    head, sep, _ = path.partition("/values/")
    return f"{head}{sep}…" if sep else path


def file_id_of(url: str) -> str:
    match = _ID_IN_PATH.search(urlsplit(url).path)
    return match.group(1) if match else "?"


def _error_fields(response: requests.Response) -> tuple[str, str, str]:
    """(message, status, first reason) of a Google error body; tolerant of non-JSON bodies."""
    try:
        err = response.json().get("error", {})
    except ValueError:
        return (response.text[:200] or response.reason or "no message"), "", ""
    if not isinstance(err, dict):
        return str(err)[:200], "", ""
    errors = err.get("errors") or [{}]
    reason = errors[0].get("reason", "") if isinstance(errors[0], dict) else ""
    return str(err.get("message", "")), str(err.get("status", "")), str(reason)


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    try:
        return max(0.0, float(value)) if value is not None else None
    except ValueError:
        return None  # an HTTP date: fall back to our own backoff


def _never_sent(exc: requests.RequestException) -> bool:
    """The connection was never made, so the request cannot have been applied."""
    if isinstance(exc, requests.exceptions.ConnectTimeout):
        return True
    text = repr(exc.args)
    return "NewConnectionError" in text or "Connection refused" in text


def translate(response: requests.Response, url: str, principal: str | None = None
              ) -> BackendError:
    """THE translation of a failed Google response into the project's errors."""
    code = response.status_code
    message, status, reason = _error_fields(response)
    fid = file_id_of(url)
    what = f"HTTP {code} {status or reason}".rstrip()
    if reason == "storageQuotaExceeded":
        return BackendError(f"Drive refused to store file {fid}: {message} ({what})",
                            hint=STORAGE_HINT)
    if code == 429 or reason in RATE_REASONS:
        return RateLimited(f"Google quota still exhausted after retries ({what}): {message}",
                           hint="lower reads_per_minute/writes_per_minute or spread the work")
    if code in (403, 404):
        who = principal or "the service account"
        return (NotFound if code == 404 else SheetAccessError)(
            f"file {fid}: not found or no permission ({what}: {message})",
            hint=f"share the file with {who} as an editor, or add {who} to the shared drive "
                 "as a Content manager; check the file id in the ledger")
    if code >= 500 or code == 408:
        return TransientError(f"Google failed for file {fid} ({what}): {message}",
                              hint="a temporary Google problem; the next cycle retries")
    if code == 401:
        return BackendError(f"Google rejected the credentials ({what}): {message}",
                            hint="check the service-account key or the OAuth token file")
    if code == 400:
        return BadRequest(f"Google refused the request for file {fid}: {message}", message)
    return BackendError(f"Google answered {what} for file {fid}: {message}")


class ProjectHTTPClient(HTTPClient):
    """gspread ``HTTPClient`` with timeouts, bounded retries, throttling, logging and counters."""

    def __init__(self, auth: Any, session: requests.Session | None = None, *,
                 policy: HttpPolicy | None = None, principal: str | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep,
                 rng: random.Random | None = None) -> None:
        super().__init__(auth, session)
        self.policy = policy or HttpPolicy()
        self.principal = principal
        self.timeout = (self.policy.connect_timeout, self.policy.read_timeout)
        self.sleep = sleep
        self.rng = rng or random.Random()
        rates = {"sheets_read": self.policy.reads_per_minute,
                 "sheets_write": self.policy.writes_per_minute,
                 "drive": self.policy.drive_per_minute}
        self.buckets = {kind: TokenBucket(rate, clock, sleep) for kind, rate in rates.items()}
        self.calls: Counter[str] = Counter()  # attempts per kind (what Google counts)
        self.retried = 0
        self.throttled_s = 0.0
        self.backoff_s = 0.0

    def set_timeout(self, timeout: float | tuple[float, float] | None) -> None:
        """Timeouts are never turned off (gspread's None would let a call hang forever)."""
        if timeout is not None:
            self.timeout = timeout

    def stats(self) -> dict[str, float]:
        """Counters for the run summary: calls per kind, retries, seconds slept."""
        out: dict[str, float] = {kind: self.calls[kind] for kind in KINDS}
        out.update(retries=self.retried, throttled_s=round(self.throttled_s, 3),
                   backoff_s=round(self.backoff_s, 3))
        return out

    def _target(self, url: str) -> str:
        base = self.policy.base_url
        if not base:
            return url
        parts = urlsplit(url)
        if parts.hostname not in GOOGLE_HOSTS:
            return url
        new = urlsplit(base)
        return urlunsplit((new.scheme or "http", new.netloc, parts.path, parts.query, ""))

    def _delay(self, attempt: int, retry_after: float | None) -> float | None:
        """Backoff before retry number ``attempt`` (1-based); None = do not wait that long."""
        backoff = min(self.policy.max_delay, self.policy.base_delay * 2.0 ** (attempt - 1))
        jittered = backoff * (0.5 + 0.5 * self.rng.random())
        if retry_after is None:
            return jittered
        return retry_after if retry_after <= self.policy.max_delay else None

    def request(self, method: str, endpoint: str, params: MutableMapping[str, Any] | None = None,
                data: bytes | None = None, json: Mapping[str, Any] | None = None,
                files: Any = None, headers: MutableMapping[str, str] | None = None
                ) -> requests.Response:
        """One API call with throttling, bounded retries and error translation (see module)."""
        kind = classify(method, endpoint)
        url = self._target(endpoint)
        is_read = kind == "sheets_read" or method.upper() == "GET"
        path = short_path(endpoint)
        attempt = 0
        while True:
            attempt += 1
            self.throttled_s += self.buckets[kind].acquire()
            self.calls[kind] += 1
            started = time.perf_counter()
            retry_after: float | None = None
            try:
                response = self.session.request(method=method, url=url, params=params, data=data,
                                                json=json, files=files, headers=headers,
                                                timeout=self.timeout)
            except requests.RequestException as exc:
                self._log(kind, method, path, type(exc).__name__, started, attempt)
                error, retryable = self._transport_error(exc, endpoint, is_read)
            else:
                self._log(kind, method, path, response.status_code, started, attempt)
                if response.ok:
                    return response
                error = translate(response, endpoint, self.principal)
                code, reason = response.status_code, _error_fields(response)[2]
                retryable = (code == 429 or code >= 500
                             or (code == 403 and reason in RATE_REASONS))
                retry_after = _retry_after(response)
            delay = self._delay(attempt, retry_after) if retryable else None
            if delay is None or attempt > self.policy.retries:
                raise error
            log.info("%s %s %s: retry %d in %.2f s", kind, method.upper(), path, attempt, delay)
            self.retried += 1
            self.backoff_s += delay
            self.sleep(delay)

    def _transport_error(self, exc: requests.RequestException, url: str,
                         is_read: bool) -> tuple[BackendError, bool]:
        """(error, retryable) for a call that got no HTTP answer."""
        fid = file_id_of(url)
        if isinstance(exc, (requests.exceptions.InvalidURL, requests.exceptions.InvalidSchema,
                            requests.exceptions.MissingSchema)):
            return BackendError(f"bad request URL for file {fid}: {exc}"), False
        if is_read or _never_sent(exc):
            return TransientError(f"no answer from Google for file {fid}: {type(exc).__name__}",
                                  hint="network or Google trouble; the next cycle retries"), True
        return TransientError(
            f"write to file {fid} failed after it was sent ({type(exc).__name__}); it may or may "
            "not have been applied", hint="re-read the file's state before retrying",
            uncertain=True), False

    def _log(self, kind: str, method: str, path: str, status: int | str, started: float,
             attempt: int) -> None:
        ms = (time.perf_counter() - started) * 1000
        log.info("%s %s %s %s %.0f ms attempt %d", kind, method.upper(), path, status, ms, attempt)


__all__ = ["KINDS", "STORAGE_HINT", "BadRequest", "HttpPolicy", "ProjectHTTPClient", "TokenBucket",
           "classify", "short_path", "translate"]
