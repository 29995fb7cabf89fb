"""``ejournal demo``: the example school in a folder, simulated teachers typing school days, and the
jobs run on a simulated clock.

May import ``jobs`` and the rooms below it (``layout``, ``ledger``, ``backends``).
"""
