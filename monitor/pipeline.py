"""poll -> store once -> classify -> decide -> queue reply / record alert, in one transaction per page.

The cursor advances in the same commit as the page's events, so a crash re-reads the page and the
unique key (platform, account, kind, external id) keeps every event stored exactly once.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Protocol

from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.sql.elements import ColumnElement
from sqlmodel import Session, col, select

from connectors import Connector, IncomingEvent
from connectors.base import EVENT_KINDS
from monitor.actions import decide
from monitor.clock import Clock, aware
from monitor.db import Account, Alert, Cursor, Detection, Event, Reply
from monitor.policy import AccountPolicy, Policy
from monitor.storage import begin_write, session_scope
from monitor.textclean import clean_text
from rules import RULES_VERSION
from rules import Detection as RulesDetection

log = logging.getLogger(__name__)
LONG_TEXT = 100_000


class ClassifyFn(Protocol):
    """The rules API: `rules.classify` or a practice-specific `Classifier.classify`."""

    def __call__(self, text: str, *, kind: str = "comment", platform: str = "") -> RulesDetection: ...


@dataclass
class PollResult:
    """What one poll of one account's stream did (counts and ids only)."""

    account: str
    stream: str
    new_events: int = 0
    seen_before: int = 0
    skipped: int = 0
    flagged: int = 0
    replies_queued: int = 0
    urgent_ids: list[int] = field(default_factory=list)


def ensure_account(session: Session, spec: AccountPolicy, now: Clock) -> Account:
    """The database row of a configured account, created on first sight."""
    row = session.exec(select(Account).where(Account.name == spec.name)).first()
    if row is None:
        row = Account(name=spec.name, platform=spec.platform, source=spec.source, created_at=now())
        try:
            with session.begin_nested():
                session.add(row)
                session.flush()
        except IntegrityError:  # the first polls of an account's streams run at once: another one made it
            row = session.exec(select(Account).where(Account.name == spec.name)).one()
    elif (row.platform, row.source) != (spec.platform, spec.source):
        row.platform, row.source = spec.platform, spec.source
        session.add(row)
    return row


def read_cursor(engine: Engine, spec: AccountPolicy, stream: str, clock: Clock) -> str | None:
    """The stored cursor of `spec`'s `stream` (creates the account row if new)."""
    with session_scope(engine) as session:
        begin_write(session)
        account = ensure_account(session, spec, clock)
        session.commit()
        row = session.exec(select(Cursor).where(Cursor.account_id == account.id, Cursor.stream == stream)).first()
        return row.value if row else None


def poll_stream(
    engine: Engine,
    policy: Policy,
    spec: AccountPolicy,
    stream: str,
    connector: Connector,
    classify: ClassifyFn,
    clock: Clock,
) -> PollResult:
    """Fetch one page of `stream` after the stored cursor and process it. Connector errors propagate."""
    page = connector.fetch(stream, read_cursor(engine, spec, stream, clock))
    result = PollResult(spec.name, stream)
    with session_scope(engine) as session:
        begin_write(session)  # the whole page, its detections and its cursor commit together or not at all
        account = ensure_account(session, spec, clock)
        assert account.id is not None
        for incoming in page.events:
            store_and_process(session, policy, account, incoming, classify, clock, result)
        if page.next_cursor is not None:
            save_cursor(session, account.id, stream, page.next_cursor, clock)
        session.commit()
    return result


def save_cursor(session: Session, account_id: int, stream: str, value: str, clock: Clock) -> None:
    """Set the cursor inside the caller's transaction (committed together with the events)."""
    row = session.exec(select(Cursor).where(Cursor.account_id == account_id, Cursor.stream == stream)).first()
    if row is None:
        row = Cursor(account_id=account_id, stream=stream, value=value, updated_at=clock())
    else:
        row.value, row.updated_at = value, clock()
    session.add(row)


def store_and_process(
    session: Session,
    policy: Policy,
    account: Account,
    incoming: IncomingEvent,
    classify: ClassifyFn,
    clock: Clock,
    result: PollResult,
) -> None:
    """Store `incoming` if new; classify it; queue the reply and the alert the policy asks for."""
    incoming = _storable_fields(incoming)
    where = f"{account.name}/{incoming.kind}/{incoming.external_id!r}"
    if incoming.kind not in EVENT_KINDS or not incoming.external_id:
        log.warning("skipped a malformed event from %s: kind or external id missing or unknown", account.name)
        result.skipped += 1
        return
    if session.exec(select(Event.id).where(*_key(account, incoming))).first() is not None:
        result.seen_before += 1
        return
    text, repaired = clean_text(incoming.text)
    if repaired:
        log.warning("event %s: text had invalid UTF-8 or NUL characters; they were replaced", where)
    if len(text) > LONG_TEXT:
        log.warning("event %s: unusually long text (%d characters), stored in full", where, len(text))
    keep_author = incoming.kind != "follow" or policy.keep_follower_identity
    event = Event(
        platform=incoming.platform,
        account_id=account.id,  # type: ignore[arg-type]
        kind=incoming.kind,
        external_id=incoming.external_id,
        parent_id=incoming.parent_id,
        thread_id=incoming.thread_id,
        author_handle=incoming.author_handle if keep_author else None,
        text=text,
        url=incoming.url,
        rating=incoming.rating,
        created_at=aware(incoming.created_at),
        fetched_at=clock(),
    )
    try:
        with session.begin_nested():
            session.add(event)
            session.flush()
    except IntegrityError:  # another process stored it between our check and insert
        result.seen_before += 1
        return
    assert event.id is not None
    result.new_events += 1
    found = classify(text, kind=incoming.kind, platform=incoming.platform)
    session.add(
        Detection(
            event_id=event.id,
            labels=sorted(found.labels),
            evidence=[asdict(e) for e in found.evidence],
            rules_version=RULES_VERSION,
            created_at=clock(),
        )
    )
    if not found.labels:
        return
    result.flagged += 1
    action = decide(found.labels, incoming.kind, frozenset(policy.alerts.urgent_labels))
    if action.urgent:
        event.urgent = True
        session.add(event)
        reason = (
            "crisis" if "crisis" in found.labels else "+".join(sorted(found.labels & set(policy.alerts.urgent_labels)))
        )
        session.add(Alert(event_id=event.id, reason=reason, created_at=clock()))
        result.urgent_ids.append(event.id)
    if action.reply_label is not None:
        template, reply_text = policy.template_for(action.reply_label, incoming.kind)
        now = clock()
        session.add(Reply(event_id=event.id, template=template, text=reply_text, created_at=now, updated_at=now))
        result.replies_queued += 1


def _storable_fields(incoming: IncomingEvent) -> IncomingEvent:
    """Ids, handle and link made storable like the text (PostgreSQL refuses NUL in every text column).

    One bad field must not make the whole page fail on every poll.
    """
    changes: dict[str, Any] = {}
    for name in ("external_id", "parent_id", "thread_id", "author_handle", "url"):
        value = getattr(incoming, name)
        if isinstance(value, str):
            cleaned, repaired = clean_text(value)
            if repaired:
                changes[name] = cleaned
    return replace(incoming, **changes) if changes else incoming


def _key(account: Account, incoming: IncomingEvent) -> tuple[ColumnElement[bool], ...]:
    return (
        col(Event.platform) == incoming.platform,
        col(Event.account_id) == account.id,
        col(Event.kind) == incoming.kind,
        col(Event.external_id) == incoming.external_id,
    )
