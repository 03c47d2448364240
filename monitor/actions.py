"""What the practice's policy says to do with a detection (POLICIES.md clauses P2, P5, P7)."""

from __future__ import annotations

from dataclasses import dataclass

from rules import top_label

#: kinds that never get a reply: reviews (P7: never respond to reviews) and follows (P1/P2)
NEVER_REPLY_KINDS = frozenset({"review", "follow"})


@dataclass(frozen=True)
class Action:
    """`reply_label` picks the template (None: no reply); `urgent` alerts staff at once."""

    reply_label: str | None
    urgent: bool


def decide(labels: frozenset[str], kind: str, urgent_labels: frozenset[str] = frozenset({"crisis"})) -> Action:
    """The action for an event of `kind` carrying `labels`; the most urgent label wins."""
    urgent = bool(labels & urgent_labels)
    label = top_label(labels)
    if label is None or kind in NEVER_REPLY_KINDS:
        return Action(reply_label=None, urgent=urgent)
    return Action(reply_label=label, urgent=urgent)
