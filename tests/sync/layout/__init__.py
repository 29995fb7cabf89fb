"""Tests of sync/layout/."""
