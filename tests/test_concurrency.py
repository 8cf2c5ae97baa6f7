"""Requests that change one patient's records at the same time.

A phone and the clinician's dashboard (or a phone retrying on a bad network)
can write the same course at once. Neither may get a 500.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import delete, text
from sqlalchemy.exc import OperationalError

from api import sessions as session_routes
from storage.db import make_engine
from storage.models import TreatmentSession

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
