"""Builds the staff page's FastAPI app around an App: routes, error pages and security headers."""

from __future__ import annotations

import logging
import secrets
from collections.abc import Awaitable, Callable
from datetime import timedelta
from urllib.parse import quote

from argon2 import PasswordHasher
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException

from monitor.app import App
from monitor.errors import DatabaseProblem, NotFound
from monitor.users import default_hasher
from monitor.web import routes_admin, routes_auth, routes_items
from monitor.web.auth import CookieSigner, LoginLimiter, SessionStore
from monitor.web.context import LoginRequired, WebContext, current, render
from monitor.web.views import STATIC, make_environment

log = logging.getLogger(__name__)
IDLE_TIMEOUT = timedelta(minutes=30)
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; object-src 'none'; "
        "base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}


def create_app(
    app: App,
    *,
    hasher: PasswordHasher | None = None,
    idle_timeout: timedelta = IDLE_TIMEOUT,
    secret: str | None = None,
) -> FastAPI:
    """The staff page for `app`. Without MONITOR_SECRET_KEY a random key is used (fine: sessions are
    in memory and end with the process anyway)."""
    key = secret or app.settings.monitor_secret_key.get_secret_value() or secrets.token_urlsafe(32)
    web = FastAPI(title="practice-monitor staff page", docs_url=None, redoc_url=None, openapi_url=None)
    web.state.ctx = WebContext(
        app=app,
        hasher=hasher or default_hasher(),
        sessions=SessionStore(app.clock, idle_timeout),
        limiter=LoginLimiter(app.clock),
        signer=CookieSigner(key),
        env=make_environment(app.policy.timezone, app.clock),
        secure_cookies=app.settings.monitor_staff_url.lower().startswith("https://"),
    )
    web.include_router(routes_auth.router)
    web.include_router(routes_items.router)
    web.include_router(routes_admin.router)
    web.mount("/static", StaticFiles(directory=STATIC), name="static")
    _add_error_pages(web)

    @web.middleware("http")
    async def headers(request: Request, call_next: Callable[[Request], Awaitable[Response]]) -> Response:
        response = await call_next(request)
        response.headers.update(SECURITY_HEADERS)
        if not request.url.path.startswith("/static/"):
            response.headers["Cache-Control"] = "no-store"  # pages may hold message text
        return response

    return web


def _add_error_pages(web: FastAPI) -> None:
    """Friendly error pages that never echo what was sent (a form may hold message text)."""

    @web.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if request.url.path.endswith("/lint"):
            return JSONResponse({"error": "sign in again"}, status_code=401)
        notice = "&notice=expired" if exc.expired else ""
        target = request.url.path if request.method == "GET" else "/queue"
        return RedirectResponse(f"/login?next={quote(target)}{notice}", 303)

    @web.exception_handler(HTTPException)
    async def http_error(request: Request, exc: HTTPException) -> Response:
        session, _ = current(request)
        message = (
            exc.detail if exc.status_code in (403, 429) else _MESSAGES.get(exc.status_code, "Something went wrong.")
        )
        return render(request, "error.html", session, status=exc.status_code, message=message)

    @web.exception_handler(NotFound)
    async def not_found(request: Request, exc: NotFound) -> Response:
        session, _ = current(request)
        return render(request, "error.html", session, status=404, message=f"{str(exc).split(';')[0].capitalize()}.")

    @web.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        session, _ = current(request)
        return render(request, "error.html", session, status=400, message=_MESSAGES[400])

    @web.exception_handler(DatabaseProblem)
    async def database(request: Request, exc: DatabaseProblem) -> Response:
        log.error("staff page: %s", exc)
        return render(request, "error.html", None, status=503, message=_MESSAGES[503])


_MESSAGES = {
    400: "That request was not understood. Go back, reload the page and try again.",
    404: "There is no such page.",
    405: "That page cannot be used like this.",
    503: "The database cannot be reached right now; nothing was changed. Try again in a minute.",
}
