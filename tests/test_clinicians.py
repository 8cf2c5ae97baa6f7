"""Trichologists: consented sharing, roles, the triage list, measurements, notes, the access log."""

from __future__ import annotations

import re
import threading
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select, text, update

from api.database import db
from storage.models import AccessLogEntry, IdempotencyRecord, Share, utcnow
from tests.conftest import PASSWORD

CODE = re.compile(r"^[2-9A-HJ-NP-Z]{5}-[2-9A-HJ-NP-Z]{5}$")


def local_now(caller) -> datetime:
    return datetime.now(ZoneInfo(caller.user["timezone"]))


def start_course(caller, days_ago=30, **fields):
    body = {"regimen": "standard", "setting": "clinic",
            "start_date": (local_now(caller).date() - timedelta(days=days_ago)).isoformat(),
            **fields}
    response = caller.post("/courses", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def log_session(caller, course_id, days_ago, **fields):
    body = {"performed_at": (local_now(caller) - timedelta(days=days_ago)).isoformat(),
            "needle_length_mm": 0.5, "device_disinfected": True, **fields}
    response = caller.post(f"/courses/{course_id}/sessions", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["session"]


# -- sharing -------------------------------------------------------------------

def test_an_invite_code_is_readable_single_use_and_valid_72_hours(patient, clinician):
    created = patient.post("/shares")
    assert created.status_code == 201
    share = created.get_json()
    assert CODE.match(share["code"])
    assert share["state"] == "pending"
    lifetime = (datetime.fromisoformat(share["expires_at"])
                - datetime.fromisoformat(share["created_at"]))
    assert timedelta(hours=71, minutes=59) < lifetime <= timedelta(hours=72)
    # Read out over the phone: case, spaces and the hyphen do not matter.
    spoken = share["code"].lower().replace("-", " ")
    redeemed = clinician.post("/clinician/patients", json={"code": spoken})
    assert redeemed.status_code == 201
    assert redeemed.get_json()["patient"]["id"] == patient.user["id"]
    (listed,) = patient.get("/shares").get_json()["items"]
    assert listed["state"] == "linked"
    assert listed["clinician"]["display_name"] == "Dr. Weber"
    assert listed["code"] is None


def test_used_expired_and_unknown_codes_answer_the_same(app, patient, clinician, make_clinician):
    used = patient.post("/shares").get_json()["code"]
    clinician.post("/clinician/patients", json={"code": used})
    expired = patient.post("/shares").get_json()["code"]
    with app.app_context():
        session = app.extensions["database"].sessions()
        session.execute(update(Share).where(Share.clinician_id.is_(None))
                        .values(expires_at=utcnow() - timedelta(seconds=1)))
        session.commit()
    other = make_clinician("Dr. Other")
    answers = [other.post("/clinician/patients", json={"code": code})
               for code in (used, expired, "ZZZZZ-ZZZZZ")]
    assert {answer.status_code for answer in answers} == {404}
    assert answers[0].data == answers[1].data == answers[2].data
    assert other.get("/clinician/patients").get_json()["items"] == []


def test_guessing_codes_is_rate_limited(patient, clinician):
    statuses = [clinician.post("/clinician/patients", json={"code": f"ZZZZZ-ZZZ{n:02d}"}).status_code
                for n in range(11)]
    assert statuses == [404] * 10 + [429]
    valid = patient.post("/shares").get_json()["code"]
    assert clinician.post("/clinician/patients", json={"code": valid}).status_code == 429


def test_revocation_holds_from_the_very_next_request(patient, clinician, link):
    course = start_course(patient)
    share = link(patient, clinician)
    assert clinician.get(f"/courses/{course['id']}/status").status_code == 200
    assert patient.delete(f"/shares/{share['id']}").status_code == 204
    assert clinician.get(f"/courses/{course['id']}/status").status_code == 404
    assert clinician.get(f"/clinician/patients/{patient.user['id']}").status_code == 404
    assert clinician.get("/clinician/patients").get_json()["items"] == []
    (listed,) = patient.get("/shares").get_json()["items"]
    assert listed["state"] == "revoked"


def test_a_retried_note_replays_only_while_the_patient_shares(patient, clinician, link):
    course = start_course(patient)
    share = link(patient, clinician)
    path, body = f"/courses/{course['id']}/notes", {"text": "Scalp calm; continue."}
    headers = {"Idempotency-Key": "note-1"}
    first = clinician.post(path, json=body, headers=headers)
    assert first.status_code == 201
    again = clinician.post(path, json=body, headers=headers)
    assert again.status_code == 201 and again.headers["Idempotent-Replayed"] == "true"
    assert again.get_json() == first.get_json()

    assert patient.delete(f"/shares/{share['id']}").status_code == 204
    revoked = clinician.post(path, json=body, headers=headers)
    assert revoked.status_code == 404
    assert "Scalp calm" not in revoked.get_data(as_text=True)


def test_an_erased_patient_leaves_no_replayable_response_with_a_clinician(
        app, patient, clinician, link):
    course = start_course(patient)
    link(patient, clinician)
    path, body = f"/courses/{course['id']}/notes", {"text": "Mild erythema at the crown."}
    headers = {"Idempotency-Key": "note-erased"}
    assert clinician.post(path, json=body, headers=headers).status_code == 201
    assert patient.delete("/me", json={"password": PASSWORD}).status_code == 204

    with app.app_context():
        kept = db().scalars(select(IdempotencyRecord.response_body)
                            .where(IdempotencyRecord.user_id == clinician.user["id"])).all()
    assert not [stored for stored in kept if b"erythema" in (stored or b"")]
    replay = clinician.post(path, json=body, headers=headers)
    assert replay.status_code == 404
    assert "erythema" not in replay.get_data(as_text=True)


def test_a_code_is_redeemed_once_even_by_two_clinicians_at_the_same_moment(app, patient,
                                                                           make_clinician):
    clinicians = [make_clinician(f"Dr. {n}") for n in range(2)]
    for _ in range(5):
        code = patient.post("/shares").get_json()["code"]
        start = threading.Barrier(2)
        statuses = []

        def redeem(clinician):
            client = app.test_client()
            start.wait()
            response = client.post("/api/v1/clinician/patients", json={"code": code},
                                   headers=clinician.headers)
            statuses.append(response.status_code)

        threads = [threading.Thread(target=redeem, args=(c,)) for c in clinicians]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(statuses) in ([201, 404], [201, 409], [404, 409]) or statuses.count(201) == 1
        assert statuses.count(201) <= 1
        # Reset: whoever won is unlinked again, so the next round can be won by either.
        for share in patient.get("/shares").get_json()["items"]:
            if share["state"] == "linked":
                patient.delete(f"/shares/{share['id']}")
    linked_rows = [share for share in patient.get("/shares").get_json()["items"]
                   if share["clinician"] is not None]
    assert len(linked_rows) == 5


def test_linking_twice_to_the_same_patient_is_a_conflict(patient, clinician, link):
    link(patient, clinician)
    code = patient.post("/shares").get_json()["code"]
    assert clinician.post("/clinician/patients", json={"code": code}).status_code == 409


# -- roles ---------------------------------------------------------------------

@pytest.mark.parametrize("path", ["/clinician/patients", "/clinician/patients/1"])
def test_patients_never_reach_the_clinician_routes(patient, path):
    assert patient.get(path).status_code == 403


def test_a_linked_clinician_logs_a_clinic_session_and_the_patient_sees_it(patient, clinician, link):
    course = start_course(patient, days_ago=5)
    link(patient, clinician)
    session = log_session(clinician, course["id"], days_ago=0.1, notes="done at the clinic")
    assert session["number"] == 1
    (done, *_) = patient.get(f"/courses/{course['id']}/sessions").get_json()["items"]
    assert done["notes"] == "done at the clinic"


def test_only_a_linked_clinician_clears_an_absolute_hold(patient, clinician, link):
    course = start_course(patient, screening={"pregnancy": False, "bleeding_disorder_or_anticoagulants": True})
    refused = patient.post(f"/courses/{course['id']}/clearance", json={"note": "I feel fine"})
    assert refused.status_code == 403
    assert "bleeding_disorder_or_anticoagulants" in refused.get_json()["detail"]
    link(patient, clinician)
    cleared = clinician.post(f"/courses/{course['id']}/clearance",
                             json={"note": "INR stable, anticoagulant paused by cardiologist"})
    assert cleared.status_code == 200
    assert cleared.get_json()["status"] == "active"
    assert cleared.get_json()["clearance"]["cleared_by"] == clinician.user["id"]


def test_clinicians_cannot_start_courses_or_keep_devices(clinician):
    assert clinician.post("/courses", json={"regimen": "standard", "setting": "home",
                                            "start_date": "2026-11-20"}).status_code == 403
    assert clinician.post("/devices", json={"kind": "pen", "needle_length_mm": 0.5}).status_code == 403


# -- the triage list -----------------------------------------------------------

@pytest.fixture
def population(register, clinician, link):
    """One linked patient per urgency signal, built so each has exactly that signal on top."""
    people = {}

    def patient(name):
        caller = register(name=name)
        link(caller, clinician)
        people[name] = caller
        return caller

    # No course at all: nothing to act on.
    patient("Quiet Nocourse")
    # A course started today: only the baseline photos are missing.
    start_course(patient("Fresh Photos"), days_ago=0)
    # A roller past its six months, used yesterday: device warning (not overdue).
    worn = patient("Worn Roller")
    course = start_course(worn, days_ago=1)
    roller = worn.post("/devices", json={
        "kind": "roller", "needle_length_mm": 0.5,
        "first_used_on": (local_now(worn).date() - timedelta(days=200)).isoformat()}).get_json()
    log_session(worn, course["id"], days_ago=1, device_id=roller["id"])
    # Overdue: last session 15 days ago (latest = +10) -> 5 days; 20 days ago -> 10 days.
    for name, days in (("Over Five", 15), ("Over Ten", 20)):
        caller = patient(name)
        log_session(caller, start_course(caller, days_ago=days)["id"], days_ago=days)
    # On hold for diabetes.
    start_course(patient("Held Diabetes"), screening={"diabetes": True})
    # Redness persisting a day after the session: consult a doctor.
    flagged = patient("Flag Redness")
    session = log_session(flagged, start_course(flagged, days_ago=2)["id"], days_ago=1)
    flagged.post(f"/sessions/{session['id']}/check-in", json={
        "redness_persists": True, "swelling_persists": False, "infection_signs": False})
    return people


URGENCY_ORDER = ["Flag Redness", "Held Diabetes", "Over Ten", "Over Five", "Worn Roller",
                 "Fresh Photos", "Quiet Nocourse"]


def test_the_triage_list_is_most_urgent_first(population, clinician):
    items = clinician.get("/clinician/patients").get_json()["items"]
    assert [item["display_name"] for item in items] == URGENCY_ORDER
    by_name = {item["display_name"]: item for item in items}
    assert by_name["Flag Redness"]["flags"] == ["consult_doctor"]
    assert by_name["Held Diabetes"]["hold_reasons"] == ["diabetes"]
    assert by_name["Over Ten"]["days_overdue"] == 10
    assert by_name["Over Ten"]["next_session"]["state"] == "overdue"
    assert by_name["Over Five"]["days_overdue"] == 5
    assert "device_expired" in by_name["Worn Roller"]["device_warnings"]
    assert by_name["Fresh Photos"]["photos_due"][0] == "frontal"
    assert by_name["Fresh Photos"]["urgency"] == ["photos_due"]
    assert by_name["Quiet Nocourse"]["course_id"] is None
    assert by_name["Over Ten"]["sessions_done"] == 1
    assert by_name["Over Ten"]["sessions_planned"] == 10


@pytest.mark.parametrize(("query", "names"), [
    ("flag=consult_doctor", ["Flag Redness"]),
    ("overdue=true", ["Over Ten", "Over Five"]),
    ("on_hold=true", ["Held Diabetes"]),
    ("q=over", ["Over Ten", "Over Five"]),
    ("q=ROLLER", ["Worn Roller"]),
    ("q=%25", []),
])
def test_triage_filters(population, clinician, query, names):
    items = clinician.get(f"/clinician/patients?{query}").get_json()["items"]
    assert [item["display_name"] for item in items] == names


def test_triage_pages_cover_everyone_once_in_order(population, clinician):
    seen, cursor = [], ""
    while True:
        page = clinician.get(f"/clinician/patients?limit=2&cursor={cursor}").get_json()
        seen += [item["display_name"] for item in page["items"]]
        if page["next_cursor"] is None:
            break
        cursor = page["next_cursor"]
    assert seen == URGENCY_ORDER


def test_the_triage_query_count_does_not_grow_with_patients(register, clinician, link,
                                                            count_queries):
    def linked_patients(n):
        for _ in range(n):
            caller = register()
            link(caller, clinician)
            log_session(caller, start_course(caller, days_ago=12)["id"], days_ago=12)

    linked_patients(2)
    with count_queries() as few:
        assert len(clinician.get("/clinician/patients").get_json()["items"]) == 2
    linked_patients(8)
    with count_queries() as many:
        assert len(clinician.get("/clinician/patients").get_json()["items"]) == 10
    assert len(many) == len(few) <= 6


def test_a_triage_page_takes_at_most_three_statements(register, clinician, link, count_queries):
    """Issue 17: the token, then the page (after a cursor too); nothing per patient."""
    for _ in range(6):
        caller = register()
        link(caller, clinician)
        log_session(caller, start_course(caller, days_ago=12)["id"], days_ago=12)
    with count_queries() as first:
        page = clinician.get("/clinician/patients?limit=4").get_json()
    with count_queries() as after_cursor:
        rest = clinician.get(f"/clinician/patients?limit=4&cursor={page['next_cursor']}").get_json()
    assert [len(page["items"]), len(rest["items"])] == [4, 2]
    assert len(first) <= 3 and len(after_cursor) <= 3


# -- measurements and progress -------------------------------------------------

def test_measurements_and_progress_in_the_status(patient, clinician, link):
    course = start_course(patient, days_ago=90)
    link(patient, clinician)
    start = local_now(patient) - timedelta(days=84)
    for days, count in ((0, 100), (42, 150), (84, 191.4)):
        response = clinician.post(f"/courses/{course['id']}/observations", json={
            "kind": "hair_count_per_cm2", "value": count, "area": "vertex",
            "observed_at": (start + timedelta(days=days)).isoformat()})
        assert response.status_code == 201
    clinician.post(f"/courses/{course['id']}/observations",
                   json={"kind": "norwood_stage", "value": "3V"})
    patient.post(f"/courses/{course['id']}/observations",
                 json={"kind": "shedding_count", "value": 120})
    status = patient.get(f"/courses/{course['id']}/status").get_json()
    assert status["progress"] == [{"area": "vertex", "kind": "hair_count_per_cm2",
                                   "baseline": 100.0, "latest": 191.4, "change_percent": 91.4},
                                  {"area": None, "kind": "shedding_count", "baseline": 120.0,
                                   "latest": 120.0, "change_percent": 0.0}]
    listed = patient.get(f"/courses/{course['id']}/observations").get_json()["items"]
    assert listed[1]["value"] == "3V"
    assert listed[0]["recorded_by"]["id"] == patient.user["id"]
    (row,) = clinician.get("/clinician/patients").get_json()["items"]
    assert row["hair_count_change_percent"] == 91.4


@pytest.mark.parametrize(("body", "status"), [
    ({"kind": "hair_count_per_cm2", "value": 180}, 422),
    ({"kind": "hair_count_per_cm2", "value": -5, "area": "vertex"}, 422),
    ({"kind": "norwood_stage", "value": "8"}, 422),
    ({"kind": "ludwig_stage", "value": "IV"}, 422),
    ({"kind": "global_photo_assessment", "value": 4}, 422),
    ({"kind": "hair_thickness_um", "value": True, "area": "vertex"}, 422),
    ({"kind": "weight", "value": 80}, 422),
    ({"kind": "shedding_count", "value": 50, "recorded_by": 1}, 422),
])
def test_bad_measurements_are_refused(patient, clinician, link, body, status):
    course = start_course(patient)
    link(patient, clinician)
    assert clinician.post(f"/courses/{course['id']}/observations", json=body).status_code == status
    assert patient.get(f"/courses/{course['id']}/observations").get_json()["items"] == []


def test_patients_may_add_their_shedding_only(patient):
    course = start_course(patient)
    refused = patient.post(f"/courses/{course['id']}/observations",
                           json={"kind": "hair_count_per_cm2", "value": 150, "area": "vertex"})
    assert refused.status_code == 403
    assert patient.post(f"/courses/{course['id']}/observations",
                        json={"kind": "shedding_count", "value": 80}).status_code == 201


# -- notes -----------------------------------------------------------------------

def test_notes_are_written_by_clinicians_read_by_the_patient_changed_by_their_author(
        patient, clinician, make_clinician, link):
    course = start_course(patient)
    link(patient, clinician)
    colleague = make_clinician("Dr. Colleague")
    link(patient, colleague)
    note = clinician.post(f"/courses/{course['id']}/notes",
                          json={"text": "Good response at the vertex."}).get_json()
    (read,) = patient.get(f"/courses/{course['id']}/notes").get_json()["items"]
    assert read["text"] == "Good response at the vertex."
    assert read["author"]["display_name"] == "Dr. Weber"
    assert colleague.patch(f"/notes/{note['id']}", json={"text": "mine now"}).status_code == 404
    assert colleague.delete(f"/notes/{note['id']}").status_code == 404
    assert patient.patch(f"/notes/{note['id']}", json={"text": "x"}).status_code == 403
    assert clinician.patch(f"/notes/{note['id']}", json={"text": "Edited."}).get_json()["text"] == "Edited."
    assert clinician.delete(f"/notes/{note['id']}").status_code == 204
    assert patient.get(f"/courses/{course['id']}/notes").get_json()["items"] == []


# -- the access log --------------------------------------------------------------

def test_every_clinician_read_is_logged_once_and_the_patient_sees_it(patient, clinician, link,
                                                                     db_rows):
    course = start_course(patient)
    log_session(patient, course["id"], days_ago=1)
    link(patient, clinician)
    reads = [f"/courses/{course['id']}/status", f"/courses/{course['id']}/sessions",
             f"/courses/{course['id']}/observations", f"/courses/{course['id']}",
             f"/clinician/patients/{patient.user['id']}"]
    request_ids = []
    for path in reads:
        response = clinician.get(path)
        assert response.status_code == 200
        request_ids.append(response.headers["X-Request-ID"])
    # The patient's own reads are not logged, nor the clinician's writes.
    patient.get(f"/courses/{course['id']}/status")
    clinician.post(f"/courses/{course['id']}/observations",
                   json={"kind": "norwood_stage", "value": "3"})
    entries = patient.get("/me/access-log").get_json()["items"]
    assert [entry["object_type"] for entry in entries] == [
        "patient", "course", "observations", "sessions", "status"]
    assert [entry["request_id"] for entry in entries] == request_ids[::-1]
    assert {entry["clinician"]["id"] for entry in entries} == {clinician.user["id"]}
    assert len(db_rows(AccessLogEntry)) == 5


def test_a_read_that_cannot_be_logged_fails_with_503(app, patient, clinician, link):
    course = start_course(patient)
    link(patient, clinician)
    engine = app.extensions["database"].engine
    with engine.begin() as connection:
        connection.execute(text("ALTER TABLE access_log RENAME TO access_log_away"))
    try:
        response = clinician.get(f"/courses/{course['id']}/status")
    finally:
        with engine.begin() as connection:
            connection.execute(text("ALTER TABLE access_log_away RENAME TO access_log"))
    assert response.status_code == 503
    assert response.content_type == "application/problem+json"
    assert b"next_session" not in response.data
    assert patient.get(f"/courses/{course['id']}/status").status_code == 200


def test_nothing_in_the_access_log_can_be_changed(patient):
    for method in ("POST", "PATCH", "PUT", "DELETE"):
        assert patient.request(method, "/me/access-log").status_code == 405


def test_the_triage_page_matches_its_served_schema(population, clinician, client):
    from openapi_schema_validator import OAS30Validator, oas30_format_checker

    document = client.get("/api/v1/openapi.json").get_json()
    response = document["paths"]["/api/v1/clinician/patients"]["get"]["responses"]["200"]
    schema = {**response["content"]["application/json"]["schema"],
              "components": document["components"]}
    page = clinician.get("/clinician/patients?limit=3").get_json()
    assert page["next_cursor"]
    OAS30Validator(schema, format_checker=oas30_format_checker).validate(page)
    assert page["items"][0]["next_session"]["due"].count("-") == 2
    item_fields = set(document["components"]["schemas"]["TriageItem"]["properties"])
    assert all(set(item) == item_fields for item in page["items"])
