"""The weekly digest's numbers, gathered from the database. Counts, categories and ages only:
no message text and no author identity ever enters `Digest` (policy P9)."""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlmodel import Session, col, select

from monitor.db import Account, Alert, AuditEntry, Detection, Event, Reply
from monitor.policy import Policy

STAFF_ACTIONS = ("reply_approved", "reply_rejected", "item_closed")
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


@dataclass(frozen=True)
class Change:
    """A count this week and the week before."""

    name: str
    this_week: int
    last_week: int


@dataclass(frozen=True)
class CrisisItem:
    item_id: int
    platform: str
    kind: str
    ack_seconds: float | None  # None: not acknowledged yet


@dataclass(frozen=True)
class ReviewSite:
    site: str
    count: int
    ratings: dict[int, int]  # stars -> how many

    @property
    def average(self) -> float | None:
        total = sum(self.ratings.values())
        return sum(k * v for k, v in self.ratings.items()) / total if total else None


@dataclass(frozen=True)
class RuleNoise:
    rule_id: str
    raised: int
    false_alarms: int


@dataclass
class Digest:
    """Everything the weekly email shows."""

    practice_name: str
    period_start: datetime
    period_end: datetime
    staff_url: str
    total: Change
    by_platform: list[Change] = field(default_factory=list)
    by_kind: list[Change] = field(default_factory=list)
    by_label: list[Change] = field(default_factory=list)
    per_day: list[tuple[date, int]] = field(default_factory=list)
    crisis: list[CrisisItem] = field(default_factory=list)
    approval_median_seconds: float | None = None
    approval_worst_seconds: float | None = None
    replies_sent: int = 0
    replies_rejected: int = 0
    pending: list[tuple[int, float]] = field(default_factory=list)  # (item id, age seconds)
    reviews: list[ReviewSite] = field(default_factory=list)
    new_followers: int = 0
    unhealthy_accounts: list[tuple[str, str]] = field(default_factory=list)  # (account, problem)
    undelivered_alerts: int = 0
    rules: list[RuleNoise] = field(default_factory=list)


def last_digest_time(now: datetime, policy: Policy) -> datetime:
    """The most recent scheduled digest moment (policy day and hour, practice time zone) at or before `now`."""
    zone = ZoneInfo(policy.timezone)
    local = now.astimezone(zone)
    target = WEEKDAYS.index(policy.digest.day)
    moment = local.replace(hour=policy.digest.hour, minute=0, second=0, microsecond=0)
    moment -= timedelta(days=(local.weekday() - target) % 7)
    if moment > local:
        moment -= timedelta(days=7)
    return moment


def _changes(this: Counter[str], last: Counter[str]) -> list[Change]:
    return [Change(k, this[k], last[k]) for k in sorted(set(this) | set(last))]


def build_digest(
    session: Session, policy: Policy, start: datetime, end: datetime, now: datetime, staff_url: str
) -> Digest:
    """Gather the week [start, end) and the week before it."""
    prev_start = start - (end - start)
    rows = session.exec(
        select(Event, Detection)
        .join(Detection, col(Detection.event_id) == col(Event.id), isouter=True)
        .where(col(Event.fetched_at) >= prev_start, col(Event.fetched_at) < end)
    ).all()
    this_rows = [(e, d) for e, d in rows if e.fetched_at >= start]
    last_rows = [(e, d) for e, d in rows if e.fetched_at < start]

    def count(selected: Sequence[tuple[Event, Detection | None]], key: str) -> Counter[str]:
        if key == "label":
            return Counter(label for _, d in selected if d for label in d.labels)
        return Counter(getattr(e, key) for e, _ in selected)

    zone = ZoneInfo(policy.timezone)
    days = Counter(e.fetched_at.astimezone(zone).date() for e, _ in this_rows)
    first_day = start.astimezone(zone).date()
    span = ((end - timedelta(microseconds=1)).astimezone(zone).date() - first_day).days + 1
    digest = Digest(
        practice_name=policy.practice_name,
        period_start=start,
        period_end=end,
        staff_url=staff_url,
        total=Change("all items", len(this_rows), len(last_rows)),
        by_platform=_changes(count(this_rows, "platform"), count(last_rows, "platform")),
        by_kind=_changes(count(this_rows, "kind"), count(last_rows, "kind")),
        by_label=_changes(count(this_rows, "label"), count(last_rows, "label")),
        per_day=[(first_day + timedelta(days=i), days[first_day + timedelta(days=i)]) for i in range(span)],
        new_followers=sum(1 for e, _ in this_rows if e.kind == "follow"),
    )
    _add_staff_work(session, digest, this_rows, start, end, now)
    _add_reviews(digest, this_rows)
    _add_health(session, digest)
    _add_rule_noise(session, digest, this_rows, start, now)
    return digest


def _first_staff_action(session: Session, event_id: int) -> datetime | None:
    entry = session.exec(
        select(AuditEntry)
        .where(AuditEntry.event_id == event_id, col(AuditEntry.action).in_(STAFF_ACTIONS))
        .order_by(col(AuditEntry.id))
    ).first()
    return entry.at if entry else None


def _add_staff_work(
    session: Session,
    digest: Digest,
    rows: Sequence[tuple[Event, Detection | None]],
    start: datetime,
    end: datetime,
    now: datetime,
) -> None:
    for event, _ in rows:
        if event.urgent and event.id is not None:
            acted = _first_staff_action(session, event.id)
            ack = (acted - event.fetched_at).total_seconds() if acted else None
            digest.crisis.append(CrisisItem(event.id, event.platform, event.kind, ack))
    replies = session.exec(select(Reply, Event).join(Event, col(Reply.event_id) == col(Event.id))).all()
    waits = [
        (r.approved_at - e.fetched_at).total_seconds()
        for r, e in replies
        if r.approved_at and start <= r.approved_at < end
    ]
    if waits:
        digest.approval_median_seconds = statistics.median(waits)
        digest.approval_worst_seconds = max(waits)
    digest.replies_sent = sum(1 for r, _ in replies if r.sent_at and start <= r.sent_at < end)
    digest.replies_rejected = sum(1 for r, _ in replies if r.rejected_at and start <= r.rejected_at < end)
    digest.pending = sorted(
        (
            (e.id or 0, (now - e.fetched_at).total_seconds())
            for r, e in replies
            if r.state in ("queued", "needs_review", "failed")
        ),
        key=lambda p: -p[1],
    )


def _add_reviews(digest: Digest, rows: Sequence[tuple[Event, Detection | None]]) -> None:
    sites: dict[str, Counter[int]] = {}
    counts: Counter[str] = Counter()
    for event, _ in rows:
        if event.kind == "review":
            counts[event.platform] += 1
            if event.rating is not None:
                sites.setdefault(event.platform, Counter())[event.rating] += 1
    digest.reviews = [ReviewSite(site, counts[site], dict(sites.get(site, {}))) for site in sorted(counts)]


def _add_health(session: Session, digest: Digest) -> None:
    digest.unhealthy_accounts = [
        (a.name, a.last_error or "") for a in session.exec(select(Account).where(col(Account.last_error).is_not(None)))
    ]
    digest.undelivered_alerts = len(session.exec(select(Alert.id).where(col(Alert.delivered_at).is_(None))).all())


def _add_rule_noise(
    session: Session, digest: Digest, rows: Sequence[tuple[Event, Detection | None]], start: datetime, now: datetime
) -> None:
    false_alarm_items = {
        e.event_id
        for e in session.exec(
            select(AuditEntry).where(col(AuditEntry.action).in_(STAFF_ACTIONS[1:]), col(AuditEntry.at) >= start)
        )
        if e.detail.get("false_alarm")
    }
    raised: Counter[str] = Counter()
    noisy: Counter[str] = Counter()
    for event, det in rows:
        for rule_id in {ev["rule_id"] for ev in (det.evidence if det else [])}:
            raised[rule_id] += 1
            if event.id in false_alarm_items:
                noisy[rule_id] += 1
    digest.rules = [RuleNoise(r, raised[r], noisy[r]) for r in sorted(raised, key=lambda r: (-noisy[r], -raised[r], r))]
