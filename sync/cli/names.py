"""File ids turned into the names a person knows, in what ``sync`` and ``lock`` print.

The jobs' summaries hold ids only (they go to logs and the ledger's ``runs`` table); the CLI,
which a sysadmin reads, names the files: «Журнал 7Б · Физика · 2026/27». A diary is named by its
pupil's id, never by the pupil's name. In ``--json`` each ``failed`` item keeps its ``file`` id
and gains a ``name``; the lists of files (``repaired``, ``rebuilt``, ``set_aside``,
``skipped_busy``) hold names; in the texts of ``errors`` and of each ``failed`` item's ``error``
a registered file's id is followed by its name («… file 1f8f… «Журнал 7Б · Физика · 2026/27»: …»).

``rebuild`` and ``setup`` label their files by kind and key («journal 7Б/physics», «diary s0012»:
what their logs say); :func:`with_label_names` names those the same way: the lists hold names,
each ``failed`` pair is [name, error] (a file never created is named as it would be created).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from sync.jobs.service import Service
from sync.jobs.spreadsheets import expected_files, expected_name
from sync.ledger.model import FileKind, FileRecord

FILE_LISTS = ("repaired", "rebuilt", "set_aside", "skipped_busy")
LABEL_LISTS = ("created", "present", "rebuilt", "rerendered", "intact", "set_aside")
FILE_ID = re.compile(r"[A-Za-z0-9_-]{12,}")  # a Drive id, or the local backend's hex id


def file_names(svc: Service) -> dict[str, str]:
    """Every registered file's id → the name a person reads (a diary: ``diary of pupil <id>``)."""
    with svc.ledger.snapshot() as tx:
        files = tx.files()
    return {f.id: person_name(f) for f in files}


def person_name(record: FileRecord) -> str:
    """A registered file's name as a person reads it; a diary by its pupil's id, never the name."""
    return diary_name(record.key) if record.kind is FileKind.DIARY else record.name


def diary_name(pupil_id: str) -> str:
    """How a diary is named where a person reads: by its pupil's id, never the pupil's name."""
    return f"diary of pupil {pupil_id}"


def label_names(svc: Service) -> dict[str, str]:
    """Every file label of ``rebuild``/``setup`` («journal 7Б/physics») → the name a person reads:
    the registered file's name, else the name the file is created with."""
    with svc.ledger.snapshot() as tx:
        files = tx.files()
    out = {f"{kind.value} {key}": expected_name(svc.school, kind, key)
           for kind, key in expected_files(svc.school)}
    out.update({f"{f.kind.value} {f.key}": person_name(f) for f in files})
    return out


def with_label_names(data: Mapping[str, Any], labels: Mapping[str, str],
                     names: Mapping[str, str]) -> dict[str, Any]:
    """A ``rebuild``/``setup`` summary with its file labels named (``labels``, from
    :func:`label_names`) and the file ids in its errors followed by their names (``names``)."""
    out = dict(data)
    for key in LABEL_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [_label_name(str(v), labels) for v in out[key]]
    if isinstance(out.get("failed"), list):
        out["failed"] = [[_label_name(str(item[0]), labels), named_text(str(item[1]), names)]
                         if isinstance(item, list | tuple) and len(item) == 2 else item
                         for item in out["failed"]]
    return out


def _label_name(label: str, labels: Mapping[str, str]) -> str:
    """A label's name; a diary not registered (its creation failed) by its pupil's id."""
    if label in labels:
        return labels[label]
    kind, _, key = label.partition(" ")
    return diary_name(key) if kind == FileKind.DIARY.value else label


def with_names(data: Mapping[str, Any], names: Mapping[str, str]) -> dict[str, Any]:
    """A run's JSON with its file ids named (see the module docstring); an id the ledger does
    not know (a file already forgotten) is kept as it is."""
    out = dict(data)
    for key in FILE_LISTS:
        if isinstance(out.get(key), list):
            out[key] = [names.get(str(v), v) for v in out[key]]
    if isinstance(out.get("failed"), list):
        out["failed"] = [{**item, "name": names.get(str(item.get("file")), item.get("file")),
                          "error": named_text(str(item.get("error", "")), names)}
                         if isinstance(item, dict) else item for item in out["failed"]]
    if isinstance(out.get("errors"), list):
        out["errors"] = [named_text(str(e), names) for e in out["errors"]]
    return out


def named_text(text: str, names: Mapping[str, str]) -> str:
    """``text`` with each registered file id in it followed by the file's name in «»."""
    return FILE_ID.sub(lambda m: f"{m[0]} «{names[m[0]]}»" if m[0] in names else m[0], text)
