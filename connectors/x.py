"""The practice's X account through the v2 API with tweepy 4.17: mentions and replies, DMs, new followers.

`tweepy.Client(wait_on_rate_limit=False)`: tweepy's own wait blocks a scheduler thread and spins
without delay when `x-rate-limit-reset` is missing (PLATFORMS §2.4), so a 429 becomes `RateLimited`.
Two ways to authenticate (PLATFORMS §2.1): OAuth 1.0a user context (consumer key/secret and access
token/secret; needed for DMs and replies; the tokens do not expire) or an app bearer token (read-only:
mentions and followers). Replies are posted only when the outbox asks, after staff approval.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

from connectors.base import AccountSpec, AuthExpired, CannotVerify, ConnectorError, IncomingEvent, Page
from connectors.http_common import utc_now
from connectors.x_client import USER_ENV, XApi, build_client, id_option
from connectors.x_parse import (
    Item,
    data_items,
    follower_digest,
    next_token,
    numeric_id,
    parse_followers,
    parse_items,
    replied_to,
    same_text,
    tweet_text,
)

log = logging.getLogger(__name__)

USER_SECRETS = (
    ("x_consumer_key", "X_CONSUMER_KEY"),
    ("x_consumer_secret", "X_CONSUMER_SECRET"),
    ("x_access_token", "X_ACCESS_TOKEN"),
    ("x_access_token_secret", "X_ACCESS_TOKEN_SECRET"),
)
TWEET_FIELDS = ["created_at", "author_id", "conversation_id", "in_reply_to_user_id", "referenced_tweets", "note_tweet"]
DM_FIELDS = ["id", "text", "event_type", "created_at", "sender_id", "dm_conversation_id"]
PAGE_SIZE = 100
MAX_PAGES = 8  # the mentions timeline serves at most the 800 newest mentions anyway
FIRST_POLL_WINDOW = timedelta(days=7)
FOLLOWERS_PAGE = 100
MAX_FOLLOWER_PAGES = 5
KNOWN_FOLLOWERS = 20
MAX_LOOKUP_PAGES = 5


class XConnector:
    """One X account: its mentions (and replies to it), its DMs and its new followers."""

    name: ClassVar[str] = "x"
    streams: ClassVar[tuple[str, ...]] = ("mentions", "messages", "followers")

    def __init__(self, spec: AccountSpec, *, client: Any = None, clock: Callable[[], datetime] = utc_now) -> None:
        present = [env for key, env in USER_SECRETS if spec.secrets.get(key)]
        if present and len(present) < len(USER_SECRETS):
            missing = [env for key, env in USER_SECRETS if not spec.secrets.get(key)]
            raise ConnectorError(
                f"X account {spec.name!r}: OAuth 1.0a needs all four of {USER_ENV}; {', '.join(missing)} "
                "missing in .env (see docs/platforms/x.md)",
                permanent=True,
            )
        self.user_auth = bool(present)
        if not self.user_auth and not spec.secrets.get("x_bearer_token"):
            raise ConnectorError(
                f"X account {spec.name!r} needs {USER_ENV} in .env (to read DMs and post replies), or at least "
                "X_BEARER_TOKEN (read-only: mentions and followers); see docs/platforms/x.md",
                permanent=True,
            )
        self.spec = spec
        self.user_id = str(id_option(spec, "user_id", required=True, digits=True))
        self.username = id_option(spec, "username", required=False, digits=False)
        self._clock = clock
        self._api = XApi(client if client is not None else build_client(spec), user_auth=self.user_auth, clock=clock)

    # --- helpers

    def _need_user_context(self, action: str) -> None:
        if not self.user_auth:
            raise ConnectorError(
                f"X account {self.spec.name!r}: to {action} X needs OAuth 1.0a user context; set {USER_ENV} in "
                ".env (X_BEARER_TOKEN alone is read-only; see docs/platforms/x.md)",
                permanent=True,
            )

    # --- reading

    def fetch(self, stream: str, cursor: str | None) -> Page:
        """New mentions (since_id), DMs (newer than the last event id) or followers since `cursor`."""
        if stream not in self.streams:
            raise ConnectorError(f"the x source has no stream {stream!r}", permanent=True)
        now = self._clock()
        if stream == "followers":
            return self._followers(cursor, now)
        after = self._read_id(cursor, stream)
        if stream == "messages":
            self._need_user_context("read direct messages")
            return self._walk(after, now, dm=True)
        return self._walk(after, now, dm=False)

    def _read_id(self, cursor: str | None, stream: str) -> int | None:
        if not cursor:
            return None
        value = numeric_id(cursor.strip())
        if value is None:
            log.warning("x account %s: unreadable %s cursor ignored; reading the last 7 days", self.spec.name, stream)
        return value

    def _walk(self, after: int | None, now: datetime, *, dm: bool) -> Page:
        """Page through mentions or DM events (both newest first) back to `after`, or 7 days on a first poll.

        Mentions take `since_id`; DM lookup has no such parameter, so paging stops at the first event
        at or before the cursor. The cursor is the highest id seen, the practice's own items included.
        """
        floor = now - FIRST_POLL_WINDOW if after is None else None
        what = f"x {'DM events' if dm else 'mentions'} for account {self.spec.name}"
        params: dict[str, Any] = {"max_results": PAGE_SIZE}
        if dm:
            method = "get_direct_message_events"
            params.update(event_types=["MessageCreate"], dm_event_fields=DM_FIELDS, user_auth=True)
            params.update(expansions=["sender_id"], user_fields=["username"])
        else:
            method = "get_users_mentions"
            params.update(id=self.user_id, tweet_fields=TWEET_FIELDS, user_auth=self.user_auth)
            params.update(expansions=["author_id"], user_fields=["username"])
            params.update({"since_id": str(after)} if after is not None else {"start_time": floor})
        events: list[IncomingEvent] = []
        newest, skipped = after, 0
        seen: set[int] = set()
        for _ in range(MAX_PAGES):
            body = self._api.call(what, method, **params)
            items, bad = parse_items(body, self.user_id, dm=dm, fetched_at=now)
            skipped += bad
            fresh = [i for i in items if not _older(i, after, floor)]
            events.extend(i.event for i in fresh if i.event is not None and i.id not in seen)
            seen.update(i.id for i in fresh)
            newest = max([i.id for i in fresh] + ([newest] if newest is not None else []), default=None)
            token = next_token(body)
            if len(fresh) < len(items) or not token:
                break
            params["pagination_token"] = token
        else:
            log.warning("x account %s: stopped after %d pages", self.spec.name, MAX_PAGES)
        if skipped:
            log.warning("x account %s: skipped %d item(s) without an id", self.spec.name, skipped)
        return Page(tuple(events), str(newest) if newest is not None and newest != after else None)

    def _followers(self, cursor: str | None, now: datetime) -> Page:
        """One `follow` event per follower ahead of the followers known last time (X lists newest first).

        The cursor keeps one-way digests of the newest followers, not their ids. The first poll only
        records them. The event carries the handle as X delivers it; the pipeline drops it unless the
        policy sets `keep_follower_identity`.
        """
        known = self._read_known(cursor)
        what = f"x followers for account {self.spec.name}"
        params: dict[str, Any] = {"id": self.user_id, "max_results": FOLLOWERS_PAGE, "user_auth": self.user_auth}
        front: list[str] = []
        fresh: dict[str, str | None] = {}
        reached = False
        for _ in range(MAX_FOLLOWER_PAGES):
            body = self._api.call(what, "get_users_followers", **params)
            for follower_id, handle in parse_followers(body):
                digest = follower_digest(self.user_id, follower_id)
                if len(front) < KNOWN_FOLLOWERS:
                    front.append(digest)
                if known is None or reached:
                    continue
                if digest in known:
                    reached = True
                else:
                    fresh.setdefault(digest, handle)
            token = next_token(body)
            if known is None or reached or not token:
                break
            params["pagination_token"] = token
        if known is None:
            return Page(next_cursor=json.dumps({"known": front}))
        if known and not reached:
            log.warning("x account %s: no known follower found; counting every follower read", self.spec.name)
        events = tuple(
            IncomingEvent("x", "follow", f"follower-{digest}", "", now, author_handle=handle)
            for digest, handle in fresh.items()
        )
        return Page(events, json.dumps({"known": front}))

    def _read_known(self, cursor: str | None) -> frozenset[str] | None:
        if not cursor:
            return None
        try:
            known = json.loads(cursor)["known"]
            if isinstance(known, list) and all(isinstance(k, str) for k in known):
                return frozenset(known)
        except (ValueError, TypeError, KeyError):
            pass
        log.warning("x account %s: unreadable followers cursor; recording the current followers", self.spec.name)
        return None

    # --- writing (only ever called by monitor/outbox.py after staff approval)

    def _check_kind(self, event: IncomingEvent, action: str) -> None:
        if event.platform != "x" or event.kind not in ("mention", "comment", "dm"):
            raise ConnectorError(f"the x source cannot {action} a {event.kind!r} item", permanent=True)
        if event.kind == "dm" and not event.thread_id:
            raise ConnectorError("the x source cannot answer a DM without its conversation id", permanent=True)
        if event.kind != "dm" and numeric_id(event.external_id) is None:
            raise ConnectorError("the x source cannot answer a post without a numeric id", permanent=True)

    def post_reply(self, event: IncomingEvent, text: str) -> str:
        """A reply post (POST /2/tweets with `reply.in_reply_to_tweet_id`), or a DM into the conversation."""
        self._check_kind(event, "reply to")
        self._need_user_context("post replies")
        what = f"x reply for account {self.spec.name}"
        if event.kind == "dm":
            key, params = "dm_event_id", {"dm_conversation_id": event.thread_id}
            body = self._api.call(what, "create_direct_message", text=text, user_auth=True, **params)
        else:
            key, params = "id", {"in_reply_to_tweet_id": event.external_id}
            body = self._api.call(what, "create_tweet", text=text, user_auth=True, **params)
        data = body.get("data")
        reply_id = data.get(key) if isinstance(data, dict) else None
        if not isinstance(reply_id, str) or not reply_id:
            raise ConnectorError(f"{what}: X accepted the reply but gave no id; check the account", permanent=True)
        return reply_id

    def find_reply(self, event: IncomingEvent, text: str) -> str | None:
        """The practice's post or DM with `text` answering `event`, None if there is none.

        Reads the account's posts newer than the event (or the DM conversation back to the event). When
        the credentials or the plan cannot read them, raises CannotVerify: staff must look.
        """
        self._check_kind(event, "look for replies to")
        what = f"x reply lookup for account {self.spec.name}"
        dm = event.kind == "dm"
        if dm and not self.user_auth:
            raise CannotVerify(f"{what}: DMs cannot be read without {USER_ENV}; look in the account's messages")
        params: dict[str, Any] = {"max_results": PAGE_SIZE}
        if dm:
            method = "get_direct_message_events"
            params.update(dm_conversation_id=event.thread_id, event_types=["MessageCreate"], user_auth=True)
            params.update(dm_event_fields=DM_FIELDS)
        else:
            method = "get_users_tweets"
            params.update(id=self.user_id, since_id=event.external_id, user_auth=self.user_auth)
            params.update(tweet_fields=["created_at", "referenced_tweets", "note_tweet"], exclude=["retweets"])
        original = numeric_id(event.external_id) or 0
        for _ in range(MAX_LOOKUP_PAGES):
            try:
                body = self._api.call(what, method, **params)
            except ConnectorError as exc:
                if exc.permanent:
                    raise CannotVerify(f"{what}: X would not show the account's replies ({exc})") from None
                raise
            for raw in data_items(body):
                raw_id = numeric_id(raw.get("id"))
                if raw_id is None:
                    continue
                if dm and raw_id <= original:  # back at the original message: nothing of ours after it
                    return None
                if self._is_our_reply(raw, dm=dm, parent=event.external_id, text=text):
                    return str(raw_id)
            token = next_token(body)
            if token is None:
                return None
            params["pagination_token"] = token
        raise CannotVerify(f"{what}: too many posts since the original to check; look on the account")

    def _is_our_reply(self, raw: Mapping[str, Any], *, dm: bool, parent: str, text: str) -> bool:
        if dm:
            return raw.get("sender_id") == self.user_id and same_text(raw.get("text"), text)
        return replied_to(raw) == parent and same_text(tweet_text(raw), text)

    def check_auth(self) -> None:
        """Read the account the credentials belong to (or, with a bearer token only, the account itself)."""
        what = f"x credentials check for account {self.spec.name}"
        if not self.user_auth:
            self._api.call(what, "get_user", id=self.user_id, user_auth=False)
            return
        response = self._api.guard(what, lambda: self._api.client.request("GET", "/2/users/me", user_auth=True))
        try:
            body = response.json()
        except ValueError:
            raise ConnectorError(f"{what}: the response was not valid JSON", permanent=False) from None
        data = body.get("data") if isinstance(body, dict) else None
        me = data if isinstance(data, dict) else {}
        if str(me.get("id")) != self.user_id:
            raise AuthExpired(
                f"X_ACCESS_TOKEN belongs to another X account than the user_id option of account {self.spec.name!r}. "
                "Generate the access token while signed in as the practice's account, or correct user_id."
            )
        if self.username and str(me.get("username", "")).lower() != self.username.lower():
            raise AuthExpired(f"the username option of X account {self.spec.name!r} does not match its user_id")
        level = response.headers.get("x-access-level", "")
        if level == "read":
            raise AuthExpired(
                "The X app has Read-only permission, so replies cannot be posted. In the X Developer Console set "
                "User authentication settings → App permissions to 'Read and write and Direct message', then "
                "regenerate X_ACCESS_TOKEN and X_ACCESS_TOKEN_SECRET (old tokens keep the old permission)."
            )
        if level and "directmessages" not in level:
            log.warning("x account %s: the app may not read or send DMs (access level %s)", self.spec.name, level)


def _older(item: Item, after: int | None, floor: datetime | None) -> bool:
    """Whether `item` is at or before the cursor, or (on a first poll) older than the window."""
    if after is not None:
        return item.id <= after
    return floor is not None and item.created_at is not None and item.created_at < floor
