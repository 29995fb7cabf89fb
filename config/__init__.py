"""Typed configuration: TOML + CSV school data → validated objects of ``rules.model``.

``load_school(path, environ)`` reads ``school.toml`` and the CSV files beside it and returns a
frozen :class:`School`, or raises one ``ConfigError`` listing every problem with its file and line
or field.
"""

from __future__ import annotations

from config.loader import load_school
from config.school import BackendKind, BackendSettings, ScheduleSettings, School, Substitution

__all__ = [
    "BackendKind",
    "BackendSettings",
    "ScheduleSettings",
    "School",
    "Substitution",
    "load_school",
]
