"""The ledger, the master copy of the journal: the SQLite database (``db``, ``schema``, ``migrations``),
the transaction and its per-topic parts (``ledger`` with ``files``, ``entries``, ``locks``,
``absences``, ``corrections``, ``findings``; records in ``model``; state keys in ``state``), the
audit hash chain (``audit``) that covers the data (``seals``), the whole check of a ledger file
(``verify``), the head anchored outside the database and the 0600 files (``anchor``), and
backup/restore (``backup``).

May import only ``backends.protocol`` (roles, grants, cell ranges): never a backend, a layout or a job.
"""
