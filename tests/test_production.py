"""Production readiness: safe configuration, health checks, headers, CORS, clean logs."""

from __future__ import annotations

import json
import logging

import pytest
from sqlalchemy import event
from sqlalchemy.exc import InterfaceError, OperationalError

from api import create_app
from api.config import DEVELOPMENT_SECRET, Config
from api.request_log import JsonFormatter
from storage.models import TreatmentSession
from tests.conftest import PASSWORD


def config(database_url, **settings):
    return type("Custom", (Config,), {"DATABASE_URL": database_url, **settings})


@pytest.mark.parametrize(("settings", "reason"), [
    ({"DEBUG": True, "SECRET_KEY": "x" * 40}, "debug"),
    ({"SECRET_KEY": DEVELOPMENT_SECRET}, "SECRET_KEY"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY"),
])
def test_production_refuses_unsafe_settings(database_url, settings, reason):
    with pytest.raises(RuntimeError, match=reason):
        create_app(config(database_url, APP_ENV="production", **settings))


def test_production_starts_with_safe_settings(database_url):
    app = create_app(config(database_url, APP_ENV="production", SECRET_KEY="s" * 40))
    assert app.config["APP_ENV"] == "production"
    app.extensions["database"].engine.dispose()


def test_readyz_checks_the_database_and_the_photo_store(app, client, tmp_path):
    (tmp_path / "photos").mkdir(exist_ok=True)
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {"status": "ready",
                                "checks": {"database": "ok", "photo_store": "ok"}}
    app.config["PHOTO_DIR"] = str(tmp_path / "missing")
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503
    assert "photo_store" in not_ready.get_json()["detail"]
    assert client.get("/healthz").status_code == 200


def test_every_response_says_nosniff_and_health_data_is_not_stored(client, patient):
    for response in (client.get("/healthz"), client.get("/api/v1/openapi.json"),
                     client.get("/api/v1/nowhere"), patient.get("/me"),
                     patient.get("/courses")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert patient.get("/me").headers["Cache-Control"] == "no-store"
    assert patient.get("/courses").headers["Cache-Control"] == "no-store"


def test_no_cors_unless_an_origin_is_configured(client, database_url):
    response = client.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in response.headers
    app = create_app(config(database_url, CORS_ORIGINS=["https://dashboard.clinic.example"]))
    configured = app.test_client()
    allowed = configured.options("/api/v1/courses", headers={
        "Origin": "https://dashboard.clinic.example", "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "Authorization"})
    assert allowed.headers["Access-Control-Allow-Origin"] == "https://dashboard.clinic.example"
    refused = configured.get("/healthz", headers={"Origin": "https://evil.example"})
    assert "Access-Control-Allow-Origin" not in refused.headers
    app.extensions["database"].engine.dispose()


def test_behind_a_proxy_the_client_address_comes_from_x_forwarded_for(database_url):
    app = create_app(config(database_url, PROXY_COUNT=1))
    from flask import request

    app.add_url_rule("/whoami", view_func=lambda: {"address": request.remote_addr})
    response = app.test_client().get("/whoami", headers={"X-Forwarded-For": "203.0.113.9"})
    assert response.get_json() == {"address": "203.0.113.9"}
    app.extensions["database"].engine.dispose()


def test_logs_are_json_with_a_request_id_and_no_secrets_or_health_data(client, caplog):
    caplog.set_level(logging.INFO)
    registered = client.post("/api/v1/auth/register", json={
        "email": "private.person@example.org", "password": PASSWORD,
        "display_name": "Private Person", "timezone": "Europe/Berlin"})
    token = registered.get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    course = client.post("/api/v1/courses", headers=headers, json={
        "regimen": "standard", "setting": "home", "start_date": "2026-11-20",
        "screening": {"pregnancy": True}, "concurrent_therapies": ["finasteride-secret"]}).get_json()
    client.post(f"/api/v1/courses/{course['id']}/clearance", headers=headers,
                json={"note": "clearance-note-secret"})
    client.patch("/api/v1/me", headers=headers,
                 json={"password": "another long password", "current_password": PASSWORD})
    status = client.get(f"/api/v1/courses/{course['id']}/status", headers=headers)
    lines = [JsonFormatter().format(record) for record in caplog.records]
    text = "\n".join(lines)
    for secret in (token, PASSWORD, "another long password", "private.person@example.org",
                   "Private Person", "pregnancy", "finasteride-secret", "clearance-note-secret"):
        assert secret not in text, secret
    requests = [json.loads(line) for line in lines if '"api.requests"' in line]
    assert len(requests) == 5
    assert all(len(line["request_id"]) == 32 for line in requests)
    assert requests[-1]["request_id"] == status.headers["X-Request-ID"]
    assert requests[1]["route"] == "/api/v1/courses"


def failing(statement_start: str, error, *, rollback_too: bool = False):
    """Engine event hooks that make one statement (and the rollback after it) fail as they do
    when the database connection is cut mid-request."""

    def execute(conn, cursor, statement, parameters, context, executemany):
        if statement.startswith(statement_start):
            raise error(statement, parameters, Exception("server closed the connection"))

    def rollback(conn):
        raise OperationalError("ROLLBACK", {}, Exception("server closed the connection"))

    return [("before_cursor_execute", execute)] + ([("rollback", rollback)] if rollback_too else [])


@pytest.mark.parametrize("error", [
    OperationalError,
    pytest.param(lambda *args: InterfaceError(*args, connection_invalidated=True),
                 id="InterfaceError"),
])
@pytest.mark.parametrize("rollback_too", [False, True], ids=["", "rollback-fails-too"])
def test_a_connection_cut_mid_request_is_a_503_and_changes_nothing(app, patient, db_rows, error,
                                                                   rollback_too):
    course = patient.post("/courses", json={"regimen": "standard", "setting": "home",
                                            "start_date": "2026-11-01"}).get_json()
    engine = app.extensions["database"].engine
    hooks = failing("INSERT INTO sessions", error, rollback_too=rollback_too)
    for name, hook in hooks:
        event.listen(engine, name, hook)
    try:
        response = patient.post(f"/courses/{course['id']}/sessions", json={
            "performed_at": "2026-11-02T20:00:00+01:00", "needle_length_mm": 0.5})
    finally:
        for name, hook in hooks:
            event.remove(engine, name, hook)
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert response.headers["Retry-After"] == "5"
    assert db_rows(TreatmentSession) == []
    assert patient.get(f"/courses/{course['id']}/status").get_json()["sessions_done"] == 0
