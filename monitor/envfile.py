"""The documented `.env` file: written by `monitor init`, and kept identical to `.env.example`.

A test checks that every Settings field is documented here and that `.env.example` matches.
"""

from __future__ import annotations

# (section title, [(variable, default or example value, comment)])
SECTIONS: list[tuple[str, list[tuple[str, str, str]]]] = [
    (
        "Core",
        [
            (
                "MONITOR_DATABASE_URL",
                "sqlite:///monitor.db",
                "Where events are stored. SQLite file by default; PostgreSQL: postgresql+psycopg://user@host/db",
            ),
            ("MONITOR_POLICY", "policy.toml", "The practice's policy file (written by `monitor init`)."),
            ("MONITOR_LOG_LEVEL", "INFO", "DEBUG, INFO, WARNING or ERROR. Logs never contain message text."),
            ("MONITOR_DB_BUSY_TIMEOUT", "5", "Seconds to wait for a busy SQLite database before giving up."),
            ("MONITOR_STAFF_URL", "http://127.0.0.1:8080", "Address of the staff page, used in alert links."),
            (
                "MONITOR_SEMANTIC",
                "off",
                "on: also flag indirect crisis messages by meaning (needs the [semantic] extra; README).",
            ),
        ],
    ),
    (
        "Staff page",
        [
            ("MONITOR_WEB_HOST", "127.0.0.1", "Address the staff page listens on. Keep 127.0.0.1 behind a TLS proxy."),
            ("MONITOR_WEB_PORT", "8080", "Port of the staff page."),
            ("MONITOR_SECRET_KEY", "", "Signs login cookies. Empty: generated once and kept in .monitor-secret."),
        ],
    ),
    (
        "Email for alerts and the weekly digest",
        [
            ("SMTP_HOST", "", "Mail server, e.g. smtp.office365.com. Empty: alerts go to the log only."),
            ("SMTP_PORT", "587", "587 for STARTTLS, 465 for SSL."),
            ("SMTP_SECURITY", "starttls", "starttls, ssl or none."),
            ("SMTP_USERNAME", "", "Mail account user name."),
            ("SMTP_PASSWORD", "", "Mail account password (or SMTP_PASSWORD_FILE=/path/to/file)."),
            ("SMTP_FROM", "", "Sender address, e.g. monitor@example-counseling.example"),
            ("SMTP_TIMEOUT", "20", "Seconds to wait for the mail server before retrying later."),
            (
                "MONITOR_ALERT_URLS",
                "",
                "Extra crisis-alert channels as apprise URLs, space-separated (ntfy://, msteams://, ...).",
            ),
        ],
    ),
    (
        "Facebook Page and Instagram (Meta Graph API)",
        [
            ("FACEBOOK_PAGE_TOKEN", "", "Long-lived Page access token (or FACEBOOK_PAGE_TOKEN_FILE)."),
            ("FACEBOOK_APP_SECRET", "", "App secret, if the app requires appsecret_proof."),
            ("FACEBOOK_GRAPH_VERSION", "v25.0", "Graph API version to call."),
        ],
    ),
    (
        "X",
        [
            ("X_BEARER_TOKEN", "", "OAuth 2 user token, or leave empty and use the four OAuth 1.0a values."),
            ("X_CONSUMER_KEY", "", "OAuth 1.0a consumer (API) key."),
            ("X_CONSUMER_SECRET", "", "OAuth 1.0a consumer (API) secret."),
            ("X_ACCESS_TOKEN", "", "OAuth 1.0a access token of the practice's account."),
            ("X_ACCESS_TOKEN_SECRET", "", "OAuth 1.0a access token secret."),
        ],
    ),
    (
        "Reddit (script app)",
        [
            ("REDDIT_CLIENT_ID", "", "Client id of the practice's approved script app."),
            ("REDDIT_CLIENT_SECRET", "", "Client secret of the script app."),
            ("REDDIT_USERNAME", "", "The practice's Reddit account (a developer of the app)."),
            ("REDDIT_PASSWORD", "", "Its password (or REDDIT_PASSWORD_FILE)."),
        ],
    ),
    (
        "Review sites (read only: the practice never replies to reviews)",
        [
            ("GOOGLE_CLIENT_ID", "", "OAuth client id with Business Profile API access."),
            ("GOOGLE_CLIENT_SECRET", "", "OAuth client secret."),
            ("GOOGLE_REFRESH_TOKEN", "", "Refresh token of a profile owner or manager."),
            ("YELP_API_KEY", "", "Yelp Places (Fusion) API key."),
        ],
    ),
]


def render_env() -> str:
    """The commented `.env` text."""
    lines = [
        "# practice-monitor settings. Copy to .env and fill in what you use; leave the rest empty.",
        "# Any secret FOO may instead be read from a file: FOO_FILE=/path/to/file",
    ]
    for title, variables in SECTIONS:
        lines += ["", f"# --- {title}"]
        for name, value, comment in variables:
            lines += [f"# {comment}", f"{name}={value}"]
    return "\n".join(lines) + "\n"


def documented_variables() -> set[str]:
    """Every variable the file documents."""
    return {name for _, variables in SECTIONS for name, _, _ in variables}
