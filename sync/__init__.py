"""I/O edge of ejournal: spreadsheet backends, the ledger, the sync engine, the daemon and the CLI."""
