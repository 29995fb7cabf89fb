"""Per-minute token buckets (Sheets/Drive quotas) and scripted faults, both on the emulator clock.

Quotas follow https://developers.google.com/sheets/api/limits (platform.md §3.1): per principal
60 reads + 60 writes per minute, per project 300 + 300; a batch counts as one request. Buckets
refill continuously (capacity per 60 s) so "after a minute the call succeeds" holds exactly.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .errors import GoogleError
from .models import Clock

PROJECT_NUMBER = "123456789012"

_METRIC = {"sheets_read": ("Read requests", "read_requests", "ReadRequests"),
           "sheets_write": ("Write requests", "write_requests", "WriteRequests")}


def sheets_quota_error(kind: str, per_user: bool, limit: int) -> GoogleError:
    """Google's 429 RESOURCE_EXHAUSTED body for an exhausted Sheets bucket."""
    label, metric, limit_name = _METRIC[kind]
    scope = "per minute per user" if per_user else "per minute"
    limit_id = f"{limit_name}PerMinute{'PerUser' if per_user else ''}PerProject"
    message = (f"Quota exceeded for quota metric '{label}' and limit '{label} {scope}' of service "
               f"'sheets.googleapis.com' for consumer 'project_number:{PROJECT_NUMBER}'.")
    details: list[dict[str, Any]] = [{
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "RATE_LIMIT_EXCEEDED",
        "domain": "googleapis.com",
        "metadata": {
            "quota_metric": f"sheets.googleapis.com/{metric}",
            "quota_limit": limit_id,
            "quota_limit_value": str(limit),
            "consumer": f"projects/{PROJECT_NUMBER}",
            "service": "sheets.googleapis.com",
            "quota_location": "global",
        },
    }, {
        "@type": "type.googleapis.com/google.rpc.Help",
        "links": [{"description": "Request a higher quota limit.",
                   "url": "https://cloud.google.com/docs/quotas/help/request_increase"}],
    }]
    return GoogleError(429, message, "RESOURCE_EXHAUSTED", details=details)


def drive_rate_limit_error(per_user: bool = True) -> GoogleError:
    """Drive v3 403 usageLimits error (userRateLimitExceeded / rateLimitExceeded)."""
    if per_user:
        msg = ("User rate limit exceeded. Rate of requests for user exceed configured project"
               " quota. You may consider re-evaluating expected per-user traffic to the API and"
               " adjust project quota limits accordingly.")
        return GoogleError(403, msg, reason="userRateLimitExceeded", domain="usageLimits")
    return GoogleError(403, "Rate Limit Exceeded", reason="rateLimitExceeded",
                       domain="usageLimits")


def storage_quota_error() -> GoogleError:
    """Drive 403 storageQuotaExceeded, as service accounts get in My Drive (platform.md §3.3)."""
    return GoogleError(
        403,
        "Service Accounts do not have storage quota. Leverage shared drives "
        "(https://developers.google.com/workspace/drive/api/guides/about-shareddrives), or use "
        "OAuth delegation (http://support.google.com/a/answer/7281227) instead.",
        reason="storageQuotaExceeded", domain="usageLimits",
    )


class TokenBucket:
    """``capacity`` tokens per 60 s, refilled continuously on the emulator clock."""

    __slots__ = ("capacity", "clock", "stamp", "tokens")

    def __init__(self, capacity: int, clock: Clock) -> None:
        self.capacity = capacity
        self.clock = clock
        self.tokens = float(capacity)
        self.stamp = clock.now()

    def _refill(self) -> None:
        now = self.clock.now()
        elapsed = (now - self.stamp).total_seconds()
        if elapsed > 0:
            self.tokens = min(float(self.capacity), self.tokens + elapsed * self.capacity / 60.0)
        self.stamp = now

    def available(self) -> bool:
        self._refill()
        return self.tokens >= 1.0

    def take(self) -> None:
        self.tokens -= 1.0


@dataclass
class Quotas:
    """All buckets; ``check(kind, principal)`` raises the Google error or consumes one token."""

    clock: Clock
    per_user: int = 60
    per_project: int = 300
    drive_per_user: int = 12000
    enabled: bool = True
    _buckets: dict[tuple[str, str], TokenBucket] = field(default_factory=dict)

    def _bucket(self, kind: str, who: str, capacity: int) -> TokenBucket:
        key = (kind, who)
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(capacity, self.clock)
        return bucket

    def check(self, kind: str, principal: str) -> None:
        if not self.enabled:
            return
        if kind == "drive":
            user = self._bucket(kind, principal, self.drive_per_user)
            if not user.available():
                raise drive_rate_limit_error(per_user=True)
            user.take()
            return
        user = self._bucket(kind, principal, self.per_user)
        project = self._bucket(kind, "", self.per_project)
        if not user.available():
            raise sheets_quota_error(kind, True, self.per_user)
        if not project.available():
            raise sheets_quota_error(kind, False, self.per_project)
        user.take()
        project.take()

    def reset(self) -> None:
        self._buckets.clear()


#: Fault kinds; the error ones answer without applying the request.
FAULT_KINDS = ("429", "500", "503", "timeout", "timeout_after", "connect_timeout", "reset",
               "drive_rate_limit", "drive_project_rate_limit", "storage_quota")


def fault_error(kind: str) -> GoogleError:
    """The error body a status fault answers with."""
    if kind == "429":
        return sheets_quota_error("sheets_read", True, 60)
    if kind == "500":
        return GoogleError(500, "Internal error encountered.", "INTERNAL")
    if kind == "503":
        return GoogleError(503, "The service is currently unavailable.", "UNAVAILABLE")
    if kind == "drive_rate_limit":
        return drive_rate_limit_error(per_user=True)
    if kind == "drive_project_rate_limit":
        return drive_rate_limit_error(per_user=False)
    if kind == "storage_quota":
        return storage_quota_error()
    raise ValueError(kind)


@dataclass
class Fault:
    kind: str
    match: str | Callable[[str, str], bool] | None
    times: int | None  # None = forever
    principal: str | None

    def matches(self, principal: str, method: str, path: str) -> bool:
        if self.principal is not None and principal != self.principal:
            return False
        if self.match is None:
            return True
        if isinstance(self.match, str):
            return self.match in path
        return bool(self.match(method, path))


class Faults:
    """Scripted faults, consumed in the order they were added."""

    def __init__(self) -> None:
        self.pending: list[Fault] = []
        self.delivered: list[tuple[str, str, str, str]] = []  # (kind, principal, method, path)

    def add(self, kind: str | int, *, match: str | Callable[[str, str], bool] | None = None,
            times: int | None = 1, principal: str | None = None) -> Fault:
        """Script a fault; ``match`` is a path substring or ``callable(method, path)``."""
        kind = str(kind)
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        fault = Fault(kind, match, times, principal)
        self.pending.append(fault)
        return fault

    def take(self, principal: str, method: str, path: str) -> str | None:
        """The kind of the first matching fault (consuming one use), or None."""
        for fault in self.pending:
            if fault.matches(principal, method, path):
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.pending.remove(fault)
                self.delivered.append((fault.kind, principal, method, path))
                return fault.kind
        return None

    def clear(self) -> None:
        self.pending.clear()
        self.delivered.clear()

    def to_json(self) -> dict[str, Any]:
        return {"pending": [{"kind": f.kind, "match": f.match if isinstance(f.match, str) else None,
                             "times": f.times, "principal": f.principal} for f in self.pending],
                "delivered": [list(d) for d in self.delivered]}
