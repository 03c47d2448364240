"""Render the weekly digest (Jinja2 templates beside the code) and send it; never twice for one week."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from jinja2 import Environment, PackageLoader, StrictUndefined, select_autoescape
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from monitor.app import App
from monitor.db import DigestLog
from monitor.digest import Change, Digest, build_digest, last_digest_time
from monitor.mailer import send_mail
from monitor.storage import session_scope

log = logging.getLogger(__name__)


def _duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    minutes = int(seconds // 60)
    if minutes < 60:
        return f"{minutes} min"
    hours = minutes / 60
    return f"{hours:.1f} h" if hours < 48 else f"{hours / 24:.1f} days"


def render(digest: Digest, timezone: str) -> tuple[str, str, str]:
    """(subject, plain text, HTML) of the digest."""
    env = Environment(
        loader=PackageLoader("monitor", "templates"),
        autoescape=select_autoescape(["html"]),
        undefined=StrictUndefined,
        trim_blocks=False,
    )
    zone = ZoneInfo(timezone)
    peak = max((n for _, n in digest.per_day), default=0) or 1

    def delta(change: Change) -> str:
        diff = change.this_week - change.last_week
        return f"{diff:+d}" if diff else "same"

    helpers = {
        "d": digest,
        "local": lambda t: t.astimezone(zone).strftime("%a %d %b %Y %H:%M"),
        "delta": delta,
        "duration": _duration,
        "bar": lambda n: max(1, round(100 * n / peak)),
    }
    subject = f"{digest.practice_name}: weekly digest, {digest.total.this_week} items"
    return subject, env.get_template("digest.txt").render(**helpers), env.get_template("digest.html").render(**helpers)


def digest_for(app: App, end: datetime) -> Digest:
    """The digest of the 7 days before `end`."""
    with session_scope(app.engine) as session:
        return build_digest(
            session, app.policy, end - timedelta(days=7), end, app.clock(), app.settings.monitor_staff_url
        )


def send_digest(app: App, end: datetime) -> None:
    """Render and email the digest of the 7 days before `end` (raises MailError on failure)."""
    subject, text, html = render(digest_for(app, end), app.policy.timezone)
    send_mail(app.settings, list(app.policy.digest.recipients), subject, text, html)


def send_scheduled_digest(app: App) -> bool:
    """Send this week's digest if it is due and not yet sent; True when it was sent now.

    Called by the cron job several times after the digest hour, so a failed send is retried the same day.
    """
    end = last_digest_time(app.clock(), app.policy)
    with session_scope(app.engine) as session:
        if session.exec(select(DigestLog).where(DigestLog.period_start == end - timedelta(days=7))).first():
            return False
    send_digest(app, end)
    with session_scope(app.engine) as session:
        session.add(
            DigestLog(
                period_start=end - timedelta(days=7), sent_at=app.clock(), recipients=len(app.policy.digest.recipients)
            )
        )
        try:
            session.commit()
        except IntegrityError:  # another process recorded it first
            session.rollback()
    log.info("weekly digest sent to %d recipient(s)", len(app.policy.digest.recipients))
    return True
