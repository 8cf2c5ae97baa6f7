"""Flags as rows with a lifecycle (DOMAIN.md section 4, API.md v2): raised by a session,
named with it in the status and in triage, lowered by that session's all-clear check-in or
by a linked clinician's resolution with a note, and listed, open and lowered."""

from __future__ import annotations

from datetime import datetime

from storage.models import Flag
from tests.test_safety import check_in, status_of
from tests.test_sessions import log_session, start_course


def flags_of(caller, course_id: int) -> list[dict]:
    response = caller.get(f"/courses/{course_id}/flags")
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def flagged_course(patient, clinician, link, **session):
    link(patient, clinician)
    course = start_course(patient, days_ago=10)
    logged = log_session(patient, course["id"], 2, side_effects=["infection_signs"], **session)
    return course, logged["session"]


def test_a_session_raising_a_flag_names_it_in_the_session_the_status_and_triage(
        patient, clinician, link):
    course, session = flagged_course(patient, clinician, link,
                                     pre_check={"acute_infection": True})

    (flag,) = session["flags"]
    reasons = [{"source": "pre_check", "code": "acute_infection"},
               {"source": "side_effect", "code": "infection_signs"}]
    assert flag["open"] is True and flag["code"] == "consult_doctor"
    assert flag["session_id"] == session["id"] and flag["reasons"] == reasons
    assert flag["resolved_at"] is None and flag["resolution"] is None

    status = status_of(patient, course["id"])
    assert status["flags"] == ["consult_doctor"]
    (named,) = status["open_flags"]
    assert named == {"id": flag["id"], "session_id": session["id"], "session_number": 1,
                     "raised_at": named["raised_at"], "reasons": reasons}

    (item,) = clinician.get("/clinician/patients").get_json()["items"]
    (listed,) = item["open_flags"]
    assert item["urgency"][0] == "consult_doctor"
    # The status speaks the patient's zone; the triage list, across patients, UTC.
    assert datetime.fromisoformat(listed.pop("raised_at")) == datetime.fromisoformat(
        named.pop("raised_at"))
    assert listed == named
    assert flags_of(clinician, course["id"]) == [flag]


def test_a_linked_clinician_resolves_a_flag_with_a_note_that_is_kept(patient, clinician, link):
    course, session = flagged_course(patient, clinician, link)
    (flag,) = flags_of(patient, course["id"])

    response = clinician.post(f"/flags/{flag['id']}/resolve",
                              json={"note": "Seen today: a healing scratch, no infection."})

    assert response.status_code == 200, response.get_json()
    resolved = response.get_json()
    assert resolved["open"] is False and resolved["resolution"] == "clinician"
    assert resolved["resolved_by"] == clinician.user["id"]
    assert resolved["note"] == "Seen today: a healing scratch, no infection."
    assert resolved["resolved_at"] is not None
    status = status_of(patient, course["id"])
    assert status["flags"] == [] and status["open_flags"] == []
    (item,) = clinician.get("/clinician/patients").get_json()["items"]
    assert item["open_flags"] == [] and "consult_doctor" not in item["urgency"]
    # Both see it in the record, lowered.
    assert flags_of(patient, course["id"]) == [resolved]
    # A resolution stands: correcting the session's notes raises nothing new.
    assert patient.patch(f"/sessions/{session['id']}", json={"notes": "felt fine"}).status_code == 200
    assert status_of(patient, course["id"])["flags"] == []
    # Resolved once: a second resolution is a conflict.
    again = clinician.post(f"/flags/{flag['id']}/resolve", json={"note": "again"})
    assert again.status_code == 409


def test_new_facts_after_a_resolution_raise_a_new_flag(patient, clinician, link):
    course, session = flagged_course(patient, clinician, link)
    (flag,) = flags_of(patient, course["id"])
    clinician.post(f"/flags/{flag['id']}/resolve", json={"note": "Seen."})

    check_in(patient, session["id"], swelling_persists=True)

    flags = flags_of(patient, course["id"])
    assert [(entry["open"], entry["reasons"]) for entry in flags] == [
        (True, [{"source": "check_in", "code": "swelling_persists"}]),
        (False, [{"source": "side_effect", "code": "infection_signs"}])]


def test_an_all_clear_check_in_lowers_its_sessions_flag_and_says_so(patient, clinician, link):
    course, session = flagged_course(patient, clinician, link)

    check_in(patient, session["id"])

    (flag,) = flags_of(patient, course["id"])
    assert flag["open"] is False and flag["resolution"] == "check_in"
    assert flag["resolved_by"] is None and flag["note"] is None
    # Corrected back to persisting within the window, the session is flagged again.
    response = patient.patch(f"/sessions/{session['id']}/check-in",
                             json={"redness_persists": True})
    assert response.status_code == 200
    assert [entry["open"] for entry in flags_of(patient, course["id"])] == [True, False]


def test_correcting_the_side_effect_away_lowers_the_flag(patient, clinician, link):
    course, session = flagged_course(patient, clinician, link)

    patient.patch(f"/sessions/{session['id']}", json={"side_effects": ["redness"]})

    (flag,) = flags_of(patient, course["id"])
    assert flag["open"] is False and flag["resolution"] == "session_corrected"


def test_a_persisting_check_in_updates_the_open_flags_reasons(patient, clinician, link):
    course, session = flagged_course(patient, clinician, link)

    check_in(patient, session["id"], redness_persists=True, infection_signs=True)

    (flag,) = flags_of(patient, course["id"])
    assert flag["open"] is True
    assert flag["reasons"] == [{"source": "check_in", "code": "redness_persists"},
                               {"source": "check_in", "code": "infection_signs"}]


def test_a_patient_cannot_resolve_a_flag(patient, clinician, link, db_rows):
    course, _ = flagged_course(patient, clinician, link)
    (flag,) = flags_of(patient, course["id"])

    response = patient.post(f"/flags/{flag['id']}/resolve", json={"note": "I feel fine"})

    assert response.status_code == 403
    assert response.mimetype == "application/problem+json"
    assert all(row.resolved_at is None for row in db_rows(Flag))


def test_a_resolution_needs_a_note_of_at_most_10000_characters(patient, clinician, link,
                                                                db_rows):
    course, _ = flagged_course(patient, clinician, link)
    (flag,) = flags_of(patient, course["id"])

    for body in ({}, {"note": ""}, {"note": "   "}, {"note": "x" * 20_000},
                 {"note": "ok", "resolved_by": 1}):
        response = clinician.post(f"/flags/{flag['id']}/resolve", json=body)
        assert response.status_code == 422, body
    assert all(row.resolved_at is None for row in db_rows(Flag))


def test_an_unlinked_clinician_finds_no_flag(patient, clinician, link, make_clinician):
    course, _ = flagged_course(patient, clinician, link)
    (flag,) = flags_of(patient, course["id"])
    stranger = make_clinician("stranger")

    assert stranger.post(f"/flags/{flag['id']}/resolve", json={"note": "x"}).status_code == 404
    assert stranger.get(f"/courses/{course['id']}/flags").status_code == 404


def test_the_status_says_who_may_clear_each_hold_reason(patient):
    course = start_course(patient, days_ago=1,
                          screening={"pregnancy": True, "diabetes": True})

    status = status_of(patient, course["id"])

    assert status["hold_clearance"] == [
        {"reason": "pregnancy", "cleared_by": "clinician"},
        {"reason": "diabetes", "cleared_by": "patient_or_clinician"}]


def test_the_status_gives_the_last_sessions_check_in_window_and_the_projected_end(patient):
    course = start_course(patient, days_ago=10)
    assert status_of(patient, course["id"])["check_in"] is None
    session = log_session(patient, course["id"], 2)["session"]

    status = status_of(patient, course["id"])

    window = status["check_in"]
    assert window["session_id"] == session["id"] and window["done"] is False
    assert window["opens_at"] < window["closes_at"]
    # A standard course at a clinic: sessions 2-10 a week apart from session 1's day.
    assert status["projected_end"] > session["performed_at"][:10]
    check_in(patient, session["id"])
    assert status_of(patient, course["id"])["check_in"]["done"] is True
