"""The optional semantic layer (rules/semantic.py): what it adds, what it leaves alone, its evidence.

Tests that need the model are skipped when the `semantic` extra (wordllama) is not installed; the
rest check that the default install stays rule-only. Every message below was invented for this file.
"""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import rules.semantic as semantic
from rules import Classifier, Detection, Evidence
from rules.semantic import RULE_ID, SemanticClassifier, SemanticLayer, SemanticUnavailable, load_exemplars

# The layer is measured on top of the phrase rules alone; the learned layer (on by default) already
# catches several of the messages below (tests/rules/test_rules_learned.py).
classify = Classifier(learned=False).classify

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"

# Indirect crisis with no keyword: the rules miss each of these, the layer must catch them.
CAUGHT = [
    "left my guitar and my records with my cousin today. he can keep them, I won't be needing them",
    "this will be the last thing I ever write here. thank you for being kind to me",
    "I won't be a bother to any of you for much longer",
    "emptied my room and gave my cat to the lady next door. it's all sorted now",
    "sent my passwords to my sister and deleted my other accounts. no reason to keep them now",
    "honestly my family would be so much lighter without me dragging them down",
    "everything is arranged for sunday. I just wanted one person to know",
    "gracias por todo, esta es mi última publicación",
]

# Hard negatives: figurative, leaving a platform, awareness, fiction, venting, moving house, admin.
LEFT_ALONE = [
    "I'm dying to see the new exhibit at the museum!",
    "closing this account, I'm moving to a different app. see you all over there",
    "Warning signs include giving away belongings and saying goodbye. Know the signs, share this post.",
    "for my novel: my character starts giving away her belongings. what would her sister notice?",
    "I'm so done with this job, counting the days until my vacation",
    "moving across the country next week, giving away my plants and my desk if anyone wants them",
    "Do you have any evening appointments next Tuesday?",
    "taking a break from instagram for a month, bye for now!",
    "me muero de ganas de ver a mi familia en navidad",
]


@pytest.fixture(scope="module")
def layer() -> SemanticLayer:
    pytest.importorskip("wordllama", reason="the semantic extra (wordllama) is not installed")
    return SemanticLayer()


@pytest.fixture(scope="module")
def with_layer(layer: SemanticLayer) -> SemanticClassifier:
    return SemanticClassifier(classify, layer)


@pytest.mark.parametrize("text", CAUGHT)
def test_catches_indirect_crisis_the_rules_miss(text: str, with_layer: SemanticClassifier) -> None:
    assert "crisis" not in classify(text, kind="dm").labels
    found = with_layer.classify(text, kind="dm")
    assert "crisis" in found.labels
    assert [e.rule_id for e in found.evidence if e.label == "crisis"] == [RULE_ID]


@pytest.mark.parametrize("text", LEFT_ALONE)
def test_leaves_hard_negatives_alone(text: str, with_layer: SemanticClassifier) -> None:
    assert with_layer.classify(text, kind="comment") == classify(text, kind="comment")


def test_evidence_names_exemplars_and_score_and_spans_the_best_sentence(with_layer: SemanticClassifier) -> None:
    text = "Hi all.  Thanks for the recipes over the years.\nI won't be a bother to any of you for much longer."
    (e,) = [e for e in with_layer.classify(text, kind="dm").evidence if e.rule_id == RULE_ID]
    assert text[e.start : e.end] == "I won't be a bother to any of you for much longer."
    assert e.score is not None and e.score >= with_layer.layer.threshold
    assert f"{e.score:.3f}" in e.reason
    ids = {x.id for x in load_exemplars()}
    named = [word.strip(",()") for word in e.reason.split() if word.startswith(("crisis.", "not_crisis."))]
    assert len(named) == 2 * semantic.TOP_K and set(named) <= ids
    assert named[0].startswith("crisis.")


def test_only_adds_never_removes_and_skips_when_rules_found_crisis(with_layer: SemanticClassifier) -> None:
    text = "Can I move my Thursday session with Dr. Marchetti? also I gave my cat away, won't need her much longer"
    rules_only = classify(text, kind="dm")
    assert rules_only.labels <= with_layer.classify(text, kind="dm").labels
    direct = "i swallowed all my pills an hour ago and i feel really weird"
    assert "crisis" in classify(direct, kind="dm").labels
    assert with_layer.classify(direct, kind="dm") == classify(direct, kind="dm")


def test_past_and_resolved_stay_quiet(with_layer: SemanticClassifier, layer: SemanticLayer) -> None:
    text = "years ago I felt like a burden to everyone. I got help and I'm doing well now"
    assert "crisis" not in with_layer.classify(text).labels
    found = layer.score("back in college I thought nobody would have noticed if I was gone. it got better")
    assert found is not None and found.vetoed_by == "past"


def test_follows_and_empty_text_are_not_scored(with_layer: SemanticClassifier) -> None:
    assert with_layer.classify(CAUGHT[2], kind="follow") == Detection()
    assert with_layer.classify("   ", kind="dm") == Detection()
    assert with_layer.layer.score("... !!! 123") is None


def test_deterministic_and_bounded_on_huge_input(layer: SemanticLayer) -> None:
    assert [layer.score(t) for t in CAUGHT] == [layer.score(t) for t in CAUGHT]
    huge = "I have been feeling okay, thanks for the post. " * 20_000 + "no punctuation " * 20_000
    found = layer.score(huge)
    assert found is not None and 0 <= found.start < found.end <= len(huge)


def test_practice_classifier_keeps_its_names(layer: SemanticLayer) -> None:
    practice = Classifier(practice_names=["Larkfield Counselling"], clinicians=["Ingrid Solberg"])
    wrapped = SemanticClassifier(practice.classify, layer)
    text = "Ingrid has helped me so much with my panic attacks"
    assert wrapped.classify(text) == practice.classify(text)


def test_model_loads_from_the_wheel_with_the_network_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    pytest.importorskip("wordllama", reason="the semantic extra (wordllama) is not installed")

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise OSError("network disabled in this test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    model = semantic._load_model()
    assert model.embed(["hello there"]).shape == (1, semantic.DIM)


def test_unavailable_without_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(semantic, "available", lambda: False)
    with pytest.raises(SemanticUnavailable, match=r"practice-monitor\[semantic\]"):
        SemanticLayer()


def test_rules_classify_never_loads_the_layer() -> None:
    code = (
        "import sys, rules; rules.classify('I gave my cat away', kind='dm'); "
        "print(sorted(m for m in ('rules.semantic', 'wordllama', 'numpy') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert done.stdout.strip() == "[]"


def test_layer_evidence_type_matches_the_rules_api(layer: SemanticLayer) -> None:
    found = layer.evidence(CAUGHT[0])
    assert isinstance(found, Evidence) and found.label == "crisis" and found.rule_id == RULE_ID


def test_exemplar_file_is_well_formed() -> None:
    items = load_exemplars()
    assert len({e.id for e in items}) == len(items)
    assert sum(e.crisis for e in items) >= 100 and sum(not e.crisis for e in items) >= 100
    assert all(e.id.split(".")[0] == ("crisis" if e.crisis else "not_crisis") for e in items)


def test_bad_exemplar_file_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "ex.toml"
    path.write_text('[crisis]\nfarewell = ["bye", 3]\n[not_crisis]\nx = ["hi"]\n', "utf-8")
    with pytest.raises(ValueError, match=r"crisis\.farewell"):
        load_exemplars(path)
    path.write_text('[crisis]\nfarewell = ["bye"]\n', "utf-8")
    with pytest.raises(ValueError, match="both"):
        load_exemplars(path)


@pytest.mark.skipif(not SHARED.exists(), reason="../shared not present")
def test_exemplars_are_not_copied_from_shared_or_test_data() -> None:
    """The head is trained only on text we wrote: no exemplar may appear in a corpus line."""
    texts: list[str] = []
    for path in [*sorted((SHARED / "corpus").glob("*.jsonl")), *sorted((ROOT / "tests/rules/data").glob("*.jsonl"))]:
        texts.extend(json.loads(line)["text"].lower() for line in path.read_text("utf-8").splitlines() if line)
    for path in sorted((SHARED / "external").glob("*.jsonl")):
        texts.extend(json.loads(line)["text"].lower() for line in path.read_text("utf-8").splitlines() if line)
    blob = "\n".join(texts)
    # Whole sentences only: two authors can both write a stock question ("¿cuánto cuesta la primera consulta?").
    copied = [e.id for e in load_exemplars() if len(e.text) > 40 and e.text.lower() in blob]
    assert copied == []
