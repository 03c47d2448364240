"""`monitor check`: one verdict per account, a failing account never hides the others."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from connectors import AuthExpired, ConnectorError
from connectors.demo import DemoConnector
from monitor.check import check_accounts

from support import AppFactory


class ExpiredToken(DemoConnector):
    def check_auth(self) -> None:
        raise AuthExpired("the Page token has expired (Graph error 190): create a new one and set FACEBOOK_PAGE_TOKEN")


class MissingOption(DemoConnector):
    def check_auth(self) -> None:
        raise ConnectorError("set the option page_id for this account in policy.toml", permanent=True)


def test_each_account_gets_its_own_verdict(make_app: AppFactory) -> None:
    app = make_app()
    fb, ig = app.connectors["demo-facebook"], app.connectors["demo-instagram"]
    app.connectors["demo-facebook"] = ExpiredToken(fb.spec, items=[])  # type: ignore[attr-defined]
    app.connectors["demo-instagram"] = MissingOption(ig.spec, items=[])  # type: ignore[attr-defined]
    verdicts = {r.account: r for r in check_accounts(app)}
    assert len(verdicts) == len(app.policy.accounts)
    assert verdicts["demo-facebook"].ok is False and "FACEBOOK_PAGE_TOKEN" in verdicts["demo-facebook"].message
    assert verdicts["demo-instagram"].message.startswith("configuration: set the option page_id")
    assert verdicts["demo-x"].ok and verdicts["demo-x"].message == "OK"


def test_check_command_on_the_demo_policy(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "monitor", "check"], cwd=tmp_path, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.count("OK  ") == 5
