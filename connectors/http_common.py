"""Plumbing shared by the connectors that speak plain HTTP through `requests` (Google, Yelp, RSS).

Why a module of its own: the three sources map transport failures, JSON bodies and reset headers to
the typed errors of `connectors.base` in exactly the same way, and that mapping is where a token or a
feed URL could leak into an exception message. Messages built here name the call (`what`) and the
HTTP status only: never the URL, the headers or the body.
"""

from __future__ import annotations

import email.utils
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

import requests

from connectors.base import ConnectorError

#: (connect, read) seconds. feedparser and the platform APIs would otherwise wait forever (PLATFORMS §4.4).
TIMEOUT: tuple[float, float] = (5.0, 30.0)


def utc_now() -> datetime:
    """The default clock of these connectors (tests inject their own)."""
    return datetime.now(UTC)


def send(session: requests.Session, method: str, url: str, *, what: str, **kwargs: Any) -> requests.Response:
    """Make one request with a timeout; transport failures become temporary `ConnectorError`s.

    `from None` drops the library exception, whose text includes the URL (a Google Alerts feed URL
    identifies the practice's Google account).
    """
    kwargs.setdefault("timeout", TIMEOUT)
    try:
        return session.request(method, url, **kwargs)
    except requests.Timeout:
        raise ConnectorError(f"{what}: the request timed out", permanent=False) from None
    except requests.ConnectionError:
        raise ConnectorError(f"{what}: could not connect", permanent=False) from None
    except requests.RequestException as exc:
        raise ConnectorError(f"{what}: the request failed ({type(exc).__name__})", permanent=False) from None


def json_object(resp: requests.Response, what: str) -> dict[str, Any]:
    """The response body as a JSON object; anything else is a (temporary) `ConnectorError`.

    A proxy or an overloaded front end can answer 200 with an HTML page, so it is worth retrying.
    """
    try:
        body = resp.json()
    except ValueError:
        raise ConnectorError(f"{what}: the response was not valid JSON (HTTP {resp.status_code})") from None
    if not isinstance(body, dict):
        raise ConnectorError(f"{what}: the response was JSON but not an object (HTTP {resp.status_code})")
    return body


def error_body(resp: requests.Response) -> Mapping[str, Any]:
    """The `error` object of an error response (Google and Yelp both nest it), or {} if there is none."""
    try:
        body = resp.json()
    except ValueError:
        return {}
    error = body.get("error") if isinstance(body, dict) else None
    return error if isinstance(error, dict) else {}


def seconds_until(value: str | None, now: datetime) -> float | None:
    """Seconds to wait from a reset header: delta-seconds, an HTTP date or an ISO 8601 time.

    `Retry-After` may be either of the first two (RFC 9110 §10.2.3); Yelp's `RateLimit-ResetTime` is
    ISO 8601 (https://docs.developer.yelp.com/docs/places-rate-limiting). None when absent or unreadable.
    """
    if not value or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    when: datetime | None
    try:
        when = email.utils.parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        when = None
    if when is None:
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


def parse_utc(value: str) -> datetime:
    """An RFC 3339 / ISO 8601 time as an aware UTC datetime (naive input is taken as UTC).

    Google sends up to nine fractional digits ("2014-10-02T15:01:23.045123456Z", v4 Review reference);
    Python 3.11's `fromisoformat` accepts them and keeps microseconds. Raises ValueError.
    """
    when = datetime.fromisoformat(value.strip())
    return when.replace(tzinfo=UTC) if when.tzinfo is None else when.astimezone(UTC)
