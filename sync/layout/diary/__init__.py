"""The pupil's diary spreadsheet: its layout (``spec``), rendered from ``rules.diary``; never read
back (the ledger is the master copy)."""
