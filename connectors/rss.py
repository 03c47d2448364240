"""Mentions from any RSS/Atom feed: Google Alerts ("Deliver to: RSS feed"), a review or news feed.

The fallback for sites without an API (Healthgrades, Psychology Today; PLATFORMS §4.3): the events
carry the ACCOUNT's platform, so an alert feed configured as a "healthgrades" account files its
mentions under Healthgrades. Alerts are best effort: Google offers no API or SLA for them (§4.4).
Read-only: feeds cannot be replied to.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, ClassVar

import requests

from connectors.base import AccountSpec, AuthExpired, ConnectorError, IncomingEvent, Page, RateLimited
from connectors.http_common import parse_utc, seconds_until, send, utc_now
from connectors.rss_parse import is_harmless_defect, parse_entries, parse_feed_bytes

log = logging.getLogger(__name__)

FIRST_POLL_WINDOW = timedelta(days=7)
#: Entries dated up to this long before the newest one seen are still passed on: feeds sometimes add
#: an item late with an earlier date, and repeats are free (the pipeline de-duplicates on entry id).
OVERLAP = timedelta(days=1)
HEADERS = {
    "User-Agent": "practice-monitor (feed reader)",
    "Accept": "application/atom+xml, application/rss+xml, application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5",
}


@dataclass(frozen=True)
class FeedCursor:
    """What the cursor remembers: the validators for a conditional GET and the newest entry date."""

    etag: str | None = None
    modified: str | None = None
    newest: datetime | None = None

    @classmethod
    def load(cls, text: str | None) -> FeedCursor:
        if not text:
            return cls()
        try:
            raw = json.loads(text)
            newest = raw.get("newest")
            return cls(
                etag=raw.get("etag") or None,
                modified=raw.get("modified") or None,
                newest=parse_utc(newest) if newest else None,
            )
        except (ValueError, TypeError, AttributeError):
            log.warning("rss: unreadable cursor ignored; starting from the last 7 days")
            return cls()

    def dump(self) -> str:
        newest = self.newest.isoformat() if self.newest else None
        return json.dumps({"etag": self.etag, "modified": self.modified, "newest": newest}, sort_keys=True)


class RssConnector:
    """Reads one feed; every entry is a `mention` on the account's platform."""

    name: ClassVar[str] = "rss"
    streams: ClassVar[tuple[str, ...]] = ("mentions",)

    def __init__(
        self,
        spec: AccountSpec,
        *,
        client: requests.Session | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        url = spec.options.get("url")
        if not isinstance(url, str) or not url.strip():
            raise ConnectorError(
                f"feed account {spec.name!r}: set the 'url' option (the feed's address) in the policy file's "
                "[[accounts]] entry",
                permanent=True,
            )
        if not url.strip().lower().startswith(("https://", "http://")):
            raise ConnectorError(
                f"feed account {spec.name!r}: the 'url' option must start with https://", permanent=True
            )
        self.spec = spec
        self._url = url.strip()  # never logged: an alert feed's URL identifies the practice's Google account
        self._session = client if client is not None else requests.Session()
        self._clock = clock

    def fetch(self, stream: str, cursor: str | None) -> Page:
        """New entries since the cursor; a 304 Not Modified is an empty page with the cursor unchanged.

        A first poll passes on only the last 7 days (entries without a date are passed on whenever
        they appear; the pipeline stores each id once).
        """
        if stream not in self.streams:
            raise ConnectorError(f"the rss source has no stream {stream!r}", permanent=True)
        state = FeedCursor.load(cursor)
        headers = dict(HEADERS)
        if state.etag:
            headers["If-None-Match"] = state.etag
        if state.modified:
            headers["If-Modified-Since"] = state.modified
        resp = self._get(headers)
        if resp.status_code == 304:
            return Page()
        now = self._clock()
        parsed = self._parse(resp, permanent=False)
        entries, skipped = parse_entries(parsed, platform=self.spec.platform, fetched_at=now)
        if skipped:
            log.warning("feed account %s: skipped %d entr(ies) with neither id nor link", self.spec.name, skipped)
        since = state.newest - OVERLAP if state.newest else now - FIRST_POLL_WINDOW
        fresh = tuple(e.event for e in entries if e.published is None or e.published >= since)
        dates = [e.published for e in entries if e.published is not None]
        newest = max([*dates, *([state.newest] if state.newest else [])], default=None)
        next_state = FeedCursor(resp.headers.get("ETag"), resp.headers.get("Last-Modified"), newest)
        return Page(events=fresh, next_cursor=next_state.dump())

    def _get(self, headers: dict[str, str]) -> requests.Response:
        what = f"feed for account {self.spec.name}"
        resp = send(self._session, "GET", self._url, what=what, headers=headers)
        status = resp.status_code
        if status < 300 or status == 304:
            return resp
        if status in (401, 403):
            raise AuthExpired(
                f"the feed of account {self.spec.name} refused access (HTTP {status}). If it is a private feed, "
                "its address (which carries the key) has changed: copy it again into the account's 'url' option."
            )
        if status == 429:
            raise RateLimited(
                f"{what}: HTTP 429", retry_after=seconds_until(resp.headers.get("Retry-After"), self._clock())
            )
        if status in (404, 410):
            raise ConnectorError(
                f"{what}: HTTP {status}, the feed is gone (was the alert deleted?); check the 'url' option",
                permanent=True,
            )
        raise ConnectorError(f"{what}: HTTP {status}", permanent=status < 500)

    def _parse(self, resp: requests.Response, *, permanent: bool) -> Any:
        """feedparser's result; a document that is no feed at all is a `ConnectorError` (`bozo`, PLATFORMS §4.4).

        A feed with small defects (bozo but entries parsed, e.g. a wrong declared charset) is used.
        """
        parsed = parse_feed_bytes(resp.content, resp.headers.get("Content-Type"))
        defect = parsed.get("bozo_exception") if parsed.get("bozo") else None
        problem = type(defect).__name__ if defect is not None else None
        if not parsed.get("entries") and ((problem and not is_harmless_defect(defect)) or not parsed.get("version")):
            raise ConnectorError(
                f"feed for account {self.spec.name}: not a readable RSS/Atom feed ({problem or 'no feed found'}); "
                "check the 'url' option",
                permanent=permanent,
            )
        if problem:
            level = logging.DEBUG if is_harmless_defect(defect) else logging.WARNING
            log.log(level, "feed account %s: feed has defects (%s); entries read anyway", self.spec.name, problem)
        return parsed

    def post_reply(self, event: IncomingEvent, text: str) -> str:
        """Always refuses: a feed cannot be replied to, and review sites never get replies (policy P7)."""
        raise ConnectorError(
            "feeds are read-only and the practice never replies to reviews (policy P7); nothing was sent",
            permanent=True,
        )

    def find_reply(self, event: IncomingEvent, text: str) -> str | None:
        """None: this connector never posts, so no reply of ours can exist."""
        return None

    def check_auth(self) -> None:
        """Fetch the feed once and make sure it is a feed (a wrong URL usually returns an HTML page).

        Feeds have no credentials: a wrong address is a configuration error, a private feed that
        refuses access is AuthExpired.
        """
        self._parse(self._get(dict(HEADERS)), permanent=True)
