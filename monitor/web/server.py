"""Serving the staff page with uvicorn: in the foreground (`monitor web`) or beside the scheduler
in a thread (`monitor run`). The socket is bound first, so a busy port is one clear error."""

from __future__ import annotations

import ipaddress
import logging
import socket
import threading
import time
from dataclasses import dataclass
from typing import Any

import uvicorn

from monitor.app import App
from monitor.errors import ConfigError
from monitor.web.factory import create_app

log = logging.getLogger(__name__)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on host:port, or ConfigError saying what to do."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
        sock = socket.socket(family, kind, proto)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
        sock.listen(128)
    except OSError as exc:
        raise ConfigError(
            f"cannot serve the staff page on {host}:{port} ({exc.strerror or exc}); stop the program using it, "
            "choose another with --port or MONITOR_WEB_PORT, or start `monitor run --no-web`"
        ) from None
    return sock


def is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def make_server(app: App, **create_options: Any) -> uvicorn.Server:
    """A uvicorn server for the staff page. It trusts X-Forwarded-* only from a proxy on this machine."""
    config = uvicorn.Config(
        create_app(app, **create_options),
        log_config=None,  # keep the monitor's own logging (with its redaction filter)
        proxy_headers=True,
        forwarded_allow_ips="127.0.0.1,::1",
        server_header=False,
        lifespan="off",
    )
    return uvicorn.Server(config)


def _announce(host: str, port: int) -> None:
    log.info("staff page at http://%s:%s", host if ":" not in host else f"[{host}]", port)
    if not is_loopback(host):
        log.warning("the staff page listens on %s without TLS: put it behind an HTTPS reverse proxy", host)


def serve(app: App, host: str, port: int) -> None:
    """Serve in the foreground until Ctrl-C or SIGTERM."""
    sock = bind(host, port)
    _announce(host, sock.getsockname()[1])
    make_server(app).run(sockets=[sock])


@dataclass
class WebServer:
    """A staff page running in a background thread."""

    server: uvicorn.Server
    thread: threading.Thread
    host: str
    port: int

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def stop(self, timeout: float = 10) -> None:
        """Finish requests in hand and stop."""
        self.server.should_exit = True
        self.thread.join(timeout)


def start_in_thread(app: App, host: str, port: int, **create_options: Any) -> WebServer:
    """Start the staff page beside other work; port 0 picks a free port (tests)."""
    sock = bind(host, port)
    server = make_server(app, **create_options)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name="staff-page", daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.02)
    if not server.started:
        server.should_exit = True
        raise ConfigError(f"the staff page did not start on {host}:{port}; see the log above")
    actual = sock.getsockname()[1]
    _announce(host, actual)
    return WebServer(server, thread, host, actual)
