"""The learned layer: a linear model over words and letter groups, for wording no pattern anticipated.

The phrase rules are precise but only know the wording someone thought of; on messages they were
never tuned on they miss most crisis messages (README, "How well the detection works"). This layer
scores every message with one logistic-regression model per label, trained by
`tools/train_learned.py` on the labelled messages the team wrote (tests/rules/data/, never on
../shared) and shipped as `rules/data/learned_model.json`. It only ADDS labels the rules missed, the
engine applies the rules' context checks to what it raises (rules/context.py, `learned_veto`), and
every label it adds carries evidence: the words that pushed the score up most, and the score.

Pure: the weights are package data read once when a Classifier is built; scoring is dictionary
look-ups (no numpy) and costs about as much as the phrase rules do (benchmarks/bench_rules.py).
"""

from __future__ import annotations

import copy
import json
import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from functools import lru_cache
from importlib import resources
from itertools import pairwise
from pathlib import Path
from typing import Any, NamedTuple

from rules.types import LABELS

RULE_PREFIX = "learned"
#: Messages longer than this are scored in overlapping windows of words (the model was trained on
#: messages of social-media length; one long post would otherwise dilute every word in it).
WINDOW_WORDS = 150
WINDOW_STEP = 75
#: Windows scored per message (first and last half): bounds the work on pathological input.
MAX_WINDOWS = 64
#: Letters of a word that count (no real word is longer; a 100,000-letter "word" is junk and would
#: otherwise cost 300,000 letter groups).
MAX_WORD = 30
#: Fewer words than this and the model says nothing ("idk", "thank u 🙏"): too little text to judge
#: (on the training files, scored leave-one-file-out, it raised crisis on such replies). Four words
#: are enough for "im gonna kill myslf tonite"; the phrase rules still read every message.
MIN_WORDS = 4
#: Words named as evidence for a label.
EVIDENCE_WORDS = 3

_TOKEN = re.compile(r"[^\W_]+")
_DIGITS = re.compile(r"\d+")


class Token(NamedTuple):
    """One word of the normalised, lower-cased text and its span there."""

    text: str
    start: int
    end: int


def tokens(low: str) -> list[Token]:
    """Words of a normalised lower-cased text; runs of digits become '0' (phone numbers, times, doses)."""
    out = []
    for m in _TOKEN.finditer(low):
        word = m.group()[:MAX_WORD]
        if not word.isalpha():
            word = _DIGITS.sub("0", word)
        out.append(Token(word, m.start(), m.end()))
    return out


@lru_cache(maxsize=1 << 16)
def _word_features(word: str) -> tuple[str, ...]:
    """A word's own feature and its letter groups of 3 to 5 (cached: words repeat across messages)."""
    padded = f"<{word}>"
    grams = ("c:" + padded[i : i + n] for n in (3, 4, 5) for i in range(len(padded) - n + 1))
    return ("w:" + word, *grams)


def features(words: Iterable[str], kind: str) -> set[str]:
    """The feature names of a run of words: words, word pairs, letter groups of 3-5, and the kind."""
    seq = list(words)
    out = {"k:" + kind}
    for w in set(seq):
        out.update(_word_features(w))
    out.update(f"b:{a} {b}" for a, b in pairwise(seq))
    return out


@dataclass(frozen=True)
class LabelModel:
    """One label's bias and decision threshold (chosen by cross-validation when trained)."""

    bias: float
    threshold: float


class LearnedModel:
    """Per-label logistic models over one shared feature table."""

    def __init__(self, labels: Mapping[str, LabelModel], weights: Mapping[str, Mapping[str, float]]) -> None:
        self.labels = dict(labels)
        self._order = tuple(self.labels)
        self._column = {label: n for n, label in enumerate(self._order)}
        #: feature -> its weight for every label (in `_order`): one look-up per feature, and the
        #: per-label sums are column sums done in C (zip + sum), not a Python loop per label.
        table: dict[str, list[float]] = {}
        for n, label in enumerate(self._order):
            for feature, w in weights.get(label, {}).items():
                table.setdefault(feature, [0.0] * len(self._order))[n] = w
        self._table = {f: tuple(row) for f, row in table.items()}
        self._known = frozenset(self._table)

    def with_threshold(self, label: str, threshold: float) -> LearnedModel:
        """The same weights with `label` flagged from `threshold` (a practice's crisis sensitivity)."""
        other = copy.copy(self)
        other.labels = {**self.labels, label: replace(self.labels[label], threshold=threshold)}
        return other

    def weight(self, label: str, feature: str) -> float:
        row = self._table.get(feature)
        return row[self._column[label]] if row else 0.0

    def probabilities(self, feats: set[str]) -> dict[str, float]:
        """Logistic score per label of one feature set (binary features scaled to unit length, as trained)."""
        scale = 1.0 / math.sqrt(len(feats)) if feats else 0.0
        table = self._table
        rows = [table[f] for f in self._known.intersection(feats)]
        totals = [sum(column) for column in zip(*rows, strict=True)] if rows else [0.0] * len(self._order)
        return {
            label: 1.0 / (1.0 + math.exp(-(total * scale + self.labels[label].bias)))
            for label, total in zip(self._order, totals, strict=True)
        }

    def best(self, low: str, kind: str) -> dict[str, tuple[float, list[Token]]]:
        """Per label, the best window's probability and that window (long posts are scored in windows)."""
        out: dict[str, tuple[float, list[Token]]] = {label: (0.0, []) for label in self.labels}
        for window in _windows(tokens(low)):
            for label, p in self.probabilities(features((t.text for t in window), kind)).items():
                if p > out[label][0]:
                    out[label] = (p, window)
        return out

    def scores(self, low: str, kind: str) -> dict[str, tuple[float, list[Token]]] | None:
        """`best`, or None for a reply of fewer than MIN_WORDS words (too short to say anything)."""
        if len(_TOKEN.findall(low, 0, 2000)) < MIN_WORDS:
            return None
        return self.best(low, kind)

    def evidence(
        self,
        low: str,
        kind: str,
        skip: frozenset[str],
        scored: dict[str, tuple[float, list[Token]]] | None = None,
    ) -> list[tuple[str, int, int, str, float]]:
        """(label, start, end, reason, score) for each label not in `skip` scoring at or over its threshold:
        one span per word that weighed most (the whole window when none stands out). `scored` is
        `scores(low, kind)` when the caller has it already.

        Spans are offsets into `low` (the normalised text); the caller maps them back. The reason
        never quotes the message: evidence is stored, and message words belong in the text alone.
        """
        out: list[tuple[str, int, int, str, float]] = []
        if scored is None:
            scored = self.scores(low, kind)
        if scored is None:
            return out
        for label, (p, window) in scored.items():
            threshold = self.labels[label].threshold
            if label in skip or p < threshold or not window:
                continue
            reason = f"reads like the examples the model learned from (score {p:.2f}; flags from {threshold:.2f})"
            spans = [(t.start, t.end) for t in self._strongest(label, window)]
            for start, end in spans or [(window[0].start, window[-1].end)]:
                out.append((label, start, end, reason, round(p, 4)))
        return out

    def _strongest(self, label: str, window: list[Token]) -> list[Token]:
        """The content words (with the next word, the pair) adding most to the label's score, in text order."""
        gains: dict[int, float] = {}
        for n, tok in enumerate(window):
            if tok.text in STOPWORDS or tok.text == "0":
                continue
            gain = self.weight(label, "w:" + tok.text)
            if n + 1 < len(window):
                gain += max(0.0, self.weight(label, f"b:{tok.text} {window[n + 1].text}"))
            if gain > 0:
                gains[n] = gain
        top = sorted(gains, key=lambda n: (-gains[n], n))[:EVIDENCE_WORDS]
        return [window[n] for n in sorted(top)]


#: Words too common to explain anything to staff; they still count in the score.
_COMMON_WORDS = """
a an the and or but if of to in on at for with from by as is am are was were be been it its this that
these those i im ive id me my mine you your u ur we our us he him his she her they them their there
so just do does did dont have has had not no yes can could would will what how who when where why
all any some about up out into than then too very really like get got
"""
STOPWORDS = frozenset(_COMMON_WORDS.split())


def _windows(toks: list[Token]) -> list[list[Token]]:
    if len(toks) <= WINDOW_WORDS:
        return [toks] if toks else []
    starts = list(range(0, len(toks) - WINDOW_WORDS + WINDOW_STEP, WINDOW_STEP))
    if len(starts) > MAX_WINDOWS:
        half = MAX_WINDOWS // 2
        starts = starts[:half] + starts[-half:]
    return [toks[s : s + WINDOW_WORDS] for s in starts]


def load_model(path: Path | None = None) -> LearnedModel:
    """The packaged model (or `path`); a malformed file is a ValueError naming what is wrong."""
    where = path or resources.files("rules").joinpath("data", "learned_model.json")
    try:
        data = json.loads(where.read_text("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"learned model {where} is not valid JSON ({exc})") from exc
    return parse_model(data)


def parse_model(data: Any) -> LearnedModel:
    """Validate the JSON written by tools/train_learned.py."""
    if not isinstance(data, dict) or not isinstance(data.get("labels"), dict):
        raise ValueError("learned model: expected an object with a 'labels' table")
    labels: dict[str, LabelModel] = {}
    weights: dict[str, dict[str, float]] = {}
    for label, body in data["labels"].items():
        if label not in LABELS:
            raise ValueError(f"learned model: unknown label {label!r}")
        try:
            weights[label] = {str(k): float(v) for k, v in body["weights"].items()}
            labels[label] = LabelModel(float(body["bias"]), float(body["threshold"]))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ValueError(f"learned model: label {label!r} is malformed ({exc})") from exc
    return LearnedModel(labels, weights)
