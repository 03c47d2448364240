"""`monitor web` (the staff page on its own) and `monitor user ...` (staff logins)."""

from __future__ import annotations

import sys

import click

from monitor import users
from monitor.app import App, open_app
from monitor.clock import age_in_words
from monitor.errors import InvalidState, NotFound
from monitor.logsetup import configure_logging
from monitor.settings import load_settings
from monitor.storage import session_scope

CLI_ACTOR = "command line"


def _app() -> App:
    settings = load_settings()
    configure_logging(settings.monitor_log_level)
    return open_app(settings)


@click.command(help="Serve the staff page (approve, edit or reject replies in a browser).")
@click.option("--host", default=None, help="Address to listen on (default MONITOR_WEB_HOST, 127.0.0.1).")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="Port (default MONITOR_WEB_PORT, 8080).")
def web(host: str | None, port: int | None) -> None:
    from monitor.web.server import serve

    app = _app()
    host = host or app.settings.monitor_web_host
    port = app.settings.monitor_web_port if port is None else port
    click.echo(f"Staff page: http://{host}:{port}  (Ctrl-C stops it; `monitor run` also serves it)")
    serve(app, host, port)


def _read_password(password_stdin: bool, confirm: bool = True) -> str:
    """The new password from standard input (first line) or a hidden prompt typed twice."""
    if password_stdin:
        line = sys.stdin.readline()
        password = line[:-1] if line.endswith("\n") else line
        password = password[:-1] if password.endswith("\r") else password
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=confirm)
    users.check_password_rules(password)
    return password


@click.group(help="Staff logins for the staff page.")
def user() -> None:
    pass


@user.command("add", help="Create a login. The password is asked for (or read from --password-stdin).")
@click.argument("name")
@click.option(
    "--role", type=click.Choice(users.ROLES), default="staff", show_default=True, help="admin also manages logins."
)
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def add(name: str, role: str, password_stdin: bool) -> None:
    app = _app()
    with session_scope(app.engine) as session:
        if any(u.name == name.strip() for u in users.list_users(session)):
            raise InvalidState(f"there is already a login named {name.strip()!r}")
    password = _read_password(password_stdin)
    with session_scope(app.engine) as session:
        users.add_user(session, users.default_hasher(), name, password, role, CLI_ACTOR, app.clock())
    click.echo(f"Created {role} login {name.strip()!r}. Open the staff page and sign in (see `monitor web`).")


@user.command("disable", help="Stop a login from signing in; its open sessions end at once.")
@click.argument("name")
def disable(name: str) -> None:
    app = _app()
    with session_scope(app.engine) as session:
        users.set_disabled(session, name, True, CLI_ACTOR, app.clock())
    click.echo(f"Disabled login {name!r}.")


@user.command("enable", help="Let a disabled login sign in again.")
@click.argument("name")
def enable(name: str) -> None:
    app = _app()
    with session_scope(app.engine) as session:
        users.set_disabled(session, name, False, CLI_ACTOR, app.clock())
    click.echo(f"Enabled login {name!r}.")


@user.command("passwd", help="Set a new password (also lifts a lockout); open sessions of that login end.")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def passwd(name: str, password_stdin: bool) -> None:
    app = _app()
    with session_scope(app.engine) as session:
        if not any(u.name == name for u in users.list_users(session)):
            raise NotFound(f"there is no login named {name!r}; `monitor user list` shows them")
    password = _read_password(password_stdin)
    with session_scope(app.engine) as session:
        users.set_password(session, users.default_hasher(), name, password, CLI_ACTOR, app.clock())
    click.echo(f"New password set for {name!r}.")


@user.command("list", help="List logins: role, status and last sign-in.")
def list_logins() -> None:
    app = _app()
    now = app.clock()
    with session_scope(app.engine) as session:
        people = users.list_users(session)
    if not people:
        click.echo("No logins yet: `monitor user add NAME --role admin` creates the first one.")
    for p in people:
        status = "disabled" if p.disabled else "locked" if p.locked_until and p.locked_until > now else "active"
        last = age_in_words((now - p.last_login_at).total_seconds()) if p.last_login_at else "never"
        click.echo(f"{p.name}  {p.role}  {status}  last sign-in: {last}")
