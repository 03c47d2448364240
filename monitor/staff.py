"""Staff operations on queued items: list, show, approve, reject. Every change is audited.

An item is an event that the rules flagged (its id is the event id). Approval is a conditional
update on the reply's version, so two people acting at once cannot both win.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlmodel import Session, col, select

from monitor import audit
from monitor.db import OPEN_REPLY_STATES, Account, Alert, Detection, Event, Reply
from monitor.errors import InvalidState, NotFound
from monitor.policy import Policy
from rules import lint_reply

APPROVABLE = ("queued", "needs_review", "failed")
REJECTABLE = ("queued", "approved", "needs_review", "failed")
RECENT_CLOSED = timedelta(days=14)


@dataclass(frozen=True)
class QueueItem:
    """One row of the queue. `text`/`author` are filled only when asked for."""

    id: int
    state: str
    labels: list[str]
    platform: str
    kind: str
    account: str
    urgent: bool
    age_seconds: float
    created_at: datetime
    reply_id: int | None
    last_error: str | None
    text: str | None = None
    author: str | None = None

    @property
    def is_open(self) -> bool:
        return self.state in (*OPEN_REPLY_STATES, "open")

    def as_json(self) -> dict[str, Any]:
        data = {k: v for k, v in self.__dict__.items() if k not in ("text", "author", "created_at")}
        data["created_at"] = self.created_at.isoformat()
        if self.text is not None:
            data["text"], data["author"] = self.text, self.author
        return data


@dataclass(frozen=True)
class ItemDetail:
    """Everything staff need to decide on one item."""

    item: QueueItem
    text: str
    author: str | None
    url: str | None
    evidence: list[dict[str, Any]]
    reply_text: str | None
    reply_template: str | None
    history: list[dict[str, Any]] = field(default_factory=list)


def _state(event: Event, reply: Reply | None) -> str:
    if reply is not None:
        # a reply stopped by `mark_handled` (staff answered another way) reads as handled, not rejected
        return "handled" if reply.state == "rejected" and event.handled_at else reply.state
    return "handled" if event.handled_at else "open"


def _item(
    event: Event, det: Detection | None, reply: Reply | None, account: Account, now: datetime, with_text: bool
) -> QueueItem:
    assert event.id is not None
    return QueueItem(
        id=event.id,
        state=_state(event, reply),
        labels=list(det.labels) if det else [],
        platform=event.platform,
        kind=event.kind,
        account=account.name,
        urgent=event.urgent,
        age_seconds=round((now - event.created_at).total_seconds()),
        created_at=event.created_at,
        reply_id=reply.id if reply else None,
        last_error=reply.last_error if reply else None,
        text=event.text if with_text else None,
        author=event.author_handle if with_text else None,
    )


def list_queue(session: Session, now: datetime, *, only_open: bool = False, with_text: bool = False) -> list[QueueItem]:
    """Flagged items: open ones first (urgent first, then oldest), then recently closed ones."""
    rows = session.exec(
        select(Event, Detection, Reply, Account)
        .join(Detection, col(Detection.event_id) == col(Event.id), isouter=True)
        .join(Reply, col(Reply.event_id) == col(Event.id), isouter=True)
        .join(Account, col(Account.id) == col(Event.account_id))
    ).all()
    items = [
        _item(e, d, r, a, now, with_text)
        for e, d, r, a in rows
        if r is not None or e.urgent or (d is not None and d.labels)
    ]
    open_items = sorted((i for i in items if i.is_open), key=lambda i: (not i.urgent, i.created_at))
    closed = (
        []
        if only_open
        else sorted(
            (i for i in items if not i.is_open and now - i.created_at <= RECENT_CLOSED),
            key=lambda i: i.created_at,
            reverse=True,
        )
    )
    return open_items + closed


def _load(session: Session, item_id: int) -> tuple[Event, Detection | None, Reply | None, Account]:
    event = session.get(Event, item_id)
    if event is None:
        raise NotFound(f"there is no item {item_id}; `monitor queue` lists the items")
    det = session.exec(select(Detection).where(Detection.event_id == item_id)).first()
    reply = session.exec(select(Reply).where(Reply.event_id == item_id)).first()
    account = session.get(Account, event.account_id)
    assert account is not None
    return event, det, reply, account


def show_item(session: Session, item_id: int, now: datetime) -> ItemDetail:
    """The item with its text, evidence, proposed reply and history."""
    event, det, reply, account = _load(session, item_id)
    history = [
        {"at": e.at.isoformat(), "actor": e.actor, "action": e.action, **e.detail}
        for e in audit.entries(session, event_id=item_id)
    ]
    return ItemDetail(
        item=_item(event, det, reply, account, now, with_text=False),
        text=event.text,
        author=event.author_handle,
        url=event.url,
        evidence=list(det.evidence) if det else [],
        reply_text=reply.text if reply else None,
        reply_template=reply.template if reply else None,
        history=history,
    )


def _refuse_state(item_id: int, reply: Reply, verb: str) -> InvalidState:
    who = {
        "approved": f" by {reply.approved_by}",
        "sent": f" (platform id {reply.external_reply_id})",
        "rejected": f" by {reply.rejected_by}",
    }.get(reply.state, "")
    return InvalidState(f"cannot {verb} item {item_id}: its reply is already {reply.state}{who}")


def _check_version(item_id: int, reply: Reply, expected_version: int | None) -> None:
    """Refuse to act on a reply that changed since the caller looked at it (the web form's version)."""
    if expected_version is not None and reply.version != expected_version:
        raise InvalidState(f"item {item_id} was changed after you opened it; look at it again before acting")


def approve(
    session: Session,
    policy: Policy,
    item_id: int,
    actor: str,
    now: datetime,
    *,
    text: str | None = None,
    override: bool = False,
    expected_version: int | None = None,
) -> Reply:
    """Approve (optionally edit) an item's reply; refuses unsafe text unless `override` (audited)."""
    if not actor.strip():
        raise InvalidState("say who is approving, e.g. --as 'Dana'")
    event, _, reply, _ = _load(session, item_id)
    if reply is None:
        why = " (the practice never replies to reviews, policy P7)" if event.kind == "review" else ""
        raise InvalidState(f"item {item_id} has no reply to approve{why}; use `monitor reject` to close it")
    if reply.state not in APPROVABLE:
        raise _refuse_state(item_id, reply, "approve")
    _check_version(item_id, reply, expected_version)
    final_text = reply.text if text is None else text.strip()
    if not final_text:
        raise InvalidState("the reply text is empty")
    label = reply.template.split(".")[0]
    findings = lint_reply(final_text, policy, label=label)
    if findings and not override:
        problems = "; ".join(f.message for f in findings)
        raise InvalidState(
            f"the reply for item {item_id} is not safe to send: {problems} (use --override to send anyway)"
        )
    before_text = reply.text  # the UPDATE below also refreshes `reply` in this session
    changed = session.execute(
        update(Reply)
        .where(col(Reply.id) == reply.id, col(Reply.version) == reply.version)
        .values(
            state="approved",
            text=final_text,
            approved_by=actor,
            approved_at=now,
            updated_at=now,
            version=reply.version + 1,
            last_error=None,
            next_attempt_at=None,
        )
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise InvalidState(f"item {item_id} was changed by someone else just now; look at it again")
    audit.record(
        session,
        at=now,
        actor=actor,
        action="reply_approved",
        event_id=item_id,
        reply_id=reply.id,
        before_text=before_text,
        after_text=final_text,
        edited=final_text != before_text,
        override=override,
        findings=[f.rule_id for f in findings],
    )
    session.commit()
    session.refresh(reply)
    return reply


def reject(
    session: Session,
    item_id: int,
    actor: str,
    now: datetime,
    *,
    reason: str = "",
    expected_version: int | None = None,
    false_alarm: bool = False,
) -> None:
    """Reject an item's reply, or close an item that has none (e.g. a review). Audited."""
    if not actor.strip():
        raise InvalidState("say who is rejecting, e.g. --as 'Dana'")
    event, _, reply, _ = _load(session, item_id)
    if reply is None:
        if event.handled_at is not None:
            raise InvalidState(f"item {item_id} was already closed by {event.handled_by}")
        event.handled_at, event.handled_by = now, actor
        session.add(event)
        audit.record(
            session, at=now, actor=actor, action="item_closed", event_id=item_id, reason=reason, false_alarm=false_alarm
        )
        session.commit()
        return
    if reply.state not in REJECTABLE:
        raise _refuse_state(item_id, reply, "reject")
    _check_version(item_id, reply, expected_version)
    before_state = reply.state
    changed = session.execute(
        update(Reply)
        .where(col(Reply.id) == reply.id, col(Reply.version) == reply.version)
        .values(
            state="rejected",
            rejected_by=actor,
            rejected_at=now,
            reject_reason=reason or None,
            updated_at=now,
            version=reply.version + 1,
        )
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        session.rollback()
        raise InvalidState(f"item {item_id} was changed by someone else just now; look at it again")
    audit.record(
        session,
        at=now,
        actor=actor,
        action="reply_rejected",
        event_id=item_id,
        reply_id=reply.id,
        reason=reason,
        before_state=before_state,
        false_alarm=false_alarm,
    )
    session.commit()


def mark_handled(
    session: Session, item_id: int, actor: str, now: datetime, *, expected_version: int | None = None
) -> None:
    """Close an item without posting anything (staff phoned the person, or answered on the platform).

    An item's open reply is stopped like a rejection, but the item reads as "handled". Audited.
    """
    if not actor.strip():
        raise InvalidState("say who handled the item")
    event, _, reply, _ = _load(session, item_id)
    if event.handled_at is not None:
        raise InvalidState(f"item {item_id} was already marked handled by {event.handled_by}")
    before_state = reply.state if reply else "open"
    if reply is not None:
        if reply.state not in REJECTABLE:
            raise _refuse_state(item_id, reply, "mark handled")
        _check_version(item_id, reply, expected_version)
        changed = session.execute(
            update(Reply)
            .where(col(Reply.id) == reply.id, col(Reply.version) == reply.version)
            .values(
                state="rejected",
                rejected_by=actor,
                rejected_at=now,
                reject_reason="handled without a reply",
                updated_at=now,
                version=reply.version + 1,
            )
        )
        if changed.rowcount != 1:  # type: ignore[attr-defined]
            session.rollback()
            raise InvalidState(f"item {item_id} was changed by someone else just now; look at it again")
    event.handled_at, event.handled_by = now, actor
    session.add(event)
    audit.record(
        session,
        at=now,
        actor=actor,
        action="item_handled",
        event_id=item_id,
        reply_id=reply.id if reply else None,
        before_state=before_state,
        before_text=reply.text if reply else None,
    )
    session.commit()


def undelivered_alerts(session: Session) -> list[Alert]:
    """Alerts that have failed at least once and are not delivered yet (shown to staff)."""
    return list(
        session.exec(
            select(Alert).where(col(Alert.delivered_at).is_(None), col(Alert.attempts) > 0).order_by(col(Alert.id))
        )
    )
