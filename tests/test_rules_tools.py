"""`monitor explain` and `monitor replay`: explanations, and a dry run that never touches the queue."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from sqlmodel import Session, func, select

from monitor.cycle import run_cycle
from monitor.db import AuditEntry, Detection, Reply
from monitor.rules_tools import explain, replay
from rules import PRIORITY, Evidence
from rules import Detection as Found

from support import AppFactory, event, items

CRISIS = "I want to kill myself tonight"


def test_explain_names_rules_spans_action_and_reply(make_app: AppFactory) -> None:
    app = make_app()
    out = explain(app.classify, app.policy, CRISIS, "dm", "facebook")
    assert out.startswith("labels: ") and "crisis" in out.splitlines()[0]
    assert "URGENT" in out and "911" in out and "988" in out
    review = explain(app.classify, app.policy, CRISIS, "review", "google")
    assert "reply: none (the practice never replies to reviews or follows)" in review


def test_explain_says_which_context_check_held_a_label_back(make_app: AppFactory) -> None:
    app = make_app()
    negated = explain(app.classify, app.policy, "im not going to kill myself, just venting", "dm", "facebook")
    assert negated.splitlines()[0] == "labels: none"
    assert "held back" in negated and "crisis: crisis." in negated and "'kill myself' — negated" in negated
    past = explain(app.classify, app.policy, "i used to cut myself but im 3 years clean now", "dm", "facebook")
    assert "crisis" not in past.splitlines()[0] and "'cut myself' — in the past or resolved" in past
    # A label that was raised is not listed as held back, even if one of its matches was.
    assert "held back" not in explain(app.classify, app.policy, CRISIS, "dm", "facebook")


def test_replay_reports_changes_without_touching_anything(make_app: AppFactory) -> None:
    app = make_app(facebook=items("comments", event("c1", "Can I reschedule my appointment?"), event("c2", "nice")))
    run_cycle(app)

    def stricter(text: str, *, kind: str = "comment", platform: str = "") -> Found:
        return Found(frozenset({"therapy_request"}), (Evidence("therapy_request", 0, 1, "test.rule"),))

    with Session(app.engine) as s:
        before = [s.exec(select(func.count()).select_from(m)).one() for m in (Detection, Reply, AuditEntry)]
        checked, changes = replay(s, stricter, None)
        after = [s.exec(select(func.count()).select_from(m)).one() for m in (Detection, Reply, AuditEntry)]
    assert checked == 2 and len(changes) == 2
    assert all(c.after == ["therapy_request"] for c in changes)
    assert before == after


def test_explain_command(tmp_path: Path) -> None:
    out = subprocess.run(
        [sys.executable, "-m", "monitor", "explain", CRISIS, "--kind", "dm"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    assert "crisis" in out.stdout and "reply (crisis." in out.stdout


TUNE = Path(__file__).parent / "rules" / "data" / "tune.jsonl"


def _monitor(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "monitor", *args], cwd=cwd, capture_output=True, text=True)


def test_eval_json_prints_exactly_one_object_of_the_documented_shape(tmp_path: Path) -> None:
    out = _monitor("eval", str(TUNE), "--json", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    report = json.loads(out.stdout)  # exactly one JSON document: json.loads refuses trailing text
    assert set(report) == {"n", "labels", "macro_f1", "benign_false_positive_rate"}
    assert report["n"] == len([line for line in TUNE.read_text("utf-8").splitlines() if line.strip()])
    assert set(report["labels"]) == set(PRIORITY)
    for scores in report["labels"].values():
        assert set(scores) == {"precision", "recall", "f1", "support"}
        assert isinstance(scores["support"], int) and 0.0 <= scores["f1"] <= 1.0
    assert 0.0 <= report["benign_false_positive_rate"] <= 1.0


def test_eval_table_lists_the_ids_it_got_wrong(tmp_path: Path) -> None:
    corpus = tmp_path / "tiny.jsonl"
    rows = [
        {"id": "ok-1", "kind": "dm", "platform": "x", "text": "What are your office hours on Saturdays?",
         "labels": ["admin_request"]},
        {"id": "wrong-1", "kind": "comment", "platform": "x", "text": "lovely photo", "labels": ["crisis"]},
    ]  # fmt: skip
    corpus.write_text("\n".join(json.dumps(r) for r in rows) + "\n", "utf-8")
    out = _monitor("eval", str(corpus), "--show-errors", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "macro-F1" in out.stdout and "false-positive rate" in out.stdout
    assert "wrong-1" in out.stdout and "ok-1" not in out.stdout


def test_eval_names_the_bad_line_without_a_traceback(tmp_path: Path) -> None:
    corpus = tmp_path / "bad.jsonl"
    corpus.write_text('{"id": "a", "kind": "dm", "platform": "x", "text": "hi", "labels": []}\n{not json\n', "utf-8")
    out = _monitor("eval", str(corpus), cwd=tmp_path)
    assert out.returncode != 0
    assert "line 2" in out.stderr and "Traceback" not in out.stderr


def test_eval_rules_only_scores_the_phrase_rules_without_the_learned_layer(tmp_path: Path) -> None:
    corpus = tmp_path / "indirect.jsonl"
    row = {"id": "i-1", "kind": "dm", "platform": "x", "labels": ["crisis", "clinical_disclosure"],
           "text": "no one will have to worry about me after this weekend"}  # fmt: skip
    corpus.write_text(json.dumps(row) + "\n", "utf-8")
    both = json.loads(_monitor("eval", str(corpus), "--json", cwd=tmp_path).stdout)
    rules_only = json.loads(_monitor("eval", str(corpus), "--json", "--rules-only", cwd=tmp_path).stdout)
    assert both["labels"]["crisis"]["recall"] == 1.0
    assert rules_only["labels"]["crisis"]["recall"] == 0.0
