"""One full cycle (`monitor run --once`): poll every stream, alert, dispatch, purge."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from monitor.app import App
from monitor.errors import MonitorError
from monitor.logsetup import describe_bug
from monitor.outbox import DispatchResult
from monitor.pipeline import PollResult

log = logging.getLogger(__name__)


@dataclass
class CycleReport:
    """Counts and ids of what one cycle did, for the console summary."""

    polls: list[PollResult] = field(default_factory=list)
    failed_streams: list[str] = field(default_factory=list)
    dispatch: DispatchResult = field(default_factory=DispatchResult)
    alerts_delivered: int = 0
    purged: int = 0

    @property
    def new_events(self) -> int:
        return sum(p.new_events for p in self.polls)

    @property
    def seen_before(self) -> int:
        return sum(p.seen_before for p in self.polls)

    @property
    def flagged(self) -> int:
        return sum(p.flagged for p in self.polls)

    @property
    def replies_queued(self) -> int:
        return sum(p.replies_queued for p in self.polls)

    @property
    def urgent_ids(self) -> list[int]:
        return [i for p in self.polls for i in p.urgent_ids]


def run_cycle(app: App) -> CycleReport:
    """Poll every configured account and stream once, then dispatch approved replies.

    A failing account never stops the others, and undelivered alerts are retried first.
    """
    report = CycleReport()
    report.alerts_delivered += app.deliver_alerts()
    for spec in app.policy.accounts:
        for stream in spec.streams:
            try:
                result = app.poll(spec, stream)
            except MonitorError:
                raise  # the database or the configuration: nothing else can work either
            except Exception as exc:  # a bug on one stream must not stop the others (or their crisis alerts)
                log.error("poll of %s/%s failed unexpectedly: %s", spec.name, stream, describe_bug(exc))
                result = None
            if result is None:
                report.failed_streams.append(f"{spec.name}/{stream}")
            else:
                report.polls.append(result)
    app.escalate()
    report.dispatch = app.dispatch()
    report.purged = app.purge()
    return report
