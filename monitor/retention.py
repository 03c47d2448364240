"""Erase message text and author handles after the policy's retention period (policy P9)."""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import update
from sqlalchemy.engine import Engine
from sqlmodel import col

from monitor.clock import Clock
from monitor.db import Event
from monitor.storage import session_scope

log = logging.getLogger(__name__)


def purge_expired(engine: Engine, retention_days: int, clock: Clock) -> int:
    """Blank text, author and link of events fetched more than `retention_days` ago; return the count.

    The rows stay (ids, kinds, labels) so that counts, the audit trail and de-duplication still work.
    """
    now = clock()
    cutoff = now - timedelta(days=retention_days)
    with session_scope(engine) as session:
        purged = session.execute(
            update(Event)
            .where(col(Event.fetched_at) < cutoff, col(Event.purged_at).is_(None))
            .values(text="", author_handle=None, url=None, purged_at=now)
        )
        session.commit()
        count = int(purged.rowcount or 0)  # type: ignore[attr-defined]
    if count:
        log.info("retention: erased the text of %d event(s) older than %d days", count, retention_days)
    return count
