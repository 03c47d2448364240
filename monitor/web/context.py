"""What every request handler needs: the App, sessions, templates; and who is asking.

Handlers get the signed-in person through `signed_in` / `admin` (FastAPI dependencies); a POST goes
through `checked` / `admin_checked`, which also verify the form's CSRF token.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from argon2 import PasswordHasher
from fastapi import HTTPException, Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment

from monitor.app import App
from monitor.db import StaffUser
from monitor.storage import session_scope
from monitor.web.auth import (
    SESSION_COOKIE,
    CookieSigner,
    LoginLimiter,
    SessionStore,
    StaffSession,
    password_stamp,
    same_token,
)


@dataclass
class WebContext:
    """The staff page's shared state, created once per web app."""

    app: App
    hasher: PasswordHasher
    sessions: SessionStore
    limiter: LoginLimiter
    signer: CookieSigner
    env: Environment
    secure_cookies: bool

    def now(self) -> datetime:
        return self.app.clock()


class LoginRequired(Exception):
    """Nobody (or nobody any more) is signed in on this request."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("login required")
        self.expired = expired


def ctx(request: Request) -> WebContext:
    context: WebContext = request.app.state.ctx
    return context


def secure(request: Request) -> bool:
    """Whether cookies get the Secure flag: the staff URL is https, or this request came over HTTPS."""
    return ctx(request).secure_cookies or request.url.scheme == "https"


def client_address(request: Request) -> str:
    """The client's address (uvicorn puts the proxy's X-Forwarded-For here when the proxy is trusted)."""
    return request.client.host if request.client else "unknown"


def current(request: Request) -> tuple[StaffSession | None, bool]:
    """The live session of this request, if any, checked against the login's current state."""
    c = ctx(request)
    sid = c.signer.unsign(request.cookies.get(SESSION_COOKIE))
    if sid is None:
        return None, False
    session, expired = c.sessions.get(sid)
    if session is None:
        return None, expired
    with session_scope(c.app.engine) as db:
        user = db.get(StaffUser, session.user_id)
    if user is None or user.disabled or password_stamp(user) != session.stamp:
        c.sessions.close(sid)
        return None, False
    session.role = user.role  # a role changed by an admin applies at once
    return session, False


def signed_in(request: Request) -> StaffSession:
    """Dependency: the signed-in person, or a redirect to the login page."""
    session, expired = current(request)
    if session is None:
        raise LoginRequired(expired)
    return session


def admin(request: Request) -> StaffSession:
    """Dependency: the signed-in admin; staff get a 403 page."""
    session = signed_in(request)
    if not session.is_admin:
        raise HTTPException(403, "Only an admin of the staff page can open this page.")
    return session


async def checked(request: Request) -> StaffSession:
    """Dependency for every POST: signed in, and the form carries this session's CSRF token."""
    session = signed_in(request)
    await _check_csrf(request, session)
    return session


async def admin_checked(request: Request) -> StaffSession:
    session = admin(request)
    await _check_csrf(request, session)
    return session


async def _check_csrf(request: Request, session: StaffSession) -> None:
    form = await request.form()
    if not same_token(session.csrf, form.get("csrf_token")):
        raise HTTPException(403, "This form has expired or did not come from the staff page. Reload and try again.")


def render(
    request: Request, template: str, session: StaffSession | None, status: int = 200, **values: Any
) -> HTMLResponse:
    """A page from a template, with the person, their CSRF token and any flash messages."""
    c = ctx(request)
    page = c.env.get_template(template).render(
        request=request,
        user=session,
        csrf=session.csrf if session else values.pop("csrf", ""),
        flash=session.take_flash() if session else values.pop("flash", []),
        practice=c.app.policy.practice_name,
        **values,
    )
    return HTMLResponse(page, status_code=status)
