"""The weekly digest: the right counts for a seeded week, sent once as multipart mail, no text."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from connectors.demo import DemoConnector, DemoItem
from monitor import staff
from monitor.app import App
from monitor.cycle import run_cycle
from monitor.digest import last_digest_time
from monitor.digest_mail import digest_for, render, send_scheduled_digest
from monitor.policy import load_policy
from monitor.storage import session_scope

from smtp_server import smtp_server
from support import AppFactory, FakeClock, event

ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
CRISIS = "I want to kill myself tonight, I have the pills ready"
ADMIN = "Can I reschedule my appointment to Thursday afternoon?"
ASK = "What should I do about my husband yelling at me every night? Please give me advice"
SECRET_WORDS = ("pills", "yelling", "Thursday", "author.invented")
# Monday 23 Nov 2026, 08:00 in Chicago (the example policy's digest time) is 14:00 UTC.
DIGEST_MOMENT = datetime(2026, 11, 23, 14, 0, tzinfo=UTC)


def arrive(app: App, clock: FakeClock, when: datetime, platform: str, *new: DemoItem) -> None:
    """Make `new` items appear on the platform's demo account at `when`, and poll."""
    clock.now = when
    spec = next(a for a in app.policy.accounts if a.platform == platform)
    connector = app.connectors[spec.name]
    assert isinstance(connector, DemoConnector)
    connector.items.extend(new)
    run_cycle(app)


def find(app: App, platform: str, kind: str) -> int:
    with session_scope(app.engine) as s:
        return max(i.id for i in staff.list_queue(s, app.clock()) if i.platform == platform and i.kind == kind)


@pytest.fixture
def seeded(make_app: AppFactory, clock: FakeClock) -> App:
    app = make_app()
    week = DIGEST_MOMENT - timedelta(days=7)
    ev = lambda i, t, **kw: event(i, t, author="author.invented", **kw)  # noqa: E731
    # the week before: two admin questions
    arrive(
        app,
        clock,
        week - timedelta(days=3),
        "facebook",
        DemoItem("comments", ev("old1", ADMIN)),
        DemoItem("comments", ev("old2", ADMIN)),
    )
    # this week
    arrive(
        app,
        clock,
        week + timedelta(days=1),
        "facebook",
        DemoItem("messages", ev("m1", CRISIS, kind="dm")),
        DemoItem("comments", ev("c1", ADMIN)),
    )
    crisis_id, admin_id = find(app, "facebook", "dm"), find(app, "facebook", "comment")
    clock.advance(minutes=10)
    with session_scope(app.engine) as s:
        staff.approve(s, app.policy, crisis_id, "Dana", clock())
    clock.advance(minutes=20)
    with session_scope(app.engine) as s:
        staff.approve(s, app.policy, admin_id, "Dana", clock())
    app.dispatch()
    arrive(
        app,
        clock,
        week + timedelta(days=3),
        "instagram",
        DemoItem("messages", ev("i1", ASK, platform="instagram", kind="dm")),
    )
    ask_id = find(app, "instagram", "dm")
    clock.advance(hours=2)
    with session_scope(app.engine) as s:
        staff.reject(s, ask_id, "Lee", clock(), false_alarm=True)
    arrive(
        app,
        clock,
        week + timedelta(days=4),
        "google",
        DemoItem("reviews", replace(ev("g1", "Kind people.", platform="google", kind="review"), rating=4)),
    )
    return app


def test_digest_counts_for_a_seeded_week(seeded: App, clock: FakeClock) -> None:
    clock.now = DIGEST_MOMENT + timedelta(minutes=5)
    end = last_digest_time(clock(), seeded.policy)
    assert end == DIGEST_MOMENT
    d = digest_for(seeded, end)
    assert (d.total.this_week, d.total.last_week) == (4, 2)
    platforms = {c.name: (c.this_week, c.last_week) for c in d.by_platform}
    assert platforms == {"facebook": (2, 2), "instagram": (1, 0), "google": (1, 0)}
    labels = {c.name: c.this_week for c in d.by_label}
    assert labels["crisis"] == 1 and labels["admin_request"] >= 1
    [crisis] = d.crisis
    assert crisis.ack_seconds == 600
    assert d.approval_median_seconds == (600 + 1800) / 2 and d.approval_worst_seconds == 1800
    assert (d.replies_sent, d.replies_rejected) == (2, 1)
    assert len(d.pending) == 2 and all(age > 9 * 86400 for _, age in d.pending)  # last week's, still waiting
    [google] = d.reviews
    assert (google.site, google.count, google.average) == ("google", 1, 4.0)
    assert sum(r.false_alarms for r in d.rules) >= 1
    assert sum(n for _, n in d.per_day) == 4


def test_digest_email_is_multipart_sent_once_and_has_no_message_text(seeded: App, clock: FakeClock) -> None:
    clock.now = DIGEST_MOMENT + timedelta(minutes=5)
    with smtp_server() as (inbox, port):
        seeded.settings.smtp_host, seeded.settings.smtp_port = "127.0.0.1", port
        seeded.settings.smtp_security, seeded.settings.smtp_from = "none", "monitor@practice.invalid"
        assert send_scheduled_digest(seeded) is True
        assert send_scheduled_digest(seeded) is False  # one per week, even across restarts
    [message] = inbox.messages
    assert inbox.envelopes == [["office@example-counseling.example"]]
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "4 this week" in text and "crisis" in text and "acknowledged after 10 min" in text
    assert "google: 1, average 4.0 stars" in text
    assert "<table" in html and seeded.settings.monitor_staff_url in html
    for word in SECRET_WORDS:
        assert word not in text and word not in html and word not in message["Subject"]
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "digest.html").write_text(html, "utf-8")


def test_digest_failure_leaves_it_unsent_for_the_next_try(seeded: App, clock: FakeClock) -> None:
    from monitor.mailer import MailError

    from smtp_server import free_port

    clock.now = DIGEST_MOMENT + timedelta(minutes=5)
    seeded.settings.smtp_host, seeded.settings.smtp_port = "127.0.0.1", free_port()
    seeded.settings.smtp_security, seeded.settings.smtp_from = "none", "monitor@practice.invalid"
    with pytest.raises(MailError, match="cannot reach"):
        send_scheduled_digest(seeded)
    with smtp_server() as (inbox, port):
        seeded.settings.smtp_port = port
        assert send_scheduled_digest(seeded) is True
    assert len(inbox.messages) == 1


@pytest.mark.parametrize(
    ("now", "expected"),
    [
        (DIGEST_MOMENT, DIGEST_MOMENT),
        (DIGEST_MOMENT - timedelta(minutes=1), DIGEST_MOMENT - timedelta(days=7)),
        (DIGEST_MOMENT + timedelta(days=6), DIGEST_MOMENT),
    ],
)
def test_last_digest_time_in_the_practice_time_zone(now: datetime, expected: datetime) -> None:
    policy, _ = load_policy(Path("absent.toml"))
    assert last_digest_time(now, policy) == expected


def test_render_never_needs_text(seeded: App) -> None:
    subject, text, html = render(digest_for(seeded, DIGEST_MOMENT), "America/Chicago")
    assert subject.startswith("Example Counseling: weekly digest")
    assert "Items per day" in html and "Per day" in text
