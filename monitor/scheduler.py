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
from collections.abc import Callable
from datetime import UTC, datetime
from types import FrameType
from zoneinfo import ZoneInfo

from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from monitor.app import App
from monitor.digest_mail import send_scheduled_digest
from monitor.errors import MonitorError
from monitor.logsetup import describe_bug

log = logging.getLogger(__name__)
DISPATCH_SECONDS = 60
ALERT_RETRY_SECONDS = 60


#: Set by the SIGTERM/SIGINT handler of `run_forever`.
STOPPING = threading.Event()


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


def build_scheduler(app: App, *, interval_scale: float = 1.0) -> BlockingScheduler:
    """A scheduler with every job added; `interval_scale` shortens intervals for tests."""
    scheduler = BlockingScheduler(
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


def run_forever(app: App, *, interval_scale: float = 1.0) -> None:
    """Run until SIGTERM or SIGINT; the job in hand finishes before the process exits."""
    scheduler = build_scheduler(app, interval_scale=interval_scale)
    stopping: list[int] = []
    STOPPING.clear()

    def stop(signum: int, _frame: FrameType | None) -> None:
        name = signal.Signals(signum).name
        if stopping:  # a second Ctrl-C or SIGTERM arrives while the first one waits for the job in hand
            log.info("received %s again; still finishing the job in hand", name)
            return
        stopping.append(signum)
        STOPPING.set()
        log.info("received %s; finishing the job in hand and stopping", name)
        scheduler.shutdown(wait=True)  # waits for running jobs, never interrupts them

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    accounts = len(app.policy.accounts)
    log.info("practice-monitor running: %d account(s), policy from %s", accounts, app.policy_source)
    if not accounts:
        log.warning("no accounts configured in the policy file; nothing will be polled")
    scheduler.start()  # returns after shutdown() in the signal handler
    log.info("practice-monitor stopped")
