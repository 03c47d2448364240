"""The README's first command, end to end through the real `monitor` command on a real SQLite file."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path


def monitor(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_demo_queue_shows_crisis_first_and_an_approved_reply_is_posted_once(tmp_path: Path) -> None:
    first = monitor("run", "--once", cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    assert "URGENT" in first.stdout
    assert (tmp_path / "monitor.db").is_file()

    items = json.loads(monitor("queue", "--json", cwd=tmp_path).stdout)
    assert items[0]["urgent"] is True and "crisis" in items[0]["labels"]
    assert {"id", "state", "labels", "platform", "kind", "urgent", "age_seconds"} <= set(items[0])
    reviews = [i for i in items if i["kind"] == "review"]
    assert all(i["state"] == "open" for i in reviews)  # never a reply for a review (P7)

    target = next(i for i in items if i["state"] == "queued" and not i["urgent"])
    approved = monitor("approve", str(target["id"]), "--as", "Dana", cwd=tmp_path)
    assert approved.returncode == 0, approved.stderr

    second = monitor("run", "--once", cwd=tmp_path)
    assert "0 new event(s)" in second.stdout
    assert f"Posted 1 approved reply(ies): {target['id']}" in second.stdout

    third = monitor("run", "--once", cwd=tmp_path)
    assert "0 new event(s)" in third.stdout and "Posted 0 approved" in third.stdout

    after = {i["id"]: i for i in json.loads(monitor("queue", "--json", cwd=tmp_path).stdout)}
    assert after[target["id"]]["state"] == "sent"
    log = json.loads(monitor("audit", "--json", cwd=tmp_path).stdout)
    assert [e["action"] for e in log if e["event_id"] == target["id"]] == ["reply_approved", "reply_sent"]
    approval = next(e for e in log if e["action"] == "reply_approved")
    assert (
        approval["reply_texts"]["after_text"]
        and approval["reply_texts"]["before_text"] == approval["reply_texts"]["after_text"]
    )

    again = monitor("approve", str(target["id"]), "--as", "Dana", cwd=tmp_path)
    assert again.returncode == 2
    assert again.stderr.strip().startswith("error: cannot approve item")
    assert "Traceback" not in again.stderr


def test_unknown_item_is_one_clear_line(tmp_path: Path) -> None:
    result = monitor("show", "999", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.strip() == "error: there is no item 999; `monitor queue` lists the items"


def test_queue_hides_text_unless_asked(tmp_path: Path) -> None:
    monitor("run", "--once", cwd=tmp_path)
    plain = monitor("queue", cwd=tmp_path).stdout
    assert "pills" not in plain and "nightowl" not in plain
    shown = monitor("queue", "--show-text", cwd=tmp_path).stdout
    assert "pills" in shown
