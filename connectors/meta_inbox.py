"""Direct messages of a Page (Messenger) or its linked Instagram account: read, reply, find a reply.

Shared by the Facebook and Instagram connectors: both use the Conversations API to read
(`GET /{page}/conversations?platform=...`) and the Send API to reply (`POST /{page}/messages`) with
the Page token (Conversations API guide; Send API reference; PLATFORMS §1.4, §1.5).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from connectors.base import CannotVerify, ConnectorError, IncomingEvent, Page
from connectors.meta_common import GraphClient, GraphGone
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

REPLY_WINDOW = timedelta(hours=24)
MAX_CONVERSATION_PAGES = 4
MAX_MESSAGE_PAGES = 4
MESSAGE_FIELDS = "id,message,created_time,from"


@dataclass(frozen=True)
class Inbox:
    """The direct messages of a Page (Messenger) or of its linked Instagram account.

    `GET /{page}/conversations?platform=messenger|instagram` lists conversations newest update first and
    has no time-based paging, so reading stops at the first conversation updated before the cursor
    (Conversations API guide, PLATFORMS §1.4). Replies go through the Send API as `RESPONSE` messages.
    """

    client: GraphClient
    page: str  # the Page id, or "me" (a Page token's own Page)
    platform: str  # "messenger" or "instagram"
    own_id: str  # messages from this id are the practice's own
    source: str  # IncomingEvent.platform
    account: str
    needs: str  # permissions the inbox needs, named in AuthExpired messages

    def fetch(self, cursor: str | None, now: datetime) -> Page:
        """New messages from people (never the practice's own) since `cursor`, newest conversations first."""
        state = read_time_cursor(cursor, now, self.account)
        what = f"{self.source} messages for account {self.account}"
        fields = f"id,updated_time,link,messages.limit(25){{{MESSAGE_FIELDS}}}"
        args: dict[str, Any] | None = {"platform": self.platform, "fields": fields, "limit": 25}
        events: list[IncomingEvent] = []
        considered: list[tuple[str, datetime]] = []
        for _ in range(MAX_CONVERSATION_PAGES):
            assert args is not None
            body = self.client.get(f"{self.page}/conversations", args, what, needs=self.needs)
            older = False
            for conv in data_list(body):
                updated = graph_time(conv.get("updated_time"))
                if updated is not None and updated < state.floor:
                    older = True
                    break
                try:
                    self._read_conversation(conv, state, now, what, events, considered)
                except GraphGone:
                    log.info("%s account %s: a conversation vanished while reading", self.source, self.account)
            args = None if older else next_args(body)
            if args is None:
                break
        else:
            log.warning(
                "%s account %s: stopped after %d pages of conversations",
                self.source,
                self.account,
                MAX_CONVERSATION_PAGES,
            )
        return Page(unique(events), state.advance(considered))

    def _read_conversation(
        self,
        conv: Mapping[str, Any],
        state: TimeCursor,
        now: datetime,
        what: str,
        events: list[IncomingEvent],
        considered: list[tuple[str, datetime]],
    ) -> None:
        conv_id = conv.get("id")
        if not isinstance(conv_id, str) or not conv_id:
            return
        link = conv.get("link")
        url = f"https://www.facebook.com{link}" if isinstance(link, str) and link.startswith("/") else None
        messages = conv.get("messages") if isinstance(conv.get("messages"), dict) else {}
        for _ in range(MAX_MESSAGE_PAGES):
            older = False
            for raw in data_list(messages):  # newest first
                msg_id, when = raw.get("id"), graph_time(raw.get("created_time")) or now
                if not isinstance(msg_id, str) or not msg_id:
                    continue
                if when < state.floor:
                    older = True
                    break
                considered.append((msg_id, when))
                sender_id, handle = author_of(raw)
                if sender_id == self.own_id or not state.is_new(msg_id, when):
                    continue
                text = raw.get("message")
                events.append(
                    IncomingEvent(
                        platform=self.source,
                        kind="dm",
                        external_id=msg_id,
                        text=text if isinstance(text, str) else "",  # an attachment-only message has none
                        created_at=when,
                        author_handle=handle,
                        url=url,
                        thread_id=conv_id,
                    )
                )
            more = None if older else next_args(messages)
            if more is None:
                return
            messages = self.client.get(f"{conv_id}/messages", more, what, needs=self.needs)

    def reply(self, event: IncomingEvent, text: str, now: datetime) -> str:
        """Send `text` to the person of `event`'s conversation, only inside the 24-hour window.

        The window runs from the person's last message (Messenger Platform policy, PLATFORMS §1.5), so the
        conversation is read first; nested Send API fields are JSON strings in the form (PLATFORMS §1.3).
        """
        what = f"{self.source} message reply for account {self.account}"
        if not event.thread_id:
            raise ConnectorError(f"{what}: the message has no conversation id; reply from the inbox", permanent=True)
        fields = f"participants,messages.limit(25){{{MESSAGE_FIELDS}}}"
        conv = self.client.get(event.thread_id, {"fields": fields}, what, needs=self.needs)
        messages = data_list(conv.get("messages"))
        original = next((m for m in messages if m.get("id") == event.external_id), None)
        recipient = author_of(original)[0] if original is not None else None
        if recipient is None or recipient == self.own_id:  # older than the messages read: ask the participants
            people = {str(p["id"]) for p in data_list(conv.get("participants")) if p.get("id")} - {self.own_id}
            if len(people) != 1:
                raise ConnectorError(f"{what}: cannot tell whom to answer in this conversation", permanent=True)
            (recipient,) = people
        theirs = [graph_time(m.get("created_time")) for m in messages if author_of(m)[0] == recipient]
        last = max([created_utc(event), *(t for t in theirs if t is not None)])
        if now - last > REPLY_WINDOW:
            hours = (now - last).total_seconds() / 3600
            raise ConnectorError(
                f"{what}: refused: the person last wrote {hours:.0f} hours ago, outside the 24-hour messaging "
                "window, so Meta would reject it; nothing was sent. Answer from the inbox by hand if policy allows, "
                "or wait until the person writes again.",
                permanent=True,
            )
        form = {
            "recipient": json.dumps({"id": recipient}),
            "message": json.dumps({"text": text}, ensure_ascii=False),
            "messaging_type": "RESPONSE",
        }
        sent = self.client.post(f"{self.page}/messages", form, what, needs=self.needs)
        message_id = sent.get("message_id")
        if not isinstance(message_id, str) or not message_id:
            raise ConnectorError(f"{what}: Meta accepted the message but gave no id; check the inbox", permanent=True)
        return message_id

    def find_reply(self, event: IncomingEvent, text: str) -> str | None:
        """Our message with `text` sent after `event` in its conversation (messages are newest first)."""
        what = f"{self.source} message lookup for account {self.account}"
        if not event.thread_id:
            raise CannotVerify(f"{what}: the message has no conversation id; look in the inbox")
        args: dict[str, Any] | None = {"fields": MESSAGE_FIELDS, "limit": 25}
        for _ in range(MAX_MESSAGE_PAGES):
            assert args is not None
            body = self.client.get(f"{event.thread_id}/messages", args, what, needs=self.needs)
            for raw in data_list(body):
                when = graph_time(raw.get("created_time"))
                if when is not None and when < created_utc(event):
                    return None
                if same_text(raw.get("message"), text) and isinstance(raw.get("id"), str):
                    sender_id, _ = author_of(raw)
                    if sender_id == self.own_id:
                        return str(raw["id"])
                    if sender_id is None:
                        raise CannotVerify(f"{what}: a message with that text has no sender; look in the inbox")
            args = next_args(body)
            if args is None:
                return None
        raise CannotVerify(f"{what}: too many messages since the original to check; look in the inbox")
