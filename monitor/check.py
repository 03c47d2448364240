"""`monitor check`: test each configured account's credentials before relying on them."""

from __future__ import annotations

from dataclasses import dataclass

from connectors import AuthExpired, ConnectorError
from monitor.app import App


@dataclass(frozen=True)
class CheckResult:
    """The verdict for one account: ok, or what is wrong and how to fix it."""

    account: str
    platform: str
    source: str
    ok: bool
    message: str


def check_accounts(app: App) -> list[CheckResult]:
    """Call `check_auth` on every configured account; never raises for one account's failure."""
    results = []
    for spec in app.policy.accounts:
        try:
            app.connector(spec.name).check_auth()
        except AuthExpired as exc:
            results.append(CheckResult(spec.name, spec.platform, spec.source, False, f"credentials: {exc}"))
        except ConnectorError as exc:
            kind = "configuration" if exc.permanent else "temporary problem, try again"
            results.append(CheckResult(spec.name, spec.platform, spec.source, False, f"{kind}: {exc}"))
        else:
            results.append(CheckResult(spec.name, spec.platform, spec.source, True, "OK"))
    return results
