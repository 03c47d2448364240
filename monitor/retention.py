"""Erase message text, author handles and reply texts after the policy's retention period (policy P9)."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import delete, update
from sqlalchemy.engine import Engine
from sqlmodel import Session, col, select

from monitor import audit
from monitor.clock import Clock
from monitor.db import AuditText, Event, Reply
from monitor.storage import session_scope

log = logging.getLogger(__name__)

#: replies still waiting for staff (or for a retry) when their item expires: closed, never posted late
EXPIRABLE = ("queued", "approved", "needs_review", "failed")
#: replies that are finished; only their text is erased
FINISHED = ("sent", "rejected")


def purge_expired(engine: Engine, retention_days: int, clock: Clock) -> int:
    """Blank text, author and link of events fetched more than `retention_days` ago; return the count.

    The rows stay (ids, kinds, labels) so that counts, the audit trail and de-duplication still work.
    The replies and audit reply texts of every erased item go too: a staff edit may quote the person.
    """
    now = clock()
    cutoff = now - timedelta(days=retention_days)
    with session_scope(engine) as session:
        purged = session.execute(
            update(Event)
            .where(col(Event.fetched_at) < cutoff, col(Event.purged_at).is_(None))
            .values(text="", author_handle=None, url=None, purged_at=now)
        )
        count = int(purged.rowcount or 0)  # type: ignore[attr-defined]
        expired = _erase_replies(session, now)
        session.commit()
    if count:
        log.info("retention: erased the text of %d event(s) older than %d days", count, retention_days)
    if expired:
        log.info("retention: closed %d reply(ies) never approved or posted before their item expired", expired)
    return count


def _erase_replies(session: Session, now: datetime) -> int:
    """Erase reply texts of erased items (idempotent); close open replies; return how many were closed."""
    erased_items = select(Event.id).where(col(Event.purged_at).is_not(None))
    session.execute(delete(AuditText).where(col(AuditText.event_id).in_(erased_items)))
    stale = list(
        session.exec(select(Reply).where(col(Reply.event_id).in_(erased_items), col(Reply.state).in_(EXPIRABLE)))
    )
    closed = 0
    for reply in stale:
        before_state = reply.state  # read first: the UPDATE below also refreshes `reply`
        changed = session.execute(  # guarded by version, like a staff action, so a racing approval wins cleanly
            update(Reply)
            .where(col(Reply.id) == reply.id, col(Reply.version) == reply.version, col(Reply.state).in_(EXPIRABLE))
            .values(
                state="rejected",
                rejected_by=audit.SYSTEM_ACTOR,
                rejected_at=now,
                reject_reason="expired after the retention period",
                updated_at=now,
                version=reply.version + 1,
            )
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            continue
        closed += 1
        audit.record(
            session,
            at=now,
            actor=audit.SYSTEM_ACTOR,
            action="reply_expired",
            event_id=reply.event_id,
            reply_id=reply.id,
            before_state=before_state,
        )
    session.flush()
    session.execute(
        update(Reply)
        .where(col(Reply.event_id).in_(erased_items), col(Reply.state).in_(FINISHED), col(Reply.text) != "")
        .values(text="")
    )
    return closed
