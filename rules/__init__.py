"""Detection of policy-relevant messages. Pure: no I/O, clock, database or randomness.

The public API below is used by every other package; keep it stable.
"""

from __future__ import annotations

from rules.engine import RULES_VERSION, Classifier, classify
from rules.linter import Finding, ReplyPolicy, lint_reply
from rules.types import LABELS, PRIORITY, Detection, Evidence, top_label

__all__ = [
    "LABELS",
    "PRIORITY",
    "RULES_VERSION",
    "Classifier",
    "Detection",
    "Evidence",
    "Finding",
    "ReplyPolicy",
    "classify",
    "lint_reply",
    "top_label",
]
