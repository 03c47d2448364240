"""An Instagram professional account linked to the practice's Facebook Page (Graph API, facebook-sdk 3.1.0).

Uses graph.facebook.com with the Page access token ("Instagram API with Facebook Login"):
- comments: comments and replies on the account's newest media (`GET /{ig-user-id}/media`, comments and
  their replies expanded in the same call);
- mentions: media the account is tagged in (`GET /{ig-user-id}/tags`). @mentions in other people's
  captions and comments cannot be listed: `mentioned_comment` / `mentioned_media` need the id that only
  a webhook delivers (Instagram Mentions guide), so they are not polled;
- messages: Instagram DMs through the linked Page's Conversations API (`platform=instagram`).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, ClassVar

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

NEEDS_READ = "instagram_basic, instagram_manage_comments, pages_read_engagement"
NEEDS_WRITE = "instagram_manage_comments"
NEEDS_DM = "instagram_manage_messages, pages_manage_metadata"
#: What `check_auth` expects the token to carry (IG comment moderation and messaging guides; PLATFORMS §1.6).
REQUIRED = {
    "instagram_basic": "to read the account's media and tags",
    "instagram_manage_comments": "to read, reply to and hide comments",
    "instagram_manage_messages": "to read and answer direct messages",
    "pages_show_list": "to find the Page linked to the account",
    "pages_read_engagement": "to use the Page token with the linked account",
    "pages_manage_metadata": "to read the linked Page's conversations",
}
COMMENT_FIELDS = "id,text,timestamp,username,from,hidden"
MEDIA_FIELDS = (
    f"id,timestamp,permalink,comments_count,comments.limit(50){{{COMMENT_FIELDS},replies{{{COMMENT_FIELDS}}}}}"
)
TAG_FIELDS = "id,caption,timestamp,username,permalink,media_type"
MAX_COMMENT_PAGES = 3
MAX_TAG_PAGES = 4


def parse_ig_comment(
    raw: Mapping[str, Any],
    media_id: str,
    own_id: str,
    *,
    permalink: str | None,
    parent_id: str | None,
    fetched_at: datetime,
) -> tuple[str, datetime, IncomingEvent | None] | None:
    """(id, time, event or None for the account's own comment) of one IG Comment; None if it has no id.

    `hidden` comments are still events: staff may need to see what was hidden (policy P5, P6).
    """
    comment_id = raw.get("id")
    if not isinstance(comment_id, str) or not comment_id:
        return None
    when = graph_time(raw.get("timestamp")) or fetched_at
    sender_id, handle = author_of(raw)
    if sender_id == own_id:
        return comment_id, when, None
    text = raw.get("text")
    event = IncomingEvent(
        platform="instagram",
        kind="comment",
        external_id=comment_id,
        text=text if isinstance(text, str) else "",
        created_at=when,
        author_handle=handle,
        url=permalink,  # Instagram has no per-comment link; the media's
        parent_id=parent_id or media_id,
        thread_id=media_id,
    )
    return comment_id, when, event


class InstagramConnector:
    """One Instagram professional account, through the Page access token of the Page it is linked to."""

    name: ClassVar[str] = "instagram"
    streams: ClassVar[tuple[str, ...]] = ("comments", "mentions", "messages")

    def __init__(self, spec: AccountSpec, *, graph: Any = None, clock: Callable[[], datetime] = utc_now) -> None:
        self.spec = spec
        self._client = GraphClient(spec, doc="instagram", graph=graph, clock=clock)
        self.ig_user_id = numeric_option(spec, "ig_user_id", "instagram")
        #: the Page the account is linked to; "me" is the Page of a Page token
        self.page = numeric_option(spec, "page_id", "instagram") if spec.options.get("page_id") else "me"
        self._max_media = count_option(spec, "max_media", 25, 100)
        self._clock = clock
        self._inbox = Inbox(self._client, self.page, "instagram", self.ig_user_id, "instagram", spec.name, NEEDS_DM)

    # --- reading

    def fetch(self, stream: str, cursor: str | None) -> Page:
        """Comments, tagged media or direct messages since `cursor` (the first poll reads 7 days back)."""
        if stream not in self.streams:
            raise ConnectorError(f"the instagram source has no stream {stream!r}", permanent=True)
        now = self._clock()
        if stream == "messages":
            return self._inbox.fetch(cursor, now)
        if stream == "mentions":
            return self._mentions(cursor, now)
        return self._comments(cursor, now)

    def _comments(self, cursor: str | None, now: datetime) -> Page:
        """Comments and replies on the newest `max_media` media; older media are not looked at."""
        state = read_time_cursor(cursor, now, self.spec.name)
        what = f"instagram comments for account {self.spec.name}"
        events: list[IncomingEvent] = []
        considered: list[tuple[str, datetime]] = []
        scanned = 0
        args: dict[str, Any] | None = {"fields": MEDIA_FIELDS, "limit": min(25, self._max_media)}
        while args is not None and scanned < self._max_media:
            body = self._client.get(f"{self.ig_user_id}/media", args, what, needs=NEEDS_READ)
            media = data_list(body)[: self._max_media - scanned]
            for item in media:
                self._read_media(item, state, now, what, events, considered)
            scanned += len(media)
            args = next_args(body) if media else None
        return Page(unique(events), state.advance(considered))

    def _read_media(
        self,
        item: Mapping[str, Any],
        state: TimeCursor,
        now: datetime,
        what: str,
        events: list[IncomingEvent],
        considered: list[tuple[str, datetime]],
    ) -> None:
        """Collect new comments of one media. Replies on an old comment can be new, so a page is read whole."""
        media_id, link = item.get("id"), item.get("permalink")
        if not isinstance(media_id, str) or not media_id or item.get("comments_count") == 0:
            return
        permalink = link if isinstance(link, str) else None
        comments = item.get("comments") if isinstance(item.get("comments"), dict) else {}
        for _ in range(MAX_COMMENT_PAGES):
            recent = False
            for raw in data_list(comments):
                entries = [(raw, None)] + [(r, raw.get("id")) for r in data_list(raw.get("replies"))]
                for entry, parent in entries:
                    parsed = parse_ig_comment(
                        entry,
                        media_id,
                        self.ig_user_id,
                        permalink=permalink,
                        parent_id=parent if isinstance(parent, str) else None,
                        fetched_at=now,
                    )
                    if parsed is None or parsed[1] < state.floor:
                        continue
                    comment_id, when, event = parsed
                    recent = True
                    considered.append((comment_id, when))
                    if event is not None and state.is_new(comment_id, when):
                        events.append(event)
            more = next_args(comments) if recent else None  # newest first: a page with nothing new ends it
            if more is None:
                return
            try:
                comments = self._client.get(f"{media_id}/comments", more, what, needs=NEEDS_READ)
            except GraphGone:
                log.info("instagram account %s: a media vanished while reading its comments", self.spec.name)
                return

    def _mentions(self, cursor: str | None, now: datetime) -> Page:
        """Media the account is tagged in, newest first, as `mention` events (caption as the text)."""
        state = read_time_cursor(cursor, now, self.spec.name)
        what = f"instagram mentions for account {self.spec.name}"
        events: list[IncomingEvent] = []
        considered: list[tuple[str, datetime]] = []
        args: dict[str, Any] | None = {"fields": TAG_FIELDS, "limit": 25}
        for _ in range(MAX_TAG_PAGES):
            assert args is not None
            body = self._client.get(f"{self.ig_user_id}/tags", args, what, needs=NEEDS_READ)
            older = False
            for raw in data_list(body):  # newest first; a page is read whole in case it is not quite ordered
                media_id, when = raw.get("id"), graph_time(raw.get("timestamp")) or now
                if not isinstance(media_id, str) or not media_id:
                    continue
                if when < state.floor:
                    older = True
                    continue
                considered.append((media_id, when))
                if not state.is_new(media_id, when):
                    continue
                caption, link, user = raw.get("caption"), raw.get("permalink"), raw.get("username")
                events.append(
                    IncomingEvent(
                        platform="instagram",
                        kind="mention",
                        external_id=media_id,
                        text=caption if isinstance(caption, str) else "",
                        created_at=when,
                        author_handle=user if isinstance(user, str) and user else None,
                        url=link if isinstance(link, str) else None,
                        thread_id=media_id,
                    )
                )
            args = None if older else next_args(body)
            if args is None:
                break
        return Page(unique(events), state.advance(considered))

    # --- writing (only ever called by monitor/outbox.py after staff approval)

    def _check_kind(self, event: IncomingEvent, kinds: tuple[str, ...], action: str) -> None:
        if event.platform != "instagram" or event.kind not in kinds:
            raise ConnectorError(f"the instagram source cannot {action} a {event.kind!r} item", permanent=True)

    def _target(self, event: IncomingEvent) -> str:
        """Replies go to top-level comments only (IG Comment Replies reference): a reply's parent, else itself."""
        if event.parent_id and event.thread_id and event.parent_id != event.thread_id:
            return event.parent_id
        return event.external_id

    def post_reply(self, event: IncomingEvent, text: str) -> str:
        """Reply to a comment (POST /{ig-comment-id}/replies) or answer a DM inside the 24-hour window."""
        if event.kind == "mention" and event.platform == "instagram":
            raise ConnectorError(
                "Instagram does not let an account comment on media it is tagged in (Mentions guide); nothing was "
                "sent. Answer in the Instagram app if the policy allows.",
                permanent=True,
            )
        self._check_kind(event, ("comment", "dm"), "reply to")
        if event.kind == "dm":
            return self._inbox.reply(event, text, self._clock())
        what = f"instagram comment reply for account {self.spec.name}"
        sent = self._client.post(f"{self._target(event)}/replies", {"message": text}, what, needs=NEEDS_WRITE)
        reply_id = sent.get("id")
        if not isinstance(reply_id, str) or not reply_id:
            raise ConnectorError(f"{what}: Meta accepted the reply but gave no id; check the account", permanent=True)
        return reply_id

    def find_reply(self, event: IncomingEvent, text: str) -> str | None:
        """The account's own reply with `text` under the comment, or its DM in the conversation."""
        if event.kind == "mention" and event.platform == "instagram":
            return None  # never replied to: post_reply refuses tagged media
        self._check_kind(event, ("comment", "dm"), "look for replies to")
        if event.kind == "dm":
            return self._inbox.find_reply(event, text)
        what = f"instagram reply lookup for account {self.spec.name}"
        args: dict[str, Any] | None = {"fields": "id,text,timestamp,from,username", "limit": 50}
        for _ in range(MAX_COMMENT_PAGES):  # the replies edge has no documented order: read every page
            assert args is not None
            body = self._client.get(f"{self._target(event)}/replies", args, what, needs=NEEDS_READ)
            for raw in data_list(body):
                when = graph_time(raw.get("timestamp"))
                if (when is not None and when < created_utc(event)) or not same_text(raw.get("text"), text):
                    continue
                sender_id, _ = author_of(raw)
                if sender_id == self.ig_user_id and isinstance(raw.get("id"), str):
                    return str(raw["id"])
                if sender_id is None:
                    raise CannotVerify(f"{what}: a reply with that text has no author; look on Instagram")
            args = next_args(body)
            if args is None:
                return None
        raise CannotVerify(f"{what}: too many replies to check; look on Instagram")

    def hide_comment(self, event: IncomingEvent, hidden: bool = True) -> None:
        """Hide (or unhide) a comment: POST /{ig-comment-id} hide=true (IG Comment reference, Updating)."""
        self._check_kind(event, ("comment",), "hide")
        what = f"instagram {'hide' if hidden else 'unhide'} for account {self.spec.name}"
        form = {"hide": "true" if hidden else "false"}
        result = self._client.post(event.external_id, form, what, needs=NEEDS_WRITE, idempotent=True)
        if result.get("success") is not True:
            raise ConnectorError(f"{what}: Meta did not confirm the change", permanent=False)

    def check_auth(self) -> None:
        """The token's Page is linked to this account, carries the permissions, and can read media and DMs."""
        what = f"instagram check for account {self.spec.name}"
        try:
            self._client.get(self.ig_user_id, {"fields": "id,username"}, what, needs=NEEDS_READ)
        except GraphGone:
            raise AuthExpired(
                f"FACEBOOK_PAGE_TOKEN cannot see Instagram account {self.ig_user_id}: check the ig_user_id option "
                "and that the account is a professional account linked to the token's Page "
                "(see docs/platforms/instagram.md)."
            ) from None
        me = self._client.get(self.page, {"fields": "id,instagram_business_account"}, what)
        linked = me.get("instagram_business_account")
        linked_id = str(linked.get("id")) if isinstance(linked, dict) else None
        if linked_id != self.ig_user_id:
            found = f"Instagram account {linked_id}" if linked_id else "no Instagram account"
            raise AuthExpired(
                f"The Page of FACEBOOK_PAGE_TOKEN is linked to {found}, not to ig_user_id {self.ig_user_id}. Link the "
                "account in the Page's settings or fix the option (see docs/platforms/instagram.md)."
            )
        self._client.scopes(REQUIRED, what)
        probe = {"fields": "id,comments.limit(1){id,text}", "limit": 1}
        self._client.get(f"{self.ig_user_id}/media", probe, what, needs=NEEDS_READ)
        probe = {"platform": "instagram", "fields": "id", "limit": 1}
        self._client.get(f"{self.page}/conversations", probe, what, needs=NEEDS_DM)
