"""The ``google`` backend: the :class:`sync.backends.protocol.Backend` protocol over gspread's HTTP client.

Call budgets (counted by the emulator in the tests):

* ``read``  = ONE ``values:batchGet`` (UNFORMATTED_VALUE, SERIAL_NUMBER), no metadata GET; a
  missing tab makes Google answer 400 "Unable to parse range" → :class:`TabMissing`;
* ``write`` = ONE ``values:batchUpdate`` with ``valueInputOption=RAW``;
* ``create`` = ONE Drive ``files.create`` (shared-drive parent, ``writersCanShare`` and
  ``copyRequiresWriterPermission`` in the same body) + ONE Sheets ``batchUpdate`` laying out
  every tab (``sync.backends.google.sheet_requests``); 0 Sheets reads;
* ``set_open_ranges`` = ONE ``batchUpdate`` of ``updateProtectedRange`` when the protection ids are
  known (passed from ``FileInfo.protections`` or cached); otherwise 1 metadata read first;
* ``open_ranges``, ``tabs`` = one metadata read each; ``add_tabs``, ``rename_tab``,
  ``replace_tabs`` = one ``batchUpdate`` (the last two read the tab ids first when this process
  has not seen them; ``replace_tabs`` re-reads them once if they turn out stale);
* ``changes`` = one Drive call per 1000 changes; ``start_token``, ``info``, ``delete``,
  ``grants`` (per 100), ``grant``, ``revoke`` = one Drive call each; ``own_versions`` = none.

Every error is already a ``rules.errors`` type when it leaves ``sync.backends.google.http``.
"""

from __future__ import annotations

import logging
import random
from collections.abc import Collection, Mapping, Sequence
from typing import Any

from gspread.urls import (
    DRIVE_FILES_API_V3_URL,
    SPREADSHEET_BATCH_UPDATE_URL,
    SPREADSHEET_URL,
    SPREADSHEET_VALUES_BATCH_UPDATE_URL,
    SPREADSHEET_VALUES_BATCH_URL,
)

from rules.errors import BackendError, TransientError
from sync.backends.google import drive, upload
from sync.backends.google.auth import Connection, build_client
from sync.backends.google.drive import ALL_DRIVES, FILE_FIELDS, file_url
from sync.backends.google.http import BadRequest, ProjectHTTPClient, short_path
from sync.backends.google.own_changes import OwnChanges
from sync.backends.google.sheet_requests import (
    cell_range,
    new_sheet_ids,
    protections_from_replies,
    ranges_last,
    raw_value,
    replace_requests,
    tab_a1,
    tab_missing,
    tab_requests,
    update_open_ranges,
    write_a1,
)
from sync.backends.protocol import (
    CellRange,
    FileInfo,
    Grant,
    Grid,
    Role,
    SpreadsheetSpec,
    TabMissing,
    TabSpec,
)

log = logging.getLogger(__name__)

SPREADSHEET_MIME = "application/vnd.google-apps.spreadsheet"
STALE_TAB_MESSAGES = ("No sheet with id", "No grid with id", "already exists")


class GoogleBackend:
    """Spreadsheets in Google Drive (a shared-drive folder), through one principal."""

    def __init__(self, connection: Connection, *, folder: str | None = None,
                 rng: random.Random | None = None) -> None:
        self.client = connection.client
        self.http: ProjectHTTPClient = connection.http
        self.principal = connection.principal
        # the service's principals (it and its pool): their changes are the service's own
        self.identities: frozenset[str] = frozenset({self.principal.lower()})
        self.writes_per_minute: int | None = connection.http.policy.writes_per_minute
        self.folder = folder
        self.rng = rng or random.Random()
        self._sheet_ids: dict[str, dict[str, int]] = {}  # file → tab title → sheetId
        self._protections: dict[str, dict[str, tuple[int, int]]] = {}  # → (sheetId, rangeId)
        self._own = OwnChanges()

    @classmethod
    def from_settings(cls, settings: Any, environ: Mapping[str, str] | None = None
                      ) -> GoogleBackend:
        """Production construction from ``config.school.BackendSettings`` and the environment."""
        return cls(build_client(settings, environ), folder=settings.shared_drive_folder_id)

    def also_me(self, principals: Collection[str]) -> None:
        """The other principals of the service's pool: what they change is the service's own."""
        self.identities = frozenset({self.principal.lower(), *(p.lower() for p in principals)})

    def close(self) -> None:
        self.http.session.close()

    def __enter__(self) -> GoogleBackend:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def stats(self) -> dict[str, float]:
        """API calls per kind, retries and seconds slept (for the run summary)."""
        return self.http.stats()

    # ---- plumbing -------------------------------------------------------------------------

    def _call(self, method: str, url: str, params: Mapping[str, Any] | None = None,
              body: Mapping[str, Any] | None = None) -> dict[str, Any]:
        response = self.http.request(method, url, params=dict(params or {}), json=body)
        if not response.content:
            return {}
        try:
            data = response.json()
        except ValueError:
            raise TransientError(f"Google answered {method.upper()} {short_path(url)} with a "
                                 "body that is not JSON", hint="the next cycle retries") from None
        return data if isinstance(data, dict) else {}

    def _batch(self, file_id: str, requests: list[dict[str, Any]]) -> dict[str, Any]:
        with self._own.change(file_id):
            return self._call("post", SPREADSHEET_BATCH_UPDATE_URL % file_id,
                              body={"requests": requests})

    def _remember(self, file_id: str, sheets: Sequence[Mapping[str, Any]]) -> None:
        ids = {s["properties"]["title"]: int(s["properties"].get("sheetId", 0)) for s in sheets}
        self._sheet_ids[file_id] = ids

    # ---- change feed (sync.backends.google.drive) ------------------------------------------------

    def start_token(self) -> str:
        return drive.start_token(self._call)

    def changes(self, token: str) -> tuple[list[FileInfo], str]:
        """Changed files since ``token`` (latest state per file) and the next token."""
        return drive.changes(self._call, token, self.identities)

    def own_versions(self, seen: Mapping[str, str | None]) -> dict[str, str | None]:
        return self._own.versions(seen)  # no call (``sync.backends.google.own_changes``)

    # ---- files ----------------------------------------------------------------------------

    def create(self, spec: SpreadsheetSpec) -> FileInfo:
        """One Drive create + one batchUpdate; a half-made file is deleted again on failure.

        The returned ``version`` is the one after the layout write (creation's plus one).
        """
        titles = [t.title for t in spec.tabs]
        if not titles:
            raise BackendError(f"spreadsheet spec {spec.name!r} has no tabs")
        if len({t.lower() for t in titles}) != len(titles):
            raise BackendError(f"spreadsheet spec {spec.name!r} repeats a tab title")
        ids = new_sheet_ids(len(titles), self.rng)
        requests: list[dict[str, Any]] = []
        if "sheet1" in (t.lower() for t in titles):  # free the default tab's title first
            requests.append({"updateSheetProperties": {
                "properties": {"sheetId": 0, "title": "ejournal-default"}, "fields": "title"}})
        for tab, sheet_id in zip(spec.tabs, ids, strict=True):
            requests.extend(tab_requests(tab, sheet_id, self.principal))
        requests = ranges_last(requests)
        requests.append({"deleteSheet": {"sheetId": 0}})  # a new spreadsheet's first sheet
        body: dict[str, Any] = {"name": spec.name, "mimeType": SPREADSHEET_MIME,
                                "writersCanShare": spec.writers_can_share,
                                "copyRequiresWriterPermission": spec.readers_cannot_copy}
        folder = spec.folder or self.folder
        if folder:
            body["parents"] = [folder]
        meta = self._call("post", DRIVE_FILES_API_V3_URL,
                          {**ALL_DRIVES, "fields": FILE_FIELDS}, body)
        file_id = str(meta["id"])
        try:
            reply = self._batch(file_id, requests)
        except BackendError:
            self._discard(file_id)
            raise
        finally:
            self._own.forget(file_id)
        by_id = dict(zip(ids, titles, strict=True))
        protections = protections_from_replies(requests, reply.get("replies", []), by_id)
        self._sheet_ids[file_id] = {title: sid for sid, title in by_id.items()}
        self._protections[file_id] = {t: (sid, protections[t]) for sid, t in by_id.items()
                                      if t in protections}
        log.info("created spreadsheet %s with %d tabs", file_id, len(titles))
        info = drive.file_info(file_id, meta, self.identities)
        version = str(int(info.version) + 1) if info.version.isdigit() else info.version
        return FileInfo(id=info.id, name=info.name, version=version, modified=info.modified,
                        by_me=True, protections=protections)

    def _discard(self, file_id: str) -> None:
        try:
            self.delete(file_id)
        except BackendError as exc:
            log.warning("could not delete half-created spreadsheet %s: %s", file_id, exc)

    def info(self, file_id: str) -> FileInfo:
        data = self._call("get", file_url(file_id), {**ALL_DRIVES, "fields": FILE_FIELDS})
        return drive.file_info(file_id, data, self.identities)

    def delete(self, file_id: str) -> None:
        self._call("delete", file_url(file_id), ALL_DRIVES)
        self._sheet_ids.pop(file_id, None)
        self._protections.pop(file_id, None)

    # ---- tabs -----------------------------------------------------------------------------

    def tabs(self, file_id: str) -> list[str]:
        data = self._call("get", SPREADSHEET_URL % file_id,
                          {"fields": "sheets.properties(sheetId,title,index)"})
        sheets = data.get("sheets", [])
        self._remember(file_id, sheets)
        return [s["properties"]["title"] for s in sheets]

    def add_tabs(self, file_id: str, tabs: Sequence[TabSpec]) -> dict[str, int]:
        """Add tabs laid out as given in one batchUpdate; returns their protection ids."""
        if not tabs:
            return {}
        ids = new_sheet_ids(len(tabs), self.rng, self._sheet_ids.get(file_id, {}).values())
        requests = ranges_last([r for tab, sid in zip(tabs, ids, strict=True)
                                for r in tab_requests(tab, sid, self.principal)])
        reply = self._batch(file_id, requests)
        by_id = {sid: tab.title for tab, sid in zip(tabs, ids, strict=True)}
        protections = protections_from_replies(requests, reply.get("replies", []), by_id)
        self._sheet_ids.setdefault(file_id, {}).update({t: sid for sid, t in by_id.items()})
        self._protections.setdefault(file_id, {}).update(
            {t: (sid, protections[t]) for sid, t in by_id.items() if t in protections})
        return protections

    def replace_tabs(self, file_id: str, tabs: Sequence[TabSpec]) -> dict[str, int]:
        """Re-lay out the named tabs in ONE batchUpdate: the old tab (if any) is renamed aside,
        the new one added at its place, then the old one deleted (a file never has zero tabs)."""
        if not tabs:
            return {}
        if len({t.title.casefold() for t in tabs}) != len(tabs):
            raise BackendError(f"file {file_id}: replace_tabs repeats a tab title")
        if file_id not in self._sheet_ids:
            self.tabs(file_id)
        try:
            return self._replace_tabs(file_id, tabs)
        except BadRequest as exc:
            if not any(m in exc.google_message for m in STALE_TAB_MESSAGES):
                raise
            log.warning("file %s: stale tab ids, re-reading them", file_id)
            self.tabs(file_id)
            return self._replace_tabs(file_id, tabs)

    def _replace_tabs(self, file_id: str, tabs: Sequence[TabSpec]) -> dict[str, int]:
        known = self._sheet_ids.get(file_id, {})
        folded = {t.casefold(): t for t in known}
        old = {tab.title: folded[tab.title.casefold()] for tab in tabs
               if tab.title.casefold() in folded}
        ids = new_sheet_ids(len(tabs), self.rng, known.values())
        requests = replace_requests(tabs, ids, known, old, self.principal)
        reply = self._batch(file_id, requests)
        fresh = {tab.title: sid for tab, sid in zip(tabs, ids, strict=True)}
        protections = protections_from_replies(
            requests, reply.get("replies", []), {sid: t for t, sid in fresh.items()})
        inverse = {gone: title for title, gone in old.items()}  # the cache keeps the tab order
        order = [inverse.get(t, t) for t in known] + [t for t in fresh if t not in old]
        self._sheet_ids[file_id] = {t: fresh.get(t, known.get(t, 0)) for t in order}
        cached = self._protections.setdefault(file_id, {})
        for gone in old.values():
            cached.pop(gone, None)
        cached.update({t: (fresh[t], pid) for t, pid in protections.items()})
        log.info("file %s: %d tab(s) replaced, %d added", file_id, len(old), len(tabs) - len(old))
        return protections

    def rename_tab(self, file_id: str, old: str, new: str) -> None:
        if old not in self._sheet_ids.get(file_id, {}):
            self.tabs(file_id)
        sheet_id = self._sheet_ids.get(file_id, {}).get(old)
        if sheet_id is None:
            raise TabMissing(file_id, [old])
        self._batch(file_id, [{"updateSheetProperties": {
            "properties": {"sheetId": sheet_id, "title": new}, "fields": "title"}}])
        self._sheet_ids[file_id][new] = self._sheet_ids[file_id].pop(old)
        known = self._protections.get(file_id, {})
        if old in known:
            known[new] = known.pop(old)

    # ---- values ---------------------------------------------------------------------------

    def read(self, file_id: str, tabs: Sequence[str]) -> dict[str, Grid]:
        """Whole tabs in one batchGet: unformatted values, dates as serial numbers."""
        titles = list(dict.fromkeys(tabs))
        if not titles:
            return {}
        try:
            data = self._call("get", SPREADSHEET_VALUES_BATCH_URL % file_id, {
                "ranges": [tab_a1(t) for t in titles], "majorDimension": "ROWS",
                "valueRenderOption": "UNFORMATTED_VALUE",
                "dateTimeRenderOption": "SERIAL_NUMBER"})
        except BadRequest as exc:
            raise tab_missing(file_id, titles, exc) from exc
        ranges = data.get("valueRanges", [])
        return {t: vr.get("values", [])  # fresh lists from the JSON: ours to keep
                for t, vr in zip(titles, ranges, strict=True)}

    def write(self, file_id: str, updates: Sequence[tuple[CellRange, Grid]]) -> None:
        """All updates in one RAW values:batchUpdate (``"=…"`` stays text)."""
        data = [{"range": write_a1(r), "majorDimension": "ROWS",
                 "values": [[raw_value(v) for v in row] for row in grid]} for r, grid in updates]
        if not data:
            return
        try:
            with self._own.change(file_id):
                self._call("post", SPREADSHEET_VALUES_BATCH_UPDATE_URL % file_id,
                           body={"valueInputOption": "RAW", "data": data})
        except BadRequest as exc:
            raise tab_missing(file_id, [r.tab for r, _ in updates], exc) from exc

    # ---- protection -----------------------------------------------------------------------

    def open_ranges(self, file_id: str) -> dict[str, list[CellRange]]:
        """Each protected tab's unprotected ranges, re-read from the file (one metadata read)."""
        data = self._call("get", SPREADSHEET_URL % file_id,
                          {"fields": "sheets(properties(title,sheetId),protectedRanges)"})
        sheets = data.get("sheets", [])
        self._remember(file_id, sheets)
        out: dict[str, list[CellRange]] = {}
        known: dict[str, tuple[int, int]] = {}
        for sheet in sheets:
            title, sheet_id = sheet["properties"]["title"], int(sheet["properties"].get("sheetId", 0))
            for pr in sheet.get("protectedRanges", []):
                if set(pr.get("range", {})) - {"sheetId"}:
                    continue  # a partial range, not the tab's own protection
                known[title] = (sheet_id, int(pr["protectedRangeId"]))
                out[title] = [cell_range(title, gr) for gr in pr.get("unprotectedRanges", [])]
        self._protections[file_id] = known
        return out

    def set_open_ranges(self, file_id: str, open_ranges: Mapping[str, Sequence[CellRange]],
                        protections: Mapping[str, int] | None = None) -> None:
        """Move the open cells of the named tabs in one batchUpdate (see the module budgets)."""
        if not open_ranges:
            return
        ids = self._protection_ids(file_id, open_ranges, protections or {})
        try:
            self._batch(file_id, update_open_ranges(open_ranges, ids))
        except BadRequest as exc:
            if "No protected range with id" not in exc.google_message and \
                    "No grid with id" not in exc.google_message:
                raise
            log.warning("file %s: stale protection ids, re-reading them", file_id)
            self._protections.pop(file_id, None)
            ids = self._protection_ids(file_id, open_ranges, {})
            self._batch(file_id, update_open_ranges(open_ranges, ids))

    def _protection_ids(self, file_id: str, tabs: Mapping[str, Any],
                        given: Mapping[str, int]) -> dict[str, tuple[int, int]]:
        """(sheetId, protectedRangeId) per tab: given ids (ours: equal), cache, then one read."""
        known = self._protections.get(file_id, {})
        ids = {t: (given[t], given[t]) if t in given else known[t]
               for t in tabs if t in given or t in known}
        missing = [t for t in tabs if t not in ids]
        if missing:
            self.open_ranges(file_id)
            known = self._protections.get(file_id, {})
            absent = [t for t in missing if t not in self._sheet_ids.get(file_id, {})]
            if absent:
                raise TabMissing(file_id, absent)
            for t in missing:
                if t not in known:
                    raise BackendError(f"file {file_id}: tab {t!r} has no sheet protection",
                                       hint="re-create the tab's protection (repair)")
                ids[t] = known[t]
        return ids

    # ---- sharing (sync.backends.google.drive) -----------------------------------------------------

    def upload(self, name: str, data: bytes, mime_type: str, folder: str, *,
               maybe_there: bool = False) -> str:
        """Upload a file (a report) into a Drive folder; ``maybe_there`` looks for an earlier
        attempt's upload of the same name first (``sync.backends.google.upload``)."""
        found = upload.find_file(self.http, name, folder) if maybe_there else None
        return found or upload.upload_file(self.http, name, data, mime_type, folder)

    def grants(self, file_id: str) -> list[Grant]:
        return drive.grants(self._call, file_id)

    def grant(self, file_id: str, email: str, role: Role) -> Grant:
        """Share with one Google account, without a notification e-mail; never ``anyone``."""
        with self._own.change(file_id):  # Drive's version moves with the sharing too
            return drive.grant(self._call, file_id, email, role)

    def revoke(self, file_id: str, grant_id: str) -> None:
        with self._own.change(file_id):
            drive.revoke(self._call, file_id, grant_id)


__all__ = ["GoogleBackend"]
