"""Storage on a real SQLite file: migrations equal the models, an append-only audit log, damaged and
locked databases give one clear line and lose nothing, events stored once, cursors only after commit.
"""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError, IntegrityError
from sqlmodel import Session, SQLModel, func, select

from connectors import AccountSpec
from connectors.demo import DemoConnector, DemoItem, load_bundled_items
from monitor import audit
from monitor.app import App, open_app
from monitor.cycle import run_cycle
from monitor.db import AuditEntry, Cursor, Detection, Event
from monitor.errors import DatabaseProblem
from monitor.pipeline import PollResult
from monitor.policy import example_policy_text, parse_policy
from monitor.settings import Settings
from monitor.storage import alembic_config, make_engine, migrate, session_scope
from rules import Detection as RulesDetection

from support import START, AppFactory, FakeClock, check_audit_texts_move_out_of_the_log, event, items

ADMIN = "Can I reschedule my appointment to Friday afternoon?"


def demo_event_count() -> int:
    """How many bundled demo events the built-in example policy's accounts and streams receive."""
    policy = parse_policy(example_policy_text(), "example")
    watched = {(a.platform, s) for a in policy.accounts for s in a.streams}
    return sum((i.event.platform, i.stream) in watched for i in load_bundled_items(START))


def count(app: App, model: type) -> int:
    with Session(app.engine) as s:
        return int(s.exec(select(func.count()).select_from(model)).one())


def cursor_value(app: App, stream: str) -> str | None:
    with Session(app.engine) as s:
        return s.exec(select(Cursor.value).where(Cursor.stream == stream)).first()


def monitor(*args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "monitor", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


# --- migrations


def test_migrations_build_exactly_the_models(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    migrate(engine)  # safe at every start
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, SQLModel.metadata) == []
        head = ScriptDirectory.from_config(alembic_config()).get_current_head()
        assert context.get_current_revision() == head
    engine.dispose()


def test_migration_moves_old_audit_reply_texts_where_retention_can_erase_them(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    check_audit_texts_move_out_of_the_log(engine)


# --- the audit log is evidence


@pytest.fixture
def audited(make_app: AppFactory) -> App:
    app = make_app()
    with session_scope(app.engine) as s:
        audit.record(s, at=START, actor="Dana", action="reply_approved", event_id=1, reply_id=1)
        s.commit()
    return app


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_log SET actor = 'someone else'", "DELETE FROM audit_log", "DELETE FROM audit_log WHERE id = 1"],
)
def test_audit_log_refuses_update_and_delete(audited: App, statement: str) -> None:
    with audited.engine.begin() as conn, pytest.raises(DatabaseError, match="append-only"):
        conn.execute(text(statement))
    with Session(audited.engine) as s:
        [entry] = s.exec(select(AuditEntry)).all()
        assert (entry.actor, entry.action) == ("Dana", "reply_approved")


def test_audit_edit_through_the_app_is_a_clear_refusal_not_a_damaged_database(audited: App) -> None:
    with pytest.raises(DatabaseProblem) as caught, session_scope(audited.engine) as s:
        entry = s.exec(select(AuditEntry)).one()
        entry.actor = "someone else"
        s.add(entry)
        s.commit()
    assert "append-only" in str(caught.value) and "nothing was changed" in str(caught.value)
    assert "damaged" not in str(caught.value)
    with session_scope(audited.engine) as s:  # appending still works
        audit.record(s, at=START, actor="Dana", action="reply_rejected", event_id=2)
        s.commit()
    assert count(audited, AuditEntry) == 2


# --- a damaged database


@pytest.fixture
def damaged_db(make_app: AppFactory, tmp_path: Path) -> Path:
    """A real monitor.db after a demo cycle, with every page but the first overwritten."""
    app = make_app()
    run_cycle(app)
    with app.engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    app.engine.dispose()
    path = tmp_path / "monitor.db"
    data = bytearray(path.read_bytes())
    data[4096:] = b"\xa5" * (len(data) - 4096)
    path.write_bytes(bytes(data))
    return path


def test_damaged_database_is_one_clear_line_and_left_as_it_was(damaged_db: Path, tmp_path: Path) -> None:
    before = damaged_db.read_bytes()
    for args in (["queue"], ["run", "--once"]):
        result = monitor(*args, cwd=tmp_path)
        assert result.returncode == 2, result
        assert "Traceback" not in result.stderr
        [line] = [x for x in result.stderr.splitlines() if x.startswith("error:")]
        assert "is damaged or is not a database" in line and "restore it from backup" in line
    assert damaged_db.read_bytes() == before  # never "repaired" by overwriting what is left


def test_a_file_that_is_no_database_at_all(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_bytes(b"This is a text file someone named .db by mistake.\n" * 100)
    with pytest.raises(DatabaseProblem, match=r"notes\.db is damaged or is not a database"):
        open_app(Settings(monitor_database_url=f"sqlite:///{path}"), notifiers=[])
    assert path.read_bytes() == b"This is a text file someone named .db by mistake.\n" * 100


# --- a locked database


@pytest.fixture
def write_lock(db_url: str) -> Iterator[sqlite3.Connection]:
    """Another program holding the write lock (BEGIN IMMEDIATE) on the test's database file."""
    engine = make_engine(db_url)
    migrate(engine)
    engine.dispose()
    other = sqlite3.connect(db_url.removeprefix("sqlite:///"), isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    yield other
    if other.in_transaction:
        other.execute("ROLLBACK")
    other.close()


def app_with_timeout(db_url: str, timeout: float, clock: FakeClock, demo_items: list[DemoItem]) -> App:
    app = open_app(Settings(monitor_database_url=db_url, monitor_db_busy_timeout=timeout), notifiers=[], clock=clock)
    for spec in app.policy.accounts:
        app.connectors[spec.name] = DemoConnector(AccountSpec(spec.name, spec.platform), items=demo_items, clock=clock)
    return app


def test_locked_database_fails_clearly_and_loses_nothing(
    db_url: str, clock: FakeClock, write_lock: sqlite3.Connection
) -> None:
    app = app_with_timeout(db_url, 0.2, clock, items("comments", event("c1"), event("c2", ADMIN)))
    spec = app.policy.account("demo-facebook")
    assert spec is not None
    started = time.monotonic()
    with pytest.raises(DatabaseProblem, match="locked by another program; nothing was changed"):
        app.poll(spec, "comments")
    assert time.monotonic() - started >= 0.15  # it waited for the busy timeout first
    write_lock.execute("ROLLBACK")
    assert count(app, Event) == 0 and cursor_value(app, "comments") is None
    result = app.poll(spec, "comments")  # the same page again: nothing was lost
    assert result is not None and result.new_events == 2
    assert cursor_value(app, "comments") == "2"
    app.engine.dispose()


def test_locked_database_is_waited_for_until_released(
    db_url: str, clock: FakeClock, write_lock: sqlite3.Connection
) -> None:
    app = app_with_timeout(db_url, 10, clock, items("comments", event("c1"), event("c2", ADMIN)))
    spec = app.policy.account("demo-facebook")
    assert spec is not None
    release = threading.Timer(0.3, lambda: write_lock.execute("ROLLBACK"))
    started = time.monotonic()
    release.start()
    result = app.poll(spec, "comments")
    release.join()
    assert 0.25 <= time.monotonic() - started < 5
    assert result is not None and result.new_events == 2
    assert count(app, Event) == 2
    app.engine.dispose()


def test_locked_database_via_the_command_then_the_next_run_catches_up(
    tmp_path: Path, write_lock: sqlite3.Connection
) -> None:
    locked = monitor("run", "--once", cwd=tmp_path, MONITOR_DB_BUSY_TIMEOUT="0.3")
    assert locked.returncode == 2 and "Traceback" not in locked.stderr
    assert locked.stderr.strip().splitlines()[-1].startswith("error: the database sqlite:///monitor.db is locked")
    write_lock.execute("ROLLBACK")
    after = monitor("run", "--once", cwd=tmp_path)
    assert after.returncode == 0, after.stderr
    bundled = demo_event_count()
    assert f"{bundled} new event(s)" in after.stdout


# --- each event stored once


def test_the_database_itself_refuses_a_second_copy_of_an_event(make_app: AppFactory) -> None:
    app = make_app(facebook=items("comments", event("c1")))
    run_cycle(app)
    with Session(app.engine) as s:
        stored = s.exec(select(Event)).one()
        copy = Event(**stored.model_dump(exclude={"id"}))
        s.add(copy)
        with pytest.raises(IntegrityError, match="UNIQUE"):
            s.commit()


def test_a_page_that_repeats_an_event_stores_it_once(make_app: AppFactory) -> None:
    app = make_app(facebook=items("comments", event("c1", ADMIN), event("c1", ADMIN), event("c2")))
    report = run_cycle(app)
    assert (report.new_events, report.seen_before) == (2, 1)
    assert count(app, Event) == 2 and count(app, Detection) == 2


def test_the_key_is_platform_account_kind_and_external_id(make_app: AppFactory) -> None:
    """The same external id under another kind or on another account is another event."""
    app = make_app(
        facebook=[
            *items("comments", event("42")),
            *items("messages", event("42", kind="dm")),
        ],
        instagram=items("comments", event("42", platform="instagram")),
    )
    run_cycle(app)
    with Session(app.engine) as s:
        keys = sorted((e.platform, e.account_id, e.kind) for e in s.exec(select(Event)).all())
    assert [k[0::2] for k in keys] == [("facebook", "comment"), ("facebook", "dm"), ("instagram", "comment")]
    assert len({k[1] for k in keys}) == 2
    for spec in app.policy.accounts:  # a lost cursor: every page again
        for stream in spec.streams:
            with Session(app.engine) as s:
                for row in s.exec(select(Cursor)).all():
                    s.delete(row)
                s.commit()
            app.poll(spec, stream)
    assert count(app, Event) == 3


def test_first_polls_of_a_new_account_at_the_same_moment_all_succeed(make_app: AppFactory) -> None:
    """The daemon starts every stream's job at once; they race to create the account's row."""
    app = make_app(facebook=[*items("comments", event("c1")), *items("messages", event("m1", ADMIN, kind="dm"))])
    spec = app.policy.account("demo-facebook")
    assert spec is not None
    gate = threading.Barrier(len(spec.streams))
    results: dict[str, object] = {}

    def poll(stream: str) -> None:
        gate.wait(5)
        try:
            results[stream] = app.poll(spec, stream)
        except Exception as exc:
            results[stream] = exc

    workers = [threading.Thread(target=poll, args=(stream,)) for stream in spec.streams]
    for w in workers:
        w.start()
    for w in workers:
        w.join(10)
    assert all(isinstance(r, PollResult) for r in results.values()), results
    assert count(app, Event) == 2


# --- cursors move only with committed events


def test_failure_while_storing_leaves_the_cursor_and_the_page_for_next_time(make_app: AppFactory) -> None:
    app = make_app(facebook=items("comments", event("c1"), event("c2", ADMIN), event("c3")))
    spec = app.policy.account("demo-facebook")
    assert spec is not None
    real = app.classify
    seen: list[str] = []

    def breaks_on_the_second(text: str, *, kind: str = "comment", platform: str = "") -> RulesDetection:
        seen.append(text)
        if len(seen) == 2:
            raise RuntimeError("classifier crashed half-way through the page")
        return real(text, kind=kind, platform=platform)

    app.classify = breaks_on_the_second
    with pytest.raises(RuntimeError, match="half-way"):
        app.poll(spec, "comments")
    assert cursor_value(app, "comments") is None
    assert count(app, Event) == 0 and count(app, Detection) == 0  # the first event was rolled back too

    app.classify = real
    result = app.poll(spec, "comments")
    assert result is not None and result.new_events == 3
    assert cursor_value(app, "comments") == "3"
    assert count(app, Detection) == 3  # no event was left stored but never classified
