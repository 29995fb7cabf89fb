"""The ledger, the master copy of the journal: the SQLite database (``db``, ``schema``, ``migrations``),
the transaction and its per-topic parts (``ledger`` with ``files``, ``entries``, ``locks``,
``absences``, ``corrections``, ``findings``; records in ``model``; state keys in ``state``), the
audit hash chain (``audit``), and backup/restore (``backup``).

May import only ``backends.protocol`` (roles, grants, cell ranges): never a backend, a layout or a job.
"""
