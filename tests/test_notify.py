"""Crisis alerts by email over a real loopback SMTP server: content, failures, retries, escalation."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlmodel import Session, select

from monitor import staff
from monitor.app import App, open_app
from monitor.cycle import run_cycle
from monitor.db import Alert
from monitor.notify import EmailNotifier, LogNotifier
from monitor.settings import Settings
from monitor.storage import session_scope

from smtp_server import free_port, silent_server, smtp_server
from support import FakeClock, event, items

CRISIS = "i cant do this anymore, i want to die tonight. goodbye everyone"
AUTHOR = "midnight.rain.invented"


@pytest.fixture
def build(db_url: str, clock: FakeClock) -> Iterator[object]:
    """Build an App whose alert channels are the log and email to the given SMTP port."""
    apps: list[App] = []

    def factory(port: int, **smtp: object) -> App:
        options: dict[str, object] = {
            "monitor_database_url": db_url,
            "smtp_host": "127.0.0.1",
            "smtp_port": port,
            "smtp_security": "none",
            "smtp_from": "monitor@practice.invalid",
            "smtp_timeout": 1.0,
        }
        settings = Settings(**{**options, **smtp})  # type: ignore[arg-type]
        app = open_app(settings, notifiers=[LogNotifier(), EmailNotifier(settings)], clock=clock)
        from connectors import AccountSpec
        from connectors.demo import DemoConnector

        for spec in app.policy.accounts:
            chosen = (
                items("messages", event("m1", CRISIS, kind="dm", author=AUTHOR)) if spec.platform == "facebook" else []
            )
            app.connectors[spec.name] = DemoConnector(AccountSpec(spec.name, spec.platform), items=chosen, clock=clock)
        apps.append(app)
        return app

    yield factory
    for app in apps:
        app.engine.dispose()


def alert_row(app: App) -> Alert:
    with Session(app.engine) as s:
        return s.exec(select(Alert).order_by(Alert.id.desc())).first()  # type: ignore[union-attr,return-value]


def test_crisis_alert_email_is_multipart_and_carries_no_text_or_author(build) -> None:  # type: ignore[no-untyped-def]
    with smtp_server() as (inbox, port):
        app = build(port)
        report = run_cycle(app)
    [item_id] = report.urgent_ids
    [message] = inbox.messages
    assert inbox.envelopes == [["oncall@example-counseling.example"]]
    assert message.is_multipart()
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert f"item {item_id}" in text and f"/items/{item_id}" in html
    assert "facebook" in text and "dm" in text
    for part in (message["Subject"], text, html):
        assert "want to die" not in part and "goodbye" not in part and AUTHOR not in part
    assert alert_row(app).delivered_at is not None


def test_smtp_down_is_recorded_retried_and_never_blocks_polling(build, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    port = free_port()  # nothing listens here yet
    app = build(port)
    report = run_cycle(app)
    assert report.new_events == 1 and not report.failed_streams
    row = alert_row(app)
    assert row.delivered_at is None and row.attempts == 1
    assert row.channels_done == ["log"]  # the log channel worked; email is retried alone
    assert "cannot reach the mail server" in (row.last_error or "")
    with session_scope(app.engine) as s:
        assert [a.id for a in staff.undelivered_alerts(s)] == [row.id]
    with smtp_server() as (inbox, live_port):
        app.settings.smtp_port = live_port
        assert app.deliver_alerts() == 0  # backing off
        clock.advance(minutes=2)
        assert app.deliver_alerts() == 1
        assert app.deliver_alerts() == 0
    assert len(inbox.messages) == 1
    assert alert_row(app).channels_done == ["log", "email"]


def test_smtp_refusing_the_message_is_a_recorded_retry(build) -> None:  # type: ignore[no-untyped-def]
    with smtp_server() as (inbox, port):
        inbox.refuse = True
        app = build(port)
        run_cycle(app)
    row = alert_row(app)
    assert row.delivered_at is None and "refused" in (row.last_error or "")


def test_smtp_timeout_is_a_recorded_retry(build) -> None:  # type: ignore[no-untyped-def]
    with silent_server() as port:
        app = build(port, smtp_timeout=0.3)
        run_cycle(app)
    row = alert_row(app)
    assert row.delivered_at is None and "did not answer" in (row.last_error or "")


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_wrong_smtp_password_is_reported_without_the_password(build) -> None:  # type: ignore[no-untyped-def]
    with smtp_server(user="monitor", password="right-horse") as (inbox, port):
        app = build(port, smtp_username="monitor", smtp_password="wrong-battery")
        run_cycle(app)
        assert inbox.messages == []
        row = alert_row(app)
        assert "user name or password" in (row.last_error or "") and "wrong-battery" not in (row.last_error or "")
        app.settings.smtp_password = type(app.settings.smtp_password)("right-horse")
        app.clock.advance(minutes=2)  # type: ignore[attr-defined]
        assert app.deliver_alerts() == 1
        assert len(inbox.messages) == 1


def test_escalation_after_the_policy_minutes_until_acknowledged(build, clock: FakeClock) -> None:  # type: ignore[no-untyped-def]
    with smtp_server() as (inbox, port):
        app = build(port)
        [item_id] = run_cycle(app).urgent_ids
        clock.advance(minutes=14)
        assert app.escalate() == []
        clock.advance(minutes=1)
        assert app.escalate() == [item_id]
        assert inbox.envelopes[-1] == ["director@example-counseling.example"]
        assert "ESCALATION 1" in inbox.messages[-1]["Subject"]
        assert app.escalate() == []  # not again until the repeat interval passes
        clock.advance(minutes=15)
        assert app.escalate() == [item_id]
        assert "ESCALATION 2" in inbox.messages[-1]["Subject"]
        with session_scope(app.engine) as s:
            staff.approve(s, app.policy, item_id, "Dana", clock())
        clock.advance(minutes=60)
        assert app.escalate() == []  # acknowledged: escalation stops
        assert len(inbox.messages) == 3
