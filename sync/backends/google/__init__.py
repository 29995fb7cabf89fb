"""The ``google`` backend: the project's HTTP client (``http``: timeouts, retries, throttling),
credentials (``auth``), Drive calls (``drive``), specs as Sheets requests (``sheet_requests``) and the
backend itself (``backend``).
"""
