"""The daemon (`monitor run`): APScheduler jobs as thin wrappers around App methods.

One interval job per account x stream (with jitter), a dispatch job, an alert-retry job and a daily
retention job; max_instances=1 and coalesce so a slow platform never piles up runs. SIGTERM/SIGINT
finish the job in hand and exit.
"""

from __future__ import annotations

import functools
import logging
import signal
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.app import App
from monitor.digest_mail import send_scheduled_digest
from monitor.errors import MonitorError
from monitor.logsetup import describe_bug

log = logging.getLogger(__name__)
DISPATCH_SECONDS = 60
ALERT_RETRY_SECONDS = 60


#: Set by `run_forever` once SIGTERM or SIGINT has been received: queued jobs no longer start.
STOPPING = threading.Event()
#: How often the main loop looks at the recorded signals (and how late a stop request can be noticed).
SIGNAL_CHECK_SECONDS = 0.1


def _guarded(name: str, job: Callable[[], object]) -> Callable[[], None]:
    """Run `job`; log a failure by name (no payloads) instead of letting a trace reach the journal."""

    def run() -> None:
        if STOPPING.is_set():  # queued before the stop signal: the job in hand finishes, queued ones do not start
            return
        try:
            job()
        except MonitorError as exc:
            log.error("job %s failed: %s", name, exc)
        except Exception as exc:
            log.error("job %s failed unexpectedly: %s", name, describe_bug(exc))

    return run


def build_scheduler(app: App, *, interval_scale: float = 1.0) -> BackgroundScheduler:
    """A scheduler with every job added; `interval_scale` shortens intervals for tests."""
    scheduler = BackgroundScheduler(
        executors={"default": ThreadPoolExecutor(4)},
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 60},
        timezone=UTC,
    )
    now = datetime.now(UTC)
    for spec in app.policy.accounts:
        for stream in spec.streams:
            seconds = spec.poll_minutes * 60 * interval_scale
            scheduler.add_job(
                _guarded(f"poll {spec.name}/{stream}", functools.partial(app.poll, spec, stream)),
                IntervalTrigger(seconds=seconds, jitter=min(30.0, seconds / 10)),
                id=f"poll:{spec.name}:{stream}",
                next_run_time=now,
            )
    fixed = (
        ("dispatch", app.dispatch, DISPATCH_SECONDS),
        ("alerts", app.deliver_alerts, ALERT_RETRY_SECONDS),
        ("escalation", app.escalate, ALERT_RETRY_SECONDS),
        ("retention", app.purge, 24 * 3600),
    )
    for name, job, seconds in fixed:
        scheduler.add_job(
            _guarded(name, job), IntervalTrigger(seconds=seconds * interval_scale), id=name, next_run_time=now
        )
    scheduler.add_job(
        _guarded("digest", functools.partial(send_scheduled_digest, app)),
        # every 15 minutes from the digest hour to midnight on the digest day: a failed send retries
        CronTrigger(
            day_of_week=app.policy.digest.day,
            hour=f"{app.policy.digest.hour}-23",
            minute="*/15",
            timezone=ZoneInfo(app.policy.timezone),
        ),
        id="digest",
    )
    return scheduler


class StopSignals:
    """SIGTERM and SIGINT, recorded for the main loop to act on.

    The handler only appends to a list: it takes no lock and writes no log line. A handler that
    logged or waited for the job in hand could deadlock, because it runs on the main thread at any
    point, possibly while that thread holds the very lock (a log handler's, say) a job needs to finish.
    """

    def __init__(self) -> None:
        self.received: list[int] = []

    def install(self) -> None:
        signal.signal(signal.SIGTERM, self._record)
        signal.signal(signal.SIGINT, self._record)

    def _record(self, signum: int, _frame: FrameType | None) -> None:
        self.received.append(signum)


def run_forever(app: App, *, interval_scale: float = 1.0, signals: StopSignals | None = None) -> None:
    """Run until SIGTERM or SIGINT; the job in hand finishes before the process exits.

    `signals` may be installed by the caller before anything else starts (the staff page), so that
    a stop request arriving during start-up is honoured too.
    """
    if signals is None:
        signals = StopSignals()
        signals.install()
    scheduler = build_scheduler(app, interval_scale=interval_scale)
    STOPPING.clear()
    accounts = len(app.policy.accounts)
    log.info("practice-monitor running: %d account(s), policy from %s", accounts, app.policy_source)
    if not accounts:
        log.warning("no accounts configured in the policy file; nothing will be polled")
    if not signals.received:
        scheduler.start()
    while not signals.received:
        time.sleep(SIGNAL_CHECK_SECONDS)
    STOPPING.set()
    log.info("received %s; finishing the job in hand and stopping", signal.Signals(signals.received[0]).name)
    stopper = threading.Thread(target=_shutdown, args=(scheduler,), name="stopping")
    stopper.start()
    seen = 1
    while stopper.is_alive():
        for signum in signals.received[seen:]:  # an impatient second Ctrl-C while the job in hand finishes
            log.info("received %s again; still finishing the job in hand", signal.Signals(signum).name)
        seen = len(signals.received)
        stopper.join(SIGNAL_CHECK_SECONDS)
    log.info("practice-monitor stopped")


def _shutdown(scheduler: BackgroundScheduler) -> None:
    if scheduler.running:
        scheduler.shutdown(wait=True)  # waits for running jobs, never interrupts them
