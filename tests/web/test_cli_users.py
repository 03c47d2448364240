"""`monitor user add/disable/enable/passwd/list`: logins made on the server's command line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from click.testing import CliRunner
from sqlmodel import Session, create_engine, select

from monitor.cli import cli
from monitor.db import AuditEntry, StaffUser
from monitor.errors import InvalidState, NotFound


def users_in(path: Path) -> dict[str, StaffUser]:
    engine = create_engine(f"sqlite:///{path / 'monitor.db'}")
    with Session(engine) as s:
        found = {u.name: u for u in s.exec(select(StaffUser))}
    engine.dispose()
    return found


def actions_in(path: Path) -> list[str]:
    engine = create_engine(f"sqlite:///{path / 'monitor.db'}")
    with Session(engine) as s:
        found = [e.action for e in s.exec(select(AuditEntry))]
    engine.dispose()
    return found


def test_add_disable_enable_passwd_and_list(tmp_path: Path) -> None:
    runner = CliRunner()
    added = runner.invoke(
        cli, ["user", "add", "Dana", "--role", "admin", "--password-stdin"], input="first secret pw\n"
    )
    assert added.exit_code == 0, added.output
    assert "Created admin login 'Dana'" in added.output and "first secret pw" not in added.output
    dana = users_in(tmp_path)["Dana"]
    assert dana.role == "admin" and dana.password_hash.startswith("$argon2id$")
    PasswordHasher().verify(dana.password_hash, "first secret pw")

    assert runner.invoke(cli, ["user", "disable", "Dana"]).exit_code == 0
    assert users_in(tmp_path)["Dana"].disabled is True
    listed = runner.invoke(cli, ["user", "list"]).output
    assert "Dana  admin  disabled  last sign-in: never" in listed
    assert runner.invoke(cli, ["user", "enable", "Dana"]).exit_code == 0

    changed = runner.invoke(cli, ["user", "passwd", "Dana", "--password-stdin"], input="second secret pw\r\n")
    assert changed.exit_code == 0, changed.output
    PasswordHasher().verify(users_in(tmp_path)["Dana"].password_hash, "second secret pw")
    assert actions_in(tmp_path) == ["user_added", "user_disabled", "user_enabled", "password_changed"]


def test_the_password_prompt_asks_twice(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["user", "add", "Lee"], input="typed secret 1\ntyped secret 1\n")
    assert result.exit_code == 0, result.output
    assert users_in(tmp_path)["Lee"].role == "staff"


@pytest.mark.parametrize(
    ("args", "stdin", "error", "message"),
    [
        (["user", "add", "Dana", "--password-stdin"], "short\n", InvalidState, "at least 10 characters"),
        (["user", "add", "bad/name", "--password-stdin"], "long enough pw\n", InvalidState, "a login name is"),
        (["user", "passwd", "Nobody", "--password-stdin"], "long enough pw\n", NotFound, "no login named 'Nobody'"),
        (["user", "disable", "Nobody"], "", NotFound, "no login named 'Nobody'"),
    ],
)
def test_bad_input_is_refused_with_a_reason(
    tmp_path: Path, args: list[str], stdin: str, error: type[Exception], message: str
) -> None:
    result = CliRunner().invoke(cli, args, input=stdin)
    assert isinstance(result.exception, error) and message in str(result.exception)
    assert "Dana" not in users_in(tmp_path)


def test_a_duplicate_login_is_one_clear_line_and_exit_2(tmp_path: Path) -> None:
    def monitor(*args: str, stdin: str) -> subprocess.CompletedProcess[str]:
        command = [sys.executable, "-m", "monitor", *args]
        return subprocess.run(command, cwd=tmp_path, input=stdin, capture_output=True, text=True, timeout=60)

    assert monitor("user", "add", "Dana", "--password-stdin", stdin="long enough pw\n").returncode == 0
    again = monitor("user", "add", "Dana", "--password-stdin", stdin="another long pw\n")
    assert again.returncode == 2
    assert again.stderr.strip() == "error: there is already a login named 'Dana'"
