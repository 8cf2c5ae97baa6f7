"""Several gunicorn workers over one PostgreSQL and one Redis behave like one server.

Idempotency keys, single-use invite codes and rate limits are shared through
the database and Redis, not kept in a worker's memory: a real multi-worker
gunicorn on 127.0.0.1 is driven over fresh connections (so the workers take
turns). Needs TEST_DATABASE_URL (PostgreSQL) and TEST_REDIS_URL; CI sets both.
"""

from __future__ import annotations

import json
import os
import random
import secrets
import socket
import threading
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select

from services.accounts import hash_password
from storage import migrate
from storage.db import make_engine
from storage.models import User
from tests.conftest import PASSWORD, scratch_database
from tests.live_server import gunicorn

DATABASE = os.environ.get("TEST_DATABASE_URL", "")
REDIS = os.environ.get("TEST_REDIS_URL", "")

pytestmark = pytest.mark.skipif(
    not (DATABASE.startswith("postgresql") and REDIS),
    reason="needs TEST_DATABASE_URL (PostgreSQL) and TEST_REDIS_URL (Redis); .ci/run sets both",
)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    with scratch_database(DATABASE) as url:
        engine = make_engine(url)
        migrate.upgrade(engine)
        with gunicorn(url, REDIS, tmp_path_factory.mktemp("photos"), workers=3) as server:
            server.engine = engine
            yield server
        engine.dispose()


def register(server) -> tuple[str, str]:
    email = f"p{secrets.token_hex(6)}@example.org"
    status, body = server.json("POST", "/api/v1/auth/register", {
        "email": email, "password": PASSWORD, "display_name": "Live Patient",
        "timezone": "Europe/Berlin"})
    assert status == 201, body
    return email, body["token"]


def clinicians(server, count: int) -> list[str]:
    """Clinicians made the operator's way (straight into the database), logged in over HTTP."""
    emails = [f"c{secrets.token_hex(6)}@clinic.example" for _ in range(count)]
    password_hash = hash_password(PASSWORD)
    with server.engine.begin() as connection:
        connection.execute(User.__table__.insert(), [
            {"email": email, "password_hash": password_hash, "display_name": email,
             "timezone": "UTC", "role": "clinician"} for email in emails])
    tokens = []
    for email in emails:
        status, body = server.json("POST", "/api/v1/auth/token",
                                   {"email": email, "password": PASSWORD})
        assert status == 200, body
        tokens.append(body["token"])
    return tokens


def cut_connection(server, token: str, key: str, body: dict) -> None:
    """Send a whole creating request, then hang up before reading the answer."""
    payload = json.dumps(body).encode()
    head = (f"POST /api/v1/devices HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\nIdempotency-Key: {key}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
            f"Connection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head + payload)


def test_a_thousand_replayed_creates_make_one_row_per_key_and_one_answer(cluster):
    _, token = register(cluster)
    keys = [f"retry-{n:03d}-{secrets.token_hex(4)}" for n in range(100)]
    bodies = {key: {"kind": "pen", "needle_length_mm": 0.5, "label": key} for key in keys}
    plan = [(key, random.random() < 0.1) for key in keys for _ in range(10)]
    random.Random(7).shuffle(plan)
    answers: dict[str, set[tuple[int, bytes]]] = defaultdict(set)
    lock = threading.Lock()

    def send(job):
        key, cut = job
        if cut:
            cut_connection(cluster, token, key, bodies[key])
            return
        status, _, raw = cluster.request("POST", "/api/v1/devices", bodies[key],
                                         headers={"Idempotency-Key": key}, token=token)
        if status != 409:  # 409: the first request with this key is still running
            with lock:
                answers[key].add((status, raw))

    with ThreadPoolExecutor(max_workers=16) as pool:
        list(pool.map(send, plan))
    for key in keys:  # settle: every key answers once more, after everything above
        status, _, raw = cluster.request("POST", "/api/v1/devices", bodies[key],
                                         headers={"Idempotency-Key": key}, token=token)
        answers[key].add((status, raw))
    assert all(len(seen) == 1 for seen in answers.values()), \
        {key: seen for key, seen in answers.items() if len(seen) != 1}
    assert {status for seen in answers.values() for status, _ in seen} == {201}
    labels = []
    cursor = ""
    while True:
        status, page = cluster.json("GET", f"/api/v1/devices?limit=200&cursor={cursor}",
                                    token=token)
        labels += [device["label"] for device in page["items"]]
        if not page["next_cursor"]:
            break
        cursor = page["next_cursor"]
    assert sorted(labels) == sorted(keys)


def test_an_invite_code_is_redeemed_once_across_workers(cluster):
    _, patient = register(cluster)
    tokens = clinicians(cluster, 4)
    for _ in range(5):
        status, share = cluster.json("POST", "/api/v1/shares", token=patient)
        assert status == 201
        start = threading.Barrier(len(tokens))

        def redeem(token):
            start.wait()
            return cluster.json("POST", "/api/v1/clinician/patients",
                                {"code": share["code"]}, token=token)[0]

        with ThreadPoolExecutor(max_workers=len(tokens)) as pool:
            statuses = list(pool.map(redeem, tokens))
        assert statuses.count(201) == 1, statuses
        assert set(statuses) <= {201, 404, 409}
        _, shares = cluster.json("GET", "/api/v1/shares", token=patient)
        for linked in shares["items"]:
            if linked["state"] == "linked":
                cluster.request("DELETE", f"/api/v1/shares/{linked['id']}", token=patient)


def test_the_login_limit_is_shared_by_every_worker(cluster):
    email, _ = register(cluster)
    statuses = [cluster.request("POST", "/api/v1/auth/token",
                                {"email": email, "password": "wrong password!"})[0]
                for _ in range(11)]
    assert statuses == [401] * 10 + [429]
    assert cluster.request("POST", "/api/v1/auth/token",
                           {"email": email, "password": PASSWORD})[0] == 429


def test_the_cluster_database_is_postgresql(cluster):
    """The account registered over HTTP is in the PostgreSQL database the test holds.

    Registers its own account: under xdist this test may be the first (or only)
    one of the module a worker runs, on a cluster nobody has used yet.
    """
    email, _ = register(cluster)
    with cluster.engine.connect() as connection:
        assert connection.dialect.name == "postgresql"
        assert connection.execute(select(User.id).where(User.email == email)).first() is not None
