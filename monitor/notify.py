"""Alerts for urgent items, through every configured channel (log, email, apprise URLs).

Alerts carry the item id, platform, kind, age and a link only — never text or author (policy P9).
An alert is recorded in the database before delivery; each channel's success is remembered so a
retry does not repeat it; failures are recorded, backed off and never stop polling or dispatch.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta
from html import escape
from typing import ClassVar, Protocol

from sqlalchemy import or_
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from monitor.clock import Clock, age_in_words
from monitor.db import Alert, Event
from monitor.mailer import send_mail
from monitor.policy import Policy
from monitor.settings import Settings
from monitor.storage import session_scope

log = logging.getLogger(__name__)
MAX_BACKOFF = timedelta(minutes=30)


@dataclass(frozen=True)
class UrgentAlert:
    """Everything an alert may say. There is deliberately no field for text or author."""

    item_id: int
    reason: str
    platform: str
    kind: str
    age_seconds: float
    link: str
    level: int = 0

    def subject(self) -> str:
        """Email subject / notification title."""
        if self.level:
            return f"ESCALATION {self.level}: urgent item {self.item_id} is still unacknowledged"
        return f"URGENT: item {self.item_id} needs attention now ({self.platform} {self.kind})"

    def summary(self) -> str:
        """One line for a log, console, SMS or chat message."""
        prefix = f"ESCALATION {self.level}: nobody has acknowledged " if self.level else "URGENT "
        return (
            f"{prefix}item {self.item_id}: {self.reason} on {self.platform} ({self.kind}), "
            f"{age_in_words(self.age_seconds)}. Open it: {self.link}"
        )

    def body_text(self) -> str:
        """Plain-text email body."""
        return (
            f"{self.summary()}\n\nThe message itself is only on the staff page. If someone may be in danger, "
            "follow the practice's crisis procedure.\n"
        )

    def body_html(self) -> str:
        """HTML email body (the same facts)."""
        return (
            f"<p><strong>{escape(self.subject())}</strong></p><p>{escape(self.summary())}</p>"
            f'<p><a href="{escape(self.link)}">Open item {self.item_id} on the staff page</a></p>'
            "<p>The message itself is only on the staff page.</p>"
        )


class Notifier(Protocol):
    """One alert channel; raises on failure."""

    name: ClassVar[str]

    def send_urgent(self, alert: UrgentAlert, recipients: list[str]) -> None: ...

    def send_notice(self, subject: str, text: str, recipients: list[str]) -> None: ...


class LogNotifier:
    """Writes alerts to the log (the console and the journal): works even when everything else fails."""

    name: ClassVar[str] = "log"

    def send_urgent(self, alert: UrgentAlert, recipients: list[str]) -> None:
        log.warning("%s", alert.summary())

    def send_notice(self, subject: str, text: str, recipients: list[str]) -> None:
        log.warning("%s: %s", subject, text)


class EmailNotifier:
    """Emails the policy's alert recipients."""

    name: ClassVar[str] = "email"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def send_urgent(self, alert: UrgentAlert, recipients: list[str]) -> None:
        if not recipients:
            log.warning("alert for item %s: no email recipients in the policy's [alerts]", alert.item_id)
            return
        send_mail(self.settings, recipients, alert.subject(), alert.body_text(), alert.body_html())

    def send_notice(self, subject: str, text: str, recipients: list[str]) -> None:
        if recipients:
            send_mail(self.settings, recipients, subject, text, f"<p>{escape(text)}</p>")


class AppriseNotifier:
    """Sends to the apprise URLs in MONITOR_ALERT_URLS (SMS gateways, Teams, Slack, ntfy ...)."""

    name: ClassVar[str] = "apprise"

    def __init__(self, urls: list[str]) -> None:
        self.urls = urls

    def send_urgent(self, alert: UrgentAlert, recipients: list[str]) -> None:
        self.send_notice(alert.subject(), alert.summary(), recipients)

    def send_notice(self, subject: str, text: str, recipients: list[str]) -> None:
        import apprise

        client = apprise.Apprise()
        for url in self.urls:
            if not client.add(url):
                raise RuntimeError("an entry of MONITOR_ALERT_URLS is not a valid apprise URL")
        if not client.notify(title=subject, body=text):
            raise RuntimeError("apprise could not deliver to at least one MONITOR_ALERT_URLS channel")


def default_notifiers(settings: Settings) -> list[Notifier]:
    """The log always; email when SMTP is set; apprise when MONITOR_ALERT_URLS is set."""
    notifiers: list[Notifier] = [LogNotifier()]
    if settings.smtp_host and settings.smtp_from:
        notifiers.append(EmailNotifier(settings))
    urls = settings.monitor_alert_urls.get_secret_value().split()
    if urls:
        notifiers.append(AppriseNotifier(urls))
    return notifiers


def recipients_for(policy: Policy, audience: str) -> list[str]:
    """Who hears about an alert: on-call first; escalations go to the escalation list (or on-call)."""
    if audience == "escalation" and policy.alerts.escalation_recipients:
        return list(policy.alerts.escalation_recipients)
    return list(policy.alerts.recipients)


def deliver_pending_alerts(
    engine: Engine, notifiers: list[Notifier], policy: Policy, clock: Clock, staff_url: str
) -> int:
    """Deliver every due, undelivered alert on each channel not yet done; return how many completed."""
    now = clock()
    completed = 0
    with session_scope(engine) as session:
        due = session.exec(
            select(Alert, Event)
            .join(Event, col(Alert.event_id) == col(Event.id))
            .where(col(Alert.delivered_at).is_(None))
            .where(or_(col(Alert.next_attempt_at).is_(None), col(Alert.next_attempt_at) <= now))
            .order_by(col(Alert.id))
        ).all()
        for alert, event in due:
            assert event.id is not None
            message = UrgentAlert(
                item_id=event.id,
                reason=alert.reason,
                platform=event.platform,
                kind=event.kind,
                age_seconds=(now - event.created_at).total_seconds(),
                link=f"{staff_url.rstrip('/')}/items/{event.id}",
                level=alert.level,
            )
            alert.attempts += 1
            done, errors = list(alert.channels_done), []
            for notifier in notifiers:
                if notifier.name in done:
                    continue
                try:
                    notifier.send_urgent(message, recipients_for(policy, alert.audience))
                except Exception as exc:  # any channel failure: record, back off, keep going
                    errors.append(f"{notifier.name}: {exc}")
                    log.error(
                        "alert %s for item %s not delivered by %s (attempt %s): %s",
                        alert.id,
                        event.id,
                        notifier.name,
                        alert.attempts,
                        exc,
                    )
                else:
                    done.append(notifier.name)
            alert.channels_done = done  # reassigned, not mutated: JSON columns do not track in-place edits
            if errors:
                alert.last_error = "; ".join(errors)[:500]
                alert.next_attempt_at = now + min(MAX_BACKOFF, timedelta(seconds=30 * 2**alert.attempts))
            else:
                alert.delivered_at, alert.last_error, alert.next_attempt_at = now, None, None
                completed += 1
            session.add(alert)
            session.commit()
    return completed
