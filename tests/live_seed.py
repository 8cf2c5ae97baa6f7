"""Accounts and data for tests against a live gunicorn (`tests/live_server.py`).

`live_database` gives a migrated database of the test's own: a temporary
SQLite file, or a scratch database on the TEST_DATABASE_URL server.
Clinicians are made the operator's way (straight into the database, as
`flask users create-clinician` does) and tokens are issued directly, so a
test can have as many as it needs without logging in (which is rate limited).
Everything a patient owns is created over HTTP, as a phone would.
"""

from __future__ import annotations

import io
import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import requests
from PIL import Image
from sqlalchemy import Engine, insert

from services.accounts import hash_password, token_digest
from storage import migrate
from storage.db import make_engine
from storage.models import AuthToken, User
from tests.conftest import PASSWORD, scratch_database
from tests.live_server import LiveServer

DATABASE = os.environ.get("TEST_DATABASE_URL", "")
# memory:// keeps rate limits per worker; Redis shares them, as in production.
REDIS = os.environ.get("TEST_REDIS_URL", "") or "memory://"
_PASSWORD_HASH = hash_password(PASSWORD)


@contextmanager
def live_database(folder: Path) -> Iterator[tuple[str, Engine]]:
    """A migrated database for one live server: (its URL, an engine on it)."""
    if DATABASE:
        with scratch_database(DATABASE) as url:
            engine = make_engine(url)
            try:
                migrate.upgrade(engine)
                yield url, engine
            finally:
                engine.dispose()
        return
    url = f"sqlite:///{folder / 'live.db'}"
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        yield url, engine
    finally:
        engine.dispose()


@dataclass(frozen=True)
class Account:
    id: int
    email: str
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


def issue_token(engine: Engine, user_id: int) -> str:
    """A fresh bearer token for the user, as logging in would give."""
    token = secrets.token_urlsafe(32)
    now = datetime.now(timezone.utc)
    with engine.begin() as connection:
        connection.execute(insert(AuthToken), {"user_id": user_id,
                                               "token_hash": token_digest(token),
                                               "created_at": now,
                                               "expires_at": now + timedelta(days=1)})
    return token


def add_account(engine: Engine, role: str, name: str = "Live Tester") -> Account:
    """A user straight in the database, with a token: clinicians, or patients to throw away."""
    email = f"{role}-{secrets.token_hex(6)}@live.example"
    with engine.begin() as connection:
        user_id = connection.execute(insert(User).returning(User.id), {
            "email": email, "password_hash": _PASSWORD_HASH, "display_name": name,
            "timezone": "Europe/Berlin", "role": role,
            "created_at": datetime.now(timezone.utc)}).scalar_one()
    return Account(user_id, email, issue_token(engine, user_id))


def register(server: LiveServer, name: str = "Live Patient",
             timezone_name: str = "Europe/Berlin") -> Account:
    """A patient registered over HTTP."""
    email = f"patient-{secrets.token_hex(6)}@live.example"
    status, body = server.json("POST", "/api/v1/auth/register", {
        "email": email, "password": PASSWORD, "display_name": name,
        "timezone": timezone_name})
    assert status == 201, body
    return Account(body["user"]["id"], email, body["token"])


def link(server: LiveServer, patient: Account, clinician: Account) -> dict:
    """The patient invites, the clinician redeems: the share."""
    status, share = server.json("POST", "/api/v1/shares", token=patient.token)
    assert status == 201, share
    status, linked = server.json("POST", "/api/v1/clinician/patients", {"code": share["code"]},
                                 token=clinician.token)
    assert status == 201, linked
    return linked


def jpeg(color=(180, 140, 120), size=(64, 48)) -> bytes:
    """A small but real JPEG."""
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, "JPEG")
    return out.getvalue()


def upload_photo(server: LiveServer, patient: Account, data: bytes, **fields) -> requests.Response:
    """POST /photos as a phone does: multipart `file` and the photo's fields."""
    return requests.post(f"http://127.0.0.1:{server.port}/api/v1/photos", headers=patient.headers,
                         data={"area": "frontal", **{k: str(v) for k, v in fields.items()}},
                         files={"file": ("scalp.jpg", data, "image/jpeg")}, timeout=60)


def seed_patient(server: LiveServer, patient: Account) -> dict:
    """A course started 30 days ago with two sessions, a device, a check-in, a photo and a
    measurement; returns the course."""
    def call(method, path, body=None):
        status, answer = server.json(method, f"/api/v1{path}", body, token=patient.token)
        assert status in (200, 201), (path, status, answer)
        return answer

    zone = ZoneInfo("Europe/Berlin")
    now = datetime.now(zone)
    device = call("POST", "/devices", {"kind": "roller", "needle_length_mm": 0.5})
    course = call("POST", "/courses", {
        "regimen": "standard", "setting": "home",
        "start_date": (now.date() - timedelta(days=30)).isoformat()})
    # The latest is 3 days ago: its check-in (open from 20 h to 7 days after) is answered.
    for days_ago in (28, 3):
        logged = call("POST", f"/courses/{course['id']}/sessions", {
            "performed_at": (now - timedelta(days=days_ago)).isoformat(),
            "device_id": device["id"], "device_disinfected": True})
    call("POST", f"/sessions/{logged['session']['id']}/check-in", {
        "redness_persists": False, "swelling_persists": False, "infection_signs": False})
    response = upload_photo(server, patient, jpeg(), course_id=course["id"])
    assert response.status_code == 201, response.text
    call("POST", f"/courses/{course['id']}/observations", {
        "kind": "shedding_count", "value": 60, "observed_at": now.isoformat()})
    return course
