"""Operator commands: migrations and the demo data a newcomer starts from."""

from __future__ import annotations

from sqlalchemy import inspect

from api import create_app
from api.cli import DEMO_EMAIL, DEMO_PASSWORD
from api.config import Config


def test_db_upgrade_builds_an_empty_database(tmp_path):
    class Fresh(Config):
        DATABASE_URL = f"sqlite:///{tmp_path / 'fresh.db'}"

    app = create_app(Fresh)
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    tables = set(inspect(app.extensions["database"].engine).get_table_names())
    assert {"users", "courses", "sessions", "devices", "check_ins"} <= tables
    app.extensions["database"].engine.dispose()


def test_seed_demo_gives_a_half_done_intensive_course_with_a_real_status(runner, client):
    result = runner.invoke(args=["seed-demo"])
    assert result.exit_code == 0, result.output
    token = client.post("/api/v1/auth/token",
                        json={"email": DEMO_EMAIL, "password": DEMO_PASSWORD}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    (course,) = client.get("/api/v1/courses", headers=headers).get_json()["items"]
    assert (course["regimen"], course["status"]) == ("intensive", "active")
    status = client.get(f"/api/v1/courses/{course['id']}/status", headers=headers).get_json()
    assert status["sessions_done"] == 7
    assert status["phase"] == "biweekly"
    assert status["next_session"]["number"] == 8
    assert status["next_session"]["state"] == "too_early"
    assert status["results_expected"] is True
    assert status["device"]["uses"] == 5
    assert status["adherence"]["on_time"] == 7


def test_seed_demo_twice_says_so_and_changes_nothing(runner):
    assert runner.invoke(args=["seed-demo"]).exit_code == 0
    again = runner.invoke(args=["seed-demo"])
    assert again.exit_code != 0
    assert "exists already" in again.output


def test_digests_refresh_rebuilds_every_digest(app, runner, patient, db_rows):
    from sqlalchemy import delete, update

    from storage.models import Course, TriageDigest

    patient.post("/courses", json={"regimen": "standard", "setting": "home",
                                   "start_date": "2026-11-20", "screening": {"diabetes": True}})
    with app.app_context():
        session = app.extensions["database"].sessions()
        session.execute(delete(TriageDigest))
        session.execute(update(Course).values(status_facts=None))
        session.commit()
    assert db_rows(TriageDigest) == []
    result = runner.invoke(args=["digests", "refresh"])
    assert result.exit_code == 0, result.output
    assert "1 patients refreshed" in result.output
    (digest,) = db_rows(TriageDigest)
    assert (digest.course_status, digest.hold_reasons) == ("on_hold", ["diabetes"])
    (course,) = db_rows(Course)
    assert course.status_facts["sessions"] == []
