"""Tests of sync/jobs/."""
