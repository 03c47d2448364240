"""The X connector: real tweepy over the real `requests` stack, answered by `responses`.

Recorded payloads (tweepy's own cassettes, read from ../shared/api_recordings/tweepy through
`recordings`) are used where their shape fits: the mentions timeline, followers, an empty DM-events
page, a DM sent into a conversation, a created post and `users/me`. Everything else is invented and
follows the documented v2 shapes (Tweet, DM event and User objects; RFC 7807 problem errors).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses
from recordings import load, register

from connectors.base import AccountSpec, AuthExpired, CannotVerify, ConnectorError, IncomingEvent, RateLimited
from connectors.http_common import TIMEOUT
from connectors.x import FIRST_POLL_WINDOW, KNOWN_FOLLOWERS, XConnector
from connectors.x_parse import follower_digest, parse_tweet, same_text

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
API = "https://api.twitter.com/2"
PRACTICE = "2244994945"
USER_SECRETS = {
    "x_consumer_key": "consumer-key-demo",
    "x_consumer_secret": "consumer-secret-must-not-leak",
    "x_access_token": "2244994945-access-token-demo",
    "x_access_token_secret": "access-token-secret-must-not-leak",
}
BEARER = {"x_bearer_token": "AAAA-bearer-token-must-not-leak"}
LEAKABLE = ("consumer-secret-must-not-leak", "access-token-secret-must-not-leak", "AAAA-bearer-token-must-not-leak")
MENTIONS = f"{API}/users/{PRACTICE}/mentions"
DM_EVENTS = f"{API}/dm_events"
EMPTY = {"meta": {"result_count": 0}}


def make(secrets: dict[str, str] | None = None, user_id: str = PRACTICE, **options: object) -> XConnector:
    spec = AccountSpec("x-main", "x", {"user_id": user_id, **options}, USER_SECRETS if secrets is None else secrets)
    return XConnector(spec, clock=lambda: NOW)


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as rsps:
        yield rsps


def query(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


def stamp(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).isoformat().replace("+00:00", ".000Z")


def tweet(tweet_id: str, minutes_ago: float, author: str = "901", **fields: Any) -> dict[str, Any]:
    raw = {
        "id": tweet_id,
        "text": f"@example_practice post {tweet_id}",
        "edit_history_tweet_ids": [tweet_id],
        "created_at": stamp(minutes_ago),
        "author_id": author,
        "conversation_id": tweet_id,
    }
    raw.update(fields)
    return raw


def users(*pairs: tuple[str, str]) -> dict[str, Any]:
    return {"users": [{"id": i, "name": f"Name {u}", "username": u} for i, u in pairs]}


def dm(event_id: str, minutes_ago: float, sender: str = "901", text: str | None = None) -> dict[str, Any]:
    return {
        "id": event_id,
        "event_type": "MessageCreate",
        "text": text if text is not None else f"dm {event_id}",
        "created_at": stamp(minutes_ago),
        "sender_id": sender,
        "dm_conversation_id": f"{PRACTICE}-901",
    }


def problem(title: str, kind: str, detail: str = "", **extra: Any) -> dict[str, Any]:
    return {"title": title, "type": f"https://api.twitter.com/2/problems/{kind}", "detail": detail, **extra}


def assert_no_secret(exc: BaseException, caplog: pytest.LogCaptureFixture | None = None) -> None:
    for secret in LEAKABLE:
        assert secret not in f"{exc} {exc!r}"
        assert caplog is None or secret not in caplog.text


# --- mentions


def test_first_poll_replays_the_recorded_mentions(api: responses.RequestsMock) -> None:
    recorded = load("tweepy/test_client_get_users_mentions.yaml")
    register(api, recorded, at={"/2/users/783214/mentions": f"/2/users/{PRACTICE}/mentions"})
    api.get(MENTIONS, json=EMPTY)  # the page after the recorded one
    page = make(BEARER).fetch("mentions", None)
    body = recorded[0].json()
    assert [e.external_id for e in page.events] == [t["id"] for t in body["data"]]
    assert page.next_cursor == body["meta"]["newest_id"]
    first = page.events[0]
    assert (first.platform, first.kind, first.text) == ("x", "mention", body["data"][0]["text"])
    # the recorded payload has no created_at, author_id or conversation_id: all optional
    assert (first.created_at, first.author_handle, first.thread_id) == (NOW, None, None)
    assert first.url == f"https://x.com/i/web/status/{first.external_id}"
    assert any("\U0001f928" in e.text for e in page.events)  # an emoji from the recording survives
    one, two = api.calls
    assert one.request.headers["Authorization"] == f"Bearer {BEARER['x_bearer_token']}"
    params = query(one)
    assert params["start_time"] == [(NOW - FIRST_POLL_WINDOW).strftime("%Y-%m-%dT%H:%M:%SZ")]
    assert "since_id" not in params and params["max_results"] == ["100"]
    assert params["expansions"] == ["author_id"] and params["user.fields"] == ["username"]
    assert query(two)["pagination_token"] == [body["meta"]["next_token"]]
    assert one.request.req_kwargs["timeout"] == TIMEOUT


def test_incremental_poll_sends_since_id_and_keeps_the_cursor_when_nothing_is_new(
    api: responses.RequestsMock,
) -> None:
    api.get(MENTIONS, json=EMPTY)
    page = make().fetch("mentions", "1578516295611748353")
    assert (page.events, page.next_cursor) == ((), None)
    params = query(api.calls[0])
    assert params["since_id"] == ["1578516295611748353"] and "start_time" not in params
    assert api.calls[0].request.headers["Authorization"].startswith("OAuth ")  # user context when configured


def test_replies_to_the_practice_are_comments_and_its_own_posts_are_skipped(api: responses.RequestsMock) -> None:
    reply = tweet(
        "1003",
        5,
        text="@example_practice Très bien 👍🏽 — 丁寧な対応でした",
        in_reply_to_user_id=PRACTICE,
        conversation_id="1000",
        referenced_tweets=[{"type": "replied_to", "id": "1000"}],
    )
    own = tweet("1002", 6, author=PRACTICE)
    long_post = tweet("1001", 7, author="902", text="truncated…", note_tweet={"text": "the whole long post"})
    body = {"data": [reply, own, long_post], "includes": users(("901", "zoë_demo"), ("902", "long_demo"))}
    body["meta"] = {"result_count": 3, "newest_id": "1003"}
    api.get(MENTIONS, json=body)
    page = make().fetch("mentions", "999")
    first, second = page.events
    assert (first.kind, first.text, first.author_handle) == ("comment", reply["text"], "zoë_demo")
    assert (first.parent_id, first.thread_id, first.created_at) == ("1000", "1000", NOW - timedelta(minutes=5))
    assert (second.kind, second.text, second.parent_id) == ("mention", "the whole long post", None)
    assert page.next_cursor == "1003"


def test_paging_follows_next_token_and_the_cursor_is_the_highest_id(api: responses.RequestsMock) -> None:
    api.get(MENTIONS, json={"data": [tweet("1005", 1), tweet("1004", 2)], "meta": {"next_token": "p2"}})
    api.get(MENTIONS, json={"data": [tweet("1003", 3)], "meta": {"next_token": "p3"}})
    api.get(MENTIONS, json={"data": [tweet("1002", 4)], "meta": {"result_count": 1}})
    page = make().fetch("mentions", "1001")
    assert [e.external_id for e in page.events] == ["1005", "1004", "1003", "1002"]
    assert page.next_cursor == "1005"
    assert [query(c).get("pagination_token") for c in api.calls] == [None, ["p2"], ["p3"]]
    assert all(query(c)["since_id"] == ["1001"] for c in api.calls)


def test_a_deleted_author_and_partial_errors_do_not_stop_the_page(api: responses.RequestsMock) -> None:
    gone = tweet("1010", 1, author="903", referenced_tweets=[{"type": "replied_to", "id": "77"}])
    errors = [{"resource_id": "77", "resource_type": "tweet", "title": "Not Found Error", "type": "about:blank"}]
    api.get(MENTIONS, json={"data": [gone], "includes": users(("901", "someone")), "errors": errors})
    (event,) = make().fetch("mentions", "1000").events
    assert (event.external_id, event.author_handle, event.parent_id) == ("1010", None, "77")


def test_items_without_an_id_are_skipped_and_counted(
    api: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    api.get(MENTIONS, json={"data": [{"text": "no id"}, "not-an-object", tweet("1011", 1)]})
    with caplog.at_level(logging.WARNING):
        page = make().fetch("mentions", "1000")
    assert [e.external_id for e in page.events] == ["1011"]
    assert "skipped 1 item(s)" in caplog.text
    assert "no id" not in caplog.text


def test_an_unreadable_cursor_reads_the_first_poll_window(
    api: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    api.get(MENTIONS, json=EMPTY)
    with caplog.at_level(logging.WARNING):
        make().fetch("mentions", "not-a-number")
    assert "start_time" in query(api.calls[0]) and "unreadable" in caplog.text


# --- direct messages


def test_dm_first_poll_replays_the_recorded_empty_page(api: responses.RequestsMock) -> None:
    register(api, load("tweepy/test_manage_and_lookup_direct_messages.yaml"), only=("/2/dm_events",))
    page = make().fetch("messages", None)
    assert (page.events, page.next_cursor) == ((), None)
    params = query(api.calls[0])
    assert params["event_types"] == ["MessageCreate"] and params["expansions"] == ["sender_id"]
    assert set(params["dm_event.fields"][0].split(",")) >= {"sender_id", "dm_conversation_id", "created_at"}
    assert api.calls[0].request.headers["Authorization"].startswith("OAuth ")


def test_dms_stop_at_the_cursor_and_skip_the_practice_own_messages(api: responses.RequestsMock) -> None:
    text = "Hola 👋 ¿tienen citas?"
    events = [dm("5005", 1, text=text), dm("5004", 2, sender=PRACTICE), dm("5003", 3), dm("5002", 4)]
    api.get(DM_EVENTS, json={"data": events, "includes": users(("901", "visitor_demo")), "meta": {"next_token": "x"}})
    page = make().fetch("messages", "5003")
    (event,) = page.events
    assert (event.kind, event.external_id, event.text, event.author_handle) == ("dm", "5005", text, "visitor_demo")
    assert (event.thread_id, event.url, event.created_at) == (f"{PRACTICE}-901", None, NOW - timedelta(minutes=1))
    assert page.next_cursor == "5005"
    assert len(api.calls) == 1  # the cursor was on the first page: no second request


def test_a_dm_first_poll_stops_at_the_window(api: responses.RequestsMock) -> None:
    old = dm("6001", FIRST_POLL_WINDOW.total_seconds() / 60 + 1)
    media_only = dm("6003", 1) | {"text": None}
    api.get(DM_EVENTS, json={"data": [media_only, dm("6002", 60), old], "meta": {"next_token": "more"}})
    page = make().fetch("messages", None)
    assert [(e.external_id, e.text) for e in page.events] == [("6003", ""), ("6002", "dm 6002")]
    assert page.next_cursor == "6003" and len(api.calls) == 1


def test_dms_need_user_context(api: responses.RequestsMock) -> None:
    with pytest.raises(ConnectorError, match="X_CONSUMER_KEY") as err:
        make(BEARER).fetch("messages", None)
    assert err.value.permanent and len(api.calls) == 0


# --- followers


def recorded_followers() -> dict[str, Any]:
    (followers,) = load("tweepy/test_client_get_users_followers.yaml")
    body: dict[str, Any] = followers.json()
    return body


def test_first_follower_poll_only_records_who_is_there(api: responses.RequestsMock) -> None:
    body = recorded_followers()
    api.get(f"{API}/users/{PRACTICE}/followers", json=body)
    page = make().fetch("followers", None)
    assert page.events == ()
    assert page.next_cursor is not None
    known = json.loads(page.next_cursor)["known"]
    assert known == [follower_digest(PRACTICE, u["id"]) for u in body["data"][:KNOWN_FOLLOWERS]]
    assert not any(u["id"] in page.next_cursor or u["username"] in page.next_cursor for u in body["data"])
    assert query(api.calls[0])["max_results"] == ["100"] and len(api.calls) == 1


def test_new_followers_ahead_of_the_known_ones_become_follow_events(api: responses.RequestsMock) -> None:
    body = recorded_followers()
    api.get(f"{API}/users/{PRACTICE}/followers", json=body)
    cursor = make().fetch("followers", None).next_cursor
    newcomers = [
        {"id": "7001", "name": "New One", "username": "new_one_demo"},
        {"id": "7002", "name": "N", "username": "ñew_two"},
    ]
    api.get(f"{API}/users/{PRACTICE}/followers", json=body | {"data": newcomers + body["data"]})
    page = make().fetch("followers", cursor)
    assert [(e.kind, e.text, e.author_handle, e.created_at) for e in page.events] == [
        ("follow", "", "new_one_demo", NOW),
        ("follow", "", "ñew_two", NOW),
    ]
    assert [e.external_id for e in page.events] == [
        f"follower-{follower_digest(PRACTICE, i)}" for i in ("7001", "7002")
    ]
    assert page.next_cursor is not None and "7001" not in page.next_cursor
    assert len(json.loads(page.next_cursor)["known"]) == KNOWN_FOLLOWERS


def test_when_no_known_follower_remains_every_follower_read_counts(
    api: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    api.get(f"{API}/users/{PRACTICE}/followers", json={"data": [{"id": "8001", "username": "a_demo"}]})
    cursor = json.dumps({"known": ["0" * 16]})
    with caplog.at_level(logging.WARNING):
        page = make().fetch("followers", cursor)
    assert [e.author_handle for e in page.events] == ["a_demo"]
    assert "no known follower" in caplog.text and "a_demo" not in caplog.text


def test_an_account_without_followers_then_a_first_one(api: responses.RequestsMock) -> None:
    api.get(f"{API}/users/{PRACTICE}/followers", json=EMPTY)
    api.get(f"{API}/users/{PRACTICE}/followers", json={"data": [{"id": "8101", "username": "first_demo"}]})
    connector = make()
    cursor = connector.fetch("followers", None).next_cursor
    assert cursor == json.dumps({"known": []})
    assert [e.author_handle for e in connector.fetch("followers", cursor).events] == ["first_demo"]


# --- errors


@pytest.mark.parametrize(
    ("headers", "retry_after"), [({"x-rate-limit-reset": str(int(NOW.timestamp()) + 420)}, 420.0), ({}, None)]
)
def test_rate_limits(
    api: responses.RequestsMock, monkeypatch: pytest.MonkeyPatch, headers: dict[str, str], retry_after: float | None
) -> None:
    slept: list[float] = []
    monkeypatch.setattr("time.sleep", slept.append)
    api.get(MENTIONS, status=429, headers=headers, json={"title": "Too Many Requests", "detail": "Too Many Requests"})
    with pytest.raises(RateLimited) as err:
        make().fetch("mentions", "1")
    assert err.value.retry_after == retry_after and not err.value.permanent
    assert slept == [] and len(api.calls) == 1  # tweepy neither sleeps nor retries


@pytest.mark.parametrize(("secrets", "env"), [(USER_SECRETS, "X_ACCESS_TOKEN_SECRET"), (BEARER, "X_BEARER_TOKEN")])
def test_an_expired_token_is_auth_expired_naming_the_variable(
    api: responses.RequestsMock, caplog: pytest.LogCaptureFixture, secrets: dict[str, str], env: str
) -> None:
    api.get(
        MENTIONS,
        status=401,
        json={"title": "Unauthorized", "type": "about:blank", "status": 401, "detail": "Unauthorized"},
    )
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthExpired, match=env) as err:
        make(secrets).fetch("mentions", "1")
    assert_no_secret(err.value, caplog)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (
            problem("Client Forbidden", "client-forbidden", "attach to a Project", reason="client-not-enrolled"),
            "access level",
        ),
        (
            problem("Unsupported Authentication", "unsupported-authentication", "Application-Only is forbidden"),
            "X_CONSUMER_KEY",
        ),
        (
            problem("Forbidden", "oauth1-permissions", "not configured with the appropriate oauth1 app permissions"),
            "Read and write",
        ),
    ],
)
def test_forbidden_explains_the_access_tier_or_permission(
    api: responses.RequestsMock, body: dict[str, Any], expected: str
) -> None:
    api.get(MENTIONS, status=403, json=body)
    with pytest.raises(AuthExpired) as err:
        make().fetch("mentions", "1")
    assert expected in str(err.value)
    assert_no_secret(err.value)


def test_an_unreadable_reset_header_is_a_temporary_error(api: responses.RequestsMock) -> None:
    api.get(MENTIONS, status=429, headers={"x-rate-limit-reset": "soon"}, json={})
    with pytest.raises(ConnectorError, match="could not be read") as err:
        make().fetch("mentions", "1")
    assert err.value.permanent is False


def test_payment_required_is_for_staff(api: responses.RequestsMock) -> None:
    api.get(MENTIONS, status=402, json={"title": "Payment Required", "type": "about:blank"})
    with pytest.raises(AuthExpired, match="credits"):
        make().fetch("mentions", "1")


@pytest.mark.parametrize(
    ("status", "body", "permanent", "match"),
    [
        (500, {"title": "Internal Server Error"}, False, "HTTP 500"),
        (503, "<html>over capacity</html>", False, "HTTP 503"),
        (404, problem("Not Found Error", "resource-not-found"), True, "user_id"),
        (
            400,
            problem("Invalid Request", "invalid-request", "The `since_id` query parameter value is invalid"),
            True,
            "invalid-request",
        ),
    ],
)
def test_http_errors(api: responses.RequestsMock, status: int, body: Any, permanent: bool, match: str) -> None:
    if isinstance(body, dict):
        api.get(MENTIONS, status=status, json=body)
    else:
        api.get(MENTIONS, status=status, body=body)
    with pytest.raises(ConnectorError, match=match) as err:
        make().fetch("mentions", "1")
    assert err.value.permanent is permanent
    assert not isinstance(err.value, AuthExpired)
    assert_no_secret(err.value)


@pytest.mark.parametrize(
    ("failure", "match"),
    [(requests.exceptions.ReadTimeout(), "timed out"), (requests.exceptions.ConnectionError(), "could not connect")],
)
def test_timeouts_and_connection_errors_are_temporary(
    api: responses.RequestsMock, failure: Exception, match: str
) -> None:
    api.get(MENTIONS, body=failure)
    with pytest.raises(ConnectorError, match=match) as err:
        make().fetch("mentions", "1")
    assert err.value.permanent is False


@pytest.mark.parametrize(("body", "match"), [('{"data": [', "not valid JSON"), ("[1, 2]", "not an object")])
def test_malformed_json_is_a_temporary_error(api: responses.RequestsMock, body: str, match: str) -> None:
    api.get(MENTIONS, body=body, content_type="application/json")
    with pytest.raises(ConnectorError, match=match) as err:
        make().fetch("mentions", "1")
    assert err.value.permanent is False


def test_unknown_stream() -> None:
    with pytest.raises(ConnectorError, match="no stream") as err:
        make().fetch("dms", None)
    assert err.value.permanent


# --- posting


def mention(tweet_id: str = "1578516295611748353", kind: str = "mention") -> IncomingEvent:
    return IncomingEvent("x", kind, tweet_id, "@example_practice hello", NOW - timedelta(hours=1))


def conversation_dm(event_id: str = "1585800613253812228") -> IncomingEvent:
    thread = "750362064426721281-1072250532645998596"
    return IncomingEvent("x", "dm", event_id, "hello", NOW - timedelta(hours=1), thread_id=thread)


def test_a_reply_post_sends_exactly_the_reply_json(
    api: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    created = load("tweepy/test_client_create_and_delete_tweet.yaml")[0]  # the recorded 201 answer
    api.post(f"{API}/tweets", body=created.body, status=201, content_type=created.content_type)
    text = "Thank you for reaching out. Please call our office at (555) 010-0199."
    with caplog.at_level(logging.DEBUG):
        assert make().post_reply(mention(), text) == created.json()["data"]["id"]
    assert "Thank you for reaching out" not in caplog.text  # tweepy and requests-oauthlib log bodies at DEBUG
    (call,) = api.calls
    assert (call.request.method, call.request.url) == ("POST", f"{API}/tweets")
    assert json.loads(call.request.body) == {"text": text, "reply": {"in_reply_to_tweet_id": "1578516295611748353"}}
    auth = call.request.headers["Authorization"]
    assert auth.startswith("OAuth ") and 'oauth_consumer_key="consumer-key-demo"' in auth
    assert 'oauth_token="2244994945-access-token-demo"' in auth
    assert_no_secret(Exception(auth))  # the secrets only sign; they are never sent


def test_a_dm_reply_replays_the_recorded_conversation_message(api: responses.RequestsMock) -> None:
    recorded = load("tweepy/test_manage_and_lookup_direct_messages.yaml")[1]
    register(api, [recorded])
    assert make().post_reply(conversation_dm(), "Testing 2") == recorded.json()["data"]["dm_event_id"]
    (call,) = api.calls
    assert call.request.url == recorded.url
    assert json.loads(call.request.body) == json.loads(recorded.request_body or "")


def test_comments_are_answered_with_a_reply_post(api: responses.RequestsMock) -> None:
    api.post(f"{API}/tweets", status=201, json={"data": {"id": "42", "text": "ok"}})
    assert make().post_reply(mention("1003", kind="comment"), "ok") == "42"


@pytest.mark.parametrize(
    ("event", "match"),
    [
        (IncomingEvent("x", "follow", "follower-abc", "", NOW), "'follow'"),
        (IncomingEvent("x", "dm", "5", "hi", NOW), "conversation id"),
        (IncomingEvent("x", "mention", "not-numeric", "hi", NOW), "numeric id"),
        (IncomingEvent("reddit", "mention", "1", "hi", NOW), "cannot reply"),
    ],
)
def test_events_that_cannot_be_answered_are_refused_without_a_request(
    api: responses.RequestsMock, event: IncomingEvent, match: str
) -> None:
    with pytest.raises(ConnectorError, match=match) as err:
        make().post_reply(event, "hello")
    assert err.value.permanent and len(api.calls) == 0


def test_posting_needs_user_context(api: responses.RequestsMock) -> None:
    with pytest.raises(ConnectorError, match="X_ACCESS_TOKEN") as err:
        make(BEARER).post_reply(mention(), "hello")
    assert err.value.permanent and len(api.calls) == 0


@pytest.mark.parametrize(
    ("detail", "match"),
    [
        ("You are not allowed to create a Tweet with duplicate content.", "identical"),
        ("You attempted to reply to a Tweet that is deleted or not visible to you.", "deleted"),
        ("Something else entirely.", "refused"),
    ],
)
def test_refused_posts_are_permanent(api: responses.RequestsMock, detail: str, match: str) -> None:
    api.post(
        f"{API}/tweets", status=403, json={"detail": detail, "type": "about:blank", "title": "Forbidden", "status": 403}
    )
    with pytest.raises(ConnectorError, match=match) as err:
        make().post_reply(mention(), "hello")
    assert err.value.permanent and not isinstance(err.value, AuthExpired)
    assert detail not in str(err.value)


def test_an_answer_without_an_id_is_permanent(api: responses.RequestsMock) -> None:
    api.post(f"{API}/tweets", status=201, json={"data": {}})
    with pytest.raises(ConnectorError, match="no id") as err:
        make().post_reply(mention(), "hello")
    assert err.value.permanent


def test_a_rate_limited_post(api: responses.RequestsMock) -> None:
    api.post(f"{API}/tweets", status=429, headers={"x-rate-limit-reset": str(int(NOW.timestamp()) + 60)}, json={})
    with pytest.raises(RateLimited) as err:
        make().post_reply(mention(), "hello")
    assert err.value.retry_after == 60.0


# --- recovery (find_reply)


def test_find_reply_spots_our_reply_despite_handles_entities_and_links(api: responses.RequestsMock) -> None:
    sent = "Thanks & welcome! Details: https://example-counseling.example/contact"
    ours = {
        "id": "1600",
        "text": "@someone Thanks &amp; welcome! Details: https://t.co/AbCdEf",
        "referenced_tweets": [{"type": "replied_to", "id": "1500"}],
    }
    other = {"id": "1601", "text": "Thanks & welcome!", "referenced_tweets": [{"type": "replied_to", "id": "1499"}]}
    api.get(f"{API}/users/{PRACTICE}/tweets", json={"data": [other, ours], "meta": {"result_count": 2}})
    assert make().find_reply(mention("1500"), sent) == "1600"
    params = query(api.calls[0])
    assert params["since_id"] == ["1500"] and params["exclude"] == ["retweets"]


def test_find_reply_is_none_when_the_account_never_answered(api: responses.RequestsMock) -> None:
    api.get(
        f"{API}/users/{PRACTICE}/tweets", json={"data": [{"id": "1700", "text": "hello"}], "meta": {"next_token": "n"}}
    )
    api.get(f"{API}/users/{PRACTICE}/tweets", json=EMPTY)
    assert make().find_reply(mention("1500"), "hello") is None
    assert query(api.calls[1])["pagination_token"] == ["n"]


def test_find_reply_in_a_dm_conversation(api: responses.RequestsMock) -> None:
    url = f"{API}/dm_conversations/750362064426721281-1072250532645998596/dm_events"
    theirs = dm("1585800613900000000", 1, text="Testing 2")
    ours = dm("1585800613800000000", 2, sender=PRACTICE, text="Testing 2")
    api.get(url, json={"data": [theirs, ours]})
    assert make().find_reply(conversation_dm(), "Testing 2") == "1585800613800000000"
    assert query(api.calls[0])["event_types"] == ["MessageCreate"]


def test_find_reply_in_a_dm_conversation_stops_at_the_original(api: responses.RequestsMock) -> None:
    (recorded,) = [
        i
        for i in load("tweepy/test_manage_and_lookup_direct_messages.yaml")
        if i.method == "GET" and "/dm_conversations/7" in i.url
    ]
    register(api, [recorded])
    # the recorded conversation: "Testing 2" is newer than "Testing 1"; nothing of ours after "Testing 2"
    assert make().find_reply(conversation_dm("1585800613752881156"), "Testing 2") is None


def test_find_reply_cannot_verify_when_the_plan_cannot_read(api: responses.RequestsMock) -> None:
    body = problem("Client Forbidden", "client-forbidden", reason="client-not-enrolled")
    api.get(f"{API}/users/{PRACTICE}/tweets", status=403, json=body)
    with pytest.raises(CannotVerify, match="access level"):
        make().find_reply(mention(), "hello")


def test_find_reply_cannot_verify_after_too_many_pages(api: responses.RequestsMock) -> None:
    api.get(f"{API}/users/{PRACTICE}/tweets", json={"data": [{"id": "1800", "text": "x"}], "meta": {"next_token": "n"}})
    with pytest.raises(CannotVerify, match="too many"):
        make().find_reply(mention("1500"), "hello")


def test_find_reply_for_a_dm_without_user_context_cannot_verify(api: responses.RequestsMock) -> None:
    with pytest.raises(CannotVerify):
        make(BEARER).find_reply(conversation_dm(), "hello")
    assert len(api.calls) == 0


# --- check_auth


def test_check_auth_replays_the_recorded_users_me(api: responses.RequestsMock) -> None:
    register(api, load("tweepy/test_client_get_me.yaml"))
    make(user_id="1072250532645998596", username="@TweepyDev").check_auth()
    assert api.calls[0].request.headers["Authorization"].startswith("OAuth ")


def test_check_auth_spots_a_token_of_another_account(api: responses.RequestsMock) -> None:
    register(api, load("tweepy/test_client_get_me.yaml"))
    with pytest.raises(AuthExpired, match="another X account"):
        make().check_auth()


def test_check_auth_spots_a_read_only_app(api: responses.RequestsMock) -> None:
    me = {"data": {"id": PRACTICE, "name": "Example", "username": "example_practice"}}
    api.get(f"{API}/users/me", json=me, headers={"x-access-level": "read"})
    with pytest.raises(AuthExpired, match="Read and write and Direct message"):
        make().check_auth()


def test_check_auth_warns_when_dms_are_not_permitted(
    api: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    me = {"data": {"id": PRACTICE, "name": "Example", "username": "example_practice"}}
    api.get(f"{API}/users/me", json=me, headers={"x-access-level": "read-write"})
    with caplog.at_level(logging.WARNING):
        make().check_auth()
    assert "DMs" in caplog.text


@pytest.mark.parametrize(
    ("status", "body", "match"),
    [
        (401, {"title": "Unauthorized", "detail": "Unauthorized"}, "X_ACCESS_TOKEN"),
        (403, problem("Client Forbidden", "client-forbidden", reason="client-not-enrolled"), "Project"),
    ],
)
def test_check_auth_verdicts(api: responses.RequestsMock, status: int, body: dict[str, Any], match: str) -> None:
    api.get(f"{API}/users/me", status=status, json=body)
    with pytest.raises(AuthExpired, match=match) as err:
        make().check_auth()
    assert_no_secret(err.value)


def test_check_auth_with_a_bearer_token_reads_the_account(api: responses.RequestsMock) -> None:
    api.get(f"{API}/users/{PRACTICE}", json={"data": {"id": PRACTICE, "name": "Example", "username": "example"}})
    make(BEARER).check_auth()
    assert api.calls[0].request.headers["Authorization"].startswith("Bearer ")


# --- configuration


def test_no_credentials_name_both_ways_to_authenticate() -> None:
    with pytest.raises(ConnectorError) as err:
        XConnector(AccountSpec("x", "x", {"user_id": PRACTICE}, {}))
    assert err.value.permanent
    assert "X_CONSUMER_KEY" in str(err.value) and "X_BEARER_TOKEN" in str(err.value)


@pytest.mark.parametrize("missing", list(USER_SECRETS))
def test_partial_oauth1_credentials_name_the_missing_variable(missing: str) -> None:
    secrets = {k: v for k, v in USER_SECRETS.items() if k != missing} | BEARER
    with pytest.raises(ConnectorError, match=missing.upper()) as err:
        XConnector(AccountSpec("x", "x", {"user_id": PRACTICE}, secrets))
    assert err.value.permanent
    assert_no_secret(err.value)


@pytest.mark.parametrize(
    ("options", "match"),
    [
        ({}, "'user_id' option"),
        ({"user_id": "@example"}, "numeric"),
        ({"user_id": PRACTICE, "username": "a/b"}, "handle"),
    ],
)
def test_bad_options_name_the_option(options: dict[str, object], match: str) -> None:
    with pytest.raises(ConnectorError, match=match) as err:
        XConnector(AccountSpec("x", "x", options, USER_SECRETS))
    assert err.value.permanent


def test_an_injected_client_is_made_safe() -> None:
    import tweepy  # type: ignore[import-untyped]

    client = tweepy.Client(bearer_token="t", wait_on_rate_limit=True)
    XConnector(AccountSpec("x", "x", {"user_id": PRACTICE}, BEARER), client=client)
    assert client.wait_on_rate_limit is False and client.return_type is dict


# --- pure parsing


def test_parse_tweet_without_an_id_is_none() -> None:
    assert parse_tweet({"text": "x"}, {}, PRACTICE, fetched_at=NOW) is None


@pytest.mark.parametrize(
    ("posted", "sent", "same"),
    [
        ("@a @b hello  there", "hello there", True),
        ("Tom &amp; Jerry", "Tom & Jerry", True),
        ("see https://t.co/xyz", "see https://example.invalid/page", True),
        ("hello", "hello!", False),
        (None, "hello", False),
    ],
)
def test_same_text(posted: object, sent: str, same: bool) -> None:
    assert same_text(posted, sent) is same
