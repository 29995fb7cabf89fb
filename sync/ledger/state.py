"""The ledger's key → value state (Drive change token, last lock run, audit head), as two functions.

Kept apart so the audit log and the transaction's ``state_get``/``state_set`` share one portable
upsert (UPDATE, then INSERT if nothing was there: no dialect-specific ON CONFLICT).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from sync.ledger import schema as t


def get_state(connection: Connection, key: str) -> str | None:
    """The value stored under ``key``, or None."""
    return connection.execute(select(t.state.c.value).where(t.state.c.key == key)).scalar()


def put_state(connection: Connection, key: str, value: str, now: datetime) -> None:
    """Store ``value`` under ``key``."""
    done = connection.execute(
        update(t.state).where(t.state.c.key == key).values(value=value, updated_at=now)
    )
    if done.rowcount == 0:
        connection.execute(insert(t.state).values(key=key, value=value, updated_at=now))
