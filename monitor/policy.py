"""The practice's policy file (TOML): who they are, what to watch, how to reply, when to alert.

A missing `policy.toml` falls back to the built-in example ("Example Counseling", demo accounts).
Every problem is reported with the key, what is wrong and an example (never a traceback).
"""

from __future__ import annotations

import re
import string
import tomllib
from importlib import resources
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, ValidationInfo, field_validator, model_validator

from connectors import REGISTRY, ConnectorError, load_connector_class
from connectors.base import EVENT_KINDS, PLATFORMS
from monitor.config_errors import describe
from monitor.errors import ConfigError
from rules import LABELS

PLACEHOLDERS = ("practice_name", "office_phone", "website", "emergency_number", "crisis_line")

#: country -> (emergency number, crisis line), from the practices' policies (POLICIES.md).
EMERGENCY: dict[str, tuple[str, str]] = {
    "US": ("911", "988 Suicide & Crisis Lifeline (call or text 988)"),
    "CA": ("911", "9-8-8 Suicide Crisis Helpline (call or text 988)"),
    "GB": ("999", "Samaritans on 116 123"),
    "AU": ("000", "Lifeline on 13 11 14"),
}

EXAMPLES: dict[str, str] = {
    "practice_name": 'practice_name = "Example Counseling"',
    "office_phone": 'office_phone = "(555) 010-0199"',
    "website": 'website = "https://example-counseling.example"',
    "country": 'country = "US"   (one of US, CA, GB, AU)',
    "emergency_number": 'emergency_number = "911"',
    "crisis_line": 'crisis_line = "988 Suicide & Crisis Lifeline (call or text 988)"',
    "clinicians": 'clinicians = ["Dr. Nia Okafor"]',
    "timezone": 'timezone = "America/Chicago"',
    "retention_days": "retention_days = 90",
    "keep_follower_identity": "keep_follower_identity = false",
    "crisis_sensitivity": 'crisis_sensitivity = "standard"   (or "high": fewer missed crises, more false alarms)',
    "alerts": '[alerts]\n    recipients = ["oncall@example-counseling.example"]',
    "recipients": 'recipients = ["oncall@example-counseling.example"]',
    "escalation_minutes": "escalation_minutes = 15",
    "escalation_repeat_minutes": "escalation_repeat_minutes = 0",
    "escalation_recipients": 'escalation_recipients = ["director@example-counseling.example"]',
    "urgent_labels": 'urgent_labels = ["crisis"]',
    "digest": '[digest]\n    day = "mon"',
    "day": 'day = "mon"',
    "hour": "hour = 8",
    "name": 'name = "main-facebook-page"',
    "platform": 'platform = "facebook"',
    "source": 'source = "demo"',
    "streams": 'streams = ["comments", "messages"]',
    "poll_minutes": "poll_minutes = 5",
    "options": 'options = { url = "https://example-counseling.example/feed.xml" }',
    "accounts": '[[accounts]]\n    name = "main-facebook-page"',
    "templates": '[templates.therapy_request]\n    default = "Please call our office at {office_phone}."',
}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AlertsPolicy(_Strict):
    """Who is told about crisis items at once, and who next if nobody acknowledges."""

    recipients: list[str] = []
    escalation_minutes: int = Field(default=15, ge=1)
    escalation_repeat_minutes: int = Field(default=0, ge=0)  # 0: same as escalation_minutes
    escalation_recipients: list[str] = []
    #: labels that make an item urgent (alert at once); crisis always does
    urgent_labels: list[str] = ["crisis"]

    @field_validator("urgent_labels")
    @classmethod
    def _known_labels(cls, value: list[str]) -> list[str]:
        unknown = [label for label in value if label not in LABELS]
        if unknown:
            raise ValueError(f"unknown label(s) {unknown}; use {', '.join(sorted(LABELS))}")
        return sorted({*value, "crisis"})


class DigestPolicy(_Strict):
    """When the weekly digest goes out, in the practice's time zone."""

    day: Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"] = "mon"
    hour: int = Field(default=8, ge=0, le=23)
    recipients: list[str] = []


class AccountPolicy(_Strict):
    """One watched account: the practice's own page, profile or listing."""

    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9_.-]+$")
    platform: str
    #: validated even when absent, so that it becomes the platform's own source
    source: str = Field(default="", validate_default=True)
    streams: list[str] = Field(min_length=1)
    poll_minutes: float = Field(default=5, gt=0)
    options: dict[str, str | int | float | bool] = {}

    @field_validator("platform")
    @classmethod
    def _known_platform(cls, value: str) -> str:
        if value not in PLATFORMS:
            raise ValueError(f"unknown platform {value!r}; use one of {', '.join(sorted(PLATFORMS))}")
        return value

    # Field validators (not one model validator) so that an error names `accounts[0].source` or
    # `accounts[0].streams` and gets that key's example.
    @field_validator("source")
    @classmethod
    def _known_source(cls, value: str, info: ValidationInfo) -> str:
        source = value or info.data.get("platform", "")
        if not source:  # the platform itself is invalid and already reported
            return value
        if source not in REGISTRY:
            raise ValueError(
                f"source {source!r} is not available in this version; available: {', '.join(sorted(REGISTRY))}"
            )
        try:
            load_connector_class(source)
        except (ConnectorError, ImportError) as exc:
            raise ValueError(f"source {source!r} cannot be loaded: {exc}") from None
        return source

    @field_validator("streams")
    @classmethod
    def _known_streams(cls, value: list[str], info: ValidationInfo) -> list[str]:
        source = info.data.get("source")
        if not source:  # source or platform invalid: already reported
            return value
        streams = load_connector_class(source).streams  # type: ignore[attr-defined]
        unknown = [s for s in value if s not in streams]
        if unknown:
            raise ValueError(f"unknown stream(s) {unknown} for source {source!r}; available: {list(streams)}")
        return value


class Policy(_Strict):
    """The whole policy file, validated."""

    practice_name: str = Field(min_length=1)
    office_phone: str
    website: str
    country: Literal["US", "CA", "GB", "AU"]
    emergency_number: str = ""
    crisis_line: str = ""
    clinicians: list[str] = []
    timezone: str = "America/New_York"
    retention_days: int = Field(default=90, ge=1)
    keep_follower_identity: bool = False
    #: "high" flags more messages as crisis (fewer missed, more false alarms; README, the measured trade).
    crisis_sensitivity: Literal["standard", "high"] = "standard"
    alerts: AlertsPolicy = AlertsPolicy()
    digest: DigestPolicy = DigestPolicy()
    accounts: list[AccountPolicy] = []
    #: validated even when absent, so that a missing [templates] table is reported under its name
    templates: dict[str, dict[str, str]] = Field(default={}, validate_default=True)

    @field_validator("country", mode="before")
    @classmethod
    def _country_code(cls, value: object) -> object:
        """Accept "us" and the common "UK" for GB: the spec and the staff say "UK"."""
        if isinstance(value, str):
            value = value.strip().upper()
            return "GB" if value == "UK" else value
        return value

    @field_validator("office_phone")
    @classmethod
    def _phone_has_digits(cls, value: str) -> str:
        if sum(c.isdigit() for c in value) < 3:
            raise ValueError("must be the office phone number people should call")
        return value

    @field_validator("website")
    @classmethod
    def _website_is_url(cls, value: str) -> str:
        if not value.startswith(("https://", "http://")):
            raise ValueError("must start with https:// (the practice's own website)")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown time zone {value!r}") from None
        return value

    @field_validator("templates")
    @classmethod
    def _valid_templates(cls, value: dict[str, dict[str, str]]) -> dict[str, dict[str, str]]:
        for label, by_kind in value.items():
            if label not in LABELS:
                raise ValueError(f"[templates.{label}]: unknown label; use one of {', '.join(sorted(LABELS))}")
            if "default" not in by_kind:
                raise ValueError(f"[templates.{label}] needs a `default` text")
            for kind, text in by_kind.items():
                if kind != "default" and kind not in EVENT_KINDS:
                    raise ValueError(f"templates.{label}.{kind}: unknown kind; use default, comment, dm or mention")
                for _, field_name, _, _ in string.Formatter().parse(text):
                    if field_name is not None and field_name not in PLACEHOLDERS:
                        allowed = ", ".join("{" + p + "}" for p in PLACEHOLDERS)
                        raise ValueError(
                            f"templates.{label}.{kind}: unknown placeholder {{{field_name}}}; use {allowed}"
                        )
        missing = sorted(LABELS - set(value))
        if missing:
            raise ValueError(f"[templates] has no text for: {', '.join(missing)}")
        return value

    @field_validator("accounts")
    @classmethod
    def _unique_names(cls, value: list[AccountPolicy]) -> list[AccountPolicy]:
        names = [a.name for a in value]
        duplicates = sorted({n for n in names if names.count(n) > 1})
        if duplicates:
            raise ValueError(f"account names must be unique; repeated: {', '.join(duplicates)}")
        return value

    @model_validator(mode="after")
    def _complete(self) -> Policy:
        number, line = EMERGENCY[self.country]
        object.__setattr__(self, "emergency_number", self.emergency_number or number)
        object.__setattr__(self, "crisis_line", self.crisis_line or line)
        return self

    def template_for(self, label: str, kind: str) -> tuple[str, str]:
        """(template key, rendered text) of the reply for `label` on an event of `kind`."""
        by_kind = self.templates[label]
        key = kind if kind in by_kind else "default"
        values = {name: getattr(self, name) for name in PLACEHOLDERS}
        return f"{label}.{key}", by_kind[key].format_map(values)

    def account(self, name: str) -> AccountPolicy | None:
        """The configured account called `name`, if any."""
        return next((a for a in self.accounts if a.name == name), None)


def example_policy_text() -> str:
    """The commented built-in example policy (also the starting point of `monitor init`)."""
    return resources.files("monitor").joinpath("example_policy.toml").read_text("utf-8")


def parse_policy(text: str, source: str) -> Policy:
    """Validate policy TOML `text`; `source` names it in error messages."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{source} is not valid TOML: {exc}{_toml_hint(text, str(exc))}") from None
    try:
        return Policy.model_validate(data)
    except ValidationError as err:
        raise ConfigError(describe(err, source, EXAMPLES)) from None


def _toml_hint(text: str, message: str) -> str:
    """The offending line (a policy holds no secrets) and, when it sets a known key, a correct example."""
    found = re.search(r"at line (\d+)", message)
    lines = text.splitlines()
    if not found or not 1 <= int(found[1]) <= len(lines):
        return ""
    line = lines[int(found[1]) - 1].strip()
    hint = f"; the line reads: {line[:100]}"
    example = EXAMPLES.get(line.partition("=")[0].strip())
    return hint + (f" — for example: {example}" if example else "")


def load_policy(path: Path, *, required: bool = False) -> tuple[Policy, str]:
    """The policy at `path`, or the built-in example when `path` is absent and not `required`.

    Returns the policy and a short description of where it came from, for logs and `monitor queue`.
    """
    if path.is_file():
        try:
            text = path.read_text("utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"cannot read the policy file {path}: {exc}") from None
        return parse_policy(text, str(path)), str(path)
    if required:
        raise ConfigError(f"MONITOR_POLICY points to {path}, which does not exist; run `monitor init` to create one")
    return parse_policy(example_policy_text(), "the built-in example policy"), "built-in example policy"
