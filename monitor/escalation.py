"""Escalation: an urgent item nobody acknowledged in time alerts the escalation list, repeatedly.

Acknowledged means a person acted on it: approved or rejected its reply, or closed it.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.engine import Engine
from sqlmodel import col, select

from monitor.clock import Clock
from monitor.db import Alert, Event, Reply
from monitor.policy import Policy
from monitor.storage import session_scope

log = logging.getLogger(__name__)


def acknowledged(event: Event, reply: Reply | None) -> bool:
    """True once staff acted on the item."""
    return event.handled_at is not None or (reply is not None and reply.state != "queued")


def escalate_unacknowledged(engine: Engine, policy: Policy, clock: Clock) -> list[int]:
    """Record an escalation alert for each urgent item whose last alert is older than the policy allows.

    The first escalation comes `escalation_minutes` after the first alert, then every
    `escalation_repeat_minutes` until someone acknowledges. Returns the escalated item ids.
    """
    now = clock()
    first_wait = timedelta(minutes=policy.alerts.escalation_minutes)
    repeat_wait = timedelta(minutes=policy.alerts.escalation_repeat_minutes or policy.alerts.escalation_minutes)
    escalated: list[int] = []
    with session_scope(engine) as session:
        urgent = session.exec(
            select(Event, Reply).join(Reply, col(Reply.event_id) == col(Event.id), isouter=True).where(Event.urgent)
        ).all()
        for event, reply in urgent:
            if acknowledged(event, reply):
                continue
            last = session.exec(
                select(Alert).where(Alert.event_id == event.id).order_by(col(Alert.level).desc())
            ).first()
            if last is None:
                continue
            wait = first_wait if last.level == 0 else repeat_wait
            if now - last.created_at < wait:
                continue
            assert event.id is not None
            session.add(
                Alert(
                    event_id=event.id, reason=last.reason, audience="escalation", level=last.level + 1, created_at=now
                )
            )
            escalated.append(event.id)
            log.warning(
                "item %s: no acknowledgement for %s; escalating (round %s)",
                event.id,
                now - last.created_at,
                last.level + 1,
            )
        session.commit()
    return escalated
