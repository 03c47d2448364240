"""Serving the staff page: in a thread beside the scheduler (`monitor run`), on a loopback port."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from monitor.errors import ConfigError
from monitor.web.server import bind, start_in_thread

from support import AppFactory


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_the_page_runs_in_a_thread_and_stops(make_app: AppFactory) -> None:
    server = start_in_thread(make_app(), "127.0.0.1", 0)
    try:
        response = httpx.get(f"{server.url}/login", timeout=5)
        assert response.status_code == 200 and "Sign in" in response.text
        assert "server" not in response.headers  # no version banner
    finally:
        server.stop()
    assert not server.thread.is_alive()


def test_a_busy_port_is_one_clear_error() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(ConfigError, match=rf"cannot serve the staff page on 127.0.0.1:{port} .*--no-web"):
            bind("127.0.0.1", port)


def test_monitor_run_serves_the_page_beside_the_scheduler_and_stops_on_sigterm(tmp_path: Path) -> None:
    port = free_port()
    log = tmp_path / "daemon.log"
    proc = subprocess.Popen(
        [sys.executable, "-m", "monitor", "run"],
        cwd=tmp_path,
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        env={**os.environ, "MONITOR_WEB_PORT": str(port), "MONITOR_LOG_LEVEL": "INFO"},
    )
    try:
        deadline, status = time.monotonic() + 30, 0
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status = httpx.get(f"http://127.0.0.1:{port}/login", timeout=2).status_code
                break
            except httpx.TransportError:
                time.sleep(0.1)
        assert status == 200, log.read_text()
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=20) == 0, log.read_text()
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text()
    assert f"staff page at http://127.0.0.1:{port}" in text and "practice-monitor stopped" in text


def test_run_once_does_not_serve_the_page(tmp_path: Path) -> None:
    with socket.socket() as taken:  # the web port is busy: --once must not care
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "-m", "monitor", "run", "--once"],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "MONITOR_WEB_PORT": str(port)},
        )
    assert result.returncode == 0, result.stderr
    assert "staff page" not in result.stderr
