"""Tests of sync/ledger/."""
