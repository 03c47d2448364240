"""The database tables (sqlmodel). Schema changes go through Alembic migrations in monitor/migrations.

Times are timezone-aware UTC everywhere (sqlmodel's UTCDateTime rejects naive values).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Text, UniqueConstraint
from sqlmodel import Field, SQLModel

REPLY_STATES = ("queued", "approved", "sending", "sent", "rejected", "failed", "needs_review")
#: states in which a reply still needs someone or something to act
OPEN_REPLY_STATES = ("queued", "approved", "sending", "failed", "needs_review")


class Account(SQLModel, table=True):
    """A watched account of the practice, and how its polling is going."""

    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    platform: str
    source: str
    created_at: datetime
    last_poll_ok_at: datetime | None = None
    last_error: str | None = None
    last_error_at: datetime | None = None


class Cursor(SQLModel, table=True):
    """Where polling of one account's stream stopped; advanced in the same commit as its events."""

    __table_args__ = (UniqueConstraint("account_id", "stream", name="uq_cursor_account_stream"),)
    id: int | None = Field(default=None, primary_key=True)
    account_id: int = Field(foreign_key="account.id")
    stream: str
    value: str | None = None
    updated_at: datetime


class Event(SQLModel, table=True):
    """One comment, DM, mention, review or follow. Stored once per (platform, account, kind, id)."""

    __table_args__ = (UniqueConstraint("platform", "account_id", "kind", "external_id", name="uq_event_key"),)
    id: int | None = Field(default=None, primary_key=True)
    platform: str = Field(index=True)
    account_id: int = Field(foreign_key="account.id", index=True)
    kind: str
    external_id: str
    parent_id: str | None = None
    thread_id: str | None = None
    author_handle: str | None = None
    text: str = Field(default="", sa_type=Text)
    url: str | None = None
    rating: int | None = None
    created_at: datetime
    fetched_at: datetime = Field(index=True)
    urgent: bool = Field(default=False, index=True)
    handled_at: datetime | None = None
    handled_by: str | None = None
    purged_at: datetime | None = None


class Detection(SQLModel, table=True):
    """What the rules found in an event, with the evidence, under one rules version."""

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", unique=True)
    labels: list[str] = Field(default_factory=list, sa_type=JSON)
    evidence: list[dict[str, Any]] = Field(default_factory=list, sa_type=JSON)
    rules_version: str
    created_at: datetime


class Reply(SQLModel, table=True):
    """A templated reply waiting for, or past, staff approval. Only the outbox posts it."""

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", unique=True)
    template: str
    text: str = Field(sa_type=Text)
    state: str = Field(default="queued", index=True)
    version: int = 1
    approved_by: str | None = None
    approved_at: datetime | None = None
    rejected_by: str | None = None
    rejected_at: datetime | None = None
    reject_reason: str | None = None
    external_reply_id: str | None = None
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = None
    claimed_at: datetime | None = None
    sent_at: datetime | None = None
    created_at: datetime
    updated_at: datetime


class Alert(SQLModel, table=True):
    """An urgent-item alert: recorded before delivery so that a failed delivery is retried."""

    id: int | None = Field(default=None, primary_key=True)
    event_id: int = Field(foreign_key="event.id", index=True)
    reason: str = "crisis"
    #: "oncall" for the first alert, "escalation" when nobody acknowledged in time
    audience: str = "oncall"
    #: 0 for the first alert, 1, 2, ... for each escalation round
    level: int = 0
    #: channels that already delivered this alert, so a retry does not repeat them
    channels_done: list[str] = Field(default_factory=list, sa_type=JSON)
    created_at: datetime
    delivered_at: datetime | None = None
    attempts: int = 0
    last_error: str | None = None
    next_attempt_at: datetime | None = None


class AuditEntry(SQLModel, table=True):
    """Append-only record of every staff action and every post (database triggers forbid edits)."""

    __tablename__ = "audit_log"
    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(index=True)
    actor: str
    action: str
    event_id: int | None = Field(default=None, index=True)
    reply_id: int | None = None
    detail: dict[str, Any] = Field(default_factory=dict, sa_type=JSON)


class AuditText(SQLModel, table=True):
    """The reply texts of one audit entry, kept apart so that retention can erase them (policy P9).

    The audit log itself is append-only; a staff-edited reply may quote or name the person, so its
    text must go when the item's message text goes, while the entry (who, what, when) stays.
    """

    __tablename__ = "audit_text"
    id: int | None = Field(default=None, primary_key=True)
    audit_id: int = Field(foreign_key="audit_log.id", unique=True)
    event_id: int | None = Field(default=None, index=True)
    before_text: str | None = Field(default=None, sa_type=Text)
    after_text: str | None = Field(default=None, sa_type=Text)


class StaffUser(SQLModel, table=True):
    """A login for the staff page. Passwords are argon2 hashes; lockout after repeated failures."""

    __tablename__ = "staff_user"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True, index=True)
    password_hash: str
    role: str = "staff"  # "staff" or "admin"
    disabled: bool = False
    failed_logins: int = 0
    locked_until: datetime | None = None
    created_at: datetime
    last_login_at: datetime | None = None


class DigestLog(SQLModel, table=True):
    """One row per weekly digest sent, so a restart never sends the same week twice."""

    __tablename__ = "digest_log"
    id: int | None = Field(default=None, primary_key=True)
    period_start: datetime = Field(unique=True)
    sent_at: datetime
    recipients: int = 0
