"""Value types of the rules API: what a classification returns."""

from __future__ import annotations

from dataclasses import dataclass, field

#: Every label the rules can raise, in action priority order (POLICIES.md, "What each label means").
PRIORITY: tuple[str, ...] = (
    "crisis",
    "clinical_disclosure",
    "therapy_request",
    "connection_request",
    "admin_request",
)
LABELS: frozenset[str] = frozenset(PRIORITY)


@dataclass(frozen=True)
class Evidence:
    """One reason for a label: the span of the text that matched and the rule that fired."""

    label: str
    start: int
    end: int
    rule_id: str
    reason: str = ""
    score: float | None = None


@dataclass(frozen=True)
class Detection:
    """The labels raised for one message, each backed by at least one `Evidence`."""

    labels: frozenset[str] = frozenset()
    evidence: tuple[Evidence, ...] = field(default_factory=tuple)
    #: Matches a context check decided against (reason: which check), for `monitor explain`'s
    #: "why not". Not part of the verdict: two detections with the same labels and evidence are equal.
    held_back: tuple[Evidence, ...] = field(default_factory=tuple, compare=False)

    @property
    def top_label(self) -> str | None:
        """The label that decides the action (crisis first)."""
        return top_label(self.labels)


def top_label(labels: frozenset[str] | set[str] | list[str]) -> str | None:
    """Highest-priority label of `labels`, or None when there is none."""
    for label in PRIORITY:
        if label in labels:
            return label
    return None
