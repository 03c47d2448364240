"""The contract every connector in REGISTRY keeps, checked the same way for all (table-driven).

Only checks that truly apply to every source: read-only behaviour, posting and pagination are tested
per connector. An entry whose module does not import yet (another engineer is still writing it) is
skipped with the reason, never silently passed; test_boundaries still fails the build for it.
"""

from __future__ import annotations

import inspect
import re
from collections.abc import Iterator
from typing import Any

import pytest
import responses

from connectors import REGISTRY, AccountSpec, ConnectorError, load_connector_class
from connectors.base import PLATFORMS
from monitor.settings import PLATFORM_PREFIXES, Settings

#: Sources that need no settings or options at all (constructing them from an empty spec succeeds).
NEEDS_NOTHING = frozenset({"demo"})

#: Every platform setting the app may hand over (`Settings.connector_settings()` keys), each with a
#: distinct secret-looking value that must never appear in an error message or a repr.
CANARIES: dict[str, str] = {
    name: f"canary-{name.replace('_', '-')}-7f3a9c"
    for name in Settings.model_fields
    if name.split("_")[0] in PLATFORM_PREFIXES
}

#: Options that let each connector be constructed without a network call (ids and addresses only;
#: connectors ignore options they do not use). Add a new connector's required options here.
PLAUSIBLE_OPTIONS: dict[str, object] = {
    "account_id": "1001",
    "location_id": "2002",
    "business_id": "example-business",
    "url": "https://feeds.example.invalid/alerts.xml",
    "page_id": "1234567890",
    "ig_user_id": "17841400000000000",
    "instagram_account_id": "17841400000000000",
    "user_id": "2244994945",
    "username": "example_practice",
    "subreddits": "example",
    "query": "Example Counseling",
}

PROTOCOL: dict[str, tuple[object, ...]] = {
    "fetch": ("stream", None),
    "post_reply": ("event", "text"),
    "find_reply": ("event", "text"),
    "check_auth": (),
}


def platform_for(source: str) -> str:
    return source if source in PLATFORMS else "rss"


def connector_class(source: str) -> Any:
    """The registered class, or a skip naming the module that does not import yet."""
    try:
        return load_connector_class(source)
    except (ImportError, AttributeError) as exc:
        pytest.skip(f"{source}: {REGISTRY[source]} does not import yet ({type(exc).__name__}: {exc})")


@pytest.fixture(autouse=True)
def no_network() -> Iterator[responses.RequestsMock]:
    """Nothing here may reach the network: unregistered requests fail (and are counted)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def assert_no_canary(text: str) -> None:
    leaked = [name for name, value in CANARIES.items() if value in text]
    assert leaked == [], f"secret value(s) of {leaked} appear in {text!r}"


SOURCES = sorted(REGISTRY)


@pytest.mark.parametrize("source", SOURCES)
def test_name_and_streams(source: str) -> None:
    cls = connector_class(source)
    assert cls.name == source
    assert isinstance(cls.streams, tuple) and cls.streams
    assert all(isinstance(s, str) and s for s in cls.streams)
    assert len(set(cls.streams)) == len(cls.streams)


@pytest.mark.parametrize("source", SOURCES)
def test_protocol_methods(source: str) -> None:
    cls = connector_class(source)
    for method, args in PROTOCOL.items():
        function = getattr(cls, method, None)
        assert callable(function), f"{source} lacks {method}()"
        inspect.signature(function).bind(object(), *args)  # callable as the Protocol calls it


@pytest.mark.parametrize("source", SOURCES)
def test_an_empty_spec_is_a_permanent_error_naming_what_to_set(source: str) -> None:
    cls = connector_class(source)
    spec = AccountSpec("contract", platform_for(source))
    if source in NEEDS_NOTHING:
        cls(spec)
        return
    with pytest.raises(ConnectorError) as err:
        cls(spec)
    assert err.value.permanent, f"{source}: a missing setting or option must be a permanent error"
    assert re.search(r"\b[A-Z][A-Z0-9]*_[A-Z0-9_]+\b|option", str(err.value)), (
        f"{source}: the message should name the .env variable or policy option to set: {err.value}"
    )


@pytest.mark.parametrize("source", SOURCES)
def test_missing_options_never_echo_the_secrets_given(source: str, no_network: responses.RequestsMock) -> None:
    """All secrets present, options absent: whatever happens, no secret value leaks."""
    cls = connector_class(source)
    try:
        connector = cls(AccountSpec("contract", platform_for(source), {}, dict(CANARIES)))
    except ConnectorError as exc:
        assert exc.permanent
        assert_no_canary(f"{exc} {exc!r} {exc.args!r}")
    else:
        assert_no_canary(f"{connector!r} {connector!s}")
    assert len(no_network.calls) == 0, f"{source}: the constructor made a network call"


@pytest.mark.parametrize("source", SOURCES)
def test_unknown_stream_is_refused_before_any_request(source: str, no_network: responses.RequestsMock) -> None:
    cls = connector_class(source)
    try:
        connector = cls(AccountSpec("contract", platform_for(source), dict(PLAUSIBLE_OPTIONS), dict(CANARIES)))
    except ConnectorError as exc:
        pytest.skip(f"{source}: cannot be built from PLAUSIBLE_OPTIONS ({exc}); add its required options there")
    assert_no_canary(f"{connector!r} {connector!s}")
    with pytest.raises(ConnectorError) as err:
        connector.fetch("no-such-stream", None)
    assert err.value.permanent
    assert_no_canary(str(err.value))
    assert len(no_network.calls) == 0, f"{source}: an unknown stream should be refused without a request"
