"""`monitor init`: write a commented policy.toml and .env for the practice's real accounts."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from monitor.envfile import render_env
from monitor.errors import ConfigError
from monitor.policy import example_policy_text, parse_policy

ACCOUNTS_PLACEHOLDER = """# --- accounts: begin
# Add one block per account of the practice. Until the platform connectors are configured, only
# source = "demo" works; the README section "Connecting platforms" says what each platform needs.
# [[accounts]]
# name = "facebook-page"
# platform = "facebook"
# streams = ["comments", "messages", "followers"]
# poll_minutes = 5
# --- accounts: end"""


@dataclass(frozen=True)
class PracticeAnswers:
    """What `monitor init` asks for."""

    practice_name: str
    office_phone: str
    website: str
    country: str
    clinicians: tuple[str, ...] = ()
    alert_emails: tuple[str, ...] = ()


def _set(text: str, key: str, value: object) -> str:
    """Replace the first top-level `key = ...` line with a TOML-encoded value."""
    line = f"{key} = {json.dumps(value, ensure_ascii=False)}"
    new, count = re.subn(rf"(?m)^{key} = .*$", lambda _: line, text, count=1)
    assert count == 1, key
    return new


def policy_text(answers: PracticeAnswers) -> str:
    """The example policy with the practice's details and no demo accounts; validated before return."""
    text = example_policy_text()
    text = _set(text, "practice_name", answers.practice_name)
    text = _set(text, "office_phone", answers.office_phone)
    text = _set(text, "website", answers.website)
    text = _set(text, "country", answers.country.upper())
    text = _set(text, "clinicians", list(answers.clinicians))
    emails = json.dumps(list(answers.alert_emails))
    text = re.sub(r"(?m)^(recipients|escalation_recipients) = \[.*\]$", lambda m: f"{m[1]} = {emails}", text)
    text = re.sub(r"(?s)# --- accounts: begin.*# --- accounts: end", lambda _: ACCOUNTS_PLACEHOLDER, text)
    parse_policy(text, "the policy that `monitor init` would write")
    return text


def write_files(directory: Path, answers: PracticeAnswers, *, force: bool = False) -> list[Path]:
    """Write policy.toml and .env into `directory`; refuse to overwrite unless `force`."""
    targets = {directory / "policy.toml": policy_text(answers), directory / ".env": render_env()}
    existing = [p for p in targets if p.exists()]
    if existing and not force:
        names = ", ".join(str(p) for p in existing)
        raise ConfigError(f"{names} already exist(s); use --force to overwrite")
    for path, content in targets.items():
        path.write_text(content, "utf-8")
    (directory / ".env").chmod(0o600)  # it will hold secrets
    return list(targets)
