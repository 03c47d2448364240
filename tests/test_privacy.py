"""Policy P9: no message text or author identity in logs or alerts; text is erased after retention."""

from __future__ import annotations

import json
import logging
from importlib import resources

import pytest
from sqlmodel import Session, select

from connectors.demo import load_bundled_items
from monitor.cycle import run_cycle
from monitor.db import Detection, Event
from monitor.logsetup import RedactSecrets

from support import START, AppFactory, FakeClock, RecordingNotifier, event, items


def bundled_texts_and_authors() -> list[str]:
    raw = json.loads(resources.files("connectors").joinpath("data/demo_events.json").read_text("utf-8"))
    values = [e["text"] for e in raw["events"] if e["text"]] + [e["author"] for e in raw["events"]]
    # words long enough to be telling, so that "a" or "the" do not count as a leak
    return values + [w for e in raw["events"] for w in e["text"].split() if len(w) > 9]


def test_demo_cycle_logs_and_alerts_carry_no_text_or_author(
    make_app: AppFactory, notifier: RecordingNotifier, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    demo = load_bundled_items(START)
    by_platform: dict[str, list[object]] = {}
    for item in demo:
        by_platform.setdefault(item.event.platform, []).append(item)
    app = make_app(**by_platform)  # type: ignore[arg-type]
    report = run_cycle(app)
    assert report.new_events == len(demo) and notifier.alerts
    logged = "\n".join(r.getMessage() for r in caplog.records)
    alerts = "\n".join(a.summary() for a in notifier.alerts)
    for secret in bundled_texts_and_authors():
        assert secret not in logged
        assert secret not in alerts


def test_redaction_masks_tokens_in_log_lines() -> None:
    record = logging.LogRecord("x", logging.ERROR, __file__, 1, "GET /me?access_token=%s failed", ("EAAB123",), None)
    RedactSecrets().filter(record)
    assert record.getMessage() == "GET /me?access_token=*** failed"


def test_retention_erases_text_and_author_but_keeps_counts(make_app: AppFactory, clock: FakeClock) -> None:
    app = make_app(facebook=items("comments", event("c1", "Can I reschedule my appointment to next week?")))
    run_cycle(app)
    clock.advance(days=app.policy.retention_days - 1)
    assert app.purge() == 0
    clock.advance(days=2)
    assert app.purge() == 1
    assert app.purge() == 0
    with Session(app.engine) as s:
        stored = s.exec(select(Event)).one()
        assert (stored.text, stored.author_handle, stored.url) == ("", None, None)
        assert stored.purged_at is not None
        assert s.exec(select(Detection)).one().labels  # the counts for the digest survive
    assert run_cycle(app).new_events == 0  # still de-duplicated after purge
