"""THE ONLY code that posts to a platform. Each approved reply is posted at most once.

A reply is claimed (approved -> sending, committed) before the platform call and recorded as sent
after it. A reply left in `sending` by a crash is never re-posted blindly: the connector is asked
whether it exists; if it cannot tell, the reply goes to `needs_review` for staff to check.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import or_, update
from sqlalchemy.engine import Engine
from sqlmodel import col, select

from connectors import AuthExpired, CannotVerify, Connector, ConnectorError, IncomingEvent, RateLimited
from monitor import audit
from monitor.clock import Clock
from monitor.db import Account, Event, Reply
from monitor.logsetup import describe_bug
from monitor.storage import session_scope

log = logging.getLogger(__name__)
MAX_ATTEMPTS = 5
#: a reply in `sending` for longer than this was left by a crashed process (calls time out sooner)
STALE_SENDING = timedelta(minutes=2)

ConnectorFor = Callable[[str], Connector]  # account name -> connector


@dataclass
class DispatchResult:
    """Item (event) ids by outcome of one dispatch run: the ids staff see in the queue."""

    sent: list[int] = field(default_factory=list)
    retry_later: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    needs_review: list[int] = field(default_factory=list)
    recovered: list[int] = field(default_factory=list)


def as_incoming(event: Event) -> IncomingEvent:
    """The stored event in the shape connectors take."""
    return IncomingEvent(
        platform=event.platform,
        kind=event.kind,
        external_id=event.external_id,
        text=event.text,
        created_at=event.created_at,
        author_handle=event.author_handle,
        url=event.url,
        parent_id=event.parent_id,
        thread_id=event.thread_id,
        rating=event.rating,
    )


def dispatch(engine: Engine, connector_for: ConnectorFor, clock: Clock) -> DispatchResult:
    """Recover replies stuck in `sending`, then post every due approved reply, urgent items first."""
    result = DispatchResult()
    recover_stale(engine, connector_for, clock, result)
    now = clock()
    with session_scope(engine) as session:
        due = session.exec(
            select(Reply.id)
            .join(Event, col(Reply.event_id) == col(Event.id))
            .where(Reply.state == "approved")
            .where(or_(col(Reply.next_attempt_at).is_(None), col(Reply.next_attempt_at) <= now))
            .order_by(col(Event.urgent).desc(), col(Reply.approved_at))
        ).all()
    blocked_accounts: set[str] = set()
    for reply_id in due:
        assert reply_id is not None
        send_one(engine, reply_id, connector_for, clock, result, blocked_accounts)
    return result


def _claim(engine: Engine, reply_id: int, now: datetime) -> bool:
    """approved -> sending, only if still approved: two dispatchers never both post one reply."""
    with session_scope(engine) as session:
        claimed = session.execute(
            update(Reply)
            .where(col(Reply.id) == reply_id, col(Reply.state) == "approved")
            .values(state="sending", claimed_at=now, attempts=Reply.attempts + 1, updated_at=now)
        )
        session.commit()
        return bool(claimed.rowcount == 1)  # type: ignore[attr-defined]


def send_one(
    engine: Engine,
    reply_id: int,
    connector_for: ConnectorFor,
    clock: Clock,
    result: DispatchResult,
    blocked_accounts: set[str],
) -> None:
    """Claim, post and record one reply."""
    with session_scope(engine) as session:
        reply = session.get(Reply, reply_id)
        assert reply is not None
        event = session.get(Event, reply.event_id)
        assert event is not None
        account = session.get(Account, event.account_id)
        assert account is not None
        account_name, incoming, text, item_id = account.name, as_incoming(event), reply.text, reply.event_id
    if account_name in blocked_accounts or not _claim(engine, reply_id, clock()):
        return
    try:
        external_id = connector_for(account_name).post_reply(incoming, text)
    except AuthExpired as exc:
        blocked_accounts.add(account_name)
        _finish(
            engine,
            reply_id,
            clock,
            "approved",
            error=f"account credentials need attention: {exc}",
            delay=timedelta(minutes=30),
        )
        result.retry_later.append(item_id)
    except RateLimited as exc:
        blocked_accounts.add(account_name)
        delay = timedelta(seconds=exc.retry_after or 60)
        _finish(engine, reply_id, clock, "approved", error=f"rate limited: {exc}", delay=delay)
        result.retry_later.append(item_id)
    except ConnectorError as exc:
        _after_error(engine, reply_id, item_id, clock, exc, result)
    except Exception as exc:  # an unexpected failure may have happened after the post went out
        _finish(engine, reply_id, clock, "needs_review", error=f"unexpected {type(exc).__name__} while posting")
        result.needs_review.append(item_id)
        log.error("reply %s: unexpected %s while posting; staff must check the platform", reply_id, describe_bug(exc))
    else:
        _finish(engine, reply_id, clock, "sent", external_id=external_id)
        result.sent.append(item_id)
        log.info("item %s: reply posted on %s as %s", item_id, account_name, external_id)


def _after_error(
    engine: Engine, reply_id: int, item_id: int, clock: Clock, exc: ConnectorError, result: DispatchResult
) -> None:
    with session_scope(engine) as session:
        attempts = session.get(Reply, reply_id).attempts  # type: ignore[union-attr]
    if exc.permanent or attempts >= MAX_ATTEMPTS:
        _finish(engine, reply_id, clock, "failed", error=str(exc))
        result.failed.append(item_id)
        log.error("reply %s failed permanently after %s attempt(s)", reply_id, attempts)
    else:
        delay = timedelta(minutes=2**attempts)
        _finish(engine, reply_id, clock, "approved", error=str(exc), delay=delay)
        result.retry_later.append(item_id)
        log.warning("reply %s: transient error, retrying in %s", reply_id, delay)


def _finish(
    engine: Engine,
    reply_id: int,
    clock: Clock,
    state: str,
    *,
    error: str | None = None,
    external_id: str | None = None,
    delay: timedelta | None = None,
) -> None:
    """Record the outcome of a post attempt and audit it."""
    now = clock()
    with session_scope(engine) as session:
        reply = session.get(Reply, reply_id)
        assert reply is not None
        reply.state, reply.updated_at, reply.version = state, now, reply.version + 1
        reply.last_error = error[:500] if error else None
        reply.next_attempt_at = now + delay if delay else None
        if external_id is not None:
            reply.external_reply_id, reply.sent_at = external_id, now
        session.add(reply)
        action = {"sent": "reply_sent", "approved": "reply_retry_scheduled"}.get(state, f"reply_{state}")
        audit.record(
            session,
            at=now,
            actor=audit.SYSTEM_ACTOR,
            action=action,
            event_id=reply.event_id,
            reply_id=reply_id,
            state=state,
            external_reply_id=external_id,
            error=reply.last_error,
        )
        session.commit()


def recover_stale(engine: Engine, connector_for: ConnectorFor, clock: Clock, result: DispatchResult) -> None:
    """Settle replies a crashed process left in `sending` by asking the platform."""
    cutoff = clock() - STALE_SENDING
    with session_scope(engine) as session:
        stale = session.exec(
            select(Reply, Event, Account)
            .join(Event, col(Reply.event_id) == col(Event.id))
            .join(Account, col(Event.account_id) == col(Account.id))
            .where(Reply.state == "sending", col(Reply.claimed_at) < cutoff)
        ).all()
        work = [(r.id, r.event_id, a.name, as_incoming(e), r.text) for r, e, a in stale]
    for reply_id, item_id, account_name, incoming, text in work:
        assert reply_id is not None
        try:
            found = connector_for(account_name).find_reply(incoming, text)
        except (CannotVerify, ConnectorError) as exc:
            _finish(
                engine,
                reply_id,
                clock,
                "needs_review",
                error=f"interrupted while posting and the platform cannot confirm it: {exc}",
            )
            result.needs_review.append(item_id)
            log.warning("reply %s was interrupted while posting; staff must check the platform", reply_id)
            continue
        if found:
            _finish(engine, reply_id, clock, "sent", external_id=found)
        else:
            _finish(engine, reply_id, clock, "approved", error="interrupted before posting; will post again")
        result.recovered.append(item_id)
