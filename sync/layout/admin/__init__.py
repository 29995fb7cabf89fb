"""The admin spreadsheet with the deputy's «Исправления» tab: its spec (``spec``) and the reading of
its rows (``parse``).
"""
