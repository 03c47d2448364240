"""Reply linter: checks a staff-edited reply before it may be approved (policy P5, P6).

A reply must not name a condition or medication, must not confirm that someone is a client, may only
give the practice's own phone and website plus the emergency number and crisis line, and a reply to
a crisis must give the emergency number.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Protocol
from urllib.parse import urlsplit

from rules.loader import FLAGS, expand, load_defines


class ReplyPolicy(Protocol):
    """What the linter needs to know about the practice."""

    @property
    def office_phone(self) -> str: ...
    @property
    def website(self) -> str: ...
    @property
    def emergency_number(self) -> str: ...
    @property
    def crisis_line(self) -> str: ...


@dataclass(frozen=True)
class Finding:
    """One problem in a reply: a rule id, the span and a sentence staff can act on."""

    rule_id: str
    start: int
    end: int
    message: str


_DEFINES = load_defines()
# Ambiguous short words in the shared lexicon are left out: "add", "did", "tics", "panic" alone.
_AMBIGUOUS = {"add", "did", "tics", "panic", "trauma", "burnout", "pills", "meds", "medication", "medications"}


def _terms(name: str) -> str:
    body = expand(_DEFINES[name], _DEFINES)[3:-1]  # strip the "(?:" ... ")" wrapper
    return "|".join(t for t in body.split("|") if t not in _AMBIGUOUS)


_CLINICAL = re.compile(
    rf"\b(?:{_terms('cond')}|{_terms('med')})\b|\byour (?:meds|medication|medications|diagnosis|condition|symptoms|"
    r"treatment|prescription|dose|disorder|relapse)\b",
    FLAGS,
)
_CONFIRMS = re.compile(
    r"\b(?:as your (?:therapist|counsell?or|clinician|psychologist|psychiatrist|provider|doctor|care team)"
    r"|your (?:next|last|upcoming|previous|recent|scheduled|weekly|usual|regular|follow[- ]up) "
    r"(?:session|appointment|appt|visit|check[- ]in)s?"
    r"|see you (?:at|in|on|for|during) (?:your|our|the) (?:next|upcoming)|see you next (?:week|session|time)"
    r"|(?:we|you|i) (?:discussed|talked about|covered|worked on) (?:in|during) (?:session|therapy|our)"
    r"|(?:in|during) (?:our|your) (?:last |recent |previous )?(?:session|sessions|appointment)"
    r"|your (?:therapist|counsell?or|clinician|psychologist|psychiatrist|file|chart|records|treatment plan|care plan)"
    r"|(?:you(?:'| a)re|you are) (?:a|one of our|our) (?:current |former )?(?:client|patient)s?"
    r"|our (?:client|patient)\b|since you started (?:seeing|therapy|sessions|treatment)"
    r"|welcome back to (?:therapy|your sessions))\b",
    FLAGS,
)
_PHONE = re.compile(
    r"(?<![\w/.])(?:\+?\d[\d\s().\-]{5,}\d)(?![\w/])|\b(?:call|text|dial|phone)(?: or text)? (\d{3})\b", FLAGS
)
_LINK = re.compile(
    r"\bhttps?://[^\s<>\"']+|\bwww\.[^\s<>\"']+|\b[\w.+-]+@[\w-]+(?:\.[\w-]+)+"
    r"|\b(?:[a-z0-9-]+\.)+(?:com|org|net|ca|us|uk|io|co|info|me|ly|gg|app|health|care|example)\b(?:/[^\s<>\"']*)?",
    FLAGS,
)


def _digits(value: str) -> str:
    return re.sub(r"\D", "", value)


def _allowed_numbers(values: Iterable[str]) -> set[str]:
    out: set[str] = set()
    for value in values:
        for chunk in re.findall(r"\+?\d[\d\s().\-]*\d|\d+", value or ""):
            d = _digits(chunk)
            if d:
                out.add(d)
                if len(d) == 11 and d.startswith("1"):
                    out.add(d[1:])
    return out


def _host(value: str) -> str:
    value = value.strip().lower().rstrip(".,;:!?)")
    if "@" in value and "://" not in value:
        return value.rsplit("@", 1)[1]
    host = urlsplit(value if "://" in value else f"//{value}").hostname or ""
    return host.removeprefix("www.")


def _phone_findings(text: str, allowed: set[str], office_phone: str) -> list[Finding]:
    out = []
    for m in _PHONE.finditer(text):
        start, end = m.span(1) if m.group(1) else m.span()
        number = _digits(text[start:end])
        if len(number) >= 3 and number not in allowed and number[-10:] not in allowed:
            message = (
                f"Replace {text[start:end]!r} with the office phone {office_phone}: only the practice's own "
                "numbers and the emergency and crisis lines may be given."
            )
            out.append(Finding("other_phone", start, end, message))
    return out


def _link_findings(text: str, own: set[str], website: str) -> list[Finding]:
    out = []
    for m in _LINK.finditer(text):
        link = m.group().rstrip(".,;:!?)")
        host = _host(link)
        if host and host not in own and not any(host.endswith("." + h) for h in own if h):
            message = f"Remove the link {link!r}: only the practice's website {website} may be given."
            out.append(Finding("other_link", m.start(), m.start() + len(link), message))
    return out


def _crisis_findings(text: str, policy: ReplyPolicy, extra: str) -> list[Finding]:
    out = []
    numbers = {_digits(n) for n in re.findall(r"\+?\d[\d\s().\-]*\d|\d+", text)}
    emergency = _digits(policy.emergency_number)
    if emergency and emergency not in numbers:
        message = f"Add the emergency number {policy.emergency_number}: a reply to a crisis must give it (policy P5)."
        out.append(Finding("missing_emergency_number", 0, 0, message))
    crisis = _allowed_numbers([policy.crisis_line, extra])
    if crisis and not crisis & numbers:
        message = f"Add the crisis line {policy.crisis_line}: a reply to a crisis should give it (policy P5)."
        out.append(Finding("missing_crisis_line", 0, 0, message))
    return out


def lint_reply(text: str, policy: ReplyPolicy, *, label: str | None = None) -> list[Finding]:
    """Return the findings for `text`; an empty list means the reply is safe to approve."""
    findings = [
        Finding("names_condition", m.start(), m.end(), f"Remove {m.group()!r}: {_NO_CLINICAL}")
        for m in _CLINICAL.finditer(text)
    ]
    findings += [
        Finding("confirms_client", m.start(), m.end(), f"Remove {m.group()!r}: {_NO_CONFIRM}")
        for m in _CONFIRMS.finditer(text)
    ]
    named: list[Finding] = []
    for name in _clinician_names(getattr(policy, "clinicians", None) or []):
        for m in re.finditer(rf"\b{re.escape(name)}\b", text):
            if not any(f.start <= m.start() and m.end() <= f.end for f in named):
                named.append(Finding("names_clinician", m.start(), m.end(), f"Remove {m.group()!r}: {_NO_CLINICIAN}"))
    findings += named
    extra = str(getattr(policy, "crisis_line_number", "") or "")
    allowed = _allowed_numbers([policy.office_phone, policy.emergency_number, policy.crisis_line, extra])
    findings += _phone_findings(text, allowed, policy.office_phone)
    own = {_host(policy.website)} | {_host(u) for u in getattr(policy, "allowed_links", None) or []}
    findings += _link_findings(text, own, policy.website)
    if label == "crisis":
        findings += _crisis_findings(text, policy, extra)
    return sorted(findings, key=lambda f: (f.start, f.rule_id))


_NO_CLINICAL = "a reply must not name a condition, medication or treatment (policy P6)."
_NO_CONFIRM = "it confirms a client relationship (policy P6)."
_NO_CLINICIAN = "naming a clinician in a reply can confirm a client relationship (policy P6)."
_HONORIFICS = {"dr", "dr.", "ms", "ms.", "mr", "mr.", "mrs", "mrs.", "mx", "mx.", "miss", "doctor"}


def _clinician_names(names: Iterable[str]) -> list[str]:
    """Full names and surnames (a first name alone is too common to flag)."""
    out: set[str] = set()
    for name in names:
        name = " ".join(name.split())
        parts = [p for p in name.split() if p.lower() not in _HONORIFICS]
        if parts:
            out.add(name)
            out.add(" ".join(parts))
            if len(parts) > 1 and len(parts[-1]) >= 3:
                out.add(parts[-1])
    return sorted(out, key=len, reverse=True)
