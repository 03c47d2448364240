"""Dispatch posts each approved reply at most once, including across a crash mid-post."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from sqlmodel import Session, select

from connectors import AuthExpired, ConnectorError, IncomingEvent, RateLimited
from connectors.demo import DemoConnector
from monitor import staff
from monitor.app import App
from monitor.cycle import run_cycle
from monitor.db import Reply
from monitor.storage import session_scope

from support import AppFactory, FakeClock, event, items

ASK = "What should I do about my sister's drinking? Can you help me?"


def queued_app(make_app: AppFactory) -> tuple[App, int]:
    app = make_app(facebook=items("messages", event("m1", ASK, kind="dm")))
    run_cycle(app)
    with session_scope(app.engine) as s:
        [item] = [i for i in staff.list_queue(s, app.clock()) if i.state == "queued"]
    return app, item.id


def approve(app: App, item_id: int) -> None:
    with session_scope(app.engine) as s:
        staff.approve(s, app.policy, item_id, "Dana", app.clock())


def reply_of(app: App) -> Reply:
    with Session(app.engine) as s:
        return s.exec(select(Reply)).one()


def demo(app: App) -> DemoConnector:
    connector = app.connectors["demo-facebook"]
    assert isinstance(connector, DemoConnector)
    return connector


def test_nothing_is_posted_without_approval(make_app: AppFactory) -> None:
    app, _ = queued_app(make_app)
    run_cycle(app)
    run_cycle(app)
    assert demo(app).posted == {}
    assert reply_of(app).state == "queued"


def test_approved_reply_is_posted_once(make_app: AppFactory) -> None:
    app, item_id = queued_app(make_app)
    approve(app, item_id)
    assert app.dispatch().sent == [item_id]
    assert app.dispatch().sent == []
    assert len(demo(app).posted) == 1
    reply = reply_of(app)
    assert reply.state == "sent" and reply.external_reply_id in demo(app).posted and reply.attempts == 1


def test_two_dispatchers_cannot_both_post(make_app: AppFactory) -> None:
    """The claim is a conditional update: a second claimer of the same reply gets nothing."""
    from monitor.outbox import _claim

    app, item_id = queued_app(make_app)
    approve(app, item_id)
    reply_id = reply_of(app).id
    assert reply_id is not None
    assert _claim(app.engine, reply_id, app.clock()) is True
    assert _claim(app.engine, reply_id, app.clock()) is False


class Failing(DemoConnector):
    """Posting raises the error it is given."""

    def __init__(self, base: DemoConnector, error: Exception) -> None:
        super().__init__(base.spec, items=[])
        self.error = error

    def post_reply(self, event: IncomingEvent, text: str) -> str:
        raise self.error


@pytest.mark.parametrize(
    ("error", "state", "bucket"),
    [
        (ConnectorError("HTTP 503 from platform"), "approved", "retry_later"),
        (RateLimited("slow down", retry_after=900), "approved", "retry_later"),
        (AuthExpired("token expired (code 190)"), "approved", "retry_later"),
        (ConnectorError("comment was deleted", permanent=True), "failed", "failed"),
        (RuntimeError("bug after the request went out?"), "needs_review", "needs_review"),
    ],
)
def test_errors_while_posting(make_app: AppFactory, error: Exception, state: str, bucket: str) -> None:
    app, item_id = queued_app(make_app)
    approve(app, item_id)
    app.connectors["demo-facebook"] = Failing(demo(app), error)
    result = app.dispatch()
    assert getattr(result, bucket) == [item_id]
    reply = reply_of(app)
    assert reply.state == state and reply.last_error
    if state == "failed":
        with session_scope(app.engine) as s:
            [item] = [i for i in staff.list_queue(s, app.clock()) if i.id == item_id]
        assert item.last_error == "comment was deleted"  # shown in `monitor queue`


def test_transient_errors_back_off_then_give_up(make_app: AppFactory, clock: FakeClock) -> None:
    app, item_id = queued_app(make_app)
    approve(app, item_id)
    app.connectors["demo-facebook"] = Failing(demo(app), ConnectorError("HTTP 502"))
    assert app.dispatch().retry_later == [item_id]
    assert app.dispatch().retry_later == []  # not due yet: backing off
    for _ in range(10):
        clock.advance(hours=1)
        app.dispatch()
    reply = reply_of(app)
    assert reply.state == "failed" and reply.attempts == 5


def test_rate_limit_waits_for_the_platforms_reset(make_app: AppFactory, clock: FakeClock) -> None:
    app, item_id = queued_app(make_app)
    approve(app, item_id)
    base = demo(app)
    app.connectors["demo-facebook"] = Failing(base, RateLimited("429", retry_after=600))
    app.dispatch()
    app.connectors["demo-facebook"] = base
    clock.advance(seconds=599)
    assert app.dispatch().sent == []
    clock.advance(seconds=2)
    assert app.dispatch().sent == [item_id]


def stuck_in_sending(make_app: AppFactory, clock: FakeClock) -> tuple[App, int]:
    """Simulate the state a crash leaves: claimed (sending), outcome unknown, some minutes ago."""
    from monitor.outbox import _claim

    app, item_id = queued_app(make_app)
    approve(app, item_id)
    reply_id = reply_of(app).id
    assert reply_id is not None and _claim(app.engine, reply_id, clock())
    clock.advance(minutes=10)
    return app, item_id


def test_crash_recovery_confirms_a_reply_that_was_posted(make_app: AppFactory, clock: FakeClock) -> None:
    app, item_id = stuck_in_sending(make_app, clock)
    connector = demo(app)
    reply = reply_of(app)
    posted_id = connector.post_reply(IncomingEvent("facebook", "dm", "m1", ASK, clock()), reply.text)
    result = app.dispatch()
    assert result.recovered == [item_id] and result.sent == []
    assert len(connector.posted) == 1  # not posted again
    assert reply_of(app).external_reply_id == posted_id and reply_of(app).state == "sent"


def test_crash_recovery_reposts_only_when_the_platform_says_it_is_absent(
    make_app: AppFactory, clock: FakeClock
) -> None:
    app, item_id = stuck_in_sending(make_app, clock)
    connector = demo(app)
    connector.posted["unrelated"] = ("other-event", "other text")  # it has memory, and no such reply
    result = app.dispatch()
    assert result.recovered == [item_id]
    assert result.sent == [item_id]
    assert reply_of(app).state == "sent" and len(connector.posted) == 2


def test_crash_recovery_when_the_platform_cannot_tell_goes_to_review(make_app: AppFactory, clock: FakeClock) -> None:
    app, item_id = stuck_in_sending(make_app, clock)
    result = app.dispatch()  # a fresh demo connector has no memory: CannotVerify
    assert result.needs_review == [item_id]
    assert demo(app).posted == {}
    assert reply_of(app).state == "needs_review"
    assert app.dispatch().sent == []  # never re-posted blindly


def test_a_fresh_sending_reply_is_left_to_the_process_that_claimed_it(make_app: AppFactory, clock: FakeClock) -> None:
    from monitor.outbox import _claim

    app, item_id = queued_app(make_app)
    approve(app, item_id)
    assert _claim(app.engine, reply_of(app).id or 0, clock())
    clock.advance(seconds=30)
    assert app.dispatch().recovered == []
    assert reply_of(app).state == "sending"


CRASHING_DISPATCHER = textwrap.dedent(
    """
    import os, sys
    from connectors.demo import DemoConnector
    from monitor.app import open_app
    from monitor.settings import Settings

    class DiesMidPost(DemoConnector):
        def post_reply(self, event, text):
            os._exit(137)  # the process dies while the platform call is in flight

    app = open_app(Settings(monitor_database_url=sys.argv[1]))
    spec = app.policy.account("demo-facebook")
    from connectors import AccountSpec
    app.connectors["demo-facebook"] = DiesMidPost(AccountSpec(spec.name, spec.platform), items=[])
    app.dispatch()
    """
)


def test_real_crash_during_dispatch_is_never_reposted_blindly(
    make_app: AppFactory, clock: FakeClock, db_url: str, tmp_path: Path
) -> None:
    app, item_id = queued_app(make_app)
    approve(app, item_id)
    script = tmp_path / "crash.py"
    script.write_text(CRASHING_DISPATCHER)
    died = subprocess.run([sys.executable, str(script), db_url], capture_output=True, timeout=120)
    assert died.returncode == 137
    assert reply_of(app).state == "sending"
    clock.now = reply_of(app).claimed_at  # type: ignore[assignment]
    clock.advance(minutes=3)
    result = app.dispatch()
    assert result.needs_review == [item_id] and result.sent == []
    assert demo(app).posted == {}
