"""poll -> store once -> classify -> decide -> queue/alert, on a real SQLite file."""

from __future__ import annotations

import logging

import pytest
from sqlmodel import Session, func, select

from monitor.cycle import run_cycle
from monitor.db import Alert, Cursor, Detection, Event, Reply

from support import AppFactory, FakeClock, RecordingNotifier, event, items

CRISIS = "I can't go on. I have the pills lined up and I'm going to end my life tonight."
ADMIN = "Can I reschedule my appointment to Friday afternoon?"


def count(app_engine: object, model: type) -> int:
    with Session(app_engine) as s:  # type: ignore[arg-type]
        return int(s.exec(select(func.count()).select_from(model)).one())


def test_repolling_the_same_page_adds_nothing(make_app: AppFactory) -> None:
    app = make_app(facebook=items("comments", event("c1"), event("c2", ADMIN)))
    spec = app.policy.account("demo-facebook")
    assert spec is not None
    first = app.poll(spec, "comments")
    assert first is not None and first.new_events == 2
    with Session(app.engine) as s:
        cursor = s.exec(select(Cursor)).one()
        cursor.value = None  # as if the cursor had been lost: the whole page comes again
        s.add(cursor)
        s.commit()
    again = app.poll(spec, "comments")
    assert again is not None and (again.new_events, again.seen_before) == (0, 2)
    assert count(app.engine, Event) == 2
    assert count(app.engine, Reply) == 1


def test_cursor_advances_with_the_events(make_app: AppFactory) -> None:
    app = make_app(instagram=items("comments", event("i1", platform="instagram")))
    spec = app.policy.account("demo-instagram")
    assert spec is not None
    app.poll(spec, "comments")
    with Session(app.engine) as s:
        assert s.exec(select(Cursor.value).where(Cursor.stream == "comments")).one() == "1"


def test_crisis_is_urgent_alerted_at_once_without_text(make_app: AppFactory, notifier: RecordingNotifier) -> None:
    app = make_app(facebook=items("messages", event("m1", CRISIS, kind="dm", author="night.owl.invented")))
    report = run_cycle(app)
    assert len(report.urgent_ids) == 1
    [alert] = notifier.alerts
    assert (alert.item_id, alert.platform, alert.kind) == (report.urgent_ids[0], "facebook", "dm")
    assert alert.link.endswith(f"/items/{alert.item_id}")
    rendered = alert.summary() + repr(alert)
    assert "pills" not in rendered and "night.owl" not in rendered
    with Session(app.engine) as s:
        reply = s.exec(select(Reply)).one()
        assert reply.template.startswith("crisis")
        assert "911" in reply.text and "988" in reply.text


def test_reviews_and_follows_never_get_a_reply(make_app: AppFactory, notifier: RecordingNotifier) -> None:
    app = make_app(
        google=items(
            "reviews",
            event("r1", CRISIS, platform="google", kind="review"),
            event("r2", ADMIN, platform="google", kind="review"),
        ),
        facebook=items("followers", event("f1", "", kind="follow", author="new.follower.invented")),
    )
    run_cycle(app)
    assert count(app.engine, Reply) == 0
    assert len(notifier.alerts) == 1  # a review revealing crisis content still alerts (P7)
    with Session(app.engine) as s:
        follow = s.exec(select(Event).where(Event.kind == "follow")).one()
        assert follow.author_handle is None  # P2: follower identity is not kept by default


def test_follower_identity_kept_only_when_the_policy_says_so(make_app: AppFactory) -> None:
    from monitor.policy import example_policy_text

    text = example_policy_text().replace("keep_follower_identity = false", "keep_follower_identity = true")
    app = make_app(text, facebook=items("followers", event("f1", "", kind="follow", author="fan.invented")))
    run_cycle(app)
    with Session(app.engine) as s:
        assert s.exec(select(Event.author_handle)).one() == "fan.invented"


def test_alert_delivery_failure_is_recorded_retried_and_never_stops_polling(
    make_app: AppFactory, notifier: RecordingNotifier, clock: FakeClock
) -> None:
    notifier.fail = True
    app = make_app(
        facebook=items("messages", event("m1", CRISIS, kind="dm")),
        x=items("mentions", event("x1", ADMIN, platform="x", kind="mention")),
    )
    report = run_cycle(app)
    assert report.new_events == 2 and not report.failed_streams
    with Session(app.engine) as s:
        alert = s.exec(select(Alert)).one()
        assert alert.delivered_at is None and alert.attempts == 1 and "down" in (alert.last_error or "")
    notifier.fail = False
    assert app.deliver_alerts() == 0  # backing off: not due yet
    clock.advance(minutes=5)
    assert app.deliver_alerts() == 1
    assert len(notifier.alerts) == 1
    assert app.deliver_alerts() == 0  # delivered once


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"caf\xe9 is closed \xff today", "caf\ufffd is closed \ufffd today"),
        ("lone \udcff surrogate", "lone \ufffd surrogate"),
        ("nul\x00byte", "nulbyte"),
        ("", ""),
    ],
)
def test_bad_text_is_repaired_and_stored_once(
    make_app: AppFactory, raw: str | bytes, expected: str, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(facebook=items("comments", event("c1", raw)))
    run_cycle(app)
    run_cycle(app)
    with Session(app.engine) as s:
        assert list(s.exec(select(Event.text))) == [expected]
    if expected != raw:
        assert any("replaced" in r.getMessage() for r in caplog.records)


def test_megabyte_text_is_stored_whole_and_classified(make_app: AppFactory, caplog: pytest.LogCaptureFixture) -> None:
    big = ("lovely post " * 90_000) + ADMIN
    app = make_app(facebook=items("comments", event("big", big)))
    caplog.set_level(logging.WARNING)
    report = run_cycle(app)
    assert report.new_events == 1
    with Session(app.engine) as s:
        stored = s.exec(select(Event)).one()
        assert len(stored.text) == len(big)
        assert "admin_request" in s.exec(select(Detection)).one().labels
    assert any("unusually long text" in r.getMessage() for r in caplog.records)


def test_malformed_event_is_skipped_with_a_clear_warning(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app(facebook=items("comments", event(""), event("ok1"), event("k1", kind="tweetstorm")))
    report = run_cycle(app)
    assert report.new_events == 1
    assert sum(p.skipped for p in report.polls) == 2
    assert any("malformed event" in r.getMessage() for r in caplog.records)


def test_a_failing_account_does_not_stop_the_others(make_app: AppFactory, caplog: pytest.LogCaptureFixture) -> None:
    from connectors import AuthExpired, Page

    app = make_app(x=items("mentions", event("x1", ADMIN, platform="x", kind="mention")))

    class Expired:
        name = "broken"
        streams = ("comments", "messages", "followers")

        def fetch(self, stream: str, cursor: str | None) -> Page:
            raise AuthExpired("token expired (code 190)")

    app.connectors["demo-facebook"] = Expired()  # type: ignore[assignment]
    report = run_cycle(app)
    assert report.new_events == 1
    assert report.failed_streams == [
        "demo-facebook/comments",
        "demo-facebook/messages",
        "demo-facebook/followers",
    ]
    failures = [r for r in caplog.records if "polling failed" in r.getMessage()]
    assert len(failures) == 1  # logged once, not once per stream or per cycle
    run_cycle(app)
    assert len([r for r in caplog.records if "polling failed" in r.getMessage()]) == 1


def test_rate_limit_pauses_only_that_account_until_the_reset(make_app: AppFactory, clock: FakeClock) -> None:
    from connectors import Page, RateLimited

    app = make_app(x=items("mentions", event("x1", ADMIN, platform="x", kind="mention")))
    calls: list[str] = []

    class Limited:
        name = "limited"
        streams = ("comments", "messages", "followers")

        def fetch(self, stream: str, cursor: str | None) -> Page:
            calls.append(stream)
            raise RateLimited("HTTP 429", retry_after=900)

    app.connectors["demo-facebook"] = Limited()  # type: ignore[assignment]
    run_cycle(app)
    assert calls == ["comments"]  # the other two streams of that account were not even tried
    clock.advance(seconds=899)
    run_cycle(app)
    assert calls == ["comments"]
    clock.advance(seconds=2)
    run_cycle(app)
    assert calls == ["comments", "comments"]


def test_expired_credentials_tell_staff_once(
    make_app: AppFactory, clock: FakeClock, notifier: RecordingNotifier
) -> None:
    from connectors import AuthExpired, Page

    app = make_app()

    class Expired:
        name = "expired"
        streams = ("comments", "messages", "followers")

        def fetch(self, stream: str, cursor: str | None) -> Page:
            raise AuthExpired("the Page token has expired (code 190); renew FACEBOOK_PAGE_TOKEN")

    app.connectors["demo-facebook"] = Expired()  # type: ignore[assignment]
    run_cycle(app)
    clock.advance(hours=1)
    run_cycle(app)
    assert len(notifier.notices) == 1
    subject, text = notifier.notices[0]
    assert "demo-facebook" in subject and "FACEBOOK_PAGE_TOKEN" in text


def test_a_bug_on_one_stream_does_not_stop_the_crisis_alert_of_another(
    make_app: AppFactory, notifier: RecordingNotifier, caplog: pytest.LogCaptureFixture
) -> None:
    """An unexpected exception (a bug, a malformed payload the connector let through) is logged by type
    and place only; its message may carry someone's text, so it never reaches the log."""
    from connectors import Page

    secret = "Dana's message text that must not be logged"
    app = make_app(x=items("mentions", event("x1", "I want to kill myself tonight", platform="x", kind="mention")))

    class Buggy:
        name = "buggy"
        streams = ("comments", "messages", "followers")

        def fetch(self, stream: str, cursor: str | None) -> Page:
            raise ValueError(secret)

    app.connectors["demo-facebook"] = Buggy()  # type: ignore[assignment]
    report = run_cycle(app)
    assert report.new_events == 1 and report.urgent_ids and notifier.alerts
    assert "demo-facebook/comments" in report.failed_streams
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "failed unexpectedly: ValueError at tests/test_pipeline.py" in logged
    assert secret not in logged
