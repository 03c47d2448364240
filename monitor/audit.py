"""The append-only audit log: every staff action and every post, with who and when.

Reply texts go in `audit_text` beside the entry, not in it, so that retention can erase them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from monitor.db import AuditEntry, AuditText

SYSTEM_ACTOR = "practice-monitor"


def record(
    session: Session,
    *,
    at: datetime,
    actor: str,
    action: str,
    event_id: int | None = None,
    reply_id: int | None = None,
    before_text: str | None = None,
    after_text: str | None = None,
    **detail: Any,
) -> None:
    """Add one entry to the caller's transaction (ids and states in the entry; reply texts beside it)."""
    entry = AuditEntry(at=at, actor=actor, action=action, event_id=event_id, reply_id=reply_id, detail=detail)
    session.add(entry)
    if before_text is None and after_text is None:
        return
    session.flush()  # gives the entry its id
    assert entry.id is not None
    session.add(AuditText(audit_id=entry.id, event_id=event_id, before_text=before_text, after_text=after_text))


def entries(session: Session, *, event_id: int | None = None, limit: int | None = None) -> list[AuditEntry]:
    """Audit entries oldest first, optionally for one item."""
    query = select(AuditEntry).order_by(AuditEntry.id)  # type: ignore[arg-type]
    if event_id is not None:
        query = query.where(AuditEntry.event_id == event_id)
    rows = list(session.exec(query))
    return rows[-limit:] if limit else rows


def texts(session: Session, entry_ids: Iterable[int | None]) -> dict[int, AuditText]:
    """The reply texts kept for these entries, by entry id (absent once retention erased them)."""
    ids = [i for i in entry_ids if i is not None]
    if not ids:
        return {}
    found = session.exec(select(AuditText).where(col(AuditText.audit_id).in_(ids)))
    return {row.audit_id: row for row in found}
