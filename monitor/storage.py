"""Engine creation, migrations at start-up, and turning database failures into clear errors."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from importlib import resources
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import event as sa_event
from sqlalchemy.engine import Engine
from sqlalchemy.exc import ArgumentError, DatabaseError, OperationalError
from sqlalchemy.pool import NullPool
from sqlmodel import Session, create_engine

from monitor.errors import DatabaseProblem


def make_engine(url: str, *, busy_timeout: float = 5.0) -> Engine:
    """An engine for `url`. SQLite gets WAL, a busy timeout and foreign keys, one connection per use."""
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": busy_timeout}, poolclass=NullPool)
            sa_event.listen(engine, "connect", _sqlite_pragmas)
            return engine
        return create_engine(url, pool_pre_ping=True)
    except (ArgumentError, ImportError) as exc:
        raise DatabaseProblem(
            f"MONITOR_DATABASE_URL is not usable: {exc} — for example: MONITOR_DATABASE_URL=sqlite:///monitor.db "
            "or postgresql+psycopg://monitor@localhost/monitor"
        ) from None


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def alembic_config() -> Config:
    """Alembic settings pointing at the migrations shipped inside the package."""
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("monitor").joinpath("migrations")))
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema up to date; safe to run at every start."""
    with guard(engine), engine.begin() as conn:
        cfg = alembic_config()
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, "head")


def describe_url(engine: Engine) -> str:
    """The database URL without its password, for messages."""
    return engine.url.render_as_string(hide_password=True)


@contextmanager
def guard(engine: Engine) -> Iterator[None]:
    """Turn driver errors into DatabaseProblem with a sentence the IT person can act on."""
    try:
        yield
    except OperationalError as exc:
        text = str(exc.orig).lower()
        where = describe_url(engine)
        if "locked" in text or "busy" in text:
            raise DatabaseProblem(
                f"the database {where} is locked by another program; nothing was changed, try again "
                "(raise MONITOR_DB_BUSY_TIMEOUT if this keeps happening)"
            ) from None
        reason = " ".join(str(exc.orig).split())  # one line: PostgreSQL's connection errors span several
        raise DatabaseProblem(f"cannot use the database {where} (MONITOR_DATABASE_URL): {reason}") from None
    except DatabaseError as exc:
        reason = str(exc.orig).strip().partition("\n")[0]  # PostgreSQL adds DETAIL/CONTEXT lines
        # SQLite reports a damaged file as a plain DatabaseError; subclasses (IntegrityError, DataError,
        # InternalError from a trigger) are a refused change, e.g. an edit of the append-only audit log.
        if type(exc) is DatabaseError or any(w in reason.lower() for w in ("malformed", "not a database", "corrupt")):
            raise DatabaseProblem(
                f"the database {describe_url(engine)} is damaged or is not a database ({reason}); "
                "restore it from backup or point MONITOR_DATABASE_URL at a new file"
            ) from None
        raise DatabaseProblem(
            f"the database {describe_url(engine)} refused a change ({reason}); nothing was changed"
        ) from None


def begin_write(session: Session) -> None:
    """Open the session's unit of work as one real transaction before anything else runs in it.

    SQLite's driver only sends BEGIN before an INSERT/UPDATE, so a SAVEPOINT issued first opens a
    transaction of its own whose RELEASE commits at once: half a page would be committed without its
    detections or cursor. BEGIN IMMEDIATE also takes the write lock up front, waiting the busy timeout.
    """
    conn = session.connection()
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("BEGIN IMMEDIATE")


@contextmanager
def session_scope(engine: Engine) -> Iterator[Session]:
    """One session per unit of work; database errors become DatabaseProblem."""
    with guard(engine), Session(engine) as session:
        yield session
