"""Where a journal's cells were at its last read, kept in the ledger for the nightly protection.

The lock job opens today's cells at the positions it just read; a journal it had no reason to
read that night used to get them at the EXPECTED layout's positions — wrong once someone moved
its columns or rows (an owner inserting a column: today's opening landed on the previous lesson's
column, today's stayed shut). Every read now remembers its positions (only when they changed);
the protection uses them when there was no read, the expected layout only for a journal never
read or just re-laid out by a repair (which puts every cell back where the layout says).
"""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any

from sync.layout.journal.map import JournalMap, LessonsTabMap, PeriodTabMap
from sync.ledger.ledger import Tx

LAYOUT_KEY = "journal_layout:{file_id}"  # JSON of the JournalMap last read ("" = none)


def remember_layout(tx: Tx, file_id: str, where: JournalMap | None, now: datetime) -> None:
    """Keep ``where`` (None: forget, the layout is the expected one again); writes only when it
    differs from what is kept."""
    text = "" if where is None else encode_layout(where)
    key = LAYOUT_KEY.format(file_id=file_id)
    if (tx.state_get(key) or "") != text:
        tx.state_set(key, text, now)


def remembered_layout(tx: Tx, file_id: str) -> JournalMap | None:
    text = tx.state_get(LAYOUT_KEY.format(file_id=file_id))
    return decode_layout(text) if text else None


def encode_layout(where: JournalMap) -> str:
    periods = [_period_data(t) for t in where.periods.values()]
    lessons = None
    if where.lessons_tab is not None:
        x = where.lessons_tab
        lessons = {"title": x.title, "header_row": x.header_row,
                   "rows": [[d.isoformat(), n, r] for (d, n), r in x.rows.items()],
                   "columns": dict(x.columns), "end_row": x.end_row}
    return json.dumps({"periods": periods, "lessons": lessons, "findings": where.findings_tab},
                      ensure_ascii=False, sort_keys=True)


def decode_layout(text: str) -> JournalMap:
    data: dict[str, Any] = json.loads(text)
    periods = {t["period"]: _period_map(t) for t in data["periods"]}
    x = data["lessons"]
    lessons = None if x is None else LessonsTabMap(
        title=x["title"], header_row=x["header_row"],
        rows={(date.fromisoformat(d), n): r for d, n, r in x["rows"]}, columns=x["columns"],
        end_row=x["end_row"])
    return JournalMap(periods=periods, lessons_tab=lessons, findings_tab=data["findings"])


def encode_period_tab(tab: PeriodTabMap) -> str:
    """One period tab's map as JSON (``sync.jobs.settled`` keeps it as one string)."""
    return json.dumps(_period_data(tab), ensure_ascii=False, sort_keys=True)


def decode_period_tab(text: str) -> PeriodTabMap:
    return _period_map(json.loads(text))


def _period_data(t: PeriodTabMap) -> dict[str, Any]:
    return {
        "title": t.title, "period": t.period, "header_row": t.header_row, "id_col": t.id_col,
        "rows": dict(t.rows), "pupil_at": {str(r): p for r, p in t.pupil_at.items()},
        "columns": [[d.isoformat(), n, c] for (d, n), c in t.columns.items()],
        "work_type_row": t.work_type_row, "average_col": t.average_col,
        "recommended_col": t.recommended_col, "period_col": t.period_col, "end_row": t.end_row,
    }


def _period_map(t: dict[str, Any]) -> PeriodTabMap:
    return PeriodTabMap(
        title=t["title"], period=t["period"], header_row=t["header_row"], id_col=t["id_col"],
        rows=t["rows"], pupil_at={int(r): p for r, p in t["pupil_at"].items()},
        columns={(date.fromisoformat(d), n): c for d, n, c in t["columns"]},
        work_type_row=t["work_type_row"], average_col=t["average_col"],
        recommended_col=t["recommended_col"], period_col=t["period_col"],
        end_row=t["end_row"])
