"""The queue and the item page: what staff see, and every action going through monitor.staff.

`kit` is the fixture in tests/web/conftest.py (demo App, logins Dana/Lee staff and Ari admin).
"""

from __future__ import annotations

import logging
import re
from typing import Any

import pytest
from sqlmodel import Session, select

from monitor.db import AuditEntry, Event, Reply

from support import reply_texts

SAFE_EDIT = "Thanks for asking! Please call our office at (555) 010-0199 and we will sort out a new time."
UNSAFE_EDITS = [
    "Of course! See you at your next session, call (555) 010-0199.",
    "We can talk about your depression then. Call (555) 010-0199.",
]


def reply_of(kit: Any, item: int) -> Reply:
    with Session(kit.app.engine) as s:
        return s.exec(select(Reply).where(Reply.event_id == item)).one()


def audit_of(kit: Any, item: int) -> list[AuditEntry]:
    with Session(kit.app.engine) as s:
        return list(s.exec(select(AuditEntry).where(AuditEntry.event_id == item).order_by(AuditEntry.id)))  # type: ignore[arg-type]


def test_queue_pins_crisis_items_first_in_red_with_ages_in_words(kit: Any) -> None:
    page = kit.login("Dana").get("/queue")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    html = page.text
    crisis = kit.item("instagram")
    first_item = re.search(r'<li class="item([^"]*)">\s*<a href="/items/(\d+)"', html)
    assert first_item and first_item.group(2) == str(crisis) and "urgent" in first_item.group(1)
    assert html.index("Crisis: act now") < html.index("Waiting for staff")
    assert "12 minutes ago" in html and "5 hours ago" in html
    assert re.search(r"<title>Queue · Example Counseling staff page</title>", html)
    assert not any(t in html for t in kit.texts)  # the queue lists labels and ages, not message text


def test_empty_queue_says_what_to_do(make_app: Any) -> None:
    from fastapi.testclient import TestClient

    from monitor import users
    from monitor.storage import session_scope
    from monitor.web import create_app

    app = make_app()  # no events at all
    from argon2 import PasswordHasher

    hasher = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
    with session_scope(app.engine) as s:
        users.add_user(s, hasher, "Dana", "correct horse battery", "staff", "test", app.clock())
    with TestClient(create_app(app, hasher=hasher, secret="s"), follow_redirects=True) as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert token
        page = client.post(
            "/login", data={"name": "Dana", "password": "correct horse battery", "csrf_token": token.group(1)}
        )
    assert "Nothing needs attention right now." in page.text and "monitor run" in page.text


def test_item_page_shows_the_message_with_evidence_highlighted_and_no_text_in_the_title(kit: Any) -> None:
    crisis = kit.item("instagram")
    page = kit.login("Dana").get(f"/items/{crisis}")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    title = re.search(r"<title>(.*)</title>", page.text)
    assert title and title.group(1) == f"Item {crisis} · Example Counseling staff page"
    assert "<mark" in page.text and "kill myself" in re.sub(r"<[^>]+>", "", page.text)
    assert "crisis.author.invented" in page.text
    assert "This person may be in danger" in page.text and "911" in page.text
    assert 'name="text"' in page.text  # the proposed reply, editable
    assert 'for="reply-text"' in page.text


def test_approve_an_edited_reply_is_audited_with_before_and_after_and_shows_sent_after_dispatch(kit: Any) -> None:
    dana = kit.login("Dana")
    item = kit.item("facebook", "comment")
    original = reply_of(kit, item).text
    response = dana.post(f"/items/{item}/approve", data=kit.form(dana, item, text=SAFE_EDIT))
    assert response.status_code == 303 and response.headers["location"] == "/queue"
    assert f"Item {item}: reply approved" in dana.get("/queue").text
    reply = reply_of(kit, item)
    assert (reply.state, reply.approved_by, reply.text) == ("approved", "Dana", SAFE_EDIT)
    entry = audit_of(kit, item)[-1]
    assert entry.action == "reply_approved" and entry.actor == "Dana"
    assert reply_texts(kit.app.engine, entry) == (original, SAFE_EDIT)
    assert entry.detail["edited"] is True and entry.detail["override"] is False

    assert kit.app.dispatch().sent == [item]
    page = dana.get(f"/items/{item}").text
    assert "<strong>Sent</strong>" in page and "approved by Dana" in page
    assert 'href="https://demo.invalid/c1"' in page  # the link to the platform


@pytest.mark.parametrize("unsafe", UNSAFE_EDITS)
def test_the_linter_refuses_an_unsafe_edit_keeps_the_text_and_allows_an_audited_override(kit: Any, unsafe: str) -> None:
    dana = kit.login("Dana")
    item = kit.item("facebook", "comment")
    form = kit.form(dana, item, text=unsafe)
    refused = dana.post(f"/items/{item}/approve", data=form)
    assert refused.status_code == 409
    assert "Not approved: the reply checker found problems" in refused.text
    assert "The reply checker found 1 problem" in refused.text
    assert unsafe.split("!")[-1].strip()[:20] in refused.text  # what was typed is still in the box
    assert 'name="override"' in refused.text
    assert reply_of(kit, item).state == "queued"

    approved = dana.post(f"/items/{item}/approve", data={**form, "override": "yes"})
    assert approved.status_code == 303
    entry = audit_of(kit, item)[-1]
    assert entry.detail["override"] is True and entry.detail["findings"]
    assert reply_texts(kit.app.engine, entry)[1] == unsafe


def test_lint_endpoint_reports_findings_as_staff_type(kit: Any) -> None:
    dana = kit.login("Dana")
    item = kit.item("facebook", "comment")
    form = kit.form(dana, item)
    found = dana.post(f"/items/{item}/lint", data={"csrf_token": form["csrf_token"], "text": UNSAFE_EDITS[1]}).json()
    assert found["findings"] and all({"rule_id", "message"} <= set(f) for f in found["findings"])
    clean = dana.post(f"/items/{item}/lint", data={"csrf_token": form["csrf_token"], "text": SAFE_EDIT}).json()
    assert clean == {"findings": []}


def test_two_staff_approving_at_once_one_wins_the_other_is_told_who(kit: Any) -> None:
    dana, lee = kit.login("Dana"), kit.login("Lee")
    item = kit.item("facebook", "comment")
    dana_form, lee_form = kit.form(dana, item), kit.form(lee, item)  # both opened the page
    assert dana.post(f"/items/{item}/approve", data={**dana_form, "text": SAFE_EDIT}).status_code == 303
    lost = lee.post(f"/items/{item}/approve", data={**lee_form, "text": SAFE_EDIT + " Lee"})
    assert lost.status_code == 409 and "already approved by Dana" in lost.text
    assert "Your edit (not posted)" in lost.text  # Lee's text is not lost
    assert reply_of(kit, item).text == SAFE_EDIT
    assert [e.action for e in audit_of(kit, item)] == ["reply_approved"]


def test_a_change_made_after_the_page_was_opened_is_not_overwritten(kit: Any) -> None:
    dana, lee = kit.login("Dana"), kit.login("Lee")
    item = kit.item("facebook", "comment")
    lee_form = kit.form(lee, item)  # Lee opens the page
    dana.post(f"/items/{item}/approve", data=kit.form(dana, item, text=SAFE_EDIT))
    stale = lee.post(f"/items/{item}/reject", data={**lee_form, "reason": "not needed"})
    assert stale.status_code == 409 and "changed after you opened it" in stale.text
    assert reply_of(kit, item).state == "approved"
    fresh = lee.post(f"/items/{item}/reject", data=kit.form(lee, item, reason="not needed"))
    assert fresh.status_code == 303 and reply_of(kit, item).state == "rejected"


def test_reject_with_false_alarm_is_audited_and_nothing_is_posted(kit: Any) -> None:
    dana = kit.login("Dana")
    item = kit.item("facebook", "comment")
    form = kit.form(dana, item, reason="spam", false_alarm="yes")
    assert dana.post(f"/items/{item}/reject", data=form).status_code == 303
    entry = audit_of(kit, item)[-1]
    assert (entry.action, entry.actor, entry.detail["false_alarm"], entry.detail["reason"]) == (
        "reply_rejected",
        "Dana",
        True,
        "spam",
    )
    assert kit.app.dispatch().sent == []


def test_mark_handled_without_a_reply_closes_the_item(kit: Any) -> None:
    dana = kit.login("Dana")
    crisis = kit.item("instagram")
    assert dana.post(f"/items/{crisis}/handled", data=kit.form(dana, crisis)).status_code == 303
    page = dana.get(f"/items/{crisis}").text
    assert "Handled" in page and "item handled" in page
    entry = audit_of(kit, crisis)[-1]
    assert entry.action == "item_handled" and entry.detail["before_state"] == "queued"
    assert reply_texts(kit.app.engine, entry)[0] == reply_of(kit, crisis).text
    with Session(kit.app.engine) as s:
        assert s.get(Event, crisis).handled_by == "Dana"  # type: ignore[union-attr]
    assert kit.app.dispatch().sent == []
    again = dana.post(f"/items/{crisis}/handled", data=kit.form(dana, crisis))
    assert again.status_code == 409 and "already marked handled by Dana" in again.text


def test_a_review_has_no_reply_and_can_be_closed(kit: Any) -> None:
    dana = kit.login("Dana")
    review = kit.item("google")
    page = dana.get(f"/items/{review}").text
    assert "never replies to reviews" in page and f'action="/items/{review}/approve"' not in page
    close = dana.post(f"/items/{review}/reject", data={**kit.form(dana, review), "false_alarm": "yes"})
    assert close.status_code == 303
    assert audit_of(kit, review)[-1].action == "item_closed"


def test_hide_a_public_comment_where_the_platform_supports_it(kit: Any) -> None:
    dana = kit.login("Dana")
    with Session(kit.app.engine) as s:
        clinical = s.exec(select(Event).where(Event.external_id == "c2")).one().id
    page = dana.get(f"/items/{clinical}").text
    assert "Hide the comment" in page
    assert dana.post(f"/items/{clinical}/hide", data=kit.form(dana, clinical)).status_code == 303
    connector = kit.app.connectors["demo-facebook"]
    assert connector.hidden == {"c2"}
    assert audit_of(kit, clinical)[-1].action == "comment_hidden"
    assert "Show the comment again" in dana.get(f"/items/{clinical}").text
    crisis_dm = kit.item("instagram")
    assert "Hide the comment" not in dana.get(f"/items/{crisis_dm}").text
    refused = dana.post(f"/items/{crisis_dm}/hide", data=kit.form(dana, crisis_dm))
    assert refused.status_code == 409 and "not a public comment" in refused.text


def test_unknown_or_malformed_items_get_a_plain_error_page(kit: Any) -> None:
    dana = kit.login("Dana")
    missing = dana.get("/items/4242")
    assert missing.status_code == 404 and "There is no item 4242." in missing.text
    bad = dana.get("/items/not-a-number")
    assert bad.status_code == 400 and "not-a-number" not in bad.text
    item = kit.item("facebook", "comment")
    form = kit.form(dana, item)
    no_version = dana.post(f"/items/{item}/approve", data={"csrf_token": form["csrf_token"], "text": "secret words"})
    assert no_version.status_code == 400 and "secret words" not in no_version.text


def test_no_message_text_or_author_reaches_the_log(kit: Any, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    dana = kit.login("Dana")
    for platform, kind in (("instagram", None), ("facebook", "comment"), ("google", None)):
        item = kit.item(platform, kind)
        dana.get(f"/items/{item}")
        dana.post(f"/items/{item}/approve", data=kit.form(dana, item, text=UNSAFE_EDITS[0]))
        dana.post(f"/items/{item}/reject", data=kit.form(dana, item))
    kit.sign_in(kit.client(), "Dana", "a wrong password here")
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert not any(t in logged for t in kit.texts)
    assert "a wrong password here" not in logged and UNSAFE_EDITS[0] not in logged


def test_queue_warns_about_crisis_alerts_that_could_not_be_delivered(kit: Any) -> None:
    """Issue 6: an alert that cannot be delivered is shown on the staff page (ids only, a link to the item)."""
    from datetime import timedelta

    from monitor.db import Alert

    crisis = kit.item("instagram")
    dana = kit.login("Dana")
    assert "could not be delivered" not in dana.get("/queue").text
    with Session(kit.app.engine) as s:
        s.add(
            Alert(
                event_id=crisis,
                created_at=kit.clock(),
                attempts=2,
                last_error="SMTP refused: 535 bad password",
                next_attempt_at=kit.clock() + timedelta(minutes=5),
            )
        )
        s.commit()
    page = dana.get("/queue").text
    assert "1 crisis alert" in page and "could not be delivered yet" in page
    assert f'<a href="/items/{crisis}">{crisis}</a>' in page
    assert all(text not in page for text in kit.texts)


def test_a_sent_reply_reads_as_erased_after_the_retention_period(kit: Any) -> None:
    dana = kit.login("Dana")
    item = kit.item("facebook", "comment")
    dana.post(f"/items/{item}/approve", data=kit.form(dana, item, text=SAFE_EDIT))
    assert kit.app.dispatch().sent == [item]
    assert SAFE_EDIT in dana.get(f"/items/{item}").text
    kit.clock.advance(days=kit.app.policy.retention_days + 1)
    kit.app.purge()
    page = kit.login("Dana").get(f"/items/{item}").text  # a new sign-in: months have passed
    assert SAFE_EDIT not in page and "(reply text erased after the retention period)" in page
    assert SAFE_EDIT not in kit.login("Ari").get("/admin/audit").text
