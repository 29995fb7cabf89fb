"""Where the spreadsheets live: ``protocol`` (what the jobs need from a backend, and its vocabulary),
``google`` (Sheets v4 + Drive v3 through gspread) and ``local`` (a folder of ``.xlsx`` files).

A backend imports only ``protocol``: never the ledger, a layout or a job.
"""
