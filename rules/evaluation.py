"""Scoring the rules on a labelled corpus (`monitor eval`). Pure: the caller reads and prints.

Corpus lines are the format of ../shared/corpus/dev.jsonl: {"id","kind","platform","text","labels"}.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from rules.types import PRIORITY, Detection

ClassifyFn = Callable[..., Detection]


@dataclass(frozen=True)
class CorpusLine:
    """One labelled message."""

    id: str
    kind: str
    platform: str
    text: str
    labels: frozenset[str]


@dataclass(frozen=True)
class LabelScore:
    """Precision, recall, F1 and support of one label."""

    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class EvalError:
    """A line whose predicted labels differ from the gold ones."""

    id: str
    expected: frozenset[str]
    predicted: frozenset[str]


@dataclass
class EvalReport:
    """Scores over a corpus, plus every line the rules got wrong."""

    n: int
    labels: dict[str, LabelScore]
    macro_f1: float
    benign_false_positive_rate: float
    errors: list[EvalError] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        """Exactly the `monitor eval --json` shape."""
        return {
            "n": self.n,
            "labels": {
                label: {"precision": s.precision, "recall": s.recall, "f1": s.f1, "support": s.support}
                for label, s in self.labels.items()
            },
            "macro_f1": self.macro_f1,
            "benign_false_positive_rate": self.benign_false_positive_rate,
        }


def _line(raw: str, number: int) -> CorpusLine:
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise TypeError("not a JSON object")
        labels = data["labels"]
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise TypeError("labels must be a list of strings")
        unknown = set(labels) - set(PRIORITY)
        if unknown:
            raise ValueError(f"unknown label(s) {sorted(unknown)}")
        return CorpusLine(
            str(data["id"]), str(data.get("kind", "comment")), str(data.get("platform", "")), str(data["text"]),
            frozenset(labels),
        )  # fmt: skip
    except (ValueError, TypeError, KeyError) as exc:
        raise ValueError(f"line {number}: {exc.__class__.__name__}: {exc}") from exc


def load_corpus(lines: Iterable[str]) -> list[CorpusLine]:
    """Parse JSON lines; blank lines are skipped; a malformed line raises ValueError naming its number."""
    return [_line(raw, number) for number, raw in enumerate(lines, start=1) if raw.strip()]


def _ratio(num: int, den: int) -> float:
    return num / den if den else 0.0


def evaluate(lines: Iterable[CorpusLine], classifier: ClassifyFn | None = None) -> EvalReport:
    """Score `classifier` (default: `rules.classify`) on the corpus lines."""
    if classifier is None:
        from rules.engine import classify

        classifier = classify
    fn: ClassifyFn = classifier  # narrowed for the generator below
    return score(
        (line.id, line.labels, frozenset(fn(line.text, kind=line.kind, platform=line.platform).labels))
        for line in lines
    )


def score(rows: Iterable[tuple[str, frozenset[str], frozenset[str]]]) -> EvalReport:
    """Scores of predictions already made: (id, gold labels, predicted labels) per line."""
    tp = dict.fromkeys(PRIORITY, 0)
    fp = dict.fromkeys(PRIORITY, 0)
    support = dict.fromkeys(PRIORITY, 0)
    benign = benign_flagged = n = 0
    errors: list[EvalError] = []
    for line_id, gold_labels, predicted in rows:
        n += 1
        for label in PRIORITY:
            gold, pred = label in gold_labels, label in predicted
            support[label] += gold
            tp[label] += gold and pred
            fp[label] += pred and not gold
        if not gold_labels:
            benign += 1
            benign_flagged += bool(predicted)
        if predicted != gold_labels:
            errors.append(EvalError(line_id, gold_labels, predicted))
    scores: dict[str, LabelScore] = {}
    for label in PRIORITY:
        p = _ratio(tp[label], tp[label] + fp[label])
        r = _ratio(tp[label], support[label])
        scores[label] = LabelScore(p, r, 0.0 if p + r == 0 else 2 * p * r / (p + r), support[label])
    macro = sum(s.f1 for s in scores.values()) / len(scores)
    return EvalReport(n, scores, macro, _ratio(benign_flagged, benign), errors)


def format_report(report: EvalReport, show_errors: bool) -> str:
    """A readable table; with `show_errors`, the ids got wrong and what was missed or extra."""
    rows = [f"{'label':<20} {'precision':>9} {'recall':>7} {'f1':>6} {'support':>8}"]
    for label, s in report.labels.items():
        rows.append(f"{label:<20} {s.precision:>9.3f} {s.recall:>7.3f} {s.f1:>6.3f} {s.support:>8d}")
    rows.append(f"{'macro-F1':<20} {report.macro_f1:>32.3f}")
    rows.append(f"benign false-positive rate: {report.benign_false_positive_rate:.3f}")
    rows.append(f"{report.n} lines, {len(report.errors)} with any label wrong")
    if show_errors and report.errors:
        rows.append("")
        rows.append("errors (id: missed / extra):")
        for e in report.errors:
            missed = ", ".join(sorted(e.expected - e.predicted)) or "-"
            extra = ", ".join(sorted(e.predicted - e.expected)) or "-"
            rows.append(f"  {e.id}: missed {missed} / extra {extra}")
    return "\n".join(rows)
