"""Hiding a public comment (policy P6: clinical details posted in public), where the platform allows it.

Hiding is not posting: the comment stays on the platform, visible to its author and their friends,
but not to the public. It is a staff action like any other, so it is audited with who and when.
"""

from __future__ import annotations

import logging
from datetime import datetime
from typing import cast

from sqlmodel import Session, col, select

from connectors import CanHide, Connector, ConnectorError
from monitor import audit
from monitor.app import App
from monitor.db import Account, AuditEntry, Event
from monitor.errors import InvalidState, NotFound
from monitor.outbox import as_incoming
from monitor.storage import session_scope

log = logging.getLogger(__name__)


def hider(connector: Connector) -> CanHide | None:
    """The connector as a CanHide if it implements hiding, else None."""
    return cast(CanHide, connector) if callable(getattr(connector, "hide_comment", None)) else None


def can_hide(app: App, event: Event, account_name: str) -> bool:
    """True when the item is a public comment on an account whose connector can hide comments."""
    if event.kind != "comment" or event.purged_at is not None:
        return False
    try:
        return hider(app.connector(account_name)) is not None
    except ConnectorError:
        return False


def is_hidden(session: Session, item_id: int) -> bool:
    """Whether the last hide/unhide recorded for the item was a hide."""
    last = session.exec(
        select(AuditEntry)
        .where(AuditEntry.event_id == item_id, col(AuditEntry.action).in_(("comment_hidden", "comment_unhidden")))
        .order_by(col(AuditEntry.id).desc())
    ).first()
    return last is not None and last.action == "comment_hidden"


def hide_comment(app: App, item_id: int, actor: str, now: datetime, *, hidden: bool = True) -> None:
    """Ask the platform to hide (or unhide) the item's comment, then record it in the audit log."""
    if not actor.strip():
        raise InvalidState("say who is hiding the comment")
    with session_scope(app.engine) as session:
        event = session.get(Event, item_id)
        if event is None:
            raise NotFound(f"there is no item {item_id}")
        account = session.get(Account, event.account_id)
        assert account is not None
        if not can_hide(app, event, account.name):
            raise InvalidState(f"item {item_id} is not a public comment that {event.platform} lets us hide")
        if is_hidden(session, item_id) == hidden:
            raise InvalidState(f"the comment of item {item_id} is already {'hidden' if hidden else 'visible'}")
        incoming = as_incoming(event)
    target = hider(app.connector(account.name))
    assert target is not None
    verb = "hide" if hidden else "unhide"
    try:
        target.hide_comment(incoming, hidden)
    except ConnectorError as exc:
        log.warning("item %s: could not %s the comment on %s (%s)", item_id, verb, event.platform, type(exc).__name__)
        raise InvalidState(f"{event.platform} did not {verb} the comment of item {item_id}: {exc}") from None
    with session_scope(app.engine) as session:
        audit.record(
            session,
            at=now,
            actor=actor,
            action="comment_hidden" if hidden else "comment_unhidden",
            event_id=item_id,
            platform=event.platform,
        )
        session.commit()
    log.info("item %s: comment %s on %s by staff", item_id, "hidden" if hidden else "unhidden", event.platform)
