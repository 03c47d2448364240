"""Sources of events. REGISTRY maps a source name to its class, imported only when used."""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import cast

from connectors.base import (
    AccountSpec,
    AuthExpired,
    CanHide,
    CannotVerify,
    Connector,
    ConnectorError,
    IncomingEvent,
    Page,
    RateLimited,
)

#: source name -> "module:Class". Lazy so that a practice without, say, praw installed can still run.
REGISTRY: dict[str, str] = {
    "demo": "connectors.demo:DemoConnector",
    "google": "connectors.google_reviews:GoogleReviewsConnector",
    "yelp": "connectors.yelp:YelpConnector",
    "rss": "connectors.rss:RssConnector",
    "facebook": "connectors.facebook:FacebookPageConnector",
    "instagram": "connectors.instagram:InstagramConnector",
    "x": "connectors.x:XConnector",
    "reddit": "connectors.reddit:RedditConnector",
}


def load_connector_class(source: str) -> Callable[[AccountSpec], Connector]:
    """Import and return the connector class registered as `source`."""
    try:
        target = REGISTRY[source]
    except KeyError:
        known = ", ".join(sorted(REGISTRY))
        raise ConnectorError(f"unknown source {source!r}; known sources: {known}", permanent=True) from None
    module_name, _, class_name = target.partition(":")
    module = importlib.import_module(module_name)
    return cast(Callable[[AccountSpec], Connector], getattr(module, class_name))


__all__ = [
    "REGISTRY",
    "AccountSpec",
    "AuthExpired",
    "CanHide",
    "CannotVerify",
    "Connector",
    "ConnectorError",
    "IncomingEvent",
    "Page",
    "RateLimited",
    "load_connector_class",
]
