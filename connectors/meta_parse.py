"""Pure helpers for Graph API payloads and the connectors' cursors (no I/O, no clock).

Shapes from the Graph API reference: edges answer `{"data": [...], "paging": {"cursors": {...},
"next": url}}`; times are ISO 8601 with a "+0000" offset ("2021-07-23T09:50:48+0000"), or Unix
timestamps on the Conversations API (Paginated Results guide; Conversations API guide).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

from connectors.base import IncomingEvent
from connectors.http_common import parse_utc

log = logging.getLogger(__name__)

#: The first poll of a stream (no cursor) reads back this far only, so old items raise no alerts.
FIRST_POLL_WINDOW = timedelta(days=7)
#: Items become visible a little after their created_time; re-read this much and skip ids in `seen`.
OVERLAP = timedelta(minutes=10)
SEEN_CAP = 300


def graph_time(value: object) -> datetime | None:
    """A Graph time ("2021-07-23T09:50:48+0000", or a Unix timestamp on some edges) in UTC; None if unreadable."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float) or (isinstance(value, str) and value.strip().isdigit()):
        try:
            return datetime.fromtimestamp(float(value), UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        return parse_utc(value)
    except ValueError:
        return None


def created_utc(event: IncomingEvent) -> datetime:
    """The event's time as aware UTC (stored events are aware; a naive one is taken as UTC)."""
    when = event.created_at
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when


def data_list(body: Mapping[str, Any] | None) -> list[dict[str, Any]]:
    """The objects in an edge's `data` array (anything that is not an object is dropped)."""
    items = body.get("data") if isinstance(body, Mapping) else None
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def next_args(body: Mapping[str, Any] | None) -> dict[str, str] | None:
    """The query of `paging.next` without the token, to request the next page; None on the last page.

    Works for cursor (`after=`) and time-based (`until=`/`__paging_token=`) paging alike. Reading the URL
    ourselves avoids facebook-sdk's `get_all_connections`, which fails if `next` lacks access_token.
    """
    paging = body.get("paging") if isinstance(body, Mapping) else None
    url = paging.get("next") if isinstance(paging, Mapping) else None
    if not isinstance(url, str) or not url:
        return None
    query = parse_qs(urlsplit(url).query, keep_blank_values=True)
    return {k: v[-1] for k, v in query.items() if k not in ("access_token", "appsecret_proof")}


def author_of(raw: Mapping[str, Any]) -> tuple[str | None, str | None]:
    """(id, display handle) of `from`: a Facebook name or an Instagram username; Nones when absent."""
    sender = raw.get("from")
    sender = sender if isinstance(sender, Mapping) else {}
    sender_id = sender.get("id")
    handle = sender.get("username") or sender.get("name") or raw.get("username")
    return (str(sender_id) if sender_id else None, handle if isinstance(handle, str) and handle else None)


def same_text(a: object, b: str) -> bool:
    """Whether a platform's copy of a reply is the text we sent (Meta trims surrounding whitespace)."""
    return isinstance(a, str) and " ".join(a.split()) == " ".join(b.split())


def unique(events: Iterable[IncomingEvent]) -> tuple[IncomingEvent, ...]:
    """Each id once, first seen kept: a page can repeat an item when the list shifts while paging."""
    first: dict[str, IncomingEvent] = {}
    for event in events:
        first.setdefault(event.external_id, event)
    return tuple(first.values())


# --- cursors


@dataclass(frozen=True)
class TimeCursor:
    """Where a time-ordered stream stands: the newest time seen, and the ids seen in the overlap before it."""

    since: datetime
    seen: frozenset[str] = frozenset()

    @property
    def floor(self) -> datetime:
        return self.since - OVERLAP

    def is_new(self, item_id: str, when: datetime) -> bool:
        return when >= self.floor and item_id not in self.seen

    def advance(self, considered: Iterable[tuple[str, datetime]]) -> str:
        """The next cursor after reading `considered` (every item at or after `floor`, new or not)."""
        items = [(i, t) for i, t in considered if t >= self.floor]
        newest = max([self.since, *(t for _, t in items)])
        recent = sorted((t, i) for i, t in items if t >= newest - OVERLAP)[-SEEN_CAP:]
        return json.dumps({"since": newest.isoformat(), "seen": sorted(i for _, i in recent)})


def read_time_cursor(cursor: str | None, now: datetime, account: str) -> TimeCursor:
    """The cursor a previous fetch returned; none or unreadable starts FIRST_POLL_WINDOW back."""
    if cursor:
        try:
            raw = json.loads(cursor)
            since = parse_utc(str(raw["since"]))
            seen = raw.get("seen", [])
            return TimeCursor(since, frozenset(str(s) for s in seen if isinstance(s, str)))
        except (ValueError, TypeError, KeyError, AttributeError):
            log.warning("meta account %s: unreadable cursor ignored; starting from the last 7 days", account)
    return TimeCursor(now - FIRST_POLL_WINDOW)
