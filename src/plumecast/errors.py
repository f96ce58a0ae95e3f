"""Errors that plumecast reports to users.

Everything a user can get wrong (a scenario key, a met file, a receptor list)
raises a subclass of :class:`PlumecastError`. The command line catches these and
prints their message without a traceback; anything else is a bug in plumecast.
Each message names the file, the key or value, and what was expected.
"""

from __future__ import annotations

from pathlib import Path


class PlumecastError(Exception):
    """A problem with the user's input, reported without a traceback."""


class ScenarioError(PlumecastError):
    """A scenario file is malformed or holds an impossible value."""


class MetDataError(PlumecastError):
    """A meteorological file cannot be used (no winds, NaNs, wrong coverage...)."""


class DataFileError(PlumecastError):
    """A user data file (receptor list, agent table, measurements) is malformed."""


class OutputPathError(PlumecastError):
    """An output file or folder cannot be created or written (a file in the way,
    permission denied, read-only file system)."""


class BackendUnavailableError(PlumecastError):
    """A compute backend was asked for by name but cannot be used here."""


def where(path: str | Path | None, key: str | None = None) -> str:
    """Format a location prefix: ``'file.yaml: releases.0.rate_kg_s: '``."""
    parts = []
    if path is not None:
        parts.append(str(path))
    if key:
        parts.append(key)
    return ": ".join(parts) + (": " if parts else "")
