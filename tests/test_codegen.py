"""A client generated from the served OpenAPI document works, as a mobile team's would.

openapi-python-client (a subprocess, offline) generates a Python client from
`/api/v1/openapi.json`, the way a mobile team generates its Swift or Kotlin
client, and must do so without a single warning. The generated client then
registers a patient, starts a course, logs a session and reads the course
status, over an httpx transport bound to the app. The generator's
`content_type_overrides` only tell it that images, archives and tus chunks
are bytes (it reads no other binary media types).
"""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest

from api import create_app
from api.config import Config

PACKAGE = "scalpcourse_client"
GENERATOR = Path(sys.executable).with_name("openapi-python-client")
BYTES = "application/octet-stream"
GENERATOR_CONFIG = {"content_type_overrides": {media_type: BYTES for media_type in (
    "application/offset+octet-stream", "image/jpeg", "image/png", "image/webp", "image/gif",
    "application/zip", "application/pdf", "text/calendar")}}


@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    """The generated package, imported; generated once per run (it takes a few seconds)."""
    folder = tmp_path_factory.mktemp("codegen")
    app = create_app(type("DocumentOnly", (Config,), {"DATABASE_URL": "sqlite://",
                                                      "SECRET_KEY": "document-only"}))
    (folder / "openapi.json").write_text(json.dumps(
        app.test_client().get("/api/v1/openapi.json").get_json()))
    app.extensions["database"].engine.dispose()
    (folder / "config.json").write_text(json.dumps(GENERATOR_CONFIG))
    env = {**os.environ, "PATH": f"{GENERATOR.parent}{os.pathsep}{os.environ['PATH']}"}
    result = subprocess.run(
        [str(GENERATOR), "generate", "--path", str(folder / "openapi.json"),
         "--output-path", str(folder / PACKAGE), "--meta", "none",
         "--config", str(folder / "config.json")],
        capture_output=True, text=True, env=env, timeout=300)
    output = result.stdout + result.stderr
    assert result.returncode == 0, output
    assert "warning" not in output.lower(), output
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def call(generated, endpoint: str, **kwargs):
    """`sync_detailed` of a generated endpoint module, its parsed answer and status code."""
    module = importlib.import_module(f"{generated.__name__}.api.{endpoint}")
    response = module.sync_detailed(**kwargs)
    return response.status_code, response.parsed


def test_the_generated_client_registers_starts_a_course_logs_a_session_and_reads_the_status(
        generated, app):
    models = importlib.import_module(f"{generated.__name__}.models")
    transport = httpx.WSGITransport(app=app)
    anonymous = generated.Client(base_url="http://127.0.0.1", httpx_args={"transport": transport})

    status, registered = call(generated, "accounts.post_api_v1_auth_register", client=anonymous,
                              body=models.Register(email="codegen@example.org",
                                                   password="correct horse battery staple",
                                                   display_name="Generated Client",
                                                   timezone="Europe/Berlin"))
    assert status == 201, registered
    patient = generated.AuthenticatedClient(base_url="http://127.0.0.1", token=registered.token,
                                            httpx_args={"transport": transport})

    berlin = ZoneInfo("Europe/Berlin")
    start = datetime.now(berlin).date() - timedelta(days=3)
    status, course = call(generated, "courses.post_api_v1_courses", client=patient,
                          idempotency_key="course-1",
                          body=models.CourseCreate(
                              regimen=models.CourseCreateRegimen.STANDARD,
                              setting=models.CourseCreateSetting.HOME, start_date=start))
    assert status == 201, course
    assert course.status == models.CourseStatus.ACTIVE

    status, logged = call(generated, "sessions.post_api_v1_courses_course_id_sessions",
                          course_id=course.id, client=patient, idempotency_key="session-1",
                          body=models.SessionCreate(
                              performed_at=datetime.now(berlin) - timedelta(days=1),
                              needle_length_mm=0.5, device_disinfected=True,
                              cocktail=models.Cocktail(name="Peptides", ingredients=["biotin"])))
    assert status == 201, logged
    assert logged.session.number == 1
    assert logged.session.cocktail.name == "Peptides"

    status, report = call(generated, "courses.get_api_v1_courses_course_id_status",
                          course_id=course.id, client=patient)
    assert status == 200, report
    assert report.sessions_done == 1
    assert report.status == "active"
    assert report.next_session.number == 2
    assert isinstance(report.next_session.due, date)
