"""The class spreadsheet kept by the class teacher: its spec (``spec``), the roster parser and shared
row helpers (``parse``), and the «Посещаемость» tab with absence reasons (``attendance``).
"""
