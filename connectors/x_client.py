"""The tweepy client for the X connector: building it, reading options, and typed errors.

Errors: X answers errors with RFC 7807 problem objects (`{"title", "detail", "type", "reason", ...}`,
https://docs.x.com/x-api/fundamentals/response-codes-and-errors); v1.1-style bodies carry
`errors[].code/message` instead. Messages built here name the call, the status and X's short problem
name only: never the URL, the headers, the body's free text or a token.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any

import requests
import tweepy  # type: ignore[import-untyped]

from connectors.base import AccountSpec, AuthExpired, ConnectorError, RateLimited
from connectors.http_common import TIMEOUT
from connectors.library_logs import quiet_library_debug

USER_ENV = "X_CONSUMER_KEY, X_CONSUMER_SECRET, X_ACCESS_TOKEN, X_ACCESS_TOKEN_SECRET"
ACCESS_LEVEL = (
    "X refused the call for the app's access level ({code}). The app must belong to a Project in the X "
    "Developer Console and the account's plan must include this endpoint: DM lookup and follower lookup are "
    "not in every plan (pay-per-use credits, or a legacy Free/Basic/Pro subscription). Check the plan and the "
    "app's Project, or remove the stream from the policy file (see docs/platforms/x.md)."
)
_PROBLEM = re.compile(r"^[A-Za-z][A-Za-z0-9 ._-]{0,60}$")


def _body(response: requests.Response) -> Mapping[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, Mapping) else {}


def _problem(body: Mapping[str, Any]) -> str:
    """X's short name for the problem (`client-not-enrolled`, `unsupported-authentication`, ...), or ""."""
    for key in ("reason", "type", "title"):
        value = body.get(key)
        if isinstance(value, str) and value and value != "about:blank":
            name = value.rstrip("/").rsplit("/", 1)[-1]
            if _PROBLEM.match(name):
                return name
    return ""


def _detail(body: Mapping[str, Any]) -> str:
    detail = body.get("detail")
    errors = body.get("errors")
    texts = [detail] if isinstance(detail, str) else []
    for error in errors if isinstance(errors, list) else []:
        if isinstance(error, Mapping) and isinstance(error.get("message"), str):
            texts.append(error["message"])
    return " ".join(texts).lower()


def unauthorized(user_auth: bool, code: str) -> AuthExpired:
    """What a 401 means for the credentials in use."""
    if user_auth:
        return AuthExpired(
            f"X rejected the OAuth 1.0a credentials ({code}). In the X Developer Console (the app's Keys and "
            "tokens) regenerate the access token and secret while signed in as the practice's account and put them "
            "in X_ACCESS_TOKEN and X_ACCESS_TOKEN_SECRET; X_CONSUMER_KEY and X_CONSUMER_SECRET must be the same "
            "app's API key and secret."
        )
    return AuthExpired(
        f"X rejected X_BEARER_TOKEN ({code}). Regenerate the app's bearer token in the X Developer Console "
        "(Keys and tokens) and put it in X_BEARER_TOKEN."
    )


def forbidden(body: Mapping[str, Any], what: str, code: str) -> ConnectorError:
    """A 403: the plan or app lacks access (staff must act), or X refused this one request."""
    problem, detail = _problem(body), _detail(body)
    if problem in ("client-not-enrolled", "client-forbidden", "Client Forbidden"):
        return AuthExpired(ACCESS_LEVEL.format(code=code))
    if problem in ("unsupported-authentication", "Unsupported Authentication"):
        return AuthExpired(
            f"This X endpoint needs OAuth 1.0a user context, not the app's bearer token ({code}). Set {USER_ENV} "
            "in .env (see docs/platforms/x.md)."
        )
    if problem == "oauth1-permissions" or "oauth1 app permissions" in detail:
        return AuthExpired(
            f"The X app's permissions do not allow this call ({code}). Set App permissions to 'Read and write and "
            "Direct message' in the X Developer Console, then regenerate X_ACCESS_TOKEN and X_ACCESS_TOKEN_SECRET."
        )
    if "duplicate content" in detail:
        return ConnectorError(
            f"{what}: X refused a post identical to an earlier one ({code}); it may already be on the account",
            permanent=True,
        )
    if "deleted or not visible" in detail or "not visible to you" in detail:
        return ConnectorError(f"{what}: the post was deleted or is no longer visible ({code})", permanent=True)
    return ConnectorError(f"{what}: X refused the request ({code})", permanent=True)


def http_error(response: requests.Response, what: str, *, user_auth: bool) -> ConnectorError:
    """Map one non-2xx, non-429 response to a typed error (429 is handled where the reset time is known)."""
    status = response.status_code
    body = _body(response)
    problem = _problem(body)
    code = f"HTTP {status} {problem}".strip()
    if status == 401:
        return unauthorized(user_auth, code)
    if status == 403:
        return forbidden(body, what, code)
    if status == 402:  # pay-per-use: the account's credits are used up (unverified against a live account)
        return AuthExpired(
            f"X refused the call for payment ({code}): the account's API credits or plan are used up. Top up or "
            "change the plan in the X Developer Console."
        )
    if status == 404:
        return ConnectorError(
            f"{what}: X found no such item or account ({code}); check the user_id option", permanent=True
        )
    return ConnectorError(f"{what}: {code}", permanent=status < 500)


class _TimeoutSession(requests.Session):
    """tweepy calls `session.request` without a timeout, which can wait forever (PLATFORMS §4.4)."""

    def request(self, method: str | bytes, url: str | bytes, *args: Any, **kwargs: Any) -> requests.Response:
        kwargs.setdefault("timeout", TIMEOUT)
        return super().request(method, url, *args, **kwargs)  # type: ignore[arg-type]


def build_client(spec: AccountSpec) -> Any:
    """A `tweepy.Client` that never sleeps on a rate limit, returns plain JSON and times out."""
    quiet_library_debug("tweepy", "requests_oauthlib", "oauthlib")
    secrets = spec.secrets
    client = tweepy.Client(
        bearer_token=secrets.get("x_bearer_token") or None,
        consumer_key=secrets.get("x_consumer_key") or None,
        consumer_secret=secrets.get("x_consumer_secret") or None,
        access_token=secrets.get("x_access_token") or None,
        access_token_secret=secrets.get("x_access_token_secret") or None,
        return_type=dict,
        wait_on_rate_limit=False,
    )
    client.session = _TimeoutSession()
    return client


def id_option(spec: AccountSpec, key: str, *, required: bool, digits: bool) -> str | None:
    """An id option: the numeric user id, or the handle (an "@" in front is accepted)."""
    raw = spec.options.get(key)
    if raw is None or isinstance(raw, bool) or str(raw).strip() == "":
        if required:
            raise ConnectorError(
                f"X account {spec.name!r}: set the {key!r} option in the policy file's [[accounts]] entry "
                "(see docs/platforms/x.md)",
                permanent=True,
            )
        return None
    value = str(raw).strip().removeprefix("@")
    valid = value.isascii() and len(value) <= 50 and (value.isdigit() if digits else value.replace("_", "").isalnum())
    if not valid:
        kind = "a numeric X user id" if digits else "an X handle"
        raise ConnectorError(f"X account {spec.name!r}: option {key!r} is not {kind}", permanent=True)
    return value


class XApi:
    """Runs tweepy calls; every failure becomes a typed error naming the call, never a secret or URL."""

    def __init__(self, client: Any, *, user_auth: bool, clock: Callable[[], datetime]) -> None:
        client.return_type, client.wait_on_rate_limit = dict, False  # also for an injected client
        self.client = client
        self.user_auth = user_auth
        self._clock = clock

    def guard(self, what: str, call: Callable[[], Any]) -> Any:
        """Run `call`, mapping tweepy's and requests' exceptions (PLATFORMS §2.3)."""
        try:
            return call()
        except tweepy.TooManyRequests as exc:
            reset = exc.reset_time  # from x-rate-limit-reset (Unix seconds), None when X sent none
            wait = max(0.0, reset - self._clock().timestamp()) if isinstance(reset, int | float) else None
            raise RateLimited(f"{what}: rate limited by X (HTTP 429)", retry_after=wait) from None
        except tweepy.HTTPException as exc:
            raise http_error(exc.response, what, user_auth=self.user_auth) from None
        except requests.Timeout:
            raise ConnectorError(f"{what}: the request timed out", permanent=False) from None
        except requests.ConnectionError:
            raise ConnectorError(f"{what}: could not connect", permanent=False) from None
        except requests.JSONDecodeError:  # an HTML page from a proxy, a cut-off body
            raise ConnectorError(f"{what}: the response was not valid JSON", permanent=False) from None
        except requests.RequestException as exc:
            raise ConnectorError(f"{what}: the request failed ({type(exc).__name__})", permanent=False) from None
        except ValueError:  # e.g. an unreadable x-rate-limit-reset header (tweepy parses it with int())
            raise ConnectorError(f"{what}: the response could not be read", permanent=False) from None

    def call(self, what: str, method: str, **params: Any) -> dict[str, Any]:
        """`client.<method>(**params)` as a JSON object."""
        body = self.guard(what, lambda: getattr(self.client, method)(**params))
        if not isinstance(body, dict):
            raise ConnectorError(f"{what}: the response was JSON but not an object", permanent=False)
        return body
