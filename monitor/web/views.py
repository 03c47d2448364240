"""How things read on the staff page: names of labels and states, times, highlighted evidence."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from jinja2 import Environment, FileSystemLoader, select_autoescape

from monitor.clock import age_in_words

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

LABELS = {
    "crisis": "Crisis",
    "clinical_disclosure": "Clinical details",
    "therapy_request": "Asks about therapy",
    "admin_request": "Scheduling / admin",
    "connection_request": "Personal connection request",
}
STATES = {
    "queued": "Waiting for approval",
    "approved": "Approved, posting soon",
    "sending": "Posting now",
    "sent": "Sent",
    "rejected": "Rejected",
    "failed": "Could not be posted",
    "needs_review": "Check the platform",
    "open": "Needs a look",
    "handled": "Handled",
}
KINDS = {"dm": "direct message", "comment": "comment", "mention": "mention", "review": "review", "follow": "follow"}
PLATFORMS = {
    "facebook": "Facebook",
    "instagram": "Instagram",
    "x": "X",
    "reddit": "Reddit",
    "google": "Google",
    "yelp": "Yelp",
    "healthgrades": "Healthgrades",
    "rss": "Web feed",
}


def _priority(label: str) -> int:
    """Crisis first, then the labels in the order above, then anything else."""
    order = list(LABELS)
    return order.index(label) if label in order else len(order)


@dataclass(frozen=True)
class Segment:
    """A run of message text; `why` is set when rules matched it (shown highlighted)."""

    text: str
    why: str | None = None


def evidence_segments(text: str, evidence: list[dict[str, Any]]) -> list[Segment]:
    """Split `text` into plain and highlighted runs; overlapping evidence merges into one mark."""
    spans: list[tuple[int, int, list[str]]] = []
    for ev in sorted(evidence, key=lambda e: (int(e.get("start", 0)), int(e.get("end", 0)))):
        start, end = max(0, int(ev.get("start", 0))), min(len(text), int(ev.get("end", 0)))
        if end <= start:
            continue
        reason = f"{LABELS.get(ev.get('label', ''), ev.get('label', ''))}: {ev.get('reason') or ev.get('rule_id', '')}"
        if spans and start < spans[-1][1]:
            last_start, last_end, reasons = spans[-1]
            spans[-1] = (last_start, max(last_end, end), [*reasons, reason])
        else:
            spans.append((start, end, [reason]))
    out: list[Segment] = []
    at = 0
    for start, end, reasons in spans:
        if start > at:
            out.append(Segment(text[at:start]))
        out.append(Segment(text[start:end], "; ".join(dict.fromkeys(reasons))))
        at = end
    if at < len(text):
        out.append(Segment(text[at:]))
    return out


@dataclass(frozen=True)
class Reason:
    """One line of "why it was flagged": a label, the words that raised it, and the rule's reason."""

    label: str
    quotes: tuple[str, ...]
    reason: str


def evidence_reasons(text: str, evidence: list[dict[str, Any]]) -> list[Reason]:
    """Evidence grouped by label and reason, so one rule's several words read as one line."""
    grouped: dict[tuple[str, str], list[str]] = {}
    for ev in evidence:
        start, end = max(0, int(ev.get("start", 0))), min(len(text), int(ev.get("end", 0)))
        key = (str(ev.get("label", "")), str(ev.get("reason") or ev.get("rule_id", "")))
        quotes = grouped.setdefault(key, [])
        if end > start and text[start:end] not in quotes:
            quotes.append(text[start:end])
    return [Reason(label, tuple(quotes), reason) for (label, reason), quotes in grouped.items() if quotes]


def make_environment(timezone: str, now: Any) -> Environment:
    """The Jinja environment with autoescaping and the page's filters (times in the practice's zone)."""
    zone = ZoneInfo(timezone)
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=select_autoescape(default=True), auto_reload=False)

    def local(value: datetime | str | None) -> str:
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.astimezone(zone).strftime("%a %d %b %Y, %H:%M") if value else "never"

    def ago(value: datetime | float | None) -> str:
        if value is None:
            return "never"
        seconds = value if isinstance(value, int | float) else (now() - value).total_seconds()
        return age_in_words(seconds)

    env.filters.update(
        labels=lambda values: ", ".join(LABELS.get(v, v.replace("_", " ")) for v in sorted(values, key=_priority)),
        local=local,
        ago=ago,
        label=lambda v: LABELS.get(v, v.replace("_", " ")),
        state=lambda v: STATES.get(v, v),
        kind=lambda v: KINDS.get(v, v),
        platform=lambda v: PLATFORMS.get(v, v),
    )
    return env
