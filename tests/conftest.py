"""Fixtures: an app on a fresh database per test, clients, users and tokens.

SQLite always; PostgreSQL instead when TEST_DATABASE_URL is set (and then a
database that cannot be reached is an error, never a skip). The schema comes
from the Alembic migrations, applied once per run; each test then starts from
an empty copy (SQLite: a copy of the migrated file; PostgreSQL: truncation).
"""

from __future__ import annotations

import itertools
import os
import shutil
from contextlib import contextmanager

import pytest
from sqlalchemy import event, text

from api import create_app
from api.config import Config
from storage import migrate
from storage.db import make_engine
from storage.models import Base

PASSWORD = "correct horse battery staple"
_emails = itertools.count(1)


def pytest_report_header(config):
    return f"database: {'postgresql' if os.environ.get('TEST_DATABASE_URL') else 'sqlite'}"


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory):
    """The migrated template: an SQLite file, or the PostgreSQL database itself."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        engine = make_engine(url)
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        migrate.upgrade(engine)
        engine.dispose()
        return url
    template = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{template}")
    migrate.upgrade(engine)
    engine.dispose()
    return template


@pytest.fixture
def database_url(migrated_database, tmp_path) -> str:
    if isinstance(migrated_database, str):
        engine = make_engine(migrated_database)
        tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
        with engine.begin() as connection:
            connection.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
        return migrated_database
    copy = tmp_path / "test.db"
    shutil.copyfile(migrated_database, copy)
    return f"sqlite:///{copy}"


@pytest.fixture
def app(database_url, tmp_path):
    class TestConfig(Config):
        TESTING = True
        DATABASE_URL = database_url
        PHOTO_DIR = str(tmp_path / "photos")
        RATELIMIT_STORAGE_URI = "memory://"
        SECRET_KEY = "test"

    app = create_app(TestConfig)
    yield app
    app.extensions["database"].engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


class Caller:
    """A registered user and their token, with JSON shortcuts on the test client."""

    def __init__(self, client, token: str, user: dict, email: str):
        self.client, self.token, self.user, self.email = client, token, user, email

    @property
    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}"}

    def request(self, method: str, path: str, **kwargs):
        headers = {**self.headers, **kwargs.pop("headers", {})}
        return self.client.open(f"/api/v1{path}", method=method, headers=headers, **kwargs)

    def get(self, path, **kwargs):
        return self.request("GET", path, **kwargs)

    def post(self, path, **kwargs):
        return self.request("POST", path, **kwargs)

    def patch(self, path, **kwargs):
        return self.request("PATCH", path, **kwargs)

    def delete(self, path, **kwargs):
        return self.request("DELETE", path, **kwargs)


@pytest.fixture
def register(client):
    """Register a patient: `register(timezone=...)` -> Caller."""

    def register(timezone: str = "Europe/Berlin", name: str = "Pat Ient") -> Caller:
        email = f"patient{next(_emails)}@example.org"
        response = client.post("/api/v1/auth/register", json={
            "email": email, "password": PASSWORD, "display_name": name, "timezone": timezone})
        assert response.status_code == 201, response.get_json()
        body = response.get_json()
        return Caller(client, body["token"], body["user"], email)

    return register


@pytest.fixture
def patient(register) -> Caller:
    return register()


@pytest.fixture
def other_patient(register) -> Caller:
    return register(name="Other Person")


@pytest.fixture
def clinician(app, client, runner) -> Caller:
    email = f"clinician{next(_emails)}@example.org"
    result = runner.invoke(args=["users", "create-clinician", email, "--name", "Dr. Weber"],
                           input=f"{PASSWORD}\n{PASSWORD}\n")
    assert result.exit_code == 0, result.output
    token = client.post("/api/v1/auth/token",
                        json={"email": email, "password": PASSWORD}).get_json()["token"]
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
    return Caller(client, token, me, email)


@pytest.fixture
def count_queries(app):
    """`with count_queries() as queries:` counts the SQL statements run inside."""

    @contextmanager
    def counting():
        statements: list[str] = []

        def record(conn, cursor, statement, *args):
            statements.append(statement)

        engine = app.extensions["database"].engine
        event.listen(engine, "before_cursor_execute", record)
        try:
            yield statements
        finally:
            event.remove(engine, "before_cursor_execute", record)

    return counting


@pytest.fixture
def db_rows(app):
    """`db_rows(Model)` -> every row of a table, read in a short app context."""

    def rows(model):
        from sqlalchemy import select

        with app.app_context():
            session = app.extensions["database"].sessions()
            return session.scalars(select(model)).all()

    return rows
