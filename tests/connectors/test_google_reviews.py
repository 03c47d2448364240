"""Google Business Profile reviews: the real `requests` stack against `responses`.

There are no recordings of the v4 reviews API in ../shared/api_recordings/, so the payloads here are
invented and follow the documented shapes (v4 Review reference; Google's JSON error format).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

import pytest
import requests
import responses

from connectors.base import AccountSpec, AuthExpired, ConnectorError, IncomingEvent, RateLimited
from connectors.google_parse import parse_review, parse_reviews_page
from connectors.google_reviews import API_BASE, SCOPE, TOKEN_URL, GoogleReviewsConnector

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
URL = f"{API_BASE}/v4/accounts/1001/locations/2002/reviews"
SECRETS = {
    "google_client_id": "client-id-demo.apps.googleusercontent.com",
    "google_client_secret": "GOCSPX-client-secret-must-not-leak",
    "google_refresh_token": "1//refresh-token-must-not-leak",
}
ACCESS = "ya29.access-token-must-not-leak"
LEAKABLE = (SECRETS["google_client_secret"], SECRETS["google_refresh_token"], ACCESS)


def stamp(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", "Z")


def review(review_id: str, minutes_ago: float, **fields: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "name": f"accounts/1001/locations/2002/reviews/{review_id}",
        "reviewId": review_id,
        "reviewer": {"displayName": "Robin Example", "profilePhotoUrl": "https://example.invalid/p.png"},
        "starRating": "FOUR",
        "comment": f"review {review_id}",
        "createTime": stamp(minutes_ago),
        "updateTime": stamp(minutes_ago),
    }
    raw.update(fields)
    return raw


def make(clock: Any = lambda: NOW, **options: object) -> GoogleReviewsConnector:
    spec = AccountSpec("gbp-main", "google", {"account_id": "1001", "location_id": "2002", **options}, SECRETS)
    return GoogleReviewsConnector(spec, clock=clock)


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as rsps:
        yield rsps


def token_ok(api: responses.RequestsMock, scope: str = SCOPE) -> None:
    api.post(TOKEN_URL, json={"access_token": ACCESS, "expires_in": 3599, "scope": scope, "token_type": "Bearer"})


def google_error(code: int, status: str, message: str = "error", details: list[Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "status": status, "details": details or []}}


def assert_no_secret(exc: BaseException, caplog: pytest.LogCaptureFixture | None = None) -> None:
    for secret in LEAKABLE:
        assert secret not in str(exc)
        assert caplog is None or secret not in caplog.text


# --- reading


def test_first_poll_exchanges_the_token_and_keeps_only_the_last_seven_days(api: responses.RequestsMock) -> None:
    token_ok(api)
    recent, older = review("r-new", 30), review("r-6d", 6 * 24 * 60)
    api.get(URL, json={"reviews": [recent, older, review("r-old", 8 * 24 * 60)], "nextPageToken": "p2"})
    page = make().fetch("reviews", None)
    assert [e.external_id for e in page.events] == ["r-new", "r-6d"]  # stops at the first old one: no page 2
    first = page.events[0]
    assert (first.platform, first.kind, first.rating, first.text) == ("google", "review", 4, "review r-new")
    assert first.author_handle == "Robin Example"
    assert first.created_at == NOW - timedelta(minutes=30)
    assert page.next_cursor == (NOW - timedelta(minutes=30)).isoformat()
    form = parse_qs(api.calls[0].request.body)  # type: ignore[arg-type]
    assert form == {
        "grant_type": ["refresh_token"],
        "client_id": [SECRETS["google_client_id"]],
        "client_secret": [SECRETS["google_client_secret"]],
        "refresh_token": [SECRETS["google_refresh_token"]],
    }
    listed = api.calls[1].request
    assert listed.headers["Authorization"] == f"Bearer {ACCESS}"
    assert ACCESS not in (listed.url or "")
    assert parse_qs((listed.url or "").split("?", 1)[1]) == {"pageSize": ["50"], "orderBy": ["updateTime desc"]}


def test_incremental_poll_returns_reviews_updated_since_the_cursor(api: responses.RequestsMock) -> None:
    token_ok(api)
    cursor = (NOW - timedelta(hours=2)).isoformat()
    edited = review("r-edited", 10, createTime=stamp(90 * 24 * 60))
    api.get(URL, json={"reviews": [edited, review("r-at-cursor", 120), review("r-before", 121)]})
    page = make().fetch("reviews", cursor)
    assert [e.external_id for e in page.events] == ["r-edited", "r-at-cursor"]
    assert page.events[0].created_at == NOW - timedelta(days=90)  # created long ago, updated now
    assert page.next_cursor == (NOW - timedelta(minutes=10)).isoformat()


def test_paging_follows_next_page_tokens(api: responses.RequestsMock) -> None:
    token_ok(api)
    api.get(URL, json={"reviews": [review("r1", 1), review("r2", 2)], "nextPageToken": "tok-2"})
    api.get(URL, json={"reviews": [review("r3", 3)], "nextPageToken": "tok-3"})
    api.get(URL, json={"reviews": [review("r4", 4)]})
    page = make().fetch("reviews", None)
    assert [e.external_id for e in page.events] == ["r1", "r2", "r3", "r4"]
    tokens = [parse_qs((c.request.url or "").split("?", 1)[1]).get("pageToken") for c in api.calls[1:]]
    assert tokens == [None, ["tok-2"], ["tok-3"]]


def test_an_empty_location_answers_an_empty_object(api: responses.RequestsMock) -> None:
    token_ok(api)
    api.get(URL, json={})
    page = make().fetch("reviews", None)
    assert page.events == ()
    assert page.next_cursor == (NOW - timedelta(days=7)).isoformat()


def test_reviews_without_an_id_are_skipped_and_counted(
    api: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    token_ok(api)
    no_id = review("x", 5)
    del no_id["reviewId"]
    api.get(URL, json={"reviews": [no_id, "not-an-object", review("r-ok", 6)]})
    with caplog.at_level(logging.WARNING):
        page = make().fetch("reviews", None)
    assert [e.external_id for e in page.events] == ["r-ok"]
    assert "skipped 2 review(s)" in caplog.text


def test_unicode_and_emoji_survive(api: responses.RequestsMock) -> None:
    token_ok(api)
    text = "Très bien 👍🏽 — 丁寧な対応でした"
    api.get(URL, json={"reviews": [review("r-u", 1, comment=text, reviewer={"displayName": "Zoë Ñandú"})]})
    (event,) = make().fetch("reviews", None).events
    assert (event.text, event.author_handle) == (text, "Zoë Ñandú")


def test_optional_fields_may_be_missing() -> None:
    bare = {
        "reviewId": "r-bare",
        "starRating": "STAR_RATING_UNSPECIFIED",
        "updateTime": "2030-04-30T10:00:00.123456789Z",
    }
    parsed = parse_review(bare, fetched_at=NOW)
    assert parsed is not None
    assert (parsed.event.text, parsed.event.author_handle, parsed.event.rating) == ("", None, None)
    assert parsed.event.created_at == datetime(2030, 4, 30, 10, 0, 0, 123456, tzinfo=UTC)
    undated = parse_review({"reviewId": "r-undated"}, fetched_at=NOW)
    assert undated is not None and undated.event.created_at == NOW and undated.updated_at == NOW


def test_anonymous_reviewers_have_no_author() -> None:
    raw = review("r-anon", 1, reviewer={"displayName": "A Google user", "isAnonymous": True})
    parsed = parse_review(raw, fetched_at=NOW)
    assert parsed is not None and parsed.event.author_handle is None


@pytest.mark.parametrize(("stars", "rating"), [("ONE", 1), ("TWO", 2), ("THREE", 3), ("FOUR", 4), ("FIVE", 5)])
def test_star_ratings(stars: str, rating: int) -> None:
    reviews, skipped, token = parse_reviews_page({"reviews": [review("r", 1, starRating=stars)]}, fetched_at=NOW)
    assert (reviews[0].event.rating, skipped, token) == (rating, 0, None)


def test_the_access_token_is_cached_until_shortly_before_it_expires(api: responses.RequestsMock) -> None:
    now = [NOW]
    connector = make(clock=lambda: now[0])
    token_ok(api)
    api.get(URL, json={})
    connector.fetch("reviews", None)
    connector.fetch("reviews", None)
    now[0] = NOW + timedelta(seconds=3599 - 30)  # within the 60 s safety margin: exchange again
    connector.fetch("reviews", None)
    assert [c.request.url for c in api.calls].count(TOKEN_URL) == 2


def test_a_rejected_access_token_is_renewed_once(api: responses.RequestsMock) -> None:
    token_ok(api)
    api.get(URL, status=401, json=google_error(401, "UNAUTHENTICATED"))
    api.get(URL, json={"reviews": [review("r1", 1)]})
    assert [e.external_id for e in make().fetch("reviews", None).events] == ["r1"]
    assert [c.request.url for c in api.calls].count(TOKEN_URL) == 2


# --- errors


def test_an_expired_refresh_token_names_the_env_variable(
    api: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    api.post(
        TOKEN_URL,
        status=400,
        json={"error": "invalid_grant", "error_description": "Token has been expired or revoked."},
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthExpired, match="GOOGLE_REFRESH_TOKEN") as err:
        make().fetch("reviews", None)
    assert_no_secret(err.value, caplog)


def test_a_wrong_client_secret_names_the_env_variables(api: responses.RequestsMock) -> None:
    api.post(TOKEN_URL, status=401, json={"error": "invalid_client", "error_description": "Unauthorized"})
    with pytest.raises(AuthExpired, match="GOOGLE_CLIENT_SECRET") as err:
        make().fetch("reviews", None)
    assert_no_secret(err.value)


def test_a_token_still_rejected_after_renewal_is_auth_expired(api: responses.RequestsMock) -> None:
    token_ok(api)
    api.get(URL, status=401, json=google_error(401, "UNAUTHENTICATED"))
    with pytest.raises(AuthExpired, match="GOOGLE_REFRESH_TOKEN") as err:
        make().fetch("reviews", None)
    assert_no_secret(err.value)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (google_error(403, "PERMISSION_DENIED", "The caller does not have permission"), "Basic API Access"),
        (google_error(403, "PERMISSION_DENIED", "quota 0"), "quota reads 0"),
        (google_error(403, "PERMISSION_DENIED", details=[{"reason": "SERVICE_DISABLED"}]), "not enabled"),
        (google_error(403, "PERMISSION_DENIED", details=[{"reason": "ACCESS_TOKEN_SCOPE_INSUFFICIENT"}]), SCOPE),
    ],
)
def test_forbidden_explains_what_to_fix(api: responses.RequestsMock, body: dict[str, Any], expected: str) -> None:
    token_ok(api)
    api.get(URL, status=403, json=body)
    with pytest.raises(AuthExpired, match="PERMISSION_DENIED") as err:
        make().fetch("reviews", None)
    assert expected in str(err.value)
    assert_no_secret(err.value)


def test_a_zero_quota_is_not_a_rate_limit(api: responses.RequestsMock) -> None:
    token_ok(api)
    info = {
        "@type": "type.googleapis.com/google.rpc.ErrorInfo",
        "reason": "RATE_LIMIT_EXCEEDED",
        "metadata": {"quota_limit_value": "0", "service": "mybusiness.googleapis.com"},
    }
    api.get(URL, status=429, json=google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded", [info]))
    with pytest.raises(AuthExpired, match="Application for Basic API Access"):
        make().fetch("reviews", None)


@pytest.mark.parametrize(("headers", "retry_after"), [({"Retry-After": "30"}, 30.0), ({}, None)])
def test_rate_limits(api: responses.RequestsMock, headers: dict[str, str], retry_after: float | None) -> None:
    token_ok(api)
    api.get(URL, status=429, headers=headers, json=google_error(429, "RESOURCE_EXHAUSTED", "Quota exceeded"))
    with pytest.raises(RateLimited) as err:
        make().fetch("reviews", None)
    assert err.value.retry_after == retry_after


@pytest.mark.parametrize(
    ("status", "body", "permanent", "match"),
    [
        (500, google_error(500, "INTERNAL"), False, "HTTP 500"),
        (503, "<html>unavailable</html>", False, "HTTP 503"),
        (404, google_error(404, "NOT_FOUND"), True, "location_id"),
        (400, google_error(400, "INVALID_ARGUMENT"), True, "INVALID_ARGUMENT"),
    ],
)
def test_http_errors(api: responses.RequestsMock, status: int, body: Any, permanent: bool, match: str) -> None:
    token_ok(api)
    if isinstance(body, dict):
        api.get(URL, status=status, json=body)
    else:
        api.get(URL, status=status, body=body)
    with pytest.raises(ConnectorError, match=match) as err:
        make().fetch("reviews", None)
    assert err.value.permanent is permanent
    assert_no_secret(err.value)


@pytest.mark.parametrize("failure", [requests.exceptions.ReadTimeout(), requests.exceptions.ConnectionError()])
def test_timeouts_and_connection_errors_are_temporary(api: responses.RequestsMock, failure: Exception) -> None:
    token_ok(api)
    api.get(URL, body=failure)
    with pytest.raises(ConnectorError) as err:
        make().fetch("reviews", None)
    assert err.value.permanent is False
    assert_no_secret(err.value)


def test_a_token_endpoint_timeout_is_temporary(api: responses.RequestsMock) -> None:
    api.post(TOKEN_URL, body=requests.exceptions.ConnectTimeout())
    with pytest.raises(ConnectorError, match="timed out") as err:
        make().fetch("reviews", None)
    assert err.value.permanent is False


def test_malformed_json_is_a_connector_error(api: responses.RequestsMock) -> None:
    token_ok(api)
    api.get(URL, body='{"reviews": [', content_type="application/json")
    with pytest.raises(ConnectorError, match="not valid JSON"):
        make().fetch("reviews", None)


def test_unknown_stream() -> None:
    with pytest.raises(ConnectorError, match="no stream") as err:
        make().fetch("comments", None)
    assert err.value.permanent


# --- never replies; check_auth; configuration


def test_post_reply_refuses_without_a_request(api: responses.RequestsMock) -> None:
    event = IncomingEvent("google", "review", "r1", "text", NOW)
    connector = make()
    with pytest.raises(ConnectorError, match="policy P7") as err:
        connector.post_reply(event, "Thank you")
    assert err.value.permanent
    assert connector.find_reply(event, "Thank you") is None
    assert len(api.calls) == 0


def test_check_auth_exchanges_afresh_and_lists_one_review(api: responses.RequestsMock) -> None:
    token_ok(api)
    api.get(URL, json={"reviews": [review("r1", 1)]})
    make().check_auth()
    assert parse_qs((api.calls[1].request.url or "").split("?", 1)[1])["pageSize"] == ["1"]


def test_check_auth_spots_a_token_without_the_business_scope(api: responses.RequestsMock) -> None:
    token_ok(api, scope="openid email")
    with pytest.raises(AuthExpired, match=r"business\.manage"):
        make().check_auth()


@pytest.mark.parametrize("missing", ["google_client_id", "google_client_secret", "google_refresh_token"])
def test_missing_settings_name_the_env_variable(missing: str) -> None:
    secrets = {k: v for k, v in SECRETS.items() if k != missing}
    with pytest.raises(ConnectorError, match=missing.upper()) as err:
        GoogleReviewsConnector(AccountSpec("g", "google", {"account_id": "1", "location_id": "2"}, secrets))
    assert err.value.permanent
    assert_no_secret(err.value)


@pytest.mark.parametrize("missing", ["account_id", "location_id"])
def test_missing_options_name_the_option(missing: str) -> None:
    options = {k: v for k, v in {"account_id": "1", "location_id": "2"}.items() if k != missing}
    with pytest.raises(ConnectorError, match=missing) as err:
        GoogleReviewsConnector(AccountSpec("g", "google", options, SECRETS))
    assert err.value.permanent


def test_resource_names_numbers_and_base_url_are_accepted(api: responses.RequestsMock) -> None:
    options = {"account_id": "accounts/1001", "location_id": 2002, "base_url": "http://127.0.0.1:9/"}
    connector = GoogleReviewsConnector(AccountSpec("g", "google", options, SECRETS), clock=lambda: NOW)
    token_ok(api)
    api.get("http://127.0.0.1:9/v4/accounts/1001/locations/2002/reviews", json={})
    assert connector.fetch("reviews", None).events == ()


def test_an_id_option_with_a_path_in_it_is_refused() -> None:
    with pytest.raises(ConnectorError, match="not an id"):
        GoogleReviewsConnector(AccountSpec("g", "google", {"account_id": "1/../x", "location_id": "2"}, SECRETS))
