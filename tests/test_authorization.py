"""Authorization: every route of the app is in one table of cases, or this test fails.

Another patient gets 404 on every id route, exactly as for an id that does not
exist, and no byte of the owner's data; an anonymous caller gets 401.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

SECRET_NOTE = "owner-only-note-7f3a"

# Routes anyone may call, with no token.
PUBLIC = {
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/token"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/docs"),
    ("GET", "/healthz"),
}

# Routes for the caller's own things (no id in the path): anonymous gets 401.
OWN = {
    ("GET", "/api/v1/me"): None,
    ("PATCH", "/api/v1/me"): {"display_name": "Mallory"},
    ("DELETE", "/api/v1/auth/token"): None,
    ("GET", "/api/v1/courses"): None,
    ("POST", "/api/v1/courses"): {"regimen": "standard", "setting": "home",
                                  "start_date": "2026-11-20"},
    ("GET", "/api/v1/devices"): None,
    ("POST", "/api/v1/devices"): {"kind": "pen", "needle_length_mm": 0.5},
}

# Routes with an id: (method, rule) -> request body. Another patient gets 404.
BY_ID = {
    ("GET", "/api/v1/courses/<int:course_id>"): None,
    ("PATCH", "/api/v1/courses/<int:course_id>"): {"status": "cancelled"},
    ("POST", "/api/v1/courses/<int:course_id>/clearance"): {"note": "cleared"},
    ("GET", "/api/v1/courses/<int:course_id>/status"): None,
    ("GET", "/api/v1/courses/<int:course_id>/sessions"): None,
    ("POST", "/api/v1/courses/<int:course_id>/sessions"): "session",
    ("GET", "/api/v1/sessions/<int:session_id>"): None,
    ("PATCH", "/api/v1/sessions/<int:session_id>"): {"pain_score": 1},
    ("DELETE", "/api/v1/sessions/<int:session_id>"): None,
    ("POST", "/api/v1/sessions/<int:session_id>/check-in"): {
        "redness_persists": False, "swelling_persists": False, "infection_signs": False},
    ("GET", "/api/v1/devices/<int:device_id>"): None,
    ("PATCH", "/api/v1/devices/<int:device_id>"): {"label": "mine now"},
}


def app_routes(app) -> set[tuple[str, str]]:
    return {(method, rule.rule) for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_route_is_in_the_table(app):
    listed = PUBLIC | set(OWN) | set(BY_ID)
    missing = app_routes(app) - listed
    assert not missing, f"routes with no authorization case: {sorted(missing)}"
    assert not listed - app_routes(app), "the table lists routes the app does not have"


@pytest.fixture
def owned(patient):
    """A course with a logged session and a device of `patient`."""
    now = datetime.now(ZoneInfo(patient.user["timezone"]))
    course = patient.post("/courses", json={
        "regimen": "standard", "setting": "clinic",
        "start_date": (now.date() - timedelta(days=10)).isoformat()}).get_json()
    device = patient.post("/devices", json={"kind": "roller", "needle_length_mm": 0.5,
                                            "label": SECRET_NOTE}).get_json()
    logged = patient.post(f"/courses/{course['id']}/sessions", json={
        "performed_at": (now - timedelta(days=2)).isoformat(), "device_id": device["id"],
        "notes": SECRET_NOTE}).get_json()
    return {"course_id": course["id"], "session_id": logged["session"]["id"],
            "device_id": device["id"]}


def _path(rule: str, ids: dict) -> str:
    for name, value in ids.items():
        rule = rule.replace(f"<int:{name}>", str(value))
    return rule.removeprefix("/api/v1")


def _body(body, caller):
    if body == "session":
        now = datetime.now(ZoneInfo(caller.user["timezone"]))
        return {"performed_at": (now - timedelta(hours=1)).isoformat(), "needle_length_mm": 0.5}
    return body


@pytest.mark.parametrize(("method", "rule"), sorted(BY_ID), ids=[f"{m} {r}" for m, r in sorted(BY_ID)])
def test_another_patient_gets_404_and_no_byte_of_the_resource(owned, patient, other_patient,
                                                              method, rule):
    response = other_patient.request(method, _path(rule, owned),
                                     json=_body(BY_ID[(method, rule)], other_patient))
    assert response.status_code == 404, response.get_json()
    assert SECRET_NOTE.encode() not in response.data
    # The owner still sees the object unchanged afterwards.
    assert patient.get(f"/courses/{owned['course_id']}").get_json()["status"] == "active"
    assert patient.get(f"/sessions/{owned['session_id']}").get_json()["notes"] == SECRET_NOTE


@pytest.mark.parametrize(("method", "rule"), sorted(BY_ID), ids=[f"{m} {r}" for m, r in sorted(BY_ID)])
def test_a_clinician_with_no_link_sees_nothing(owned, clinician, method, rule):
    response = clinician.request(method, _path(rule, owned),
                                 json=_body(BY_ID[(method, rule)], clinician))
    assert response.status_code in (403, 404)
    assert SECRET_NOTE.encode() not in response.data


@pytest.mark.parametrize(("method", "rule"), sorted(set(BY_ID) | set(OWN)),
                         ids=[f"{m} {r}" for m, r in sorted(set(BY_ID) | set(OWN))])
def test_anonymous_callers_get_401(client, owned, method, rule):
    body = {**BY_ID, **OWN}[(method, rule)]
    response = client.open(rule.replace("<int:course_id>", str(owned["course_id"]))
                           .replace("<int:session_id>", str(owned["session_id"]))
                           .replace("<int:device_id>", str(owned["device_id"])),
                           method=method, json=body if isinstance(body, dict) else None)
    assert response.status_code == 401
    assert response.content_type == "application/problem+json"


def test_lists_show_no_foreign_rows(owned, other_patient):
    assert other_patient.get("/courses").get_json()["items"] == []
    assert other_patient.get("/devices").get_json()["items"] == []


def test_another_patients_device_cannot_be_used_in_a_session(owned, other_patient):
    now = datetime.now(ZoneInfo(other_patient.user["timezone"]))
    course = other_patient.post("/courses", json={
        "regimen": "standard", "setting": "home",
        "start_date": (now.date() - timedelta(days=3)).isoformat()}).get_json()
    response = other_patient.post(f"/courses/{course['id']}/sessions", json={
        "performed_at": (now - timedelta(hours=1)).isoformat(), "device_id": owned["device_id"]})
    assert response.status_code == 422
    assert "device_id" in response.get_json()["errors"]
    assert SECRET_NOTE.encode() not in response.data
