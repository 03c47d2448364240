"""Staff actions on the queue: ordering, approve, edit, reject, linter, concurrency, audit."""

from __future__ import annotations

import pytest
from sqlmodel import Session, select

from monitor import staff
from monitor.app import App
from monitor.cycle import run_cycle
from monitor.db import AuditEntry, Reply
from monitor.errors import InvalidState, NotFound
from monitor.storage import session_scope

from support import AppFactory, event, items, reply_texts

CRISIS = "i want to kill myself tonight, i have it all planned"
ADMIN = "Can I move my appointment to next Tuesday?"
REVIEW = "Lovely quiet waiting room."


@pytest.fixture
def app(make_app: AppFactory) -> App:
    app = make_app(
        facebook=items("comments", event("c1", ADMIN, minutes_ago=300), event("c2", "nice post", minutes_ago=200)),
        instagram=items("messages", event("m1", CRISIS, platform="instagram", kind="dm", minutes_ago=1)),
        google=items("reviews", event("r1", ADMIN, platform="google", kind="review", minutes_ago=500)),
    )
    run_cycle(app)
    return app


def queue(app: App) -> list[staff.QueueItem]:
    with session_scope(app.engine) as s:
        return staff.list_queue(s, app.clock())


def item_of(app: App, platform: str) -> int:
    return next(i.id for i in queue(app) if i.platform == platform)


def test_urgent_first_then_oldest_and_benign_items_are_not_queued(app: App) -> None:
    rows = queue(app)
    assert rows[0].urgent and rows[0].platform == "instagram"
    assert [r.platform for r in rows[1:]] == ["google", "facebook"]  # oldest first
    assert all(r.text is None for r in rows)
    assert rows[0].as_json().keys() >= {"id", "state", "labels", "platform", "kind", "urgent", "age_seconds"}


def test_approve_with_edit_is_audited_with_before_and_after(app: App) -> None:
    item_id = item_of(app, "facebook")
    new_text = "Thanks for asking! Please call our office at (555) 010-0199 and we will help."
    with session_scope(app.engine) as s:
        reply = staff.approve(s, app.policy, item_id, "Dana", app.clock(), text=new_text)
        assert (reply.state, reply.approved_by, reply.text) == ("approved", "Dana", new_text)
    with Session(app.engine) as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "reply_approved")).one()
    assert entry.actor == "Dana" and entry.detail["edited"] is True
    before, after = reply_texts(app.engine, entry)
    assert after == new_text and before is not None and before != new_text
    assert "after_text" not in entry.detail  # texts live beside the append-only entry, where retention can erase them


def test_linter_refuses_an_unsafe_edit_unless_overridden(app: App) -> None:
    item_id = item_of(app, "facebook")
    unsafe = "As your therapist I can move it. See you at your next session!"
    with session_scope(app.engine) as s, pytest.raises(InvalidState, match="not safe to send"):
        staff.approve(s, app.policy, item_id, "Dana", app.clock(), text=unsafe)
    with Session(app.engine) as s:
        assert s.exec(select(Reply).where(Reply.event_id == item_id)).one().state == "queued"
    with session_scope(app.engine) as s:
        staff.approve(s, app.policy, item_id, "Dana", app.clock(), text=unsafe, override=True)
    with Session(app.engine) as s:
        entry = s.exec(select(AuditEntry).where(AuditEntry.action == "reply_approved")).one()
    assert entry.detail["override"] is True and entry.detail["findings"]


def test_crisis_reply_without_the_emergency_number_is_refused(app: App) -> None:
    item_id = queue(app)[0].id
    with session_scope(app.engine) as s, pytest.raises(InvalidState, match="911"):
        staff.approve(s, app.policy, item_id, "Dana", app.clock(), text="We are thinking of you.")


@pytest.mark.parametrize(
    ("action", "message"),
    [
        (lambda s, a, i: staff.approve(s, a.policy, i, "Lee", a.clock()), "already approved by Dana"),
        (lambda s, a, i: staff.reject(s, i, "Lee", a.clock()), None),
    ],
)
def test_approving_twice_names_who_approved(app: App, action: object, message: str | None) -> None:
    item_id = item_of(app, "facebook")
    with session_scope(app.engine) as s:
        staff.approve(s, app.policy, item_id, "Dana", app.clock())
    with session_scope(app.engine) as s:
        if message:
            with pytest.raises(InvalidState, match=message):
                action(s, app, item_id)  # type: ignore[operator]
        else:
            action(s, app, item_id)  # type: ignore[operator]  # an approved reply may still be stopped


def test_stale_version_cannot_overwrite_a_newer_change(app: App) -> None:
    item_id = item_of(app, "facebook")
    with Session(app.engine) as first, Session(app.engine) as second:
        staff.approve(first, app.policy, item_id, "Dana", app.clock())
        stale = second.exec(select(Reply).where(Reply.event_id == item_id)).one()
        assert stale.state == "approved"  # second sees the committed state and is refused
        with pytest.raises(InvalidState, match="already approved by Dana"):
            staff.approve(second, app.policy, item_id, "Lee", app.clock())


def test_reject_closes_an_item_without_reply_and_is_audited(app: App) -> None:
    review_id = item_of(app, "google")
    with session_scope(app.engine) as s, pytest.raises(InvalidState, match="never replies to reviews"):
        staff.approve(s, app.policy, review_id, "Dana", app.clock())
    with session_scope(app.engine) as s:
        staff.reject(s, review_id, "Dana", app.clock(), reason="review: no reply by policy")
    assert next(i for i in queue(app) if i.id == review_id).state == "handled"
    with session_scope(app.engine) as s, pytest.raises(InvalidState, match="already closed by Dana"):
        staff.reject(s, review_id, "Lee", app.clock())


def test_rejected_reply_is_never_posted(app: App) -> None:
    item_id = item_of(app, "facebook")
    with session_scope(app.engine) as s:
        staff.reject(s, item_id, "Dana", app.clock(), reason="spam")
    assert app.dispatch().sent == []
    with session_scope(app.engine) as s, pytest.raises(InvalidState, match="already rejected by Dana"):
        staff.approve(s, app.policy, item_id, "Dana", app.clock())


def test_unknown_item_and_missing_name(app: App) -> None:
    with session_scope(app.engine) as s, pytest.raises(NotFound, match="no item 4242"):
        staff.approve(s, app.policy, 4242, "Dana", app.clock())
    with session_scope(app.engine) as s, pytest.raises(InvalidState, match="say who"):
        staff.approve(s, app.policy, item_of(app, "facebook"), "  ", app.clock())


def test_audit_log_is_append_only(app: App) -> None:
    from sqlalchemy import text
    from sqlalchemy.exc import DatabaseError

    with session_scope(app.engine) as s:
        staff.reject(s, item_of(app, "facebook"), "Dana", app.clock())
    with app.engine.begin() as conn, pytest.raises(DatabaseError, match="append-only"):
        conn.execute(text("DELETE FROM audit_log"))
