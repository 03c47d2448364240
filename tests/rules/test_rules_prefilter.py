"""The RE2 prefilter may only ever *widen*: every pattern that matches must be among its candidates."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

import rules
from rules.normalize import lower_keeping_length, normalize
from rules.prefilter import Prefilter, Untranslatable, to_re2

DATA = Path(__file__).parent / "data"


def _texts() -> list[str]:
    out = []
    for path in sorted(DATA.glob("*.jsonl")):
        out.extend(json.loads(line)["text"] for line in path.read_text("utf-8").splitlines() if line.strip())
    return out


@pytest.mark.parametrize(
    ("pattern", "text"),
    [
        (r"\bdie\b", "i want to die"),  # word boundaries are dropped, never required
        (r"(?<!dont )want to die", "i want to die"),  # lookbehinds are dropped
        (r"pills(?= now)", "pills now"),
        (r"caf\w+", "cafézinho"),  # \w is Unicode in `re`: non-ASCII letters must still match
        (r"\d+ pills", "٣ pills"),  # an Arabic-Indic digit is a \d in `re`
        (r"a\sb", "a\u3000b"),  # an ideographic space is a \s in `re`
        (r"[^\w\s]", "!"),
        (r"\U0001f494", "my heart \U0001f494"),
        (r"x{2,5000}", "x" * 1200),  # RE2 refuses counts above 1000: loosened, not refused
        (r"(?:goodbye|farewell) (?:\w+ ){0,3}everyone", "goodbye to everyone"),
    ],
)
def test_translation_matches_whatever_re_matches(pattern: str, text: str) -> None:
    assert re.search(pattern, text)
    assert Prefilter([re.compile(pattern)]).candidates(text) == {0}


def test_a_pattern_that_cannot_match_is_not_a_candidate() -> None:
    assert Prefilter([re.compile(r"\bsaved up my pills\b")]).candidates("i saved up for a trip") == set()


def test_case_insensitive_patterns_stay_case_insensitive() -> None:
    assert to_re2("ortiz", re.IGNORECASE).startswith("(?i)")
    assert Prefilter([re.compile("Dr Ortiz", re.IGNORECASE)]).candidates("dr ortiz helped") == {0}


def test_untranslatable_patterns_are_always_candidates() -> None:
    with pytest.raises(Untranslatable):
        to_re2(r"(a)\1")
    prefilter = Prefilter([re.compile(r"(a)\1"), re.compile("zebra")])
    assert prefilter.always == frozenset({0})
    assert prefilter.candidates("nothing here") == {0}


def test_every_shipped_pattern_that_matches_is_a_candidate() -> None:
    """Over every labelled test message: the prefilter never hides a match from the rules.

    Context cues are also searched on single sentences and clause prefixes (some are anchored at
    a sentence start), so for them every sentence is checked too.
    """
    classifier = rules.Classifier(practice_names=["Example Counseling"], clinicians=["Dr. Lena Ortiz"], learned=False)
    entries = classifier._entries
    rule_patterns = [e.regex for e in entries] + classifier._signals.cues
    cue_patterns = [classifier._cues[name] for name in classifier._cue_names]
    missed = []
    for text in _texts():
        norm = normalize(text)
        low = lower_keeping_length(norm.text)
        candidates = classifier._prefilter.candidates(low)
        for n, regex in enumerate(rule_patterns):
            cased = n < len(entries) and entries[n].rule.cased
            if n not in candidates and regex.search(norm.text if cased else low):
                missed.append((n, regex.pattern[:60], text[:40]))
        sentences = [low, *re.split(r"[.!?\n]+", low)]
        for n, regex in enumerate(cue_patterns, start=len(rule_patterns)):
            if n not in candidates and any(regex.search(part) for part in sentences):
                missed.append((n, regex.pattern[:60], text[:40]))
    assert missed == []
    assert len(rule_patterns) > 300 and len(cue_patterns) > 10


def test_a_cue_the_prefilter_rules_out_is_never_searched() -> None:
    """The context checks answer "no" for a cue the prefilter says cannot occur, without searching."""
    from rules.context import MessageContext
    from rules.loader import load_cues, load_defines

    cues = load_cues(load_defines())
    text = "i read a novel where the hero wants to die"
    norm = normalize(text)
    low = lower_keeping_length(norm.text)
    assert MessageContext(norm, low, text, cues).has("fiction")
    assert not MessageContext(norm, low, text, cues, possible=set()).has("fiction")
    assert MessageContext(norm, low, text, cues, possible={"fiction"}).sentence_has("fiction", 0)


@pytest.mark.parametrize("pattern", [r"Dr \w+", r"(?:sad|Alone)"])
def test_a_pattern_for_lower_cased_text_written_with_capitals_is_refused(pattern: str) -> None:
    """Cues and rule patterns compile case-sensitively, so a capital would silently never match."""
    from rules.loader import compile_lower

    with pytest.raises(ValueError, match="write them in lower case"):
        compile_lower(pattern, "context cue test")
    assert compile_lower(r"\bdr \w+ \U0001f494", "context cue test").search("dr lee \U0001f494")


def test_a_broken_pack_pattern_is_an_error_that_names_its_rule() -> None:
    """Pack patterns are compiled once, when the pack is built; a syntax error must say which rule."""
    from rules.loader import Rule, compile_pack

    def rule(pattern: str) -> Rule:
        return Rule(id="crisis.test", label="crisis", reason="test", patterns=(pattern,))

    with pytest.raises(ValueError, match=r"rule crisis\.test: bad pattern"):
        compile_pack("crisis", [rule(r"\bsad (?:really")])
    pack = compile_pack("crisis", [rule(r"\bsad (?:really)")])
    assert pack.entries[0].regex.search("so sad really")
