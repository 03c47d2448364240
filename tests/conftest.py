"""Shared fixtures: a real SQLite file per test, a controllable clock, in-memory demo connectors."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest

from connectors import AccountSpec
from connectors.demo import DemoConnector, DemoItem
from monitor.app import App, open_app
from monitor.settings import Settings

from support import AppFactory, FakeClock, RecordingNotifier


@pytest.fixture(autouse=True)
def _isolated_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Each test runs in its own folder with no MONITOR_/SMTP_ variables from the outside."""
    for key in list(os.environ):
        if key.startswith(("MONITOR_", "SMTP_", "FACEBOOK_", "X_", "REDDIT_", "GOOGLE_", "YELP_")):
            monkeypatch.delenv(key)
    monkeypatch.chdir(tmp_path)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def notifier() -> RecordingNotifier:
    return RecordingNotifier()


@pytest.fixture
def db_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'monitor.db'}"


@pytest.fixture
def make_app(db_url: str, clock: FakeClock, notifier: RecordingNotifier) -> Iterator[AppFactory]:
    """Build an App on the test's SQLite file with the built-in example policy.

    `make_app(facebook=[DemoItem...])` replaces the bundled events of that platform's demo account.
    """
    made: list[App] = []

    def factory(policy_text: str | None = None, **platform_items: Sequence[DemoItem]) -> App:
        if policy_text is not None:
            Path("policy.toml").write_text(policy_text, "utf-8")
        app = open_app(Settings(monitor_database_url=db_url), notifiers=[notifier], clock=clock)
        for spec in app.policy.accounts:
            chosen = platform_items.get(spec.platform, [])
            app.connectors[spec.name] = DemoConnector(
                AccountSpec(spec.name, spec.platform), items=list(chosen), clock=clock
            )
        made.append(app)
        return app

    yield factory
    for app in made:
        app.engine.dispose()
