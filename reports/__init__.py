"""Reports: pandas frames from ledger snapshots, written as Excel workbooks with xlsxwriter."""
