"""The I/O edge of ejournal, as rooms that import downwards only (enforced by tests/test_layering.py).

``cli`` → ``demo`` → ``jobs`` → ``layout``, ``ledger``, ``backends`` (``google``, ``local``, and their
``protocol`` at the bottom). ``rules`` and ``config`` sit below them all.
"""
