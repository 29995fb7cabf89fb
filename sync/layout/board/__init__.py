"""The teachers' board: the weekly analysis of journal keeping as a read-only spreadsheet."""
