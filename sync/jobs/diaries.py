"""The diary writer: one read-only spreadsheet per pupil, written only when what it shows changed.

:func:`run_diaries` runs in every sync cycle after the journals' writes (and from ``rebuild``):

1. Which diaries may have changed: every one when the week, the current period or the
   configuration moved since the last pass (``diaries.basis``: the date-driven changes come with
   the first cycle of a new week, at night); else the pupils whose entries, period marks or
   absence reasons changed in the ledger since the last pass (``diaries.since``), the whole
   class of a journal whose lesson facts (topic, homework, work type) changed, the pupils whose
   register of readers changed on the class page (re-shared), diaries still
   waiting (``pending_since``, oldest first), diaries someone else edited (re-rendered whole),
   and pupils without a diary yet (created).
2. Each is projected from the ledger (``sync.jobs.diary_view``, ``rules.diary``), rendered
   (``sync.layout.diary``) and compared tab by tab with the SHA-256 the ledger keeps of what was
   written: an unchanged diary costs nothing; a changed one costs ONE values write (RAW) of its
   changed tabs, padded over the rows they had; a new one one create (1 Drive + 1 Sheets write).
   Each is shared as the register says (``sync.jobs.sharing``: parents whose application date
   has come, and the pupil where allowed, as readers): no call when nothing changed, one Drive
   call per grant or revoke otherwise.
3. Each written diary is recorded in its own small transaction (a crash re-renders, and writes
   only what was not recorded); a failed one stays pending and is retried next cycle; the pass
   records its moment and basis at the end.

Pacing (a busy hour changes hundreds of diaries; one principal writes 60 a minute): a cycle
writes at most ``budget`` diaries (``diary_budget``: a share of the principals' write quota over
one sync interval, so the journals are never starved), the longest-waiting first; the rest are
marked pending (since this cycle) and come first next cycle. Changes of one diary between two
passes cost one write whatever their number (the diary is rendered once, from the ledger). The
date-driven changes (a new week, a new period) are rendered by the nightly lock job without a
budget (``render_new_basis``), so the day's cycles are left the marks and homework.

Where diaries live: google — the shared drive (a service account owns nothing in My Drive), in
``[diaries] folder_id`` if set. Drive ignores ``writersCanShare`` inside shared drives (sharing
there is governed by the drive's own settings), which does not matter for diaries: nobody but the
service writes them, and readers can never share. ``copyRequiresWriterPermission`` is honoured
per file there and is set, so parents cannot copy, download or print a diary into a file the
school no longer controls. A pool of principals (``[backend] pool_credentials_env``) shares
the diaries' writes in turn (each has its own per-user quota); its members are Managers of the
shared drive like the service account (so they may write the diaries' protected tabs, and no
per-file grant is needed), and sharing treats them as the service. Local backend —
``Дневники/<class>/<pupil>/`` under the sheets folder: one folder per pupil, so a school can
share exactly that folder with the family.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from config.school import BackendKind, School
from rules.diary import current_period, project_diary
from rules.errors import BackendError, LayoutError, SheetAccessError
from rules.model import Pupil
from sync.backends.protocol import Backend, CellRange, FileBusy, Grid, TabMissing, TabSpec
from sync.jobs.diary_view import ClassCache, pupil_view
from sync.jobs.service import Service, split_journal_key
from sync.jobs.sharing import reconcile_acl, wanted_roles
from sync.jobs.spreadsheets import create_file
from sync.layout.diary.spec import diary_spec, diary_tabs, padded_rows
from sync.layout.labels import RU, Labels
from sync.ledger.audit import content_hash
from sync.ledger.diaries import DiaryState, TabHashes
from sync.ledger.ledger import Tx
from sync.ledger.model import FileKind, FileRecord
from sync.ledger.state import DIARIES_BASIS_KEY, DIARIES_SINCE_KEY

log = logging.getLogger(__name__)

LOCAL_FOLDER = "Дневники"


@dataclass
class DiarySummary:
    """What one pass did (pupil ids, never names)."""

    rendered: int = 0
    created: list[str] = field(default_factory=list)
    written: list[str] = field(default_factory=list)
    unchanged: int = 0
    failed: list[tuple[str, str]] = field(default_factory=list)  # (pupil id, error)
    busy: list[str] = field(default_factory=list)
    writes: int = 0  # Sheets write calls (a create's layout write included)
    granted: int = 0  # readers added to diaries (parents who applied, pupils allowed)
    revoked: int = 0  # readers removed (consent withdrawn, a parent no longer listed)
    waiting: int = 0  # changed diaries left for the next cycle (the budget was spent)

    def to_json(self) -> dict[str, Any]:
        return {"rendered": self.rendered, "created": len(self.created),
                "written": len(self.written), "unchanged": self.unchanged,
                "failed": [list(f) for f in self.failed], "busy": len(self.busy),
                "writes": self.writes, "granted": self.granted, "revoked": self.revoked,
                "waiting": self.waiting}


def basis(school: School, now: datetime) -> str:
    """What every diary shows besides the ledger: the configuration, the week, the period."""
    today = now.date()
    years = {school.year_of(c.id) for c in school.classes} or {school.year}
    begun = sorted({p.name for p in (current_period(y, today) for y in years) if p is not None})
    monday = today.toordinal() - today.weekday()
    return f"{school.config_version}|{monday}|{','.join(begun)}"


def diary_budget(school: School) -> int | None:
    """The diary writes one sync cycle may spend: ``[diaries] writes_per_cycle`` if set; on
    google ``quota_share`` of what the principals may write in one sync interval (within the
    project's quota): 60/min × 5 min × 0.8 = 240 for one principal; local: no limit."""
    settings = school.diaries
    if settings.writes_per_cycle is not None:
        return settings.writes_per_cycle
    backend = school.backend
    if backend.kind is not BackendKind.GOOGLE:
        return None
    rate = min(backend.principals * backend.writes_per_minute, backend.project_writes_per_minute)
    return max(1, int(rate * school.schedule.sync_every_minutes * settings.quota_share))


def render_new_basis(svc: Service, now: datetime) -> DiarySummary | None:
    """The nightly part: when the week, period or configuration moved since the last pass,
    every diary is rendered now, without a budget (None when nothing moved, or no pass ran
    yet: the first cycle creates the diaries)."""
    with svc.ledger.snapshot() as tx:
        shown = tx.state_get(DIARIES_BASIS_KEY)
    if not svc.school.diaries.enabled or shown is None or shown == basis(svc.school, now):
        return None
    return run_diaries(svc, now)


def run_diaries(svc: Service, now: datetime, *, edited: Collection[str] = (),
                everyone: bool = False, budget: int | None = None,
                labels: Labels = RU) -> DiarySummary:
    """Create and write the diaries whose content changed (see the module docstring).

    ``edited``: diary file ids someone else changed (re-rendered whole); ``everyone``: render
    every diary (``ejournal rebuild``); ``budget``: at most this many writes, the rest wait.
    Never raises for one diary's failure.
    """
    summary = DiarySummary()
    school = svc.school
    if not school.diaries.enabled:
        return summary
    mark = basis(school, now)
    with svc.ledger.snapshot() as tx:
        files = {f.key: f for f in tx.files(FileKind.DIARY)}
        states = tx.diary_states()
        chosen = _candidates(tx, school, mark, everyone, set(edited), files, states)
    forced = {f.key for f in files.values() if f.id in edited}
    cache = ClassCache(school)
    waiting: list[str] = []
    for n, pupil in enumerate(chosen):
        if budget is not None and summary.writes >= budget:
            waiting = [p.id for p in chosen[n:]]
            break
        state = None if (everyone or pupil.id in forced) else states.get(pupil.id)
        try:
            _one(svc, pupil, files.get(pupil.id), state, cache, summary, now, labels)
            record = files.get(pupil.id)
            if record is not None and pupil.id not in summary.created:  # a new one is shared
                _share(svc, record, summary, now)
        except FileBusy:
            summary.busy.append(pupil.id)
        except BackendError as exc:
            log.warning("diary of pupil %s: %s", pupil.id, type(exc).__name__)
            summary.failed.append((pupil.id, f"{type(exc).__name__}: {exc}"))
    with svc.ledger.transaction() as tx:
        tx.diaries_pending([p for p, _ in summary.failed] + summary.busy + waiting, now)
        tx.state_set(DIARIES_SINCE_KEY, now.isoformat(), now)
        tx.state_set(DIARIES_BASIS_KEY, mark, now)
    summary.waiting = len(waiting)
    log.info("diaries: %d rendered, %d created, %d written, %d unchanged, %d failed, %d busy, "
             "%d waiting", summary.rendered, len(summary.created), len(summary.written),
             summary.unchanged, len(summary.failed), len(summary.busy), summary.waiting)
    return summary


def _share(svc: Service, record: FileRecord, summary: DiarySummary, now: datetime) -> None:
    """The diary's readers as the register says today (no call when the ledger's observed
    grants already match)."""
    changes = reconcile_acl(svc, record.id, wanted_roles(svc, FileKind.DIARY, record.key, now),
                            now)
    summary.granted += len(changes.granted)
    summary.revoked += len(changes.revoked)
    summary.failed += [(record.key, error) for error in changes.failed]


def _candidates(tx: Tx, school: School, mark: str, everyone: bool, edited: set[str],
                files: dict[str, FileRecord], states: dict[str, DiaryState]) -> list[Pupil]:
    """The pupils whose diary may have changed, the longest-waiting first."""
    since = tx.state_get(DIARIES_SINCE_KEY)
    if everyone or since is None or tx.state_get(DIARIES_BASIS_KEY) != mark:
        chosen = {p.id for p in school.pupils}
    else:
        touched = tx.touched_since(datetime.fromisoformat(since))
        classes = {split_journal_key(j)[0] for j in touched.journals}
        chosen = touched.pupils | touched.contacts
        chosen |= {p.id for p in school.pupils if p.class_id in classes or p.id not in files}
        chosen |= {pid for pid, s in states.items() if s.pending_since is not None}
        chosen |= {key for key, f in files.items() if f.id in edited}
    order = {p.id: n for n, p in enumerate(school.pupils)}

    def waited(p: Pupil) -> tuple[bool, str, int]:
        state = states.get(p.id)
        since = state.pending_since if state is not None else None
        return (since is None, since.isoformat() if since else "", order[p.id])

    return sorted((p for p in school.pupils if p.id in chosen), key=waited)


def _one(svc: Service, pupil: Pupil, record: FileRecord | None, state: DiaryState | None,
         cache: ClassCache, summary: DiarySummary, now: datetime, labels: Labels) -> None:
    """Render one diary; create or write it if it changed; record what was written."""
    school = svc.school
    with svc.ledger.snapshot() as tx:
        view = pupil_view(tx, school, pupil, cache)
    year = school.year_of(pupil.class_id)  # the pupil's grade's periods
    diary = project_diary(view, year, school.policies, now.date())
    word = labels.period_column(year.period_kind)
    tabs = diary_tabs(diary, school.year.name, word, labels)
    hashes: TabHashes = {t.title: (content_hash(t.rows), len(t.rows)) for t in tabs}
    summary.rendered += 1
    if record is None:
        spec = diary_spec(diary, school.year.name, word, folder=diary_folder(school, pupil),
                          labels=labels)
        create_file(svc, FileKind.DIARY, pupil.id, spec, now=now)
        summary.created.append(pupil.id)
        summary.writes += 1
    else:
        updates = None if state is None else changed_updates(tabs, state.tabs)
        if updates == []:
            summary.unchanged += 1
            if state is None or state.pending_since is None:
                return
        elif not _write(svc, record, tabs, updates, pupil, now, summary, labels):
            return
    with svc.ledger.transaction() as tx:
        tx.record_diary(pupil.id, hashes, now)


def changed_updates(tabs: tuple[TabSpec, ...], old: TabHashes) -> list[tuple[CellRange, Grid]]:
    """The values writes of the tabs whose rows differ from what was written (padded over it)."""
    out = []
    for tab in tabs:
        was_hash, was_rows = old.get(tab.title, ("", 0))
        if content_hash(tab.rows) == was_hash:
            continue
        rows = padded_rows(tab.rows, tab.col_count, was_rows)
        out.append((CellRange(tab.title, 0, 0, len(rows), tab.col_count), rows))
    return out


def _write(svc: Service, record: FileRecord, tabs: tuple[TabSpec, ...],
           updates: list[tuple[CellRange, Grid]] | None, pupil: Pupil, now: datetime,
           summary: DiarySummary, labels: Labels) -> bool:
    """One write: the changed tabs' values, or (``updates`` None: what the file shows is not
    known — rebuilt, or edited by someone else) every tab laid out afresh; a missing tab
    re-lays out the tabs, a missing file re-creates the diary. True when it now shows ``tabs``."""
    writers = svc.writers()
    writer = writers[len(summary.written) % len(writers)]  # spread over the pool, in turn
    try:
        try:
            _put(writer, record.id, tabs, updates)
        except SheetAccessError:
            if writer is svc.backend:
                raise
            log.warning("diary %s: pool principal %s may not write it (is it a Manager of the "
                        "shared drive?); written by the service's own", record.id,
                        writer.principal)
            _put(svc.backend, record.id, tabs, updates)
    except SheetAccessError:
        log.warning("diary %s is gone: creating it again", record.id)
        rebuild_diary(svc, record, now=now, labels=labels)
        summary.created.append(pupil.id)
        summary.writes += 1
        return False  # rebuild_diary recorded it
    summary.writes += 1
    summary.written.append(pupil.id)
    return True


def _put(backend: Backend, file_id: str, tabs: tuple[TabSpec, ...],
         updates: list[tuple[CellRange, Grid]] | None) -> None:
    """One write through ``backend`` (a missing tab: the tabs laid out again)."""
    try:
        if updates is None:
            backend.replace_tabs(file_id, tabs)
        else:
            backend.write(file_id, updates)
    except TabMissing:
        log.warning("diary %s: a tab is missing; laying the tabs out again", file_id)
        backend.replace_tabs(file_id, tabs)


def diary_folder(school: School, pupil: Pupil) -> str | None:
    """Where a pupil's diary is created (see the module docstring)."""
    if school.backend.kind is BackendKind.LOCAL:  # the backend makes each part a safe name
        parts = (pupil.class_id, f"{pupil.last_name} {pupil.first_name} ({pupil.id})")
        return "/".join((LOCAL_FOLDER, *(p.replace("/", "-") for p in parts)))
    return school.diaries.folder_id or school.backend.shared_drive_folder_id


def rebuild_diary(svc: Service, record: FileRecord, *, now: datetime,
                  labels: Labels = RU) -> FileRecord:
    """The diary file is gone: create it anew from the ledger (registered under the same pupil,
    shared again) and record what it shows."""
    school = svc.school
    pupil = school.pupil(record.key)
    if pupil is None:
        raise LayoutError(f"diary {record.id}: pupil {record.key} is not in the configuration",
                          "a pupil removed from pupils.csv keeps no diary")
    with svc.ledger.snapshot() as tx:
        view = pupil_view(tx, school, pupil, ClassCache(school))
    year = school.year_of(pupil.class_id)  # the pupil's grade's periods
    diary = project_diary(view, year, school.policies, now.date())
    word = labels.period_column(year.period_kind)
    spec = diary_spec(diary, school.year.name, word, folder=diary_folder(school, pupil),
                      labels=labels)
    new, _ = create_file(svc, FileKind.DIARY, pupil.id, spec, now=now)
    with svc.ledger.transaction() as tx:
        tx.record_diary(pupil.id, {t.title: (content_hash(t.rows), len(t.rows))
                                   for t in spec.tabs}, now)
    log.info("diary %s rebuilt from the ledger as %s", record.id, new.id)
    return new


__all__ = ["DiarySummary", "changed_updates", "diary_budget", "diary_folder", "rebuild_diary",
           "render_new_basis", "run_diaries"]
