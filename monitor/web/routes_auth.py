"""Signing in and out. The login form has its own CSRF token, kept in a signed short-lived cookie."""

from __future__ import annotations

import logging
import secrets
from typing import Annotated
from urllib.parse import quote

from fastapi import APIRouter, Depends, Form, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from monitor import users
from monitor.storage import session_scope
from monitor.web.auth import LOGIN_COOKIE, SESSION_COOKIE, StaffSession, same_token
from monitor.web.context import checked, client_address, ctx, current, render, secure

log = logging.getLogger(__name__)
router = APIRouter()
NOTICES = {
    "expired": "You were signed out after a while without activity. Please sign in again.",
    "signed_out": "You are signed out.",
}


def safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, host or protocol-relative URL) may follow a login."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/queue"
    return target


def _login_page(request: Request, status: int = 200, error: str = "", name: str = "") -> HTMLResponse:
    c = ctx(request)
    token = secrets.token_urlsafe(32)
    response = render(
        request,
        "login.html",
        None,
        status=status,
        csrf=token,
        error=error,
        name=name,
        next=safe_next(request.query_params.get("next")),
        notice=NOTICES.get(request.query_params.get("notice", ""), ""),
    )
    response.set_cookie(
        LOGIN_COOKIE,
        c.signer.sign(token),
        max_age=3600,
        path="/login",
        httponly=True,
        samesite="strict",
        secure=secure(request),
    )
    return response


@router.get("/login", response_model=None)
def login_form(request: Request) -> Response:
    session, _ = current(request)
    if session is not None:
        return RedirectResponse(safe_next(request.query_params.get("next")), 303)
    if request.headers.get("sec-fetch-site") == "cross-site":
        # A link from web mail: the browser withholds SameSite=Strict cookies on this first request.
        # Reload the page from our own origin; then a signed-in person goes straight to the item.
        target = "/login?next=" + quote(safe_next(request.query_params.get("next")))
        return render(request, "bounce.html", None, target=target)
    return _login_page(request)


@router.post("/login", response_model=None)
def login(
    request: Request,
    name: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    csrf_token: Annotated[str, Form()] = "",
    next_page: Annotated[str, Form(alias="next")] = "/queue",
) -> Response:
    c = ctx(request)
    if not same_token(c.signer.unsign(request.cookies.get(LOGIN_COOKIE)), csrf_token):
        raise HTTPException(403, "The login form has expired or did not come from this site. Reload and try again.")
    client = client_address(request)
    wait = c.limiter.wait_minutes(client)
    if wait:
        log.warning("login throttled for a client address after repeated failures")
        return _login_page(
            request, 429, f"Too many failed sign-ins from this computer. Try again in {wait} minutes.", name
        )
    try:
        with session_scope(c.app.engine) as db:
            user = users.authenticate(db, c.hasher, name, password, c.now())
    except users.LoginRefused as exc:
        c.limiter.failed(client)
        log.info("a sign-in was refused")
        return _login_page(request, 401, str(exc)[0].upper() + str(exc)[1:] + ".", name)
    c.limiter.succeeded(client)
    session = c.sessions.open(user)
    log.info("staff user %s signed in", user.id)
    response = RedirectResponse(safe_next(next_page), 303)
    response.set_cookie(
        SESSION_COOKIE, c.signer.sign(session.sid), httponly=True, samesite="strict", secure=secure(request)
    )
    response.delete_cookie(LOGIN_COOKIE, path="/login", httponly=True, samesite="strict", secure=secure(request))
    return response


@router.post("/logout")
def logout(request: Request, session: Annotated[StaffSession, Depends(checked)]) -> RedirectResponse:
    c = ctx(request)
    c.sessions.close(session.sid)
    response = RedirectResponse("/login?notice=signed_out", 303)
    response.delete_cookie(SESSION_COOKIE, httponly=True, samesite="strict", secure=secure(request))
    return response
