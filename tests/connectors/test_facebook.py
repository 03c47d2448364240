"""Facebook Page connector: the real facebook-sdk 3.1.0 (and requests) against `responses`.

Recorded Graph API payloads come from ../shared/api_recordings/pyfacebook/testdata (read in place,
never copied); the rest are invented and follow the documented shapes (Page Feed, Comments,
Conversations, Send API references; Graph error format `{"error": {"message", "type", "code", ...}}`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
import responses

from connectors.base import AccountSpec, AuthExpired, CannotVerify, ConnectorError, IncomingEvent, RateLimited
from connectors.facebook import FEED_FIELDS, FacebookPageConnector

RECORDED = Path(__file__).resolve().parents[2] / ".." / "shared" / "api_recordings" / "pyfacebook" / "testdata"
GRAPH = "https://graph.facebook.com/v25.0"
NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
PAGE = "1234567890"
TOKEN = "EAAB-page-token-must-not-leak"
APP_SECRET = "app-secret-must-not-leak"
SECRETS = {"facebook_page_token": TOKEN, "facebook_graph_version": "v25.0"}
PAGE_FROM = {"name": "Example Counseling", "id": PAGE}


def recorded(name: str) -> dict[str, Any]:
    return json.loads((RECORDED / "facebook" / "apidata" / name).read_text("utf-8"))  # type: ignore[no-any-return]


def stamp(minutes_ago: float, at: datetime = NOW) -> str:
    return (at - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S+0000")


def comment(cid: str, minutes_ago: float, text: str = "", **fields: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": cid,
        "message": text or f"comment {cid}",
        "created_time": stamp(minutes_ago),
        "from": {"name": "Robin Example", "id": "5550001"},
        "permalink_url": f"https://www.facebook.com/{PAGE}/posts/777/?comment_id={cid}",
        "is_hidden": False,
    }
    raw.update(fields)
    return raw


def post(pid: str, comments: list[dict[str, Any]], minutes_ago: float = 60 * 24 * 20, **fields: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": pid,
        "message": "Our office is closed on Monday",
        "created_time": stamp(minutes_ago),
        "from": PAGE_FROM,
        "permalink_url": f"https://www.facebook.com/{PAGE}/posts/{pid}",
        "comments": {"data": comments},
    }
    raw.update(fields)
    return raw


def graph_error(code: int, subcode: int | None = None, message: str = "An error", **extra: Any) -> dict[str, Any]:
    err: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Abc123"}
    if subcode is not None:
        err["error_subcode"] = subcode
    err.update(extra)
    return {"error": err}


def make(clock: Any = lambda: NOW, secrets: dict[str, str] | None = None, **options: object) -> FacebookPageConnector:
    spec = AccountSpec("fb-main", "facebook", {"page_id": PAGE, **options}, secrets or SECRETS)
    return FacebookPageConnector(spec, clock=clock)


def query(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


def form(call: Any) -> dict[str, list[str]]:
    return parse_qs(call.request.body)


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as rsps:
        yield rsps


def assert_clean(exc: BaseException, caplog: pytest.LogCaptureFixture | None = None) -> None:
    for secret in (TOKEN, APP_SECRET):
        assert secret not in f"{exc} {exc!r} {exc.args!r}"
        assert caplog is None or secret not in caplog.text


# --- comments


def test_first_poll_reads_the_feed_with_comments_and_keeps_the_last_seven_days(api: responses.RequestsMock) -> None:
    reply = comment("777_2", 30, parent={"id": "777_1"})
    own = comment("777_3", 20, "Thanks, please call the office", **{"from": PAGE_FROM})
    visitor = post("1234567890_888", [], 90, message="Do you take new clients?", **{"from": {"name": "Ana", "id": "9"}})
    feed = [post("1234567890_777", [own, reply, comment("777_1", 60), comment("777_0", 8 * 24 * 60)]), visitor]
    api.get(f"{GRAPH}/{PAGE}/feed", json={"data": feed})
    page = make().fetch("comments", None)
    assert [(e.kind, e.external_id) for e in page.events] == [
        ("comment", "777_2"),
        ("comment", "777_1"),
        ("mention", "1234567890_888"),
    ]
    second, first, mention = page.events
    assert (first.platform, first.text, first.author_handle) == ("facebook", "comment 777_1", "Robin Example")
    assert (first.parent_id, first.thread_id) == ("1234567890_777", "1234567890_777")
    assert (second.parent_id, second.thread_id) == ("777_1", "1234567890_777")  # a reply points at its comment
    assert first.created_at == NOW - timedelta(minutes=60)
    assert first.url == f"https://www.facebook.com/{PAGE}/posts/777/?comment_id=777_1"
    assert (mention.text, mention.author_handle, mention.parent_id) == ("Do you take new clients?", "Ana", None)
    cursor = json.loads(page.next_cursor or "")
    assert cursor["since"] == (NOW - timedelta(minutes=20)).isoformat()  # the Page's own comment counts as seen
    assert set(cursor["seen"]) == {"777_3", "777_2"}  # everything within the 10-minute overlap
    sent = query(api.calls[0])
    assert sent["fields"] == [FEED_FIELDS] and sent["limit"] == ["25"] and sent["access_token"] == [TOKEN]
    assert "appsecret_proof" not in sent


def test_appsecret_proof_is_sent_when_the_app_secret_is_set(api: responses.RequestsMock) -> None:
    api.get(f"{GRAPH}/{PAGE}/feed", json={"data": []})
    make(secrets={**SECRETS, "facebook_app_secret": APP_SECRET}).fetch("comments", None)
    expected = hmac.new(APP_SECRET.encode(), TOKEN.encode(), hashlib.sha256).hexdigest()
    assert query(api.calls[0])["appsecret_proof"] == [expected]


def test_incremental_poll_skips_seen_ids_and_keeps_late_arrivals(api: responses.RequestsMock) -> None:
    since = NOW - timedelta(minutes=30)
    cursor = json.dumps({"since": since.isoformat(), "seen": ["777_5"]})
    comments = [
        comment("777_9", 5),  # new
        comment("777_5", 30),  # seen at the cursor
        comment("777_6", 34),  # became visible late: inside the 10-minute overlap, never seen
        comment("777_4", 45),  # before the overlap: stops the reading
    ]
    api.get(f"{GRAPH}/{PAGE}/feed", json={"data": [post("1234567890_777", comments)]})
    page = make().fetch("comments", cursor)
    assert [e.external_id for e in page.events] == ["777_9", "777_6"]
    assert json.loads(page.next_cursor or "") == {"since": (NOW - timedelta(minutes=5)).isoformat(), "seen": ["777_9"]}


def test_an_unreadable_cursor_starts_from_the_last_seven_days(
    api: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    api.get(f"{GRAPH}/{PAGE}/feed", json={"data": [post("1234567890_777", [comment("777_1", 6 * 24 * 60)])]})
    with caplog.at_level(logging.WARNING):
        page = make().fetch("comments", "not json")
    assert [e.external_id for e in page.events] == ["777_1"]
    assert "unreadable cursor" in caplog.text


def test_an_empty_feed(api: responses.RequestsMock) -> None:
    api.get(f"{GRAPH}/{PAGE}/feed", json={"data": []})
    page = make().fetch("comments", None)
    assert page.events == ()
    assert json.loads(page.next_cursor or "") == {"since": (NOW - timedelta(days=7)).isoformat(), "seen": []}


def test_paging_the_recorded_feed_follows_paging_next_without_its_token(api: responses.RequestsMock) -> None:
    p1, p2 = recorded("posts/feeds_default_fields_p1.json"), recorded("posts/feeds_default_fields_p2.json")
    api.get(f"{GRAPH}/19292868552/feed", json=p1)
    api.get(f"{GRAPH}/19292868552/feed", json=p2)
    spec = AccountSpec("fb-rec", "facebook", {"page_id": "19292868552", "max_posts": 10}, SECRETS)
    page = FacebookPageConnector(spec, clock=lambda: datetime(2021, 7, 12, tzinfo=UTC)).fetch("comments", None)
    assert page.events == ()  # the Page's own posts; their comments were not expanded in the recording
    assert len(api.calls) == 2
    second = query(api.calls[1])
    assert second["after"] == ["after"] and second["access_token"] == [TOKEN]  # ours, not the URL's placeholder


def test_recorded_comments_without_ids_are_rebuilt_from_permalinks(
    api: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    """The recording was made without the MODERATE task: comments carry text and permalinks, no id or author."""
    p1, p2 = recorded("comments/comments_p1.json"), recorded("comments/comments_p2.json")
    feed = {"data": [{"id": "19292868552_10158407654328553", "comments": p1}]}
    api.get(f"{GRAPH}/19292868552/feed", json=feed)
    api.get(f"{GRAPH}/19292868552_10158407654328553/comments", json=p2)
    spec = AccountSpec("fb-rec", "facebook", {"page_id": "19292868552"}, SECRETS)
    connector = FacebookPageConnector(spec, clock=lambda: datetime(2021, 8, 15, tzinfo=UTC))
    with caplog.at_level(logging.WARNING):
        page = connector.fetch("comments", None)
    assert len(page.events) == len(p1["data"]) + len(p2["data"])
    assert len({e.external_id for e in page.events}) == len(page.events)
    top = next(e for e in page.events if e.external_id == "10158407654328553_10158407835073553")
    assert (top.parent_id, top.author_handle) == ("19292868552_10158407654328553", None)
    reply = next(e for e in page.events if e.external_id == "10158407654328553_10158409984103553")
    assert reply.parent_id == "10158407654328553_10158407835073553"
    assert query(api.calls[1])["after"] == ["after"] and query(api.calls[1])["filter"] == ["stream"]
    assert "rebuilt from permalinks" in caplog.text and "MODERATE" in caplog.text
    assert all(e.text not in caplog.text for e in page.events if e.text)


def test_hidden_comments_are_still_events_and_a_vanished_post_ends_its_paging(api: responses.RequestsMock) -> None:
    hidden = comment("777_1", 10, "something personal", is_hidden=True)
    first = post("1234567890_777", [hidden])
    first["comments"]["paging"] = {"next": f"{GRAPH}/1234567890_777/comments?access_token=x&after=QVFI"}
    api.get(f"{GRAPH}/{PAGE}/feed", json={"data": [first, post("1234567890_778", [comment("778_1", 12)])]})
    api.get(f"{GRAPH}/1234567890_777/comments", status=400, json=graph_error(100, 33, "Object does not exist"))
    page = make().fetch("comments", None)
    assert [e.external_id for e in page.events] == ["777_1", "778_1"]


def test_an_item_repeated_on_the_next_page_is_reported_once(api: responses.RequestsMock) -> None:
    first = post("1234567890_777", [comment("777_2", 1), comment("777_1", 2)])
    first["comments"]["paging"] = {"next": f"{GRAPH}/1234567890_777/comments?after=A"}
    api.get(f"{GRAPH}/{PAGE}/feed", json={"data": [first]})
    api.get(f"{GRAPH}/1234567890_777/comments", json={"data": [comment("777_1", 2), comment("777_0", 3)]})
    assert [e.external_id for e in make().fetch("comments", None).events] == ["777_2", "777_1", "777_0"]


def test_unicode_emoji_and_missing_optional_fields(api: responses.RequestsMock) -> None:
    text = "Merci 🙏🏽 — 丁寧な対応 ❤️"
    bare = {"id": "777_2", "created_time": stamp(3)}  # no message (a sticker), no from, no permalink
    api.get(
        f"{GRAPH}/{PAGE}/feed",
        json={
            "data": [
                post(
                    "1234567890_777",
                    [
                        bare,
                        comment("777_1", 5, text, **{"from": {"name": "Zoë Ñandú", "id": "42"}}),
                    ],
                )
            ]
        },
    )
    events = make().fetch("comments", None).events
    assert [(e.text, e.author_handle, e.url) for e in events] == [
        ("", None, None),
        (text, "Zoë Ñandú", f"https://www.facebook.com/{PAGE}/posts/777/?comment_id=777_1"),
    ]


def test_max_posts_limits_what_a_poll_reads(api: responses.RequestsMock) -> None:
    api.get(
        f"{GRAPH}/{PAGE}/feed",
        json={
            "data": [post("1234567890_1", [comment("1_1", 1)]), post("1234567890_2", [comment("2_1", 1)])],
            "paging": {"next": f"{GRAPH}/{PAGE}/feed?after=X"},
        },
    )
    page = make(max_posts=1).fetch("comments", None)
    assert [e.external_id for e in page.events] == ["1_1"]
    assert query(api.calls[0])["limit"] == ["1"] and len(api.calls) == 1


# --- Messenger


def conversation(cid: str, messages: list[dict[str, Any]], minutes_ago: float = 1, **extra: Any) -> dict[str, Any]:
    raw = {
        "id": cid,
        "updated_time": stamp(minutes_ago),
        "link": f"/{PAGE}/inbox/{cid[2:]}/",
        "messages": {"data": messages},
    }
    raw.update(extra)
    return raw


def message(mid: str, minutes_ago: float, text: str | None = "hello", sender: str = "5550001") -> dict[str, Any]:
    raw: dict[str, Any] = {"id": mid, "created_time": stamp(minutes_ago), "from": {"name": "Sam Doe", "id": sender}}
    if text is not None:
        raw["message"] = text
    return raw


def test_messages_skip_the_pages_own_and_keep_attachment_only_ones(api: responses.RequestsMock) -> None:
    attachment_only = next(iter(recorded("messages/messages_info.json").values()))  # recorded: no text
    attachment_only = {**attachment_only, "created_time": stamp(40)}
    convs = [
        conversation(
            "t_1", [message("m_own", 2, "We will call you", PAGE), message("m_2", 3, "Hi 👋"), attachment_only]
        )
    ]
    api.get(f"{GRAPH}/{PAGE}/conversations", json={"data": convs})
    page = make().fetch("messages", None)
    assert [(e.kind, e.external_id, e.text) for e in page.events] == [
        ("dm", "m_2", "Hi 👋"),
        ("dm", attachment_only["id"], ""),
    ]
    assert page.events[0].thread_id == "t_1" and page.events[0].author_handle == "Sam Doe"
    assert page.events[0].url == f"https://www.facebook.com/{PAGE}/inbox/1/"
    assert page.events[1].author_handle == "Kun Liu"  # the recorded sender's name
    sent = query(api.calls[0])
    assert sent["platform"] == ["messenger"] and "messages.limit(25)" in sent["fields"][0]


def test_messages_page_through_a_long_conversation_and_stop_at_older_conversations(
    api: responses.RequestsMock,
) -> None:
    busy = conversation("t_1", [message("m_9", 1), message("m_8", 2)])
    busy["messages"]["paging"] = {"next": f"{GRAPH}/t_1/messages?access_token=x&after=MQ"}
    old = conversation("t_2", [message("m_old", 9 * 24 * 60)], minutes_ago=9 * 24 * 60)
    api.get(f"{GRAPH}/{PAGE}/conversations", json={"data": [busy, old], "paging": {"next": f"{GRAPH}/x?after=Y"}})
    api.get(
        f"{GRAPH}/t_1/messages",
        json={
            "data": [message("m_7", 3), message("m_1", 8 * 24 * 60)],
            "paging": {"next": f"{GRAPH}/t_1/messages?after=Z"},
        },
    )
    page = make().fetch("messages", None)
    assert [e.external_id for e in page.events] == ["m_9", "m_8", "m_7"]
    assert len(api.calls) == 2  # no third messages page, no second conversations page
    assert query(api.calls[1])["after"] == ["MQ"]


def test_messages_incremental_poll_with_cursor(api: responses.RequestsMock) -> None:
    cursor = json.dumps({"since": (NOW - timedelta(minutes=30)).isoformat(), "seen": ["m_5"]})
    convs = [conversation("t_1", [message("m_9", 5), message("m_5", 30), message("m_4", 45)], minutes_ago=5)]
    api.get(f"{GRAPH}/{PAGE}/conversations", json={"data": convs})
    page = make().fetch("messages", cursor)
    assert [e.external_id for e in page.events] == ["m_9"]
    assert json.loads(page.next_cursor or "")["since"] == (NOW - timedelta(minutes=5)).isoformat()


def test_an_empty_inbox(api: responses.RequestsMock) -> None:
    api.get(f"{GRAPH}/{PAGE}/conversations", json={"data": []})
    assert make().fetch("messages", None).events == ()


# --- followers


def test_followers_become_authorless_count_events(api: responses.RequestsMock) -> None:
    connector = make()
    for count in (100, 103, 101, 102):
        api.get(f"{GRAPH}/{PAGE}", json={"followers_count": count, "id": PAGE})
    first = connector.fetch("followers", None)
    start = int(NOW.timestamp())  # so ids never repeat even if the cursor is lost
    assert first.events == () and json.loads(first.next_cursor or "") == {"count": 100, "seq": start}
    rise = connector.fetch("followers", first.next_cursor)
    assert [(e.kind, e.author_handle, e.text) for e in rise.events] == [("follow", None, "")] * 3
    assert len({e.external_id for e in rise.events}) == 3
    again = connector.fetch("followers", first.next_cursor)  # re-polled from the same cursor (now 101): same ids
    assert [e.external_id for e in again.events] == [e.external_id for e in rise.events][:1]
    fall = connector.fetch("followers", rise.next_cursor)
    assert fall.events == () and json.loads(fall.next_cursor or "") == {"count": 102, "seq": start + 1}
    assert query(api.calls[0])["fields"] == ["followers_count,fan_count"]


def test_followers_fall_back_to_fan_count_and_survive_a_missing_count(api: responses.RequestsMock) -> None:
    api.get(f"{GRAPH}/{PAGE}", json={"fan_count": 12, "id": PAGE})
    api.get(f"{GRAPH}/{PAGE}", json={"id": PAGE})
    connector = make()
    assert [e.kind for e in connector.fetch("followers", json.dumps({"count": 10, "seq": 4})).events] == ["follow"] * 2
    missing = connector.fetch("followers", json.dumps({"count": 10, "seq": 4}))
    assert missing.events == () and missing.next_cursor is None  # cursor unchanged


# --- errors


def buc(percent: int, minutes: int | None) -> dict[str, str]:
    entry: dict[str, Any] = {"type": "pages", "call_count": percent, "total_cputime": 5, "total_time": 5}
    if minutes is not None:
        entry["estimated_time_to_regain_access"] = minutes
    return {"X-Business-Use-Case-Usage": json.dumps({PAGE: [entry]})}


@pytest.mark.parametrize(
    ("status", "body", "headers", "retry_after"),
    [
        (400, graph_error(32, message="Page request limit reached"), buc(100, 5), 300.0),
        (400, graph_error(4, message="Application request limit reached"), {}, None),
        (400, graph_error(80001, message="There have been too many calls to this Page account"), buc(100, 0), None),
        (403, graph_error(613, message="Calls to this api have exceeded the rate limit."), {"Retry-After": "30"}, 30.0),
        (429, "<html>slow down</html>", {"Retry-After": "45"}, 45.0),
        (429, "<html>slow down</html>", {}, None),
    ],
)
def test_throttling_errors(
    api: responses.RequestsMock, status: int, body: Any, headers: dict[str, str], retry_after: float | None
) -> None:
    if isinstance(body, dict):
        api.get(f"{GRAPH}/{PAGE}/feed", status=status, json=body, headers=headers)
    else:
        api.get(f"{GRAPH}/{PAGE}/feed", status=status, body=body, headers=headers, content_type="text/html")
    with pytest.raises(RateLimited) as err:
        make().fetch("comments", None)
    assert err.value.retry_after == retry_after
    assert_clean(err.value)


def test_a_usage_header_at_100_percent_stops_reading_and_blocks_until_access_returns(
    api: responses.RequestsMock,
) -> None:
    now = [NOW]
    connector = make(clock=lambda: now[0])
    api.get(f"{GRAPH}/{PAGE}/feed", json={"data": []}, headers=buc(100, 2))
    with pytest.raises(RateLimited) as err:
        connector.fetch("comments", None)
    assert err.value.retry_after == 120.0
    now[0] = NOW + timedelta(seconds=30)
    with pytest.raises(RateLimited) as again:  # refused without a request
        connector.fetch("messages", None)
    assert again.value.retry_after == 90.0 and len(api.calls) == 1
    now[0] = NOW + timedelta(minutes=3)
    api.get(f"{GRAPH}/{PAGE}/conversations", json={"data": []}, headers={"X-App-Usage": json.dumps({"call_count": 40})})
    assert connector.fetch("messages", None).events == ()


def test_an_app_usage_header_at_100_percent_without_a_reset(api: responses.RequestsMock) -> None:
    usage = {"X-App-Usage": json.dumps({"call_count": 100, "total_time": 12, "total_cputime": 9})}
    api.get(f"{GRAPH}/{PAGE}/feed", json={"data": []}, headers=usage)
    with pytest.raises(RateLimited) as err:
        make().fetch("comments", None)
    assert err.value.retry_after is None


@pytest.mark.parametrize("subcode", [463, 460, None])
def test_an_expired_token_is_auth_expired_naming_the_setting(
    api: responses.RequestsMock, caplog: pytest.LogCaptureFixture, subcode: int | None
) -> None:
    api.get(f"{GRAPH}/{PAGE}/feed", status=400, json=graph_error(190, subcode, "Error validating access token"))
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthExpired, match="FACEBOOK_PAGE_TOKEN") as err:
        make().fetch("comments", None)
    assert "Graph API error 190" in str(err.value)
    assert_clean(err.value, caplog)


def test_a_missing_permission_is_named(api: responses.RequestsMock) -> None:
    body = graph_error(200, message="(#200) Requires pages_read_user_content permission to manage the object")
    api.get(f"{GRAPH}/{PAGE}/feed", status=403, json=body)
    with pytest.raises(AuthExpired, match="pages_read_user_content") as err:
        make().fetch("comments", None)
    assert "Advanced Access" in str(err.value)


@pytest.mark.parametrize(
    ("status", "body", "permanent", "match"),
    [
        (500, graph_error(2, message="Service temporarily unavailable", is_transient=True), False, "error 2"),
        (502, "<html>Bad gateway</html>", False, "HTTP 502"),
        (400, graph_error(100, message="Invalid parameter"), True, "Graph API error 100"),
        (404, "Not found", True, "HTTP 404"),
    ],
)
def test_http_and_graph_errors(
    api: responses.RequestsMock, status: int, body: Any, permanent: bool, match: str
) -> None:
    if isinstance(body, dict):
        api.get(f"{GRAPH}/{PAGE}/feed", status=status, json=body)
    else:
        api.get(f"{GRAPH}/{PAGE}/feed", status=status, body=body, content_type="text/html")
    with pytest.raises(ConnectorError, match=match) as err:
        make().fetch("comments", None)
    assert err.value.permanent is permanent
    assert not isinstance(err.value, AuthExpired | RateLimited)


def test_metas_error_text_is_quoted_without_the_token(api: responses.RequestsMock) -> None:
    body = graph_error(100, message=f"Bad value in https://graph.facebook.com/x?access_token={TOKEN}&a=1 ({TOKEN})")
    api.get(f"{GRAPH}/{PAGE}/feed", status=400, json=body)
    with pytest.raises(ConnectorError, match="Meta says") as err:
        make().fetch("comments", None)
    assert "[redacted]" in str(err.value)
    assert_clean(err.value)


@pytest.mark.parametrize(
    "failure",
    [requests.exceptions.ReadTimeout(f"{GRAPH}/x?access_token={TOKEN}"), requests.exceptions.ConnectionError(TOKEN)],
)
def test_timeouts_and_connection_errors_are_temporary(api: responses.RequestsMock, failure: Exception) -> None:
    api.get(f"{GRAPH}/{PAGE}/feed", body=failure)
    with pytest.raises(ConnectorError) as err:
        make().fetch("comments", None)
    assert err.value.permanent is False
    assert err.value.__cause__ is None and err.value.__suppress_context__
    assert_clean(err.value)


def test_malformed_json_is_a_temporary_connector_error(api: responses.RequestsMock) -> None:
    api.get(f"{GRAPH}/{PAGE}/feed", body='{"data": [', content_type="application/json")
    with pytest.raises(ConnectorError, match="not valid JSON") as err:
        make().fetch("comments", None)
    assert err.value.permanent is False


def test_json_that_is_not_an_object(api: responses.RequestsMock) -> None:
    api.get(f"{GRAPH}/{PAGE}/feed", json=[1, 2])
    with pytest.raises(ConnectorError, match="not an object"):
        make().fetch("comments", None)


# --- replies


def incoming(kind: str, external_id: str, minutes_ago: float = 10, **fields: Any) -> IncomingEvent:
    return IncomingEvent("facebook", kind, external_id, "text", NOW - timedelta(minutes=minutes_ago), **fields)


def test_a_comment_reply_posts_a_comment(api: responses.RequestsMock) -> None:
    api.post(f"{GRAPH}/777_1/comments", json=recorded("comments/create_resp.json"))
    event = incoming("comment", "777_1", parent_id="1234567890_777", thread_id="1234567890_777")
    assert make().post_reply(event, "Please call the office ☎️") == "245778718206154_229887283291835"
    call = api.calls[0]
    assert call.request.method == "POST"
    assert form(call) == {"message": ["Please call the office ☎️"], "access_token": [TOKEN]}


def test_a_reply_to_a_reply_goes_to_the_top_level_comment(api: responses.RequestsMock) -> None:
    api.post(f"{GRAPH}/777_1/comments", json={"id": "777_99"})
    event = incoming("comment", "777_2", parent_id="777_1", thread_id="1234567890_777")
    assert make(secrets={**SECRETS, "facebook_app_secret": APP_SECRET}).post_reply(event, "Thanks") == "777_99"
    assert form(api.calls[0])["appsecret_proof"] == [
        hmac.new(APP_SECRET.encode(), TOKEN.encode(), hashlib.sha256).hexdigest()
    ]


def test_a_visitor_post_is_answered_with_a_comment_on_it(api: responses.RequestsMock) -> None:
    api.post(f"{GRAPH}/1234567890_888/comments", json={"id": "888_1"})
    assert make().post_reply(incoming("mention", "1234567890_888", thread_id="1234567890_888"), "Hi") == "888_1"


def dm_conversation(last_minutes_ago: float) -> dict[str, Any]:
    return {
        "id": "t_1",
        "participants": {"data": [{"name": "Sam Doe", "id": "5550001"}, PAGE_FROM]},
        "messages": {
            "data": [message("m_3", last_minutes_ago), message("m_2", 10, "ok", PAGE), message("m_1", 60 * 30)]
        },
    }


def test_a_dm_reply_uses_the_send_api_with_json_encoded_fields(api: responses.RequestsMock) -> None:
    api.get(f"{GRAPH}/t_1", json=dm_conversation(60))
    api.post(f"{GRAPH}/{PAGE}/messages", json={"recipient_id": "5550001", "message_id": "m_reply"})
    event = incoming("dm", "m_1", 60 * 30, thread_id="t_1")  # old, but the person wrote again an hour ago
    assert make().post_reply(event, "Bitte rufen Sie an — 555 0100 🙂") == "m_reply"
    call = api.calls[1]
    assert call.request.method == "POST"
    assert form(call) == {
        "recipient": ['{"id": "5550001"}'],
        "message": ['{"text": "Bitte rufen Sie an — 555 0100 🙂"}'],
        "messaging_type": ["RESPONSE"],
        "access_token": [TOKEN],
    }
    assert json.loads(form(call)["message"][0]) == {"text": "Bitte rufen Sie an — 555 0100 🙂"}


def test_a_dm_reply_accepts_a_naive_stored_time(api: responses.RequestsMock) -> None:
    api.get(f"{GRAPH}/t_1", json=dm_conversation(60))
    api.post(f"{GRAPH}/{PAGE}/messages", json={"recipient_id": "5550001", "message_id": "m_reply"})
    event = IncomingEvent(
        "facebook", "dm", "m_3", "x", (NOW - timedelta(hours=1)).replace(tzinfo=None), thread_id="t_1"
    )
    assert make().post_reply(event, "Hi") == "m_reply"


def test_a_dm_reply_outside_the_24_hour_window_is_refused_before_sending(api: responses.RequestsMock) -> None:
    api.get(f"{GRAPH}/t_1", json=dm_conversation(25 * 60))
    with pytest.raises(ConnectorError, match="24-hour") as err:
        make().post_reply(incoming("dm", "m_3", 25 * 60, thread_id="t_1"), "Hello")
    assert err.value.permanent and not isinstance(err.value, AuthExpired)
    assert len(api.calls) == 1  # nothing was posted


def test_metas_own_window_refusal_is_permanent_not_an_auth_problem(api: responses.RequestsMock) -> None:
    api.get(f"{GRAPH}/t_1", json=dm_conversation(60))
    body = graph_error(10, 2018278, "(#10) This message is sent outside of allowed window.")
    api.post(f"{GRAPH}/{PAGE}/messages", status=400, json=body)
    with pytest.raises(ConnectorError, match="24-hour") as err:
        make().post_reply(incoming("dm", "m_3", 60, thread_id="t_1"), "Hello")
    assert err.value.permanent and not isinstance(err.value, AuthExpired)


def test_a_write_whose_outcome_is_unknown_is_never_retried(api: responses.RequestsMock) -> None:
    api.post(f"{GRAPH}/777_1/comments", body=requests.exceptions.ReadTimeout())
    with pytest.raises(ConnectorError, match="may or may not") as err:
        make().post_reply(incoming("comment", "777_1"), "Hi")
    assert err.value.permanent


def test_a_write_that_never_connected_may_be_retried(api: responses.RequestsMock) -> None:
    api.post(f"{GRAPH}/777_1/comments", body=requests.exceptions.ConnectTimeout())
    with pytest.raises(ConnectorError) as err:
        make().post_reply(incoming("comment", "777_1"), "Hi")
    assert not err.value.permanent


def test_a_successful_write_at_full_usage_still_returns_its_id(api: responses.RequestsMock) -> None:
    api.post(f"{GRAPH}/777_1/comments", json={"id": "777_5"}, headers=buc(100, 1))
    connector = make()
    assert connector.post_reply(incoming("comment", "777_1"), "Hi") == "777_5"
    with pytest.raises(RateLimited):
        connector.fetch("comments", None)


def test_follows_and_reviews_are_never_replied_to(api: responses.RequestsMock) -> None:
    with pytest.raises(ConnectorError, match="cannot reply") as err:
        make().post_reply(incoming("follow", "f1"), "Hi")
    assert err.value.permanent and len(api.calls) == 0


# --- find_reply and hide_comment


def test_find_reply_finds_the_pages_comment_with_the_same_text(api: responses.RequestsMock) -> None:
    api.get(
        f"{GRAPH}/777_1/comments",
        json={
            "data": [
                comment("777_8", 1, "Please  call the office", **{"from": {"name": "Someone", "id": "77"}}),
                comment("777_7", 2, "Please call the office ", **{"from": PAGE_FROM}),
            ]
        },
    )
    assert make().find_reply(incoming("comment", "777_1"), "Please call the office") == "777_7"
    assert query(api.calls[0])["order"] == ["reverse_chronological"]


def test_find_reply_stops_at_comments_older_than_the_item(api: responses.RequestsMock) -> None:
    api.get(
        f"{GRAPH}/777_1/comments",
        json={
            "data": [comment("777_8", 1, "other"), comment("777_0", 30, "Hi")],
            "paging": {"next": f"{GRAPH}/777_1/comments?after=A"},
        },
    )
    assert make().find_reply(incoming("comment", "777_1", 10), "Hi") is None
    assert len(api.calls) == 1


def test_find_reply_cannot_verify_without_authors(api: responses.RequestsMock) -> None:
    anonymous = comment("777_7", 2, "Hi")
    del anonymous["from"]
    api.get(f"{GRAPH}/777_1/comments", json={"data": [anonymous]})
    with pytest.raises(CannotVerify):
        make().find_reply(incoming("comment", "777_1"), "Hi")


def test_find_reply_in_a_conversation(api: responses.RequestsMock) -> None:
    api.get(f"{GRAPH}/t_1/messages", json={"data": [message("m_9", 1, "Call us", PAGE), message("m_1", 10, "Hi")]})
    api.get(f"{GRAPH}/t_1/messages", json={"data": [message("m_1", 10, "Hi")]})
    connector = make()
    assert connector.find_reply(incoming("dm", "m_1", 10, thread_id="t_1"), "Call us") == "m_9"
    assert connector.find_reply(incoming("dm", "m_1", 10, thread_id="t_1"), "Call us") is None


@pytest.mark.parametrize(("hidden", "value"), [(True, "true"), (False, "false")])
def test_hide_comment_sends_is_hidden(api: responses.RequestsMock, hidden: bool, value: str) -> None:
    api.post(f"{GRAPH}/777_1", json={"success": True})
    make().hide_comment(incoming("comment", "777_1"), hidden)
    assert api.calls[0].request.method == "POST"
    assert form(api.calls[0]) == {"is_hidden": [value], "access_token": [TOKEN]}


def test_hide_comment_without_confirmation_or_on_a_dm(api: responses.RequestsMock) -> None:
    api.post(f"{GRAPH}/777_1", json={"success": False})
    with pytest.raises(ConnectorError, match="did not confirm"):
        make().hide_comment(incoming("comment", "777_1"))
    with pytest.raises(ConnectorError, match="cannot hide"):
        make().hide_comment(incoming("dm", "m_1"))


# --- check_auth


ALL_SCOPES = [
    "pages_show_list",
    "pages_read_engagement",
    "pages_read_user_content",
    "pages_manage_engagement",
    "pages_manage_metadata",
    "pages_messaging",
    "public_profile",
]


def debug_token(scopes: list[str], valid: bool = True) -> dict[str, Any]:
    return {"data": {"app_id": "1", "type": "PAGE", "is_valid": valid, "profile_id": PAGE, "scopes": scopes}}


def test_check_auth_passes_with_a_page_token_carrying_every_permission(api: responses.RequestsMock) -> None:
    api.get(f"{GRAPH}/me", json={"id": PAGE, "name": "Example Counseling"})
    api.get(f"{GRAPH}/debug_token", json=debug_token(ALL_SCOPES))
    api.get(f"{GRAPH}/{PAGE}/feed", json={"data": []})
    api.get(f"{GRAPH}/{PAGE}/conversations", json={"data": []})
    make().check_auth()
    assert query(api.calls[1])["input_token"] == [TOKEN]
    assert query(api.calls[3])["platform"] == ["messenger"]


def test_check_auth_names_missing_permissions(api: responses.RequestsMock) -> None:
    api.get(f"{GRAPH}/me", json={"id": PAGE})
    api.get(f"{GRAPH}/debug_token", json=debug_token([s for s in ALL_SCOPES if s != "pages_messaging"]))
    with pytest.raises(AuthExpired, match="pages_messaging") as err:
        make().check_auth()
    assert "FACEBOOK_PAGE_TOKEN" in str(err.value)
    assert_clean(err.value)


def test_check_auth_refuses_a_user_token(api: responses.RequestsMock) -> None:
    api.get(f"{GRAPH}/me", json={"id": "5550001", "name": "A person"})
    with pytest.raises(AuthExpired, match="not a Page access token"):
        make().check_auth()


def test_check_auth_falls_back_to_probes_and_names_the_refused_permission(api: responses.RequestsMock) -> None:
    api.get(f"{GRAPH}/me", json={"id": PAGE})
    api.get(f"{GRAPH}/debug_token", status=400, json=graph_error(100, message="(#100) You must provide an app token"))
    api.get(f"{GRAPH}/{PAGE}/feed", json={"data": []})
    body = graph_error(230, message="(#230) Requires pages_messaging permission to manage the object")
    api.get(f"{GRAPH}/{PAGE}/conversations", status=403, json=body)
    with pytest.raises(AuthExpired, match="pages_messaging"):
        make().check_auth()


def test_check_auth_reports_an_invalid_or_expired_token(api: responses.RequestsMock) -> None:
    api.get(f"{GRAPH}/me", status=400, json=graph_error(190, 463, "Session has expired"))
    with pytest.raises(AuthExpired, match="FACEBOOK_PAGE_TOKEN") as err:
        make().check_auth()
    assert_clean(err.value)


def test_check_auth_reports_a_token_debug_token_calls_invalid(api: responses.RequestsMock) -> None:
    api.get(f"{GRAPH}/me", json={"id": PAGE})
    api.get(f"{GRAPH}/debug_token", json=debug_token([], valid=False))
    with pytest.raises(AuthExpired, match="no longer valid"):
        make().check_auth()


# --- configuration


def test_a_missing_token_names_the_env_variable() -> None:
    with pytest.raises(ConnectorError, match="FACEBOOK_PAGE_TOKEN") as err:
        FacebookPageConnector(AccountSpec("fb", "facebook", {"page_id": PAGE}, {}))
    assert err.value.permanent


@pytest.mark.parametrize(
    ("options", "match"),
    [({}, "'page_id'"), ({"page_id": "me/feed"}, "not a numeric id"), ({"page_id": PAGE, "max_posts": 0}, "max_posts")],
)
def test_bad_options_are_permanent_errors(options: dict[str, object], match: str) -> None:
    with pytest.raises(ConnectorError, match=match) as err:
        FacebookPageConnector(AccountSpec("fb", "facebook", options, SECRETS))
    assert err.value.permanent
    assert_clean(err.value)


@pytest.mark.parametrize(("setting", "path"), [("25.0", "v25.0"), ("v26.0", "v26.0"), ("", "v25.0")])
def test_the_graph_version_setting_is_used_after_construction(
    api: responses.RequestsMock, setting: str, path: str
) -> None:
    api.get(f"https://graph.facebook.com/{path}/{PAGE}/feed", json={"data": []})
    make(secrets={**SECRETS, "facebook_graph_version": setting}).fetch("comments", None)


def test_a_malformed_graph_version_fails_the_first_call(api: responses.RequestsMock) -> None:
    connector = make(secrets={**SECRETS, "facebook_graph_version": "latest"})
    with pytest.raises(ConnectorError, match="FACEBOOK_GRAPH_VERSION") as err:
        connector.fetch("comments", None)
    assert err.value.permanent and len(api.calls) == 0


def test_unknown_stream_and_repr() -> None:
    connector = make(secrets={**SECRETS, "facebook_app_secret": APP_SECRET})
    with pytest.raises(ConnectorError, match="no stream") as err:
        connector.fetch("reviews", None)
    assert err.value.permanent
    assert TOKEN not in repr(connector) and TOKEN not in repr(vars(connector))
