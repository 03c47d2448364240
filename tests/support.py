"""Test helpers shared by the test modules (importable: tests/ is on pytest's pythonpath)."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import ClassVar

import pytest
from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session

from connectors import IncomingEvent
from connectors.demo import DemoItem
from monitor import audit
from monitor.app import App
from monitor.db import AuditEntry
from monitor.notify import UrgentAlert
from monitor.storage import alembic_config

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class RecordingNotifier:
    """An alert channel that keeps alerts in memory; fails while `fail` is set (to test retries)."""

    name: ClassVar[str] = "recording"
    alerts: list[UrgentAlert] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    notices: list[tuple[str, str]] = field(default_factory=list)
    fail: bool = False

    def send_urgent(self, alert: UrgentAlert, recipients: list[str]) -> None:
        if self.fail:
            raise ConnectionRefusedError("alert channel is down")
        self.alerts.append(alert)
        self.recipients.append(recipients)

    def send_notice(self, subject: str, text: str, recipients: list[str]) -> None:
        if self.fail:
            raise ConnectionRefusedError("alert channel is down")
        self.notices.append((subject, text))


def event(
    external_id: str,
    text: str | bytes = "Thanks for the helpful post!",
    *,
    platform: str = "facebook",
    kind: str = "comment",
    minutes_ago: float = 5,
    author: str | None = "someone.invented",
) -> IncomingEvent:
    """A made-up incoming event."""
    return IncomingEvent(
        platform=platform,
        kind=kind,
        external_id=external_id,
        text=text,
        created_at=START - timedelta(minutes=minutes_ago),
        author_handle=author,
        url=f"https://demo.invalid/{external_id}",
    )


def items(stream: str, *events: IncomingEvent) -> list[DemoItem]:
    return [DemoItem(stream, e) for e in events]


AppFactory = Callable[..., App]


def reply_texts(engine: Engine, entry: AuditEntry) -> tuple[str | None, str | None]:
    """(before, after) reply texts kept beside an audit entry; (None, None) once erased."""
    assert entry.id is not None
    with Session(engine) as s:
        kept = audit.texts(s, [entry.id]).get(entry.id)
    return (kept.before_text, kept.after_text) if kept else (None, None)


def check_audit_texts_move_out_of_the_log(engine: Engine) -> None:
    """Migration 0005 on a database at head: entries written before it lose their texts to audit_text."""

    def run(verb: str, revision: str) -> None:
        with engine.begin() as conn:
            cfg = alembic_config()
            cfg.attributes["connection"] = conn
            getattr(command, verb)(cfg, revision)

    def detail_of(entry_id: int) -> dict[str, object]:
        with engine.connect() as conn:
            raw = conn.execute(text("SELECT detail FROM audit_log WHERE id = :id"), {"id": entry_id}).scalar_one()
        return dict(json.loads(raw) if isinstance(raw, str) else raw)

    run("downgrade", "0004")
    old = {"before_text": "Thanks for reaching out.", "after_text": "Thanks, Sam, call us.", "edited": True}
    with engine.begin() as conn:
        entry_id = conn.execute(
            text(
                "INSERT INTO audit_log (at, actor, action, event_id, detail) "
                "VALUES (:at, 'Dana', 'reply_approved', 7, :detail) RETURNING id"
            ),
            {"at": START, "detail": json.dumps(old)},
        ).scalar_one()
    run("upgrade", "head")
    assert detail_of(entry_id) == {"edited": True}
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:  # the trigger is back
        conn.execute(text("UPDATE audit_log SET actor = 'someone else'"))
    with Session(engine) as s:
        kept = audit.texts(s, [entry_id])[entry_id]
    assert (kept.event_id, kept.before_text, kept.after_text) == (7, old["before_text"], old["after_text"])
    run("downgrade", "0004")  # a downgrade puts them back, so it loses nothing
    assert detail_of(entry_id) == old
    run("upgrade", "head")
    assert detail_of(entry_id) == {"edited": True}
    with pytest.raises(DatabaseError, match="append-only"), engine.begin() as conn:  # the trigger is back
        conn.execute(text("UPDATE audit_log SET actor = 'someone else'"))
