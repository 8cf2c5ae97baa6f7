"""The authorization matrix: every route of the app is in ROUTES, or this test fails.

For each route the table says what six callers get: the owner patient, the
clinician the owner shares with (`linked`), another patient, a clinician
with no link, a clinician whose link was revoked, and an anonymous caller.
Foreign callers get 404 (or 403 where their role may never use the route),
never a byte of the owner's data, and change nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from tests import photo_samples
from tests.conftest import PASSWORD

SECRET = "owner-only-7f3a"

# Routes anyone may call, with no token.
PUBLIC = {
    ("POST", "/api/v1/auth/register"),
    ("POST", "/api/v1/auth/token"),
    ("GET", "/api/v1/openapi.json"),
    ("GET", "/api/v1/docs"),
    # The Swagger UI's own files (api/docs_ui.py), at their pinned version.
    ("GET", "/api/v1/docs/assets/5.35.0/<path:filename>"),
    ("GET", "/api/v1/docs/swagger-ui-init.js"),
    ("GET", "/healthz"),
    ("GET", "/readyz"),
    # The feed URL is the secret: phone calendars cannot send a token (see test_calendar).
    ("GET", "/api/v1/calendar/<token>.ics"),
}


@dataclass(frozen=True)
class Case:
    """Expected statuses: `owner` and `linked`; foreign callers get `foreign_patient`
    (another patient) and `foreign_clinician` (not linked, or revoked)."""

    owner: int
    linked: int
    foreign_patient: int = 404
    foreign_clinician: int = 404
    body: object = None
    secret_in_owner_view: bool = False
    extra: dict = field(default_factory=dict)


def _session_body(zone):
    now = datetime.now(ZoneInfo(zone))
    return {"performed_at": (now - timedelta(hours=1)).isoformat(), "needle_length_mm": 0.5,
            "device_disinfected": True}


CHECK_IN = {"redness_persists": False, "swelling_persists": False, "infection_signs": False}

ROUTES: dict[tuple[str, str], Case] = {
    ("GET", "/api/v1/me"): Case(200, 200, 200, 200),
    ("PATCH", "/api/v1/me"): Case(200, 200, 200, 200, body={"display_name": "Renamed"}),
    ("DELETE", "/api/v1/auth/token"): Case(204, 204, 204, 204),
    # Each patient erases only themselves; clinician accounts are the operator's.
    ("DELETE", "/api/v1/me"): Case(204, 403, 204, 403, body={"password": PASSWORD}),
    ("GET", "/api/v1/me/export"): Case(200, 403, 200, 403),
    ("POST", "/api/v1/me/calendar-token"): Case(201, 403, 201, 403),
    ("GET", "/api/v1/courses"): Case(200, 200, 200, 200, secret_in_owner_view=False),
    ("POST", "/api/v1/courses"): Case(409, 403, 201, 403, body={
        "regimen": "standard", "setting": "home", "start_date": "{today}"}),
    ("GET", "/api/v1/courses/<int:course_id>"): Case(200, 200),
    ("PATCH", "/api/v1/courses/<int:course_id>"): Case(200, 200, body={"status": "paused"}),
    ("POST", "/api/v1/courses/<int:course_id>/clearance"): Case(409, 409, body={"note": "ok"}),
    ("GET", "/api/v1/courses/<int:course_id>/status"): Case(200, 200),
    ("GET", "/api/v1/courses/<int:course_id>/export.zip"): Case(200, 200),
    ("POST", "/api/v1/courses/<int:course_id>/exports"): Case(202, 202, body={"format": "zip"}),
    # An export job is its requester's (here the owner's) alone.
    ("GET", "/api/v1/exports/<int:export_id>"): Case(200, 404),
    ("GET", "/api/v1/exports/<int:export_id>/file"): Case(200, 404),
    ("GET", "/api/v1/courses/<int:course_id>/export.pdf"): Case(200, 200),
    ("GET", "/api/v1/courses/<int:course_id>/fhir"): Case(200, 200, secret_in_owner_view=True),
    # No `?area=` here: the query is refused before the course is looked up (see test_exports).
    ("GET", "/api/v1/courses/<int:course_id>/timelapse.gif"): Case(422, 422, 422, 422),
    ("GET", "/api/v1/courses/<int:course_id>/sessions"): Case(200, 200, secret_in_owner_view=True),
    ("POST", "/api/v1/courses/<int:course_id>/sessions"): Case(201, 201, body="session"),
    ("GET", "/api/v1/sessions/<int:session_id>"): Case(200, 200, secret_in_owner_view=True),
    ("PATCH", "/api/v1/sessions/<int:session_id>"): Case(200, 200, body={"pain_score": 2}),
    ("DELETE", "/api/v1/sessions/<int:session_id>"): Case(204, 204),
    ("POST", "/api/v1/sessions/<int:session_id>/check-in"): Case(201, 403, body=CHECK_IN),
    # The world's session has no check-in yet to correct: 409 for its patient.
    ("PATCH", "/api/v1/sessions/<int:session_id>/check-in"): Case(409, 403, body=CHECK_IN),
    ("POST", "/api/v1/courses/<int:course_id>/readiness"): Case(200, 200,
                                                                body={"pre_check": {}}),
    ("GET", "/api/v1/devices"): Case(200, 403, 200, 403),
    ("POST", "/api/v1/devices"): Case(201, 403, 201, 403, body={"kind": "pen", "needle_length_mm": 0.5}),
    ("GET", "/api/v1/devices/<int:device_id>"): Case(200, 403, 404, 403, secret_in_owner_view=True),
    ("PATCH", "/api/v1/devices/<int:device_id>"): Case(200, 403, 404, 403, body={"retired": True}),
    ("GET", "/api/v1/shares"): Case(200, 403, 200, 403),
    ("POST", "/api/v1/shares"): Case(201, 403, 201, 403),
    ("DELETE", "/api/v1/shares/<int:share_id>"): Case(204, 403, 404, 403),
    ("GET", "/api/v1/me/access-log"): Case(200, 403, 200, 403),
    ("GET", "/api/v1/clinician/patients"): Case(403, 200, 403, 200),
    ("POST", "/api/v1/clinician/patients"): Case(403, 404, 403, 404, body={"code": "ZZZZZ-ZZZZZ"}),
    ("GET", "/api/v1/clinician/patients/<int:patient_id>"): Case(403, 200, 403, 404),
    ("GET", "/api/v1/courses/<int:course_id>/observations"): Case(200, 200),
    ("POST", "/api/v1/courses/<int:course_id>/observations"): Case(
        201, 201, body={"kind": "shedding_count", "value": 40}),
    # The patient's own shedding count: the patient corrects and withdraws it; a clinician,
    # even a linked one, finds no such measurement of theirs.
    ("PATCH", "/api/v1/observations/<int:observation_id>"): Case(200, 404, body={"value": 60}),
    ("DELETE", "/api/v1/observations/<int:observation_id>"): Case(200, 404,
                                                                  body={"reason": "miscounted"}),
    ("GET", "/api/v1/courses/<int:course_id>/flags"): Case(200, 200),
    # Resolving is a clinician's act: any patient is a 403 before the flag is looked up.
    ("POST", "/api/v1/flags/<int:flag_id>/resolve"): Case(403, 200, 403, 404,
                                                          body={"note": "seen, healing"}),
    ("GET", "/api/v1/courses/<int:course_id>/notes"): Case(200, 200, secret_in_owner_view=True),
    ("POST", "/api/v1/courses/<int:course_id>/notes"): Case(403, 201, 403, 404, body={"text": "n"}),
    ("PATCH", "/api/v1/notes/<int:note_id>"): Case(403, 200, 403, 404, body={"text": "edited"}),
    ("DELETE", "/api/v1/notes/<int:note_id>"): Case(403, 204, 403, 404),
    ("GET", "/api/v1/photos"): Case(200, 200, 200, 200),
    # A JSON body is not a photo (multipart only): 415 for whoever may upload.
    ("POST", "/api/v1/photos"): Case(415, 403, 415, 403, body={"area": "vertex"}),
    ("POST", "/api/v1/photos/check"): Case(200, 403, 200, 403, body={"sha256": ["0" * 64]}),
    ("GET", "/api/v1/photos/timeline"): Case(200, 200, 200, 200),
    ("GET", "/api/v1/photos/<int:photo_id>"): Case(200, 200, secret_in_owner_view=True),
    ("PATCH", "/api/v1/photos/<int:photo_id>"): Case(200, 403, 404, 403, body={"area": "vertex"}),
    ("DELETE", "/api/v1/photos/<int:photo_id>"): Case(204, 403, 404, 403),
    ("GET", "/api/v1/photos/<int:photo_id>/original"): Case(200, 200),
    ("GET", "/api/v1/photos/<int:photo_id>/preview"): Case(200, 200),
    ("GET", "/api/v1/photos/<int:photo_id>/thumbnail"): Case(200, 200),
    # No `?area=` here: the query is refused before the course is looked up (see test_photos).
    ("GET", "/api/v1/courses/<int:course_id>/compare"): Case(422, 422, 422, 422),
    ("POST", "/api/v1/uploads"): Case(201, 403, 201, 403, body={"length": 100, "area": "vertex"}),
    # No Tus-Resumable header here: 400 once the upload is found (see test_uploads).
    ("PATCH", "/api/v1/uploads/<int:upload_id>"): Case(400, 403, 404, 403),
}

# Routes for the caller's own things, where a foreign caller's 2xx is about themselves.
OWN_ROUTES = {route for route, case in ROUTES.items() if "<" not in route[1]}


def app_routes(app) -> set[tuple[str, str]]:
    return {(method, rule.rule) for rule in app.url_map.iter_rules()
            for method in rule.methods - {"HEAD", "OPTIONS"}}


def test_every_route_is_in_the_table(app):
    listed = PUBLIC | set(ROUTES)
    missing = app_routes(app) - listed
    assert not missing, f"routes with no authorization case: {sorted(missing)}"
    assert not listed - app_routes(app), "the table lists routes the app does not have"


@pytest.fixture
def world(register, make_clinician, link):
    """An owner with a course, session, device, share, note and measurement; five other callers."""
    owner = register(name="Owner Patient")
    now = datetime.now(ZoneInfo(owner.user["timezone"]))
    course = owner.post("/courses", json={
        "regimen": "standard", "setting": "clinic",
        "start_date": (now.date() - timedelta(days=10)).isoformat()}).get_json()
    device = owner.post("/devices", json={"kind": "roller", "needle_length_mm": 0.5,
                                          "label": SECRET}).get_json()
    session = owner.post(f"/courses/{course['id']}/sessions", json={
        "performed_at": (now - timedelta(days=2)).isoformat(), "device_id": device["id"],
        "notes": SECRET, "side_effects": ["infection_signs"]}).get_json()["session"]
    (flag,) = session["flags"]

    linked, unlinked, revoked = (make_clinician(name) for name in ("linked", "unlinked", "revoked"))
    for who in (linked, revoked):
        link(owner, who)
    shares = owner.get("/shares").get_json()["items"]
    revoked_share = next(s for s in shares if s["clinician"]["display_name"] == "revoked")
    assert owner.delete(f"/shares/{revoked_share['id']}").status_code == 204
    linked_share = next(s for s in shares if s["clinician"]["display_name"] == "linked")
    note = linked.post(f"/courses/{course['id']}/notes", json={"text": SECRET}).get_json()
    observation = owner.post(f"/courses/{course['id']}/observations",
                             json={"kind": "shedding_count", "value": 70}).get_json()
    photo = owner.post("/photos", data={"file": (photo_samples.jpeg_file(), "p.jpg"),
                                        "area": "frontal", "note": SECRET}).get_json()
    upload = owner.post("/uploads", json={"length": 1000, "area": "frontal",
                                          "note": SECRET}).get_json()
    export = owner.post(f"/courses/{course['id']}/exports", json={"format": "pdf"}).get_json()
    ids = {"course_id": course["id"], "session_id": session["id"], "device_id": device["id"],
           "export_id": export["id"],
           "share_id": linked_share["id"], "note_id": note["id"], "patient_id": owner.user["id"],
           "photo_id": photo["id"], "upload_id": upload["id"], "flag_id": flag["id"],
           "observation_id": observation["id"]}
    callers = {"owner": owner, "linked": linked, "other_patient": register(name="Other"),
               "unlinked": unlinked, "revoked": revoked}
    return ids, callers


def _call(caller, client, method, rule, case, ids, zone="Europe/Berlin"):
    path = rule
    for name, value in ids.items():
        path = path.replace(f"<int:{name}>", str(value))
    body = case.body
    if body == "session":
        body = _session_body(zone)
    elif isinstance(body, dict):
        today = datetime.now(ZoneInfo(zone)).date().isoformat()
        body = {key: value.replace("{today}", today) if isinstance(value, str) else value
                for key, value in body.items()}
    if caller is None:
        return client.open(path, method=method, json=body)
    return caller.request(method, path.removeprefix("/api/v1"), json=body)


CASES = sorted(ROUTES)
IDS = [f"{method} {rule}" for method, rule in CASES]


@pytest.mark.parametrize(("method", "rule"), CASES, ids=IDS)
def test_foreign_callers_get_nothing_and_change_nothing(world, client, method, rule):
    ids, callers = world
    case = ROUTES[(method, rule)]
    owner = callers["owner"]
    before = {path: owner.get(path).data for path in (
        f"/courses/{ids['course_id']}", f"/courses/{ids['course_id']}/sessions",
        f"/devices/{ids['device_id']}")}
    expected = {"other_patient": case.foreign_patient, "unlinked": case.foreign_clinician,
                "revoked": case.foreign_clinician}
    for name, status in expected.items():
        response = _call(callers[name], client, method, rule, case, ids)
        assert response.status_code == status, (name, response.get_json())
        assert SECRET.encode() not in response.data, name
    anonymous = _call(None, client, method, rule, case, ids)
    assert anonymous.status_code == 401
    assert SECRET.encode() not in anonymous.data
    if (method, rule) not in OWN_ROUTES or method == "GET":
        after = {path: owner.get(path).data for path in before}
        assert after == before


@pytest.mark.parametrize(("method", "rule"), CASES, ids=IDS)
def test_the_owner_and_the_linked_clinician_get_what_the_table_says(world, client, method, rule):
    ids, callers = world
    case = ROUTES[(method, rule)]
    linked = _call(callers["linked"], client, method, rule, case, ids)
    assert linked.status_code == case.linked, linked.get_json()
    owner = _call(callers["owner"], client, method, rule, case, ids)
    assert owner.status_code == case.owner or (
        method == "DELETE" and case.linked == 204 and owner.status_code == 404), owner.get_json()
    if case.secret_in_owner_view:
        assert SECRET.encode() in owner.data


def test_lists_show_no_foreign_rows(world):
    ids, callers = world
    for name in ("other_patient", "unlinked", "revoked"):
        caller = callers[name]
        assert caller.get("/courses").get_json()["items"] == [], name
    for name in ("unlinked", "revoked"):
        assert callers[name].get("/clinician/patients").get_json()["items"] == [], name
    assert callers["other_patient"].get("/devices").get_json()["items"] == []
    assert callers["other_patient"].get("/shares").get_json()["items"] == []
    assert callers["other_patient"].get("/me/access-log").get_json()["items"] == []
    (linked_row,) = callers["linked"].get("/clinician/patients").get_json()["items"]
    assert linked_row["patient_id"] == ids["patient_id"]


def test_another_patients_device_cannot_be_used_in_a_session(world):
    ids, callers = world
    other = callers["other_patient"]
    now = datetime.now(ZoneInfo(other.user["timezone"]))
    course = other.post("/courses", json={
        "regimen": "standard", "setting": "home",
        "start_date": (now.date() - timedelta(days=3)).isoformat()}).get_json()
    response = other.post(f"/courses/{course['id']}/sessions", json={
        "performed_at": (now - timedelta(hours=1)).isoformat(), "device_id": ids["device_id"]})
    assert response.status_code == 422
    assert "device_id" in response.get_json()["errors"]
    assert SECRET.encode() not in response.data
