"""The learned layer (rules/learned.py): its arithmetic on hand-made weights, the vetoes it obeys, and
what the shipped model does on messages written for this file (never part of its training data)."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from rules import PRIORITY, Classifier, classify, engine
from rules.learned import LabelModel, LearnedModel, features, load_model, parse_model, tokens

DATA = Path(__file__).parent / "data"
MODEL_FILE = Path(__file__).resolve().parents[2] / "rules" / "data" / "learned_model.json"
C, D = "crisis", "clinical_disclosure"


def hand_model(crisis: dict[str, float], disclosure: dict[str, float] | None = None) -> LearnedModel:
    """A model whose every weight is known: bias -2, threshold 0.5."""
    labels = {C: LabelModel(-2.0, 0.5), D: LabelModel(-2.0, 0.5)}
    return LearnedModel(labels, {C: crisis, D: disclosure or {}})


def test_features_are_words_pairs_letter_groups_and_kind() -> None:
    words = [t.text for t in tokens("call me at 555 0199 tonight")]
    assert words == ["call", "me", "at", "0", "0", "tonight"]
    feats = features(["so", "alone"], "dm")
    assert {"k:dm", "w:so", "w:alone", "b:so alone", "c:<al", "c:one>", "c:alon"} <= feats
    assert not any(f.startswith("b:alone") for f in feats)


def test_a_giant_word_costs_no_more_than_a_long_one() -> None:
    giant = "ab" * 50_000
    assert features([t.text for t in tokens(giant)], "dm") == features([t.text for t in tokens(giant[:30])], "dm")
    assert tokens(giant)[0].end == len(giant)  # the span still covers the whole word


def test_probability_is_the_logistic_of_the_scaled_sum() -> None:
    model = hand_model({"w:alone": 6.0, "k:dm": 1.0})
    feats = {"w:alone", "k:dm", "w:so", "b:so alone"}
    expected = 1 / (1 + math.exp(-((6.0 + 1.0) / math.sqrt(4) - 2.0)))
    assert model.probabilities(feats)[C] == pytest.approx(expected)
    assert model.probabilities(set())[C] == pytest.approx(1 / (1 + math.exp(2.0)))


def test_evidence_names_content_words_and_points_into_the_original_text() -> None:
    model = hand_model({"w:alone": 30.0, "w:so": 5.0, "w:i": 5.0})
    text = "I\u2019m sooo alone tonight \U0001f614"
    found = Classifier(learned=model).classify(text, kind="dm")
    (ev,) = [e for e in found.evidence if e.rule_id == "learned.crisis"]
    assert C in found.labels and ev.score is not None and ev.score >= 0.5
    assert text[ev.start : ev.end] == "alone"  # 'so' and 'i' weigh too but explain nothing
    assert "score" in ev.reason and "alone" not in ev.reason  # evidence is stored: no message words in it


def test_a_reply_of_a_word_or_two_is_too_short_for_the_model() -> None:
    model = hand_model({"w:idk": 40.0})
    assert C not in Classifier(learned=model).classify("idk 🙏", kind="dm").labels
    assert C in Classifier(learned=model).classify("idk what comes next", kind="dm").labels


def test_a_long_post_is_scored_in_windows_so_one_sentence_is_not_drowned() -> None:
    model = hand_model({"w:farewell": 120.0})
    letters = "bcdfghjklmnpqrstvwxz"
    words = ("ta" + letters[(n // 20) % 20] + letters[n % 20] + letters[(n // 400) % 20] for n in range(1200))
    filler = " ".join(words)  # 1,200 different words
    text = filler + ". This is my farewell to all of you."
    found = Classifier(learned=model).classify(text, kind="comment")
    (ev,) = [e for e in found.evidence if e.rule_id == "learned.crisis"]
    assert text[ev.start : ev.end] == "farewell"
    whole = model.probabilities(features([t.text for t in tokens(text.lower())], "comment"))[C]
    assert whole < 0.5  # scored as one piece, the sentence would have been missed


def test_the_model_only_adds_labels_the_rules_missed() -> None:
    model = hand_model({"w:tonight": 40.0, "w:kill": 40.0}, {"w:myself": 40.0})
    found = Classifier(learned=model).classify("I want to kill myself tonight", kind="dm")
    assert {C, D} <= found.labels
    assert not [e for e in found.evidence if e.rule_id.startswith("learned.")]


@pytest.mark.parametrize(
    ("text", "veto"),
    [
        ("i would never hurt myself, dont worry about me", "the rules' negation"),
        ("In my novel the main character feels hopeless and alone", "fiction"),
        ("Suicide prevention awareness week: you are not alone, call or text 988", "awareness"),
        ("years ago I felt hopeless and alone. therapy saved me", "past and resolved"),
        ("this spreadsheet has me feeling hopeless lol", "a joke"),
        ("what if someone feels hopeless, what should their friends do?", "hypothetical"),
    ],
)
def test_the_layer_obeys_the_rules_context_checks(text: str, veto: str) -> None:
    model = hand_model({"w:hopeless": 40.0, "w:alone": 40.0, "w:hurt": 40.0}, {"w:hurt": 40.0})
    assert C not in Classifier(learned=model).classify(text, kind="dm").labels, veto


def test_a_pattern_lacking_its_required_context_does_not_silence_the_layer_but_a_negation_does() -> None:
    """crisis.harm_others needs a sign of a real threat nearby; without one the rule is silent (SKIP), and
    the model may still raise crisis. A negated match is the context saying no: the model stays quiet."""
    model = hand_model({"w:yelling": 40.0})
    assert Classifier(learned=False).classify("he's yelling that he's gonna hurt her", kind="dm").labels == frozenset()
    assert C in Classifier(learned=model).classify("he's yelling that he's gonna hurt her", kind="dm").labels
    assert C not in Classifier(learned=model).classify("he's yelling that he's not gonna hurt her", kind="dm").labels


def test_a_pet_is_not_a_disclosure_for_the_layer() -> None:
    model = hand_model({}, {"w:meds": 40.0})
    assert D not in Classifier(learned=model).classify("my dog is on meds for his nerves", kind="comment").labels
    assert D in Classifier(learned=model).classify("my husband is on meds for his nerves", kind="comment").labels


@pytest.mark.parametrize(
    ("text", "raised"),
    [
        # "zorblat" is a word no phrase rule knows: only the hand-made model reacts to it.
        ("could I get a zorblat for october", True),
        ("is there a zorblat on weekends?", True),
        ("reposting our zorblat guide for visibility", False),  # asks nothing
        ("anyone else here struggle to find a zorblat?", False),  # asks the other readers
    ],
)
def test_request_labels_need_a_request_addressed_to_the_practice(text: str, raised: bool) -> None:
    labels = {label: LabelModel(-2.0, 0.5) for label in PRIORITY}
    model = LearnedModel(labels, {"admin_request": {"w:zorblat": 40.0}})
    assert ("admin_request" in Classifier(learned=model).classify(text, kind="comment").labels) is raised


def test_off_means_rules_only() -> None:
    text = "gave my guitar to my cousin and my cat to the neighbours. it's all sorted now"
    assert Classifier(learned=False).classify(text, kind="dm").labels == frozenset()


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"labels": {"panic": {"bias": 0, "threshold": 0.5, "weights": {}}}}, "unknown label"),
        ({"labels": {"crisis": {"threshold": 0.5, "weights": {}}}}, "malformed"),
        ({"labels": {"crisis": {"bias": 0, "threshold": 0.5, "weights": [1, 2]}}}, "malformed"),
        ([], "expected an object"),
    ],
)
def test_a_malformed_model_file_is_a_clear_error(data: object, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_model(data)


def test_the_shipped_model_was_trained_only_on_our_training_sets() -> None:
    raw = json.loads(MODEL_FILE.read_text("utf-8"))
    assert set(raw["labels"]) == set(PRIORITY)
    assert raw["trained_on"] and all((DATA / name).exists() for name in raw["trained_on"])
    assert not [name for name in raw["trained_on"] if name.startswith("holdout")]
    model = load_model()
    assert all(0.2 <= m.threshold <= 0.9 for m in model.labels.values())


# Written for this file: indirect crisis messages with no stock phrase (the phrase rules miss most).
CAUGHT = [
    "I finally wrote the letters. the dog goes to my aunt. I feel calm for the first time",
    "no one will have to worry about me after this weekend",
    "my 14 yo just texted me she is on the roof of the school and wont come down",
    "estoy cansada de todo, ya escribí las cartas para mis hijos",
    "i keep standing at the edge of the platform when the train comes",
    "sold my bike and gave my brother my xbox. dont need them where im going",
]
# Written for this file: hard negatives on the crisis boundary.
LEFT_ALONE = [
    "years ago I felt like a burden to everyone. I got help and I am doing well now",
    "moving to Denver next week! giving away my plants if anyone wants them",
    "this spreadsheet is going to be the end of me lol",
    "Know the signs: withdrawal, giving things away, talking about being a burden. Share this post",
    "my character leaves goodbye letters in chapter 9, is that realistic?",
    "RIP to my old laptop, it died during finals",
    "closing my business account, thanks for all the support over the years!",
    "I could murder a pizza right now",
]


def _training_texts() -> str:
    raw = json.loads(MODEL_FILE.read_text("utf-8"))
    lines = [line for name in raw["trained_on"] for line in (DATA / name).read_text("utf-8").splitlines() if line]
    return "\n".join(json.loads(line)["text"].lower() for line in lines)


def test_the_cases_below_are_not_in_the_training_data() -> None:
    blob = _training_texts()
    assert [t for t in CAUGHT + LEFT_ALONE if t.lower() in blob] == []


@pytest.mark.parametrize("text", CAUGHT)
def test_indirect_crisis_is_caught_with_evidence(text: str) -> None:
    assert C not in Classifier(learned=False).classify(text, kind="dm").labels
    found = classify(text, kind="dm")
    assert C in found.labels
    spans = [e for e in found.evidence if e.label == C]
    assert spans and all(e.rule_id == "learned.crisis" and 0 <= e.start < e.end <= len(text) for e in spans)


@pytest.mark.parametrize("text", LEFT_ALONE)
def test_hard_negatives_stay_quiet(text: str) -> None:
    assert C not in classify(text, kind="comment").labels


def test_deterministic() -> None:
    assert [classify(t) for t in CAUGHT + LEFT_ALONE] == [classify(t) for t in CAUGHT + LEFT_ALONE]


def test_thresholds_respect_the_false_alarm_budget_on_ordinary_messages() -> None:
    from tools.train_learned import best_threshold

    scores = [0.95, 0.85, 0.70, 0.40, 0.60, 0.30, 0.65]
    gold = [True, True, True, True, False, False, False]
    benign = [False, False, False, False, True, True, True]
    # Unconstrained, a low threshold catches every positive (F2 favours recall).
    assert best_threshold(scores, gold, beta=2.0) <= 0.40
    # Allowed to flag none of the three ordinary messages, it must sit above 0.65.
    assert best_threshold(scores, gold, beta=2.0, benign=benign, budget=0.0) > 0.65


def test_an_admin_request_needs_a_clear_learned_crisis_score() -> None:
    """Beside an admin request the rules found, a middling learned crisis score is not an alarm
    ("the video link for my 4:30 won't load"); a clear one still is, and elsewhere the threshold holds."""
    admin_text = "can I reschedule my appointment, zorblat"
    plain_text = "it has been a long zorblat"
    middling, clear = hand_model({"w:zorblat": 23.7}), hand_model({"w:zorblat": 60.0})
    for model in (middling, clear):
        assert "admin_request" in Classifier(learned=model).classify(admin_text, kind="dm").labels
    p_middling = middling.best(admin_text.lower(), "dm")[C][0]
    assert 0.5 <= p_middling < engine.ADMIN_CRISIS_SCORE
    assert C not in Classifier(learned=middling).classify(admin_text, kind="dm").labels
    assert C in Classifier(learned=clear).classify(admin_text, kind="dm").labels
    assert middling.best(plain_text, "dm")[C][0] >= 0.5
    assert C in Classifier(learned=middling).classify(plain_text, kind="dm").labels


@pytest.mark.parametrize(
    ("text", "disclosed"),
    [
        ("a guy at the bus stop just told me he took a bunch of pills", False),
        ("there's a woman on the bridge, I don't know her, she says she took a bunch of pills", False),
        ("my brother just told me he took a bunch of pills", True),
    ],
)
def test_a_stranger_at_risk_is_crisis_without_a_disclosure(text: str, disclosed: bool) -> None:
    """Nobody identifiable (corpus convention): neither the rules' nor the model's disclosure."""
    model = hand_model({}, {"w:pills": 40.0, "w:told": 40.0})
    for classifier in (Classifier(learned=False), Classifier(learned=model)):
        labels = classifier.classify(text, kind="dm").labels
        assert C in labels
        assert (D in labels) is disclosed


def test_a_phrase_rule_therapy_request_the_model_all_but_rules_out_is_dropped() -> None:
    """RULE_CONFIRM_SCORE: a rule's therapy_request stands unless the model scores it under the floor."""
    text = "what should I do about the zorblat in the break room"
    assert "therapy_request" in Classifier(learned=False).classify(text, kind="comment").labels
    labels = {label: LabelModel(-2.0, 0.5) for label in PRIORITY}
    doubtful = LearnedModel(labels, {"therapy_request": {"w:zorblat": -60.0}})
    neutral = LearnedModel(labels, {"therapy_request": {}})
    assert doubtful.best(text.lower(), "comment")["therapy_request"][0] < engine.RULE_CONFIRM_SCORE["therapy_request"]
    assert "therapy_request" not in Classifier(learned=doubtful).classify(text, kind="comment").labels
    assert "therapy_request" in Classifier(learned=neutral).classify(text, kind="comment").labels
