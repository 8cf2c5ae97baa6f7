"""Courses through HTTP: starting one (regimen, screening), its lifecycle, clearance, listing.

What a mobile app or a trichologist notices: the status and hold reasons a new
course gets, which status changes are accepted (409 otherwise, nothing
changed), who may clear a hold, paging, ETags and that nobody sees another
patient's courses. Dates are relative to the patient's today (the app uses the
real clock).
"""

from __future__ import annotations

import base64
import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

ABSOLUTE = ("pregnancy", "malignancy", "bleeding_disorder_or_anticoagulants", "acute_infection",
            "scalp_damage", "scalp_inflammation", "moles_in_area", "keloid_tendency",
            "severe_heart_disease")
RELATIVE = ("diabetes", "autoimmune_disease", "eczema_or_psoriasis", "rosacea_or_couperosis",
            "warts_in_area", "chronic_disease_flare", "epilepsy", "chronic_infection",
            "substance_dependence", "sensitive_skin")


def case_id(value):
    """Readable ids for table rows given as dicts (pytest's default is `body0`, `body1`...)."""
    if isinstance(value, dict):
        return "-".join(f"{key}={item}" for key, item in value.items()) or "empty"
    return None


def today_of(caller) -> date:
    return datetime.now(ZoneInfo(caller.user["timezone"])).date()


def course_body(caller, *, days_ago: int = 0, regimen: str = "standard", setting: str = "clinic",
                **fields) -> dict:
    start = today_of(caller) - timedelta(days=days_ago)
    return {"regimen": regimen, "setting": setting, "start_date": start.isoformat(), **fields}


def start_course(caller, **fields) -> dict:
    response = caller.post("/courses", json=course_body(caller, **fields))
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def set_status(caller, course_id: int, status: str):
    return caller.patch(f"/courses/{course_id}", json={"status": status})


def log_session(caller, course_id: int, days_ago: int):
    performed_at = datetime.now(ZoneInfo(caller.user["timezone"])) - timedelta(days=days_ago)
    return caller.post(f"/courses/{course_id}/sessions", json={
        "performed_at": performed_at.isoformat(), "needle_length_mm": 0.75,
        "device_disinfected": True})


def course_in(caller, status: str) -> dict:
    """A course of `caller` brought to `status` the way a user would get it there."""
    if status == "on_hold":
        return start_course(caller, screening={"diabetes": True})
    if status == "completed":
        course = start_course(caller, days_ago=70)
        for days_ago in range(70, 0, -7):
            assert log_session(caller, course["id"], days_ago).status_code == 201
    else:
        course = start_course(caller)
        if status != "active":
            assert set_status(caller, course["id"], status).status_code == 200
    body = caller.get(f"/courses/{course['id']}").get_json()
    assert body["status"] == status
    return body


def forged_cursor(value) -> str:
    """A cursor in the server's encoding that the server never issued."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


def problem_fields(response) -> set[str]:
    return set(response.get_json().get("errors", {}))


# --- POST /courses: regimen, setting, therapies -------------------------------------------


def test_standard_course_starts_active_without_phase_sizes(patient):
    response = patient.post("/courses", json=course_body(patient, days_ago=2, setting="home",
                                                         concurrent_therapies=["minoxidil"]))

    assert response.status_code == 201
    course = response.get_json()
    assert course["regimen"] == "standard"
    assert course["setting"] == "home"
    assert course["start_date"] == (today_of(patient) - timedelta(days=2)).isoformat()
    assert course["status"] == "active"
    assert course["hold_reasons"] == []
    assert course["weekly_sessions"] is None
    assert course["biweekly_sessions"] is None
    assert course["concurrent_therapies"] == ["minoxidil"]
    assert course["clearance"] is None
    assert isinstance(course["id"], int)
    assert datetime.fromisoformat(course["created_at"]).utcoffset() is not None
    assert patient.get(f"/courses/{course['id']}").get_json() == course


@pytest.mark.parametrize(("sizes", "expected"), [
    ({}, (5, 5)),
    ({"weekly_sessions": 4, "biweekly_sessions": 4}, (4, 4)),
    ({"weekly_sessions": 4}, (4, 5)),
    ({"biweekly_sessions": 4}, (5, 4)),
], ids=case_id)
def test_intensive_course_phase_sizes(patient, sizes, expected):
    course = start_course(patient, regimen="intensive", setting="clinic", **sizes)

    assert course["status"] == "active"
    assert course["setting"] == "clinic"
    assert (course["weekly_sessions"], course["biweekly_sessions"]) == expected


@pytest.mark.parametrize(("regimen", "field", "value"), [
    ("intensive", "weekly_sessions", 3),
    ("intensive", "weekly_sessions", 6),
    ("intensive", "biweekly_sessions", 6),
    ("standard", "weekly_sessions", 5),
    ("standard", "biweekly_sessions", 4),
])
def test_bad_phase_sizes_are_refused(patient, regimen, field, value):
    response = patient.post("/courses", json=course_body(patient, regimen=regimen,
                                                         **{field: value}))

    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert field in problem_fields(response)
    assert patient.get("/courses").get_json()["items"] == []


@pytest.mark.parametrize(("field", "value"), [
    ("regimen", "express"),
    ("setting", "spa"),
    ("status", "active"),
    ("id", 7),
    ("colour", "blue"),
])
def test_unknown_values_and_fields_are_refused(patient, field, value):
    response = patient.post("/courses", json={**course_body(patient), field: value})

    assert response.status_code == 422
    assert field in problem_fields(response)


def test_concurrent_therapies_are_trimmed_and_deduplicated(patient):
    course = start_course(patient, concurrent_therapies=[
        " minoxidil ", "minoxidil", "finasteride\n", "  finasteride", "biotin"])

    assert course["concurrent_therapies"] == ["minoxidil", "finasteride", "biotin"]
    stored = patient.get(f"/courses/{course['id']}").get_json()
    assert stored["concurrent_therapies"] == ["minoxidil", "finasteride", "biotin"]


@pytest.mark.parametrize("therapies", [[""], ["   "], ["minoxidil", " \t "]], ids=repr)
def test_blank_therapies_are_refused(patient, therapies):
    response = patient.post("/courses", json=course_body(patient, concurrent_therapies=therapies))

    assert response.status_code == 422
    assert any(name.startswith("concurrent_therapies") for name in problem_fields(response))
    assert patient.get("/courses").get_json()["items"] == []


# --- screening ----------------------------------------------------------------------------


@pytest.mark.parametrize(("answers", "status", "reasons"), [
    ({}, "active", []),
    ({key: False for key in ABSOLUTE + RELATIVE}, "active", []),
    ({"pregnancy": True}, "on_hold", ["pregnancy"]),
    ({"diabetes": True, "pregnancy": False}, "on_hold", ["diabetes"]),
    ({"sensitive_skin": True, "diabetes": True, "keloid_tendency": True, "pregnancy": True},
     "on_hold", ["pregnancy", "keloid_tendency", "diabetes", "sensitive_skin"]),
    ({key: True for key in reversed(ABSOLUTE + RELATIVE)}, "on_hold", list(ABSOLUTE + RELATIVE)),
])
def test_screening_puts_the_course_on_hold_with_reasons_in_table_order(
        patient, answers, status, reasons):
    course = start_course(patient, screening=answers)

    assert course["status"] == status
    assert course["hold_reasons"] == reasons
    assert patient.get(f"/courses/{course['id']}/status").get_json()["hold_reasons"] == reasons


@pytest.mark.parametrize("screening", [
    {"headache": True},
    {"pregnancy": False, "cold_feet": False},
    {"pregnancy": "yes"},
    {"diabetes": 1},
    {"diabetes": None},
    ["pregnancy"],
], ids=case_id)
def test_bad_screening_is_refused(patient, screening):
    response = patient.post("/courses", json=course_body(patient, screening=screening))

    assert response.status_code == 422
    assert any(name.startswith("screening") for name in problem_fields(response))
    assert patient.get("/courses").get_json()["items"] == []


# --- start date ---------------------------------------------------------------------------


@pytest.mark.parametrize(("days_ago", "status_code"), [
    (365, 201),
    (366, 422),
    (-90, 201),
    (-91, 422),
    (-3650, 422),
])
def test_start_date_window(patient, days_ago, status_code):
    response = patient.post("/courses", json=course_body(patient, days_ago=days_ago))

    assert response.status_code == status_code
    if status_code == 422:
        assert "start_date" in problem_fields(response)


@pytest.mark.parametrize("start_date", ["2025-02-30", "2026/11/01", "next monday", None])
def test_malformed_start_date_is_refused(patient, start_date):
    response = patient.post("/courses", json={**course_body(patient), "start_date": start_date})

    assert response.status_code == 422
    assert "start_date" in problem_fields(response)


# --- one open course at a time ------------------------------------------------------------


@pytest.mark.parametrize("first_status", ["active", "on_hold", "paused"])
def test_a_second_course_while_one_is_open_conflicts(patient, first_status):
    first = course_in(patient, first_status)

    response = patient.post("/courses", json=course_body(patient))

    assert response.status_code == 409
    assert [course["id"] for course in patient.get("/courses").get_json()["items"]] == [first["id"]]


@pytest.mark.parametrize("first_status", ["ended", "cancelled", "completed"])
def test_a_new_course_after_the_previous_one_is_closed(patient, first_status):
    first = course_in(patient, first_status)

    response = patient.post("/courses", json=course_body(patient))

    assert response.status_code == 201
    assert response.get_json()["status"] == "active"
    items = patient.get("/courses").get_json()["items"]
    assert [course["id"] for course in items] == [response.get_json()["id"], first["id"]]


def test_open_courses_of_another_patient_do_not_block(patient, other_patient):
    start_course(other_patient)

    assert patient.post("/courses", json=course_body(patient)).status_code == 201


# --- clearance ----------------------------------------------------------------------------


def test_patient_attests_clearance_of_relative_reasons(patient):
    course = start_course(patient, screening={"diabetes": True, "epilepsy": True})

    response = patient.post(f"/courses/{course['id']}/clearance",
                            json={"note": "Dr. Weber said my diabetes is well controlled."})

    assert response.status_code == 200
    cleared = response.get_json()
    assert cleared["status"] == "active"
    assert cleared["clearance"]["note"] == "Dr. Weber said my diabetes is well controlled."
    assert cleared["clearance"]["cleared_by"] == patient.user["id"]
    cleared_at = datetime.fromisoformat(cleared["clearance"]["cleared_at"])
    assert abs(datetime.now(ZoneInfo("UTC")) - cleared_at) < timedelta(minutes=1)
    stored = patient.get(f"/courses/{course['id']}").get_json()
    assert stored["status"] == "active"
    assert stored["clearance"] == cleared["clearance"]
    assert log_session(patient, course["id"], 0).status_code == 201


@pytest.mark.parametrize(("answers", "named"), [
    ({"pregnancy": True}, ["pregnancy"]),
    ({"diabetes": True, "scalp_damage": True}, ["scalp_damage"]),
])
def test_patient_cannot_clear_absolute_reasons(patient, answers, named):
    course = start_course(patient, screening=answers)

    response = patient.post(f"/courses/{course['id']}/clearance", json={"note": "I feel fine."})

    assert response.status_code == 403
    assert response.content_type == "application/problem+json"
    detail = response.get_json()["detail"]
    for reason in named:
        assert reason in detail
    assert "diabetes" not in detail
    assert "linked clinician" in detail
    stored = patient.get(f"/courses/{course['id']}").get_json()
    assert stored["status"] == "on_hold"
    assert stored["clearance"] is None


def test_clearing_a_course_that_is_not_on_hold_conflicts(patient):
    course = start_course(patient)

    response = patient.post(f"/courses/{course['id']}/clearance", json={"note": "Just in case."})

    assert response.status_code == 409
    stored = patient.get(f"/courses/{course['id']}").get_json()
    assert stored["status"] == "active"
    assert stored["clearance"] is None


@pytest.mark.parametrize("body", [{}, {"note": ""}, {"note": None}, {"note": "ok", "by": "me"}],
                         ids=case_id)
def test_clearance_needs_a_note(patient, body):
    course = start_course(patient, screening={"diabetes": True})

    response = patient.post(f"/courses/{course['id']}/clearance", json=body)

    assert response.status_code == 422
    assert patient.get(f"/courses/{course['id']}").get_json()["status"] == "on_hold"


def test_clearance_of_another_patients_course_is_not_found(patient, other_patient):
    course = start_course(other_patient, screening={"diabetes": True})

    response = patient.post(f"/courses/{course['id']}/clearance", json={"note": "Cleared."})

    assert response.status_code == 404
    assert other_patient.get(f"/courses/{course['id']}").get_json()["status"] == "on_hold"


# --- PATCH status -------------------------------------------------------------------------


@pytest.mark.parametrize(("path", "final"), [
    (["paused", "active"], "active"),
    (["paused", "ended"], "ended"),
    (["paused", "cancelled"], "cancelled"),
    (["ended"], "ended"),
    (["cancelled"], "cancelled"),
    (["paused", "active", "paused", "active", "ended"], "ended"),
])
def test_legal_status_changes_from_active(patient, path, final):
    course = start_course(patient)

    for status in path:
        response = set_status(patient, course["id"], status)
        assert response.status_code == 200, response.get_json()
        assert response.get_json()["status"] == status

    assert patient.get(f"/courses/{course['id']}").get_json()["status"] == final


def test_on_hold_course_can_be_cancelled(patient):
    course = start_course(patient, screening={"pregnancy": True})

    response = set_status(patient, course["id"], "cancelled")

    assert response.status_code == 200
    assert response.get_json()["status"] == "cancelled"
    assert patient.get(f"/courses/{course['id']}").get_json()["status"] == "cancelled"


@pytest.mark.parametrize(("current", "target"), [
    ("ended", "active"),
    ("ended", "paused"),
    ("ended", "cancelled"),
    ("cancelled", "paused"),
    ("cancelled", "active"),
    ("on_hold", "active"),
    ("on_hold", "paused"),
    ("completed", "paused"),
    ("completed", "active"),
])
def test_illegal_status_changes_conflict_and_change_nothing(patient, current, target):
    course = course_in(patient, current)

    response = set_status(patient, course["id"], target)

    assert response.status_code == 409
    assert response.content_type == "application/problem+json"
    assert patient.get(f"/courses/{course['id']}").get_json() == course


@pytest.mark.parametrize("body", [
    {"status": "completed"},
    {"status": "on_hold"},
    {"status": "finished"},
    {"status": None},
    {},
    {"status": "paused", "regimen": "intensive"},
], ids=case_id)
def test_bad_status_requests_are_refused(patient, body):
    course = start_course(patient)

    response = patient.patch(f"/courses/{course['id']}", json=body)

    assert response.status_code == 422
    assert patient.get(f"/courses/{course['id']}").get_json() == course


@pytest.mark.parametrize("status", ["active", "paused"])
def test_asking_for_the_current_status_is_a_no_op(patient, status):
    course = course_in(patient, status)

    response = set_status(patient, course["id"], status)

    assert response.status_code == 200
    assert response.get_json() == course


# --- GET /courses and /courses/{id} -------------------------------------------------------


def test_courses_are_listed_newest_first_across_pages(patient, other_patient):
    created = []
    for _ in range(5):
        course = start_course(patient)
        created.append(course["id"])
        assert set_status(patient, course["id"], "ended").status_code == 200
    start_course(other_patient)

    seen, pages, cursor = [], 0, None
    while True:
        query = {"limit": 2} if cursor is None else {"limit": 2, "cursor": cursor}
        response = patient.get("/courses", query_string=query)
        assert response.status_code == 200
        body = response.get_json()
        assert len(body["items"]) <= 2
        seen += [course["id"] for course in body["items"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert seen == created[::-1]
    assert pages == 3


def test_course_list_shows_only_the_callers_courses(patient, other_patient):
    other = start_course(other_patient)

    assert patient.get("/courses").get_json() == {"items": [], "next_cursor": None}
    assert [c["id"] for c in other_patient.get("/courses").get_json()["items"]] == [other["id"]]


@pytest.mark.parametrize("query", [
    {"limit": 0},
    {"limit": 201},
    {"limit": "ten"},
    {"cursor": "not-a-cursor"},
    {"cursor": "!!!"},
    pytest.param({"cursor": forged_cursor(["abc"])}, id="cursor=forged-string-id"),
    pytest.param({"cursor": forged_cursor([])}, id="cursor=forged-empty"),
    pytest.param({"cursor": forged_cursor([10**30])}, id="cursor=forged-huge-id"),
    {"limt": 10},
], ids=case_id)
def test_bad_list_arguments_are_refused(patient, query):
    start_course(patient)

    response = patient.get("/courses", query_string=query)

    assert response.status_code == 422
    assert response.content_type == "application/problem+json"


def test_limit_200_is_accepted(patient):
    course = start_course(patient)

    response = patient.get("/courses", query_string={"limit": 200})

    assert response.status_code == 200
    assert [item["id"] for item in response.get_json()["items"]] == [course["id"]]


def test_course_has_an_etag_and_answers_if_none_match(patient):
    course = start_course(patient)

    first = patient.get(f"/courses/{course['id']}")
    assert first.status_code == 200
    etag = first.headers["ETag"]
    assert etag

    again = patient.get(f"/courses/{course['id']}", headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.get_data() == b""

    set_status(patient, course["id"], "paused")
    changed = patient.get(f"/courses/{course['id']}", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert changed.get_json()["status"] == "paused"


def test_another_patients_course_looks_like_an_unknown_one(patient, other_patient):
    course = start_course(other_patient)

    hidden = patient.get(f"/courses/{course['id']}")
    unknown = patient.get(f"/courses/{course['id'] + 1000}")

    assert hidden.status_code == unknown.status_code == 404
    assert hidden.get_json() == unknown.get_json()
    assert hidden.content_type == "application/problem+json"
    assert set_status(patient, course["id"], "cancelled").status_code == 404
    assert patient.get(f"/courses/{course['id']}/status").status_code == 404
    assert other_patient.get(f"/courses/{course['id']}").get_json()["status"] == "active"


def test_clinician_cannot_start_a_course(clinician):
    body = {"regimen": "standard", "setting": "clinic",
            "start_date": datetime.now(ZoneInfo("UTC")).date().isoformat()}

    response = clinician.post("/courses", json=body)

    assert response.status_code == 403
    assert response.content_type == "application/problem+json"


def test_courses_need_a_token(client):
    response = client.get("/api/v1/courses")

    assert response.status_code == 401
    assert response.content_type == "application/problem+json"
