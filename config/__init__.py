"""Typed configuration: TOML + CSV school data → validated objects of ``rules.model``."""
