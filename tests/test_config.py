"""Bad configuration stops `monitor` at start: the key, what is wrong and a correct example, never a traceback.

The full table goes through the real entry point (`monitor.cli.main`) in-process, which is fast; a few
cases also run `python -m monitor` as a subprocess to prove the process itself prints no traceback.
"""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, get_args

import pytest
from pydantic import BaseModel, SecretStr

import rules
from monitor import policy as policy_module
from monitor import settings as settings_module
from monitor.cli import main
from monitor.envfile import documented_variables, render_env
from monitor.errors import ConfigError
from monitor.init_files import PracticeAnswers, write_files
from monitor.policy import EMERGENCY, AccountPolicy, AlertsPolicy, DigestPolicy, Policy, example_policy_text
from monitor.policy import parse_policy as parse
from monitor.settings import Settings, load_settings

REPO = Path(__file__).resolve().parents[1]
BASE = example_policy_text()


def edited(old: str, new: str, text: str = BASE) -> str:
    """The example policy with exactly one occurrence of `old` replaced."""
    assert text.count(old) >= 1, old
    return text.replace(old, new, 1)


def without_line(start: str) -> str:
    return "\n".join(line for line in BASE.splitlines() if not line.startswith(start)) + "\n"


def monitor_subprocess(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


@pytest.fixture
def run_cli(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Iterator[Any]:
    """Run `monitor ARGS` through the console-script entry point; returns (exit code, stdout, stderr)."""
    root = logging.getLogger()
    saved = (root.handlers[:], root.level)

    def invoke(*args: str) -> tuple[int, str, str]:
        monkeypatch.setattr(sys, "argv", ["monitor", *args])
        try:
            main()
            code = 0
        except SystemExit as exc:
            code = int(exc.code or 0)
        out, err = capsys.readouterr()
        return code, out, err

    yield invoke
    root.handlers[:], root.level = saved  # configure_logging() replaced them


def assert_clear_error(code: int, out: str, err: str, key: str, problem: str, example: str) -> None:
    """Exit 2, nothing on stdout, and one line on stderr that names the key, the problem and an example."""
    assert code == 2, (out, err)
    assert out == ""
    assert "Traceback" not in err
    assert err.startswith("error: ")
    lines = [line for line in err.splitlines() if key in line]
    assert lines, err
    assert any(problem in line and "for example" in line for line in lines), err
    assert example in err, err


POLICY_CASES = [
    pytest.param(
        edited('practice_name = "Example Counseling"', 'practice_name = "Example'),
        "practice_name",
        "is not valid TOML",
        'practice_name = "Example Counseling"',
        id="bad-toml",
    ),
    pytest.param(
        edited("retention_days = 90", "retention_dayz = 90"),
        "retention_dayz",
        "not a known setting; did you mean retention_days?",
        "retention_days = 90",
        id="unknown-key",
    ),
    pytest.param(
        edited("hour = 8", "hours = 8"),
        "digest.hours",
        "did you mean hour?",
        "hour = 8",
        id="unknown-key-in-a-table",
    ),
    pytest.param(
        edited("retention_days = 90", 'retention_days = "ninety"'),
        "retention_days",
        "valid integer",
        "retention_days = 90",
        id="wrong-type",
    ),
    pytest.param(
        edited('country = "US"', 'country = "FR"'),
        "country",
        "'US', 'CA', 'GB' or 'AU'",
        'country = "US"',
        id="unknown-country",
    ),
    pytest.param(
        without_line("office_phone"),
        "office_phone",
        "required but missing",
        'office_phone = "(555) 010-0199"',
        id="missing-phone",
    ),
    pytest.param(
        edited('office_phone = "(555) 010-0199"', 'office_phone = "call us"'),
        "office_phone",
        "must be the office phone number",
        'office_phone = "(555) 010-0199"',
        id="phone-without-digits",
    ),
    pytest.param(
        edited("{office_phone} or visit {website}", "{office_fone} or visit {website}"),
        "templates",
        "unknown placeholder {office_fone}",
        "{office_phone}",
        id="unknown-placeholder",
    ),
    pytest.param(
        BASE.split("# --- Reply templates")[0],
        "templates",
        "[templates] has no text for: admin_request",
        "[templates.therapy_request]",
        id="no-templates",
    ),
    pytest.param(
        edited('platform = "reddit"\nsource = "demo"', 'platform = "reddit"\nsource = "myspace"'),
        "accounts[3].source",
        "'myspace' is not available",
        'source = "demo"',
        id="unknown-source",
    ),
    pytest.param(
        edited('streams = ["inbox"]', 'streams = ["inbox", "pokes"]'),
        "accounts[3].streams",
        "unknown stream(s) ['pokes']",
        'streams = ["comments", "messages"]',
        id="unknown-stream",
    ),
    pytest.param(
        edited('platform = "reddit"', 'platform = "myspace"'),
        "accounts[3].platform",
        "unknown platform 'myspace'",
        'platform = "facebook"',
        id="unknown-platform",
    ),
    pytest.param(
        edited("poll_minutes = 10", "poll_minutes = -1"),
        "accounts[2].poll_minutes",
        "greater than 0",
        "poll_minutes = 5",
        id="negative-poll-minutes",
    ),
    pytest.param(
        edited('name = "demo-x"', 'name = "demo-reddit"'),
        "accounts",
        "account names must be unique; repeated: demo-reddit",
        "[[accounts]]",
        id="duplicate-account",
    ),
    pytest.param(
        edited('timezone = "America/Chicago"', 'timezone = "Mars/Olympus"'),
        "timezone",
        "unknown time zone 'Mars/Olympus'",
        'timezone = "America/Chicago"',
        id="bad-timezone",
    ),
    pytest.param(
        edited('day = "mon"', 'day = "monday"'),
        "digest.day",
        "'mon', 'tue', 'wed'",
        'day = "mon"',
        id="bad-digest-day",
    ),
    pytest.param(
        edited("hour = 8", "hour = 25"),
        "digest.hour",
        "less than or equal to 23",
        "hour = 8",
        id="bad-digest-hour",
    ),
    pytest.param(
        edited('urgent_labels = ["crisis"]', 'urgent_labels = ["panic"]'),
        "alerts.urgent_labels",
        "unknown label(s) ['panic']",
        'urgent_labels = ["crisis"]',
        id="unknown-urgent-label",
    ),
    pytest.param(
        edited('crisis_sensitivity = "standard"', 'crisis_sensitivity = "very high"'),
        "crisis_sensitivity",
        "'standard' or 'high'",
        'crisis_sensitivity = "standard"',
        id="bad-crisis-sensitivity",
    ),
    pytest.param(
        edited("escalation_minutes = 15", "escalation_minutes = 0"),
        "alerts.escalation_minutes",
        "greater than or equal to 1",
        "escalation_minutes = 15",
        id="zero-escalation",
    ),
]


@pytest.mark.parametrize(("text", "key", "problem", "example"), POLICY_CASES)
def test_bad_policy_file_is_one_clear_line(run_cli: Any, text: str, key: str, problem: str, example: str) -> None:
    Path("policy.toml").write_text(text, "utf-8")
    code, out, err = run_cli("check-config")
    assert_clear_error(code, out, err, key, problem, example)
    assert "policy.toml" in err.splitlines()[0]
    assert not Path("monitor.db").exists()  # stopped before touching the database


ENV_CASES = [
    pytest.param(
        {"MONITOR_DATABASE_URL": "garbage"},
        "MONITOR_DATABASE_URL",
        "is not usable",
        "MONITOR_DATABASE_URL=sqlite:///monitor.db",
        id="database-url-garbage",
    ),
    pytest.param(
        {"MONITOR_DATABASE_URL": "mysql://monitor@localhost/monitor"},
        "MONITOR_DATABASE_URL",
        "is not usable",
        "postgresql+psycopg://",
        id="database-url-unsupported-driver",
    ),
    pytest.param({"SMTP_PORT": "abc"}, "SMTP_PORT", "valid integer", "SMTP_PORT=587", id="smtp-port-text"),
    pytest.param({"SMTP_PORT": "70000"}, "SMTP_PORT", "less than or equal to 65535", "SMTP_PORT=587", id="smtp-port"),
    pytest.param({"SMTP_PORT": "0"}, "SMTP_PORT", "greater than or equal to 1", "SMTP_PORT=587", id="smtp-port-0"),
    pytest.param(
        {"SMTP_SECURITY": "tls"}, "SMTP_SECURITY", "'starttls', 'ssl' or 'none'", "SMTP_SECURITY=starttls", id="tls"
    ),
    pytest.param(
        {"MONITOR_LOG_LEVEL": "LOUD"}, "MONITOR_LOG_LEVEL", "'DEBUG', 'INFO'", "MONITOR_LOG_LEVEL=INFO", id="log-level"
    ),
    pytest.param(
        {"MONITOR_DB_BUSY_TIMEOUT": "-1"},
        "MONITOR_DB_BUSY_TIMEOUT",
        "greater than or equal to 0",
        "MONITOR_DB_BUSY_TIMEOUT=5",
        id="busy-timeout",
    ),
    pytest.param(
        {"MONITOR_WEB_PORT": "http"}, "MONITOR_WEB_PORT", "valid integer", "MONITOR_WEB_PORT=8080", id="web-port"
    ),
]


@pytest.mark.parametrize(("env", "key", "problem", "example"), ENV_CASES)
@pytest.mark.parametrize("where", ["environment", ".env"])
def test_bad_setting_is_one_clear_line(
    run_cli: Any, monkeypatch: pytest.MonkeyPatch, where: str, env: dict[str, str], key: str, problem: str, example: str
) -> None:
    for name, value in env.items():
        if where == "environment":
            monkeypatch.setenv(name, value)
        else:
            Path(".env").write_text(f"{name}={value}\n", "utf-8")
    code, out, err = run_cli("run", "--once")
    assert_clear_error(code, out, err, key, problem, example)


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("postgresql+psycopg://monitor@127.0.0.1:1/monitor", "Connection refused"),
        ("sqlite:////nonexistent/folder/monitor.db", "unable to open database file"),
    ],
)
def test_unreachable_database_is_one_line(
    run_cli: Any, monkeypatch: pytest.MonkeyPatch, url: str, problem: str
) -> None:
    monkeypatch.setenv("MONITOR_DATABASE_URL", url)
    code, out, err = run_cli("run", "--once")
    assert code == 2 and out == ""
    [line] = err.splitlines()
    assert line.startswith(f"error: cannot use the database {url} (MONITOR_DATABASE_URL): ")
    assert problem in line


def test_missing_policy_named_by_monitor_policy(run_cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MONITOR_POLICY", "practice/policy.toml")
    code, out, err = run_cli("check-config")
    assert code == 2 and out == ""
    assert err.strip() == (
        "error: MONITOR_POLICY points to practice/policy.toml, which does not exist; run `monitor init` to create one"
    )


def test_several_problems_are_all_listed_at_once(run_cli: Any) -> None:
    text = edited("hour = 8", "hour = 25", edited('country = "US"', 'country = "FR"'))
    Path("policy.toml").write_text(text, "utf-8")
    code, _, err = run_cli("check-config")
    assert code == 2
    assert [line.split(":")[0].strip() for line in err.splitlines()[1:]] == ["country", "digest.hour"]


def test_every_policy_key_has_an_example() -> None:
    """Whatever key is wrong, the message can show a correct value."""
    for model in (Policy, AlertsPolicy, DigestPolicy, AccountPolicy):
        missing = set(model.model_fields) - set(policy_module.EXAMPLES)
        assert not missing, f"{model.__name__}: add EXAMPLES for {sorted(missing)}"


def test_every_setting_that_can_be_invalid_has_an_example() -> None:
    """Plain text settings cannot be invalid; every other kind needs an example for its error."""
    for name, info in Settings.model_fields.items():
        if info.annotation not in (str, SecretStr, Path):
            assert name in settings_module.EXAMPLES, f"add an example for {name.upper()}"


# --- pydantic-settings: FOO_FILE, .env, .env.example


def test_secret_read_from_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    secret = tmp_path / "smtp-password"
    secret.write_text("s3cret-from-file\n", "utf-8")  # a trailing newline, as editors and `echo` leave it
    monkeypatch.setenv("SMTP_PASSWORD_FILE", str(secret))
    settings = load_settings()
    assert settings.smtp_password.get_secret_value() == "s3cret-from-file"
    assert "s3cret" not in repr(settings) and "s3cret" not in str(settings.model_dump())


def test_secret_file_named_in_dotenv_and_handed_to_connectors(tmp_path: Path) -> None:
    (tmp_path / "token").write_text("EAAB-invented-token", "utf-8")
    Path(".env").write_text(f"FACEBOOK_PAGE_TOKEN_FILE={tmp_path / 'token'}\nSMTP_HOST=mail.invalid\n", "utf-8")
    settings = load_settings()
    assert settings.smtp_host == "mail.invalid"
    assert settings.connector_settings()["facebook_page_token"] == "EAAB-invented-token"


def test_secret_file_beats_the_value_left_in_dotenv(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A systemd credential (REDDIT_PASSWORD_FILE) wins over an old value in .env."""
    (tmp_path / "pw").write_text("from-credential", "utf-8")
    Path(".env").write_text("REDDIT_PASSWORD=left-in-dotenv\n", "utf-8")
    monkeypatch.setenv("REDDIT_PASSWORD_FILE", str(tmp_path / "pw"))
    assert load_settings().reddit_password.get_secret_value() == "from-credential"


def test_unreadable_secret_file_is_one_clear_line(run_cli: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SMTP_PASSWORD_FILE", "/nonexistent/smtp-password")
    code, out, err = run_cli("check-config")
    assert code == 2 and out == ""
    assert err.strip() == (
        "error: SMTP_PASSWORD_FILE: cannot read /nonexistent/smtp-password (No such file or directory)"
    )


def test_env_example_in_the_repo_is_the_documented_env_file() -> None:
    assert (REPO / ".env.example").read_text("utf-8") == render_env()


def test_every_setting_is_documented_in_the_env_file() -> None:
    assert documented_variables() == {name.upper() for name in Settings.model_fields}


# --- monitor init


def init_args(*extra: str) -> list[str]:
    return [
        "init",
        "--practice-name",
        "Harbour Light Therapy",
        "--phone",
        "020 7946 0000",
        "--website",
        "https://harbour-light.example",
        "--country",
        "gb",
        "--clinician",
        "Dr. Ada Invented",
        "--alert-email",
        "oncall@harbour-light.example",
        *extra,
    ]


def test_init_writes_a_policy_that_loads_and_an_env_file(tmp_path: Path) -> None:
    made = monitor_subprocess(*init_args(), cwd=tmp_path)
    assert made.returncode == 0, made.stderr
    assert (tmp_path / ".env").read_text("utf-8") == render_env()
    assert (tmp_path / ".env").stat().st_mode & 0o077 == 0  # it will hold secrets
    policy = parse((tmp_path / "policy.toml").read_text("utf-8"), "policy.toml")
    assert (policy.practice_name, policy.country, policy.emergency_number) == ("Harbour Light Therapy", "GB", "999")
    assert policy.clinicians == ["Dr. Ada Invented"]
    assert policy.alerts.recipients == ["oncall@harbour-light.example"]
    assert policy.accounts == []  # no demo accounts in a real practice's file
    checked = monitor_subprocess("check-config", cwd=tmp_path)
    assert checked.returncode == 0, checked.stderr
    assert "Policy: policy.toml — Harbour Light Therapy, 020 7946 0000, GB (emergency 999; Samaritans" in checked.stdout


def test_init_refuses_to_overwrite_without_force(run_cli: Any) -> None:
    Path("policy.toml").write_text("# the practice's own edits\n", "utf-8")
    code, out, err = run_cli(*init_args())
    assert out == ""
    assert code == 2 and "already exist" in err and "--force" in err and "Traceback" not in err
    assert Path("policy.toml").read_text("utf-8") == "# the practice's own edits\n"
    assert not Path(".env").exists()  # nothing half-written
    code, _, err = run_cli(*init_args("--force"))
    assert code == 0, err
    assert parse(Path("policy.toml").read_text("utf-8"), "policy.toml").practice_name == "Harbour Light Therapy"


def test_init_refuses_answers_that_would_not_load(tmp_path: Path) -> None:
    bad = PracticeAnswers("Harbour Light", "no phone", "https://harbour-light.example", "GB")
    with pytest.raises(ConfigError, match="office_phone"):
        write_files(tmp_path, bad)
    assert list(tmp_path.iterdir()) == []


# --- country -> emergency number and crisis line


@pytest.mark.parametrize(
    ("country", "number", "line"),
    [
        ("US", "911", "988"),
        ("CA", "911", "988"),
        ("GB", "999", "116 123"),
        ("UK", "999", "116 123"),
        ("gb", "999", "116 123"),
        ("AU", "000", "13 11 14"),
    ],
)
def test_country_sets_emergency_number_and_crisis_line(country: str, number: str, line: str) -> None:
    policy = parse(edited('country = "US"', f'country = "{country}"'), "policy.toml")
    assert policy.emergency_number == number
    assert line in policy.crisis_line
    _, reply = policy.template_for("crisis", "dm")
    assert number in reply and line in reply


def test_emergency_number_can_be_overridden() -> None:
    policy = parse(edited('# emergency_number = "911"', 'emergency_number = "112"'), "policy.toml")
    assert policy.emergency_number == "112"
    assert "988" in policy.crisis_line


def test_every_country_choice_has_an_emergency_number() -> None:
    assert set(get_args(Policy.model_fields["country"].annotation)) == set(EMERGENCY)


# --- the real process: exit status and no traceback


def test_bad_policy_via_the_real_command(tmp_path: Path) -> None:
    text = edited("poll_minutes = 10", "poll_minutes = -1", edited('timezone = "America/Chicago"', 'timezone = "X/Y"'))
    (tmp_path / "policy.toml").write_text(text, "utf-8")
    result = monitor_subprocess("run", "--once", cwd=tmp_path)
    assert result.returncode == 2 and result.stdout == ""
    assert "Traceback" not in result.stderr
    assert result.stderr.splitlines() == [
        "error: policy.toml is not valid:",
        "  timezone: unknown time zone 'X/Y' — for example: timezone = \"America/Chicago\"",
        "  accounts[2].poll_minutes: Input should be greater than 0 — for example: poll_minutes = 5",
    ]
    assert not (tmp_path / "monitor.db").exists()


def test_bad_toml_via_the_real_command(tmp_path: Path) -> None:
    (tmp_path / "policy.toml").write_text(edited("[digest]", "[digest"), "utf-8")
    result = monitor_subprocess("check-config", cwd=tmp_path)
    assert result.returncode == 2 and "Traceback" not in result.stderr
    [line] = result.stderr.splitlines()
    assert line.startswith("error: policy.toml is not valid TOML:") and "the line reads: [digest" in line


def test_bad_env_via_the_real_command(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("SMTP_PORT=five-eight-seven\n", "utf-8")
    result = monitor_subprocess("run", "--once", cwd=tmp_path, env={"MONITOR_DATABASE_URL": "sqlite:///x.db"})
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert result.stderr.splitlines()[1:] == [
        "  SMTP_PORT: Input should be a valid integer, unable to parse string as an integer"
        " — for example: SMTP_PORT=587"
    ]
    assert not (tmp_path / "x.db").exists()


def test_policy_models_reject_unknown_keys_everywhere() -> None:
    """`extra="forbid"` on every table, so a typo is never silently ignored."""
    for model in (Policy, AlertsPolicy, DigestPolicy, AccountPolicy):
        assert issubclass(model, BaseModel) and model.model_config.get("extra") == "forbid"


def test_a_damaged_learned_model_is_one_clear_line_not_a_traceback(tmp_path: Path) -> None:
    damaged = tmp_path / "rules"
    shutil.copytree(Path(rules.__file__).parent, damaged)
    (damaged / "data" / "learned_model.json").write_text('{"labels": {"crisis": ', "utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "monitor", "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PYTHONPATH": str(tmp_path)},
        cwd=tmp_path,
    )
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: a file of practice-monitor is damaged: learned model")
    assert "not valid JSON" in result.stderr and "git checkout" in result.stderr


def test_crisis_sensitivity_in_the_policy_reaches_the_classifier() -> None:
    from monitor.app import make_classifier

    standard = parse(example_policy_text(), "policy.toml")
    high = parse(example_policy_text().replace('crisis_sensitivity = "standard"', 'crisis_sensitivity = "high"'), "p")
    assert (standard.crisis_sensitivity, high.crisis_sensitivity) == ("standard", "high")
    models = [make_classifier(p).__self__.learned_model for p in (standard, high)]  # type: ignore[attr-defined]
    assert models[1].labels["crisis"].threshold < models[0].labels["crisis"].threshold


def test_the_policy_offers_exactly_the_sensitivities_the_rules_know() -> None:
    from rules.engine import CRISIS_SENSITIVITY

    assert set(get_args(Policy.model_fields["crisis_sensitivity"].annotation)) == set(CRISIS_SENSITIVITY)
