"""Staff logins for the staff page: create, disable, change passwords, check a login with lockout.

Passwords are stored as argon2 hashes only. Repeated wrong passwords lock a login for a while, so a
guessed password needs far more tries than an attacker gets. Every change is in the audit log.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlmodel import Session, col, select

from monitor import audit
from monitor.db import StaffUser
from monitor.errors import InvalidState, MonitorError, NotFound

ROLES = ("staff", "admin")
MIN_PASSWORD = 10
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,63}$")


class LoginRefused(MonitorError):
    """A login attempt that did not succeed; the message is safe to show on the login page."""


def default_hasher() -> PasswordHasher:
    """argon2id with the library's recommended cost (about a quarter of a second per check)."""
    return PasswordHasher()


@dataclass(frozen=True)
class UserView:
    """What the admin page and the CLI show about a login (never the hash)."""

    name: str
    role: str
    disabled: bool
    locked_until: datetime | None
    last_login_at: datetime | None
    created_at: datetime


def _view(user: StaffUser) -> UserView:
    return UserView(user.name, user.role, user.disabled, user.locked_until, user.last_login_at, user.created_at)


def check_password_rules(password: str) -> None:
    """Refuse passwords too short to resist guessing; say what is needed."""
    if len(password) < MIN_PASSWORD:
        raise InvalidState(f"the password must be at least {MIN_PASSWORD} characters long")
    if password != password.strip():
        raise InvalidState("the password must not start or end with a space")


def _get(session: Session, name: str) -> StaffUser:
    user = session.exec(select(StaffUser).where(StaffUser.name == name)).first()
    if user is None:
        raise NotFound(f"there is no login named {name!r}; `monitor user list` shows them")
    return user


def list_users(session: Session) -> list[UserView]:
    """All logins, by name."""
    return [_view(u) for u in session.exec(select(StaffUser).order_by(col(StaffUser.name)))]


def add_user(
    session: Session, hasher: PasswordHasher, name: str, password: str, role: str, actor: str, now: datetime
) -> UserView:
    """Create a login. Names are short, plain and unique; the password is hashed at once."""
    name = name.strip()
    if not _NAME.match(name):
        raise InvalidState("a login name is 1-64 letters, digits, spaces or . _ @ - and starts with a letter or digit")
    if role not in ROLES:
        raise InvalidState(f"the role must be one of {', '.join(ROLES)}")
    check_password_rules(password)
    if session.exec(select(StaffUser).where(StaffUser.name == name)).first() is not None:
        raise InvalidState(f"there is already a login named {name!r}")
    user = StaffUser(name=name, password_hash=hasher.hash(password), role=role, created_at=now)
    session.add(user)
    audit.record(session, at=now, actor=actor, action="user_added", user=name, role=role)
    session.commit()
    return _view(user)


def set_disabled(session: Session, name: str, disabled: bool, actor: str, now: datetime) -> None:
    """Disable (or enable again) a login; a disabled login's sessions stop working at once."""
    user = _get(session, name)
    if user.disabled == disabled:
        raise InvalidState(f"the login {name!r} is already {'disabled' if disabled else 'enabled'}")
    user.disabled = disabled
    session.add(user)
    audit.record(session, at=now, actor=actor, action="user_disabled" if disabled else "user_enabled", user=name)
    session.commit()


def set_password(session: Session, hasher: PasswordHasher, name: str, password: str, actor: str, now: datetime) -> None:
    """Replace a password and lift any lockout; existing sessions of that login end."""
    check_password_rules(password)
    user = _get(session, name)
    user.password_hash = hasher.hash(password)
    user.failed_logins, user.locked_until = 0, None
    session.add(user)
    audit.record(session, at=now, actor=actor, action="password_changed", user=name)
    session.commit()


def unlock(session: Session, name: str, actor: str, now: datetime) -> None:
    """Lift a lockout before it runs out (an admin vouches for the person)."""
    user = _get(session, name)
    user.failed_logins, user.locked_until = 0, None
    session.add(user)
    audit.record(session, at=now, actor=actor, action="user_unlocked", user=name)
    session.commit()


def _locked(user: StaffUser, now: datetime) -> bool:
    return user.locked_until is not None and now < user.locked_until


def authenticate(session: Session, hasher: PasswordHasher, name: str, password: str, now: datetime) -> StaffUser:
    """The user if `password` is right and the login is usable; LoginRefused otherwise.

    Unknown names cost the same hash check as known ones, and the message does not say which part
    was wrong. A wrong password counts towards the lockout; a right one resets the count.
    """
    wrong = LoginRefused("that name and password do not match")
    user = session.exec(select(StaffUser).where(StaffUser.name == name.strip())).first()
    if user is None:
        _burn(hasher, password)
        raise wrong
    if _locked(user, now):
        assert user.locked_until is not None
        minutes = max(1, round((user.locked_until - now).total_seconds() / 60))
        raise LoginRefused(
            f"this login is locked after too many wrong passwords; try again in {minutes} minute"
            f"{'s' if minutes != 1 else ''}, or ask an admin to unlock it"
        )
    try:
        hasher.verify(user.password_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        user.failed_logins += 1
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.locked_until, user.failed_logins = now + LOCKOUT, 0
            audit.record(session, at=now, actor=audit.SYSTEM_ACTOR, action="login_locked", user=user.name)
        session.add(user)
        session.commit()
        raise wrong from None
    if user.disabled:
        raise LoginRefused("this login is disabled; ask an admin of the staff page")
    if hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hasher.hash(password)
    user.failed_logins, user.last_login_at = 0, now
    session.add(user)
    audit.record(session, at=now, actor=user.name, action="signed_in")
    session.commit()
    session.refresh(user)
    return user


def _burn(hasher: PasswordHasher, password: str) -> None:
    """Spend the time of one real check so response times do not reveal which names exist."""
    hasher.hash(password)
