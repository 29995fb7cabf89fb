"""The command line ``ejournal`` (click): options, exit codes, and what it prints of each job.

May import every room of ``sync``; nothing imports it but ``python -m sync``.
"""
