"""Tests of sync/backends/."""
