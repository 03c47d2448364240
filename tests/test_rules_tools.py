"""`monitor explain` and `monitor replay`: explanations, and a dry run that never touches the queue."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from sqlmodel import Session, func, select

from monitor.cycle import run_cycle
from monitor.db import AuditEntry, Detection, Reply
from monitor.rules_tools import explain, replay
from rules import Detection as Found
from rules import Evidence

from support import AppFactory, event, items

CRISIS = "I want to kill myself tonight"


def test_explain_names_rules_spans_action_and_reply(make_app: AppFactory) -> None:
    app = make_app()
    out = explain(app.classify, app.policy, CRISIS, "dm", "facebook")
    assert out.startswith("labels: ") and "crisis" in out.splitlines()[0]
    assert "URGENT" in out and "911" in out and "988" in out
    review = explain(app.classify, app.policy, CRISIS, "review", "google")
    assert "reply: none (the practice never replies to reviews or follows)" in review


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
