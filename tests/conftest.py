"""Fixtures: an app on a fresh database per test, clients, users and tokens.

SQLite always; PostgreSQL instead when TEST_DATABASE_URL is set (and then a
database that cannot be reached is an error, never a skip). The schema comes
from the Alembic migrations, applied once per run; each test then starts from
an empty copy (SQLite: a copy of the migrated file; PostgreSQL: truncation).
"""

from __future__ import annotations

import itertools
import os
import secrets
import shutil
from contextlib import contextmanager
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from flask.testing import FlaskClient
from sqlalchemy import event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError

from api import create_app
from api.config import Config
from services import accounts as auth
from storage import migrate
from storage.db import make_engine
from storage.models import Base

PASSWORD = "correct horse battery staple"
_emails = itertools.count(1)
# argon2id at the cheapest parameters: the OWASP ones (services.accounts) cost ~50 ms a hash, and
# most tests register or log in several users. Tests of the real parameters are marked
# `owasp_hashing`. (Servers the tests start as processes hash at full strength.)
FAST_PASSWORDS = PasswordHasher(time_cost=1, memory_cost=8, parallelism=1)


# The longest tests, started first so that the workers of `pytest -n` (pytest.ini) finish
# together instead of one of them starting a minutes-long test at the end.
LONGEST_FIRST = ("test_live_fuzz.py", "test_faults.py", "test_openapi.py",
                 "test_state_machine.py", "test_multi_worker.py", "test_hair_analysis.py",
                 "test_alignment.py")


def pytest_configure(config):
    config.addinivalue_line("markers", "owasp_hashing: hash passwords at the production strength")


def pytest_collection_modifyitems(items):
    def rank(item):
        name = item.path.name
        return LONGEST_FIRST.index(name) if name in LONGEST_FIRST else len(LONGEST_FIRST)

    items.sort(key=rank)


@pytest.fixture
def figure(request):
    """`figure(line)`: a measured figure, printed at the end of the run (from any worker)."""
    return lambda line: request.node.user_properties.append(("figure", line))


def pytest_terminal_summary(terminalreporter):
    lines = [value for report in terminalreporter.stats.get("passed", []) +
             terminalreporter.stats.get("failed", [])
             for name, value in report.user_properties if name == "figure"]
    if lines:
        terminalreporter.section("figures")
        for line in lines:
            terminalreporter.write_line(line)


@pytest.fixture(autouse=True)
def fast_password_hashing(request, monkeypatch):
    if request.node.get_closest_marker("owasp_hashing") is None:
        monkeypatch.setattr(auth, "PASSWORDS", FAST_PASSWORDS)


def pytest_report_header(config):
    return f"database: {'postgresql' if os.environ.get('TEST_DATABASE_URL') else 'sqlite'}"


@pytest.fixture(scope="session")
def migrated_database(tmp_path_factory):
    """The migrated template: an SQLite file, or a PostgreSQL database for this run."""
    url = os.environ.get("TEST_DATABASE_URL")
    if url:
        with scratch_database(url) as run_url:
            engine = make_engine(run_url)
            with engine.begin() as connection:
                connection.execute(text("DROP SCHEMA public CASCADE"))
                connection.execute(text("CREATE SCHEMA public"))
            migrate.upgrade(engine)
            engine.dispose()
            yield run_url
        return
    template = tmp_path_factory.mktemp("template") / "template.db"
    engine = make_engine(f"sqlite:///{template}")
    migrate.upgrade(engine)
    engine.dispose()
    yield template


@contextmanager
def scratch_database(url: str):
    """A database of this run's own on the TEST_DATABASE_URL server, dropped afterwards,
    so two runs on one server never truncate each other's tables. Where the role may
    not create databases, the run uses TEST_DATABASE_URL's database itself."""
    server = make_engine(url, isolation_level="AUTOCOMMIT")
    name = f"{make_url(url).database}_run_{secrets.token_hex(4)}"
    try:
        with server.connect() as connection:
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except DBAPIError:
        server.dispose()
        yield url
        return
    try:
        yield make_url(url).set(database=name).render_as_string(hide_password=False)
    finally:
        with server.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        server.dispose()


def emptied_tables() -> str:
    """Every table emptied, children first, and its id sequence restarted: what TRUNCATE
    ... RESTART IDENTITY does, but in milliseconds instead of a quarter second a test."""
    tables = list(reversed(Base.metadata.sorted_tables))
    restarts = ", ".join(
        f"setval(pg_get_serial_sequence('{table.name}', '{table.autoincrement_column.name}'), "
        "1, false)" for table in tables if table.autoincrement_column is not None)
    return "; ".join([*(f"DELETE FROM {table.name}" for table in tables),
                      f"SELECT {restarts}"])


@pytest.fixture
def database_url(migrated_database, tmp_path) -> str:
    if isinstance(migrated_database, str):
        engine = make_engine(migrated_database)
        with engine.begin() as connection:
            connection.execute(text(emptied_tables()))
        engine.dispose()
        return migrated_database
    copy = tmp_path / "test.db"
    shutil.copyfile(migrated_database, copy)
    return f"sqlite:///{copy}"


def queue_url(tmp_path) -> str:
    """The queue of a test's app: Redis when TEST_REDIS_URL is set (the PostgreSQL run of
    CI), else Huey's SQLite storage in the test's folder."""
    return os.environ.get("TEST_REDIS_URL") or f"sqlite:///{tmp_path / 'queue.db'}"


def drain(app, limit: int = 1000) -> int:
    """Run every job waiting on the app's queue, as a worker does: an in-process consumer
    of the real storage. Retries the queue scheduled for later are left there."""
    queue = app.extensions["jobs"].queue
    for ran in range(limit):
        # (Asked first: Huey's Redis dequeue waits a second for a message when there is none.)
        task = queue.dequeue() if queue.pending_count() else None
        if task is None:
            return ran
        queue.execute(task)
    raise AssertionError(f"the queue still holds jobs after {limit}")


class DrainingClient(FlaskClient):
    """A test client after each of whose requests the jobs it sent are run, as if a worker
    had taken them at once (set `drains = False` to see what waits for the queue)."""

    drains = True

    def open(self, *args, **kwargs):
        response = super().open(*args, **kwargs)
        if self.drains:
            drain(self.application)
        return response


@pytest.fixture
def app(database_url, tmp_path):
    class TestConfig(Config):
        TESTING = True
        DATABASE_URL = database_url
        PHOTO_DIR = str(tmp_path / "photos")
        QUEUE_URL = queue_url(tmp_path)
        # Each test's app has a queue of its own on a shared Redis.
        QUEUE_NAME = f"test-{secrets.token_hex(6)}"
        RATELIMIT_STORAGE_URI = "memory://"
        # Tests register many patients from one address; test_accounts checks the limit.
        REGISTER_RATE_LIMIT = "100000 per hour"
        SECRET_KEY = "test"

    # As `make run` does: the photo folder exists before the app serves.
    (tmp_path / "photos").mkdir(exist_ok=True)
    app = create_app(TestConfig)
    app.test_client_class = DrainingClient
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
def course(patient):
    """A standard clinic course of the patient, started 40 days ago."""
    today = datetime.now(ZoneInfo(patient.user["timezone"])).date()
    response = patient.post("/courses", json={
        "regimen": "standard", "setting": "clinic",
        "start_date": (today - timedelta(days=40)).isoformat()})
    assert response.status_code == 201
    return response.get_json()


@pytest.fixture
def make_clinician(client, runner):
    """Create a clinician through the operator command and log them in -> Caller."""

    def make_clinician(name: str = "Dr. Weber") -> Caller:
        email = f"clinician{next(_emails)}@example.org"
        result = runner.invoke(args=["users", "create-clinician", email, "--name", name],
                               input=f"{PASSWORD}\n{PASSWORD}\n")
        assert result.exit_code == 0, result.output
        token = client.post("/api/v1/auth/token",
                            json={"email": email, "password": PASSWORD}).get_json()["token"]
        me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).get_json()
        return Caller(client, token, me, email)

    return make_clinician


@pytest.fixture
def clinician(make_clinician) -> Caller:
    return make_clinician()


@pytest.fixture
def link():
    """`link(patient, clinician)`: the patient invites, the clinician redeems -> the share."""

    def link(patient: Caller, clinician: Caller) -> dict:
        code = patient.post("/shares").get_json()["code"]
        response = clinician.post("/clinician/patients", json={"code": code})
        assert response.status_code == 201, response.get_json()
        return response.get_json()

    return link


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
