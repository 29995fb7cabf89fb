"""The ``local`` backend, the embedded default: spreadsheets as ``.xlsx`` files in one folder
(``backend``), with workbook access (``xlsx``), edits (``edits``), file I/O and versions (``io``),
filesystem helpers (``files``) and the sidecar manifest of what Drive would know (``manifest``).
"""
