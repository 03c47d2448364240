"""Yelp review excerpts: the real `requests` stack against `responses`.

There are no recordings of the Yelp Places API in ../shared/api_recordings/; the payloads are invented
and follow the documented shapes (business reviews response; `{"error": {"code", "description"}}`
errors and `RateLimit-*` headers from https://docs.developer.yelp.com/docs/places-rate-limiting).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import requests
import responses

from connectors.base import AccountSpec, AuthExpired, ConnectorError, IncomingEvent, RateLimited
from connectors.yelp import API_BASE, YelpConnector, parse_yelp_review, parse_yelp_time

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)  # 05:00 in Los Angeles (PDT, UTC-7)
URL = f"{API_BASE}/v3/businesses/example-counseling-springfield/reviews"
KEY = "yelp-api-key-must-not-leak"


def pacific(hours_ago: float) -> str:
    """A `time_created` value: Pacific wall-clock time without an offset, as Yelp sends it."""
    return (NOW - timedelta(hours=hours_ago) - timedelta(hours=7)).strftime("%Y-%m-%d %H:%M:%S")


def review(review_id: str, hours_ago: float, **fields: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": review_id,
        "url": f"https://www.yelp.com/biz/example-counseling-springfield?hrid={review_id}",
        "text": f"excerpt {review_id}...",
        "rating": 5,
        "time_created": pacific(hours_ago),
        "user": {
            "id": "u-1",
            "profile_url": "https://www.yelp.com/user_details?userid=u-1",
            "image_url": None,
            "name": "Sam E.",
        },
    }
    raw.update(fields)
    return raw


def body(*reviews: dict[str, Any]) -> dict[str, Any]:
    return {"reviews": list(reviews), "total": 41, "possible_languages": ["en"]}


def make(**options: object) -> YelpConnector:
    spec = AccountSpec(
        "yelp-main", "yelp", {"business_id": "example-counseling-springfield", **options}, {"yelp_api_key": KEY}
    )
    return YelpConnector(spec, clock=lambda: NOW)


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as rsps:
        yield rsps


def yelp_error(code: str) -> dict[str, Any]:
    return {"error": {"code": code, "description": "described"}}


# --- reading


def test_first_poll_sends_the_key_as_a_header_and_keeps_the_last_seven_days(api: responses.RequestsMock) -> None:
    api.get(URL, json=body(review("y-new", 3), review("y-old", 8 * 24)))
    page = make().fetch("reviews", None)
    (event,) = page.events
    assert (event.platform, event.kind, event.external_id, event.rating) == ("yelp", "review", "y-new", 5)
    assert (event.text, event.author_handle) == ("excerpt y-new...", "Sam E.")
    assert event.url == "https://www.yelp.com/biz/example-counseling-springfield?hrid=y-new"
    assert event.created_at == NOW - timedelta(hours=3)  # Pacific wall time converted to UTC
    assert page.next_cursor == (NOW - timedelta(days=7)).isoformat()
    request = api.calls[0].request
    assert request.headers["Authorization"] == f"Bearer {KEY}"
    assert KEY not in (request.url or "")


def test_the_cursor_is_a_fixed_floor_so_late_surfacing_reviews_are_kept(api: responses.RequestsMock) -> None:
    floor = (NOW - timedelta(days=3)).isoformat()
    api.get(URL, json=body(review("y-recent", 1), review("y-surfaced-late", 40), review("y-before", 24 * 4)))
    page = make().fetch("reviews", floor)
    assert [e.external_id for e in page.events] == ["y-recent", "y-surfaced-late"]
    assert page.next_cursor == floor


def test_there_is_no_paging_one_request_per_poll(api: responses.RequestsMock) -> None:
    api.get(URL, json=body(review("a", 1), review("b", 2), review("c", 3)))
    assert len(make().fetch("reviews", None).events) == 3
    assert len(api.calls) == 1 and "?" not in (api.calls[0].request.url or "")


def test_an_empty_answer(api: responses.RequestsMock) -> None:
    api.get(URL, json={"reviews": [], "total": 0, "possible_languages": []})
    assert make().fetch("reviews", None).events == ()


def test_reviews_without_an_id_are_skipped_and_counted(
    api: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    no_id = review("x", 1)
    del no_id["id"]
    api.get(URL, json=body(no_id, review("y-ok", 2), 7))  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING):
        page = make().fetch("reviews", None)
    assert [e.external_id for e in page.events] == ["y-ok"]
    assert "skipped 2 review(s)" in caplog.text


def test_unicode_and_emoji(api: responses.RequestsMock) -> None:
    text = "Sehr einfühlsam 🙏 ... ¡gracias!"
    api.get(URL, json=body(review("y-u", 1, text=text, user={"name": "Zoë K."})))
    (event,) = make().fetch("reviews", None).events
    assert (event.text, event.author_handle) == (text, "Zoë K.")


def test_optional_fields_may_be_missing() -> None:
    event = parse_yelp_review({"id": "y-bare", "rating": 4.0}, fetched_at=NOW)
    assert event is not None
    assert (event.text, event.author_handle, event.url, event.rating, event.created_at) == ("", None, None, 4, NOW)
    assert parse_yelp_review({"id": "y-norating", "rating": None}, fetched_at=NOW).rating is None  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2030-01-15 08:00:00", datetime(2030, 1, 15, 16, 0, tzinfo=UTC)),  # PST, UTC-8
        ("2030-07-15 08:00:00", datetime(2030, 7, 15, 15, 0, tzinfo=UTC)),  # PDT, UTC-7
        ("2030-07-15T08:00:00+00:00", datetime(2030, 7, 15, 8, 0, tzinfo=UTC)),
        ("yesterday", None),
        (None, None),
    ],
)
def test_yelp_times_are_pacific(value: object, expected: datetime | None) -> None:
    assert parse_yelp_time(value) == expected


# --- errors


@pytest.mark.parametrize(
    ("code", "headers", "retry_after"),
    [
        ("TOO_MANY_REQUESTS_PER_SECOND", {}, None),
        ("TOO_MANY_REQUESTS_PER_SECOND", {"Retry-After": "2"}, 2.0),
        ("TOO_MANY_REQUESTS_PER_SECOND", {"RateLimit-ResetTime": "2030-05-02T00:00:00+00:00"}, None),
        ("ACCESS_LIMIT_REACHED", {"RateLimit-ResetTime": "2030-05-01T13:30:00+00:00"}, 5400.0),
        ("ACCESS_LIMIT_REACHED", {}, 12 * 3600.0),  # documented reset: midnight UTC
    ],
)
def test_rate_limits(
    api: responses.RequestsMock, code: str, headers: dict[str, str], retry_after: float | None
) -> None:
    api.get(URL, status=429, headers=headers, json=yelp_error(code))
    with pytest.raises(RateLimited, match=code) as err:
        make().fetch("reviews", None)
    assert err.value.retry_after == retry_after


@pytest.mark.parametrize(
    ("status", "code", "match"),
    [(401, "TOKEN_INVALID", "YELP_API_KEY"), (400, "TOKEN_MISSING", "YELP_API_KEY"), (403, "FORBIDDEN", "plan")],
)
def test_bad_keys_and_plans_are_auth_expired(api: responses.RequestsMock, status: int, code: str, match: str) -> None:
    api.get(URL, status=status, json=yelp_error(code))
    with pytest.raises(AuthExpired, match=match) as err:
        make().fetch("reviews", None)
    assert KEY not in str(err.value)


@pytest.mark.parametrize(
    ("status", "payload", "permanent", "match"),
    [
        (404, yelp_error("BUSINESS_NOT_FOUND"), True, "business_id"),
        (400, yelp_error("VALIDATION_ERROR"), True, "VALIDATION_ERROR"),
        (500, yelp_error("INTERNAL_ERROR"), False, "HTTP 500"),
        (502, None, False, "HTTP 502"),
    ],
)
def test_http_errors(api: responses.RequestsMock, status: int, payload: Any, permanent: bool, match: str) -> None:
    if payload is None:
        api.get(URL, status=status, body="<html>bad gateway</html>")
    else:
        api.get(URL, status=status, json=payload)
    with pytest.raises(ConnectorError, match=match) as err:
        make().fetch("reviews", None)
    assert err.value.permanent is permanent
    assert KEY not in str(err.value)


@pytest.mark.parametrize("failure", [requests.exceptions.ReadTimeout(), requests.exceptions.ConnectionError()])
def test_timeouts_and_connection_errors_are_temporary(api: responses.RequestsMock, failure: Exception) -> None:
    api.get(URL, body=failure)
    with pytest.raises(ConnectorError) as err:
        make().fetch("reviews", None)
    assert err.value.permanent is False


def test_malformed_json(api: responses.RequestsMock) -> None:
    api.get(URL, body="{not json", content_type="application/json")
    with pytest.raises(ConnectorError, match="not valid JSON"):
        make().fetch("reviews", None)


def test_unknown_stream() -> None:
    with pytest.raises(ConnectorError, match="no stream") as err:
        make().fetch("mentions", None)
    assert err.value.permanent


# --- never replies; check_auth; configuration


def test_post_reply_refuses_without_a_request(api: responses.RequestsMock) -> None:
    event = IncomingEvent("yelp", "review", "y1", "text", NOW)
    connector = make()
    with pytest.raises(ConnectorError, match="policy P7") as err:
        connector.post_reply(event, "Thank you")
    assert err.value.permanent and "Respond-to-Reviews" in str(err.value)
    assert connector.find_reply(event, "Thank you") is None
    assert len(api.calls) == 0


def test_check_auth_is_one_reviews_call(api: responses.RequestsMock) -> None:
    api.get(URL, json=body())
    make().check_auth()
    assert len(api.calls) == 1


def test_check_auth_reports_a_bad_key(api: responses.RequestsMock) -> None:
    api.get(URL, status=401, json=yelp_error("TOKEN_INVALID"))
    with pytest.raises(AuthExpired, match="YELP_API_KEY"):
        make().check_auth()


def test_missing_key_and_business_id_are_named() -> None:
    with pytest.raises(ConnectorError, match="YELP_API_KEY") as err:
        YelpConnector(AccountSpec("y", "yelp", {"business_id": "b"}, {}))
    assert err.value.permanent
    with pytest.raises(ConnectorError, match="business_id") as err:
        YelpConnector(AccountSpec("y", "yelp", {}, {"yelp_api_key": KEY}))
    assert err.value.permanent and KEY not in str(err.value)


def test_business_ids_are_quoted_into_the_path_and_base_url_is_honoured(api: responses.RequestsMock) -> None:
    spec = AccountSpec(
        "y", "yelp", {"business_id": "café-zoë/x", "base_url": "http://127.0.0.1:9"}, {"yelp_api_key": KEY}
    )
    api.get("http://127.0.0.1:9/v3/businesses/caf%C3%A9-zo%C3%AB%2Fx/reviews", json=body())
    assert YelpConnector(spec, clock=lambda: NOW).fetch("reviews", None).events == ()
