"""What the service does: the sync cycle, the nightly lock job, setup, repair, sharing,
substitutions, the deputy's corrections, the daemon, and their run summaries.

``service.py`` wires one school's backend, ledger and clock. May import ``layout``, ``ledger`` and
``backends``; never ``demo`` or ``cli``.
"""
