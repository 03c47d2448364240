"""RSS/Atom feeds: `requests` (served by `responses`) and the real feedparser on canned bytes.

The feeds are written here, modelled on a Google Alerts Atom feed and a plain RSS 2.0 feed
(PLATFORMS §4.4); the alert feed's address carries a marker that must never reach a message or log.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
import requests
import responses

from connectors.base import AccountSpec, AuthExpired, ConnectorError, IncomingEvent, RateLimited
from connectors.rss import RssConnector
from connectors.rss_parse import parse_entries, parse_feed_bytes, strip_markup, unwrap_google_redirect

NOW = datetime(2030, 5, 1, 12, 0, tzinfo=UTC)
FEED = "https://www.google.com/alerts/feeds/00000000000000000001/PRIVATEFEEDKEY42"
ATOM = "application/atom+xml; charset=utf-8"


def ts(hours_ago: float) -> str:
    return (NOW - timedelta(hours=hours_ago)).isoformat().replace("+00:00", "Z")


def alert_entry(
    entry_id: str,
    hours_ago: float,
    title: str = "&lt;b&gt;Example Counseling&lt;/b&gt; in the news",
    content: str = "The &lt;b&gt;practice&lt;/b&gt; opened a new office",
) -> str:
    link = f"https://www.google.com/url?rct=j&amp;sa=t&amp;url=https://news.example.org/{entry_id}%3Fa%3D1&amp;ct=ga"
    return (
        f"<entry><id>tag:google.com,2013:googlealerts/feed:{entry_id}</id>"
        f'<title type="html">{title}</title><link href="{link}"></link>'
        f"<published>{ts(hours_ago)}</published><updated>{ts(hours_ago)}</updated>"
        f'<content type="html">{content}</content><author><name></name></author></entry>'
    )


def alert_feed(*entries: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="utf-8"?><feed xmlns="http://www.w3.org/2005/Atom">'
        "<id>tag:google.com,2005:reader/user/00000000000000000001/state/com.google/alerts/1</id>"
        '<title>Google Alert - "Example Counseling"</title>'
        f"<updated>{ts(0)}</updated>{''.join(entries)}</feed>"
    ).encode()


def make(platform: str = "rss", url: str = FEED) -> RssConnector:
    return RssConnector(AccountSpec("alerts", platform, {"url": url}), clock=lambda: NOW)


@pytest.fixture
def web() -> Iterator[responses.RequestsMock]:
    with responses.RequestsMock() as rsps:
        yield rsps


def serve(web: responses.RequestsMock, data: bytes, status: int = 200, **headers: str) -> None:
    web.get(FEED, body=data, status=status, content_type=ATOM, headers=headers)


# --- reading


def test_first_poll_reads_a_google_alert_feed(web: responses.RequestsMock) -> None:
    serve(
        web,
        alert_feed(alert_entry("901", 2), alert_entry("902", 24 * 8)),
        ETag='"v1"',
        **{"Last-Modified": "Wed, 01 May 2030 11:00:00 GMT"},
    )
    page = make("healthgrades").fetch("mentions", None)
    (event,) = page.events  # the 8-day-old entry is history, not news
    assert (event.platform, event.kind) == ("healthgrades", "mention")  # the account's platform
    assert event.external_id == "tag:google.com,2013:googlealerts/feed:901"
    assert event.text == "Example Counseling in the news\nThe practice opened a new office"
    assert event.url == "https://news.example.org/901?a=1"
    assert (event.created_at, event.author_handle) == (NOW - timedelta(hours=2), None)
    assert json.loads(page.next_cursor or "") == {
        "etag": '"v1"',
        "modified": "Wed, 01 May 2030 11:00:00 GMT",
        "newest": (NOW - timedelta(hours=2)).isoformat(),
    }
    sent = web.calls[0].request.headers
    assert "If-None-Match" not in sent and "If-Modified-Since" not in sent
    assert "atom" in sent["Accept"]


def test_incremental_poll_is_conditional_and_keeps_a_day_of_overlap(web: responses.RequestsMock) -> None:
    cursor = json.dumps(
        {"etag": '"v1"', "modified": "Wed, 01 May 2030 09:00:00 GMT", "newest": (NOW - timedelta(hours=3)).isoformat()}
    )
    serve(
        web,
        alert_feed(alert_entry("903", 1), alert_entry("901", 3), alert_entry("900", 20), alert_entry("899", 30)),
        ETag='"v2"',
    )
    page = make().fetch("mentions", cursor)
    assert [e.external_id.rsplit(":", 1)[1] for e in page.events] == ["903", "901", "900"]
    assert json.loads(page.next_cursor or "")["newest"] == (NOW - timedelta(hours=1)).isoformat()
    sent = web.calls[0].request.headers
    assert (sent["If-None-Match"], sent["If-Modified-Since"]) == ('"v1"', "Wed, 01 May 2030 09:00:00 GMT")


def test_not_modified_is_an_empty_page_with_the_cursor_unchanged(web: responses.RequestsMock) -> None:
    serve(web, b"", status=304)
    page = make().fetch("mentions", json.dumps({"etag": '"v1"', "modified": None, "newest": None}))
    assert (page.events, page.next_cursor) == ((), None)


def test_a_feed_is_one_document_no_paging(web: responses.RequestsMock) -> None:
    serve(web, alert_feed(*(alert_entry(str(n), n) for n in range(1, 21))))
    assert len(make().fetch("mentions", None).events) == 20
    assert len(web.calls) == 1


def test_an_empty_feed(web: responses.RequestsMock) -> None:
    serve(web, alert_feed(), ETag='"empty"')
    page = make().fetch("mentions", None)
    assert page.events == ()
    assert json.loads(page.next_cursor or "") == {"etag": '"empty"', "modified": None, "newest": None}


RSS = b"""<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel><title>Reviews</title>
<item><guid isPermaLink="false">rev-1</guid><title>Kind staff</title>
<description>&lt;p&gt;Five stars&lt;/p&gt;</description>
<pubDate>Wed, 01 May 2030 10:00:00 GMT</pubDate><author>reviewer@example.invalid (Pat)</author></item>
<item><title>No guid, a link</title><link>https://reviews.example.org/r/2</link></item>
<item><title>Neither guid nor link: skipped</title></item>
</channel></rss>"""


def test_rss_items_use_guid_then_link_and_undated_items_pass(
    web: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    web.get(FEED, body=RSS, content_type="application/rss+xml")
    with caplog.at_level(logging.WARNING):
        page = make().fetch("mentions", None)
    assert [(e.external_id, e.text) for e in page.events] == [
        ("rev-1", "Kind staff\nFive stars"),
        ("https://reviews.example.org/r/2", "No guid, a link"),
    ]
    assert page.events[0].author_handle == "reviewer@example.invalid (Pat)"
    assert page.events[1].created_at == NOW  # undated: the time it was fetched
    assert "skipped 1 entr" in caplog.text


def test_unicode_emoji_and_a_latin1_feed(web: responses.RequestsMock) -> None:
    serve(web, alert_feed(alert_entry("905", 1, title="Zoë’s clinic 🌿 — 心理", content="")))
    (event,) = make().fetch("mentions", None).events
    assert event.text == "Zoë’s clinic 🌿 — 心理"
    latin1 = (
        '<?xml version="1.0" encoding="iso-8859-1"?><rss version="2.0"><channel><item><guid>l1</guid>'
        "<title>Caf\xe9 th\xe9rapie</title></item></channel></rss>"
    )
    parsed = parse_feed_bytes(latin1.encode("latin-1"), "application/rss+xml; charset=iso-8859-1")
    entries, _ = parse_entries(parsed, platform="rss", fetched_at=NOW)
    assert entries[0].event.text == "Café thérapie"


def test_markup_and_redirects_helpers() -> None:
    assert strip_markup("<b>Example</b>  &amp; <i>Co</i>\n") == "Example & Co"
    assert strip_markup(None) == ""
    assert (
        unwrap_google_redirect("https://www.google.com/url?rct=j&url=https://a.example/x&ct=ga")
        == "https://a.example/x"
    )
    assert unwrap_google_redirect("https://www.google.com/url?url=javascript:alert(1)").startswith("https://www.google")
    assert unwrap_google_redirect("https://news.example.org/a") == "https://news.example.org/a"


def test_a_feed_with_small_defects_is_still_read(web: responses.RequestsMock, caplog: pytest.LogCaptureFixture) -> None:
    broken = alert_feed(alert_entry("906", 1)).replace(b"</feed>", b"<entry><id>x</id>")  # truncated at the end
    serve(web, broken)
    with caplog.at_level(logging.WARNING):
        events = make().fetch("mentions", None).events
    assert "tag:google.com,2013:googlealerts/feed:906" in [e.external_id for e in events]
    assert "defects" in caplog.text


def test_a_wrong_content_type_is_not_worth_a_warning(
    web: responses.RequestsMock, caplog: pytest.LogCaptureFixture
) -> None:
    web.get(FEED, body=alert_feed(alert_entry("908", 1)), content_type="text/plain")
    with caplog.at_level(logging.WARNING):
        assert len(make().fetch("mentions", None).events) == 1
    assert caplog.text == ""


# --- errors


@pytest.mark.parametrize("data", [b"<html><body>Sign in</body></html>", b'{"not": "a feed"}', b"\x00\xff garbage"])
def test_something_that_is_no_feed_is_a_connector_error(web: responses.RequestsMock, data: bytes) -> None:
    web.get(FEED, body=data, content_type="text/html")
    with pytest.raises(ConnectorError, match="not a readable RSS/Atom feed") as err:
        make().fetch("mentions", None)
    assert err.value.permanent is False
    assert "PRIVATEFEEDKEY42" not in str(err.value)


@pytest.mark.parametrize(
    ("headers", "retry_after"),
    [({"Retry-After": "120"}, 120.0), ({"Retry-After": "Wed, 01 May 2030 12:10:00 GMT"}, 600.0), ({}, None)],
)
def test_rate_limits(web: responses.RequestsMock, headers: dict[str, str], retry_after: float | None) -> None:
    web.get(FEED, status=429, headers=headers)
    with pytest.raises(RateLimited) as err:
        make().fetch("mentions", None)
    assert err.value.retry_after == retry_after


@pytest.mark.parametrize(
    ("status", "error", "permanent"),
    [
        (403, AuthExpired, True),
        (401, AuthExpired, True),
        (404, ConnectorError, True),
        (410, ConnectorError, True),
        (400, ConnectorError, True),
        (500, ConnectorError, False),
        (503, ConnectorError, False),
    ],
)
def test_http_errors(
    web: responses.RequestsMock,
    caplog: pytest.LogCaptureFixture,
    status: int,
    error: type[ConnectorError],
    permanent: bool,
) -> None:
    web.get(FEED, status=status, body="nope")
    with caplog.at_level(logging.DEBUG), pytest.raises(error) as err:
        make().fetch("mentions", None)
    assert err.value.permanent is permanent
    assert "PRIVATEFEEDKEY42" not in str(err.value) and "PRIVATEFEEDKEY42" not in caplog.text


@pytest.mark.parametrize("failure", [requests.exceptions.ReadTimeout(), requests.exceptions.ConnectionError(FEED)])
def test_timeouts_and_connection_errors_are_temporary(web: responses.RequestsMock, failure: Exception) -> None:
    web.get(FEED, body=failure)
    with pytest.raises(ConnectorError) as err:
        make().fetch("mentions", None)
    assert err.value.permanent is False
    assert "PRIVATEFEEDKEY42" not in str(err.value)
    assert err.value.__cause__ is None and err.value.__suppress_context__


def test_an_unreadable_cursor_starts_afresh(web: responses.RequestsMock) -> None:
    serve(web, alert_feed(alert_entry("907", 1)))
    assert len(make().fetch("mentions", "{not json").events) == 1
    assert "If-None-Match" not in web.calls[0].request.headers


def test_unknown_stream() -> None:
    with pytest.raises(ConnectorError, match="no stream") as err:
        make().fetch("reviews", None)
    assert err.value.permanent


# --- never replies; check_auth; configuration


def test_post_reply_refuses_without_a_request(web: responses.RequestsMock) -> None:
    event = IncomingEvent("rss", "mention", "m1", "text", NOW)
    connector = make()
    with pytest.raises(ConnectorError, match="read-only") as err:
        connector.post_reply(event, "Thanks")
    assert err.value.permanent
    assert connector.find_reply(event, "Thanks") is None
    assert len(web.calls) == 0


def test_check_auth_accepts_a_feed_and_refuses_a_web_page(web: responses.RequestsMock) -> None:
    serve(web, alert_feed())
    make().check_auth()
    web.replace(responses.GET, FEED, body=b"<html><body>Google Alerts</body></html>", content_type="text/html")
    with pytest.raises(ConnectorError, match="'url' option") as err:
        make().check_auth()
    assert err.value.permanent and not isinstance(err.value, AuthExpired)


@pytest.mark.parametrize("options", [{}, {"url": ""}, {"url": "ftp://example.org/feed"}, {"url": 7}])
def test_the_url_option_is_required(options: dict[str, object]) -> None:
    with pytest.raises(ConnectorError, match="'url' option") as err:
        RssConnector(AccountSpec("alerts", "rss", options))
    assert err.value.permanent
