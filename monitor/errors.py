"""Errors a user can act on. The CLI prints their message as one line and exits 2, no traceback."""

from __future__ import annotations


class MonitorError(Exception):
    """Base class: `str(err)` is a complete sentence naming the problem (never message text)."""


class ConfigError(MonitorError):
    """The .env settings or the policy file are wrong; the message names the key and an example."""


class NotFound(MonitorError):
    """A staff command named an item that does not exist."""


class InvalidState(MonitorError):
    """A staff command does not fit the item's state (e.g. approving a reply already sent)."""


class DatabaseProblem(MonitorError):
    """The database cannot be used (corrupt, locked, unreachable); nothing was changed."""
