"""`monitor explain` and `monitor replay`: see why the rules decide what they decide, and what a rules
change would do to stored events, without touching the queue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from monitor.actions import decide
from monitor.db import Detection, Event
from monitor.pipeline import ClassifyFn
from monitor.policy import Policy
from rules import Evidence


def explain(classify: ClassifyFn, policy: Policy, text: str, kind: str, platform: str) -> str:
    """Labels, each firing rule with its span and reason, the matches a context check held back (so
    staff can see why a label was NOT raised), and the reply that would be queued."""
    found = classify(text, kind=kind, platform=platform)
    lines = [f"labels: {', '.join(sorted(found.labels)) or 'none'}"]
    lines.extend(_evidence_line(ev, text) for ev in found.evidence)
    held = [ev for ev in found.held_back if ev.label not in found.labels]
    if held:
        lines.append("held back (a context check decided against these):")
        lines.extend(_evidence_line(ev, text) for ev in held)
    action = decide(found.labels, kind, frozenset(policy.alerts.urgent_labels))
    if action.urgent:
        lines.append("action: URGENT — staff would be alerted at once")
    if action.reply_label is None:
        why = " (the practice never replies to reviews or follows)" if found.labels else ""
        lines.append(f"reply: none{why}")
    else:
        template, reply = policy.template_for(action.reply_label, kind)
        lines.append(f"reply ({template}): {reply}")
    return "\n".join(lines)


def _evidence_line(ev: Evidence, text: str) -> str:
    """One evidence line of `explain`: label, rule, span and why (and the score, unless the reason gives it)."""
    score = f" (score {ev.score:.2f})" if ev.score is not None and "score" not in ev.reason else ""
    reason = f" — {ev.reason}" if ev.reason else ""
    return f"  {ev.label}: {ev.rule_id} [{ev.start}:{ev.end}] {text[ev.start : ev.end]!r}{reason}{score}"


@dataclass(frozen=True)
class Change:
    """How the current rules would label a stored event differently."""

    item_id: int
    platform: str
    kind: str
    before: list[str]
    after: list[str]


def replay(session: Session, classify: ClassifyFn, since: datetime | None) -> tuple[int, list[Change]]:
    """Re-classify stored events (text not yet purged); return how many were checked and the changes."""
    query = select(Event, Detection).join(Detection, col(Detection.event_id) == col(Event.id), isouter=True)
    query = query.where(col(Event.purged_at).is_(None))
    if since is not None:
        query = query.where(col(Event.fetched_at) >= since)
    checked, changes = 0, []
    for event, det in session.exec(query.order_by(col(Event.id))):
        checked += 1
        before = sorted(det.labels) if det else []
        after = sorted(classify(event.text, kind=event.kind, platform=event.platform).labels)
        if before != after:
            assert event.id is not None
            changes.append(Change(event.id, event.platform, event.kind, before, after))
    return checked, changes
