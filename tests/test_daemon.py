"""The daemon: which jobs the scheduler holds, and a real `monitor run` stopping cleanly on SIGTERM/SIGINT
after finishing the poll in hand.
"""

from __future__ import annotations

import logging
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from apscheduler.schedulers.base import BaseScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from connectors import Page
from connectors.demo import load_bundled_items
from monitor import scheduler as scheduler_module
from monitor.cli import cli
from monitor.policy import example_policy_text, parse_policy
from monitor.scheduler import build_scheduler

from support import START, AppFactory

FIXED_JOBS = {"dispatch", "alerts", "escalation", "retention", "digest"}


def demo_event_count() -> int:
    """How many bundled demo events the built-in example policy's accounts and streams receive."""
    policy = parse_policy(example_policy_text(), "example")
    watched = {(a.platform, s) for a in policy.accounts for s in a.streams}
    return sum((i.event.platform, i.stream) in watched for i in load_bundled_items(START))


@pytest.fixture
def paused() -> Iterator[Callable[[BaseScheduler], BaseScheduler]]:
    """Start a scheduler paused (jobs get their defaults, none runs); shut it down after."""
    started: list[BaseScheduler] = []

    def start(scheduler: BaseScheduler) -> BaseScheduler:
        scheduler.start(paused=True)  # a background scheduler: returns at once
        assert scheduler.running
        started.append(scheduler)
        return scheduler

    yield start
    for scheduler in started:
        scheduler.shutdown(wait=False)


def test_one_poll_job_per_account_and_stream_plus_the_fixed_jobs(
    make_app: AppFactory, paused: Callable[[BaseScheduler], BaseScheduler]
) -> None:
    app = make_app()
    scheduler = paused(build_scheduler(app))
    jobs = {job.id: job for job in scheduler.get_jobs()}
    expected_polls = {f"poll:{a.name}:{s}" for a in app.policy.accounts for s in a.streams}
    assert len(expected_polls) == 10
    assert set(jobs) == expected_polls | FIXED_JOBS
    for job in jobs.values():
        assert (job.max_instances, job.coalesce) == (1, True), job.id
    for account in app.policy.accounts:
        for stream in account.streams:
            trigger = jobs[f"poll:{account.name}:{stream}"].trigger
            assert isinstance(trigger, IntervalTrigger)
            assert trigger.interval == timedelta(minutes=account.poll_minutes)
            assert trigger.jitter is not None and 0 < trigger.jitter <= 30  # accounts do not all fire together
    assert jobs["dispatch"].trigger.interval == timedelta(minutes=1)
    assert jobs["alerts"].trigger.interval == timedelta(minutes=1)
    assert jobs["escalation"].trigger.interval == timedelta(minutes=1)
    assert jobs["retention"].trigger.interval == timedelta(days=1)


def test_polls_dispatch_and_alerts_start_at_once(make_app: AppFactory) -> None:
    """A restarted daemon does not wait a whole interval before polling and posting."""
    before = datetime.now(UTC)
    scheduler = build_scheduler(make_app())
    for job in scheduler.get_jobs():
        if job.id != "digest":
            assert before <= job.next_run_time <= datetime.now(UTC) + timedelta(seconds=1), job.id


def test_digest_job_follows_the_policy_day_hour_and_time_zone(
    make_app: AppFactory, paused: Callable[[BaseScheduler], BaseScheduler]
) -> None:
    text = example_policy_text().replace('day = "mon"', 'day = "thu"').replace("hour = 8", "hour = 17")
    app = make_app(text)
    [digest] = [j for j in paused(build_scheduler(app)).get_jobs() if j.id == "digest"]
    assert isinstance(digest.trigger, CronTrigger)
    chicago = ZoneInfo("America/Chicago")
    monday = datetime(2026, 11, 23, 9, 0, tzinfo=chicago)
    first = digest.trigger.get_next_fire_time(None, monday)
    assert first == datetime(2026, 11, 26, 17, 0, tzinfo=chicago)  # Thursday 17:00 in the practice's zone
    retry = digest.trigger.get_next_fire_time(first, first + timedelta(seconds=1))
    assert retry == datetime(2026, 11, 26, 17, 15, tzinfo=chicago)  # a failed send is tried again that evening


def test_interval_scale_shortens_every_interval(make_app: AppFactory) -> None:
    scheduler = build_scheduler(make_app(), interval_scale=0.01)
    jobs = {j.id: j for j in scheduler.get_jobs()}
    assert jobs["poll:demo-facebook:comments"].trigger.interval == timedelta(seconds=3)
    assert jobs["dispatch"].trigger.interval == timedelta(seconds=0.6)


def test_a_failing_job_is_logged_by_name_and_never_kills_the_scheduler(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()

    class Broken:
        name = "broken"
        streams = ("comments", "messages", "followers")

        def fetch(self, stream: str, cursor: str | None) -> Page:
            raise RuntimeError("a bug in a connector")

    app.connectors["demo-facebook"] = Broken()  # type: ignore[assignment]
    jobs = {j.id: j for j in build_scheduler(app).get_jobs()}
    with caplog.at_level(logging.ERROR):
        jobs["poll:demo-facebook:comments"].func()  # does not raise
        jobs["poll:demo-instagram:comments"].func()
    [failure] = [r for r in caplog.records if "failed" in r.getMessage()]
    expected = r"job poll demo-facebook/comments failed unexpectedly: RuntimeError at tests/test_daemon\.py:\d+"
    assert re.fullmatch(expected, failure.getMessage())
    assert "a bug in a connector" not in caplog.text  # an exception message may carry someone's text


def test_jobs_queued_before_a_stop_signal_do_not_start(make_app: AppFactory) -> None:
    app = make_app()
    polled: list[str] = []
    app.poll = lambda spec, stream: polled.append(stream)  # type: ignore[assignment,method-assign,misc,return-value]
    jobs = {j.id: j for j in build_scheduler(app).get_jobs()}
    scheduler_module.STOPPING.set()
    try:
        jobs["poll:demo-facebook:comments"].func()
    finally:
        scheduler_module.STOPPING.clear()
    assert polled == []
    jobs["poll:demo-facebook:comments"].func()
    assert polled == ["comments"]


def test_a_stop_request_during_start_up_stops_before_any_job_runs(
    make_app: AppFactory, caplog: pytest.LogCaptureFixture
) -> None:
    app = make_app()
    polled: list[str] = []
    app.poll = lambda spec, stream: polled.append(stream)  # type: ignore[assignment,method-assign,misc,return-value]
    signals = scheduler_module.StopSignals()
    signals.received.append(signal.SIGTERM)  # arrived while the staff page was starting
    with caplog.at_level(logging.INFO, logger="monitor.scheduler"):
        scheduler_module.run_forever(app, signals=signals)
    assert polled == []
    assert "received SIGTERM; finishing the job in hand and stopping" in caplog.text
    assert caplog.records[-1].getMessage() == "practice-monitor stopped"


def test_the_signal_handler_only_records(caplog: pytest.LogCaptureFixture) -> None:
    """It runs on the main thread at any moment: it must take no lock and write no log line."""
    signals = scheduler_module.StopSignals()
    with caplog.at_level(logging.DEBUG):
        signals._record(signal.SIGINT, None)
    assert signals.received == [signal.SIGINT] and caplog.records == []


# --- a real `monitor run`


def run_args() -> list[str]:
    """`run`, plus `--no-web` once the staff page is started by the daemon (keeps the test off a port)."""
    options = {opt for p in cli.commands["run"].params for opt in (*p.opts, *p.secondary_opts)}
    return ["run", "--no-web"] if "--no-web" in options else ["run"]


def start_daemon(cwd: Path) -> tuple[subprocess.Popen[bytes], Path]:
    log = cwd / "daemon.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", *run_args()],
        cwd=cwd,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        env={**os.environ, "MONITOR_LOG_LEVEL": "INFO"},
    )
    return proc, log


def wait_until(condition: Callable[[], bool], proc: subprocess.Popen[bytes], log: Path, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return
        if proc.poll() is not None:
            raise AssertionError(f"the daemon exited early:\n{log.read_text()}")
        time.sleep(0.05)
    proc.kill()
    raise AssertionError(f"timed out; daemon log:\n{log.read_text()}")


def stored_events(db: Path) -> int:
    if not db.exists():
        return -1
    try:
        with sqlite3.connect(db, timeout=1) as conn:
            return int(conn.execute("SELECT count(*) FROM event").fetchone()[0])
    except sqlite3.Error:
        return -1


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_daemon_stops_cleanly_on_a_signal(tmp_path: Path, signum: signal.Signals) -> None:
    (tmp_path / "policy.toml").write_text(
        re.sub(r"poll_minutes = \d+", "poll_minutes = 0.05", example_policy_text()), "utf-8"
    )
    proc, log = start_daemon(tmp_path)
    bundled = demo_event_count()
    try:
        wait_until(lambda: stored_events(tmp_path / "monitor.db") == bundled, proc, log)
        assert "practice-monitor running: 5 account(s)" in log.read_text()
        proc.send_signal(signum)
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text()
    assert f"received {signum.name}; finishing the job in hand and stopping" in text
    assert text.rstrip().endswith("practice-monitor stopped")
    assert "Traceback" not in text
    assert " ERROR " not in text  # e.g. the first polls of one account racing to create its row


class SlowFeed(BaseHTTPRequestHandler):
    """A feed that takes a while to answer, so that the daemon is mid-poll when the signal comes."""

    arrived = threading.Event()
    answered = threading.Event()
    delay = 1.0

    def do_GET(self) -> None:
        type(self).arrived.set()
        time.sleep(self.delay)
        now = format_datetime(datetime.now(UTC))
        body = (
            '<?xml version="1.0"?><rss version="2.0"><channel><title>Mentions</title>'
            "<item><guid>mention-1</guid><title>Example Counseling opens a new office</title>"
            f"<link>https://news.invalid/1</link><pubDate>{now}</pubDate></item></channel></rss>"
        ).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/rss+xml")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
        type(self).answered.set()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def slow_feed() -> Iterator[str]:
    SlowFeed.arrived.clear()
    SlowFeed.answered.clear()
    server = ThreadingHTTPServer(("127.0.0.1", 0), SlowFeed)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/feed.xml"
    server.shutdown()
    server.server_close()


def test_signals_mid_poll_finish_the_poll_then_exit(tmp_path: Path, slow_feed: str) -> None:
    account = (
        "# --- accounts: begin\n[[accounts]]\n"
        'name = "news-alerts"\nplatform = "rss"\nsource = "rss"\nstreams = ["mentions"]\npoll_minutes = 60\n'
        f'options = {{ url = "{slow_feed}" }}\n# --- accounts: end'
    )
    policy = re.sub(r"(?s)# --- accounts: begin.*# --- accounts: end", lambda _: account, example_policy_text())
    (tmp_path / "policy.toml").write_text(policy, "utf-8")
    proc, log = start_daemon(tmp_path)
    try:
        wait_until(SlowFeed.arrived.is_set, proc, log)
        proc.send_signal(signal.SIGTERM)
        wait_until(lambda: "received SIGTERM" in log.read_text(), proc, log)
        proc.send_signal(signal.SIGINT)  # an impatient second Ctrl-C while the poll is still in hand
        wait_until(lambda: "received SIGINT again" in log.read_text(), proc, log)
        assert not SlowFeed.answered.is_set()  # both signals came while the feed was still answering
        assert proc.wait(timeout=15) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text()
    assert text.rstrip().endswith("practice-monitor stopped")
    assert "Traceback" not in text
    with sqlite3.connect(tmp_path / "monitor.db") as conn:  # the poll in hand was completed and committed
        assert conn.execute("SELECT kind, external_id FROM event").fetchall() == [("mention", "mention-1")]
        assert conn.execute("SELECT value FROM cursor WHERE stream = 'mentions'").fetchone()[0]
