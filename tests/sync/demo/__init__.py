"""Tests of sync/demo/."""
