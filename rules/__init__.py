"""Pure domain core of ejournal: stdlib only, no I/O, no clock (pass ``today``/``now`` in)."""
