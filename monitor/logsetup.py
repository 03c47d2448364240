"""Logging for the daemon and CLI: ids and counts only; a filter masks anything token-shaped."""

from __future__ import annotations

import logging
import re

_SECRETS = re.compile(r"(?i)(access_token=|client_secret=|password=|appsecret_proof=|bearer\s+|oauth_token=)[^\s&\"']+")


class RedactSecrets(logging.Filter):
    """Last line of defence: a token that slips into a message or exception is masked."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        masked = _SECRETS.sub(r"\1***", message)
        if masked != message:
            record.msg, record.args = masked, None
        return True


#: Held at WARNING even when MONITOR_LOG_LEVEL=DEBUG: the platform libraries log request bodies (message
#: text, reply text) and tokens at DEBUG, and the scheduler logs every job it adds at INFO.
NOISY_LOGGERS = (
    "apscheduler.executors.default",
    "apscheduler.scheduler",
    "alembic.runtime.migration",
    "tweepy",
    "requests_oauthlib",
    "oauthlib",
    "prawcore",
    "praw",
    "urllib3",
    "facebook",
)


def configure_logging(level: str) -> None:
    """Send logs to stderr (the journal under systemd) with secrets masked."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(RedactSecrets())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for noisy in NOISY_LOGGERS:
        logging.getLogger(noisy).setLevel(logging.WARNING)


def describe_bug(exc: BaseException) -> str:
    """An unexpected exception as its type and where it was raised, never its message.

    Exception messages can carry the data being processed (a message's text, an author); the type
    and the innermost frame of our own code are enough to find the bug.
    """
    where = ""
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if "/site-packages/" not in filename:
            where = f" at {filename.rsplit('/', 2)[-2]}/{filename.rsplit('/', 1)[-1]}:{tb.tb_lineno}"
        tb = tb.tb_next
    return f"{type(exc).__name__}{where}"
