"""Admin pages: the audit log (and its CSV export), connector health, and staff logins."""

from __future__ import annotations

import csv
import io
import json
from typing import Annotated

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlmodel import col, select

from monitor import audit, staff, users
from monitor.db import Account, AuditEntry, Reply
from monitor.errors import InvalidState, MonitorError
from monitor.storage import session_scope
from monitor.web.auth import StaffSession
from monitor.web.context import admin, admin_checked, ctx, render

router = APIRouter(prefix="/admin")
PAGE = 200


@router.get("/audit")
def audit_page(
    request: Request, session: Annotated[StaffSession, Depends(admin)], before: int | None = None
) -> HTMLResponse:
    c = ctx(request)
    query = select(AuditEntry).order_by(col(AuditEntry.id).desc()).limit(PAGE)
    if before is not None:
        query = query.where(col(AuditEntry.id) < before)
    with session_scope(c.app.engine) as db:
        rows = list(db.exec(query))
        texts = audit.texts(db, (row.id for row in rows))
    older = rows[-1].id if len(rows) == PAGE else None
    return render(request, "audit.html", session, rows=rows, texts=texts, older=older)


def _cell(value: object) -> str:
    """A CSV cell that a spreadsheet will not run as a formula."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


@router.get("/audit.csv")
def audit_csv(request: Request, session: Annotated[StaffSession, Depends(admin)]) -> Response:
    c = ctx(request)
    with session_scope(c.app.engine) as db:
        rows = audit.entries(db)
        texts = audit.texts(db, (row.id for row in rows))
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(
        ["id", "at", "actor", "action", "item", "reply", "details", "reply text before", "reply text after"]
    )
    for row in rows:
        kept = texts.get(row.id or 0)
        writer.writerow(
            [
                row.id,
                row.at.isoformat(),
                _cell(row.actor),
                row.action,
                row.event_id if row.event_id is not None else "",
                row.reply_id if row.reply_id is not None else "",
                _cell(row.detail),
                _cell(kept.before_text or "") if kept else "",
                _cell(kept.after_text or "") if kept else "",
            ]
        )
    stamp = c.now().strftime("%Y%m%d-%H%M")
    return Response(
        out.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="practice-monitor-audit-{stamp}.csv"',
            "Cache-Control": "no-store",
        },
    )


@router.get("/health")
def health(request: Request, session: Annotated[StaffSession, Depends(admin)]) -> HTMLResponse:
    c = ctx(request)
    with session_scope(c.app.engine) as db:
        accounts = list(db.exec(select(Account).order_by(col(Account.name))))
        undelivered = staff.undelivered_alerts(db)
        failed = list(db.exec(select(Reply).where(col(Reply.state).in_(("failed", "needs_review")))))
    configured = {a.name for a in c.app.policy.accounts}
    return render(
        request,
        "health.html",
        session,
        accounts=accounts,
        configured=configured,
        undelivered=undelivered,
        failed=failed,
    )


@router.get("/users")
def users_page(request: Request, session: Annotated[StaffSession, Depends(admin)]) -> HTMLResponse:
    return _users(request, session)


def _users(request: Request, session: StaffSession, status: int = 200, error: str = "", **form: str) -> HTMLResponse:
    c = ctx(request)
    with session_scope(c.app.engine) as db:
        people = users.list_users(db)
    return render(request, "users.html", session, status=status, people=people, error=error, form=form, now=c.now())


@router.post("/users", response_model=None)
def add_user(
    request: Request,
    session: Annotated[StaffSession, Depends(admin_checked)],
    name: Annotated[str, Form()] = "",
    role: Annotated[str, Form()] = "staff",
    password: Annotated[str, Form()] = "",
) -> Response:
    c = ctx(request)
    try:
        with session_scope(c.app.engine) as db:
            users.add_user(db, c.hasher, name, password, role, session.name, c.now())
    except MonitorError as exc:
        return _users(request, session, 422, str(exc), name=name, role=role)
    session.say("ok", f"Login {name.strip()!r} created as {role}. Give them the password in person.")
    return RedirectResponse("/admin/users", 303)


@router.post("/users/{name}/{change}", response_model=None)
def change_user(
    request: Request,
    name: str,
    change: str,
    session: Annotated[StaffSession, Depends(admin_checked)],
    password: Annotated[str, Form()] = "",
) -> Response:
    c = ctx(request)
    now = c.now()
    try:
        with session_scope(c.app.engine) as db:
            if change in ("disable", "enable"):
                if name == session.name:
                    raise InvalidState("you cannot disable your own login; ask another admin")
                users.set_disabled(db, name, change == "disable", session.name, now)
            elif change == "unlock":
                users.unlock(db, name, session.name, now)
            elif change == "password":
                users.set_password(db, c.hasher, name, password, session.name, now)
            else:
                return _users(request, session, 404, f"there is no change called {change!r}")
    except MonitorError as exc:
        return _users(request, session, 422, str(exc))
    done = {"disable": "disabled", "enable": "enabled", "unlock": "unlocked", "password": "given a new password"}
    session.say("ok", f"Login {name!r} {done[change]}.")
    return RedirectResponse("/admin/users", 303)
