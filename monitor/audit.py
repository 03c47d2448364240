"""The append-only audit log: every staff action and every post, with who and when."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from monitor.db import AuditEntry

SYSTEM_ACTOR = "practice-monitor"


def record(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    event_id: int | None = None,
    reply_id: int | None = None,
    **detail: Any,
) -> None:
    """Add one entry to the caller's transaction (never message text: ids, states, reply text)."""
    session.add(AuditEntry(at=at, actor=actor, action=action, event_id=event_id, reply_id=reply_id, detail=detail))


def entries(session: Session, *, event_id: int | None = None, limit: int | None = None) -> list[AuditEntry]:
    """Audit entries oldest first, optionally for one item."""
    query = select(AuditEntry).order_by(AuditEntry.id)  # type: ignore[arg-type]
    if event_id is not None:
        query = query.where(AuditEntry.event_id == event_id)
    rows = list(session.exec(query))
    return rows[-limit:] if limit else rows
