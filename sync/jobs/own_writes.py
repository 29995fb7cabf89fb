"""Own writes recognised by version (issue 8): after the service changed files, the ledger
remembers the version each file has if nobody else touched it (``Backend.own_versions``), and the
sync cycle and the lock job read any file whose version in the change feed differs from it.

Called right before a job looks at the change feed (so the feed's versions are compared with
expectations that include every own change made before it) and at the end of a job that wrote.
A file whose own change has an unknown outcome keeps its older version: it is read again, never
taken for unchanged.
"""

from __future__ import annotations

import logging

from sync.jobs.service import Service

log = logging.getLogger(__name__)


def remember_own_writes(svc: Service) -> int:
    """Record the versions after this process's own changes; returns how many were recorded."""
    with svc.ledger.transaction() as tx:
        seen = {f.id: f.last_seen_version for f in tx.files()}
        versions = _own_versions(svc, seen)
        known = {fid: v for fid, v in versions.items() if fid in seen and v is not None}
        for file_id, version in known.items():
            tx.file_version(file_id, version)
    unknown = sum(1 for fid, v in versions.items() if fid in seen and v is None)
    if known or unknown:
        log.debug("own writes: %d file versions remembered, %d to re-read", len(known), unknown)
    return len(known)


def _own_versions(svc: Service, seen: dict[str, str | None]) -> dict[str, str | None]:
    """Every principal's own changes together (the pool writes diaries, ``Service.writers``):
    a file two principals changed is at ``seen`` plus both counts; unknown if either is."""
    writers = svc.writers()
    if len(writers) == 1:  # the local backend's versions are not counters: taken as they are
        return writers[0].own_versions(seen)
    out: dict[str, str | None] = {}
    for backend in writers:
        for file_id, version in backend.own_versions(seen).items():
            base = seen.get(file_id)
            if version is None or not base or not base.isdigit() or out.get(file_id, "") is None:
                out[file_id] = None
                continue
            start = out.get(file_id) or base
            out[file_id] = str(int(start) + int(version) - int(base))
    return out
