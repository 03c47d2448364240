"""Optional semantic layer: crisis messages that use no keyword, found by closeness to exemplars we wrote.

Many people in crisis never write a stock phrase ("gave the dog to my neighbour and packed up my
room"). This layer embeds a message with wordllama (static token embeddings shipped inside its
wheel, numpy only: no download, no torch) and compares it with the exemplar messages in
rules/data/semantic_exemplars.toml: score = mean cosine to the `TOP_K` nearest crisis exemplars
minus mean cosine to the `TOP_K` nearest hard negatives. At or above `THRESHOLD` it adds `crisis`,
with evidence naming the nearest exemplars and the score, spanning the best-scoring sentence.

It only ever ADDS crisis to what the rules found (never removes a label, never runs when the rules
already raised crisis) and it honours the rules' own context vetoes (past and resolved, fiction,
awareness, hypothetical). It is off unless asked for: `pip install 'practice-monitor[semantic]'`
and wrap a classifier with `SemanticClassifier`. Without wordllama `available()` is False and
`SemanticLayer()` raises `SemanticUnavailable`; nothing here is imported by `rules.classify`.
"""

from __future__ import annotations

import importlib
import importlib.util
import re
import tomllib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from rules.context import _PAST_TENSE
from rules.loader import load_cues, load_defines
from rules.normalize import normalize
from rules.types import Detection, Evidence

RULE_ID = "semantic.crisis"
#: Chosen on tests/rules/data/tune*.jsonl and leave-one-out over the exemplars only (see benchmarks/).
THRESHOLD = 0.07
TOP_K = 3
#: Long posts are scored in windows of this many sentences (exemplars are one or two sentences long).
WINDOW = 3
#: Sentences looked at per message (first and last half): bounds the work on pathological input.
MAX_SENTENCES = 256
#: Characters of one window or sentence that are embedded: bounds the work on a post with no punctuation.
MAX_UNIT_CHARS = 2_000
#: The wordllama model bundled in the 0.4.x wheel (weights/l2_supercat_256.safetensors).
MODEL, DIM = "l2_supercat", 256

ClassifyFn = Callable[..., Detection]
_SENTENCE = re.compile(r"[^.!?…\n]+[.!?…]*")
_WORD = re.compile(r"[^\W\d_]{2,}")


class SemanticUnavailable(RuntimeError):
    """wordllama (the `semantic` extra) is not installed, or its bundled model cannot be loaded."""


def available() -> bool:
    """Whether the optional dependency is installed (cheap: nothing is imported)."""
    return importlib.util.find_spec("wordllama") is not None


@dataclass(frozen=True)
class Exemplar:
    """One invented example message; `id` is "<side>.<theme>.<n>" as evidence cites it."""

    id: str
    crisis: bool
    text: str


def load_exemplars(path: Path | None = None) -> tuple[Exemplar, ...]:
    """The packaged exemplar file (or `path`): `[crisis]` and `[not_crisis]` tables of theme = [texts]."""
    if path is None:
        raw = resources.files("rules").joinpath("data", "semantic_exemplars.toml").read_text("utf-8")
    else:
        raw = path.read_text("utf-8")
    data = tomllib.loads(raw)
    out: list[Exemplar] = []
    for side in ("crisis", "not_crisis"):
        for theme, texts in data.get(side, {}).items():
            if not isinstance(texts, list) or not all(isinstance(t, str) and t.strip() for t in texts):
                raise ValueError(f"semantic exemplars: {side}.{theme} must be a list of non-empty strings")
            out.extend(Exemplar(f"{side}.{theme}.{n}", side == "crisis", t) for n, t in enumerate(texts, 1))
    if not any(e.crisis for e in out) or all(e.crisis for e in out):
        raise ValueError("semantic exemplars: need both crisis and not_crisis examples")
    return tuple(out)


@dataclass(frozen=True)
class Score:
    """How crisis-like one message is, where, and which exemplars decided it."""

    value: float
    start: int
    end: int
    nearest_crisis: tuple[str, ...]
    nearest_not_crisis: tuple[str, ...]
    vetoed_by: str = ""


def _load_model() -> Any:
    """wordllama's bundled model, with downloads disabled (its wheel carries weights and tokenizer)."""
    if not available():
        raise SemanticUnavailable("the semantic layer needs wordllama: pip install 'practice-monitor[semantic]'")
    wordllama: Any = importlib.import_module("wordllama")
    # wordllama 0.4.0 looks for the bundled tokenizer in "tokenizer/" but ships it in "tokenizers/";
    # pointing cache_dir at the package finds both files there, and disable_download forbids a fetch.
    bundled = Path(wordllama.__file__).parent
    try:
        return wordllama.WordLlama.load(config=MODEL, dim=DIM, cache_dir=bundled, disable_download=True)
    except (FileNotFoundError, ValueError, OSError) as exc:
        raise SemanticUnavailable(f"wordllama's bundled model could not be loaded: {exc}") from exc


def _sentences(text: str) -> list[tuple[int, int]]:
    """Sentence spans of the original text, trimmed of surrounding whitespace."""
    spans: list[tuple[int, int]] = []
    for m in _SENTENCE.finditer(text):
        chunk = m.group()
        if _WORD.search(chunk):
            left = len(chunk) - len(chunk.lstrip())
            spans.append((m.start() + left, m.start() + len(chunk.rstrip())))
    if len(spans) > MAX_SENTENCES:
        half = MAX_SENTENCES // 2
        spans = spans[:half] + spans[-half:]
    return spans


def _windows(sentences: list[tuple[int, int]]) -> list[tuple[int, int, int]]:
    """(first sentence index, start, end) of each run of `WINDOW` sentences; short texts are one window."""
    if len(sentences) <= WINDOW:
        return [(0, sentences[0][0], sentences[-1][1])]
    return [(i, sentences[i][0], sentences[i + WINDOW - 1][1]) for i in range(len(sentences) - WINDOW + 1)]


class SemanticLayer:
    """The model, the embedded exemplars and the decision rule. Build once per process (~0.5 s)."""

    def __init__(
        self,
        exemplars: Sequence[Exemplar] | None = None,
        *,
        threshold: float = THRESHOLD,
        top_k: int = TOP_K,
        model: Any = None,
    ) -> None:
        self._model = model if model is not None else _load_model()
        self._np: Any = importlib.import_module("numpy")
        items = tuple(exemplars) if exemplars is not None else load_exemplars()
        self.threshold = threshold
        self.top_k = top_k
        self._pos_ids = tuple(e.id for e in items if e.crisis)
        self._neg_ids = tuple(e.id for e in items if not e.crisis)
        self._pos = self._embed([e.text for e in items if e.crisis])
        self._neg = self._embed([e.text for e in items if not e.crisis])
        self._cues = load_cues(load_defines())

    def _embed(self, texts: list[str]) -> Any:
        """Unit-length embeddings (a zero vector stays zero: nothing in it to compare)."""
        np = self._np
        vectors = np.asarray(self._model.embed(texts), dtype=np.float32)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        return vectors / np.where(norms == 0, 1.0, norms)

    def _margins(self, vectors: Any) -> tuple[Any, Any, Any]:
        """Per row: score, and the indices of the nearest crisis and not-crisis exemplars (best first)."""
        np = self._np
        k = self.top_k
        pos, neg = vectors @ self._pos.T, vectors @ self._neg.T
        top_pos = np.argsort(-pos, axis=1, kind="stable")[:, :k]
        top_neg = np.argsort(-neg, axis=1, kind="stable")[:, :k]
        rows = np.arange(len(vectors))[:, None]
        return pos[rows, top_pos].mean(axis=1) - neg[rows, top_neg].mean(axis=1), top_pos, top_neg

    def score(self, text: str) -> Score | None:
        """The best window's score, spanning its best sentence; None when there is nothing to score."""
        sentences = _sentences(text)
        if not sentences:
            return None
        windows = _windows(sentences)
        units = [text[s:e][:MAX_UNIT_CHARS] for _, s, e in windows] + [text[s:e][:MAX_UNIT_CHARS] for s, e in sentences]
        values, top_pos, top_neg = self._margins(self._embed(units))
        best = max(range(len(windows)), key=lambda i: (float(values[i]), -i))
        first, wstart, wend = windows[best]
        inside = range(first, first + min(WINDOW, len(sentences)))
        sent = max(inside, key=lambda j: (float(values[len(windows) + j]), -j))
        start, end = sentences[sent]
        return Score(
            round(float(values[best]), 4), start, end,
            tuple(self._pos_ids[i] for i in top_pos[best]), tuple(self._neg_ids[i] for i in top_neg[best]),
            self._veto(text, text[wstart:wend]),
        )  # fmt: skip

    def _veto(self, text: str, window: str) -> str:
        """The rules' context checks for crisis cues: fiction, awareness, hypothetical, past and resolved."""
        cues = self._cues
        message, near = normalize(text).text.lower(), normalize(window).text.lower()
        for name, where in (("fiction", message), ("awareness", message), ("hypothetical_sentence", near)):
            if cues[name].search(where):
                return name
        if not cues["current"].search(near) and (
            cues["past"].search(near) or (cues["resolved"].search(message) and _PAST_TENSE.search(near))
        ):
            return "past"
        return ""

    def evidence(self, text: str) -> Evidence | None:
        """Crisis evidence when the message scores at or above the threshold and no context vetoes it."""
        found = self.score(text)
        if found is None or found.value < self.threshold or found.vetoed_by:
            return None
        reason = (
            f"close to crisis exemplars {', '.join(found.nearest_crisis)} "
            f"(score {found.value:.3f} >= {self.threshold:.3f}; nearest hard negatives "
            f"{', '.join(found.nearest_not_crisis)})"
        )
        return Evidence("crisis", found.start, found.end, RULE_ID, reason, found.value)


class SemanticClassifier:
    """Rules first; the semantic layer may only add the crisis label the rules missed."""

    def __init__(self, rules: ClassifyFn, layer: SemanticLayer | None = None) -> None:
        self._rules = rules
        self.layer = layer if layer is not None else SemanticLayer()

    def classify(self, text: str, *, kind: str = "comment", platform: str = "") -> Detection:
        """The rules' detection, plus `semantic.crisis` evidence when the layer fires."""
        found = self._rules(text, kind=kind, platform=platform)
        if kind == "follow" or not text.strip() or "crisis" in found.labels:
            return found
        if any(e.rule_id.endswith(".past") for e in found.evidence):
            return found  # the rules judged a crisis cue here to be past or resolved
        extra = self.layer.evidence(text)
        if extra is None:
            return found
        return Detection(found.labels | {"crisis"}, (*found.evidence, extra), found.held_back)
