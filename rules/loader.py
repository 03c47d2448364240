"""Pack files -> compiled rules. Lexicons and patterns are data (rules/packs/*.toml), compiled once.

Each label pack holds `[[rule]]` tables; `common.toml` defines shared vocabulary (`{{cond}}` etc.)
and `context.toml` the context cues. Each pattern is compiled on its own (lower-case, no
IGNORECASE: much faster in `re`); rules/prefilter.py picks the few worth searching per message.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from typing import Any

from rules.normalize import normalize
from rules.types import PRIORITY

FLAGS = re.IGNORECASE
_REF = re.compile(r"\{\{(\w+)\}\}")
_CONTEXTS = frozenset(
    {"negation", "past", "hypothetical", "fiction", "quote", "awareness", "joke", "explicit_joke", "figurative"}
    | {"to_others", "pet", "departure", "business", "celebration", "industry"}
)


@dataclass(frozen=True)
class Rule:
    """One rule: what it matches, why it matters, and which context checks may veto it."""

    id: str
    label: str
    reason: str
    patterns: tuple[str, ...]
    also: tuple[str, ...] = ()
    context: frozenset[str] = frozenset()
    weak: bool = False
    gate: str = ""
    min_distinct: int = 1
    requires: re.Pattern[str] | None = None
    unless: re.Pattern[str] | None = None
    requires_sentence: re.Pattern[str] | None = None
    unless_sentence: re.Pattern[str] | None = None
    #: Matched against the case-preserving text with IGNORECASE (names need case); always run.
    cased: bool = False


@dataclass(frozen=True)
class Entry:
    """One compiled pattern of a rule."""

    rule: Rule
    regex: re.Pattern[str]
    #: The pattern's leading \\b was removed (so `re` can skip ahead on its first letters); check it by hand.
    boundary: bool


@dataclass(frozen=True)
class LabelPack:
    """All rules of one label and their compiled patterns."""

    label: str
    rules: tuple[Rule, ...]
    entries: tuple[Entry, ...]


def expand(pattern: str, defines: Mapping[str, str]) -> str:
    """Substitute `{{name}}` references (recursively: definitions may use each other)."""
    for _ in range(5):
        new = _REF.sub(lambda m: defines[m.group(1)], pattern)
        if new == pattern:
            return new
        pattern = new
    raise ValueError(f"definition loop in {pattern[:60]!r}")


def check_lower(pattern: str, where: str) -> None:
    """Patterns are matched against lower-cased text: case-sensitive `re` is several times faster
    than IGNORECASE, so the pattern itself must be written in lower case."""
    if re.search(r"(?<!\\)[A-Z]", re.sub(r"\\[UN][0-9A-Fa-f]{8}|\\N\{[^}]*\}|\(\?P<\w+>", "", pattern)):
        raise ValueError(f"{where}: patterns match lower-cased text; write them in lower case")


def compile_lower(pattern: str, where: str) -> re.Pattern[str]:
    """Compile a pattern written in lower case (see `check_lower`); a bad one is a ValueError naming `where`."""
    check_lower(pattern, where)
    return _compile(pattern, 0, where)


def _compile(pattern: str, flags: int, where: str) -> re.Pattern[str]:
    try:
        return re.compile(pattern, flags)
    except re.error as exc:
        raise ValueError(f"{where}: bad pattern ({exc})") from exc


def _any(patterns: Sequence[str], defines: Mapping[str, str], where: str) -> re.Pattern[str] | None:
    if not patterns:
        return None
    return compile_lower("|".join(f"(?:{expand(p, defines)})" for p in patterns), where)


def _rule(raw: Mapping[str, Any], label: str, defines: Mapping[str, str]) -> Rule:
    context = frozenset(raw.get("context", ()))
    unknown = context - _CONTEXTS
    if unknown:
        raise ValueError(f"rule {raw['id']}: unknown context {sorted(unknown)}")
    patterns = tuple(expand(p, defines) for p in raw["patterns"])
    where = f"rule {raw['id']}"
    for p in patterns:
        check_lower(p, where)  # compiled once, by compile_pack
    return Rule(
        id=raw["id"],
        label=label,
        reason=raw["reason"],
        patterns=patterns,
        also=tuple(raw.get("also", ())),
        context=context,
        weak=bool(raw.get("weak", False)),
        gate=str(raw.get("gate", "")),
        min_distinct=int(raw.get("min_distinct", 1)),
        requires=_any(raw.get("requires", ()), defines, where),
        unless=_any(raw.get("unless", ()), defines, where),
        requires_sentence=_any(raw.get("requires_sentence", ()), defines, where),
        unless_sentence=_any(raw.get("unless_sentence", ()), defines, where),
    )


def compile_pack(label: str, rules: Sequence[Rule]) -> LabelPack:
    """Compile every pattern of a label (rules/prefilter.py later picks which to search per message)."""
    entries: list[Entry] = []
    for rule in rules:
        for pattern in rule.patterns:
            boundary = pattern.startswith(r"\b") and not rule.cased
            body = pattern[2:] if boundary else pattern
            entries.append(Entry(rule, _compile(body, FLAGS if rule.cased else 0, f"rule {rule.id}"), boundary))
    return LabelPack(label, tuple(rules), tuple(entries))


def read_toml(name: str) -> dict[str, Any]:
    """One packaged pack file (read once, at import)."""
    return tomllib.loads(resources.files("rules").joinpath("packs", name).read_text("utf-8"))


def load_defines() -> dict[str, str]:
    """Shared vocabulary from common.toml."""
    return dict(read_toml("common.toml")["define"])


def load_cues(defines: Mapping[str, str]) -> dict[str, re.Pattern[str]]:
    """Context cues from context.toml, compiled."""
    cues = read_toml("context.toml")["cues"].items()
    return {k: compile_lower(expand(v, defines), f"context cue {k}") for k, v in cues}


def load_rules(
    defines: Mapping[str, str], extra_terms: Mapping[str, Sequence[str]] | None = None
) -> dict[str, list[Rule]]:
    """Rules of every label pack, plus the practice's own terms as one rule per label."""
    out: dict[str, list[Rule]] = {}
    for label in PRIORITY:
        data = read_toml(f"{label}.toml")
        if data.get("label") != label:
            raise ValueError(f"{label}.toml must declare label = {label!r}")
        out[label] = [_rule(r, label, defines) for r in data["rule"]]
    for label, terms in (extra_terms or {}).items():
        if label not in out:
            raise ValueError(f"extra_terms: unknown label {label!r}")
        words = [t.strip() for t in terms if t.strip()]
        if words:
            pattern = r"\b(?:" + "|".join(re.escape(normalize(w).text.lower().strip()) for w in words) + r")\b"
            out[label].insert(0, Rule(f"{label}.practice_terms", label, "practice's own term", (pattern,)))
    return out


def pack_files() -> list[str]:
    """Names of the label pack files (for the meta-test)."""
    return [f"{label}.toml" for label in PRIORITY]
