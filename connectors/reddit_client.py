"""The praw client for the Reddit connector: building it, its request budget, and typed errors.

praw 8 / prawcore 4 (PLATFORMS §3): a script app signs in with the password grant. prawcore retries
5xx and connection errors twice by itself, then raises; it also *sleeps* before a request when the
`x-ratelimit-*` headers say the budget is spent. The connector must not park a scheduler thread for
minutes, so the headers are read here (a `requests` response hook) and a spent budget becomes
`RateLimited` before the request is made. Messages name the call and the status only.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

import praw
import prawcore
import requests
from praw.exceptions import PRAWException, RedditAPIException

from connectors.base import AccountSpec, AuthExpired, ConnectorError, RateLimited
from connectors.library_logs import quiet_library_debug
from connectors.reddit_parse import ratelimit_seconds

SECRETS = (
    ("reddit_client_id", "REDDIT_CLIENT_ID"),
    ("reddit_client_secret", "REDDIT_CLIENT_SECRET"),
    ("reddit_username", "REDDIT_USERNAME"),
    ("reddit_password", "REDDIT_PASSWORD"),
)
USER_AGENT = "practice-monitor/1.0 by u/{username}"
#: seconds; prawcore's own default (PRAWCORE_TIMEOUT) is the same, but the token request reads this one
TIMEOUT = 16.0
TOKEN_PATH = "/api/v1/access_token"
PASSWORD = (
    "Reddit refused REDDIT_USERNAME / REDDIT_PASSWORD ({code}). Check the password, and that the account is "
    "listed as a developer of the script app. An account with two-factor authentication cannot use this sign-in "
    "(its one-time code expires within the hour): use a practice account without 2FA (see docs/platforms/reddit.md)."
)
CLIENT = (
    "Reddit did not accept REDDIT_CLIENT_ID / REDDIT_CLIENT_SECRET ({code}). Copy them again from "
    "https://www.reddit.com/prefs/apps (app type 'script'). New API clients need Reddit's approval under its "
    "Responsible Builder Policy; a client that is not approved is refused (see docs/platforms/reddit.md)."
)
_CODE = re.compile(r"^[A-Za-z_]{1,40}$")


def build_reddit(spec: AccountSpec, session: requests.Session) -> praw.Reddit:
    """A script-app client that never calls PyPI and times out."""
    quiet_library_debug("prawcore", "praw")
    secrets = spec.secrets
    return praw.Reddit(
        client_id=secrets["reddit_client_id"],
        client_secret=secrets["reddit_client_secret"],
        username=secrets["reddit_username"],
        password=secrets["reddit_password"],
        user_agent=USER_AGENT.format(username=secrets["reddit_username"]),
        check_for_updates=False,
        requestor_kwargs={"session": session, "timeout": TIMEOUT},
    )


class RedditApi:
    """Runs praw requests; every failure becomes a typed error naming the call, never a secret."""

    def __init__(self, spec: AccountSpec, *, reddit: praw.Reddit | None, clock: Callable[[], datetime]) -> None:
        self._clock = clock
        self._remaining: float | None = None
        self._reset_at: datetime | None = None
        if reddit is None:
            session = requests.Session()
            session.hooks["response"].append(self._note_limits)
            reddit = build_reddit(spec, session)
        self.reddit = reddit

    def _note_limits(self, response: requests.Response, *args: Any, **kwargs: Any) -> None:
        """Remember `x-ratelimit-remaining` and when the window resets (Reddit Data API wiki)."""
        remaining, reset = response.headers.get("x-ratelimit-remaining"), response.headers.get("x-ratelimit-reset")
        try:
            if remaining is not None and reset is not None:
                self._remaining = float(remaining)
                self._reset_at = self._clock() + timedelta(seconds=float(reset))
        except ValueError:
            pass

    def request(self, what: str, method: str, path: str, *, writing: bool = False, **kwargs: Any) -> Any:
        """`Reddit.request` (raw JSON, no model objects: no lazy fetches behind our back)."""
        if self._remaining is not None and self._remaining < 1 and self._reset_at is not None:
            wait = (self._reset_at - self._clock()).total_seconds()
            if wait > 0:
                raise RateLimited(f"{what}: Reddit's request budget is used up for this window", retry_after=wait)
        try:
            return self.reddit.request(method=method, path=path, **kwargs)
        except (prawcore.PrawcoreException, PRAWException) as exc:
            raise reddit_error(exc, what, writing=writing) from None
        except (ValueError, KeyError) as exc:  # prawcore trips over an odd Retry-After or a bare 401
            raise ConnectorError(f"{what}: Reddit's answer could not be read ({type(exc).__name__})") from None


def _retry_after(exc: prawcore.TooManyRequests) -> float | None:
    """`Retry-After`, else the seconds until the rate-limit window resets; None when Reddit sent neither."""
    for value in (exc.retry_after, exc.response.headers.get("x-ratelimit-reset")):
        if not value:
            continue
        try:
            return max(0.0, float(value))
        except ValueError:
            continue
    return None


def api_error(errors: list[tuple[str, str]], what: str) -> ConnectorError:
    """Reddit's `json.errors` (or a RedditAPIException's items): a RATELIMIT waits, anything else is final."""
    for kind, message in errors:
        if kind == "RATELIMIT":
            return RateLimited(
                f"{what}: Reddit asks to wait before posting again", retry_after=ratelimit_seconds(message)
            )
    kinds = ", ".join(sorted({kind for kind, _ in errors})) or "no reason given"
    return ConnectorError(f"{what}: Reddit refused it ({kinds})", permanent=True)


def reddit_error(exc: Exception, what: str, *, writing: bool) -> ConnectorError:
    """Map a prawcore/praw exception (PLATFORMS §3.4) to a typed error that says what to fix."""
    if isinstance(exc, prawcore.TooManyRequests):
        return RateLimited(f"{what}: rate limited by Reddit (HTTP 429)", retry_after=_retry_after(exc))
    if isinstance(exc, prawcore.OAuthException):
        code = exc.error if _CODE.match(exc.error or "") else "refused"
        return AuthExpired((PASSWORD if code == "invalid_grant" else CLIENT).format(code=code))
    if isinstance(exc, RedditAPIException):
        items = [(i.error_type if _CODE.match(i.error_type or "") else "UNKNOWN", i.message or "") for i in exc.items]
        return api_error(items, what)
    if isinstance(exc, prawcore.ResponseException):
        return _response_error(exc, what, writing=writing)
    if isinstance(exc, prawcore.RequestException):
        original = exc.original_exception
        if isinstance(original, requests.Timeout):
            return ConnectorError(f"{what}: the request timed out", permanent=False)
        if isinstance(original, requests.ConnectionError):
            return ConnectorError(f"{what}: could not connect", permanent=False)
        return ConnectorError(f"{what}: the request failed ({type(original).__name__})", permanent=False)
    return ConnectorError(f"{what}: {type(exc).__name__}", permanent=isinstance(exc, PRAWException))


def _response_error(exc: prawcore.ResponseException, what: str, *, writing: bool) -> ConnectorError:
    status = exc.response.status_code
    code = f"HTTP {status}"
    if TOKEN_PATH in (exc.response.url or ""):
        return AuthExpired(CLIENT.format(code=f"{code} at the token endpoint"))
    if isinstance(exc, prawcore.BadJSON):
        return ConnectorError(f"{what}: the response was not valid JSON", permanent=False)
    if isinstance(exc, prawcore.InvalidToken) or status == 401:
        return AuthExpired(
            f"Reddit rejected the access token ({code}) even after signing in again. " + CLIENT.format(code=code)
        )
    if isinstance(exc, prawcore.InsufficientScope):
        return AuthExpired(
            f"Reddit says the sign-in lacks a permission ({code}); the script app must have full access."
        )
    if status == 403 and writing:
        return ConnectorError(
            f"{what}: Reddit refused the reply ({code}): the thread may be locked or archived, or the person does "
            "not accept messages",
            permanent=True,
        )
    if status == 403:
        return AuthExpired(
            f"Reddit refused access ({code}): the account may be suspended, or the app not approved under Reddit's "
            "Responsible Builder Policy (see docs/platforms/reddit.md)."
        )
    if isinstance(exc, prawcore.NotFound | prawcore.Redirect):
        return ConnectorError(
            f"{what}: Reddit found no such item or subreddit ({code}); check the subreddits option", permanent=True
        )
    return ConnectorError(f"{what}: {code}", permanent=status < 500)
