"""Pure parsing of Reddit listings (inbox items, search results, API errors) into `IncomingEvent`s.

Reddit wraps everything in "things": `{"kind": "t1"|"t3"|"t4", "data": {...}}` inside a
`{"kind": "Listing", "data": {"children": [...], "after": fullname}}` (Reddit API docs, "listings").
Tested on the listings recorded by praw's maintainers (../shared/api_recordings/praw).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connectors.base import IncomingEvent

SITE = "https://www.reddit.com"
DELETED = frozenset({"[deleted]", "[removed]"})
_FULLNAME = re.compile(r"^t[1-6]_[0-9a-z]{1,16}$")
_WAIT = re.compile(r"([0-9]{1,4}) (milliseconds?|seconds?|minutes?)")
_ERROR = re.compile(r"^[A-Z][A-Z0-9_]{0,60}$")


@dataclass(frozen=True)
class Item:
    """One listed thing: its fullname, time and event. No event for the practice's own or deleted things."""

    name: str
    created: float | None
    event: IncomingEvent | None
    deleted: bool = False


@dataclass(frozen=True)
class ListingCursor:
    """Where a newest-first listing stands: the newest `created_utc` seen and the things seen at that second."""

    since: float
    names: frozenset[str] = frozenset()

    def dump(self) -> str:
        return json.dumps({"created_utc": self.since, "names": sorted(self.names)})


def read_cursor(text: str) -> ListingCursor | None:
    """The cursor written by `ListingCursor.dump`, None if `text` is not one."""
    try:
        raw = json.loads(text)
        since, names = raw["created_utc"], raw["names"]
    except (ValueError, TypeError, KeyError):
        return None
    if not isinstance(since, int | float) or isinstance(since, bool) or not isinstance(names, list):
        return None
    return ListingCursor(float(since), frozenset(n for n in names if isinstance(n, str)))


def is_fullname(value: object) -> bool:
    """Whether `value` looks like a thing's fullname ("t1_abc123")."""
    return isinstance(value, str) and _FULLNAME.match(value) is not None


def listing(body: object) -> tuple[list[tuple[str, Mapping[str, Any]]], str | None] | None:
    """((kind, data) of each child, `after`) of a Listing; None if `body` is not a Listing."""
    if not isinstance(body, Mapping) or body.get("kind") != "Listing" or not isinstance(body.get("data"), Mapping):
        return None
    data = body["data"]
    children = data.get("children")
    out: list[tuple[str, Mapping[str, Any]]] = []
    for child in children if isinstance(children, list) else []:
        if isinstance(child, Mapping) and isinstance(child.get("kind"), str) and isinstance(child.get("data"), Mapping):
            out.append((child["kind"], child["data"]))
    after = data.get("after")
    return out, after if isinstance(after, str) and after else None


def created_utc(data: Mapping[str, Any]) -> float | None:
    value = data.get("created_utc")
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def reddit_time(value: float | None) -> datetime | None:
    return datetime.fromtimestamp(value, UTC) if value is not None else None


def _fullname(kind: str, data: Mapping[str, Any]) -> str | None:
    name = data.get("name")
    if is_fullname(name):
        return str(name)
    thing_id = data.get("id")
    candidate = f"{kind}_{thing_id}" if isinstance(thing_id, str) else None
    return candidate if is_fullname(candidate) else None


def _author(data: Mapping[str, Any]) -> str | None:
    author = data.get("author")
    return author if isinstance(author, str) and author and author not in DELETED else None


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def parse_inbox_item(kind: str, data: Mapping[str, Any], me: str, *, fetched_at: datetime) -> Item | None:
    """An inbox thing: a username mention (`mention`), a reply to the practice (`comment`) or a message (`dm`).

    None when it has no fullname or is of another kind. The practice's own things and deleted ones
    (body "[deleted]"/"[removed]") give an Item without an event.
    """
    name = _fullname(kind, data)
    if name is None or kind not in ("t1", "t4"):
        return None
    created = created_utc(data)
    author, body = _author(data), _text(data.get("body"))
    if author is not None and author.lower() == me.lower():
        return Item(name, created, None)
    if body in DELETED:
        return Item(name, created, None, deleted=True)
    when = reddit_time(created) or fetched_at
    parent = data.get("parent_id")
    parent_id = parent if is_fullname(parent) else None
    if kind == "t4":
        subject = _text(data.get("subject")).strip()
        text = body if not subject or subject.lower().startswith("re:") else f"{subject}\n\n{body}"
        first = data.get("first_message_name")
        event = IncomingEvent(
            platform="reddit",
            kind="dm",
            external_id=name,
            text=text,
            created_at=when,
            author_handle=author,
            url=f"{SITE}/message/messages/{name.removeprefix('t4_')}",
            parent_id=parent_id,
            thread_id=first if is_fullname(first) else name,
        )
        return Item(name, created, event)
    mention = data.get("type") == "username_mention" or _text(data.get("subject")) == "username mention"
    context = data.get("context")
    event = IncomingEvent(
        platform="reddit",
        kind="mention" if mention else "comment",
        external_id=name,
        text=body,
        created_at=when,
        author_handle=author,
        url=f"{SITE}{context}" if isinstance(context, str) and context.startswith("/") else None,
        parent_id=parent_id,
    )
    return Item(name, created, event)


def parse_submission(kind: str, data: Mapping[str, Any], me: str, *, fetched_at: datetime) -> Item | None:
    """A search result (a post naming the practice) as a `mention`: title and text together."""
    name = _fullname(kind, data)
    if name is None or kind != "t3":
        return None
    created = created_utc(data)
    author, selftext = _author(data), _text(data.get("selftext"))
    if author is not None and author.lower() == me.lower():
        return Item(name, created, None)
    if selftext in DELETED or data.get("removed_by_category"):
        return Item(name, created, None, deleted=True)
    title = _text(data.get("title")).strip()
    permalink = data.get("permalink")
    event = IncomingEvent(
        platform="reddit",
        kind="mention",
        external_id=name,
        text=f"{title}\n\n{selftext}".strip(),
        created_at=reddit_time(created) or fetched_at,
        author_handle=author,
        url=f"{SITE}{permalink}" if isinstance(permalink, str) and permalink.startswith("/") else None,
        thread_id=name,
    )
    return Item(name, created, event)


def api_errors(body: object) -> list[tuple[str, str]]:
    """(error type, message) of an `api_type=json` answer: `{"json": {"errors": [[type, message, field]]}}`."""
    payload = body.get("json") if isinstance(body, Mapping) else None
    errors = payload.get("errors") if isinstance(payload, Mapping) else None
    out: list[tuple[str, str]] = []
    for error in errors if isinstance(errors, list) else []:
        if isinstance(error, list) and error and isinstance(error[0], str):
            message = error[1] if len(error) > 1 and isinstance(error[1], str) else ""
            out.append((error[0] if _ERROR.match(error[0]) else "UNKNOWN", message))
    return out


def created_name(body: object) -> str | None:
    """The fullname of the comment or message that `POST /api/comment` created."""
    payload = body.get("json") if isinstance(body, Mapping) else None
    data = payload.get("data") if isinstance(payload, Mapping) else None
    things = data.get("things") if isinstance(data, Mapping) else None
    first = things[0] if isinstance(things, list) and things else None
    thing = first.get("data") if isinstance(first, Mapping) else None
    name = thing.get("name") if isinstance(thing, Mapping) else None
    return str(name) if is_fullname(name) else None


def ratelimit_seconds(message: str) -> float | None:
    """The wait in a RATELIMIT message ("Take a break for 5 minutes before trying again."), as praw reads it."""
    found = _WAIT.search(message)
    if found is None:
        return None
    amount, unit = int(found.group(1)), found.group(2)
    return float(amount * 60) if unit.startswith("minute") else 0.0 if unit.startswith("milli") else float(amount)


def same_text(posted: object, sent: str) -> bool:
    """Whether Reddit's copy of a reply is the text we sent (whitespace may differ)."""
    return isinstance(posted, str) and " ".join(posted.split()) == " ".join(sent.split())
