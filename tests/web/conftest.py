"""Fixtures for the staff page: a demo App with flagged items, three logins, signed-in test clients.

Helpers come as one `kit` fixture (tests/web has no package to import helpers from).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response

from monitor import staff, users
from monitor.app import App
from monitor.cycle import run_cycle
from monitor.storage import session_scope
from monitor.web import create_app

from support import AppFactory, FakeClock, event, items

#: argon2id with tiny costs: the real hasher takes a quarter of a second per check
CHEAP_HASHER = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)
PASSWORD = "correct horse battery"
CRISIS = "i want to kill myself tonight, i have it all planned"
ADMIN_ASK = "Can I move my appointment to next Tuesday?"
PUBLIC_CLINICAL = "Dr. Okafor has helped me so much with my panic attacks since I started seeing her."
REVIEW = "Kind front desk. Could I book a first appointment with a counselor for next week?"
CRISIS_AUTHOR = "crisis.author.invented"


def build_app(make_app: AppFactory) -> App:
    """Flagged items: a crisis DM, a scheduling comment, a public clinical comment, a review; 3 logins."""
    app = make_app(
        facebook=items(
            "comments",
            event("c1", ADMIN_ASK, minutes_ago=300),
            event("c2", PUBLIC_CLINICAL, minutes_ago=200),
            event("c3", "nice post", minutes_ago=100),
        ),
        instagram=items(
            "messages", event("m1", CRISIS, platform="instagram", kind="dm", minutes_ago=12, author=CRISIS_AUTHOR)
        ),
        google=items("reviews", event("r1", REVIEW, platform="google", kind="review", minutes_ago=500)),
    )
    run_cycle(app)
    with session_scope(app.engine) as s:
        for name, role in (("Dana", "staff"), ("Lee", "staff"), ("Ari", "admin")):
            users.add_user(s, CHEAP_HASHER, name, PASSWORD, role, "test", app.clock())
    return app


def csrf_of(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found, "the page has no CSRF field"
    return found.group(1)


def sign_in(client: TestClient, name: str, password: str = PASSWORD, **headers: str) -> Response:
    """Open the login page and post its form as a browser would."""
    page = client.get("/login")
    form = {"name": name, "password": password, "csrf_token": csrf_of(page.text)}
    return client.post("/login", data=form, headers=headers)


@dataclass
class Kit:
    """The App, its web app, and helpers to act as staff."""

    app: App
    web: FastAPI
    clock: FakeClock
    clients: list[TestClient] = field(default_factory=list)
    texts: tuple[str, ...] = (CRISIS, ADMIN_ASK, PUBLIC_CLINICAL, REVIEW, CRISIS_AUTHOR, "someone.invented")

    csrf_of = staticmethod(csrf_of)
    sign_in = staticmethod(sign_in)

    def client(self, base_url: str = "http://testserver") -> TestClient:
        """A fresh browser with no cookies."""
        client = TestClient(self.web, follow_redirects=False, base_url=base_url)
        client.__enter__()
        self.clients.append(client)
        return client

    def login(self, name: str, password: str = PASSWORD, base_url: str = "http://testserver") -> TestClient:
        client = self.client(base_url)
        response = sign_in(client, name, password)
        assert response.status_code == 303, response.text
        return client

    def item(self, platform: str, kind: str | None = None) -> int:
        with session_scope(self.app.engine) as s:
            return next(
                i.id for i in staff.list_queue(s, self.app.clock()) if i.platform == platform and kind in (None, i.kind)
            )

    def form(self, client: TestClient, item: int, **values: str) -> dict[str, str]:
        """The CSRF token and reply version as the item page shows them, plus `values`."""
        html = client.get(f"/items/{item}").text
        version = re.search(r'name="version" value="(\d+)"', html)
        return {"csrf_token": csrf_of(html), "version": version.group(1) if version else "0", **values}


@pytest.fixture
def kit(make_app: AppFactory, clock: FakeClock) -> Iterator[Kit]:
    app = build_app(make_app)
    made = Kit(app=app, web=create_app(app, hasher=CHEAP_HASHER, secret="test-secret"), clock=clock)
    yield made
    for client in made.clients:
        client.__exit__(None, None, None)
