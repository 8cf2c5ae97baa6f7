"""Requests that change one patient's records at the same time.

A phone and the clinician's dashboard (or a phone retrying on a bad network)
can write the same course at once. Neither may get a 500.
"""

from __future__ import annotations

import threading
from contextlib import suppress
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, text
from sqlalchemy.exc import OperationalError

from api.resources import sessions as session_routes
from services import courses as tracking
from api.database import db
from storage.db import make_engine
from storage.models import Course, TreatmentSession
from tests.conftest import Caller
from tests.course_samples import add_photo

BERLIN = ZoneInfo("Europe/Berlin")


def start_course(patient) -> int:
    start = (datetime.now(BERLIN) - timedelta(days=200)).date()
    response = patient.post("/courses", json={"regimen": "intensive", "setting": "clinic",
                                               "start_date": start.isoformat()})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def log_session(caller, course_id: int, days_ago: int):
    return caller.post(f"/courses/{course_id}/sessions", json={
        "performed_at": (datetime.now(BERLIN) - timedelta(days=days_ago)).isoformat(),
        "needle_length_mm": 0.5, "device_disinfected": True})


def test_a_session_undone_by_another_request_during_a_correction_is_never_a_500(
        patient, database_url, monkeypatch):
    course_id = start_course(patient)
    session_id = log_session(patient, course_id, 30).get_json()["session"]["id"]
    other = make_engine(database_url)
    postgresql = other.dialect.name == "postgresql"
    undone = []
    looked_up = session_routes.session_or_404

    def lookup_then_undo_elsewhere(wanted_id):
        found = looked_up(wanted_id)
        try:
            with other.begin() as connection:
                if postgresql:
                    connection.execute(text("SET LOCAL lock_timeout = '300ms'"))
                connection.execute(delete(TreatmentSession).where(TreatmentSession.id == wanted_id))
            undone.append(True)
        except OperationalError:
            undone.append(False)  # it had to wait for the correction's lock
        return found

    monkeypatch.setattr(session_routes, "session_or_404", lookup_then_undo_elsewhere)
    try:
        response = patient.patch(f"/sessions/{session_id}", json={"pain_score": 2})
    finally:
        other.dispose()
    if postgresql:
        # The correction holds the row from its lookup on: the undo waits its turn.
        assert undone == [False]
        assert response.status_code == 200, response.get_json()
    else:
        # SQLite reads without a lock: the undo lands between the read and the write.
        assert undone == [True]
        assert response.status_code == 409, response.get_json()
        assert response.content_type == "application/problem+json"
        assert "meanwhile" in response.get_json()["detail"]
    monkeypatch.undo()
    assert patient.get(f"/courses/{course_id}/status").status_code == 200


def test_a_session_and_a_photo_saved_at_once_both_reach_the_status_facts(
        app, patient, monkeypatch):
    """The phone syncs a session log while it uploads a photo. Each transaction refreshes
    the course's stored status facts before its commit; they must take turns, or the
    second to commit writes facts that miss the first one's row."""
    course_id = start_course(patient)
    both_computing = threading.Barrier(2)
    collect = tracking.collect_facts
    waited = set()

    def collect_side_by_side(session, course):
        # Each request's first refresh waits for the other's (at most a second).
        if threading.get_ident() not in waited:
            waited.add(threading.get_ident())
            with suppress(threading.BrokenBarrierError):
                both_computing.wait(timeout=1)
        return collect(session, course)

    monkeypatch.setattr(tracking, "collect_facts", collect_side_by_side)
    phone = Caller(app.test_client(), patient.token, patient.user, patient.email)
    answers = {}

    def upload_photo():
        # A baseline photo, taken before the session.
        answers["photo"] = add_photo(phone, "vertex", datetime.now(BERLIN) - timedelta(days=40),
                                     course_id=course_id)

    uploader = threading.Thread(target=upload_photo)
    uploader.start()
    answers["session"] = log_session(patient, course_id, 30).status_code
    uploader.join()
    monkeypatch.undo()

    assert answers["session"] == 201 and answers["photo"]
    with app.app_context():
        course = db().get(Course, course_id)
        assert course.status_facts == tracking.collect_facts(db(), course)
    status = patient.get(f"/courses/{course_id}/status").get_json()
    assert status["sessions_done"] == 1
    assert "vertex" not in status["photos_due"]["areas"]
