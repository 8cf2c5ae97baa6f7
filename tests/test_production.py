"""Production readiness: safe configuration, health checks, headers, CORS, clean logs."""

from __future__ import annotations

import json
import logging
import os
import subprocess

import pytest
from sqlalchemy import event
from sqlalchemy.exc import InterfaceError, OperationalError

from api import create_app
from api.config import DEVELOPMENT_SECRET, Config
from api.request_log import JsonFormatter
from storage.models import TreatmentSession
from tests.conftest import PASSWORD
from tests.live_server import GUNICORN, ROOT, free_port, gunicorn


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


def test_production_gunicorn_refuses_per_worker_rate_limits(database_url, tmp_path):
    """Five workers each counting logins in memory made the login limit five times looser."""
    env = {**os.environ, "APP_ENV": "production", "SECRET_KEY": "s" * 40,
           "DATABASE_URL": database_url, "PHOTO_DIR": str(tmp_path), "WEB_CONCURRENCY": "3",
           "RATELIMIT_STORAGE_URI": "memory://", "BIND": f"127.0.0.1:{free_port()}"}
    started = subprocess.run([str(GUNICORN), "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT,
                             env=env, capture_output=True, text=True, timeout=60)
    assert started.returncode != 0
    assert "refusing to start in production: RATELIMIT_STORAGE_URI is memory://" \
        in started.stderr
    assert "WEB_CONCURRENCY=1" in started.stderr


def test_production_gunicorn_starts_with_one_worker_said_explicitly(database_url, tmp_path):
    with gunicorn(database_url, "memory://", tmp_path / "photos", workers=1,
                  env={"APP_ENV": "production"}) as server:
        assert server.request("GET", "/healthz")[0] == 200


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


def test_every_response_carries_the_security_headers(client, patient):
    responses = {"json": patient.get("/me"), "problem": client.get("/api/v1/nowhere"),
                 "health": client.get("/healthz"), "page": client.get("/api/v1/docs")}
    for kind, response in responses.items():
        assert response.headers["Referrer-Policy"] == "no-referrer", kind
        assert response.headers["X-Frame-Options"] == "DENY", kind
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], kind
        # Plain HTTP with no proxy saying otherwise: HSTS would mean nothing.
        assert "Strict-Transport-Security" not in response.headers, kind
    # What is not a page may load nothing at all; a page only from this origin.
    assert responses["json"].headers["Content-Security-Policy"].startswith("default-src 'none';")
    page_policy = responses["page"].headers["Content-Security-Policy"]
    assert "script-src 'self';" in page_policy and "http" not in page_policy


def test_hsts_is_sent_when_the_trusted_proxy_says_https(database_url):
    app = create_app(config(database_url, PROXY_COUNT=1))
    client = app.test_client()
    secure = client.get("/healthz", headers={"X-Forwarded-Proto": "https"})
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "Strict-Transport-Security" not in client.get(
        "/healthz", headers={"X-Forwarded-Proto": "http"}).headers
    app.extensions["database"].engine.dispose()
    # Without a trusted proxy, a client's own X-Forwarded-Proto is not believed.
    app = create_app(config(database_url))
    assert "Strict-Transport-Security" not in app.test_client().get(
        "/healthz", headers={"X-Forwarded-Proto": "https"}).headers
    app.extensions["database"].engine.dispose()


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
