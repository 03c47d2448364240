"""Sessions, CSRF tokens and login throttling for the staff page.

A session lives in server memory and is named by a random id in a signed, HttpOnly, SameSite=Strict
cookie (Secure over HTTPS). Memory, not the cookie, holds who is signed in, so signing out, an idle
timeout, disabling a login or changing its password end a session at once; a restart signs everyone
out. Every form carries the session's CSRF token; a POST without the right one is refused with 403.
"""

from __future__ import annotations

import hmac
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from itsdangerous import BadSignature, URLSafeSerializer

from monitor.clock import Clock
from monitor.db import StaffUser

SESSION_COOKIE = "pm_session"
LOGIN_COOKIE = "pm_login"


@dataclass
class StaffSession:
    """One signed-in person. `stamp` ties the session to the password it was opened with."""

    sid: str
    user_id: int
    name: str
    role: str
    csrf: str
    stamp: str
    last_seen: datetime
    flash: list[tuple[str, str]] = field(default_factory=list)

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    def say(self, kind: str, message: str) -> None:
        """A message for the next page shown ("ok", "error" or "info"); never message text."""
        self.flash.append((kind, message))

    def take_flash(self) -> list[tuple[str, str]]:
        shown, self.flash = self.flash, []
        return shown


def password_stamp(user: StaffUser) -> str:
    """A short fingerprint of the stored hash: a new password changes it and ends old sessions."""
    return user.password_hash[-16:]


class SessionStore:
    """Open sessions by id, thread-safe (request handlers run in a thread pool)."""

    def __init__(self, clock: Clock, idle_timeout: timedelta) -> None:
        self.clock = clock
        self.idle_timeout = idle_timeout
        self._sessions: dict[str, StaffSession] = {}
        self._lock = threading.Lock()

    def open(self, user: StaffUser) -> StaffSession:
        """A new session with a fresh id and CSRF token (a new id at each login: no fixation)."""
        assert user.id is not None
        session = StaffSession(
            sid=secrets.token_urlsafe(32),
            user_id=user.id,
            name=user.name,
            role=user.role,
            csrf=secrets.token_urlsafe(32),
            stamp=password_stamp(user),
            last_seen=self.clock(),
        )
        with self._lock:
            self._forget_idle()
            self._sessions[session.sid] = session
        return session

    def get(self, sid: str) -> tuple[StaffSession | None, bool]:
        """The live session for `sid`, and whether it had just expired from idleness."""
        now = self.clock()
        with self._lock:
            session = self._sessions.get(sid)
            if session is None:
                return None, False
            if now - session.last_seen > self.idle_timeout:
                del self._sessions[sid]
                return None, True
            session.last_seen = now
            return session, False

    def close(self, sid: str) -> None:
        with self._lock:
            self._sessions.pop(sid, None)

    def _forget_idle(self) -> None:
        now = self.clock()
        for sid in [s for s, v in self._sessions.items() if now - v.last_seen > self.idle_timeout]:
            del self._sessions[sid]


class CookieSigner:
    """Signs cookie values with the installation's secret so that they cannot be forged or edited."""

    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt="practice-monitor-staff-page")

    def sign(self, value: str) -> str:
        return str(self._serializer.dumps(value))

    def unsign(self, cookie: str | None) -> str | None:
        if not cookie:
            return None
        try:
            value = self._serializer.loads(cookie)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None


def same_token(expected: str | None, given: object) -> bool:
    """Constant-time comparison of a CSRF token; a missing one never matches."""
    return bool(expected) and isinstance(given, str) and hmac.compare_digest(expected or "", given)


class LoginLimiter:
    """At most `limit` failed logins per client address in `window`; then that address waits."""

    def __init__(self, clock: Clock, limit: int = 10, window: timedelta = timedelta(minutes=15)) -> None:
        self.clock, self.limit, self.window = clock, limit, window
        self._failures: dict[str, deque[datetime]] = {}
        self._lock = threading.Lock()

    def _recent(self, client: str, now: datetime) -> deque[datetime]:
        times = self._failures.setdefault(client, deque())
        while times and now - times[0] > self.window:
            times.popleft()
        return times

    def wait_minutes(self, client: str) -> int:
        """0 if the address may try now, else how many minutes until it may."""
        now = self.clock()
        with self._lock:
            times = self._recent(client, now)
            if len(times) < self.limit:
                return 0
            return max(1, round((times[0] + self.window - now).total_seconds() / 60))

    def failed(self, client: str) -> None:
        now = self.clock()
        with self._lock:
            self._recent(client, now).append(now)

    def succeeded(self, client: str) -> None:
        with self._lock:
            self._failures.pop(client, None)
