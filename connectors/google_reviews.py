"""Google Business Profile reviews, read through the legacy My Business API v4 (read-only).

The v4 reviews endpoints are still the only way to list reviews (GBP FAQ, PLATFORMS §4.1); access is
gated: the Cloud project's quota is 0 until Google approves the "Application for Basic API Access".
Policy P7 forbids replying to reviews, so this connector only reads: `post_reply` always refuses.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import requests

from connectors.base import AccountSpec, AuthExpired, ConnectorError, IncomingEvent, Page, RateLimited
from connectors.google_parse import ParsedReview, parse_reviews_page
from connectors.http_common import error_body, json_object, parse_utc, seconds_until, send, utc_now

log = logging.getLogger(__name__)

API_BASE = "https://mybusiness.googleapis.com"
TOKEN_URL = "https://oauth2.googleapis.com/token"
SCOPE = "https://www.googleapis.com/auth/business.manage"
PAGE_SIZE = 50  # the v4 list maximum
MAX_PAGES = 10
FIRST_POLL_WINDOW = timedelta(days=7)
SECRETS = (
    ("google_client_id", "GOOGLE_CLIENT_ID"),
    ("google_client_secret", "GOOGLE_CLIENT_SECRET"),
    ("google_refresh_token", "GOOGLE_REFRESH_TOKEN"),
)
BASIC_ACCESS = (
    "Google has not granted this Cloud project access to the Business Profile APIs: until the "
    "'Application for Basic API Access' is approved the quota reads 0 (do not file a quota increase). "
    "Apply with the project number of GOOGLE_CLIENT_ID's project and check that the signed-in account "
    "is an owner or manager of the location (see docs/platforms/google.md)"
)
_ID = re.compile(r"^[A-Za-z0-9_-]+$")


def _option_id(spec: AccountSpec, key: str, prefix: str) -> str:
    """A numeric id option; accepts "123" or the resource form "accounts/123" as pasted from the API."""
    raw = spec.options.get(key)
    if raw is None or isinstance(raw, bool) or str(raw).strip() == "":
        raise ConnectorError(
            f"Google account {spec.name!r}: set the {key!r} option in the policy file's [[accounts]] entry",
            permanent=True,
        )
    value = str(raw).strip().removeprefix(prefix)
    if not _ID.match(value):
        raise ConnectorError(f"Google account {spec.name!r}: option {key!r} is not an id", permanent=True)
    return value


class GoogleReviewsConnector:
    """Reads the reviews of one Business Profile location, newest update first."""

    name: ClassVar[str] = "google"
    streams: ClassVar[tuple[str, ...]] = ("reviews",)

    def __init__(
        self,
        spec: AccountSpec,
        *,
        client: requests.Session | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        missing = [env for key, env in SECRETS if not spec.secrets.get(key)]
        if missing:
            raise ConnectorError(
                f"Google account {spec.name!r} needs {', '.join(missing)} in .env (see docs/platforms/google.md)",
                permanent=True,
            )
        self.spec = spec
        account_id = _option_id(spec, "account_id", "accounts/")
        location_id = _option_id(spec, "location_id", "locations/")
        base = str(spec.options.get("base_url") or API_BASE).rstrip("/")
        self._reviews_url = f"{base}/v4/accounts/{account_id}/locations/{location_id}/reviews"
        self._token_url = str(spec.options.get("token_url") or TOKEN_URL)
        self._session = client if client is not None else requests.Session()
        self._clock = clock
        self._client_id = spec.secrets["google_client_id"]
        self._client_secret = spec.secrets["google_client_secret"]
        self._refresh_token = spec.secrets["google_refresh_token"]
        self._token: str | None = None
        self._token_expires = datetime.min.replace(tzinfo=UTC)
        self._granted_scope: str | None = None

    # --- reading

    def fetch(self, stream: str, cursor: str | None) -> Page:
        """Reviews created or updated since `cursor` (the newest `updateTime` seen, ISO 8601).

        The list is ordered `updateTime desc`, so paging stops at the first review older than the
        cursor. A first poll (no cursor) goes back 7 days only, so years of reviews are not alerted
        on. An edited review keeps its reviewId, so the pipeline keeps the first version (dedupe).
        """
        if stream not in self.streams:
            raise ConnectorError(f"the google source has no stream {stream!r}", permanent=True)
        now = self._clock()
        since = self._read_cursor(cursor) or now - FIRST_POLL_WINDOW
        newest, skipped = since, 0
        events: list[IncomingEvent] = []
        page_token: str | None = None
        for _ in range(MAX_PAGES):
            parsed, bad, page_token = parse_reviews_page(self._list(page_token, PAGE_SIZE), fetched_at=now)
            skipped += bad
            fresh: list[ParsedReview] = [r for r in parsed if r.updated_at >= since]
            events.extend(r.event for r in fresh)
            newest = max([newest, *(r.updated_at for r in fresh)])
            if len(fresh) < len(parsed) or not page_token:
                break
        else:
            log.warning("google account %s: stopped after %d pages of reviews", self.spec.name, MAX_PAGES)
        if skipped:
            log.warning("google account %s: skipped %d review(s) without a reviewId", self.spec.name, skipped)
        return Page(events=tuple(events), next_cursor=newest.isoformat())

    def _read_cursor(self, cursor: str | None) -> datetime | None:
        if not cursor:
            return None
        try:
            return parse_utc(cursor)
        except ValueError:
            log.warning("google account %s: unreadable cursor ignored; starting from the last 7 days", self.spec.name)
            return None

    def _list(self, page_token: str | None, page_size: int) -> dict[str, Any]:
        """One page of `accounts.locations.reviews.list`; a rejected access token is renewed once."""
        params: dict[str, str | int] = {"pageSize": page_size, "orderBy": "updateTime desc"}
        if page_token:
            params["pageToken"] = page_token
        what = f"google reviews list for account {self.spec.name}"
        resp = self._get(params, what)
        if resp.status_code == 401:  # the cached token may have been revoked early: exchange again once
            self._token = None
            resp = self._get(params, what)
        self._raise_for_status(resp, what)
        return json_object(resp, what)

    def _get(self, params: Mapping[str, str | int], what: str) -> requests.Response:
        headers = {"Authorization": f"Bearer {self._access_token()}"}  # a header, never the logged URL
        return send(self._session, "GET", self._reviews_url, what=what, params=params, headers=headers)

    # --- OAuth

    def _access_token(self) -> str:
        """An access token from the refresh token, cached in this instance until shortly before expiry."""
        now = self._clock()
        if self._token is not None and now < self._token_expires:
            return self._token
        what = f"google token exchange for account {self.spec.name}"
        form = {
            "grant_type": "refresh_token",
            "client_id": self._client_id,
            "client_secret": self._client_secret,
            "refresh_token": self._refresh_token,
        }
        resp = send(self._session, "POST", self._token_url, what=what, data=form)
        if resp.status_code in (400, 401, 403):
            raise _token_refused(resp)
        if resp.status_code == 429 or resp.status_code >= 500:
            raise ConnectorError(f"{what}: HTTP {resp.status_code}", permanent=False)
        if resp.status_code != 200:
            raise ConnectorError(f"{what}: HTTP {resp.status_code}", permanent=True)
        body = json_object(resp, what)
        token, expires_in = body.get("access_token"), body.get("expires_in", 3600)
        if not isinstance(token, str) or not token:
            raise ConnectorError(f"{what}: the answer had no access token")
        seconds = float(expires_in) if isinstance(expires_in, int | float) else 3600.0
        self._token, self._token_expires = token, now + timedelta(seconds=max(0.0, seconds - 60))
        scope = body.get("scope")
        self._granted_scope = scope if isinstance(scope, str) else None
        return token

    # --- errors

    def _raise_for_status(self, resp: requests.Response, what: str) -> None:
        """Map a v4 error (`{"error": {"code", "message", "status", "details"}}`) to a typed error."""
        status = resp.status_code
        if status < 300:
            return
        err = error_body(resp)
        code = f"HTTP {status} {err.get('status') or ''}".strip()
        if status == 401:
            raise AuthExpired(
                f"Google rejected the access token ({code}). Renew GOOGLE_REFRESH_TOKEN: sign in again as an "
                "owner or manager of the Business Profile and grant the business.manage scope."
            )
        if status == 403:
            raise AuthExpired(_forbidden(err, code))
        if status == 404:
            raise ConnectorError(
                f"{what}: Google knows no such location ({code}); check the account_id and location_id options",
                permanent=True,
            )
        if status == 429:
            if _quota_is_zero(err):
                raise AuthExpired(f"{BASIC_ACCESS} ({code}).")
            raise RateLimited(
                f"{what}: rate limited ({code})",
                retry_after=seconds_until(resp.headers.get("Retry-After"), self._clock()),
            )
        raise ConnectorError(f"{what}: {code}", permanent=status < 500)

    # --- the rest of the protocol

    def post_reply(self, event: IncomingEvent, text: str) -> str:
        """Always refuses: the practice never replies to reviews (policy P7)."""
        raise ConnectorError("the practice never replies to reviews (policy P7); nothing was sent", permanent=True)

    def find_reply(self, event: IncomingEvent, text: str) -> str | None:
        """None: this connector never posts, so no reply of ours can exist."""
        return None

    def check_auth(self) -> None:
        """Exchange the refresh token afresh and list one review; raise AuthExpired saying what to fix."""
        self._token = None
        self._access_token()
        if self._granted_scope is not None and SCOPE not in self._granted_scope.split():
            raise AuthExpired(
                f"GOOGLE_REFRESH_TOKEN was issued without the {SCOPE} scope; sign in again granting it "
                "and put the new refresh token in GOOGLE_REFRESH_TOKEN."
            )
        self._list(None, 1)


def _token_refused(resp: requests.Response) -> AuthExpired:
    """The OAuth error (`{"error": "invalid_grant", ...}`, RFC 6749 §5.2) as an instruction to staff."""
    try:
        body = resp.json()
    except ValueError:
        body = {}
    error = body.get("error") if isinstance(body, dict) else None
    code = error if isinstance(error, str) else f"HTTP {resp.status_code}"
    if code == "invalid_grant":
        return AuthExpired(
            "Google refused GOOGLE_REFRESH_TOKEN (invalid_grant: expired or revoked). Sign in again as an owner "
            "or manager of the Business Profile, grant the business.manage scope and put the new refresh token "
            "in GOOGLE_REFRESH_TOKEN. Tokens of an OAuth app left in 'Testing' status expire after 7 days."
        )
    if code in ("invalid_client", "unauthorized_client"):
        return AuthExpired(
            f"Google did not accept GOOGLE_CLIENT_ID / GOOGLE_CLIENT_SECRET ({code}). Copy the OAuth client's id "
            "and secret again from the Cloud project's Credentials page."
        )
    return AuthExpired(f"Google refused the token exchange ({code}); check GOOGLE_CLIENT_ID and GOOGLE_REFRESH_TOKEN.")


def _reasons(err: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    details = err.get("details")
    return [d for d in details if isinstance(d, dict)] if isinstance(details, list) else []


def _quota_is_zero(err: Mapping[str, Any]) -> bool:
    """True when the project's quota is 0 (Basic API Access not approved), not merely used up."""
    for detail in _reasons(err):
        metadata = detail.get("metadata")
        if isinstance(metadata, dict) and str(metadata.get("quota_limit_value", "")).strip() == "0":
            return True
    message = str(err.get("message") or "")
    return re.search(r"\bquota (?:limit )?(?:value )?(?:of |is )?0\b", message, re.IGNORECASE) is not None


def _forbidden(err: Mapping[str, Any], code: str) -> str:
    """What a 403 means for the practice: API disabled, scope missing, or no Basic API Access / role."""
    reasons = {str(d.get("reason")) for d in _reasons(err)}
    if "SERVICE_DISABLED" in reasons:
        return (
            f"The Google My Business API (v4) is not enabled in the Cloud project of GOOGLE_CLIENT_ID ({code}); "
            "enable it in the API Library after the Basic API Access application is approved."
        )
    if "ACCESS_TOKEN_SCOPE_INSUFFICIENT" in reasons:
        return (
            f"GOOGLE_REFRESH_TOKEN lacks the {SCOPE} scope ({code}); sign in again granting it and put the new "
            "refresh token in GOOGLE_REFRESH_TOKEN."
        )
    return f"{BASIC_ACCESS} ({code})."
