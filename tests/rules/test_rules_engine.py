"""Engine invariants: evidence spans, determinism, names, practice terms, packs, pathological input."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

import rules
from rules import Classifier, classify
from rules.normalize import normalize

SAMPLES = [
    "I’m sooo done. i took like 25 of my sleeping pills 😭 and I can't feel my hands",
    "Hi!! Can I move my Thursday appt with Dr. Quenneville to Friday? My ADHD meds ran out too",
    "follow back pls, and what's your personal WhatsApp? 💕",
    "Do you take   Cigna?  Asking for my wife — she has PTSD",
    "ya no aguanto más…  quiero morir",
]


@pytest.mark.parametrize("text", SAMPLES)
def test_every_label_has_evidence_inside_the_text(text: str) -> None:
    found = classify(text, kind="dm")
    assert found.labels
    for label in found.labels:
        assert [e for e in found.evidence if e.label == label], label
    for e in found.evidence:
        assert 0 <= e.start < e.end <= len(text)
        assert text[e.start : e.end].strip()
        assert e.rule_id and e.reason


def test_spans_map_back_through_normalisation() -> None:
    text = "ok   so I’m   sooo   done with it all, I don't want to live anymore"
    found = classify(text)
    spans = {text[e.start : e.end] for e in found.evidence if e.label == "crisis"}
    assert "don't want to live" in spans


def test_normalise_keeps_offsets() -> None:
    text = "Don’t   STOP—self-harm sooo “quoted” más"
    norm = normalize(text)
    assert norm.text == "Dont STOP self harm so quoted mas"
    start = norm.text.index("self harm")
    assert text[slice(*norm.span(start, start + len("self harm")))] == "self-harm"


def test_classify_is_deterministic() -> None:
    assert [classify(t) for t in SAMPLES] == [classify(t) for t in SAMPLES]


def test_clinician_names_reveal_client_status() -> None:
    practice = Classifier(practice_names=["Larkfield Counselling"], clinicians=["Ingrid Solberg", "Tomas Vidal"])
    assert "clinical_disclosure" in practice.classify("Ingrid has helped me so much with my panic attacks").labels
    assert "clinical_disclosure" in practice.classify("I see Tomas on Mondays, can I move this week?").labels
    assert "clinical_disclosure" in practice.classify("been going to Larkfield Counselling for my OCD").labels
    assert practice.classify("Congrats to Ingrid Solberg on her conference talk!").labels == frozenset()
    assert "clinical_disclosure" not in classify("I see Tomas on Mondays, can I move this week?").labels


def test_honorific_names_work_without_configuration() -> None:
    assert "clinical_disclosure" in classify("Ms. Okereke has helped me so much with my grief and sleep").labels
    assert "clinical_disclosure" in classify("cancel my 3pm with Dr. Hallström please").labels
    assert classify("Dr. Abara gave a brilliant talk at the library tonight").labels == frozenset()


def test_extra_terms_are_per_label() -> None:
    practice = Classifier(extra_terms={"crisis": ["going to the quarry"], "admin_request": ["parking pass"]})
    found = practice.classify("I'm going to the quarry tonight, goodbye")
    assert "crisis" in found.labels
    assert any(e.rule_id == "crisis.practice_terms" for e in found.evidence)
    with pytest.raises(ValueError, match="unknown label"):
        Classifier(extra_terms={"spam": ["x"]})


def test_module_level_api() -> None:
    assert rules.RULES_VERSION
    assert rules.top_label(classify("i took 40 pills, do you take aetna?").labels) == "crisis"


@pytest.mark.parametrize(
    "text",
    [
        "I have been feeling okay, thanks for the post. " * 22_000,
        ("my therapist said " + "x " * 50) * 9_000,
        "a" * 1_000_000,
        "kill " * 200_000,
        "(" * 500_000 + "!" * 500_000,
    ],
    ids=["sentences", "gaps", "one-word", "trigger", "punctuation"],
)
def test_a_megabyte_classifies_quickly(text: str) -> None:
    start = time.perf_counter()
    classify(text)
    assert time.perf_counter() - start < 1.0


def test_long_text_keeps_head_and_tail_with_true_offsets() -> None:
    text = "lovely post " * 20_000 + "i took 30 of my sleeping pills"
    found = classify(text)
    assert "crisis" in found.labels
    assert all(text[e.start : e.end].strip() for e in found.evidence)


def test_held_back_matches_name_the_check_and_point_into_the_text() -> None:
    text = "This is fiction: in my story the detective says he wants to kill himself tonight"
    found = classify(text)
    assert "crisis" not in found.labels
    held = [e for e in found.held_back if e.label == "crisis"]
    assert held and all(e.reason for e in held)
    assert any("kill himself" in text[e.start : e.end] for e in held)
    assert {e.reason for e in held} <= {"fiction or research for writing"}


def test_held_back_does_not_change_what_a_detection_equals() -> None:
    found = classify("im not going to kill myself, just venting")
    assert found.held_back and found == rules.Detection(found.labels, found.evidence)


def test_held_back_offsets_in_the_tail_of_a_long_text_are_true_offsets() -> None:
    text = "lovely post " * 20_000 + "i used to cut myself but im 3 years clean now"
    held = [e for e in classify(text).held_back if e.label == "crisis"]
    assert held and all(text[e.start : e.end] == "cut myself" for e in held)


def test_high_crisis_sensitivity_lowers_only_the_learned_crisis_threshold() -> None:
    standard, high = Classifier(), Classifier(crisis_sensitivity="high")
    assert standard.learned_model is not None and high.learned_model is not None
    trained = standard.learned_model.labels
    lowered = high.learned_model.labels
    assert lowered["crisis"].threshold == round(trained["crisis"].threshold - 0.10, 2)
    assert {k: v for k, v in lowered.items() if k != "crisis"} == {k: v for k, v in trained.items() if k != "crisis"}
    # The shared packaged model is not changed by a practice's setting.
    assert Classifier().learned_model.labels["crisis"].threshold == trained["crisis"].threshold  # type: ignore[union-attr]
    with pytest.raises(ValueError, match="crisis_sensitivity"):
        Classifier(crisis_sensitivity="max")


def test_high_crisis_sensitivity_only_adds_crisis_labels() -> None:
    import tools.train_learned as training

    standard, high = Classifier(), Classifier(crisis_sensitivity="high")
    added = 0
    for row in training.load([Path(__file__).parent / "data" / "gen_helpseeking3.jsonl"]):
        a = standard.classify(row["text"], kind=row["kind"]).labels
        b = high.classify(row["text"], kind=row["kind"]).labels
        assert a - {"crisis"} == b - {"crisis"} and ("crisis" not in a or "crisis" in b), row["id"]
        added += "crisis" in b - a
    assert added >= 3


def test_a_request_pattern_in_a_sentence_that_asks_nothing_is_skipped_not_vetoed() -> None:
    """The gate leaves the learned layer free (SKIP); a context check such as fiction vetoes (DROP)."""
    from rules.context import DROP, SKIP, MessageContext, judged
    from rules.loader import load_cues, load_defines
    from rules.normalize import lower_keeping_length

    cues = load_cues(load_defines())
    gated = next(r for r in Classifier(learned=False).rules if r.id == "admin.access")
    assert gated.gate == "request" and "fiction" in gated.context

    def verdict(text: str) -> tuple[str, str]:
        norm = normalize(text)
        low = lower_keeping_length(norm.text)
        return judged(gated, low.index("hours"), low.index("hours") + 5, MessageContext(norm, low, text, cues))

    assert verdict("love that you're open late, your hours are perfect") == (SKIP, "")
    assert verdict("in my novel the heroine asks: what are your hours?") == (DROP, "fiction")
