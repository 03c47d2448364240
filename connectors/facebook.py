"""A Facebook Page: comments and visitor posts, Messenger conversations, follower counts (facebook-sdk 3.1.0).

Reads with the Page access token through the Graph API; replies and hides only when the outbox asks
(after staff approval). No endpoint lists who follows a Page, only `followers_count` (PLATFORMS §1.4),
so the "followers" stream turns a rise in that count into one author-less `follow` event per new
follower: the digest counts them and policy P2 ("we do not track who follows") holds by construction.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar
from urllib.parse import parse_qs, urlsplit

from connectors.base import AccountSpec, AuthExpired, CannotVerify, ConnectorError, IncomingEvent, Page
from connectors.http_common import utc_now
from connectors.meta_common import GraphClient, GraphGone, count_option, numeric_option
from connectors.meta_inbox import Inbox
from connectors.meta_parse import (
    TimeCursor,
    author_of,
    created_utc,
    data_list,
    graph_time,
    next_args,
    read_time_cursor,
    same_text,
    unique,
)

log = logging.getLogger(__name__)

NEEDS_READ = "pages_read_engagement, pages_read_user_content"
NEEDS_WRITE = "pages_manage_engagement"
NEEDS_DM = "pages_messaging, pages_manage_metadata"
#: What `check_auth` expects the token to carry (Permissions reference; PLATFORMS §1.6).
REQUIRED = {
    "pages_show_list": "to find the Page",
    "pages_read_engagement": "to read posts, comments and the follower count",
    "pages_read_user_content": "to read visitors' posts and comments",
    "pages_manage_engagement": "to reply to and hide comments",
    "pages_manage_metadata": "to read Messenger conversations",
    "pages_messaging": "to read and answer Messenger messages",
}
COMMENT_FIELDS = "id,message,created_time,from,parent{id},permalink_url,is_hidden"
#: `filter(stream)` includes replies; newest first, so paging stops at the cursor (Comments reference).
FEED_FIELDS = (
    "id,message,created_time,from,permalink_url,"
    f"comments.filter(stream).order(reverse_chronological).limit(50){{{COMMENT_FIELDS}}}"
)
MAX_COMMENT_PAGES = 5
MAX_FOLLOW_EVENTS = 500


def _from_permalink(url: object, post_id: str) -> tuple[str, str | None] | None:
    """(comment id, parent comment id) rebuilt from a permalink's `comment_id` / `reply_comment_id`.

    Since v11 a comment's `id` is returned only if the token's user can MODERATE the Page (Page Post
    Comments reference); the text still comes. Ids take the documented `{post}_{comment}` form.
    """
    if not isinstance(url, str):
        return None
    query = parse_qs(urlsplit(url).query)
    post = post_id.rsplit("_", 1)[-1]
    comment, reply = query.get("comment_id"), query.get("reply_comment_id")
    if reply and comment:
        return f"{post}_{reply[0]}", f"{post}_{comment[0]}"
    return (f"{post}_{comment[0]}", None) if comment else None


def parse_comment(
    raw: Mapping[str, Any], post_id: str, page_id: str, *, fetched_at: datetime
) -> tuple[str, datetime, IncomingEvent | None, bool] | None:
    """(id, time, event or None for the Page's own comment, id was rebuilt) of one comment; None if no id."""
    comment_id, parent_id, rebuilt = raw.get("id"), None, False
    if not isinstance(comment_id, str) or not comment_id:
        found = _from_permalink(raw.get("permalink_url"), post_id)
        if found is None:
            return None
        (comment_id, parent_id), rebuilt = found, True
    parent = raw.get("parent")
    if isinstance(parent, Mapping) and isinstance(parent.get("id"), str):
        parent_id = parent["id"]
    when = graph_time(raw.get("created_time")) or fetched_at
    sender_id, handle = author_of(raw)
    if sender_id == page_id:
        return comment_id, when, None, rebuilt
    text, url = raw.get("message"), raw.get("permalink_url")
    event = IncomingEvent(
        platform="facebook",
        kind="comment",
        external_id=comment_id,
        text=text if isinstance(text, str) else "",  # a sticker- or photo-only comment has no message
        created_at=when,
        author_handle=handle,
        url=url if isinstance(url, str) else None,
        parent_id=parent_id or post_id,
        thread_id=post_id,
    )
    return comment_id, when, event, rebuilt


class FacebookPageConnector:
    """One Facebook Page, read and answered with a Page access token."""

    name: ClassVar[str] = "facebook"
    streams: ClassVar[tuple[str, ...]] = ("comments", "messages", "followers")

    def __init__(self, spec: AccountSpec, *, graph: Any = None, clock: Callable[[], datetime] = utc_now) -> None:
        self.spec = spec
        self._client = GraphClient(spec, doc="facebook", graph=graph, clock=clock)
        self.page_id = numeric_option(spec, "page_id", "facebook")
        self._max_posts = count_option(spec, "max_posts", 25, 100)
        self._clock = clock
        self._inbox = Inbox(self._client, self.page_id, "messenger", self.page_id, "facebook", spec.name, NEEDS_DM)

    # --- reading

    def fetch(self, stream: str, cursor: str | None) -> Page:
        """Comments (and visitors' posts), Messenger messages, or follower-count rises since `cursor`."""
        if stream not in self.streams:
            raise ConnectorError(f"the facebook source has no stream {stream!r}", permanent=True)
        now = self._clock()
        if stream == "messages":
            return self._inbox.fetch(cursor, now)
        if stream == "followers":
            return self._followers(cursor, now)
        return self._comments(cursor, now)

    def _comments(self, cursor: str | None, now: datetime) -> Page:
        """The newest `max_posts` posts of the Page feed with their comments, newest first.

        Comments on older posts are not seen (a limit of polling; webhooks would lift it). The first poll
        reads the last 7 days only.
        """
        state = read_time_cursor(cursor, now, self.spec.name)
        what = f"facebook comments for account {self.spec.name}"
        events: list[IncomingEvent] = []
        considered: list[tuple[str, datetime]] = []
        rebuilt = scanned = 0
        args: dict[str, Any] | None = {"fields": FEED_FIELDS, "limit": min(25, self._max_posts)}
        while args is not None and scanned < self._max_posts:
            body = self._client.get(f"{self.page_id}/feed", args, what, needs=NEEDS_READ)
            posts = data_list(body)[: self._max_posts - scanned]
            for post in posts:
                rebuilt += self._read_post(post, state, now, what, events, considered)
            scanned += len(posts)
            args = next_args(body) if posts else None
        if rebuilt:
            log.warning(
                "facebook account %s: %d comment(s) came without an id (the token's user cannot MODERATE the "
                "Page); ids were rebuilt from permalinks",
                self.spec.name,
                rebuilt,
            )
        return Page(unique(events), state.advance(considered))

    def _read_post(
        self,
        post: Mapping[str, Any],
        state: TimeCursor,
        now: datetime,
        what: str,
        events: list[IncomingEvent],
        considered: list[tuple[str, datetime]],
    ) -> int:
        """Collect a visitor's post and the post's new comments; return how many comment ids were rebuilt."""
        post_id = post.get("id")
        if not isinstance(post_id, str) or not post_id:
            return 0
        when = graph_time(post.get("created_time")) or now
        sender_id, handle = author_of(post)
        considered.append((post_id, when))
        if sender_id is not None and sender_id != self.page_id and state.is_new(post_id, when):
            text, url = post.get("message"), post.get("permalink_url")
            events.append(  # a post by someone else on the Page (or tagging it) is public text about the practice
                IncomingEvent(
                    platform="facebook",
                    kind="mention",
                    external_id=post_id,
                    text=text if isinstance(text, str) else "",
                    created_at=when,
                    author_handle=handle,
                    url=url if isinstance(url, str) else None,
                    thread_id=post_id,
                )
            )
        rebuilt = 0
        comments = post.get("comments") if isinstance(post.get("comments"), dict) else {}
        for _ in range(MAX_COMMENT_PAGES):
            older = False
            for raw in data_list(comments):
                parsed = parse_comment(raw, post_id, self.page_id, fetched_at=now)
                if parsed is None:
                    continue
                comment_id, at, event, was_rebuilt = parsed
                if at < state.floor:
                    older = True
                    break
                considered.append((comment_id, at))
                rebuilt += was_rebuilt
                if event is not None and state.is_new(comment_id, at):
                    events.append(event)
            more = None if older else next_args(comments)
            if more is None:
                return rebuilt
            try:
                comments = self._client.get(f"{post_id}/comments", more, what, needs=NEEDS_READ)
            except GraphGone:  # the post was deleted between two pages
                log.info("facebook account %s: a post vanished while reading its comments", self.spec.name)
                return rebuilt
        return rebuilt

    def _followers(self, cursor: str | None, now: datetime) -> Page:
        """One author-less `follow` event per follower gained since the last count (cursor: count + seq).

        The first poll records the count only. `seq` numbers each rise so event ids stay unique when the
        count falls and rises again, yet a re-poll from the same cursor yields the same ids (dedupe). It
        starts at the Unix time of the first poll, so a lost cursor never reuses the ids of earlier rises.
        """
        what = f"facebook follower count for account {self.spec.name}"
        body = self._client.get(self.page_id, {"fields": "followers_count,fan_count"}, what, needs=NEEDS_READ)
        count = next((v for k in ("followers_count", "fan_count") if isinstance(v := body.get(k), int)), None)
        if count is None or isinstance(count, bool):
            log.warning("facebook account %s: the Page answered without a follower count", self.spec.name)
            return Page()
        try:
            old = json.loads(cursor) if cursor else None
            before, seq = (int(old["count"]), int(old["seq"])) if old is not None else (None, int(now.timestamp()))
        except (ValueError, TypeError, KeyError):
            log.warning("facebook account %s: unreadable follower cursor; counting afresh", self.spec.name)
            before, seq = None, int(now.timestamp())
        if before is None or count <= before:
            return Page(next_cursor=json.dumps({"count": count, "seq": seq}))
        seq += 1
        gained = count - before
        if gained > MAX_FOLLOW_EVENTS:
            log.warning(
                "facebook account %s: %d new followers; recording %d", self.spec.name, gained, MAX_FOLLOW_EVENTS
            )
        events = tuple(
            IncomingEvent("facebook", "follow", f"{self.page_id}-followers-{seq}-{i}", "", now)
            for i in range(1, min(gained, MAX_FOLLOW_EVENTS) + 1)
        )
        return Page(events, json.dumps({"count": count, "seq": seq}))

    # --- writing (only ever called by monitor/outbox.py after staff approval)

    def _target(self, event: IncomingEvent) -> str:
        """Where a public reply goes: a reply's top-level comment (threads are two deep), else the item itself."""
        if event.kind == "comment" and event.parent_id and event.thread_id and event.parent_id != event.thread_id:
            return event.parent_id
        return event.external_id

    def _check_kind(self, event: IncomingEvent, kinds: tuple[str, ...], action: str) -> None:
        if event.platform != "facebook" or event.kind not in kinds:
            raise ConnectorError(f"the facebook source cannot {action} a {event.kind!r} item", permanent=True)

    def post_reply(self, event: IncomingEvent, text: str) -> str:
        """Answer a DM through the Send API, or a comment or post with a comment (POST /{id}/comments)."""
        self._check_kind(event, ("comment", "mention", "dm"), "reply to")
        if event.kind == "dm":
            return self._inbox.reply(event, text, self._clock())
        what = f"facebook comment reply for account {self.spec.name}"
        sent = self._client.post(f"{self._target(event)}/comments", {"message": text}, what, needs=NEEDS_WRITE)
        reply_id = sent.get("id")
        if not isinstance(reply_id, str) or not reply_id:
            raise ConnectorError(f"{what}: Meta accepted the comment but gave no id; check the Page", permanent=True)
        return reply_id

    def find_reply(self, event: IncomingEvent, text: str) -> str | None:
        """The Page's own comment or message with `text` after `event`, newest first; None if there is none."""
        self._check_kind(event, ("comment", "mention", "dm"), "look for replies to")
        if event.kind == "dm":
            return self._inbox.find_reply(event, text)
        what = f"facebook reply lookup for account {self.spec.name}"
        args: dict[str, Any] | None = {
            "fields": "id,message,created_time,from",
            "order": "reverse_chronological",
            "limit": 50,
        }
        for _ in range(MAX_COMMENT_PAGES):
            assert args is not None
            body = self._client.get(f"{self._target(event)}/comments", args, what, needs=NEEDS_READ)
            for raw in data_list(body):
                when = graph_time(raw.get("created_time"))
                if when is not None and when < created_utc(event):
                    return None
                if same_text(raw.get("message"), text) and isinstance(raw.get("id"), str):
                    sender_id, _ = author_of(raw)
                    if sender_id == self.page_id:
                        return str(raw["id"])
                    if sender_id is None:
                        raise CannotVerify(f"{what}: a comment with that text has no author; look on the Page")
            args = next_args(body)
            if args is None:
                return None
        raise CannotVerify(f"{what}: too many comments since the original to check; look on the Page")

    def hide_comment(self, event: IncomingEvent, hidden: bool = True) -> None:
        """Hide (or unhide) a comment or visitor post: POST /{id} is_hidden=true (Comment reference, Updating)."""
        self._check_kind(event, ("comment", "mention"), "hide")
        what = f"facebook {'hide' if hidden else 'unhide'} for account {self.spec.name}"
        form = {"is_hidden": "true" if hidden else "false"}
        result = self._client.post(event.external_id, form, what, needs=NEEDS_WRITE, idempotent=True)
        if result.get("success") is not True:
            raise ConnectorError(f"{what}: Meta did not confirm the change", permanent=False)

    def check_auth(self) -> None:
        """The token is this Page's, carries the permissions, and can read the feed and the inbox."""
        what = f"facebook check for account {self.spec.name}"
        me = self._client.get("me", {"fields": "id"}, what)
        if str(me.get("id")) != self.page_id:
            raise AuthExpired(
                f"FACEBOOK_PAGE_TOKEN is not a Page access token of page_id {self.page_id} (it belongs to another "
                "Page or to a person). Generate a Page access token for this Page (see docs/platforms/facebook.md)."
            )
        self._client.scopes(REQUIRED, what)
        probe = {"fields": "id,comments.limit(1){id,message,from}", "limit": 1}
        self._client.get(f"{self.page_id}/feed", probe, what, needs=NEEDS_READ)
        probe = {"platform": "messenger", "fields": "id", "limit": 1}
        self._client.get(f"{self.page_id}/conversations", probe, what, needs=NEEDS_DM)
