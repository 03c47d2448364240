"""Crisis warning signs that count only together (packs/signals.toml).

The phrase rules in crisis.toml catch what people often write; this layer catches combinations
of weaker signs (talk of death + a time, a means + a farewell, ...) that no single phrase covers.
Every cue passes its category's context checks first, so jokes, fiction, past and awareness posts
stay quiet exactly as they do for the phrase rules.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

from rules.context import FIRE, MessageContext, judge
from rules.loader import Rule, compile_lower, expand, read_toml
from rules.types import Evidence

RULE_ID = "crisis.signals"
#: Matches judged per category and message: bounds pathological input.
MAX_MATCHES = 8
#: Categories looked at first: without one of these no combination can fire, so stop early.
_ANCHORS = ("death", "self_harm", "danger", "farewell", "hopeless", "plan")


@dataclass(frozen=True)
class Category:
    """One kind of warning sign: its cues and the context checks they are subject to."""

    name: str
    rule: Rule
    #: each cue compiled on its own, with its position in `Signals.cues` (what the prefilter names)
    cues: tuple[tuple[int, re.Pattern[str]], ...]
    strong: bool


@dataclass(frozen=True)
class Signals:
    """The compiled signals pack."""

    categories: Mapping[str, Category]
    combos: tuple[frozenset[str], ...]
    disclosure: frozenset[str]

    @property
    def cues(self) -> list[re.Pattern[str]]:
        """Every category's cues, in the order their positions number them."""
        return [regex for category in self.categories.values() for _, regex in category.cues]


def load_signals(defines: Mapping[str, str]) -> Signals:
    """Compile packs/signals.toml."""
    data = read_toml("signals.toml")
    categories: dict[str, Category] = {}
    position = 0
    for name, raw in data["category"].items():
        patterns = tuple(expand(p, defines) for p in raw["patterns"])
        rule = Rule(
            id=f"{RULE_ID}.{name}",
            label="crisis",
            reason=str(raw["reason"]),
            patterns=patterns,
            context=frozenset(raw.get("context", ())),
        )
        cues = tuple((position + n, compile_lower(p, f"signal {name}")) for n, p in enumerate(patterns))
        position += len(cues)
        categories[name] = Category(name, rule, cues, bool(raw.get("strong", False)))
    combos = tuple(frozenset(pair) for pair in data["combos"])
    unknown = {c for pair in combos for c in pair} - set(categories)
    if unknown:
        raise ValueError(f"signals.toml: combos name unknown categories {sorted(unknown)}")
    return Signals(categories, combos, frozenset(data.get("disclosure", ())))


def _hits(category: Category, ctx: MessageContext, live: frozenset[int]) -> list[tuple[int, int]]:
    """Spans of the category's cues that survive its context checks."""
    out: list[tuple[int, int]] = []
    for position, regex in category.cues:
        if position not in live:
            continue
        for n, m in enumerate(regex.finditer(ctx.text)):
            if n >= MAX_MATCHES:
                break
            start, end = m.span()
            if end > start and judge(category.rule, start, end, ctx) == FIRE:
                out.append((start, end))
    return sorted(out)


def crisis_signals(signals: Signals, ctx: MessageContext, live: frozenset[int]) -> list[Evidence]:
    """Crisis (and, for the writer's own risk, disclosure) evidence when signs combine; else [].

    `live` are the positions (in `signals.cues`) of the cues the prefilter says may match.
    """
    found: dict[str, list[tuple[int, int]]] = {}
    for name in _ANCHORS:
        spans = _hits(signals.categories[name], ctx, live)
        if spans:
            found[name] = spans
    if not found:
        return []
    for name, category in signals.categories.items():
        if name not in found:
            spans = _hits(category, ctx, live)
            if spans:
                found[name] = spans
    present = frozenset(found)
    fired = [combo for combo in signals.combos if combo <= present]
    fired += [
        frozenset({name})
        for name, spans in found.items()
        if signals.categories[name].strong and len({ctx.text[s:e] for s, e in spans}) >= 2
    ]
    if not fired:
        return []
    used = sorted(set().union(*fired))
    reason = "warning signs together: " + " + ".join(signals.categories[n].rule.reason for n in used)
    labels = ["crisis"]
    if present & signals.disclosure and not ctx.stranger(found[used[0]][0][0]):
        labels.append("clinical_disclosure")
    out: list[Evidence] = []
    for name in used:
        for start, end in found[name][:3]:
            ostart, oend = ctx.norm.span(start, end)
            out.extend(Evidence(label, ostart, oend, f"{RULE_ID}.{name}", reason) for label in labels)
    return out
