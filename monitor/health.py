"""Account health: a failing account is logged once and its recovery once (the Home Assistant habit),
rate limits and expired credentials pause just that account, and staff hear about expired credentials."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.engine import Engine
from sqlmodel import select

from connectors import AuthExpired, ConnectorError, RateLimited
from monitor.clock import Clock
from monitor.db import Account
from monitor.storage import session_scope

log = logging.getLogger(__name__)
AUTH_RETRY = timedelta(minutes=30)


def describe_error(error: ConnectorError) -> str:
    """A short, secret-free description for the account row, the log and the digest."""
    kind = "credentials need attention" if isinstance(error, AuthExpired) else type(error).__name__
    return f"{kind}: {error}"[:500]


def record_outcome(engine: Engine, account_name: str, error: ConnectorError | None, clock: Clock) -> bool:
    """Store the outcome of a poll on the account row. True when the account has just started failing
    with a new problem (the moment to log and notify), False otherwise."""
    now = clock()
    with session_scope(engine) as session:
        account = session.exec(select(Account).where(Account.name == account_name)).first()
        if account is None:
            return False
        changed = False
        if error is None:
            if account.last_error is not None:
                log.info("account %s recovered", account_name)
            account.last_error, account.last_poll_ok_at = None, now
        else:
            message = describe_error(error)
            changed = account.last_error != message
            if changed:
                log.error("account %s: polling failed (%s)", account_name, message)
            account.last_error, account.last_error_at = message, now
        session.add(account)
        session.commit()
        return changed


@dataclass
class Pauses:
    """Accounts the platform asked us to leave alone for a while (in memory; a restart retries)."""

    until: dict[str, datetime] = field(default_factory=dict)

    def active(self, account_name: str, now: datetime) -> bool:
        return account_name in self.until and now < self.until[account_name]

    def after_error(self, account_name: str, error: ConnectorError, now: datetime) -> None:
        if isinstance(error, RateLimited):
            self.until[account_name] = now + timedelta(seconds=error.retry_after or 60)
        elif isinstance(error, AuthExpired):
            self.until[account_name] = now + AUTH_RETRY

    def clear(self, account_name: str) -> None:
        self.until.pop(account_name, None)
