"""lint_reply: each finding kind, and the app's default templates lint clean."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest

from rules import lint_reply


@dataclass
class Policy:
    office_phone: str = "(555) 010-0199"
    website: str = "https://example-counseling.example"
    emergency_number: str = "911"
    crisis_line: str = "988"
    practice_name: str = "Example Counseling"
    clinicians: list[str] = field(default_factory=lambda: ["Dr. Wren Castellanos", "Abe Lindgren"])


POLICY = Policy()
DEFAULT_REPLY = (
    "Thank you for reaching out to Example Counseling. We can't provide counselling over social media. "
    "Please call our office at (555) 010-0199 or visit https://example-counseling.example."
)
CRISIS_REPLY = (
    "If you are in danger right now, please call 911 or go to the nearest emergency room. You can call or text "
    "988 (Suicide & Crisis Lifeline) at any time. Our office is at (555) 010-0199."
)


@pytest.mark.parametrize("label", [None, "therapy_request", "admin_request", "connection_request"])
def test_default_reply_is_clean(label: str | None) -> None:
    assert lint_reply(DEFAULT_REPLY, POLICY, label=label) == []


def test_default_crisis_reply_is_clean() -> None:
    assert lint_reply(CRISIS_REPLY, POLICY, label="crisis") == []


@pytest.mark.parametrize(
    ("text", "rule_id", "flagged"),
    [
        ("Sorry your anxiety is acting up again.", "names_condition", "anxiety"),
        ("Keep taking the Zoloft and call us.", "names_condition", "Zoloft"),
        ("Please don't stop your medication without calling.", "names_condition", "your medication"),
        ("As your therapist I can't reply here.", "confirms_client", "As your therapist"),
        ("See you at your next session!", "confirms_client", "See you at your next"),
        ("Let's pick up what we discussed in session.", "confirms_client", "we discussed in session"),
        ("Dr. Wren Castellanos will call you back.", "names_clinician", "Dr. Wren Castellanos"),
        ("Text me on 555-404-7781 instead.", "other_phone", "555-404-7781"),
        ("Book at https://calendly.example.com/wren", "other_link", "https://calendly.example.com/wren"),
        ("Email wren.c@gmail.com for a faster answer.", "other_link", "wren.c@gmail.com"),
    ],
)
def test_each_finding_kind(text: str, rule_id: str, flagged: str) -> None:
    findings = lint_reply(text, POLICY)
    assert [(f.rule_id, text[f.start : f.end]) for f in findings if f.rule_id == rule_id] == [(rule_id, flagged)]
    assert all(f.message.endswith(".") for f in findings)


def test_crisis_reply_needs_the_emergency_number() -> None:
    findings = lint_reply("Please call our office at (555) 010-0199.", POLICY, label="crisis")
    assert {f.rule_id for f in findings} == {"missing_emergency_number", "missing_crisis_line"}
    assert lint_reply("Please call our office at (555) 010-0199.", POLICY, label="admin_request") == []


def test_own_numbers_in_other_formats_are_allowed() -> None:
    text = "Call +1 555-010-0199, 9-1-1 is for emergencies, or visit www.example-counseling.example/contact."
    assert lint_reply(text, POLICY) == []


def test_optional_crisis_line_number_attribute() -> None:
    @dataclass
    class Canada(Policy):
        crisis_line: str = "9-8-8 Suicide Crisis Helpline"
        crisis_line_number: str = "1-833-456-4566"

    assert lint_reply("Call 9-8-8 or 1-833-456-4566, or 911 in an emergency.", Canada(), label="crisis") == []
