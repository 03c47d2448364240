"""Keep the platform libraries' DEBUG output out of the logs: it carries tokens and message text.

tweepy logs every request's headers (the bearer token) and JSON body (the reply text) at DEBUG,
requests-oauthlib logs the signed body, prawcore logs each request's form data (the reply text). Our
log level may be DEBUG when staff investigate, so these loggers are held at INFO unless someone has
deliberately set a level for them.
"""

from __future__ import annotations

import logging


def quiet_library_debug(*names: str) -> None:
    """Raise the named loggers to INFO, leaving any level set on purpose alone."""
    for name in names:
        logger = logging.getLogger(name)
        if logger.level == logging.NOTSET:
            logger.setLevel(logging.INFO)
