"""The connector interface: what every source of events implements, and its typed errors.

Connectors know platforms and nothing else: they import nothing from `monitor` or `rules`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar, Literal, Protocol, get_args

EventKind = Literal["comment", "dm", "mention", "review", "follow"]
EVENT_KINDS: frozenset[str] = frozenset(get_args(EventKind))

Platform = Literal["facebook", "instagram", "x", "reddit", "google", "yelp", "healthgrades", "rss"]
PLATFORMS: frozenset[str] = frozenset(get_args(Platform))


@dataclass(frozen=True)
class IncomingEvent:
    """One normalised item from a platform, before it is stored.

    `text` may be `bytes` when a source could not decode it; the pipeline repairs invalid UTF-8.
    """

    platform: str
    kind: str
    external_id: str
    text: str | bytes
    created_at: datetime
    author_handle: str | None = None
    url: str | None = None
    parent_id: str | None = None
    thread_id: str | None = None
    rating: int | None = None


@dataclass(frozen=True)
class Page:
    """What one `fetch` returns: events, and the cursor to pass next time (None = unchanged)."""

    events: tuple[IncomingEvent, ...] = ()
    next_cursor: str | None = None


@dataclass(frozen=True)
class AccountSpec:
    """How to build a connector for one configured account: plain data, no secrets in repr."""

    name: str
    platform: str
    options: Mapping[str, object] = field(default_factory=dict)
    secrets: Mapping[str, str] = field(default_factory=dict, repr=False)


class ConnectorError(Exception):
    """A platform call failed. `permanent` errors are not retried (bad request, gone, forbidden)."""

    def __init__(self, message: str, *, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


class RateLimited(ConnectorError):
    """The platform asked us to wait `retry_after` seconds."""

    def __init__(self, message: str, *, retry_after: float | None = None) -> None:
        super().__init__(message, permanent=False)
        self.retry_after = retry_after


class AuthExpired(ConnectorError):
    """The account's credentials are expired, revoked or missing a permission; staff must act."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


class CannotVerify(ConnectorError):
    """The platform cannot tell whether an earlier reply was posted (exactly-once recovery)."""


class Connector(Protocol):
    """A source of events for one account, and the only way a reply reaches a platform."""

    name: ClassVar[str]
    streams: ClassVar[tuple[str, ...]]

    def fetch(self, stream: str, cursor: str | None) -> Page:
        """Read-only: the events after `cursor` on `stream`."""
        ...

    def post_reply(self, event: IncomingEvent, text: str) -> str:
        """Post `text` as a reply to `event`; return the platform's id of the new reply."""
        ...

    def find_reply(self, event: IncomingEvent, text: str) -> str | None:
        """The id of an earlier reply with `text` to `event`, None if there is none.

        Raises CannotVerify when the platform cannot tell (then staff must look).
        """
        ...

    def check_auth(self) -> None:
        """Raise AuthExpired if the credentials do not work."""
        ...


class CanHide(Protocol):
    """Optional capability: hide or unhide a public comment (policy P6: clinical details in public)."""

    def hide_comment(self, event: IncomingEvent, hidden: bool = True) -> None:
        """Hide (or unhide) the comment `event`; raises ConnectorError if the platform refuses."""
        ...
