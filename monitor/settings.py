"""Deployment settings and secrets from the environment or `.env` (see `.env.example`).

Every field's environment variable is its name in upper case. Any secret `FOO` may instead be
given as `FOO_FILE=/path/to/file` (systemd credentials, Docker secrets).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

from dotenv import dotenv_values
from pydantic import Field, SecretStr, ValidationError
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from monitor.config_errors import describe
from monitor.errors import ConfigError

PLATFORM_PREFIXES = frozenset({"facebook", "x", "reddit", "google", "yelp"})

EXAMPLES: dict[str, str] = {
    "monitor_database_url": "MONITOR_DATABASE_URL=sqlite:///monitor.db",
    "monitor_db_busy_timeout": "MONITOR_DB_BUSY_TIMEOUT=5",
    "monitor_log_level": "MONITOR_LOG_LEVEL=INFO",
    "monitor_staff_url": "MONITOR_STAFF_URL=https://monitor.example-practice.internal",
    "monitor_semantic": "MONITOR_SEMANTIC=off",
    "monitor_web_port": "MONITOR_WEB_PORT=8080",
    "smtp_port": "SMTP_PORT=587",
    "smtp_security": "SMTP_SECURITY=starttls",
    "smtp_timeout": "SMTP_TIMEOUT=20",
}


class FileSecretsSource(PydanticBaseSettingsSource):
    """Reads `NAME_FILE` variables (environment first, then .env) as the value of `NAME`."""

    def __init__(self, settings_cls: type[BaseSettings], env_file: Path | None) -> None:
        super().__init__(settings_cls)
        self.dotenv = {k.upper(): v for k, v in dotenv_values(env_file).items()} if env_file else {}

    def get_field_value(self, field: FieldInfo, field_name: str) -> tuple[Any, str, bool]:
        key = f"{field_name.upper()}_FILE"
        path = os.environ.get(key) or self.dotenv.get(key)
        if not path:
            return None, field_name, False
        try:
            return Path(path).read_text("utf-8").strip(), field_name, False
        except OSError as exc:
            raise ConfigError(f"{key}: cannot read {path} ({exc.strerror})") from None

    def __call__(self) -> dict[str, Any]:
        values: dict[str, Any] = {}
        for name, info in self.settings_cls.model_fields.items():
            value, _, _ = self.get_field_value(info, name)
            if value is not None:
                values[name] = value
        return values


class Settings(BaseSettings):
    """Everything that differs between installations and is not the practice's policy."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", case_sensitive=False)

    # --- core
    monitor_database_url: str = "sqlite:///monitor.db"
    monitor_policy: Path = Path("policy.toml")
    monitor_log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"
    monitor_db_busy_timeout: float = Field(default=5.0, ge=0)
    monitor_staff_url: str = "http://127.0.0.1:8080"
    monitor_semantic: bool = False
    monitor_web_host: str = "127.0.0.1"
    monitor_web_port: int = Field(default=8080, ge=1, le=65535)
    monitor_secret_key: SecretStr = SecretStr("")
    # --- email (alerts and digest)
    smtp_host: str = ""
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["starttls", "ssl", "none"] = "starttls"
    smtp_username: str = ""
    smtp_password: SecretStr = SecretStr("")
    smtp_from: str = ""
    smtp_timeout: float = Field(default=20.0, gt=0)
    # --- other alert channels (apprise URLs: SMS gateways, Teams, Slack, ntfy ...)
    monitor_alert_urls: SecretStr = SecretStr("")
    # --- Facebook Page and Instagram (Graph API)
    facebook_page_token: SecretStr = SecretStr("")
    facebook_app_secret: SecretStr = SecretStr("")
    facebook_graph_version: str = "v25.0"
    # --- X
    x_bearer_token: SecretStr = SecretStr("")
    x_consumer_key: SecretStr = SecretStr("")
    x_consumer_secret: SecretStr = SecretStr("")
    x_access_token: SecretStr = SecretStr("")
    x_access_token_secret: SecretStr = SecretStr("")
    # --- Reddit
    reddit_client_id: str = ""
    reddit_client_secret: SecretStr = SecretStr("")
    reddit_username: str = ""
    reddit_password: SecretStr = SecretStr("")
    # --- review sites
    google_client_id: str = ""
    google_client_secret: SecretStr = SecretStr("")
    google_refresh_token: SecretStr = SecretStr("")
    yelp_api_key: SecretStr = SecretStr("")

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        env_file = Path(".env")
        file_source = FileSecretsSource(settings_cls, env_file if env_file.is_file() else None)
        return (init_settings, env_settings, file_source, dotenv_settings)

    def connector_settings(self) -> dict[str, str]:
        """Non-empty platform settings by field name (e.g. `facebook_page_token`), secrets revealed.

        Handed to connectors as `AccountSpec.secrets`; never logged.
        """
        out: dict[str, str] = {}
        for name in type(self).model_fields:
            if name.split("_")[0] not in PLATFORM_PREFIXES:
                continue
            value = getattr(self, name)
            text = value.get_secret_value() if isinstance(value, SecretStr) else str(value)
            if text:
                out[name] = text
        return out


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment and `.env`; invalid values raise ConfigError, not a traceback."""
    try:
        return Settings(**overrides)
    except ValidationError as err:
        raise ConfigError(describe(err, "The .env file / environment", EXAMPLES, str.upper)) from None
