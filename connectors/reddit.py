"""The practice's Reddit account through praw 8 (script app): its inbox, and posts naming the practice.

- inbox: `GET /message/inbox/` newest first: username mentions (`mention`), replies to the practice's
  posts and comments (`comment`) and private messages (`dm`). Read with `mark=false`: nothing is
  marked read, so staff still see everything as new on Reddit.
- search: posts naming the practice (option `query`) in the subreddits the practice chose (option
  `subreddits`, never r/all): `GET /r/{a+b}/search/?restrict_sr=on&sort=new`. Posts only; Reddit's
  search does not cover comments. Nobody is searched for or profiled.

Listings are polled with a limit (no endless praw stream), so a job always returns. Replies are posted
only when the outbox asks, after staff approval: `POST /api/comment` with the fullname, as praw's
`Comment.reply` / `Message.reply` / `Submission.reply` do.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterator, Mapping
from datetime import datetime, timedelta
from typing import Any, ClassVar

import praw

from connectors.base import AccountSpec, AuthExpired, CannotVerify, ConnectorError, IncomingEvent, Page
from connectors.http_common import utc_now
from connectors.reddit_client import SECRETS, RedditApi, api_error
from connectors.reddit_parse import (
    Item,
    ListingCursor,
    api_errors,
    created_name,
    created_utc,
    is_fullname,
    listing,
    parse_inbox_item,
    parse_submission,
    read_cursor,
    same_text,
)

log = logging.getLogger(__name__)

PAGE_SIZE = 100
MAX_PAGES = 10  # Reddit serves about 1,000 items of a listing
MAX_LOOKUP_PAGES = 3
FIRST_POLL_WINDOW = timedelta(days=7)
_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
_SUBREDDIT = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_]{1,20}$")
_NOT_COMMUNITIES = frozenset({"all", "popular", "friends", "mod", "random", "randnsfw"})
Parse = Callable[..., Item | None]


class _PageLimit(Exception):
    """A listing went on past the pages we allow ourselves to read."""


def _subreddits(spec: AccountSpec) -> tuple[str, ...]:
    """The `subreddits` option: names separated by commas, spaces or "+", with or without "r/"."""
    raw = spec.options.get("subreddits")
    if raw is None or isinstance(raw, bool) or str(raw).strip() == "":
        return ()
    names = tuple(n.removeprefix("/").removeprefix("r/") for n in re.split(r"[,+\s]+", str(raw).strip()) if n)
    bad = [n for n in names if not _SUBREDDIT.match(n) or n.lower() in _NOT_COMMUNITIES]
    if bad:
        raise ConnectorError(
            f"reddit account {spec.name!r}: option 'subreddits' must list subreddit names such as \"Austin, "
            'AskAustin"; all, popular and other site-wide feeds are not searched',
            permanent=True,
        )
    return names


class RedditConnector:
    """One Reddit account, signed in as a script app with the account's password."""

    name: ClassVar[str] = "reddit"
    streams: ClassVar[tuple[str, ...]] = ("inbox", "search")

    def __init__(
        self, spec: AccountSpec, *, reddit: praw.Reddit | None = None, clock: Callable[[], datetime] = utc_now
    ) -> None:
        missing = [env for key, env in SECRETS if not spec.secrets.get(key)]
        if missing:
            raise ConnectorError(
                f"reddit account {spec.name!r} needs {', '.join(missing)} in .env (see docs/platforms/reddit.md)",
                permanent=True,
            )
        if not _NAME.match(spec.secrets["reddit_username"].removeprefix("u/")):
            raise ConnectorError("REDDIT_USERNAME is not a Reddit username (letters, digits, _ and -)", permanent=True)
        self.spec = spec
        self.username = spec.secrets["reddit_username"].removeprefix("u/")
        self.subreddits = _subreddits(spec)
        query = spec.options.get("query")
        self.query = str(query).strip() if isinstance(query, str) and query.strip() else None
        self._clock = clock
        self._api = RedditApi(spec, reddit=reddit, clock=clock)

    # --- reading

    def fetch(self, stream: str, cursor: str | None) -> Page:
        """Inbox items or search results newer than `cursor` (newest `created_utc` and the fullnames at it)."""
        if stream not in self.streams:
            raise ConnectorError(f"the reddit source has no stream {stream!r}", permanent=True)
        if stream == "inbox":
            return self._walk("inbox", "message/inbox/", {"mark": "false"}, parse_inbox_item, cursor)
        if not self.query or not self.subreddits:
            raise ConnectorError(
                f"reddit account {self.spec.name!r}: the search stream needs the 'query' option (the practice's "
                "name) and the 'subreddits' option (the communities to search) in the policy file",
                permanent=True,
            )
        path = f"r/{'+'.join(self.subreddits)}/search/"
        params = {"q": self.query, "restrict_sr": "on", "sort": "new", "t": "all"}
        return self._walk("search", path, params, parse_submission, cursor)

    def _walk(self, stream: str, path: str, params: Mapping[str, str], parse: Parse, cursor: str | None) -> Page:
        """Read the newest-first listing back to the cursor; a first poll goes back 7 days only."""
        now = self._clock()
        start = self._read_cursor(cursor, stream) or ListingCursor((now - FIRST_POLL_WINDOW).timestamp())
        newest, names = start.since, set(start.names)
        events: list[IncomingEvent] = []
        skipped = deleted = 0
        what = f"reddit {stream} for account {self.spec.name}"
        try:
            for kind, data in self._listing(what, path, params, MAX_PAGES):
                item = parse(kind, data, self.username, fetched_at=now)
                if item is None:
                    skipped += 1
                    continue
                if item.created is not None:
                    if item.created < start.since:
                        break
                    if item.created == start.since and item.name in start.names:
                        continue
                    if item.created > newest:
                        newest, names = item.created, set()
                    if item.created == newest:
                        names.add(item.name)
                if item.event is not None:
                    events.append(item.event)
                deleted += item.deleted
        except _PageLimit:
            log.warning("reddit account %s: stopped after %d pages of %s", self.spec.name, MAX_PAGES, stream)
        if skipped or deleted:
            log.info(
                "reddit account %s: %d deleted and %d unreadable item(s) skipped", self.spec.name, deleted, skipped
            )
        return Page(tuple(events), ListingCursor(newest, frozenset(names)).dump())

    def _read_cursor(self, cursor: str | None, stream: str) -> ListingCursor | None:
        if not cursor:
            return None
        parsed = read_cursor(cursor)
        if parsed is None:
            log.warning("reddit account %s: unreadable %s cursor; reading the last 7 days", self.spec.name, stream)
        return parsed

    def _listing(self, what: str, path: str, params: Mapping[str, str], pages: int) -> Iterator[tuple[str, Any]]:
        """The children of a listing, page after page (`after`), fetched only as they are consumed."""
        after: str | None = None
        for _ in range(pages):
            query: dict[str, str | int] = {**params, "limit": PAGE_SIZE}
            if after:
                query["after"] = after
            page = listing(self._api.request(what, "GET", path, params=query))
            if page is None:
                raise ConnectorError(f"{what}: the response was not a listing", permanent=False)
            children, after = page
            yield from children
            if not after:
                return
        raise _PageLimit

    # --- writing (only ever called by monitor/outbox.py after staff approval)

    def _check_kind(self, event: IncomingEvent, action: str) -> None:
        if event.platform != "reddit" or event.kind not in ("mention", "comment", "dm"):
            raise ConnectorError(f"the reddit source cannot {action} a {event.kind!r} item", permanent=True)
        if not is_fullname(event.external_id):
            raise ConnectorError(f"the reddit source cannot {action} an item without a fullname", permanent=True)

    def post_reply(self, event: IncomingEvent, text: str) -> str:
        """`POST /api/comment` with `thing_id` = the comment, post or message answered; returns the new fullname."""
        self._check_kind(event, "reply to")
        what = f"reddit reply for account {self.spec.name}"
        data = {"thing_id": event.external_id, "text": text}
        body = self._api.request(what, "POST", "api/comment/", data=data, writing=True)
        errors = api_errors(body)
        if errors:
            raise api_error(errors, what)
        name = created_name(body)
        if name is None:
            raise ConnectorError(f"{what}: Reddit accepted the reply but gave no id; check the account", permanent=True)
        return name

    def find_reply(self, event: IncomingEvent, text: str) -> str | None:
        """The account's comment or sent message with `text` answering `event`, None if there is none."""
        self._check_kind(event, "look for replies to")
        what = f"reddit reply lookup for account {self.spec.name}"
        if event.kind == "dm":
            path, params = "message/sent/", {}
        else:
            path, params = f"user/{self.username}/comments/", {"sort": "new"}
        since = event.created_at.timestamp() - 60  # a minute's slack for clock differences
        try:
            for _, data in self._listing(what, path, params, MAX_LOOKUP_PAGES):
                created = created_utc(data)
                if created is not None and created < since:
                    return None
                if data.get("parent_id") == event.external_id and same_text(data.get("body"), text):
                    name = data.get("name")
                    return str(name) if is_fullname(name) else None
        except _PageLimit:
            raise CannotVerify(f"{what}: too many replies since the original to check; look on Reddit") from None
        except ConnectorError as exc:
            if exc.permanent:
                raise CannotVerify(f"{what}: Reddit would not show the account's replies ({exc})") from None
            raise
        return None

    def check_auth(self) -> None:
        """Sign in (if not yet) and read the account (`GET /api/v1/me`); raise AuthExpired saying what to fix."""
        what = f"reddit credentials check for account {self.spec.name}"
        me = self._api.request(what, "GET", "api/v1/me")
        name = me.get("name") if isinstance(me, dict) else None
        if not isinstance(name, str) or name.lower() != self.username.lower():
            raise AuthExpired("Reddit signed in to another account than REDDIT_USERNAME; check REDDIT_USERNAME.")
        if isinstance(me, dict) and me.get("is_suspended"):
            raise AuthExpired(f"The Reddit account of {self.spec.name!r} is suspended; replies cannot be posted.")
