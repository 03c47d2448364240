"""The demo source: replays bundled, invented sample events; also the in-memory fake for tests.

It needs no credentials, so a fresh install shows the whole pipeline working. Posting "succeeds"
in memory only: nothing leaves the machine.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from importlib import resources
from typing import ClassVar

from connectors.base import AccountSpec, CannotVerify, ConnectorError, IncomingEvent, Page


@dataclass(frozen=True)
class DemoItem:
    """One bundled sample: the stream it arrives on and the event it becomes."""

    stream: str
    event: IncomingEvent


def load_bundled_items(now: datetime) -> list[DemoItem]:
    """Read `data/demo_events.json`; ages are relative to `now` so the demo queue looks fresh."""
    raw = json.loads(resources.files("connectors").joinpath("data/demo_events.json").read_text("utf-8"))
    items = []
    for entry in raw["events"]:
        event = IncomingEvent(
            platform=entry["platform"],
            kind=entry["kind"],
            external_id=entry["id"],
            text=entry["text"],
            created_at=now - timedelta(minutes=entry["minutes_ago"]),
            author_handle=entry.get("author"),
            url=f"https://demo.invalid/{entry['platform']}/{entry['id']}",
            rating=entry.get("rating"),
        )
        items.append(DemoItem(entry["stream"], event))
    return items


class DemoConnector:
    """Serves the bundled events of its account's platform, one page per stream."""

    name: ClassVar[str] = "demo"
    streams: ClassVar[tuple[str, ...]] = (
        "comments",
        "messages",
        "followers",
        "mentions",
        "inbox",
        "reviews",
    )

    def __init__(
        self,
        spec: AccountSpec,
        *,
        items: Sequence[DemoItem] | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self.spec = spec
        all_items = list(items) if items is not None else load_bundled_items(clock())
        self.items = [i for i in all_items if i.event.platform == spec.platform]
        self.posted: dict[str, tuple[str, str]] = {}  # reply id -> (event external id, text)
        self.hidden: set[str] = set()  # external ids of comments hidden by staff

    def fetch(self, stream: str, cursor: str | None) -> Page:
        """Events of `stream` after position `cursor` (an index into the bundled list)."""
        if stream not in self.streams:
            raise ConnectorError(f"demo source has no stream {stream!r}", permanent=True)
        start = int(cursor) if cursor else 0
        on_stream = [i.event for i in self.items if i.stream == stream]
        return Page(events=tuple(on_stream[start:]), next_cursor=str(len(on_stream)))

    def post_reply(self, event: IncomingEvent, text: str) -> str:
        """Record the reply in memory and return a made-up platform id."""
        reply_id = f"demo-reply-{len(self.posted) + 1}-{event.external_id}"
        self.posted[reply_id] = (event.external_id, text)
        return reply_id

    def find_reply(self, event: IncomingEvent, text: str) -> str | None:
        """Look in memory; a new process has no memory of earlier posts, so it cannot tell."""
        if not self.posted:
            raise CannotVerify("the demo source keeps no record of replies posted by an earlier process")
        for reply_id, (external_id, posted_text) in self.posted.items():
            if external_id == event.external_id and posted_text == text:
                return reply_id
        return None

    def hide_comment(self, event: IncomingEvent, hidden: bool = True) -> None:
        """Hide or unhide a comment in memory (CanHide), so the demo shows the staff page's hide button."""
        if event.kind != "comment":
            raise ConnectorError(f"only comments can be hidden, not a {event.kind}", permanent=True)
        if hidden:
            self.hidden.add(event.external_id)
        else:
            self.hidden.discard(event.external_id)

    def check_auth(self) -> None:
        """The demo source needs no credentials."""
