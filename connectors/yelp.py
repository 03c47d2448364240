"""Yelp review excerpts through the Yelp Places (formerly Fusion) API: read-only.

An ordinary API key sees only a few excerpts per business ("up to three" in the Fusion-era
reference, PLATFORMS §4.2), in Yelp's own order, with no paging: this is a sample, not a review
feed. Replying needs the partner-only Respond-to-Reviews API, and policy P7 forbids replying anyway.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, time, timedelta
from typing import Any, ClassVar
from urllib.parse import quote
from zoneinfo import ZoneInfo

import requests

from connectors.base import AccountSpec, AuthExpired, ConnectorError, IncomingEvent, Page, RateLimited
from connectors.http_common import error_body, json_object, parse_utc, seconds_until, send, utc_now

log = logging.getLogger(__name__)

API_BASE = "https://api.yelp.com"
FIRST_POLL_WINDOW = timedelta(days=7)
#: "time_created: The time that the review was created in PST" (Fusion reference); read as Pacific time.
YELP_TIME_ZONE = ZoneInfo("America/Los_Angeles")
AUTH_CODES = frozenset({"TOKEN_INVALID", "TOKEN_MISSING", "UNAUTHORIZED_ACCESS_TOKEN", "INVALID_AUTHORIZATION_METHOD"})


def parse_yelp_time(value: object) -> datetime | None:
    """ "2016-08-29 00:41:13" (Pacific, no offset) as aware UTC; an offset, if Yelp ever sends one, wins."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        local = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    if local.tzinfo is None:
        local = local.replace(tzinfo=YELP_TIME_ZONE)
    return parse_utc(local.isoformat())


def parse_yelp_review(raw: Mapping[str, Any], *, fetched_at: datetime) -> IncomingEvent | None:
    """One review excerpt (`{"id", "url", "text", "rating", "time_created", "user": {"name", ...}}`).

    None without an id. `text` is an excerpt (Yelp cuts it); `rating` may arrive as a float.
    """
    review_id = raw.get("id")
    if not isinstance(review_id, str) or not review_id:
        return None
    user = raw.get("user")
    name = user.get("name") if isinstance(user, dict) else None
    text, rating, url = raw.get("text"), raw.get("rating"), raw.get("url")
    return IncomingEvent(
        platform="yelp",
        kind="review",
        external_id=review_id,
        text=text if isinstance(text, str) else "",
        created_at=parse_yelp_time(raw.get("time_created")) or fetched_at,
        author_handle=name if isinstance(name, str) and name else None,
        url=url if isinstance(url, str) and url else None,
        rating=round(rating) if isinstance(rating, int | float) and not isinstance(rating, bool) else None,
    )


def parse_yelp_reviews(body: Mapping[str, Any], *, fetched_at: datetime) -> tuple[list[IncomingEvent], int]:
    """(events, number skipped for lack of an id) of a `/v3/businesses/{id}/reviews` response."""
    raw = body.get("reviews")
    items: list[object] = raw if isinstance(raw, list) else []
    parsed = [parse_yelp_review(r, fetched_at=fetched_at) if isinstance(r, dict) else None for r in items]
    events = [e for e in parsed if e is not None]
    return events, len(items) - len(events)


class YelpConnector:
    """Reads the review excerpts Yelp shows for one business."""

    name: ClassVar[str] = "yelp"
    streams: ClassVar[tuple[str, ...]] = ("reviews",)

    def __init__(
        self,
        spec: AccountSpec,
        *,
        client: requests.Session | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        if not spec.secrets.get("yelp_api_key"):
            raise ConnectorError(
                f"Yelp account {spec.name!r} needs YELP_API_KEY in .env (see docs/platforms/yelp.md)", permanent=True
            )
        business_id = spec.options.get("business_id")
        if business_id is None or isinstance(business_id, bool) or not str(business_id).strip():
            raise ConnectorError(
                f"Yelp account {spec.name!r}: set the 'business_id' option in the policy file's [[accounts]] entry",
                permanent=True,
            )
        self.spec = spec
        base = str(spec.options.get("base_url") or API_BASE).rstrip("/")
        self._url = f"{base}/v3/businesses/{quote(str(business_id).strip(), safe='')}/reviews"
        self._api_key = spec.secrets["yelp_api_key"]
        self._session = client if client is not None else requests.Session()
        self._clock = clock

    def fetch(self, stream: str, cursor: str | None) -> Page:
        """The excerpts written since the floor in `cursor`; one API call, no paging (there is none).

        The cursor is a fixed floor, set 7 days before the first poll (so no history is replayed),
        not a high-water mark: the excerpts come in Yelp's order, not newest first, so an older review
        may surface later and would be lost behind a high-water mark. Repeats cost nothing: the
        pipeline de-duplicates on the review id.
        """
        if stream not in self.streams:
            raise ConnectorError(f"the yelp source has no stream {stream!r}", permanent=True)
        now = self._clock()
        floor = self._read_cursor(cursor) or now - FIRST_POLL_WINDOW
        events, skipped = parse_yelp_reviews(self._get_reviews(), fetched_at=now)
        if skipped:
            log.warning("yelp account %s: skipped %d review(s) without an id", self.spec.name, skipped)
        fresh = tuple(e for e in events if e.created_at >= floor)
        return Page(events=fresh, next_cursor=floor.isoformat())

    def _read_cursor(self, cursor: str | None) -> datetime | None:
        if not cursor:
            return None
        try:
            return parse_utc(cursor)
        except ValueError:
            log.warning("yelp account %s: unreadable cursor ignored; starting from the last 7 days", self.spec.name)
            return None

    def _get_reviews(self) -> dict[str, Any]:
        what = f"yelp reviews for account {self.spec.name}"
        headers = {"Authorization": f"Bearer {self._api_key}", "Accept": "application/json"}
        resp = send(self._session, "GET", self._url, what=what, headers=headers)
        self._raise_for_status(resp, what)
        return json_object(resp, what)

    def _raise_for_status(self, resp: requests.Response, what: str) -> None:
        """Map Yelp's `{"error": {"code", "description"}}` answers to typed errors (Places rate-limiting doc)."""
        status = resp.status_code
        if status < 300:
            return
        code = str(error_body(resp).get("code") or f"HTTP {status}")
        if status == 401 or code in AUTH_CODES:
            raise AuthExpired(
                f"Yelp rejected YELP_API_KEY ({code}). Create or copy the API key again on the Manage App page "
                "of the Yelp developer portal and put it in YELP_API_KEY."
            )
        if status == 403:
            raise AuthExpired(
                f"Yelp refused the reviews endpoint to this API key ({code}). The trial may have ended or the plan "
                "may not include reviews: check the plan on the Yelp developer portal (see docs/platforms/yelp.md)."
            )
        if status == 429:
            raise RateLimited(f"{what}: rate limited ({code})", retry_after=self._retry_after(resp, code))
        if status == 404:
            raise ConnectorError(
                f"{what}: Yelp knows no such business ({code}); check the business_id option", permanent=True
            )
        raise ConnectorError(f"{what}: HTTP {status} ({code})", permanent=status < 500)

    def _retry_after(self, resp: requests.Response, code: str) -> float | None:
        """The daily cap resets at `RateLimit-ResetTime` (midnight UTC); the per-second cap in a moment.

        The reset header describes the daily window, so it is only used for the daily cap
        (ACCESS_LIMIT_REACHED); a per-second 429 honours `Retry-After` or lets the caller pick a pause.
        """
        now = self._clock()
        if code == "TOO_MANY_REQUESTS_PER_SECOND":
            return seconds_until(resp.headers.get("Retry-After"), now)
        reset = seconds_until(resp.headers.get("RateLimit-ResetTime"), now)
        if reset is not None:
            return reset
        if code == "ACCESS_LIMIT_REACHED":
            utc_now_ = now.astimezone(UTC)
            midnight = datetime.combine(utc_now_.date() + timedelta(days=1), time(0), tzinfo=UTC)
            return (midnight - utc_now_).total_seconds()
        return seconds_until(resp.headers.get("Retry-After"), now)

    def post_reply(self, event: IncomingEvent, text: str) -> str:
        """Always refuses: policy P7, and Yelp's Respond-to-Reviews API is for Yelp partners only."""
        raise ConnectorError(
            "the practice never replies to reviews (policy P7); Yelp replies also need the partner-only "
            "Respond-to-Reviews API. Nothing was sent",
            permanent=True,
        )

    def find_reply(self, event: IncomingEvent, text: str) -> str | None:
        """None: this connector never posts, so no reply of ours can exist."""
        return None

    def check_auth(self) -> None:
        """One reviews call: proves the key, the plan and the business id together."""
        self._get_reviews()
