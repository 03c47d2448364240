"""The staff page in real headless Chromium (Debian's package, driven by Playwright): what a person does.

Screenshots of the queue and an item page are saved under tests/artifacts/ for a reviewer to look at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlmodel import Session, select

from monitor import users
from monitor.app import App
from monitor.cycle import run_cycle
from monitor.db import Event, Reply
from monitor.storage import session_scope
from monitor.web.server import WebServer, start_in_thread

from support import AppFactory, event, items

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[1] / "artifacts"
HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "correct horse battery"
SAFE = "Thanks for asking! Please call our office at (555) 010-0199 and we will find a new time."
UNSAFE = "Sure, see you at your next session! Call (555) 010-0199."
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = pytest.mark.skipif(
    not CHROMIUM.exists(), reason="Debian's chromium is not installed at /usr/bin/chromium (apt-get install chromium)"
)


@pytest.fixture
def served(make_app: AppFactory) -> Iterator[tuple[App, WebServer]]:
    app = make_app(
        facebook=items(
            "comments",
            event("c1", "Can I move my appointment to next Tuesday?", minutes_ago=300),
            event("c2", "Dr. Okafor has helped me so much with my panic attacks.", minutes_ago=200),
        ),
        instagram=items(
            "messages",
            event(
                "m1",
                "i want to kill myself tonight, i have it all planned",
                platform="instagram",
                kind="dm",
                minutes_ago=12,
            ),
        ),
    )
    run_cycle(app)
    with session_scope(app.engine) as s:
        users.add_user(s, HASHER, "Dana", PASSWORD, "staff", "test", app.clock())
    server = start_in_thread(app, "127.0.0.1", 0, hasher=HASHER, secret="browser-test-secret")
    yield app, server
    server.stop()


@pytest.fixture
def browser() -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), args=LAUNCH_ARGS)
        yield chromium
        chromium.close()


def event_id(app: App, external_id: str) -> int:
    with Session(app.engine) as s:
        found = s.exec(select(Event).where(Event.external_id == external_id)).one().id
    assert found is not None
    return found


def reply_state(app: App, item: int) -> tuple[str, str]:
    with Session(app.engine) as s:
        reply = s.exec(select(Reply).where(Reply.event_id == item)).one()
        return reply.state, reply.text


def test_sign_in_approve_an_edit_see_the_linter_refuse_reject_and_sign_out(
    served: tuple[App, WebServer], browser: Any
) -> None:
    from playwright.sync_api import expect

    app, server = served
    ARTIFACTS.mkdir(exist_ok=True)
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.set_default_timeout(10_000)

    # Sign in: the queue sends an anonymous visitor to the login page, which shows no message text.
    page.goto(f"{server.url}/queue")
    expect(page).to_have_title(re.compile("^Sign in"))
    assert "kill myself" not in page.content()
    page.get_by_label("Name").fill("Dana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_title(re.compile("^Queue"))
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"  # keyboard users can skip the header

    # The crisis item is first, marked in red, with its age in words.
    first = page.locator("li.item").first
    expect(first).to_have_class(re.compile("urgent"))
    expect(first).to_contain_text("Crisis")
    expect(first).to_contain_text("12 minutes ago")
    color = first.locator("a").evaluate("a => getComputedStyle(a).borderLeftColor")
    assert color == "rgb(166, 27, 27)"
    page.screenshot(path=str(ARTIFACTS / "staff-queue.png"), full_page=True)

    # Open the scheduling comment; the evidence is highlighted.
    comment = event_id(app, "c1")
    page.locator(f'a[href="/items/{comment}"]').click()
    expect(page).to_have_title(re.compile(f"^Item {comment} "))
    expect(page.locator("blockquote.message mark").first).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "staff-item.png"), full_page=True)

    # An unsafe edit: the checker warns while typing, and approval is refused.
    box = page.get_by_label("Reply to post (you may edit it)")
    box.fill(UNSAFE)
    expect(page.locator("#findings .findings")).to_be_visible()  # progressive enhancement
    page.get_by_role("button", name="Approve and post").click()
    expect(page.get_by_role("alert")).to_contain_text("Not approved: the reply checker found problems")
    expect(page.get_by_label("Reply to post (you may edit it)")).to_have_value(UNSAFE)
    expect(page.get_by_label(re.compile("Post it anyway"))).to_be_visible()
    page.screenshot(path=str(ARTIFACTS / "staff-item-refused.png"), full_page=True)
    assert reply_state(app, comment)[0] == "queued"

    # A safe edit is approved; then, after the next dispatch, the item shows "Sent".
    page.get_by_label("Reply to post (you may edit it)").fill(SAFE)
    expect(page.locator("#findings .findings")).to_have_count(0)
    page.get_by_role("button", name="Approve and post").click()
    expect(page.get_by_role("status")).to_contain_text(f"Item {comment}: reply approved")
    assert reply_state(app, comment) == ("approved", SAFE)
    assert app.dispatch().sent == [comment]
    page.goto(f"{server.url}/items/{comment}")
    expect(page.locator("p.sent")).to_contain_text("Sent")

    # Reject the other comment's reply, with a reason.
    other = event_id(app, "c2")
    page.goto(f"{server.url}/items/{other}")
    page.get_by_label(re.compile("Reason for rejecting")).fill("answered by phone")
    page.get_by_role("button", name="Reject the reply").click()
    expect(page.get_by_role("status")).to_contain_text(f"Item {other}: closed")
    assert reply_state(app, other)[0] == "rejected"

    # Sign out: the queue is closed again.
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("status")).to_contain_text("You are signed out")
    page.goto(f"{server.url}/queue")
    expect(page).to_have_title(re.compile("^Sign in"))


def test_everything_works_without_javascript_and_on_a_phone(served: tuple[App, WebServer], browser: Any) -> None:
    from playwright.sync_api import expect

    app, server = served
    ARTIFACTS.mkdir(exist_ok=True)
    context = browser.new_context(java_script_enabled=False, viewport={"width": 390, "height": 844})
    page = context.new_page()
    page.set_default_timeout(10_000)
    page.goto(f"{server.url}/login")
    page.get_by_label("Name").fill("Dana")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page.locator("li.item").first).to_contain_text("Crisis")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, "the queue must not scroll sideways on a phone"
    page.screenshot(path=str(ARTIFACTS / "staff-queue-phone.png"), full_page=True)

    crisis = event_id(app, "m1")
    page.goto(f"{server.url}/items/{crisis}")
    page.get_by_role("button", name="Approve and post").click()  # the crisis template passes the checker
    expect(page.get_by_role("status")).to_contain_text(f"Item {crisis}: reply approved")
    assert reply_state(app, crisis)[0] == "approved"
    context.close()
