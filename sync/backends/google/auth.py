"""Building the gspread client the google backend uses, always on :class:`ProjectHTTPClient`.

Three ways, chosen from the environment (secrets never come from the config files):

1. ``EJOURNAL_GOOGLE_EMULATOR_HOST=host:port`` — all Sheets and Drive traffic goes to
   ``http://host:port`` over plain HTTP, with the bearer token set to the principal's e-mail
   (``EJOURNAL_GOOGLE_PRINCIPAL``, default the emulator's service account), like the emulator
   hosts of Google's own SDKs. For tests, demos and CI.
2. ``EJOURNAL_GOOGLE_OAUTH_TOKEN=/path/authorized_user.json`` — OAuth user credentials (a refresh
   token stored on the server); ``EJOURNAL_GOOGLE_PRINCIPAL`` must name that user's e-mail.
3. otherwise the service-account key file ``BackendSettings.credentials_path`` (the config loader
   takes it from the environment variable named by ``credentials_env``).

A pool (``[backend] pool_credentials_env``) adds one client per key file
(:func:`build_pool_client`; under the emulator each variable holds the member's e-mail).

Scopes are ``spreadsheets`` + ``drive`` (platform.md §4: wrong scopes look like "not found").
:func:`client_for_session` builds the same client over a prepared ``requests.Session`` (tests
mount the in-process emulator adapter on it).
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import gspread
import requests

from rules.errors import ConfigError, Problem
from sync.backends.google.http import HttpPolicy, ProjectHTTPClient

SCOPES = ("https://www.googleapis.com/auth/spreadsheets", "https://www.googleapis.com/auth/drive")
EMULATOR_ENV = "EJOURNAL_GOOGLE_EMULATOR_HOST"
OAUTH_ENV = "EJOURNAL_GOOGLE_OAUTH_TOKEN"
PRINCIPAL_ENV = "EJOURNAL_GOOGLE_PRINCIPAL"
DEFAULT_PRINCIPAL = "service@ejournal.iam.gserviceaccount.com"


@dataclass(frozen=True, slots=True)
class Connection:
    """A ready gspread client and the identity it acts as."""

    client: gspread.Client
    principal: str

    @property
    def http(self) -> ProjectHTTPClient:
        http = self.client.http_client
        assert isinstance(http, ProjectHTTPClient)
        return http


def _problem(where: str, message: str, hint: str | None = None) -> ConfigError:
    return ConfigError([Problem("environment", where, message)], hint=hint)


def _client(auth: Any, session: requests.Session | None, principal: str, policy: HttpPolicy,
            clock: Callable[[], float], sleep: Callable[[float], None],
            rng: random.Random | None) -> Connection:
    factory = partial(ProjectHTTPClient, policy=policy, principal=principal, clock=clock,
                      sleep=sleep, rng=rng)
    client = gspread.Client(auth=auth, session=session, http_client=factory)  # type: ignore[arg-type]
    return Connection(client, principal)


def client_for_session(session: requests.Session, principal: str, *,
                       policy: HttpPolicy | None = None,
                       clock: Callable[[], float] = time.monotonic,
                       sleep: Callable[[float], None] = time.sleep,
                       rng: random.Random | None = None) -> Connection:
    """A client over ``session`` authenticated as ``principal`` by a bearer token (emulators)."""
    session.headers["Authorization"] = f"Bearer {principal}"
    return _client(None, session, principal, policy or HttpPolicy(), clock, sleep, rng)


def emulator_base_url(host: str) -> str:
    """``host:port`` (or a full ``http://host:port``) → ``http://host:port``."""
    host = host.strip().rstrip("/")
    return host if host.startswith(("http://", "https://")) else f"http://{host}"


def build_client(settings: Any, environ: Mapping[str, str] | None = None, *,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> Connection:
    """The production client for ``settings`` (``config.school.BackendSettings``)."""
    env = os.environ if environ is None else environ
    emulator = env.get(EMULATOR_ENV, "").strip()
    principal = env.get(PRINCIPAL_ENV, "").strip()
    if emulator:
        policy = HttpPolicy.from_settings(settings, base_url=emulator_base_url(emulator))
        return client_for_session(requests.Session(), principal or DEFAULT_PRINCIPAL,
                                  policy=policy, clock=clock, sleep=sleep)
    policy = HttpPolicy.from_settings(settings)
    token_path = env.get(OAUTH_ENV, "").strip()
    if token_path:
        if not principal:
            raise _problem(PRINCIPAL_ENV, f"{OAUTH_ENV} is set but {PRINCIPAL_ENV} is not",
                           hint=f"set {PRINCIPAL_ENV} to the e-mail of the Google user whose "
                                "token it is")
        creds = _oauth_credentials(Path(token_path).expanduser())
        return _client(creds, None, principal, policy, clock, sleep, None)
    path = getattr(settings, "credentials_path", None)
    if path is None:
        env_name = getattr(settings, "credentials_env", "EJOURNAL_GOOGLE_CREDENTIALS")
        raise _problem(env_name, "no Google credentials: neither a service-account key file nor "
                       f"{OAUTH_ENV} is configured",
                       hint=f"set {env_name} to the path of the service-account key file")
    creds = _service_account_credentials(Path(path))
    return _client(creds, None, principal or creds.service_account_email, policy, clock, sleep,
                   None)


def build_pool_client(settings: Any, key: Path, environ: Mapping[str, str] | None = None, *,
                      clock: Callable[[], float] = time.monotonic,
                      sleep: Callable[[float], None] = time.sleep) -> Connection:
    """The client of one more principal of the pool (``BackendSettings.pool_credentials``): its
    service-account key file, or under the emulator its e-mail (the bearer token)."""
    env = os.environ if environ is None else environ
    emulator = env.get(EMULATOR_ENV, "").strip()
    if emulator:
        policy = HttpPolicy.from_settings(settings, base_url=emulator_base_url(emulator))
        return client_for_session(requests.Session(), str(key), policy=policy, clock=clock,
                                  sleep=sleep)
    creds = _service_account_credentials(key)
    return _client(creds, None, creds.service_account_email, HttpPolicy.from_settings(settings),
                   clock, sleep, None)


def _read_json(path: Path, what: str) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise _problem(str(path), f"cannot read the {what}: {exc.strerror or exc}") from exc
    except ValueError as exc:
        raise _problem(str(path), f"the {what} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise _problem(str(path), f"the {what} is not a JSON object")
    return data


def _service_account_credentials(path: Path) -> Any:
    from google.oauth2 import service_account

    info = _read_json(path, "service-account key file")
    if info.get("type") != "service_account":
        raise _problem(str(path), f"not a service-account key (type={info.get('type')!r})",
                       hint="download a JSON key of the service account from the Cloud console")
    try:
        return service_account.Credentials.from_service_account_info(  # type: ignore[no-untyped-call]
            info, scopes=list(SCOPES))
    except (ValueError, KeyError) as exc:
        raise _problem(str(path), f"the service-account key is unusable: {exc}") from exc


def _oauth_credentials(path: Path) -> Any:
    from google.oauth2.credentials import Credentials

    info = _read_json(path, "OAuth token file")
    try:
        return Credentials.from_authorized_user_info(info, scopes=list(SCOPES))  # type: ignore[no-untyped-call]
    except ValueError as exc:
        raise _problem(str(path), f"the OAuth token file is unusable: {exc}",
                       hint="create it once with an OAuth consent flow (authorized_user JSON "
                            "with client_id, client_secret, refresh_token)") from exc


__all__ = ["DEFAULT_PRINCIPAL", "EMULATOR_ENV", "OAUTH_ENV", "PRINCIPAL_ENV", "SCOPES",
           "Connection", "build_client", "build_pool_client", "client_for_session",
           "emulator_base_url"]
