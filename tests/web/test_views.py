"""How evidence reads on the item page: one line per label and reason, the words that raised it quoted."""

from __future__ import annotations

from monitor.web.views import Reason, evidence_reasons

TEXT = "gave my guitar away and my cat to the neighbours, won't need them"


def test_one_rules_several_words_read_as_one_line_in_order() -> None:
    why = "reads like the examples the model learned from (score 0.91; flags from 0.54)"
    evidence = [
        {"label": "crisis", "start": 0, "end": 4, "rule_id": "learned.crisis", "reason": why},
        {"label": "crisis", "start": 27, "end": 30, "rule_id": "learned.crisis", "reason": why},
        {"label": "clinical_disclosure", "start": 0, "end": 4, "rule_id": "learned.clinical_disclosure", "reason": why},
        {"label": "crisis", "start": 0, "end": 4, "rule_id": "learned.crisis", "reason": why},  # repeated span
    ]
    assert evidence_reasons(TEXT, evidence) == [
        Reason("crisis", ("gave", "cat"), why),
        Reason("clinical_disclosure", ("gave",), why),
    ]


def test_spans_outside_the_text_and_missing_reasons() -> None:
    evidence = [
        {"label": "crisis", "start": 500, "end": 510, "rule_id": "x"},  # text erased or shortened: nothing to quote
        {"label": "admin_request", "start": 0, "end": 4, "rule_id": "admin.scheduling"},
    ]
    assert evidence_reasons(TEXT, evidence) == [Reason("admin_request", ("gave",), "admin.scheduling")]
