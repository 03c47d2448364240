"""Instagram connector: the real facebook-sdk 3.1.0 (and requests) against `responses`.

Recorded Graph API payloads come from ../shared/api_recordings/pyfacebook/testdata/instagram (read in
place, never copied); the rest are invented and follow the documented shapes (IG User media/tags, IG
Comment and replies, Conversations and Send API references).
"""

from __future__ import annotations

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
from connectors.instagram import MEDIA_FIELDS, TAG_FIELDS, InstagramConnector

RECORDED = Path(__file__).resolve().parents[2] / ".." / "shared" / "api_recordings" / "pyfacebook" / "testdata"
GRAPH = "https://graph.facebook.com/v25.0"
NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
IG = "17841400000000000"
PAGE = "1234567890"
TOKEN = "EAAB-page-token-must-not-leak"
SECRETS = {"facebook_page_token": TOKEN, "facebook_graph_version": "v25.0"}
OWN = {"id": IG, "username": "example_counseling"}


def recorded(name: str) -> dict[str, Any]:
    return json.loads((RECORDED / "instagram" / "apidata" / name).read_text("utf-8"))  # type: ignore[no-any-return]


def stamp(minutes_ago: float) -> str:
    return (NOW - timedelta(minutes=minutes_ago)).strftime("%Y-%m-%dT%H:%M:%S+0000")


def ig_comment(cid: str, minutes_ago: float, text: str = "", **fields: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": cid,
        "text": text or f"comment {cid}",
        "timestamp": stamp(minutes_ago),
        "username": "fern.demo",
        "from": {"id": "9001", "username": "fern.demo"},
        "hidden": False,
    }
    raw.update(fields)
    return raw


def media(mid: str, comments: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": mid,
        "timestamp": stamp(60 * 24 * 30),
        "permalink": f"https://www.instagram.com/p/{mid}/",
        "comments_count": len(comments),
        "comments": {"data": comments},
    }
    raw.update(fields)
    return raw


def graph_error(code: int, subcode: int | None = None, message: str = "An error") -> dict[str, Any]:
    err: dict[str, Any] = {"message": message, "type": "OAuthException", "code": code, "fbtrace_id": "Abc"}
    if subcode is not None:
        err["error_subcode"] = subcode
    return {"error": err}


def make(clock: Any = lambda: NOW, **options: object) -> InstagramConnector:
    return InstagramConnector(AccountSpec("ig-main", "instagram", {"ig_user_id": IG, **options}, SECRETS), clock=clock)


def query(call: Any) -> dict[str, list[str]]:
    return parse_qs(urlsplit(call.request.url).query)


def form(call: Any) -> dict[str, list[str]]:
    return parse_qs(call.request.body)


@pytest.fixture
def api() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as rsps:
        yield rsps


# --- comments


def test_first_poll_reads_comments_and_replies_of_recent_media(api: responses.RequestsMock) -> None:
    old_parent = ig_comment("c_1", 9 * 24 * 60)  # too old itself, but its reply is new
    old_parent["replies"] = {"data": [ig_comment("c_1r", 15), ig_comment("c_1o", 5, "Thank you!", **{"from": OWN})]}
    api.get(
        f"{GRAPH}/{IG}/media",
        json={
            "data": [
                media("m_1", [ig_comment("c_2", 30), old_parent]),
                media("m_2", [], comments_count=0),
            ]
        },
    )
    page = make().fetch("comments", None)
    assert [e.external_id for e in page.events] == ["c_2", "c_1r"]
    top, reply = page.events
    assert (top.platform, top.kind, top.text, top.author_handle) == ("instagram", "comment", "comment c_2", "fern.demo")
    assert (top.parent_id, top.thread_id, top.url) == ("m_1", "m_1", "https://www.instagram.com/p/m_1/")
    assert (reply.parent_id, reply.thread_id) == ("c_1", "m_1")
    cursor = json.loads(page.next_cursor or "")
    assert cursor["since"] == (NOW - timedelta(minutes=5)).isoformat()  # the account's own reply counts as seen
    assert set(cursor["seen"]) == {"c_1o", "c_1r"}  # everything within the 10-minute overlap
    sent = query(api.calls[0])
    assert sent["fields"] == [MEDIA_FIELDS] and sent["access_token"] == [TOKEN]


def test_incremental_poll_with_cursor(api: responses.RequestsMock) -> None:
    cursor = json.dumps({"since": (NOW - timedelta(minutes=20)).isoformat(), "seen": ["c_5"]})
    api.get(
        f"{GRAPH}/{IG}/media",
        json={
            "data": [
                media(
                    "m_1", [ig_comment("c_9", 2), ig_comment("c_5", 20), ig_comment("c_6", 25), ig_comment("c_4", 40)]
                ),
            ]
        },
    )
    page = make().fetch("comments", cursor)
    assert [e.external_id for e in page.events] == ["c_9", "c_6"]
    assert json.loads(page.next_cursor or "") == {"since": (NOW - timedelta(minutes=2)).isoformat(), "seen": ["c_9"]}


def test_recorded_comment_pages_are_followed(api: responses.RequestsMock) -> None:
    p1, p2 = recorded("medias/comments_p1.json"), recorded("medias/comments_p2.json")
    api.get(f"{GRAPH}/{IG}/media", json={"data": [{"id": "17846368219941692", "comments_count": 4, "comments": p1}]})
    api.get(f"{GRAPH}/17846368219941692/comments", json=p2)
    clock = datetime(2020, 6, 2, tzinfo=UTC)
    cursor = json.dumps({"since": datetime(2020, 2, 1, tzinfo=UTC).isoformat(), "seen": []})
    page = make(clock=lambda: clock).fetch("comments", cursor)
    assert [e.external_id for e in page.events] == [c["id"] for c in p1["data"] + p2["data"]]
    assert all(e.author_handle is None for e in page.events)  # the recording asked for no username
    assert query(api.calls[1])["after"] == ["after"] and query(api.calls[1])["access_token"] == [TOKEN]


def test_a_page_with_nothing_new_ends_the_comment_paging(api: responses.RequestsMock) -> None:
    item = media("m_1", [ig_comment("c_1", 9 * 24 * 60)])
    item["comments"]["paging"] = {"next": f"{GRAPH}/m_1/comments?after=X"}
    api.get(f"{GRAPH}/{IG}/media", json={"data": [item]})
    assert make().fetch("comments", None).events == ()
    assert len(api.calls) == 1


def test_an_account_without_media(api: responses.RequestsMock) -> None:
    api.get(f"{GRAPH}/{IG}/media", json={"data": []})
    page = make().fetch("comments", None)
    assert page.events == ()
    assert json.loads(page.next_cursor or "")["since"] == (NOW - timedelta(days=7)).isoformat()


def test_paging_across_media_pages_up_to_max_media(api: responses.RequestsMock) -> None:
    api.get(
        f"{GRAPH}/{IG}/media",
        json={
            "data": [media("m_1", [ig_comment("c_1", 1)])],
            "paging": {"next": f"{GRAPH}/{IG}/media?access_token=x&after=M1"},
        },
    )
    api.get(
        f"{GRAPH}/{IG}/media",
        json={
            "data": [media("m_2", [ig_comment("c_2", 2)]), media("m_3", [])],
            "paging": {"next": f"{GRAPH}/{IG}/media?after=M2"},
        },
    )
    page = make(max_media=2).fetch("comments", None)
    assert [e.external_id for e in page.events] == ["c_1", "c_2"]
    assert len(api.calls) == 2 and query(api.calls[1])["after"] == ["M1"]


def test_hidden_comments_still_count_and_a_deleted_media_is_skipped(api: responses.RequestsMock) -> None:
    gone = media("m_1", [ig_comment("c_1", 3, "private details", hidden=True)])
    gone["comments"]["paging"] = {"next": f"{GRAPH}/m_1/comments?after=X"}
    api.get(f"{GRAPH}/{IG}/media", json={"data": [gone, media("m_2", [ig_comment("c_2", 4)])]})
    api.get(f"{GRAPH}/m_1/comments", status=400, json=graph_error(100, 33, "Object does not exist"))
    assert [e.external_id for e in make().fetch("comments", None).events] == ["c_1", "c_2"]


def test_unicode_emoji_and_missing_optional_fields(api: responses.RequestsMock) -> None:
    text = "Beautiful reel 🌿✨ — gracias por todo 💚"
    bare = {"id": "c_bare", "timestamp": stamp(1)}  # no text, no username, no from
    api.get(
        f"{GRAPH}/{IG}/media",
        json={
            "data": [
                {
                    "id": "m_1",
                    "comments": {"data": [bare, ig_comment("c_u", 2, text, username="zoë.ñandú", **{"from": {}})]},
                },
            ]
        },
    )
    events = make().fetch("comments", None).events
    assert [(e.text, e.author_handle, e.url) for e in events] == [("", None, None), (text, "zoë.ñandú", None)]


# --- mentions (tagged media)


def test_mentions_read_the_recorded_tagged_media(api: responses.RequestsMock) -> None:
    tagged = recorded("users/tagged_medias.json")
    api.get(f"{GRAPH}/{IG}/tags", json=tagged)
    clock = datetime(2021, 3, 17, tzinfo=UTC)
    page = make(clock=lambda: clock).fetch("mentions", None)
    recent = [m for m in tagged["data"] if m["timestamp"] >= "2021-03-10"]
    assert [e.external_id for e in page.events] == [m["id"] for m in recent]
    first = page.events[0]
    assert (first.kind, first.text, first.url) == ("mention", recent[0]["caption"], recent[0]["permalink"])
    assert first.author_handle is None  # not requested in the recording
    assert query(api.calls[0])["fields"] == [TAG_FIELDS]


def test_mentions_incremental_and_paging(api: responses.RequestsMock) -> None:
    def tag(mid: str, minutes_ago: float) -> dict[str, Any]:
        return {"id": mid, "caption": f"@example_counseling {mid}", "timestamp": stamp(minutes_ago), "username": "a.b"}

    cursor = json.dumps({"since": (NOW - timedelta(hours=1)).isoformat(), "seen": []})
    api.get(f"{GRAPH}/{IG}/tags", json={"data": [tag("t_3", 5)], "paging": {"next": f"{GRAPH}/{IG}/tags?after=T"}})
    api.get(
        f"{GRAPH}/{IG}/tags",
        json={"data": [tag("t_2", 30), tag("t_1", 120)], "paging": {"next": f"{GRAPH}/{IG}/tags?after=U"}},
    )
    page = make().fetch("mentions", cursor)
    assert [(e.external_id, e.author_handle) for e in page.events] == [("t_3", "a.b"), ("t_2", "a.b")]
    assert len(api.calls) == 2


# --- messages


def ig_message(
    mid: str, minutes_ago: float, text: str | None = "hi", sender: dict[str, str] | None = None
) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "id": mid,
        "created_time": stamp(minutes_ago),
        "from": sender or {"username": "jess.demo", "id": "6001"},
    }
    if text is not None:
        raw["message"] = text
    return raw


def test_dms_come_from_the_linked_pages_instagram_inbox(api: responses.RequestsMock) -> None:
    conv = {
        "id": "aWdfZ",
        "updated_time": stamp(1),
        "messages": {"data": [ig_message("m_2", 1, "We'll call you", OWN), ig_message("m_1", 3, "Hola 👋")]},
    }
    api.get(f"{GRAPH}/me/conversations", json={"data": [conv]})
    page = make().fetch("messages", None)
    assert [(e.kind, e.external_id, e.text, e.author_handle, e.thread_id, e.url) for e in page.events] == [
        ("dm", "m_1", "Hola 👋", "jess.demo", "aWdfZ", None)
    ]
    assert query(api.calls[0])["platform"] == ["instagram"]


def test_dms_use_the_page_id_option_when_given(api: responses.RequestsMock) -> None:
    api.get(f"{GRAPH}/{PAGE}/conversations", json={"data": []})
    assert make(page_id=PAGE).fetch("messages", None).events == ()


# --- errors (the shared client is covered in depth in test_facebook.py)


@pytest.mark.parametrize(
    ("status", "body", "headers", "retry_after"),
    [
        (
            400,
            graph_error(80002, message="too many calls to this Instagram account"),
            {
                "X-Business-Use-Case-Usage": json.dumps(
                    {IG: [{"type": "instagram", "call_count": 100, "estimated_time_to_regain_access": 3}]}
                )
            },
            180.0,
        ),
        (400, graph_error(4), {}, None),
        (429, "<html>slow down</html>", {"Retry-After": "12"}, 12.0),
    ],
)
def test_throttling(
    api: responses.RequestsMock, status: int, body: Any, headers: dict[str, str], retry_after: float | None
) -> None:
    if isinstance(body, dict):
        api.get(f"{GRAPH}/{IG}/tags", status=status, json=body, headers=headers)
    else:
        api.get(f"{GRAPH}/{IG}/tags", status=status, body=body, headers=headers, content_type="text/html")
    with pytest.raises(RateLimited) as err:
        make().fetch("mentions", None)
    assert err.value.retry_after == retry_after


def test_usage_at_100_percent_on_a_successful_read(api: responses.RequestsMock) -> None:
    api.get(f"{GRAPH}/{IG}/media", json={"data": []}, headers={"X-App-Usage": json.dumps({"total_time": 100})})
    with pytest.raises(RateLimited) as err:
        make().fetch("comments", None)
    assert err.value.retry_after is None


def test_an_expired_token_is_auth_expired(api: responses.RequestsMock, caplog: pytest.LogCaptureFixture) -> None:
    api.get(f"{GRAPH}/{IG}/media", status=400, json=graph_error(190, 463, "Session has expired"))
    with caplog.at_level(logging.DEBUG), pytest.raises(AuthExpired, match="FACEBOOK_PAGE_TOKEN") as err:
        make().fetch("comments", None)
    assert TOKEN not in str(err.value) and TOKEN not in caplog.text


@pytest.mark.parametrize(
    ("failure", "permanent", "match"),
    [
        ({"status": 500, "json": {"error": {"code": 1, "message": "An unknown error occurred"}}}, False, "error 1"),
        ({"status": 503, "body": "<html>busy</html>", "content_type": "text/html"}, False, "HTTP 503"),
        ({"body": requests.exceptions.ReadTimeout(f"?access_token={TOKEN}")}, False, "timed out"),
        ({"body": "{oops", "content_type": "application/json"}, False, "not valid JSON"),
    ],
)
def test_server_errors_timeouts_and_bad_json(
    api: responses.RequestsMock, failure: dict[str, Any], permanent: bool, match: str
) -> None:
    api.get(f"{GRAPH}/me/conversations", **failure)
    with pytest.raises(ConnectorError, match=match) as err:
        make().fetch("messages", None)
    assert err.value.permanent is permanent
    assert TOKEN not in str(err.value)


# --- replies, hiding


def incoming(kind: str, external_id: str, minutes_ago: float = 10, **fields: Any) -> IncomingEvent:
    return IncomingEvent("instagram", kind, external_id, "text", NOW - timedelta(minutes=minutes_ago), **fields)


def test_a_comment_reply_posts_to_replies(api: responses.RequestsMock) -> None:
    api.post(f"{GRAPH}/c_1/replies", json={"id": "c_99"})
    event = incoming("comment", "c_1", parent_id="m_1", thread_id="m_1")
    assert make().post_reply(event, "Thank you 🌿 please call the office") == "c_99"
    assert api.calls[0].request.method == "POST"
    assert form(api.calls[0]) == {"message": ["Thank you 🌿 please call the office"], "access_token": [TOKEN]}


def test_a_reply_to_a_reply_goes_to_its_top_level_comment(api: responses.RequestsMock) -> None:
    api.post(f"{GRAPH}/c_1/replies", json={"id": "c_98"})
    assert make().post_reply(incoming("comment", "c_1r", parent_id="c_1", thread_id="m_1"), "Hi") == "c_98"


def test_tagged_media_cannot_be_replied_to(api: responses.RequestsMock) -> None:
    connector = make()
    with pytest.raises(ConnectorError, match="tagged") as err:
        connector.post_reply(incoming("mention", "t_1"), "Hi")
    assert err.value.permanent
    assert connector.find_reply(incoming("mention", "t_1"), "Hi") is None
    assert len(api.calls) == 0


def test_a_dm_reply_uses_the_send_api_on_the_linked_page(api: responses.RequestsMock) -> None:
    conv = {
        "id": "aWdfZ",
        "participants": {"data": [OWN, {"username": "jess.demo", "id": "6001"}]},
        "messages": {"data": [ig_message("m_1", 30)]},
    }
    api.get(f"{GRAPH}/aWdfZ", json=conv)
    api.post(f"{GRAPH}/me/messages", json={"recipient_id": "6001", "message_id": "m_out"})
    assert make().post_reply(incoming("dm", "m_1", 30, thread_id="aWdfZ"), "Llame a la oficina 🙂") == "m_out"
    assert form(api.calls[1]) == {
        "recipient": ['{"id": "6001"}'],
        "message": ['{"text": "Llame a la oficina 🙂"}'],
        "messaging_type": ["RESPONSE"],
        "access_token": [TOKEN],
    }


def test_a_dm_outside_the_window_is_refused(api: responses.RequestsMock) -> None:
    conv = {"id": "aWdfZ", "participants": {"data": [OWN, {"id": "6001"}]}, "messages": {"data": []}}
    api.get(f"{GRAPH}/aWdfZ", json=conv)
    with pytest.raises(ConnectorError, match="24-hour") as err:
        make().post_reply(incoming("dm", "m_1", 26 * 60, thread_id="aWdfZ"), "Hi")
    assert err.value.permanent and len(api.calls) == 1


def test_find_reply_on_replies(api: responses.RequestsMock) -> None:
    api.get(f"{GRAPH}/c_1/replies", json={"data": [ig_comment("c_7", 2, "Please call", **{"from": OWN})]})
    api.get(f"{GRAPH}/c_1/replies", json={"data": [ig_comment("c_8", 2, "Please call")]})
    connector = make()
    assert connector.find_reply(incoming("comment", "c_1"), "Please call") == "c_7"
    assert connector.find_reply(incoming("comment", "c_1"), "Please call") is None  # someone else's


def test_find_reply_on_the_recorded_replies_cannot_tell_the_author(api: responses.RequestsMock) -> None:
    replies = recorded("comments/replies.json")
    api.get(f"{GRAPH}/c_1/replies", json=replies)
    api.get(f"{GRAPH}/c_1/replies", json=replies)
    event = IncomingEvent("instagram", "comment", "c_1", "x", datetime(2020, 8, 1, tzinfo=UTC))
    with pytest.raises(CannotVerify):
        make().find_reply(event, replies["data"][0]["text"])
    assert make().find_reply(event, "something else") is None


@pytest.mark.parametrize(("hidden", "value"), [(True, "true"), (False, "false")])
def test_hide_comment_sends_hide(api: responses.RequestsMock, hidden: bool, value: str) -> None:
    api.post(f"{GRAPH}/c_1", json={"success": True})
    make().hide_comment(incoming("comment", "c_1"), hidden)
    assert form(api.calls[0]) == {"hide": [value], "access_token": [TOKEN]}


def test_hide_comment_refusal(api: responses.RequestsMock) -> None:
    body = graph_error(100, message="Comments the account owner wrote cannot be hidden")
    api.post(f"{GRAPH}/c_1", status=400, json=body)
    with pytest.raises(ConnectorError, match="Graph API error 100") as err:
        make().hide_comment(incoming("comment", "c_1"))
    assert err.value.permanent


# --- check_auth and configuration


ALL_SCOPES = [
    "instagram_basic",
    "instagram_manage_comments",
    "instagram_manage_messages",
    "pages_show_list",
    "pages_read_engagement",
    "pages_manage_metadata",
]


def test_check_auth_passes(api: responses.RequestsMock) -> None:
    user = {**recorded("users/user_fields.json"), "id": IG}
    api.get(f"{GRAPH}/{IG}", json=user)
    api.get(f"{GRAPH}/me", json={"id": PAGE, "instagram_business_account": {"id": IG}})
    api.get(f"{GRAPH}/debug_token", json={"data": {"is_valid": True, "scopes": ALL_SCOPES}})
    api.get(f"{GRAPH}/{IG}/media", json={"data": []})
    api.get(f"{GRAPH}/me/conversations", json={"data": []})
    make().check_auth()


def test_check_auth_spots_an_account_not_linked_to_the_page(api: responses.RequestsMock) -> None:
    api.get(f"{GRAPH}/{IG}", json={"id": IG, "username": "example_counseling"})
    api.get(f"{GRAPH}/me", json={"id": PAGE})
    with pytest.raises(AuthExpired, match="no Instagram account"):
        make().check_auth()


def test_check_auth_spots_an_unknown_account(api: responses.RequestsMock) -> None:
    api.get(f"{GRAPH}/{IG}", status=400, json=graph_error(100, 33, "Unsupported get request"))
    with pytest.raises(AuthExpired, match="ig_user_id"):
        make().check_auth()


def test_check_auth_names_missing_permissions(api: responses.RequestsMock) -> None:
    api.get(f"{GRAPH}/{IG}", json={"id": IG})
    api.get(f"{GRAPH}/me", json={"id": PAGE, "instagram_business_account": {"id": IG}})
    api.get(f"{GRAPH}/debug_token", json={"data": {"is_valid": True, "scopes": ALL_SCOPES[:2]}})
    with pytest.raises(AuthExpired, match="instagram_manage_messages"):
        make().check_auth()


def test_check_auth_probe_names_the_refused_permission(api: responses.RequestsMock) -> None:
    api.get(f"{GRAPH}/{IG}", json={"id": IG})
    api.get(f"{GRAPH}/me", json={"id": PAGE, "instagram_business_account": {"id": IG}})
    api.get(f"{GRAPH}/debug_token", status=400, json=graph_error(100))
    api.get(
        f"{GRAPH}/{IG}/media", status=403, json=graph_error(10, message="(#10) Application does not have permission")
    )
    with pytest.raises(AuthExpired, match="instagram_manage_comments"):
        make().check_auth()


@pytest.mark.parametrize(
    ("options", "secrets", "match"),
    [
        ({"ig_user_id": IG}, {}, "FACEBOOK_PAGE_TOKEN"),
        ({}, SECRETS, "'ig_user_id'"),
        ({"ig_user_id": "@example"}, SECRETS, "not a numeric id"),
        ({"ig_user_id": IG, "page_id": "x"}, SECRETS, "page_id"),
        ({"ig_user_id": IG, "max_media": "lots"}, SECRETS, "max_media"),
    ],
)
def test_configuration_errors(options: dict[str, object], secrets: dict[str, str], match: str) -> None:
    with pytest.raises(ConnectorError, match=match) as err:
        InstagramConnector(AccountSpec("ig", "instagram", options, secrets))
    assert err.value.permanent and TOKEN not in str(err.value)


def test_unknown_stream() -> None:
    with pytest.raises(ConnectorError, match="no stream") as err:
        make().fetch("followers", None)
    assert err.value.permanent
