"""Tests of sync/cli/."""
