"""Pure parsing of X API v2 payloads (tweets, DM events, followers) into `IncomingEvent`s.

Kept apart from `connectors.x` so that it can be tested on the payloads recorded by tweepy's
maintainers (../shared/api_recordings/tweepy) without any client. Field names follow the v2 Tweet,
DM event and User objects (https://docs.x.com/x-api/fundamentals/data-dictionary).
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from connectors.base import IncomingEvent

_ID = re.compile(r"^[0-9]{1,20}$")
_URL = re.compile(r"https?://\S+")
_LEADING_MENTIONS = re.compile(r"^(?:@\w{1,50}\s+)+")


@dataclass(frozen=True)
class Item:
    """One tweet or DM event: its numeric id, its time, and its event (None for the practice's own)."""

    id: int
    created_at: datetime | None
    event: IncomingEvent | None


def numeric_id(value: object) -> int | None:
    """A snowflake id (X sends them as strings) as an int, or None if it is not one."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if value >= 0 else None
    if isinstance(value, str) and _ID.match(value):
        return int(value)
    return None


def x_time(value: object) -> datetime | None:
    """`created_at` ("2030-05-01T12:00:00.000Z", ISO 8601) as an aware UTC datetime, None if unreadable."""
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)


def data_items(body: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    """The objects in `data`; an empty page has no `data` at all (`{"meta": {"result_count": 0}}`)."""
    data = body.get("data")
    return [d for d in data if isinstance(d, Mapping)] if isinstance(data, list) else []


def next_token(body: Mapping[str, Any]) -> str | None:
    """`meta.next_token`, present while more pages exist (Pagination guide)."""
    meta = body.get("meta")
    token = meta.get("next_token") if isinstance(meta, Mapping) else None
    return token if isinstance(token, str) and token else None


def usernames(body: Mapping[str, Any]) -> dict[str, str]:
    """Expanded users (`includes.users`) by id: a suspended or deleted author is simply absent."""
    includes = body.get("includes")
    users = includes.get("users") if isinstance(includes, Mapping) else None
    out: dict[str, str] = {}
    for user in users if isinstance(users, list) else []:
        if isinstance(user, Mapping) and isinstance(user.get("id"), str) and isinstance(user.get("username"), str):
            out[user["id"]] = user["username"]
    return out


def replied_to(raw: Mapping[str, Any]) -> str | None:
    """The id of the tweet that `raw` replies to, if any."""
    refs = raw.get("referenced_tweets")
    for ref in refs if isinstance(refs, list) else []:
        if isinstance(ref, Mapping) and ref.get("type") == "replied_to" and isinstance(ref.get("id"), str):
            return str(ref["id"])
    return None


def tweet_text(raw: Mapping[str, Any]) -> str:
    """The full text: a post longer than 280 characters carries it in `note_tweet.text`."""
    note = raw.get("note_tweet")
    if isinstance(note, Mapping) and isinstance(note.get("text"), str):
        return str(note["text"])
    text = raw.get("text")
    return text if isinstance(text, str) else ""


def parse_tweet(
    raw: Mapping[str, Any], users: Mapping[str, str], practice_id: str, *, fetched_at: datetime
) -> Item | None:
    """A mention as an event: a reply to the practice is a `comment`, anything else a `mention`.

    None when the tweet has no id. The practice's own tweets give an Item without an event.
    """
    tweet_id = numeric_id(raw.get("id"))
    if tweet_id is None:
        return None
    created = x_time(raw.get("created_at"))
    author = raw.get("author_id")
    if isinstance(author, str) and author == practice_id:
        return Item(tweet_id, created, None)
    to_practice = raw.get("in_reply_to_user_id") == practice_id
    conversation = raw.get("conversation_id")
    event = IncomingEvent(
        platform="x",
        kind="comment" if to_practice else "mention",
        external_id=str(tweet_id),
        text=tweet_text(raw),
        created_at=created or fetched_at,
        author_handle=users.get(author) if isinstance(author, str) else None,
        # the id form of a post's address: it works without naming the author
        url=f"https://x.com/i/web/status/{tweet_id}",
        parent_id=replied_to(raw),
        thread_id=conversation if isinstance(conversation, str) else None,
    )
    return Item(tweet_id, created, event)


def parse_dm_event(
    raw: Mapping[str, Any], users: Mapping[str, str], practice_id: str, *, fetched_at: datetime
) -> Item | None:
    """A `MessageCreate` DM event as a `dm` event; the practice's own messages give no event.

    The conversation id goes to `thread_id`: the reply is sent to that conversation.
    """
    event_id = numeric_id(raw.get("id"))
    if event_id is None:
        return None
    created = x_time(raw.get("created_at"))
    sender = raw.get("sender_id")
    if raw.get("event_type", "MessageCreate") != "MessageCreate" or sender == practice_id:
        return Item(event_id, created, None)
    text, conversation = raw.get("text"), raw.get("dm_conversation_id")
    event = IncomingEvent(
        platform="x",
        kind="dm",
        external_id=str(event_id),
        text=text if isinstance(text, str) else "",  # a media-only message has no text
        created_at=created or fetched_at,
        author_handle=users.get(sender) if isinstance(sender, str) else None,
        thread_id=conversation if isinstance(conversation, str) and conversation else None,
    )
    return Item(event_id, created, event)


def parse_items(body: Mapping[str, Any], practice_id: str, *, dm: bool, fetched_at: datetime) -> tuple[list[Item], int]:
    """(items, number skipped for lack of an id) of one page of mentions or DM events."""
    users = usernames(body)
    parse = parse_dm_event if dm else parse_tweet
    items: list[Item] = []
    skipped = 0
    for raw in data_items(body):
        item = parse(raw, users, practice_id, fetched_at=fetched_at)
        if item is None:
            skipped += 1
        else:
            items.append(item)
    return items, skipped


def parse_followers(body: Mapping[str, Any]) -> list[tuple[str, str | None]]:
    """(user id, handle) of each follower on one page, in the order X lists them (newest first)."""
    out: list[tuple[str, str | None]] = []
    for raw in data_items(body):
        user_id, handle = raw.get("id"), raw.get("username")
        if isinstance(user_id, str) and user_id:
            out.append((user_id, handle if isinstance(handle, str) and handle else None))
    return out


def follower_digest(practice_id: str, follower_id: str) -> str:
    """A short one-way token for a follower: the cursor remembers followers without keeping their ids."""
    return hashlib.sha256(f"x-follower:{practice_id}:{follower_id}".encode()).hexdigest()[:16]


def _normal(text: str) -> str:
    text = _LEADING_MENTIONS.sub("", html.unescape(text).strip())
    return " ".join(_URL.sub("<link>", text).split())


def same_text(posted: object, sent: str) -> bool:
    """Whether X's copy of a post is the text we sent.

    X prefixes a reply with the handles it answers, escapes `&<>` as HTML entities in v2 `text`, and
    rewrites every link as a t.co link, so those differences are ignored.
    """
    return isinstance(posted, str) and _normal(posted) == _normal(sent)
