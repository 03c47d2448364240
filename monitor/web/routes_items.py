"""The queue and one item: read the message, edit and approve the reply, reject, mark handled, hide.

Every action calls the same `monitor.staff` function as the command line, with the reply version
the page was showing, so nobody overwrites a change they have not seen.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from sqlmodel import select

from monitor import moderation, staff
from monitor.db import Account, Event, Reply
from monitor.errors import MonitorError
from monitor.storage import session_scope
from monitor.web.auth import StaffSession
from monitor.web.context import WebContext, checked, ctx, render, signed_in
from monitor.web.views import evidence_reasons, evidence_segments
from rules import lint_reply

router = APIRouter()
Checkbox = Annotated[str, Form()]


@router.get("/", response_model=None)
def home(_: Annotated[StaffSession, Depends(signed_in)]) -> Response:
    return RedirectResponse("/queue", 303)


@router.get("/queue")
def queue(request: Request, session: Annotated[StaffSession, Depends(signed_in)]) -> HTMLResponse:
    c = ctx(request)
    with session_scope(c.app.engine) as db:
        items = staff.list_queue(db, c.now())
        undelivered = staff.undelivered_alerts(db)
    open_items = [i for i in items if i.is_open]
    return render(
        request,
        "queue.html",
        session,
        urgent=[i for i in open_items if i.urgent],
        waiting=[i for i in open_items if not i.urgent],
        closed=[i for i in items if not i.is_open],
        undelivered=undelivered,
    )


def _lint(c: WebContext, text: str, template: str | None) -> list[dict[str, Any]]:
    label = template.split(".")[0] if template else None
    return [
        {"rule_id": f.rule_id, "message": f.message, "start": f.start, "end": f.end}
        for f in lint_reply(text, c.app.policy, label=label)
    ]


def say(error: MonitorError, refused_by_checker: bool = False) -> str:
    """The staff functions' sentence, worded for the page rather than the command line."""
    if refused_by_checker:
        return (
            "Not approved: the reply checker found problems (listed under the reply). "
            "Change the reply, or tick “Post it anyway”."
        )
    text = str(error)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def item_page(
    request: Request,
    session: StaffSession,
    item_id: int,
    *,
    status: int = 200,
    error: str = "",
    draft: str | None = None,
    version: int | None = None,
    show_override: bool = False,
) -> HTMLResponse:
    """The item page; after a refused action it keeps what the person typed and says why."""
    c = ctx(request)
    with session_scope(c.app.engine) as db:
        detail = staff.show_item(db, item_id, c.now())
        reply = db.exec(select(Reply).where(Reply.event_id == item_id)).first()
        event = db.get(Event, item_id)
        assert event is not None
        account = db.get(Account, event.account_id)
        assert account is not None
        hidden = moderation.is_hidden(db, item_id)
    text = draft if draft is not None else detail.reply_text
    findings = _lint(c, text, detail.reply_template) if text and reply and reply.state in staff.APPROVABLE else []
    return render(
        request,
        "item.html",
        session,
        status=status,
        detail=detail,
        item=detail.item,
        reply=reply,
        event=event,
        segments=evidence_segments(detail.text, detail.evidence),
        reasons=evidence_reasons(detail.text, detail.evidence),
        draft=text or "",
        edited=draft is not None and draft.strip() != (detail.reply_text or ""),
        version=version if version is not None else (reply.version if reply else 0),
        findings=findings,
        show_override=show_override and bool(findings),
        error=error,
        can_approve=reply is not None and reply.state in staff.APPROVABLE,
        can_reject=reply is not None and reply.state in staff.REJECTABLE,
        can_close=reply is None and event.handled_at is None,
        can_hide=moderation.can_hide(c.app, event, account.name),
        hidden=hidden,
        emergency=c.app.policy.emergency_number,
    )


@router.get("/items/{item_id}")
def show(request: Request, item_id: int, session: Annotated[StaffSession, Depends(signed_in)]) -> HTMLResponse:
    return item_page(request, session, item_id)


@router.post("/items/{item_id}/approve", response_model=None)
def approve(
    request: Request,
    item_id: int,
    session: Annotated[StaffSession, Depends(checked)],
    version: Annotated[int, Form()],
    text: Annotated[str, Form()] = "",
    override: Checkbox = "",
) -> Response:
    c = ctx(request)
    try:
        with session_scope(c.app.engine) as db:
            staff.approve(
                db,
                c.app.policy,
                item_id,
                session.name,
                c.now(),
                text=text,
                override=override == "yes",
                expected_version=version,
            )
    except MonitorError as exc:
        checker = "not safe to send" in str(exc)
        return item_page(
            request,
            session,
            item_id,
            status=409,
            error=say(exc, checker),
            draft=text,
            version=version,
            show_override=True,
        )
    session.say("ok", f"Item {item_id}: reply approved. It will be posted within a minute or two.")
    return RedirectResponse("/queue", 303)


@router.post("/items/{item_id}/reject", response_model=None)
def reject(
    request: Request,
    item_id: int,
    session: Annotated[StaffSession, Depends(checked)],
    version: Annotated[int, Form()] = 0,
    reason: Annotated[str, Form()] = "",
    false_alarm: Checkbox = "",
) -> Response:
    c = ctx(request)
    try:
        with session_scope(c.app.engine) as db:
            staff.reject(
                db,
                item_id,
                session.name,
                c.now(),
                reason=reason.strip()[:500],
                expected_version=version or None,
                false_alarm=false_alarm == "yes",
            )
    except MonitorError as exc:
        return item_page(request, session, item_id, status=409, error=say(exc))
    session.say("ok", f"Item {item_id}: closed. Nothing will be posted for it.")
    return RedirectResponse("/queue", 303)


@router.post("/items/{item_id}/handled", response_model=None)
def handled(
    request: Request,
    item_id: int,
    session: Annotated[StaffSession, Depends(checked)],
    version: Annotated[int, Form()] = 0,
) -> Response:
    c = ctx(request)
    try:
        with session_scope(c.app.engine) as db:
            staff.mark_handled(db, item_id, session.name, c.now(), expected_version=version or None)
    except MonitorError as exc:
        return item_page(request, session, item_id, status=409, error=say(exc))
    session.say("ok", f"Item {item_id}: marked handled. Nothing will be posted for it.")
    return RedirectResponse("/queue", 303)


@router.post("/items/{item_id}/hide", response_model=None)
def hide(
    request: Request,
    item_id: int,
    session: Annotated[StaffSession, Depends(checked)],
    hidden: Annotated[str, Form()] = "yes",
) -> Response:
    c = ctx(request)
    try:
        moderation.hide_comment(c.app, item_id, session.name, c.now(), hidden=hidden == "yes")
    except MonitorError as exc:
        return item_page(request, session, item_id, status=409, error=say(exc))
    session.say("ok", f"Item {item_id}: the comment is now {'hidden' if hidden == 'yes' else 'visible again'}.")
    return RedirectResponse(f"/items/{item_id}", 303)


@router.post("/items/{item_id}/lint")
def lint(
    request: Request,
    item_id: int,
    session: Annotated[StaffSession, Depends(checked)],
    text: Annotated[str, Form()] = "",
) -> JSONResponse:
    """Linter findings for a draft, for the page's script to show while typing (POST: text stays out of URLs)."""
    c = ctx(request)
    with session_scope(c.app.engine) as db:
        reply = db.exec(select(Reply).where(Reply.event_id == item_id)).first()
    template = reply.template if reply else None
    return JSONResponse({"findings": _lint(c, text, template)}, headers={"Cache-Control": "no-store"})
