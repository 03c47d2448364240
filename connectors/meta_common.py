"""The Graph API client the Facebook Page and Instagram connectors share, over facebook-sdk 3.1.0.

Why a module of its own: both read the same Graph API (graph.facebook.com) with the same Page access
token, so the version override, `appsecret_proof`, usage headers and error codes live here once.
facebook-sdk puts the token in every URL and form and raises exceptions that quote URLs, so messages
built here name the call, the Graph error code and the HTTP status; Meta's own error text is included
only after the token, app secret and proof are cut out of it (PLATFORMS §1.3).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import re
import threading
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

import facebook
import requests

from connectors.base import AccountSpec, AuthExpired, ConnectorError, RateLimited
from connectors.http_common import TIMEOUT, seconds_until, utc_now

log = logging.getLogger(__name__)

#: Throttling codes (Graph API "Rate Limiting" and error-code references, PLATFORMS §1.7); 800xx are BUC.
THROTTLE_CODES = frozenset({4, 17, 32, 613})
#: Messenger 2018278 / Instagram 2534022: "sent outside of allowed window" (Send API error reference).
WINDOW_SUBCODES = frozenset({2018278, 2534022})
_PERMISSION = re.compile(r"\b(?:pages|instagram|business|read)_[a-z_]+\b")
_SECRET_PARAM = re.compile(r"\b(access_token|appsecret_proof|input_token)=[^&\s\"']+")
_VERSION = re.compile(r"^v?(\d{1,3}\.\d{1,2})$")
_NUMERIC_ID = re.compile(r"^\d{1,30}$")


class GraphGone(ConnectorError):
    """The object no longer exists or cannot be seen (deleted post, error 100/33 or 803)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, permanent=True)


def graph_version(spec: AccountSpec) -> str | None:
    """The Graph version as "v25.0" ("25.0" is accepted too); None if FACEBOOK_GRAPH_VERSION is malformed.

    facebook-sdk's own constructor check stops at 3.1 (PLATFORMS §1.1), so the version is ours to check.
    """
    match = _VERSION.match((spec.secrets.get("facebook_graph_version") or "v25.0").strip())
    return f"v{match.group(1)}" if match else None


def count_option(spec: AccountSpec, key: str, default: int, highest: int) -> int:
    """A small positive whole-number option (how many posts or media a poll looks at)."""
    raw = spec.options.get(key, default)
    if isinstance(raw, bool) or not isinstance(raw, int | str) or not str(raw).strip().isdigit():
        raise ConnectorError(
            f"{spec.platform} account {spec.name!r}: option {key!r} must be a whole number", permanent=True
        )
    value = int(str(raw).strip())
    if not 1 <= value <= highest:
        raise ConnectorError(
            f"{spec.platform} account {spec.name!r}: option {key!r} must be between 1 and {highest}", permanent=True
        )
    return value


def numeric_option(spec: AccountSpec, key: str, doc: str) -> str:
    """A Graph id option (Page ids and Instagram user ids are numbers); a missing one names the option."""
    raw = spec.options.get(key)
    if raw is None or isinstance(raw, bool) or str(raw).strip() == "":
        raise ConnectorError(
            f"{spec.platform} account {spec.name!r}: set the {key!r} option in the policy file's [[accounts]] "
            f"entry (see docs/platforms/{doc}.md)",
            permanent=True,
        )
    value = str(raw).strip()
    if not _NUMERIC_ID.match(value):
        raise ConnectorError(
            f"{spec.platform} account {spec.name!r}: option {key!r} is not a numeric id", permanent=True
        )
    return value


def _int(value: object) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


class GraphClient:
    """facebook.GraphAPI with the configured version, appsecret_proof, typed errors and usage headers."""

    def __init__(
        self,
        spec: AccountSpec,
        *,
        doc: str,
        graph: Any = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        token = spec.secrets.get("facebook_page_token")
        if not token:
            raise ConnectorError(
                f"{spec.platform} account {spec.name!r} needs FACEBOOK_PAGE_TOKEN in .env "
                f"(see docs/platforms/{doc}.md)",
                permanent=True,
            )
        app_secret = spec.secrets.get("facebook_app_secret") or ""
        self._proof = hmac.new(app_secret.encode(), token.encode(), hashlib.sha256).hexdigest() if app_secret else ""
        self._secrets = tuple(s for s in (token, app_secret, self._proof) if s)
        self.doc = doc
        version = graph_version(spec)
        self.version = version or "v25.0"
        #: a malformed version fails the first call, not the constructor, so the app can still start
        self._version_error = "" if version else "FACEBOOK_GRAPH_VERSION must look like v25.0"
        # The constructor's own version check stops at 3.1 (PLATFORMS §1.1): build with its default, then set.
        self._graph = graph if graph is not None else facebook.GraphAPI(access_token=token, timeout=TIMEOUT)
        self._graph.version = self.version
        self._graph.session.hooks["response"].append(self._on_response)
        self._clock = clock
        #: the last response seen by this thread: the scheduler polls an account's streams in parallel threads
        self._last = threading.local()
        self._blocked_until: datetime | None = None

    def __repr__(self) -> str:
        return f"GraphClient(version={self.version!r})"

    def _on_response(self, resp: requests.Response, *args: Any, **kwargs: Any) -> None:
        """facebook-sdk drops response headers; keep the status and the usage headers (PLATFORMS §1.3)."""
        self._last.status = resp.status_code
        self._last.headers = {k.lower(): v for k, v in resp.headers.items()}

    @property
    def _status(self) -> int | None:
        status: int | None = getattr(self._last, "status", None)
        return status

    @property
    def _headers(self) -> dict[str, str]:
        headers: dict[str, str] = getattr(self._last, "headers", {})
        return headers

    def get(self, path: str, args: Mapping[str, Any], what: str, *, needs: str = "") -> dict[str, Any]:
        """GET /{version}/{path}; `needs` names the permissions the call needs (used in AuthExpired)."""
        query = {k: str(v) for k, v in args.items()}
        if self._proof:
            query["appsecret_proof"] = self._proof
        return self._call(path, query, None, what, needs, read=True, retry_safe=True)

    def post(
        self, path: str, form: Mapping[str, str], what: str, *, needs: str = "", idempotent: bool = False
    ) -> dict[str, Any]:
        """POST form fields to /{version}/{path}; a usage header at 100% after success does not raise.

        A failure after the request may have reached Meta is final unless the call is `idempotent`
        (hiding twice is harmless; posting a reply twice is not).
        """
        body = dict(form)
        if self._proof:
            body["appsecret_proof"] = self._proof
        return self._call(path, {}, body, what, needs, read=False, retry_safe=idempotent)

    def _call(
        self,
        path: str,
        args: dict[str, str],
        form: dict[str, str] | None,
        what: str,
        needs: str,
        *,
        read: bool,
        retry_safe: bool,
    ) -> dict[str, Any]:
        if self._version_error:
            raise ConnectorError(f"{what}: {self._version_error}", permanent=True)
        now = self._clock()
        if self._blocked_until is not None and now < self._blocked_until:
            wait = (self._blocked_until - now).total_seconds()
            raise RateLimited(f"{what}: Meta's call budget is used up; waiting", retry_after=wait)
        self._last.status, self._last.headers = None, {}
        method = "POST" if form is not None else "GET"
        try:
            result = self._graph.request(f"{self.version}/{path}", args, form, method=method)
        except facebook.GraphAPIError as exc:
            raise self._graph_error(exc, what, needs, retry_safe) from None
        except requests.ConnectTimeout:  # never reached Meta: safe to retry, even a write
            raise ConnectorError(f"{what}: the connection timed out", permanent=False) from None
        except requests.Timeout:
            raise self._unknown(what, "the request timed out", retry_safe) from None
        except requests.ConnectionError:
            raise self._unknown(what, "the connection failed", retry_safe) from None
        except (ValueError, KeyError):  # invalid JSON under a json content type; no content type at all
            raise self._unknown(what, f"the response was not valid JSON (HTTP {self._status})", retry_safe) from None
        except requests.RequestException as exc:
            raise self._unknown(what, f"the request failed ({type(exc).__name__})", retry_safe) from None
        if not isinstance(result, dict):
            raise self._unknown(what, f"the response was JSON but not an object (HTTP {self._status})", retry_safe)
        percent, regain = self._usage()
        if percent >= 100:
            self._blocked_until = now + timedelta(seconds=regain) if regain else None
            if read:
                raise RateLimited(f"{what}: Meta reports {percent:.0f}% of the call budget used", retry_after=regain)
            log.warning("meta: call budget at %.0f%% after a write; further calls wait", percent)
        return result

    @staticmethod
    def _unknown(what: str, problem: str, retry_safe: bool) -> ConnectorError:
        """A failure after the request may have reached Meta: retried for reads, final for writes.

        A reply whose outcome is unknown must not be sent again automatically (at most once), so the
        error is permanent and tells staff to look before posting by hand.
        """
        if retry_safe:
            return ConnectorError(f"{what}: {problem}", permanent=False)
        return ConnectorError(
            f"{what}: {problem}; Meta may or may not have posted it. Check the platform before posting again.",
            permanent=True,
        )

    def _usage(self) -> tuple[float, float | None]:
        """Highest percentage in X-App-Usage / X-Page-Usage / X-Business-Use-Case-Usage, and the wait in seconds.

        BUC entries carry `estimated_time_to_regain_access` in minutes (Graph API rate-limiting guide).
        """
        percents: list[float] = [0.0]
        minutes: list[float] = []
        entries: list[Mapping[str, Any]] = []
        for name in ("x-app-usage", "x-page-usage", "x-business-use-case-usage"):
            try:
                value = json.loads(self._headers.get(name) or "null")
            except ValueError:
                continue
            if not isinstance(value, dict):
                continue
            if name != "x-business-use-case-usage":
                entries.append(value)
                continue
            for per_object in value.values():  # {"<business object id>": [{"type": "pages", ...}]}
                if isinstance(per_object, list):
                    entries.extend(e for e in per_object if isinstance(e, dict))
        for entry in entries:
            for key in ("call_count", "total_cputime", "total_time"):
                if (pct := _number(entry.get(key))) is not None:
                    percents.append(pct)
            regain = _number(entry.get("estimated_time_to_regain_access"))
            if regain is not None and regain > 0:
                minutes.append(regain)
        return max(percents), (max(minutes) * 60 if minutes else None)

    def _retry_after(self) -> float | None:
        _, regain = self._usage()
        return regain if regain is not None else seconds_until(self._headers.get("retry-after"), self._clock())

    def redact(self, text: str) -> str:
        """`text` without the token, app secret or proof, or any token-like URL parameter; kept short."""
        for secret in self._secrets:
            text = text.replace(secret, "[redacted]")
        text = _SECRET_PARAM.sub(r"\1=[redacted]", text)
        return text if len(text) <= 200 else text[:197] + "..."

    def _graph_error(self, exc: facebook.GraphAPIError, what: str, needs: str, retry_safe: bool) -> ConnectorError:
        """A Graph error body (`{"error": {"message", "type", "code", "error_subcode", ...}}`) as a typed error."""
        result = exc.result if isinstance(exc.result, dict) else {}
        err: dict[str, Any] = result["error"] if isinstance(result.get("error"), dict) else {}
        code, sub, status = _int(err.get("code")), _int(err.get("error_subcode")), self._status
        if code is None:  # not a Graph error: facebook-sdk's "Maintype" for an HTML or text body
            if status == 429:
                return RateLimited(f"{what}: rate limited (HTTP 429)", retry_after=self._retry_after())
            if status is not None and 400 <= status < 500:
                return ConnectorError(f"{what}: HTTP {status} with a body that is not Graph JSON", permanent=True)
            return self._unknown(what, f"HTTP {status} with a body that is not Graph JSON", retry_safe)
        label = f"Graph API error {code}" + (f"/{sub}" if sub else "") + (f", HTTP {status}" if status else "")
        said = self.redact(str(err.get("message") or ""))
        meta_says = f' Meta says: "{said}"' if said else ""
        if code in THROTTLE_CODES or 80000 <= code < 80100 or status == 429:
            return RateLimited(f"{what}: rate limited ({label})", retry_after=self._retry_after())
        if code in (190, 102):
            return AuthExpired(
                f"Meta rejected FACEBOOK_PAGE_TOKEN ({label}): it expired or was revoked (password change, app "
                "removed, or the user lost their role on the Page). Generate a new long-lived Page access token "
                f"and put it in FACEBOOK_PAGE_TOKEN (see docs/platforms/{self.doc}.md)."
            )
        if sub in WINDOW_SUBCODES:
            return ConnectorError(
                f"{what}: refused, outside the 24-hour messaging window ({label}); nothing was sent. "
                "Reply from the inbox by hand or ask the person to call the office.",
                permanent=True,
            )
        if code in (3, 10) or 200 <= code < 300:
            named = sorted(set(_PERMISSION.findall(str(err.get("message") or ""))))
            missing = ", ".join(named) or needs or "a permission"
            return AuthExpired(
                f"{what}: Meta refused for lack of {missing} ({label}).{meta_says} Generate FACEBOOK_PAGE_TOKEN again "
                "as a user with the needed task on the Page, granting that permission; an app serving people "
                f"without a role on it needs Advanced Access (App Review). See docs/platforms/{self.doc}.md."
            )
        if (code == 100 and sub == 33) or code == 803:
            return GraphGone(f"{what}: the object does not exist or cannot be seen ({label})")
        if code in (1, 2) or err.get("is_transient") is True or (status is not None and status >= 500):
            return self._unknown(what, f"{label}.{meta_says}", retry_safe)
        return ConnectorError(f"{what}: {label}.{meta_says}", permanent=True)

    # --- shared checks

    def scopes(self, required: Mapping[str, str], what: str) -> None:
        """Compare the token's granted permissions (GET /debug_token) with `required` (name -> why).

        debug_token normally wants an app token; if Meta will not debug the token with itself, the
        endpoint probes of `check_auth` are the verdict instead.
        """
        token = self._graph.access_token
        try:
            info = self.get("debug_token", {"input_token": token}, what)
        except RateLimited:
            raise
        except ConnectorError:
            log.info("meta: debug_token unavailable for this token; relying on endpoint probes")
            return
        data: dict[str, Any] = info["data"] if isinstance(info.get("data"), dict) else {}
        if data.get("is_valid") is False:
            raise AuthExpired(
                f"FACEBOOK_PAGE_TOKEN is no longer valid; generate a new long-lived Page access token "
                f"(see docs/platforms/{self.doc}.md)."
            )
        granted = data.get("scopes")
        if not isinstance(granted, list):
            return
        missing = [f"{name} ({why})" for name, why in required.items() if name not in granted]
        if missing:
            raise AuthExpired(
                f"FACEBOOK_PAGE_TOKEN lacks {'; '.join(missing)}. Generate the Page token again granting these "
                f"permissions (see docs/platforms/{self.doc}.md)."
            )
