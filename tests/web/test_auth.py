"""Signing in and out: cookies, CSRF, lockout, throttling, idle timeout, roles, nothing for anonymous.

`kit` is the fixture in tests/web/conftest.py: a demo App with flagged items and logins Dana and Lee
(staff) and Ari (admin).
"""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest
from argon2 import PasswordHasher
from sqlmodel import Session, select

from monitor.db import AuditEntry, Reply
from monitor.web import create_app

CHEAP = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)

WRONG = "not the password at all"


def replies(kit: Any) -> dict[int, tuple[str, int]]:
    with Session(kit.app.engine) as s:
        return {r.event_id: (r.state, r.version) for r in s.exec(select(Reply))}


def test_anonymous_requests_see_no_message_text_and_change_nothing(kit: Any) -> None:
    anon = kit.client()
    item = kit.item("facebook", "comment")
    before = replies(kit)
    pages = ["/", "/queue", f"/items/{item}", "/admin/audit", "/admin/audit.csv", "/admin/health", "/admin/users"]
    for path in pages:
        response = anon.get(path)
        assert response.status_code == 303, path
        assert response.headers["location"].startswith("/login?next=")
        assert not any(t in response.text for t in kit.texts)
    for action in ("approve", "reject", "handled", "hide"):
        response = anon.post(f"/items/{item}/{action}", data={"version": "1", "text": "hello"})
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert anon.post(f"/items/{item}/lint", data={"text": "x"}).status_code == 401
    login_page = anon.get("/login")
    assert login_page.status_code == 200 and not any(t in login_page.text for t in kit.texts)
    assert replies(kit) == before


def test_login_sets_a_signed_httponly_strict_cookie_and_opens_the_queue(kit: Any) -> None:
    client = kit.client()
    response = kit.sign_in(client, "Dana")
    assert response.status_code == 303 and response.headers["location"] == "/queue"
    cookie = next(c for c in response.headers.get_list("set-cookie") if c.startswith("pm_session="))
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Secure" not in cookie
    assert "Dana" not in cookie.split(";")[0]  # the cookie is an opaque signed id
    queue = client.get("/queue")
    assert queue.status_code == 200 and "Dana" in queue.text


@pytest.mark.parametrize(
    ("staff_url", "base_url"),
    [("https://monitor.example", "http://testserver"), ("http://127.0.0.1:8080", "https://testserver")],
)
def test_cookies_are_secure_when_the_staff_url_is_https_or_the_request_came_over_https(
    kit: Any, staff_url: str, base_url: str
) -> None:
    settings = kit.app.settings.model_copy(update={"monitor_staff_url": staff_url})
    kit.web = create_app(dataclasses.replace(kit.app, settings=settings), hasher=CHEAP, secret="s")
    login_page = kit.client(base_url=base_url).get("/login")
    assert "Secure" in login_page.headers["set-cookie"]
    signed_in = kit.sign_in(kit.client(base_url="https://testserver"), "Dana")
    cookies = signed_in.headers.get_list("set-cookie")
    assert len(cookies) == 2 and all("Secure" in c for c in cookies)


def test_a_forged_cookie_is_ignored(kit: Any) -> None:
    client = kit.client()
    client.cookies.set("pm_session", "made-up-session-id")
    assert client.get("/queue").status_code == 303


def test_wrong_password_and_unknown_name_get_the_same_message(kit: Any) -> None:
    client = kit.client()
    wrong = kit.sign_in(client, "Dana", WRONG)
    unknown = kit.sign_in(client, "Nobody", WRONG)
    for response in (wrong, unknown):
        assert response.status_code == 401
        assert "That name and password do not match." in response.text
        assert "pm_session" not in response.headers.get("set-cookie", "")


def test_login_form_needs_its_csrf_token(kit: Any) -> None:
    client = kit.client()
    client.get("/login")
    form = {"name": "Dana", "password": "correct horse battery"}
    assert client.post("/login", data=form).status_code == 403
    assert client.post("/login", data={**form, "csrf_token": "guessed"}).status_code == 403
    fresh = kit.client()  # a token from another browser's page does not fit this browser's cookie
    other = kit.csrf_of(kit.client().get("/login").text)
    assert fresh.post("/login", data={**form, "csrf_token": other}).status_code == 403


@pytest.mark.parametrize("token", [None, "", "wrong-token"])
def test_every_post_needs_the_sessions_csrf_token(kit: Any, token: str | None) -> None:
    dana = kit.login("Dana")
    item = kit.item("facebook", "comment")
    form = kit.form(dana, item)
    before = replies(kit)
    if token is None:
        del form["csrf_token"]
    else:
        form["csrf_token"] = token
    for action in ("approve", "reject", "handled", "hide", "lint"):
        response = dana.post(f"/items/{item}/{action}", data=form)
        assert response.status_code == 403, action
        assert "did not come from the staff page" in response.text
    assert dana.post("/logout", data=form).status_code == 403
    admin = kit.login("Ari")
    assert admin.post("/admin/users", data={**form, "name": "Eve", "password": "x" * 12}).status_code == 403
    assert replies(kit) == before


def test_a_csrf_token_of_another_session_does_not_work(kit: Any) -> None:
    dana, lee = kit.login("Dana"), kit.login("Lee")
    item = kit.item("facebook", "comment")
    lee_form = kit.form(lee, item)
    assert dana.post(f"/items/{item}/reject", data=lee_form).status_code == 403


def test_lockout_after_five_wrong_passwords_then_it_lifts(kit: Any) -> None:
    client = kit.client()
    for _ in range(5):
        assert kit.sign_in(client, "Lee", WRONG).status_code == 401
    locked = kit.sign_in(client, "Lee")  # even the right password
    assert locked.status_code == 401 and "locked after too many wrong passwords" in locked.text
    assert "15 minutes" in locked.text
    with Session(kit.app.engine) as s:
        assert s.exec(select(AuditEntry).where(AuditEntry.action == "login_locked")).one().detail["user"] == "Lee"
    kit.clock.advance(minutes=16)
    assert kit.sign_in(client, "Lee").status_code == 303


def test_an_admin_can_unlock_a_login(kit: Any) -> None:
    client = kit.client()
    for _ in range(5):
        kit.sign_in(client, "Lee", WRONG)
    admin = kit.login("Ari")
    csrf = kit.csrf_of(admin.get("/admin/users").text)
    assert "locked until" in admin.get("/admin/users").text
    assert admin.post("/admin/users/Lee/unlock", data={"csrf_token": csrf}).status_code == 303
    assert kit.sign_in(client, "Lee").status_code == 303


def test_many_failures_from_one_address_are_throttled(kit: Any) -> None:
    client = kit.client()
    for n in range(10):
        assert kit.sign_in(client, f"Guess{n}", WRONG).status_code == 401
    throttled = kit.sign_in(client, "Dana")
    assert throttled.status_code == 429 and "Too many failed sign-ins" in throttled.text
    kit.clock.advance(minutes=16)
    assert kit.sign_in(client, "Dana").status_code == 303


def test_idle_session_times_out_but_activity_keeps_it(kit: Any) -> None:
    dana = kit.login("Dana")
    for _ in range(3):
        kit.clock.advance(minutes=25)
        assert dana.get("/queue").status_code == 200
    kit.clock.advance(minutes=31)
    response = dana.get("/queue")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/queue&notice=expired"
    assert "without activity" in dana.get(response.headers["location"]).text
    assert dana.get("/queue").status_code == 303  # the session is gone for good


def test_logout_ends_the_session_even_for_a_copied_cookie(kit: Any) -> None:
    dana = kit.login("Dana")
    copied = dict(dana.cookies)
    csrf = kit.csrf_of(dana.get("/queue").text)
    response = dana.post("/logout", data={"csrf_token": csrf})
    assert response.status_code == 303 and response.headers["location"] == "/login?notice=signed_out"
    thief = kit.client()
    thief.cookies.update(copied)
    assert thief.get("/queue").status_code == 303


@pytest.mark.parametrize("change", ["disable", "password"])
def test_disabling_or_a_new_password_ends_open_sessions(kit: Any, change: str) -> None:
    dana = kit.login("Dana")
    admin = kit.login("Ari")
    csrf = kit.csrf_of(admin.get("/admin/users").text)
    done = admin.post(f"/admin/users/Dana/{change}", data={"csrf_token": csrf, "password": "a brand new secret"})
    assert done.status_code == 303
    assert dana.get("/queue").status_code == 303
    if change == "disable":
        refused = kit.sign_in(kit.client(), "Dana")
        assert refused.status_code == 401 and "disabled" in refused.text
    else:
        assert kit.sign_in(kit.client(), "Dana", "a brand new secret").status_code == 303


def test_staff_cannot_open_admin_pages(kit: Any) -> None:
    dana = kit.login("Dana")
    csrf = kit.csrf_of(dana.get("/queue").text)
    for path in ("/admin/audit", "/admin/audit.csv", "/admin/health", "/admin/users"):
        response = dana.get(path)
        assert response.status_code == 403 and "Only an admin" in response.text
    add = dana.post("/admin/users", data={"csrf_token": csrf, "name": "Eve", "password": "x" * 12, "role": "admin"})
    assert add.status_code == 403
    assert dana.post("/admin/users/Lee/disable", data={"csrf_token": csrf}).status_code == 403
    assert "Audit log" not in dana.get("/queue").text  # no admin links for staff
    admin = kit.login("Ari")
    for path in ("/admin/audit", "/admin/health", "/admin/users"):
        assert admin.get(path).status_code == 200


def test_login_redirects_only_within_the_site(kit: Any) -> None:
    client = kit.client()
    page = client.get("/login?next=//evil.example/x")
    form = {"name": "Dana", "password": "correct horse battery", "csrf_token": kit.csrf_of(page.text)}
    response = client.post("/login", data={**form, "next": "//evil.example/x"})
    assert response.headers["location"] == "/queue"
    item = kit.item("facebook", "comment")
    other = kit.client()
    page = other.get(f"/login?next=/items/{item}")
    form["csrf_token"] = kit.csrf_of(page.text)
    assert other.post("/login", data={**form, "next": f"/items/{item}"}).headers["location"] == f"/items/{item}"


def test_a_link_from_web_mail_reloads_from_the_site_so_a_signed_in_person_goes_straight_on(kit: Any) -> None:
    item = kit.item("instagram")
    dana = kit.login("Dana")
    # the browser withholds the SameSite=Strict cookie on a navigation that started on another site
    first = kit.client().get(f"/items/{item}", headers={"Sec-Fetch-Site": "cross-site"})
    assert first.headers["location"] == f"/login?next=/items/{item}"
    bounce = kit.client().get(first.headers["location"], headers={"Sec-Fetch-Site": "cross-site"})
    assert bounce.status_code == 200 and "<form" not in bounce.text
    assert f'content="0;url=/login?next=/items/{item}"' in bounce.text.replace("%2F", "/")
    again = dana.get(f"/login?next=/items/{item}", headers={"Sec-Fetch-Site": "same-origin"})
    assert again.status_code == 303 and again.headers["location"] == f"/items/{item}"


def test_security_headers_and_no_store_on_every_page(kit: Any) -> None:
    dana = kit.login("Dana")
    item = kit.item("instagram")
    for path in ("/login", "/queue", f"/items/{item}", "/no-such-page"):
        response = dana.get(path)
        assert response.headers["cache-control"] == "no-store", path
        assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
        assert response.headers["x-frame-options"] == "DENY"
        assert response.headers["referrer-policy"] == "no-referrer"
    assert dana.get("/static/style.css").status_code == 200
