"""Admin pages: the audit log and its CSV export, account health, and logins managed in the browser.

`kit` is the fixture in tests/web/conftest.py (demo App, logins Dana/Lee staff and Ari admin).
"""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from sqlmodel import Session, select

from monitor.db import Account, StaffUser
from monitor.web.routes_admin import _cell

EDIT = "Thanks for asking! Please call our office at (555) 010-0199 and we will sort out a new time."


def test_audit_page_and_csv_show_who_did_what_with_before_and_after_text(kit: Any) -> None:
    dana = kit.login("Dana")
    item = kit.item("facebook", "comment")
    dana.post(f"/items/{item}/approve", data=kit.form(dana, item, text=EDIT))
    admin = kit.login("Ari")
    page = admin.get("/admin/audit")
    assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
    assert "reply approved" in page.text and "Dana" in page.text and EDIT in page.text
    assert page.text.index("reply approved") < page.text.index("user added")  # newest first

    export = admin.get("/admin/audit.csv")
    assert export.status_code == 200 and export.headers["content-type"].startswith("text/csv")
    assert export.headers["cache-control"] == "no-store"
    assert export.headers["content-disposition"].startswith('attachment; filename="practice-monitor-audit-')
    rows = list(csv.DictReader(io.StringIO(export.text)))
    approved = next(r for r in rows if r["action"] == "reply_approved")
    assert (approved["actor"], approved["item"]) == ("Dana", str(item))
    detail = json.loads(approved["details"])
    assert approved["reply text after"] == EDIT and approved["reply text before"] not in ("", EDIT)
    assert detail["edited"] is True
    assert {r["action"] for r in rows} >= {"user_added", "signed_in", "reply_approved"}


def test_csv_cells_never_start_a_spreadsheet_formula() -> None:
    assert _cell("=HYPERLINK(1)") == "'=HYPERLINK(1)"
    assert _cell("+1") == "'+1" and _cell("@x") == "'@x" and _cell("-2") == "'-2"
    assert _cell("Dana") == "Dana"
    assert _cell({"reason": "=1+1"}) == '{"reason": "=1+1"}'


def test_health_page_shows_last_good_poll_and_last_error(kit: Any) -> None:
    with Session(kit.app.engine) as s:
        account = s.exec(select(Account).where(Account.name == "demo-x")).one()
        account.last_error, account.last_error_at = "credentials need attention: token expired", kit.clock()
        s.add(account)
        s.commit()
    kit.clock.advance(minutes=3)
    page = kit.login("Ari").get("/admin/health").text
    assert "demo-facebook" in page and "3 minutes ago" in page
    assert "credentials need attention: token expired" in page
    assert "monitor check" in page


def test_admin_manages_logins_in_the_browser(kit: Any) -> None:
    admin = kit.login("Ari")
    csrf = kit.csrf_of(admin.get("/admin/users").text)
    added = admin.post(
        "/admin/users", data={"csrf_token": csrf, "name": "Robin", "role": "staff", "password": "x" * 12}
    )
    assert added.status_code == 303
    assert "Login &#39;Robin&#39; created as staff" in admin.get("/admin/users").text
    assert kit.sign_in(kit.client(), "Robin", "x" * 12).status_code == 303

    short = admin.post("/admin/users", data={"csrf_token": csrf, "name": "Sky", "password": "short"})
    assert short.status_code == 422 and "at least 10 characters" in short.text
    assert 'value="Sky"' in short.text  # the name typed is kept
    dup = admin.post("/admin/users", data={"csrf_token": csrf, "name": "Robin", "password": "y" * 12})
    assert dup.status_code == 422 and "already a login named" in dup.text

    myself = admin.post("/admin/users/Ari/disable", data={"csrf_token": csrf})
    assert myself.status_code == 422 and "cannot disable your own login" in myself.text
    assert admin.post("/admin/users/Robin/disable", data={"csrf_token": csrf}).status_code == 303
    assert admin.post("/admin/users/Robin/enable", data={"csrf_token": csrf}).status_code == 303
    with Session(kit.app.engine) as s:
        robin = s.exec(select(StaffUser).where(StaffUser.name == "Robin")).one()
        assert robin.disabled is False and robin.password_hash.startswith("$argon2id$")
    audit = admin.get("/admin/audit").text
    for action in ("user added", "user disabled", "user enabled"):
        assert action in audit
