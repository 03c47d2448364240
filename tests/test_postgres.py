"""The same guarantees on a real PostgreSQL server, in a throwaway database made for this module.

Skipped (with the reason) when nothing listens on 127.0.0.1:5432. Trust authentication is expected for
the `postgres` or `root` role, as on the CI machine.
"""

from __future__ import annotations

import secrets
import socket
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DatabaseError
from sqlmodel import Session, SQLModel, col, func, select

from connectors import AccountSpec, IncomingEvent
from connectors.demo import DemoConnector, DemoItem, load_bundled_items
from monitor import audit, staff
from monitor.app import App, open_app
from monitor.cycle import run_cycle
from monitor.db import Account, AuditEntry, Cursor, Detection, Event, Reply
from monitor.errors import DatabaseProblem
from monitor.outbox import _claim
from monitor.policy import example_policy_text, parse_policy
from monitor.settings import Settings
from monitor.storage import alembic_config, make_engine, migrate, session_scope
from rules import Classifier

from support import START, FakeClock, RecordingNotifier, check_audit_texts_move_out_of_the_log, event, items

pytestmark = pytest.mark.postgres

HOST, PORT = "127.0.0.1", 5432
ASK = "What should I do about my sister's drinking? Can you help me?"


def _reachable() -> bool:
    try:
        socket.create_connection((HOST, PORT), timeout=0.5).close()
    except OSError:
        return False
    return True


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    """A new database pm_test_<random>, migrated once, dropped at the end of the module."""
    if not _reachable():
        pytest.skip(f"PostgreSQL is not reachable at {HOST}:{PORT}")
    psycopg = pytest.importorskip("psycopg")
    admin, user = None, ""
    for user in ("postgres", "root"):
        try:
            admin = psycopg.connect(host=HOST, port=PORT, user=user, dbname="test", autocommit=True, connect_timeout=3)
            break
        except psycopg.OperationalError:
            continue
    if admin is None:
        pytest.skip(f"cannot log in to PostgreSQL at {HOST}:{PORT} as postgres or root (trust auth expected)")
    name = f"pm_test_{secrets.token_hex(4)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://{user}@{HOST}:{PORT}/{name}"
    try:
        engine = make_engine(url)
        migrate(engine)
        engine.dispose()
        yield url
    finally:
        admin.execute(f'DROP DATABASE "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture
def pg(pg_url: str) -> str:
    """The module's database with every table emptied (as a superuser, with triggers off for this session)."""
    engine = make_engine(pg_url)
    tables = ", ".join(f'"{t.name}"' for t in SQLModel.metadata.sorted_tables)
    with engine.begin() as conn:
        conn.exec_driver_sql("SET LOCAL session_replication_role = replica")
        conn.exec_driver_sql(f"TRUNCATE {tables} RESTART IDENTITY CASCADE")
    engine.dispose()
    return pg_url


@pytest.fixture
def pg_apps(pg: str) -> Iterator[Callable[..., App]]:
    """Apps on the PostgreSQL database; `demo_items=None` replays the bundled demo events."""
    made: list[App] = []

    def factory(demo_items: list[DemoItem] | None = None, clock: FakeClock | None = None) -> App:
        clock = clock or FakeClock()
        app = open_app(Settings(monitor_database_url=pg), notifiers=[RecordingNotifier()], clock=clock)
        if demo_items is not None:
            for spec in app.policy.accounts:
                spec_ = AccountSpec(spec.name, spec.platform)
                app.connectors[spec.name] = DemoConnector(spec_, items=demo_items, clock=clock)
        made.append(app)
        return app

    yield factory
    for app in made:
        app.engine.dispose()


def watched_demo_items() -> list[DemoItem]:
    """The bundled demo items that the built-in example policy's accounts and streams receive."""
    policy = parse_policy(example_policy_text(), "example")
    watched = {(a.platform, s) for a in policy.accounts for s in a.streams}
    return [i for i in load_bundled_items(START) if (i.event.platform, i.stream) in watched]


def demo_event_count() -> int:
    return len(watched_demo_items())


def demo_crisis_count() -> int:
    """How many of those events the current rules call a crisis (the oracle is the classifier itself:
    this test is about storing and posting once, not about detection quality)."""
    policy = parse_policy(example_policy_text(), "example")
    classifier = Classifier(practice_names=[policy.practice_name], clinicians=policy.clinicians)
    found = [
        classifier.classify(str(i.event.text), kind=i.event.kind, platform=i.event.platform)
        for i in watched_demo_items()
    ]
    return sum("crisis" in f.labels for f in found)


def count(engine: Engine, model: type) -> int:
    with Session(engine) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def wait_for_a_blocked_session(engine: Engine, timeout: float = 5.0) -> None:
    """Until another session of this database waits on a lock (so the interleaving is certain)."""
    deadline = time.monotonic() + timeout
    query = text(
        "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    while time.monotonic() < deadline:
        with engine.connect() as conn:
            if conn.execute(query).scalar_one():
                return
        time.sleep(0.02)
    raise AssertionError("the other session never blocked")


def test_migrations_build_exactly_the_models(pg: str) -> None:
    engine = make_engine(pg)
    migrate(engine)  # already at head: nothing to do
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
        assert context.get_current_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()
    engine.dispose()


def test_migration_moves_old_audit_reply_texts_where_retention_can_erase_them(pg: str) -> None:
    engine = make_engine(pg)
    check_audit_texts_move_out_of_the_log(engine)
    engine.dispose()


def test_audit_log_is_append_only(pg: str) -> None:
    engine = make_engine(pg)
    with session_scope(engine) as s:
        audit.record(s, at=START, actor="Dana", action="reply_approved", event_id=1)
        s.commit()
    for statement in (
        "UPDATE audit_log SET actor = 'someone else'",
        "DELETE FROM audit_log",
        "TRUNCATE audit_log CASCADE",
    ):
        with engine.begin() as conn, pytest.raises(DatabaseError, match="append-only"):
            conn.execute(text(statement))
    with pytest.raises(DatabaseProblem) as caught, session_scope(engine) as s:
        entry = s.exec(select(AuditEntry)).one()
        entry.actor = "someone else"
        s.add(entry)
        s.commit()
    message = str(caught.value)
    assert "refused a change (audit_log is append-only); nothing was changed" in message
    assert "\n" not in message and "damaged" not in message
    with Session(engine) as s:
        assert s.exec(select(AuditEntry.actor)).all() == ["Dana"]
    engine.dispose()


def test_demo_cycle_stores_each_event_once_and_posts_once(pg_apps: Callable[..., App]) -> None:
    app = pg_apps()
    bundled = demo_event_count()
    first = run_cycle(app)
    assert first.new_events == bundled and not first.failed_streams
    assert len(first.urgent_ids) == demo_crisis_count() >= 1
    assert run_cycle(app).new_events == 0

    restarted = pg_apps()  # a new process: new demo connectors, cursors lost as well
    with Session(restarted.engine) as s:
        for row in s.exec(select(Cursor)).all():
            s.delete(row)
        s.commit()
    again = run_cycle(restarted)
    assert (again.new_events, again.seen_before) == (0, bundled)
    assert count(app.engine, Event) == bundled == count(app.engine, Detection)

    with session_scope(restarted.engine) as s:
        item = next(i for i in staff.list_queue(s, restarted.clock()) if i.state == "queued" and not i.urgent)
        staff.approve(s, restarted.policy, item.id, "Dana", restarted.clock())
    assert restarted.dispatch().sent == [item.id]
    assert restarted.dispatch().sent == []
    with Session(app.engine) as s:
        assert s.exec(select(Reply.state).where(Reply.event_id == item.id)).one() == "sent"


def test_nul_characters_are_stored_without_failing_the_page(pg_apps: Callable[..., App]) -> None:
    """PostgreSQL refuses NUL in text columns; a NUL in text, id or handle must not block the stream."""
    nul = IncomingEvent(
        platform="facebook",
        kind="comment",
        external_id="c\x001",
        text="Can I reschedule\x00 my appointment to Friday afternoon?",
        created_at=START,
        author_handle="some\x00one.invented",
        url="https://demo.invalid/c\x001",
        parent_id="post\x007",
    )
    app = pg_apps(items("comments", nul, event("c2")))
    report = run_cycle(app)
    assert report.new_events == 2 and not report.failed_streams
    with Session(app.engine) as s:
        stored = s.exec(select(Event).where(Event.external_id == "c1")).one()
        assert stored.text == "Can I reschedule my appointment to Friday afternoon?"
        assert (stored.author_handle, stored.url, stored.parent_id) == (
            "someone.invented",
            "https://demo.invalid/c1",
            "post7",
        )
        assert "admin_request" in s.exec(select(Detection.labels).where(Detection.event_id == stored.id)).one()
        for row in s.exec(select(Cursor)).all():
            s.delete(row)
        s.commit()
    assert run_cycle(app).new_events == 0  # the cleaned id is still recognised on the next poll
    assert count(app.engine, Event) == 2


def test_event_stored_by_another_process_mid_poll_is_counted_once(pg_apps: Callable[..., App]) -> None:
    """Two processes polling the same page: the loser's insert waits, then meets the unique key."""
    app = pg_apps(items("comments", event("c1"), event("c2")))
    spec = app.policy.account("demo-facebook")
    assert spec is not None
    app.poll(spec, "messages")  # creates the account row
    with Session(app.engine) as s:
        account_id = s.exec(select(Account.id).where(Account.name == "demo-facebook")).one()
    other = app.engine.connect()
    other.begin()
    other.execute(
        text(
            "INSERT INTO event (platform, account_id, kind, external_id, text, created_at, fetched_at, urgent) "
            "VALUES ('facebook', :a, 'comment', 'c1', 'x', now(), now(), false)"
        ),
        {"a": account_id},
    )
    results: list[Any] = []
    poller = threading.Thread(target=lambda: results.append(app.poll(spec, "comments")))
    poller.start()
    try:
        wait_for_a_blocked_session(app.engine)
    finally:
        other.commit()
        other.close()
        poller.join(10)
    [result] = results
    assert (result.new_events, result.seen_before) == (1, 1)
    assert count(app.engine, Event) == 2
    assert count(app.engine, Detection) == 1  # only the event this poll stored was classified here


def test_account_created_by_another_job_at_the_same_moment(pg_apps: Callable[..., App]) -> None:
    """The daemon starts all of an account's streams at once; the one that loses the race still polls."""
    app = pg_apps(items("comments", event("c1")))
    spec = app.policy.account("demo-facebook")
    assert spec is not None
    other = app.engine.connect()
    other.begin()
    other.execute(
        text(
            "INSERT INTO account (name, platform, source, created_at) "
            "VALUES ('demo-facebook', 'facebook', 'demo', now())"
        )
    )
    results: list[Any] = []
    poller = threading.Thread(target=lambda: results.append(app.poll(spec, "comments")))
    poller.start()
    try:
        wait_for_a_blocked_session(app.engine)
    finally:
        other.commit()
        other.close()
        poller.join(10)
    [result] = results
    assert result is not None and result.new_events == 1
    assert count(app.engine, Account) == 1


def approved_reply(pg_apps: Callable[..., App]) -> tuple[App, int]:
    app = pg_apps(items("messages", event("m1", ASK, kind="dm")))
    run_cycle(app)
    with session_scope(app.engine) as s:
        [item] = [i for i in staff.list_queue(s, app.clock()) if i.state == "queued"]
        staff.approve(s, app.policy, item.id, "Dana", app.clock())
    with Session(app.engine) as s:
        reply_id = s.exec(select(Reply.id)).one()
    assert reply_id is not None
    return app, reply_id


def test_concurrent_claims_of_one_reply_only_one_wins(pg_apps: Callable[..., App]) -> None:
    """The second claimer waits for the first one's row lock, re-checks `state`, and gets nothing."""
    app, reply_id = approved_reply(pg_apps)
    first = app.engine.connect()
    first.begin()
    won = first.execute(
        update(Reply).where(col(Reply.id) == reply_id, col(Reply.state) == "approved").values(state="sending")
    )
    assert won.rowcount == 1  # type: ignore[attr-defined]
    second: list[bool] = []
    claimer = threading.Thread(target=lambda: second.append(_claim(app.engine, reply_id, app.clock())))
    claimer.start()
    try:
        wait_for_a_blocked_session(app.engine)
    finally:
        first.commit()
        first.close()
        claimer.join(10)
    assert second == [False]


def test_two_dispatchers_at_once_post_once(pg_apps: Callable[..., App]) -> None:
    app, _ = approved_reply(pg_apps)
    twin = pg_apps([])
    posted: list[str] = []
    gate = threading.Barrier(2)

    class Slow(DemoConnector):
        def post_reply(self, event: IncomingEvent, text: str) -> str:
            posted.append(event.external_id)
            time.sleep(0.2)  # the other dispatcher runs while this post is "in flight"
            return f"reply-{len(posted)}"

    shared = Slow(AccountSpec("demo-facebook", "facebook"), items=[])
    app.connectors["demo-facebook"] = twin.connectors["demo-facebook"] = shared

    def run(which: App) -> None:
        gate.wait(5)
        which.dispatch()

    workers = [threading.Thread(target=run, args=(a,)) for a in (app, twin)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(10)
    assert posted == ["m1"]
    with Session(app.engine) as s:
        assert s.exec(select(Reply.state)).one() == "sent"
