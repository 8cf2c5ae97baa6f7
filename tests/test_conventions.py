"""The conventions of API.md: one error shape, idempotent creates, paging, hostile input."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from storage.models import Base, Course, IdempotencyRecord, TreatmentSession, utcnow

PROBLEM_KEYS = {"type", "title", "status", "detail"}


def assert_problem(response, status):
    assert response.status_code == status
    assert response.content_type == "application/problem+json"
    body = response.get_json()
    assert PROBLEM_KEYS <= set(body)
    assert body["status"] == status
    text = response.get_data(as_text=True)
    assert "Traceback" not in text and "SELECT" not in text and "sqlalchemy" not in text
    return body


def table_counts(app) -> dict[str, int]:
    with app.app_context():
        session = app.extensions["database"].sessions()
        return {table.name: session.scalar(select(func.count()).select_from(table))
                for table in Base.metadata.sorted_tables}


def today_in(caller) -> datetime:
    return datetime.now(ZoneInfo(caller.user["timezone"]))


def start_course(caller, **fields):
    body = {"regimen": "standard", "setting": "clinic",
            "start_date": (today_in(caller).date() - timedelta(days=20)).isoformat(), **fields}
    response = caller.post("/courses", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# -- one error shape --------------------------------------------------------

def test_unknown_route_is_a_problem(client):
    assert_problem(client.get("/api/v1/nothing-here"), 404)


def test_undeclared_method_is_405_with_allow(patient):
    response = patient.request("PUT", "/courses")
    assert_problem(response, 405)
    assert set(response.headers["Allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


def test_an_unexpected_error_is_a_bare_500_problem(app, client):
    def explode():
        raise RuntimeError("secret internals: SELECT * FROM users")

    app.add_url_rule("/api/v1/explode", view_func=explode)
    body = assert_problem(client.get("/api/v1/explode"), 500)
    assert "secret" not in json.dumps(body)


def test_a_20_mb_body_is_refused_with_413_and_changes_nothing(app, patient):
    before = table_counts(app)
    padding = "x" * (20 * 1024 * 1024)
    response = patient.post("/courses", data=json.dumps({"regimen": padding}),
                            content_type="application/json")
    assert_problem(response, 413)
    assert table_counts(app) == before


def test_an_id_past_the_integer_range_is_404_not_an_error(patient):
    assert_problem(patient.get("/courses/99999999999999999999"), 404)
    assert_problem(patient.get("/courses/0"), 404)


# -- bad input: each gets its 4xx and changes nothing ------------------------

def _session(caller, **fields):
    performed = (today_in(caller) - timedelta(days=1)).isoformat()
    return {"performed_at": performed, "needle_length_mm": 0.5, "device_disinfected": True,
            **fields}


BAD_COURSES = {
    "malformed JSON": ('{"regimen": "standard",', 400),
    "not an object": ("[1, 2, 3]", 422),
    "wrong type": ({"regimen": 7, "setting": "home", "start_date": "2026-11-01"}, 422),
    "unknown field": ({"regimen": "standard", "setting": "home", "start_date": "2026-11-01",
                       "colour": "blue"}, 422),
    "server-owned status": ({"regimen": "standard", "setting": "home",
                             "start_date": "2026-11-01", "status": "completed"}, 422),
    "server-owned id": ({"regimen": "standard", "setting": "home",
                         "start_date": "2026-11-01", "id": 5}, 422),
    "date in the wrong format": ({"regimen": "standard", "setting": "home",
                                  "start_date": "01.11.2026"}, 422),
    "impossible date": ({"regimen": "standard", "setting": "home",
                         "start_date": "2025-02-30"}, 422),
    "start date 10 years away": ({"regimen": "standard", "setting": "home",
                                  "start_date": "2036-11-01"}, 422),
    "unknown screening key": ({"regimen": "standard", "setting": "home",
                               "start_date": "2026-11-01", "screening": {"flu": True}}, 422),
    "screening answer not a boolean": ({"regimen": "standard", "setting": "home",
                                        "start_date": "2026-11-01",
                                        "screening": {"diabetes": "yes"}}, 422),
}


@pytest.mark.parametrize("case", BAD_COURSES, ids=list(BAD_COURSES))
def test_bad_course_input_changes_nothing(app, patient, case):
    body, status = BAD_COURSES[case]
    before = table_counts(app)
    data = body if isinstance(body, str) else json.dumps(body)
    response = patient.post("/courses", data=data, content_type="application/json")
    assert_problem(response, status)
    assert table_counts(app) == before


BAD_SESSIONS = {
    "needle length 0": {"needle_length_mm": 0},
    "needle length 10 mm": {"needle_length_mm": 10},
    "pain 11": {"pain_score": 11},
    "negative duration": {"duration_minutes": -5},
    "performed in the future": {"performed_at": "2099-01-01T10:00:00+00:00"},
    "performed_at without offset": {"performed_at": "2026-11-01T10:00:00"},
    "impossible performed_at": {"performed_at": "2025-02-30T10:00:00+01:00"},
    "pain as text": {"pain_score": "7"},
    "boolean as number": {"device_disinfected": 1},
    "NaN needle": {"needle_length_mm": float("nan")},
    "server-owned number": {"number": 3},
}


@pytest.mark.parametrize("case", BAD_SESSIONS, ids=list(BAD_SESSIONS))
def test_bad_session_input_changes_nothing(app, patient, case):
    course = start_course(patient)
    before = table_counts(app)
    response = patient.post(f"/courses/{course['id']}/sessions",
                            data=json.dumps(_session(patient, **BAD_SESSIONS[case])),
                            content_type="application/json")
    assert_problem(response, 422)
    assert table_counts(app) == before


def test_a_time_zone_that_does_not_exist_changes_nothing(app, patient):
    before = table_counts(app)
    assert_problem(patient.patch("/me", json={"timezone": "Europe/Atlantis"}), 422)
    assert table_counts(app) == before
    assert patient.get("/me").get_json()["timezone"] == "Europe/Berlin"


def test_another_patients_ids_answer_404_and_change_nothing(app, patient, other_patient):
    course = start_course(patient)
    logged = patient.post(f"/courses/{course['id']}/sessions", json=_session(patient))
    session_id = logged.get_json()["session"]["id"]
    before = table_counts(app)
    for method, path, body in [
        ("GET", f"/courses/{course['id']}", None),
        ("PATCH", f"/courses/{course['id']}", {"status": "cancelled"}),
        ("POST", f"/courses/{course['id']}/sessions", _session(other_patient)),
        ("DELETE", f"/sessions/{session_id}", None),
        ("PATCH", f"/sessions/{session_id}", {"pain_score": 1}),
    ]:
        response = other_patient.request(method, path, json=body)
        assert_problem(response, 404)
    assert table_counts(app) == before


def test_a_revoked_token_changes_nothing(app, patient):
    patient.delete("/auth/token")
    before = table_counts(app)
    response = patient.post("/courses", json={"regimen": "standard", "setting": "home",
                                              "start_date": "2026-11-01"})
    assert_problem(response, 401)
    assert table_counts(app) == before


# -- Idempotency-Key ---------------------------------------------------------

def _create(caller, key, start="2026-11-10", **extra):
    return caller.post("/courses", json={"regimen": "standard", "setting": "home",
                                         "start_date": start, **extra},
                       headers={"Idempotency-Key": key})


def test_the_same_key_and_body_answers_the_first_response_again(patient, db_rows):
    first = _create(patient, "key-1")
    again = _create(patient, "key-1")
    assert first.status_code == again.status_code == 201
    assert first.data == again.data
    assert again.headers["Idempotent-Replayed"] == "true"
    assert len(db_rows(Course)) == 1


def test_the_same_key_with_another_body_is_422(patient, db_rows):
    _create(patient, "key-2")
    response = _create(patient, "key-2", start="2026-11-11")
    assert_problem(response, 422)
    assert "Idempotency-Key" in response.get_json()["errors"]
    assert len(db_rows(Course)) == 1


def test_json_formatting_does_not_make_a_different_request(patient, db_rows):
    body = {"regimen": "standard", "setting": "home", "start_date": "2026-11-10"}
    compact = json.dumps(body, separators=(",", ":"))
    spaced = json.dumps(dict(reversed(list(body.items()))), indent=2)
    first = patient.post("/courses", data=compact, content_type="application/json",
                         headers={"Idempotency-Key": "k"})
    again = patient.post("/courses", data=spaced, content_type="application/json",
                         headers={"Idempotency-Key": "k"})
    assert first.data == again.data
    assert len(db_rows(Course)) == 1


def test_keys_are_per_user(patient, other_patient, db_rows):
    mine = _create(patient, "shared-key")
    theirs = _create(other_patient, "shared-key")
    assert mine.status_code == theirs.status_code == 201
    assert mine.get_json()["id"] != theirs.get_json()["id"]
    assert len(db_rows(Course)) == 2


COURSE_BODY = {"regimen": "standard", "setting": "home", "start_date": "2026-11-10"}


def _claim_left_behind(app, caller, key, age):
    """A claim on `key` for COURSE_BODY with no response, as a worker leaves it mid-request."""
    from api.idempotency import _fingerprint

    with app.test_request_context("/api/v1/courses", method="POST", json=COURSE_BODY):
        fingerprint = _fingerprint()
    with app.app_context():
        session = app.extensions["database"].sessions()
        session.add(IdempotencyRecord(user_id=caller.user["id"], key=key,
                                      fingerprint=fingerprint, created_at=utcnow() - age))
        session.commit()


def test_a_key_still_being_processed_is_409(app, patient, db_rows):
    _claim_left_behind(app, patient, "busy", age=timedelta(seconds=2))
    response = _create(patient, "busy")
    assert_problem(response, 409)
    assert response.headers["Retry-After"] == "1"
    assert db_rows(Course) == []


def test_a_claim_abandoned_by_a_dead_worker_is_taken_over(app, patient, db_rows):
    _claim_left_behind(app, patient, "orphan", age=timedelta(minutes=5))
    response = _create(patient, "orphan")
    assert response.status_code == 201
    assert len(db_rows(Course)) == 1
    assert _create(patient, "orphan").data == response.data


def test_a_key_is_forgotten_after_24_hours(app, patient, db_rows):
    first = _create(patient, "old")
    patient.patch(f"/courses/{first.get_json()['id']}", json={"status": "cancelled"})
    with app.app_context():
        session = app.extensions["database"].sessions()
        record = session.scalars(select(IdempotencyRecord)).one()
        record.created_at = utcnow() - timedelta(hours=25)
        session.commit()
    again = _create(patient, "old")
    assert again.status_code == 201
    assert again.get_json()["id"] != first.get_json()["id"]
    assert len(db_rows(Course)) == 2


def test_a_failed_request_does_not_hold_its_key(patient, db_rows):
    failed = _create(patient, "retry-me", start="2036-01-01")
    assert failed.status_code == 422
    assert db_rows(IdempotencyRecord) == []
    assert _create(patient, "retry-me").status_code == 201


@pytest.mark.parametrize("key", ["", "x" * 256, "naïve-ключ"])
def test_a_malformed_key_is_422(patient, key, db_rows):
    response = _create(patient, key)
    assert_problem(response, 422)
    assert db_rows(Course) == []


# -- paging ------------------------------------------------------------------

@pytest.mark.parametrize("query", ["limit=0", "limit=201", "limit=x", "cursor=%%%", "cursor=WzFd1",
                                   "cursor=eyJhIjoxfQ", "limt=10"])
def test_bad_paging_arguments_are_422(patient, query):
    assert_problem(patient.get(f"/courses?{query}"), 422)


def test_an_empty_cursor_is_the_first_page(patient):
    start_course(patient)
    assert len(patient.get("/courses?cursor=").get_json()["items"]) == 1


def test_sessions_are_stored_once_per_idempotent_retry(app, patient, db_rows):
    course = start_course(patient)
    body = _session(patient)
    first = patient.post(f"/courses/{course['id']}/sessions", json=body,
                         headers={"Idempotency-Key": "s-1"})
    again = patient.post(f"/courses/{course['id']}/sessions", json=body,
                         headers={"Idempotency-Key": "s-1"})
    assert first.status_code == again.status_code == 201
    assert first.data == again.data
    assert len(db_rows(TreatmentSession)) == 1


@pytest.mark.parametrize("path", ["/api/v1/auth/token", "/api/v1/auth/register"])
def test_text_with_a_nul_character_is_422_not_a_database_error(client, path):
    response = client.post(path, json={"email": "a\u0000b@example.org", "password": "x" * 12,
                                       "display_name": "N", "timezone": "UTC"})
    assert_problem(response, 422)



def test_a_nul_character_in_a_query_string_is_422_too(clinician, patient, link):
    link(patient, clinician)
    assert clinician.get("/clinician/patients?q=anna").status_code == 200
    assert_problem(clinician.get("/clinician/patients?q=an%00na"), 422)
