"""Engine and session, scoped to the Flask application context.

SQLite is the embedded default and PostgreSQL (psycopg 3) the production
database; both get the same models and the same Alembic migrations.

JSON columns (the course's status facts, the triage digests' lists) are read
by orjson: the triage list decodes four of them per patient shown, the status
one per request. What orjson refuses (NaN, an integer beyond 64 bits) is read
by the standard library, as before; they are written as before.
"""

from __future__ import annotations

import json

import orjson
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, scoped_session, sessionmaker

# Every pooled SQLite connection gets these: WAL so readers never block the
# writer, foreign keys enforced (off by default in SQLite), and FULL so an
# acknowledged write survives a power cut, not only a process crash.
SQLITE_PRAGMAS = (
    ("journal_mode", "WAL"),
    ("foreign_keys", "ON"),
    ("synchronous", "FULL"),
    ("busy_timeout", "10000"),
)


def read_json(text: str):
    """A JSON column's value: orjson's reading, or the standard library's where orjson refuses."""
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return json.loads(text)


def make_engine(url: str, **options) -> Engine:
    """Create the engine for a database URL, with per-connection SQLite pragmas."""
    options.setdefault("json_deserializer", read_json)
    if make_url(url).get_backend_name() == "sqlite":
        engine = create_engine(url, **options)
        event.listen(engine, "connect", _apply_sqlite_pragmas)
        return engine
    engine = create_engine(url, pool_pre_ping=True, **options)
    event.listen(engine, "handle_error", _broken_connection_is_a_disconnect)
    return engine


def _broken_connection_is_a_disconnect(context) -> None:
    """psycopg marks a connection whose server went away as broken; any error raised on it
    (even a ProgrammingError for a result the dead server never sent) is a disconnect, so
    SQLAlchemy invalidates the connection and the error says `connection_invalidated`."""
    if context.is_disconnect or context.connection is None:
        return
    try:
        raw = context.connection.connection.dbapi_connection
    except Exception:  # noqa: BLE001 - already invalidated: SQLAlchemy knows
        return
    if getattr(raw, "broken", False):
        context.is_disconnect = True


def _apply_sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    for name, value in SQLITE_PRAGMAS:
        cursor.execute(f"PRAGMA {name}={value}")
    cursor.close()


def make_session_factory(engine: Engine, scopefunc) -> scoped_session[Session]:
    """A session registry keyed by `scopefunc` (the current app context)."""
    return scoped_session(
        sessionmaker(bind=engine, expire_on_commit=False, autoflush=True),
        scopefunc=scopefunc,
    )
