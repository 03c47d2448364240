"""Wiring: settings + policy + database + connectors + rules + notifier, and one full cycle."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from sqlalchemy.engine import Engine

import rules
from connectors import AccountSpec, AuthExpired, Connector, ConnectorError, load_connector_class
from monitor.clock import Clock, utcnow
from monitor.errors import ConfigError
from monitor.escalation import escalate_unacknowledged
from monitor.health import Pauses, describe_error, record_outcome
from monitor.notify import Notifier, default_notifiers, deliver_pending_alerts
from monitor.outbox import DispatchResult, dispatch
from monitor.pipeline import ClassifyFn, PollResult, poll_stream
from monitor.policy import AccountPolicy, Policy, load_policy
from monitor.retention import purge_expired
from monitor.settings import Settings, load_settings
from monitor.storage import make_engine, migrate

log = logging.getLogger(__name__)


@dataclass
class App:
    """One running practice-monitor: everything a job needs, passed explicitly."""

    settings: Settings
    policy: Policy
    policy_source: str
    engine: Engine
    classify: ClassifyFn
    notifiers: list[Notifier] = field(default_factory=list)
    clock: Clock = utcnow
    connectors: dict[str, Connector] = field(default_factory=dict)
    pauses: Pauses = field(default_factory=Pauses)

    def connector(self, account_name: str) -> Connector:
        """The connector of a configured account, built on first use."""
        if account_name not in self.connectors:
            spec = self.policy.account(account_name)
            if spec is None:
                raise ConnectorError(f"account {account_name!r} is no longer in the policy file", permanent=True)
            cls = load_connector_class(spec.source)
            self.connectors[account_name] = cls(
                AccountSpec(spec.name, spec.platform, dict(spec.options), self.settings.connector_settings())
            )
        return self.connectors[account_name]

    def poll(self, spec: AccountPolicy, stream: str) -> PollResult | None:
        """Poll one stream; a failure is recorded on the account (logged once) and not raised.

        A rate limit pauses the account until the platform's reset time; expired credentials pause it
        for a while and tell staff once. Other accounts keep running.
        """
        if self.pauses.active(spec.name, self.clock()):
            return None
        try:
            result = poll_stream(
                self.engine, self.policy, spec, stream, self.connector(spec.name), self.classify, self.clock
            )
        except ConnectorError as exc:
            self.pauses.after_error(spec.name, exc, self.clock())
            if record_outcome(self.engine, spec.name, exc, self.clock) and isinstance(exc, AuthExpired):
                self.notify_staff(f"practice-monitor: account {spec.name} needs attention", describe_error(exc))
            return None
        self.pauses.clear(spec.name)
        record_outcome(self.engine, spec.name, None, self.clock)
        if result.urgent_ids:
            self.deliver_alerts()
        return result

    def notify_staff(self, subject: str, text: str) -> None:
        """A notice (not tied to an item) to the alert recipients on every channel; failures are logged."""
        for notifier in self.notifiers:
            try:
                notifier.send_notice(subject, text, list(self.policy.alerts.recipients))
            except Exception as exc:
                log.error("notice %r not delivered by %s: %s", subject, notifier.name, exc)

    def dispatch(self) -> DispatchResult:
        """Post approved replies (see monitor.outbox)."""
        return dispatch(self.engine, self.connector, self.clock)

    def deliver_alerts(self) -> int:
        """Send due alerts (new ones, retries of failed ones) on every channel."""
        return deliver_pending_alerts(
            self.engine, self.notifiers, self.policy, self.clock, self.settings.monitor_staff_url
        )

    def escalate(self) -> list[int]:
        """Escalate unacknowledged urgent items, then send those alerts."""
        escalated = escalate_unacknowledged(self.engine, self.policy, self.clock)
        if escalated:
            self.deliver_alerts()
        return escalated

    def purge(self) -> int:
        """Apply the retention period."""
        return purge_expired(self.engine, self.policy.retention_days, self.clock)


def make_classifier(policy: Policy, *, semantic: bool = False) -> ClassifyFn:
    """The rules, taught the practice's name and clinicians' names; plus the semantic layer if asked.

    `semantic` (MONITOR_SEMANTIC=on) without the [semantic] extra installed is a configuration error
    at start, never a silent fall-back to rules only.
    """
    classifier = rules.Classifier(
        practice_names=[policy.practice_name],
        clinicians=policy.clinicians,
        crisis_sensitivity=policy.crisis_sensitivity,
    )
    if not semantic:
        return classifier.classify
    from rules.semantic import SemanticClassifier, SemanticUnavailable

    try:
        return SemanticClassifier(classifier.classify).classify
    except SemanticUnavailable as exc:
        raise ConfigError(f"MONITOR_SEMANTIC=on: {exc}") from None


def open_app(
    settings: Settings | None = None,
    *,
    notifiers: list[Notifier] | None = None,
    clock: Clock = utcnow,
    connectors: dict[str, Connector] | None = None,
) -> App:
    """Load settings and policy, open the database and apply migrations."""
    settings = settings or load_settings()
    required = "monitor_policy" in settings.model_fields_set
    policy, source = load_policy(settings.monitor_policy, required=required)
    engine = make_engine(settings.monitor_database_url, busy_timeout=settings.monitor_db_busy_timeout)
    migrate(engine)
    return App(
        settings=settings,
        policy=policy,
        policy_source=source,
        engine=engine,
        classify=make_classifier(policy, semantic=settings.monitor_semantic),
        notifiers=notifiers if notifiers is not None else default_notifiers(settings),
        clock=clock,
        connectors=dict(connectors or {}),
    )
