"""The databases: SQLite pragmas on every connection, and a schema made only by migrations."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import inspect, text

from storage import migrate
from storage.db import make_engine
from storage.models import Base


def test_every_pooled_sqlite_connection_has_wal_foreign_keys_and_full_sync(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'pragmas.db'}", pool_size=3, max_overflow=0)
    connections = [engine.connect() for _ in range(3)]
    try:
        for connection in connections:
            assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
            assert connection.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL
    finally:
        for connection in connections:
            connection.close()
        engine.dispose()


def test_the_app_engine_enforces_foreign_keys(app):
    engine = app.extensions["database"].engine
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert "users" in inspect(connection).get_table_names()


def test_the_migrated_schema_matches_the_models(app):
    """The database the tests run on was built by Alembic alone; nothing differs from the models."""
    engine = app.extensions["database"].engine
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_migrations_go_down_and_up_again(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'roundtrip.db'}")
    try:
        migrate.upgrade(engine)
        migrate.downgrade(engine, "base")
        assert set(inspect(engine).get_table_names()) <= {"alembic_version"}
        migrate.upgrade(engine)
        assert {table.name for table in Base.metadata.sorted_tables} <= set(
            inspect(engine).get_table_names())
    finally:
        engine.dispose()
