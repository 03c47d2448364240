"""The pack-driven engine: normalise once, scan once per label, let context veto, map spans back;
then the learned layer (rules/learned.py) may add the labels the phrase rules missed.

`Classifier` holds one practice's compiled packs (its clinicians' and practice names, its own
extra terms) and the learned model; the module-level `classify` is a default Classifier compiled
once at import.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from functools import lru_cache

from rules.context import CHECK_NAMES, DEMOTE, DROP, FIRE, SKIP, MessageContext, judge, judged, learned_veto
from rules.learned import RULE_PREFIX, LearnedModel, Token, load_model
from rules.loader import Entry, LabelPack, Rule, compile_pack, load_cues, load_defines, load_rules
from rules.names import client_status_rules
from rules.normalize import lower_keeping_length, normalize
from rules.prefilter import Prefilter
from rules.signals import Signals, crisis_signals, load_signals
from rules.types import PRIORITY, Detection, Evidence

RULES_VERSION = "2.0.0"
#: Evidence kept per rule and message: enough to explain, bounded for pathological input.
MAX_EVIDENCE_PER_RULE = 5
#: Longer texts are classified on their first and last MAX_CHARS / 2 characters: far above any
#: platform's post or comment limit, and it keeps a pathological input bounded (1 MB well under 1 s).
MAX_CHARS = 100_000
#: Candidate matches judged per pattern and message: bounds the work on pathological (huge) input.
MAX_TRIES_PER_PATTERN = 64
#: The learned crisis score a message the phrase rules read as an admin request must reach. Scored
#: leave-one-file-out (5,713 lines), learned crisis beside an admin rule below 0.70 was right 2
#: times in 14; above it, 16 in 21.
ADMIN_CRISIS_SCORE = 0.70
#: A phrase rule's label that the learned model scores below this is dropped (messages of four words
#: or more). Only therapy_request: scored leave-one-file-out (5,713 lines), a floor of 0.10 dropped 13
#: of the rules' 52 false therapy requests and 1 of their 599 true ones, and on three files neither
#: layer had seen, 2 false and no true ones. For crisis it would drop real, indirect crises the rules
#: exist to catch; for the other labels it dropped about as many true labels as false ones.
RULE_CONFIRM_SCORE = {"therapy_request": 0.10}
#: How far each crisis sensitivity (the policy's `crisis_sensitivity`) lowers the learned crisis
#: threshold below the trained one. The trade is measured on the holdout sets (README).
CRISIS_SENSITIVITY = {"standard": 0.0, "high": 0.10}


@lru_cache(maxsize=1)
def _shared() -> tuple[dict[str, str], Signals]:
    defines = load_defines()
    return defines, load_signals(defines)


@lru_cache(maxsize=1)
def _packaged_model() -> LearnedModel:
    return load_model()


class Classifier:
    """Rules compiled for one practice: its names make client-status disclosures detectable."""

    def __init__(
        self,
        practice_names: Sequence[str] = (),
        clinicians: Sequence[str] = (),
        extra_terms: Mapping[str, Sequence[str]] | None = None,
        *,
        learned: LearnedModel | bool | None = True,
        crisis_sensitivity: str = "standard",
    ) -> None:
        """`crisis_sensitivity` (a key of CRISIS_SENSITIVITY) lowers the learned crisis threshold
        for a practice that prefers more alarms to missed crises."""
        defines, self._signals = _shared()
        if crisis_sensitivity not in CRISIS_SENSITIVITY:
            raise ValueError(f"crisis_sensitivity must be one of {', '.join(CRISIS_SENSITIVITY)}")
        if learned is True:
            learned = _packaged_model()
        if learned and CRISIS_SENSITIVITY[crisis_sensitivity]:
            trained = learned.labels["crisis"].threshold
            learned = learned.with_threshold("crisis", round(trained - CRISIS_SENSITIVITY[crisis_sensitivity], 2))
        self._learned: LearnedModel | None = learned or None
        self._cues = load_cues(defines)
        rules = load_rules(defines, extra_terms)
        rules["clinical_disclosure"].extend(client_status_rules(practice_names, clinicians))
        self._packs: tuple[LabelPack, ...] = tuple(compile_pack(label, rules[label]) for label in PRIORITY)
        self._entries: tuple[Entry, ...] = tuple(e for pack in self._packs for e in pack.entries)
        # One RE2 pass over the lower-cased text picks the few patterns worth searching with `re`.
        self._cue_names = tuple(self._cues)
        self._n_rule_patterns = len(self._entries) + len(self._signals.cues)
        self._prefilter = Prefilter(
            [e.regex for e in self._entries] + self._signals.cues + [self._cues[c] for c in self._cue_names]
        )

    @property
    def learned_model(self) -> LearnedModel | None:
        """The learned layer this classifier uses (None: phrase rules only)."""
        return self._learned

    @property
    def rules(self) -> list[Rule]:
        """Every compiled rule, label by label (for explain tools and the meta-test)."""
        return [rule for pack in self._packs for rule in pack.rules]

    def classify(self, text: str, *, kind: str = "comment", platform: str = "") -> Detection:
        """Label `text`; every label carries the spans and rule ids that raised it."""
        if kind == "follow" or not text.strip():
            return Detection()
        held: list[Evidence] = []
        if len(text) <= MAX_CHARS:
            found = self._evidence(text, kind, held)
        else:
            half = MAX_CHARS // 2
            shift = len(text) - half
            found = self._evidence(text[:half], kind, held)
            tail: list[Evidence] = []
            for e in self._evidence(text[-half:], kind, tail):
                found.append(replace(e, start=e.start + shift, end=e.end + shift))
            held.extend(replace(e, start=e.start + shift, end=e.end + shift) for e in tail)
        unique = tuple(dict.fromkeys(found))  # two patterns of one rule can match the same words
        return Detection(frozenset(e.label for e in unique), unique, tuple(dict.fromkeys(held)))

    def _evidence(self, text: str, kind: str, held: list[Evidence]) -> list[Evidence]:
        """The evidence for each label; what a context check decided against goes to `held`."""
        norm = normalize(text)
        low = lower_keeping_length(norm.text)
        candidates = sorted(self._prefilter.candidates(low))
        n_entries, n_rules = len(self._entries), self._n_rule_patterns
        possible = {self._cue_names[n - n_rules] for n in candidates if n >= n_rules}
        ctx = MessageContext(norm, low, text, self._cues, possible)
        vetoed: set[str] = set()
        found = _scan([self._entries[n] for n in candidates if n < n_entries], ctx, vetoed, held)
        if not any(e.label == "crisis" for e in found):
            live = frozenset(n - n_entries for n in candidates if n_entries <= n < n_rules)
            found.extend(crisis_signals(self._signals, ctx, live))
        if self._learned is not None:
            scored = self._learned.scores(ctx.text, kind)
            if scored is not None:
                found = _confirmed(found, scored, held)
            # A label the rules raised, or whose cue they judged negated, past, figurative..., is left alone.
            raised = frozenset(e.label for e in found)
            found.extend(self._learned_evidence(ctx, kind, frozenset(vetoed | raised), raised, scored, held))
        return found

    def _learned_evidence(
        self,
        ctx: MessageContext,
        kind: str,
        have: frozenset[str],
        raised: frozenset[str],
        scored: dict[str, tuple[float, list[Token]]] | None,
        held: list[Evidence],
    ) -> list[Evidence]:
        """Labels the rules missed that the learned model raises, unless a context check vetoes them.

        The check is made once per label, at its first span (past tense there, a joke in the message...).
        A message the rules read as an admin request needs a clear learned crisis score
        (ADMIN_CRISIS_SCORE), not a middling one ("the video link for my 4:30 won't load").
        """
        assert self._learned is not None
        spans: dict[str, list[tuple[int, int, str, float]]] = {}
        for label, start, end, reason, score in self._learned.evidence(ctx.text, kind, have, scored):
            spans.setdefault(label, []).append((start, end, reason, score))
        out: list[Evidence] = []
        for label, found in spans.items():
            check = learned_veto(label, min(start for start, _, _, _ in found), ctx)
            why = CHECK_NAMES.get(check, check)
            if not why and label == "crisis" and "admin_request" in raised and found[0][3] < ADMIN_CRISIS_SCORE:
                why = f"reads as an admin request and the score is under {ADMIN_CRISIS_SCORE:.2f}"
            for start, end, reason, score in found:
                ostart, oend = ctx.norm.span(start, end)
                evidence = Evidence(label, ostart, oend, f"{RULE_PREFIX}.{label}", reason, score)
                (held if why else out).append(replace(evidence, reason=why) if why else evidence)
        return out


def _scan(entries: list[Entry], ctx: MessageContext, vetoed: set[str], held: list[Evidence]) -> list[Evidence]:
    """Run the candidate patterns (in label and rule order); context checks decide each match.

    Labels whose matches a context check dropped or demoted are added to `vetoed` (a SKIP is not a
    veto), and the matches to `held`, each with the check that decided against it.
    """
    out: list[Evidence] = []
    counts: dict[str, int] = {}
    grouped: dict[str, list[tuple[int, int]]] = {}
    grouped_rules: dict[str, Rule] = {}
    for entry in entries:
        rule = entry.rule
        text = ctx.cased if rule.cased else ctx.text
        pos = tries = 0
        while counts.get(rule.id, 0) < MAX_EVIDENCE_PER_RULE and tries < MAX_TRIES_PER_PATTERN:
            tries += 1
            m = entry.regex.search(text, pos)
            if m is None:
                break
            start, end = m.span()
            if end == start or (entry.boundary and start and _wordish(text[start - 1])):
                pos = start + 1
                continue
            if rule.min_distinct > 1:
                grouped.setdefault(rule.id, []).append((start, end))
                grouped_rules[rule.id] = rule
                pos = end
                continue
            verdict, check = judged(rule, start, end, ctx)
            if verdict in (DROP, DEMOTE):
                vetoed.add(rule.label)
                ostart, oend = ctx.norm.span(start, end)
                held.append(Evidence(rule.label, ostart, oend, rule.id, CHECK_NAMES.get(check, check)))
            if verdict in (DROP, SKIP):
                if verdict == DROP:
                    vetoed.update(rule.also)
                pos = start + 1
                continue
            pos = end
            counts[rule.id] = counts.get(rule.id, 0) + 1
            out.extend(_evidence(rule, verdict, ctx, start, end))
    for rule_id, spans in grouped.items():
        out.extend(_co_occurring(grouped_rules[rule_id], sorted(set(spans)), ctx))
    return out


def _confirmed(
    found: list[Evidence], scored: Mapping[str, tuple[float, list[Token]]], held: list[Evidence]
) -> list[Evidence]:
    """Drop a phrase rule's label the learned model all but rules out (RULE_CONFIRM_SCORE)."""
    doubtful = {label for label, floor in RULE_CONFIRM_SCORE.items() if label in scored and scored[label][0] < floor}
    if not doubtful:
        return found
    for e in found:
        if e.label in doubtful:
            floor = RULE_CONFIRM_SCORE[e.label]
            why = f"the learned model scores it {scored[e.label][0]:.2f}, under {floor:.2f}"
            held.append(replace(e, reason=why))
    return [e for e in found if e.label not in doubtful]


def _wordish(ch: str) -> bool:
    return ch.isalnum() or ch == "_"


def _evidence(rule: Rule, verdict: str, ctx: MessageContext, start: int, end: int) -> list[Evidence]:
    """Evidence for the rule's label (if it fired) and its `also` labels (fired or past)."""
    ostart, oend = ctx.norm.span(start, end)
    out: list[Evidence] = []
    also = rule.also
    if also and ctx.stranger(start):
        also = tuple(label for label in also if label != "clinical_disclosure")
    if verdict == FIRE:
        out.append(Evidence(rule.label, ostart, oend, rule.id, rule.reason))
        out.extend(Evidence(label, ostart, oend, rule.id, rule.reason) for label in also)
    elif verdict == DEMOTE:
        reason = f"{rule.reason}, in the past or resolved"
        out.extend(Evidence(label, ostart, oend, f"{rule.id}.past", reason) for label in also)
    return out


def _co_occurring(rule: Rule, spans: list[tuple[int, int]], ctx: MessageContext) -> list[Evidence]:
    """A `min_distinct` rule fires only when enough different cues survive their context checks."""
    kept = [(s, e) for s, e in spans if judge(rule, s, e, ctx) == FIRE]
    distinct = {ctx.text[s:e].lower() for s, e in _apart(kept)}
    if len(distinct) < rule.min_distinct:
        return []
    out: list[Evidence] = []
    for s, e in kept[:MAX_EVIDENCE_PER_RULE]:
        out.extend(_evidence(rule, FIRE, ctx, s, e))
    return out


def _apart(spans: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping spans merged into one: two patterns matching the same words ("writing a
    goodbye" inside "writing a goodbye letter") are one cue, not two different ones."""
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start < out[-1][1]:
            out[-1] = (out[-1][0], max(end, out[-1][1]))
        else:
            out.append((start, end))
    return out


_DEFAULT = Classifier()


def classify(text: str, *, kind: str = "comment", platform: str = "") -> Detection:
    """Label `text` with the default rules (no practice names configured)."""
    return _DEFAULT.classify(text, kind=kind, platform=platform)
