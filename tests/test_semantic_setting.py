"""MONITOR_SEMANTIC: off by default; on, the app's classifier adds the semantic layer or refuses to start."""

from __future__ import annotations

import pytest

from monitor.app import open_app
from monitor.errors import ConfigError
from monitor.settings import Settings
from rules import semantic

from support import RecordingNotifier

#: Invented, no keyword: the rules alone miss it (pinned in tests/rules/test_semantic.py too).
# Indirect crisis that neither the phrase rules nor the learned layer catch; the semantic layer does.
INDIRECT = "my family would be so much lighter without me dragging them down"  # both default layers miss it


def test_off_by_default_the_app_uses_the_rules_only(db_url: str, notifier: RecordingNotifier) -> None:
    app = open_app(Settings(monitor_database_url=db_url), notifiers=[notifier])
    assert Settings().monitor_semantic is False
    assert all(not e.rule_id.startswith("semantic.") for e in app.classify(INDIRECT, kind="dm").evidence)
    app.engine.dispose()


def test_on_without_the_extra_is_a_config_error_naming_the_install(
    db_url: str, notifier: RecordingNotifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(semantic, "available", lambda: False)
    with pytest.raises(ConfigError, match=r"MONITOR_SEMANTIC=on.*practice-monitor\[semantic\]"):
        open_app(Settings(monitor_database_url=db_url, monitor_semantic=True), notifiers=[notifier])


def test_on_with_the_extra_adds_semantic_evidence(db_url: str, notifier: RecordingNotifier) -> None:
    pytest.importorskip("wordllama", reason="the semantic extra (wordllama) is not installed")
    app = open_app(Settings(monitor_database_url=db_url, monitor_semantic=True), notifiers=[notifier])
    found = app.classify(INDIRECT, kind="dm")
    assert "crisis" in found.labels
    assert any(e.rule_id == semantic.RULE_ID for e in found.evidence)
    app.engine.dispose()
