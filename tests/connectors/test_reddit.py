"""The Reddit connector: real praw/prawcore over the real `requests` stack, answered by `responses`.

Recorded listings and answers (praw's own cassettes, read from ../shared/api_recordings/praw through
`recordings`) are used where their shape fits: the unread listing (the same Listing of the same items
as the inbox, so it is served at /message/inbox/), username mentions, a search, a comment reply and a
message reply. Everything else is invented and follows the same shapes. prawcore's retry back-off is
the only sleeping involved, and `time.sleep` is replaced for every test here.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import praw
import pytest
import requests
import responses
from recordings import load, register

from connectors.base import AccountSpec, AuthExpired, CannotVerify, ConnectorError, IncomingEvent, RateLimited
from connectors.reddit import FIRST_POLL_WINDOW, RedditConnector
from connectors.reddit_parse import ListingCursor, parse_inbox_item, ratelimit_seconds, read_cursor

NOW = datetime(2025, 6, 19, 17, 0, tzinfo=UTC)
TOKEN_URL = "https://www.reddit.com/api/v1/access_token"
OAUTH = "https://oauth.reddit.com"
INBOX = f"{OAUTH}/message/inbox/"
ME = "example_practice"
SECRETS = {
    "reddit_client_id": "client-id-demo",
    "reddit_client_secret": "client-secret-must-not-leak",
    "reddit_username": ME,
    "reddit_password": "password-must-not-leak",
}
ACCESS = "access-token-must-not-leak"
LEAKABLE = (SECRETS["reddit_client_secret"], SECRETS["reddit_password"], ACCESS)
OPTIONS = {"query": '"Example Counseling"', "subreddits": "example"}
EARLY = ListingCursor(1_000_000_000.0).dump()  # a cursor from before any recording


def make(**options: object) -> RedditConnector:
    spec = AccountSpec("reddit-main", "reddit", {**OPTIONS, **options}, SECRETS)
    return RedditConnector(spec, clock=lambda: NOW)


@pytest.fixture(autouse=True)
def slept(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """prawcore backs off with time.sleep before a retry: record instead of waiting."""
    calls: list[float] = []
    monkeypatch.setattr("time.sleep", calls.append)
    return calls


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as rsps:
        yield rsps


def token(api: responses.RequestsMock) -> None:
    api.post(TOKEN_URL, json={"access_token": ACCESS, "token_type": "bearer", "expires_in": 3600, "scope": "*"})


def things(*children: tuple[str, dict[str, Any]], after: str | None = None) -> dict[str, Any]:
    data = {"after": after, "dist": len(children), "children": [{"kind": k, "data": d} for k, d in children]}
    return {"kind": "Listing", "data": data}


def ago(minutes: float) -> float:
    return (NOW - timedelta(minutes=minutes)).timestamp()


def comment(thing_id: str, minutes_ago: float, **fields: Any) -> tuple[str, dict[str, Any]]:
    data = {
        "id": thing_id,
        "name": f"t1_{thing_id}",
        "author": "visitor_demo",
        "body": f"comment {thing_id}",
        "created_utc": ago(minutes_ago),
        "type": "comment_reply",
        "subject": "comment reply",
        "parent_id": "t1_parent",
        "context": f"/r/example/comments/abc/post/{thing_id}/?context=3",
        "was_comment": True,
    }
    data.update(fields)
    return "t1", data


def message(thing_id: str, minutes_ago: float, **fields: Any) -> tuple[str, dict[str, Any]]:
    data = {
        "id": thing_id,
        "name": f"t4_{thing_id}",
        "author": "visitor_demo",
        "dest": ME,
        "subject": "Question",
        "body": f"message {thing_id}",
        "created_utc": ago(minutes_ago),
        "parent_id": None,
        "first_message_name": None,
        "subreddit": None,
        "replies": "",
        "was_comment": False,
    }
    data.update(fields)
    return "t4", data


def query(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


def form(call: Any) -> dict[str, list[str]]:
    body = call.request.body
    return parse_qs(body.decode() if isinstance(body, bytes) else body)


def assert_no_secret(exc: BaseException, caplog: pytest.LogCaptureFixture | None = None) -> None:
    for secret in LEAKABLE:
        assert secret not in f"{exc} {exc!r}"
        assert caplog is None or secret not in caplog.text


# --- inbox


def test_first_poll_signs_in_as_a_script_app_and_reads_the_recorded_inbox(api: responses.RequestsMock) -> None:
    register(api, load("praw/TestInbox.test_unread.json"), at={"/message/unread/": "/message/inbox/"})
    page = make().fetch("inbox", None)
    # only the newest recorded item falls in the 7-day window before NOW; reading stopped there
    (event,) = page.events
    assert (event.platform, event.kind, event.external_id, event.text) == ("reddit", "comment", "t1_myngt77", "Reply")
    assert (event.author_handle, event.parent_id) == ("Lil_SpazTest", "t1_mynfuan")
    assert event.url is not None and event.url.startswith("https://www.reddit.com/r/") and "context=3" in event.url
    assert event.created_at == datetime.fromtimestamp(1750348671, UTC)
    assert page.next_cursor == ListingCursor(1750348671.0, frozenset({"t1_myngt77"})).dump()
    sign_in, inbox = api.calls
    assert form(sign_in) == {"grant_type": ["password"], "username": [ME], "password": [SECRETS["reddit_password"]]}
    assert sign_in.request.headers["Authorization"].startswith("Basic ")  # client id and secret, never in the URL
    assert inbox.request.headers["Authorization"] == "bearer <ACCESS_TOKEN>"  # the recorded token, as a header
    assert inbox.request.headers["User-Agent"].startswith(f"practice-monitor/1.0 by u/{ME} PRAW/")
    assert query(inbox) == {"mark": ["false"], "limit": ["100"], "raw_json": ["1"]}  # never marks anything read


def test_incremental_poll_reads_every_kind_from_the_recorded_inbox(api: responses.RequestsMock) -> None:
    recorded = load("praw/TestInbox.test_unread.json")
    register(api, recorded, at={"/message/unread/": "/message/inbox/"})
    api.get(INBOX, json=things())  # the page after the recorded one
    page = make().fetch("inbox", EARLY)
    children = recorded[1].json()["data"]["children"]
    assert [e.external_id for e in page.events] == [c["data"]["name"] for c in children]
    kinds = {e.external_id: e.kind for e in page.events}
    assert kinds["t1_myngt77"] == "comment" and kinds["t1_m30xcs6"] == "comment" and kinds["t4_2r17c8r"] == "dm"
    by_id = {e.external_id: e for e in page.events}
    first_message, reply = by_id["t4_22ydk2c"], by_id["t4_22ydkme"]
    assert first_message.text.startswith("Regarding your recent sub") and "\n\n" in first_message.text
    assert not reply.text.lower().startswith("re:")  # a reply's "re: ..." subject is not repeated
    assert (reply.parent_id, reply.thread_id) == ("t4_22ydkji", "t4_22ydk2c")
    assert by_id["t4_22y94yp"].author_handle is None  # a deleted sender
    assert query(api.calls[2])["after"] == [recorded[1].json()["data"]["after"]]
    assert page.next_cursor == ListingCursor(1750348671.0, frozenset({"t1_myngt77"})).dump()


def test_username_mentions_are_mentions(api: responses.RequestsMock) -> None:
    register(api, load("praw/TestInbox.test_mentions.json"), at={"/message/mentions": "/message/inbox/"})
    api.get(INBOX, json=things())
    page = make().fetch("inbox", EARLY)
    assert len(page.events) == 16 and {e.kind for e in page.events} == {"mention"}


def test_the_cursor_second_is_read_again_without_repeating_what_was_seen(api: responses.RequestsMock) -> None:
    token(api)
    at = ago(30)
    api.get(
        INBOX,
        json=things(
            comment("new", 10),
            comment("same2", 30, created_utc=at),
            comment("same1", 30, created_utc=at),
            comment("old", 31),
        ),
    )
    page = make().fetch("inbox", ListingCursor(at, frozenset({"t1_same1"})).dump())
    assert [e.external_id for e in page.events] == ["t1_new", "t1_same2"]
    assert read_cursor(page.next_cursor or "") == ListingCursor(ago(10), frozenset({"t1_new"}))


def test_paging_stops_at_the_first_item_older_than_the_cursor(api: responses.RequestsMock) -> None:
    token(api)
    api.get(INBOX, json=things(comment("a", 1), message("b", 2), after="t4_b"))
    api.get(INBOX, json=things(comment("c", 3), comment("d", 60), after="t1_d"))
    page = make().fetch("inbox", ListingCursor(ago(30)).dump())
    assert [e.external_id for e in page.events] == ["t1_a", "t4_b", "t1_c"]
    assert [query(c).get("after") for c in api.calls[1:]] == [None, ["t4_b"]]  # no third page


def test_an_empty_inbox_keeps_the_first_poll_window(api: responses.RequestsMock) -> None:
    token(api)
    api.get(INBOX, json=things())
    page = make().fetch("inbox", None)
    assert page.events == ()
    assert read_cursor(page.next_cursor or "") == ListingCursor((NOW - FIRST_POLL_WINDOW).timestamp())


def test_deleted_and_own_items_are_skipped_and_only_counted(
    api: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    token(api)
    deleted = comment("gone", 1, author="[deleted]", body="[deleted]")
    removed = comment("rm", 2, body="[removed]")
    own = comment("mine", 3, author=ME.upper(), body="our own words")
    api.get(INBOX, json=things(deleted, removed, own, comment("kept", 4), ("t9", {"x": 1})))
    with caplog.at_level(logging.INFO):
        page = make().fetch("inbox", ListingCursor(ago(30)).dump())
    assert [e.external_id for e in page.events] == ["t1_kept"]
    assert "2 deleted and 1 unreadable" in caplog.text
    assert "our own words" not in caplog.text and "visitor_demo" not in caplog.text


def test_unicode_and_emoji_survive(api: responses.RequestsMock) -> None:
    token(api)
    text = "Gracias 🙏🏽 — ¿atienden en español? 丁寧"
    api.get(INBOX, json=things(message("u1", 1, body=text, subject="re: Hola", author="zoë_ñandú")))
    (event,) = make().fetch("inbox", None).events
    assert (event.text, event.author_handle) == (text, "zoë_ñandú")


def test_optional_fields_may_be_missing(api: responses.RequestsMock) -> None:
    token(api)
    bare = ("t1", {"name": "t1_bare", "body": "hello", "created_utc": ago(1)})
    undated = ("t4", {"id": "undated", "body": "no time"})
    api.get(INBOX, json=things(bare, undated, ("t1", {"body": "no name"})))
    page = make().fetch("inbox", None)
    first, second = page.events
    assert (first.kind, first.author_handle, first.url, first.parent_id) == ("comment", None, None, None)
    assert (second.external_id, second.created_at, second.thread_id) == ("t4_undated", NOW, "t4_undated")
    assert read_cursor(page.next_cursor or "") == ListingCursor(ago(1), frozenset({"t1_bare"}))  # undated: no move


def test_an_unreadable_cursor_reads_the_first_poll_window(
    api: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    token(api)
    api.get(INBOX, json=things(comment("recent", 60), comment("old", 8 * 24 * 60)))
    with caplog.at_level(logging.WARNING):
        page = make().fetch("inbox", "t1_abc")
    assert [e.external_id for e in page.events] == ["t1_recent"] and "unreadable" in caplog.text


# --- search


def test_search_replays_the_recorded_results_in_the_chosen_subreddits(api: responses.RequestsMock) -> None:
    recorded = load("praw/TestSubreddit.test_search.json")
    register(api, recorded, at={"/r/all/search/": "/r/example/search/"})
    page = make().fetch("search", EARLY)
    children = recorded[1].json()["data"]["children"]
    assert [e.external_id for e in page.events] == [c["data"]["name"] for c in children]
    first = page.events[0]
    data = children[0]["data"]
    assert (first.kind, first.thread_id, first.author_handle) == ("mention", data["name"], data["author"])
    assert first.text == f"{data['title']}\n\n{data['selftext']}"
    assert first.url == f"https://www.reddit.com{data['permalink']}"
    assert any("話題" in e.text for e in page.events)
    params = query(api.calls[1])
    assert urlsplit(api.calls[1].request.url).path == "/r/example/search/"
    assert params["q"] == ['"Example Counseling"'] and params["restrict_sr"] == ["on"]
    assert params["sort"] == ["new"] and params["limit"] == ["100"]


def test_search_covers_several_subreddits_and_skips_removed_posts(api: responses.RequestsMock) -> None:
    token(api)
    post = (
        "t3",
        {
            "name": "t3_p1",
            "title": "Example Counseling?",
            "selftext": "",
            "author": "a_demo",
            "created_utc": ago(5),
            "permalink": "/r/Austin/comments/p1/x/",
        },
    )
    removed = (
        "t3",
        {"name": "t3_p2", "title": "x", "selftext": "[removed]", "author": "[deleted]", "created_utc": ago(6)},
    )
    api.get(f"{OAUTH}/r/Austin+AskAustin+houston/search/", json=things(post, removed))
    page = make(subreddits="r/Austin, AskAustin+houston").fetch("search", None)
    assert [(e.external_id, e.text) for e in page.events] == [("t3_p1", "Example Counseling?")]


@pytest.mark.parametrize("options", [{"query": ""}, {"subreddits": ""}])
def test_search_needs_query_and_subreddits(api: responses.RequestsMock, options: dict[str, str]) -> None:
    with pytest.raises(ConnectorError, match=r"'query' option.*'subreddits' option") as err:
        make(**options).fetch("search", None)
    assert err.value.permanent and len(api.calls) == 0


@pytest.mark.parametrize("value", ["all", "example, popular", "r/../etc", "a"])
def test_site_wide_feeds_and_odd_names_are_refused(value: str) -> None:
    with pytest.raises(ConnectorError, match="subreddits") as err:
        make(subreddits=value)
    assert err.value.permanent


# --- errors


@pytest.mark.parametrize(
    ("headers", "retry_after"),
    [({"Retry-After": "42"}, 42.0), ({"x-ratelimit-reset": "75"}, 75.0), ({}, None)],
)
def test_http_429(api: responses.RequestsMock, headers: dict[str, str], retry_after: float | None) -> None:
    token(api)
    api.get(INBOX, status=429, headers=headers, body="Too Many Requests")
    with pytest.raises(RateLimited) as err:
        make().fetch("inbox", None)
    assert err.value.retry_after == retry_after


@pytest.mark.parametrize(
    ("status", "headers"),
    [(429, {"Retry-After": "soon"}), (401, {})],  # prawcore raises ValueError / KeyError here
)
def test_answers_prawcore_cannot_read_are_temporary(
    api: responses.RequestsMock, status: int, headers: dict[str, str]
) -> None:
    token(api)
    api.get(INBOX, status=status, headers=headers, body="{}")
    with pytest.raises(ConnectorError, match="could not be read") as err:
        make().fetch("inbox", None)
    assert err.value.permanent is False


def test_a_spent_request_budget_stops_before_the_next_request(api: responses.RequestsMock, slept: list[float]) -> None:
    token(api)
    budget = {"x-ratelimit-remaining": "0", "x-ratelimit-used": "100", "x-ratelimit-reset": "120"}
    api.get(INBOX, json=things(comment("a", 1), after="t1_a"), headers=budget)
    with pytest.raises(RateLimited) as err:
        make().fetch("inbox", ListingCursor(ago(30)).dump())
    assert err.value.retry_after == 120.0
    assert len(api.calls) == 2 and slept == []  # no second page, and prawcore never slept


def test_a_wrong_password_names_the_variables_and_2fa(
    api: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    api.post(TOKEN_URL, json={"error": "invalid_grant"})
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthExpired, match="REDDIT_PASSWORD") as err:
        make().fetch("inbox", None)
    assert "two-factor" in str(err.value)
    assert_no_secret(err.value, caplog)


def test_a_wrong_client_secret_names_the_variables(api: responses.RequestsMock) -> None:
    api.post(TOKEN_URL, status=401, json={"message": "Unauthorized", "error": 401})
    with pytest.raises(AuthExpired, match="REDDIT_CLIENT_SECRET") as err:
        make().fetch("inbox", None)
    assert "Responsible Builder Policy" in str(err.value)
    assert_no_secret(err.value)


def test_an_expired_access_token_is_renewed_then_auth_expired(api: responses.RequestsMock) -> None:
    token(api)
    invalid = {"www-authenticate": 'Bearer realm="reddit", error="invalid_token"'}
    api.get(INBOX, status=401, headers=invalid, json={"message": "Unauthorized", "error": 401})
    with pytest.raises(AuthExpired, match="access token") as err:
        make().fetch("inbox", None)
    assert [c.request.url for c in api.calls].count(TOKEN_URL) == 3  # prawcore signs in again before each retry
    assert_no_secret(err.value)


def test_forbidden_reading_is_for_staff(api: responses.RequestsMock) -> None:
    token(api)
    api.get(INBOX, status=403, json={"message": "Forbidden", "error": 403})
    with pytest.raises(AuthExpired, match="suspended"):
        make().fetch("inbox", None)


@pytest.mark.parametrize("status", [500, 502, 503])
def test_server_errors_are_retried_by_prawcore_then_temporary(
    api: responses.RequestsMock, slept: list[float], status: int
) -> None:
    token(api)
    api.get(INBOX, status=status, body="<html>busy</html>")
    with pytest.raises(ConnectorError, match=f"HTTP {status}") as err:
        make().fetch("inbox", None)
    assert err.value.permanent is False
    assert sum(1 for c in api.calls if c.request.url.startswith(INBOX)) == 3 and len(slept) == 2


@pytest.mark.parametrize(
    ("failure", "match"),
    [(requests.exceptions.ReadTimeout(), "timed out"), (requests.exceptions.ConnectionError(), "could not connect")],
)
def test_timeouts_and_connection_errors_are_temporary(
    api: responses.RequestsMock, failure: Exception, match: str
) -> None:
    token(api)
    api.get(INBOX, body=failure)
    with pytest.raises(ConnectorError, match=match) as err:
        make().fetch("inbox", None)
    assert err.value.permanent is False
    assert api.calls[1].request.req_kwargs["timeout"] == 16.0


@pytest.mark.parametrize(
    ("body", "match"), [('{"kind": "Listing", "data": {', "not valid JSON"), ('{"json": {}}', "not a listing")]
)
def test_malformed_answers_are_temporary(api: responses.RequestsMock, body: str, match: str) -> None:
    token(api)
    api.get(INBOX, body=body, content_type="application/json")
    with pytest.raises(ConnectorError, match=match) as err:
        make().fetch("inbox", None)
    assert err.value.permanent is False


@pytest.mark.parametrize(
    ("status", "headers"), [(404, {}), (302, {"location": "https://www.reddit.com/subreddits/search.json?q=nope"})]
)
def test_an_unknown_subreddit_is_permanent(api: responses.RequestsMock, status: int, headers: dict[str, str]) -> None:
    token(api)
    api.get(f"{OAUTH}/r/example/search/", status=status, headers=headers, json={})
    with pytest.raises(ConnectorError, match="subreddits option") as err:
        make().fetch("search", None)
    assert err.value.permanent


def test_unknown_stream() -> None:
    with pytest.raises(ConnectorError, match="no stream") as err:
        make().fetch("messages", None)
    assert err.value.permanent


# --- posting


def event(name: str, kind: str = "comment") -> IncomingEvent:
    return IncomingEvent("reddit", kind, name, "text", NOW - timedelta(hours=1))


def test_a_comment_reply_replays_the_recorded_exchange(
    api: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    recorded = load("praw/TestComment.test_reply.json")
    register(api, recorded)
    with caplog.at_level(logging.DEBUG):
        reply_id = make().post_reply(event("t1_d1616q2"), "Comment reply")
    assert reply_id == recorded[1].json()["json"]["data"]["things"][0]["data"]["name"]
    sign_in, post = api.calls
    assert form(sign_in) == parse_qs(recorded[0].request_body or "") | {
        "username": [ME],
        "password": [SECRETS["reddit_password"]],
    }
    assert (post.request.method, post.request.url) == ("POST", f"{OAUTH}/api/comment/?raw_json=1")
    assert form(post) == parse_qs(recorded[1].request_body or "")  # api_type=json, text, thing_id
    assert "Comment reply" not in caplog.text  # prawcore logs request data at DEBUG
    assert_no_secret(Exception(), caplog)


def test_a_message_reply_replays_the_recorded_exchange(api: responses.RequestsMock) -> None:
    recorded = load("praw/TestMessage.test_reply.json")
    register(api, recorded, only=("/api/v1/access_token", "/api/comment/"))
    reply_id = make().post_reply(event("t4_2r1s1k2", kind="dm"), "Message reply")
    assert reply_id == "t4_zzzzzzzzzzzz"
    assert form(api.calls[1]) == {"api_type": ["json"], "text": ["Message reply"], "thing_id": ["t4_2r1s1k2"]}


def test_a_search_hit_is_answered_with_a_comment_on_the_post(api: responses.RequestsMock) -> None:
    token(api)
    created = {"json": {"errors": [], "data": {"things": [{"kind": "t1", "data": {"name": "t1_new1", "body": "hi"}}]}}}
    api.post(f"{OAUTH}/api/comment/", json=created)
    assert make().post_reply(event("t3_p1", kind="mention"), "hi 👋") == "t1_new1"
    assert form(api.calls[1])["thing_id"] == ["t3_p1"] and form(api.calls[1])["text"] == ["hi 👋"]


@pytest.mark.parametrize(
    ("errors", "error_type", "retry_after"),
    [
        (
            [
                [
                    "RATELIMIT",
                    "Looks like you've been doing that a lot. Take a break for 5 minutes before trying again.",
                    "ratelimit",
                ]
            ],
            RateLimited,
            300.0,
        ),
        ([["THREAD_LOCKED", "Comments are locked.", "parent"]], ConnectorError, None),
    ],
)
def test_reddit_api_errors_on_posting(
    api: responses.RequestsMock,
    slept: list[float],
    errors: list[list[str]],
    error_type: type[Exception],
    retry_after: float | None,
) -> None:
    token(api)
    api.post(f"{OAUTH}/api/comment/", json={"json": {"errors": errors}})
    with pytest.raises(error_type) as err:
        make().post_reply(event("t1_abc"), "hello")
    assert isinstance(err.value, ConnectorError)
    if isinstance(err.value, RateLimited):
        assert err.value.retry_after == retry_after
    else:
        assert err.value.permanent and "THREAD_LOCKED" in str(err.value) and "locked." not in str(err.value)
    assert slept == [] and len(api.calls) == 2  # no silent retry in this thread


def test_a_refused_reply_is_permanent_not_an_auth_problem(api: responses.RequestsMock) -> None:
    token(api)
    api.post(f"{OAUTH}/api/comment/", status=403, json={"message": "Forbidden", "error": 403})
    with pytest.raises(ConnectorError, match="locked") as err:
        make().post_reply(event("t1_abc"), "hello")
    assert err.value.permanent and not isinstance(err.value, AuthExpired)


def test_an_answer_without_an_id_is_permanent(api: responses.RequestsMock) -> None:
    token(api)
    api.post(f"{OAUTH}/api/comment/", json={"json": {"errors": [], "data": {"things": []}}})
    with pytest.raises(ConnectorError, match="no id") as err:
        make().post_reply(event("t1_abc"), "hello")
    assert err.value.permanent


@pytest.mark.parametrize(
    "bad",
    [
        IncomingEvent("reddit", "follow", "t2_x", "", NOW),
        IncomingEvent("reddit", "comment", "not-a-fullname", "", NOW),
        IncomingEvent("x", "comment", "t1_abc", "", NOW),
    ],
)
def test_events_that_cannot_be_answered_are_refused_without_a_request(
    api: responses.RequestsMock, bad: IncomingEvent
) -> None:
    with pytest.raises(ConnectorError, match="cannot reply") as err:
        make().post_reply(bad, "hello")
    assert err.value.permanent and len(api.calls) == 0


# --- recovery (find_reply)


def test_find_reply_in_the_account_comments(api: responses.RequestsMock) -> None:
    token(api)
    ours = comment("r1", 10, author=ME, parent_id="t1_orig", body="Thank  you,\nplease call us.")
    other = comment("r2", 5, author=ME, parent_id="t1_other", body="Thank you, please call us.")
    api.get(f"{OAUTH}/user/{ME}/comments/", json=things(other, ours))
    found = make().find_reply(
        IncomingEvent("reddit", "mention", "t1_orig", "x", NOW - timedelta(minutes=30)), "Thank you, please call us."
    )
    assert found == "t1_r1"
    assert query(api.calls[1])["sort"] == ["new"]


def test_find_reply_in_sent_messages(api: responses.RequestsMock) -> None:
    token(api)
    api.get(f"{OAUTH}/message/sent/", json=things(message("s1", 1, author=ME, parent_id="t4_orig", body="hello")))
    assert (
        make().find_reply(IncomingEvent("reddit", "dm", "t4_orig", "x", NOW - timedelta(minutes=30)), "hello")
        == "t4_s1"
    )


def test_find_reply_stops_at_replies_older_than_the_event(api: responses.RequestsMock) -> None:
    token(api)
    api.get(
        f"{OAUTH}/user/{ME}/comments/",
        json=things(comment("r1", 5, author=ME), comment("r0", 120, author=ME), after="t1_r0"),
    )
    assert (
        make().find_reply(IncomingEvent("reddit", "comment", "t1_orig", "x", NOW - timedelta(minutes=30)), "x") is None
    )
    assert len(api.calls) == 2


def test_find_reply_cannot_verify_after_too_many_pages(api: responses.RequestsMock) -> None:
    token(api)
    api.get(f"{OAUTH}/user/{ME}/comments/", json=things(comment("r1", 5, author=ME), after="t1_r1"))
    with pytest.raises(CannotVerify, match="too many"):
        make().find_reply(IncomingEvent("reddit", "comment", "t1_orig", "x", NOW - timedelta(minutes=30)), "x")


def test_find_reply_cannot_verify_when_reddit_refuses(api: responses.RequestsMock) -> None:
    token(api)
    api.get(f"{OAUTH}/message/sent/", status=403, json={"message": "Forbidden", "error": 403})
    with pytest.raises(CannotVerify):
        make().find_reply(IncomingEvent("reddit", "dm", "t4_orig", "x", NOW), "x")


# --- check_auth


def test_check_auth_reads_the_signed_in_account(api: responses.RequestsMock) -> None:
    token(api)
    api.get(f"{OAUTH}/api/v1/me", json={"name": "Example_Practice", "is_suspended": False})
    make().check_auth()
    assert urlsplit(api.calls[1].request.url).path == "/api/v1/me"


@pytest.mark.parametrize(
    ("me", "match"), [({"name": "someone_else"}, "REDDIT_USERNAME"), ({"name": ME, "is_suspended": True}, "suspended")]
)
def test_check_auth_verdicts(api: responses.RequestsMock, me: dict[str, Any], match: str) -> None:
    token(api)
    api.get(f"{OAUTH}/api/v1/me", json=me)
    with pytest.raises(AuthExpired, match=match):
        make().check_auth()


def test_check_auth_with_a_wrong_password(api: responses.RequestsMock) -> None:
    api.post(TOKEN_URL, json={"error": "invalid_grant"})
    with pytest.raises(AuthExpired, match="REDDIT_USERNAME / REDDIT_PASSWORD"):
        make().check_auth()


# --- configuration


@pytest.mark.parametrize("missing", list(SECRETS))
def test_missing_settings_name_the_env_variable(missing: str) -> None:
    secrets = {k: v for k, v in SECRETS.items() if k != missing}
    with pytest.raises(ConnectorError, match=missing.upper()) as err:
        RedditConnector(AccountSpec("r", "reddit", {}, secrets))
    assert err.value.permanent
    assert_no_secret(err.value)


def test_a_username_with_a_path_in_it_is_refused() -> None:
    with pytest.raises(ConnectorError, match="REDDIT_USERNAME") as err:
        RedditConnector(AccountSpec("r", "reddit", {}, SECRETS | {"reddit_username": "a/../b"}))
    assert "a/../b" not in str(err.value)


def test_the_praw_client_is_a_quiet_script_app() -> None:
    connector = make()
    reddit = connector._api.reddit
    assert reddit.config.check_for_updates is False
    assert reddit.config.user_agent == f"practice-monitor/1.0 by u/{ME}"
    assert SECRETS["reddit_password"] not in repr(connector)


def test_an_injected_reddit_is_used(api: responses.RequestsMock) -> None:
    reddit = praw.Reddit(
        client_id="c",
        client_secret="s",
        username=ME,
        password="p",
        user_agent="test agent by u/x",
        check_for_updates=False,
    )
    connector = RedditConnector(AccountSpec("r", "reddit", {}, SECRETS), reddit=reddit, clock=lambda: NOW)
    token(api)
    api.get(INBOX, json=things())
    assert connector.fetch("inbox", None).events == ()
    assert api.calls[1].request.headers["User-Agent"].startswith("test agent by u/x")


# --- pure parsing


def test_parse_inbox_item_ignores_other_kinds() -> None:
    assert parse_inbox_item("t3", {"name": "t3_x"}, ME, fetched_at=NOW) is None


@pytest.mark.parametrize(
    ("text", "seconds"),
    [("Take a break for 5 minutes before trying again.", 300.0), ("try again in 9 seconds", 9.0), ("soon", None)],
)
def test_ratelimit_seconds(text: str, seconds: float | None) -> None:
    assert ratelimit_seconds(text) == seconds


def test_cursor_round_trip_and_garbage() -> None:
    cursor = ListingCursor(12.5, frozenset({"t1_a", "t4_b"}))
    assert read_cursor(cursor.dump()) == cursor
    assert json.loads(cursor.dump())["names"] == ["t1_a", "t4_b"]
    assert read_cursor("[]") is None and read_cursor('{"created_utc": true, "names": []}') is None
