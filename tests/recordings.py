"""Replays the HTTP recordings in ../shared/api_recordings/ through `responses` (read in place, never copied).

Two formats: tweepy's vcrpy YAML cassettes (bodies often gzip `!!binary`) and praw's JSON cassettes
(betamax-era layout, kept by the vcrpy-era suite). Both become plain `responses` registrations so a
test drives the real library (tweepy, praw/prawcore) over the real `requests` stack and can still
assert on the exact requests sent (`rsps.calls`).

Why not vcrpy's own playback for the YAML: a cassette recorded under urllib3 1.x replays its gzip body
undecoded under urllib3 2.x (kevin1024/vcrpy#942), so the body is decompressed here instead.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import responses
import yaml

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "api_recordings"
_DROP = {"content-encoding", "content-length", "transfer-encoding", "set-cookie", "content-type"}


@dataclass(frozen=True)
class Interaction:
    """One recorded request/response pair."""

    method: str
    url: str  # without the query string: replay matches method and path, as praw's suite does
    request_body: str | None
    status: int
    headers: dict[str, str]
    content_type: str
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


def _strip_query(uri: str) -> str:
    parts = urlsplit(uri)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _interaction(raw: Mapping[str, Any]) -> Interaction:
    request, response = raw["request"], raw["response"]
    headers = {k.lower(): (v[0] if isinstance(v, list) else v) for k, v in response.get("headers", {}).items()}
    body: Any = response["body"]
    if isinstance(body, Mapping):
        body = body.get("string", "")
    data = body if isinstance(body, bytes) else str(body).encode()
    if headers.get("content-encoding") == "gzip" and data[:2] == b"\x1f\x8b":
        data = gzip.decompress(data)
    request_body = request.get("body")
    if isinstance(request_body, Mapping):
        request_body = request_body.get("string")
    return Interaction(
        method=request["method"].upper(),
        url=_strip_query(request["uri"]),
        request_body=request_body.decode() if isinstance(request_body, bytes) else request_body,
        status=int(response["status"]["code"]),
        headers={k: str(v) for k, v in headers.items() if k not in _DROP},
        content_type=headers.get("content-type", "application/json"),
        body=data,
    )


def load(relative: str) -> list[Interaction]:
    """The interactions of `tweepy/NAME.yaml` or `praw/NAME.json`, in recorded order."""
    path = SHARED / relative
    text = path.read_text("utf-8")
    raw = yaml.safe_load(text) if path.suffix == ".yaml" else json.loads(text)
    return [_interaction(i) for i in raw.get("interactions") or raw.get("http_interactions") or []]


def register(
    rsps: responses.RequestsMock,
    interactions: list[Interaction],
    *,
    at: Mapping[str, str] | None = None,
    only: tuple[str, ...] = (),
) -> None:
    """Serve `interactions` in order. `at` moves a recorded path to the one the connector asks for
    (e.g. the unread listing's body served as the inbox listing: the same Listing of the same items).
    `only` keeps the interactions whose path ends with one of those suffixes."""
    for item in interactions:
        path = urlsplit(item.url).path
        if only and not path.endswith(only):
            continue
        url = item.url
        for old, new in (at or {}).items():
            if path == old:
                url = url.replace(old, new)
        rsps.add(
            item.method, url, body=item.body, status=item.status, headers=item.headers, content_type=item.content_type
        )
