"""Test helpers shared by the test modules (importable: tests/ is on pytest's pythonpath)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import ClassVar

from connectors import IncomingEvent
from connectors.demo import DemoItem
from monitor.app import App
from monitor.notify import UrgentAlert

START = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, now: datetime = START) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


@dataclass
class RecordingNotifier:
    """An alert channel that keeps alerts in memory; fails while `fail` is set (to test retries)."""

    name: ClassVar[str] = "recording"
    alerts: list[UrgentAlert] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    notices: list[tuple[str, str]] = field(default_factory=list)
    fail: bool = False

    def send_urgent(self, alert: UrgentAlert, recipients: list[str]) -> None:
        if self.fail:
            raise ConnectionRefusedError("alert channel is down")
        self.alerts.append(alert)
        self.recipients.append(recipients)

    def send_notice(self, subject: str, text: str, recipients: list[str]) -> None:
        if self.fail:
            raise ConnectionRefusedError("alert channel is down")
        self.notices.append((subject, text))


def event(
    external_id: str,
    text: str | bytes = "Thanks for the helpful post!",
    *,
    platform: str = "facebook",
    kind: str = "comment",
    minutes_ago: float = 5,
    author: str | None = "someone.invented",
) -> IncomingEvent:
    """A made-up incoming event."""
    return IncomingEvent(
        platform=platform,
        kind=kind,
        external_id=external_id,
        text=text,
        created_at=START - timedelta(minutes=minutes_ago),
        author_handle=author,
        url=f"https://demo.invalid/{external_id}",
    )


def items(stream: str, *events: IncomingEvent) -> list[DemoItem]:
    return [DemoItem(stream, e) for e in events]


AppFactory = Callable[..., App]
