"""How each spreadsheet looks and is read back: the journal, the class spreadsheet, the admin
spreadsheet, and the Russian label catalog. Pure: builds specs, parses grids, no I/O.

May import only ``backends.protocol`` (the vocabulary of grids, ranges and tabs): never a backend,
the ledger or a job.
"""
