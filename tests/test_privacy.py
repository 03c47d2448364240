"""Policy P9: no message text or author identity in logs or alerts; text is erased after retention."""

from __future__ import annotations

import json
import logging
from importlib import resources

import pytest
from sqlmodel import Session, col, select

from connectors.demo import load_bundled_items
from monitor import audit, staff
from monitor.app import App
from monitor.cycle import run_cycle
from monitor.db import Detection, Event, Reply
from monitor.logsetup import RedactSecrets
from monitor.storage import session_scope

from support import START, AppFactory, FakeClock, RecordingNotifier, event, items


def bundled_texts_and_authors() -> list[str]:
    raw = json.loads(resources.files("connectors").joinpath("data/demo_events.json").read_text("utf-8"))
    values = [e["text"] for e in raw["events"] if e["text"]] + [e["author"] for e in raw["events"]]
    # words long enough to be telling, so that "a" or "the" do not count as a leak
    return values + [w for e in raw["events"] for w in e["text"].split() if len(w) > 9]


def test_demo_cycle_logs_and_alerts_carry_no_text_or_author(
    make_app: AppFactory, notifier: RecordingNotifier, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    demo = load_bundled_items(START)
    by_platform: dict[str, list[object]] = {}
    for item in demo:
        by_platform.setdefault(item.event.platform, []).append(item)
    app = make_app(**by_platform)  # type: ignore[arg-type]
    report = run_cycle(app)
    assert report.new_events == len(demo) and notifier.alerts
    logged = "\n".join(r.getMessage() for r in caplog.records)
    alerts = "\n".join(a.summary() for a in notifier.alerts)
    for secret in bundled_texts_and_authors():
        assert secret not in logged
        assert secret not in alerts


def test_redaction_masks_tokens_in_log_lines() -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "GET /me?access_token=%s failed", ("EAAB123",), None)
    RedactSecrets().filter(record)
    assert record.getMessage() == "GET /me?access_token=*** failed"


def test_retention_erases_text_and_author_but_keeps_counts(make_app: AppFactory, clock: FakeClock) -> None:
    app = make_app(facebook=items("comments", event("c1", "Can I reschedule my appointment to next week?")))
    run_cycle(app)
    clock.advance(days=app.policy.retention_days - 1)
    assert app.purge() == 0
    clock.advance(days=2)
    assert app.purge() == 1
    assert app.purge() == 0
    with Session(app.engine) as s:
        stored = s.exec(select(Event)).one()
        assert (stored.text, stored.author_handle, stored.url) == ("", None, None)
        assert stored.purged_at is not None
        assert s.exec(select(Detection)).one().labels  # the counts for the digest survive
    assert run_cycle(app).new_events == 0  # still de-duplicated after purge


def test_retention_erases_the_reply_texts_of_expired_items_keeping_the_entries(
    make_app: AppFactory, clock: FakeClock
) -> None:
    edit = "Thanks, Robin! Please call our office at (555) 010-0199 and we will find a time."
    app = make_app(
        facebook=items(
            "comments",
            event("c1", "Can I reschedule my appointment to next week?"),
            event("c2", "Do you have any evening openings this month?"),
        )
    )
    run_cycle(app)
    with Session(app.engine) as s:
        first, second = (e.id for e in s.exec(select(Event).order_by(col(Event.id))))
    with session_scope(app.engine) as s:
        staff.approve(s, app.policy, first, "Dana", app.clock(), text=edit)
        staff.mark_handled(s, second, "Dana", app.clock())
    assert app.dispatch().sent == [first]
    clock.advance(days=app.policy.retention_days - 3)
    app.purge()
    run_cycle(app)  # not yet expired: a new item arrives meanwhile, its reply waits for staff
    newer = items_waiting(app)
    with Session(app.engine) as s:
        kept = audit.texts(s, (e.id for e in audit.entries(s)))
    assert any(t.after_text == edit for t in kept.values())

    clock.advance(days=4)
    assert app.purge() == 2
    with Session(app.engine) as s:
        assert s.exec(select(Reply).where(Reply.event_id == first)).one().text == ""
        assert s.exec(select(Reply).where(Reply.event_id == second)).one().text == ""
        entries = audit.entries(s)
        remaining = audit.texts(s, (e.id for e in entries))
    assert {e.action for e in entries} >= {"reply_approved", "reply_sent", "item_handled"}  # who and when stay
    assert all(t.event_id not in (first, second) for t in remaining.values())
    assert edit not in json.dumps([e.detail for e in entries])
    assert items_waiting(app) == newer  # the item still inside the period keeps its reply


def test_retention_closes_a_waiting_reply_so_it_is_never_posted_late(make_app: AppFactory, clock: FakeClock) -> None:
    app = make_app(facebook=items("comments", event("c1", "Are you open on the Saturday before the holiday?")))
    run_cycle(app)
    (waiting,) = items_waiting(app)
    with session_scope(app.engine) as s:
        staff.approve(s, app.policy, waiting, "Dana", app.clock())
    clock.advance(days=app.policy.retention_days + 1)
    assert app.purge() == 1
    assert app.dispatch().sent == []
    with Session(app.engine) as s:
        reply = s.exec(select(Reply)).one()
        expired = audit.entries(s, event_id=waiting)[-1]
    assert (reply.state, reply.text, reply.rejected_by) == ("rejected", "", audit.SYSTEM_ACTOR)
    assert (expired.action, expired.detail["before_state"]) == ("reply_expired", "approved")
    assert app.purge() == 0  # idempotent: nothing more to close


def items_waiting(app: App) -> list[int]:
    with Session(app.engine) as s:
        return [r.event_id for r in s.exec(select(Reply).where(Reply.state == "queued").order_by(col(Reply.id)))]
