"""evaluation.py on a tiny hand-made set with a known answer; the dev and untuned targets."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from rules import PRIORITY, Detection, Evidence
from rules.evaluation import evaluate, format_report, load_corpus, score

# Read from ../shared relative to the repository (tests run in a temporary cwd).
DEV = Path(__file__).resolve().parents[2].parent / "shared" / "corpus" / "dev.jsonl"
UNTUNED = Path(__file__).parent / "data" / "untuned.jsonl"
TUNE = Path(__file__).parent / "data" / "tune.jsonl"
TUNE2 = Path(__file__).parent / "data" / "tune2.jsonl"
TUNE3 = Path(__file__).parent / "data" / "tune3.jsonl"


def _line(i: str, text: str, labels: list[str]) -> str:
    return json.dumps({"id": i, "kind": "dm", "platform": "x", "text": text, "labels": labels, "note": "extra"})


def _fake(text: str, *, kind: str = "comment", platform: str = "") -> Detection:
    labels = frozenset(word for word in text.split() if word in PRIORITY)
    return Detection(labels, tuple(Evidence(label, 0, len(text), "fake") for label in labels))


TINY = [
    _line("a", "crisis", ["crisis"]),
    _line("b", "crisis", ["crisis", "clinical_disclosure"]),
    _line("c", "admin_request", []),
    _line("d", "nothing", []),
    _line("e", "nothing", ["therapy_request"]),
]


def test_metrics_on_a_known_answer() -> None:
    report = evaluate(load_corpus(TINY), _fake)
    data = report.to_json()
    assert data["n"] == 5
    assert data["labels"]["crisis"] == {"precision": 1.0, "recall": 1.0, "f1": 1.0, "support": 2}
    assert data["labels"]["clinical_disclosure"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 1}
    assert data["labels"]["admin_request"] == {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    assert data["benign_false_positive_rate"] == 0.5
    assert data["macro_f1"] == pytest.approx(0.2)
    assert [(e.id, sorted(e.expected), sorted(e.predicted)) for e in report.errors] == [
        ("b", ["clinical_disclosure", "crisis"], ["crisis"]),
        ("c", [], ["admin_request"]),
        ("e", ["therapy_request"], []),
    ]


def test_stored_predictions_score_like_a_live_classifier() -> None:
    """tools/leave_one_file_out.py scores predictions it already made; the figures must be the same."""
    lines = load_corpus(TINY)
    stored = [(line.id, line.labels, frozenset(_fake(line.text).labels)) for line in lines]
    assert score(stored) == evaluate(lines, _fake)
    assert score([("x", frozenset(), frozenset({"crisis"}))]).benign_false_positive_rate == 1.0


def test_json_shape_is_exact() -> None:
    data = evaluate(load_corpus(TINY)).to_json()
    assert set(data) == {"n", "labels", "macro_f1", "benign_false_positive_rate"}
    assert set(data["labels"]) == set(PRIORITY)
    for scores in data["labels"].values():
        assert set(scores) == {"precision", "recall", "f1", "support"}
        assert isinstance(scores["support"], int)
    json.dumps(data)


def test_format_report_lists_errors_on_request() -> None:
    report = evaluate(load_corpus(TINY), _fake)
    assert "e: missed therapy_request" not in format_report(report, False)
    text = format_report(report, True)
    assert "crisis" in text and "benign false-positive rate: 0.500" in text
    assert "e: missed therapy_request / extra -" in text


@pytest.mark.parametrize(
    "bad", ["{not json", '["a list"]', '{"id": "x", "text": "t"}', '{"id":"x","text":"t","labels":["spam"]}']
)
def test_malformed_line_names_its_number(bad: str) -> None:
    with pytest.raises(ValueError, match="line 3"):
        load_corpus([TINY[0], "", bad])


def _check_targets(path: Path, crisis_recall: float, crisis_precision: float, f1: float, benign: float) -> None:
    report = evaluate(load_corpus(path.read_text("utf-8").splitlines()))
    scores = report.labels
    assert scores["crisis"].recall >= crisis_recall
    assert scores["crisis"].precision >= crisis_precision
    for label in ("clinical_disclosure", "therapy_request", "admin_request", "connection_request"):
        assert scores[label].f1 >= f1, label
    assert report.benign_false_positive_rate <= benign


@pytest.mark.skipif(not DEV.exists(), reason="shared dev corpus not present")
def test_dev_corpus_meets_the_targets() -> None:
    _check_targets(DEV, crisis_recall=0.97, crisis_precision=0.85, f1=0.85, benign=0.05)


def test_untuned_split_stays_above_its_floor() -> None:
    """The rules were tuned on this split and the learned layer trained on it; one of its 37 ordinary
    messages is a false alarm of the learned layer (0.054), hence the ceiling just above the target."""
    _check_targets(UNTUNED, crisis_recall=0.95, crisis_precision=0.85, f1=0.85, benign=0.06)


def test_tune_split_meets_the_targets() -> None:
    _check_targets(TUNE, crisis_recall=0.95, crisis_precision=0.85, f1=0.85, benign=0.05)


def test_second_tuning_round_meets_the_targets() -> None:
    """tune2.jsonl was written fresh, scored untouched (crisis recall 0.375), then tuned on."""
    _check_targets(TUNE2, crisis_recall=0.97, crisis_precision=0.85, f1=0.85, benign=0.05)


def test_third_tuning_round_meets_the_targets() -> None:
    """tune3.jsonl was written fresh, scored untouched (crisis recall 0.133), then tuned on."""
    _check_targets(TUNE3, crisis_recall=0.97, crisis_precision=0.85, f1=0.80, benign=0.05)


TUNE4 = Path(__file__).parent / "data" / "tune4.jsonl"


def test_fourth_tuning_round_written_by_another_author() -> None:
    """tune4.jsonl was written by someone who never saw the rules; scored untouched: crisis recall
    0.595. Its labelling of "what do I do" inside a crisis differs from the dev corpus (no
    therapy_request), so only crisis and the macro-F1 are held to targets here."""
    report = evaluate(load_corpus(TUNE4.read_text("utf-8").splitlines()))
    assert report.labels["crisis"].recall >= 0.97
    assert report.labels["crisis"].precision >= 0.85
    assert report.benign_false_positive_rate <= 0.05
    assert report.macro_f1 >= 0.85


# Sets by authors who never saw the rules or the model; never tuned or trained on (the model's
# training files are listed in tools/train_learned.py). Measured with the default classifier
# (README, "How well the detection works"); each floor sits a little below the measured figure, so
# it only catches regressions: the gap to the targets is reported, not hidden.
# (file, floors for crisis recall, crisis precision, macro-F1, ceiling on benign false positives);
# the comment gives what was measured at the end of the fourteenth stop (README).
HOLDOUT_FLOORS = [
    ("holdout.jsonl", 0.74, 0.94, 0.90, 0.10),  # measured 0.867, 1.000, 0.974, 0.000
    ("holdout2.jsonl", 0.69, 0.85, 0.80, 0.11),  # measured 0.750, 0.955, 0.863, 0.000
    ("holdout3.jsonl", 0.86, 0.89, 0.84, 0.11),  # measured 0.962, 0.962, 0.913, 0.057
    ("holdout4.jsonl", 0.70, 0.72, 0.77, 0.15),  # measured 0.923, 0.857, 0.869, 0.077
    ("holdout5.jsonl", 0.78, 0.87, 0.83, 0.10),  # measured 0.844, 0.931, 0.913, 0.031
    ("holdout6.jsonl", 0.81, 0.87, 0.80, 0.18),  # measured 0.907, 0.942, 0.879, 0.135
    ("holdout7.jsonl", 0.94, 0.77, 0.81, 0.14),  # measured 1.000, 0.857, 0.885, 0.083
    ("holdout8.jsonl", 0.83, 0.83, 0.84, 0.13),  # measured 0.889, 0.903, 0.908, 0.100
    ("holdout9.jsonl", 0.82, 0.92, 0.84, 0.11),  # measured 0.917, 0.982, 0.912, 0.040
    ("holdout10.jsonl", 0.88, 0.85, 0.83, 0.13),  # measured 0.966, 0.934, 0.899, 0.063 (first: .949, .918, .889, .076)
    ("holdout11.jsonl", 0.85, 0.90, 0.84, 0.18),  # end of the fourteenth stop, scored once: .917, .965, .901, .128
]


@pytest.mark.parametrize(("name", "recall", "precision", "macro_f1", "benign"), HOLDOUT_FLOORS)
def test_holdout_sets_stay_above_their_floors(
    name: str, recall: float, precision: float, macro_f1: float, benign: float
) -> None:
    report = evaluate(load_corpus((Path(__file__).parent / "data" / name).read_text("utf-8").splitlines()))
    assert report.labels["crisis"].recall >= recall
    assert report.labels["crisis"].precision >= precision
    assert report.macro_f1 >= macro_f1
    assert report.benign_false_positive_rate <= benign


def test_no_holdout_set_is_training_data() -> None:
    import tools.train_learned as training

    assert not [n for n in training.TRAIN_FILES if n.startswith("holdout")]
    on_disk = {p.name for p in (Path(__file__).parent / "data").glob("holdout*")}
    assert {row[0] for row in HOLDOUT_FLOORS} == on_disk
