"""Pure parsing of RSS/Atom feeds into `mention` events (feedparser on bytes; no I/O, no clock).

Google Alerts quirks (PLATFORMS §4.4, verified on an Alerts-style Atom document): `entry.id` is a
stable tag URI (the dedupe key), titles carry `<b>` highlight markup, and links are
`https://www.google.com/url?...&url=<target>` redirects.
"""

from __future__ import annotations

import io
import re
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from html.parser import HTMLParser
from typing import Any
from urllib.parse import parse_qs, urlsplit

import feedparser

from connectors.base import IncomingEvent

GOOGLE_HOSTS = frozenset({"google.com", "www.google.com"})


@dataclass(frozen=True)
class ParsedEntry:
    """A feed entry as an event, plus its published time (None when the feed gives none)."""

    event: IncomingEvent
    published: datetime | None


class _TextOnly(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []

    def handle_data(self, data: str) -> None:
        self.parts.append(data)


def strip_markup(value: object) -> str:
    """Text without tags or entities, whitespace collapsed ("<b>Example</b> &amp; Co" -> "Example & Co")."""
    if not isinstance(value, str) or not value:
        return ""
    parser = _TextOnly()
    parser.feed(value)
    parser.close()
    return re.sub(r"\s+", " ", "".join(parser.parts)).strip()


def unwrap_google_redirect(link: str) -> str:
    """The target of a Google Alerts `https://www.google.com/url?...&url=<target>` link; others unchanged."""
    parts = urlsplit(link)
    if parts.hostname in GOOGLE_HOSTS and parts.path == "/url":
        query = parse_qs(parts.query)
        for key in ("url", "q"):
            target = (query.get(key) or [""])[0]
            if target.startswith(("https://", "http://")):
                return target
    return link


def parse_feed_bytes(data: bytes, content_type: str | None = None) -> Any:
    """feedparser's result for `data`.

    Wrapped in BytesIO because `feedparser.parse` given plain bytes first tries to open them as a
    file name (feedparser/api.py `_open_resource`; its docstring says to wrap untrusted input).
    """
    headers = {"content-type": content_type} if content_type else {}
    return feedparser.parse(io.BytesIO(data), response_headers=headers)


def is_harmless_defect(exc: object) -> bool:
    """feedparser's own class for defects that do not affect the entries (wrong declared charset or type)."""
    return isinstance(exc, feedparser.ThingsNobodyCaresAboutButMe)


def _when(entry: Mapping[str, Any], *keys: str) -> datetime | None:
    for key in keys:
        value = entry.get(key)
        if isinstance(value, time.struct_time):  # feedparser normalises to UTC
            return datetime(*value[:6], tzinfo=UTC)
    return None


def _text(entry: Mapping[str, Any]) -> str:
    """Title and summary (or content) as plain text; the summary is dropped when it repeats the title."""
    title = strip_markup(entry.get("title"))
    summary = strip_markup(entry.get("summary"))
    if not summary:
        content = entry.get("content")
        if isinstance(content, list) and content and isinstance(content[0], Mapping):
            summary = strip_markup(content[0].get("value"))
    if not summary or summary == title:
        return title
    return f"{title}\n{summary}" if title else summary


def parse_entry(entry: Mapping[str, Any], *, platform: str, fetched_at: datetime) -> ParsedEntry | None:
    """One entry as a `mention` on `platform` (the account's platform, e.g. "healthgrades").

    The id is `entry.id`; a plain RSS item without a guid falls back to its link. None when it has
    neither (the caller counts those). An entry without a date is dated `fetched_at`.
    """
    link = entry.get("link")
    url = unwrap_google_redirect(link) if isinstance(link, str) and link else None
    entry_id = entry.get("id")
    external_id = entry_id if isinstance(entry_id, str) and entry_id.strip() else url
    if not external_id:
        return None
    published = _when(entry, "published_parsed", "updated_parsed")
    author = entry.get("author")
    event = IncomingEvent(
        platform=platform,
        kind="mention",
        external_id=external_id.strip(),
        text=_text(entry),
        created_at=published or fetched_at,
        author_handle=author.strip() if isinstance(author, str) and author.strip() else None,
        url=url,
    )
    return ParsedEntry(event, published)


def parse_entries(parsed: Any, *, platform: str, fetched_at: datetime) -> tuple[list[ParsedEntry], int]:
    """(entries, number skipped for lack of an id and a link) of a feedparser result."""
    raw = parsed.get("entries")
    items: list[object] = raw if isinstance(raw, list) else []
    out = [parse_entry(e, platform=platform, fetched_at=fetched_at) if isinstance(e, Mapping) else None for e in items]
    entries = [p for p in out if p is not None]
    return entries, len(items) - len(entries)
