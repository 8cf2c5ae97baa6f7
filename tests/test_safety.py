"""Clinical safety through HTTP (DOMAIN.md v2): each defect found against the articles, as a
patient and a trichologist would meet it. Every test here failed before its fix."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from storage.models import CheckIn, Observation, TreatmentSession
from tests.test_sessions import (
    add_device,
    days_back,
    log_session,
    post_session,
    start_course,
)


def status_of(caller, course_id: int) -> dict:
    response = caller.get(f"/courses/{course_id}/status")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def check_in(caller, session_id: int, **answers):
    body = {"redness_persists": False, "swelling_persists": False, "infection_signs": False,
            **answers}
    response = caller.post(f"/sessions/{session_id}/check-in", json=body)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


# -- 1. an absolute hold cannot be dodged by cancelling and starting again -----------------------

def test_an_absolute_reason_holds_every_later_course_until_a_clinician_clears_it(
        patient, clinician, link):
    held = start_course(patient, days_ago=1, screening={"pregnancy": True})
    assert held["status"] == "on_hold"
    assert patient.patch(f"/courses/{held['id']}", json={"status": "cancelled"}).status_code == 200

    again = start_course(patient, days_ago=1, screening={"pregnancy": False})

    assert again["status"] == "on_hold" and again["hold_reasons"] == ["pregnancy"]
    refused = patient.post(f"/courses/{again['id']}/clearance", json={"note": "I feel fine"})
    assert refused.status_code == 403
    link(patient, clinician)
    cleared = clinician.post(f"/courses/{again['id']}/clearance",
                             json={"note": "Delivered in October; no longer pregnant."})
    assert cleared.status_code == 200 and cleared.get_json()["status"] == "active"
    # Cleared by a clinician, the reason is not carried any further.
    patient.patch(f"/courses/{again['id']}", json={"status": "ended"})
    assert start_course(patient, days_ago=1)["status"] == "active"


def test_relative_reasons_stay_with_their_course(patient):
    held = start_course(patient, days_ago=1, screening={"diabetes": True})
    patient.patch(f"/courses/{held['id']}", json={"status": "cancelled"})
    assert start_course(patient, days_ago=1)["status"] == "active"


# -- 2 and 4. a flag belongs to its session -------------------------------------------------------

def test_a_benign_check_in_of_an_older_session_leaves_the_newer_flag(patient, clinician, link):
    link(patient, clinician)
    course = start_course(patient, days_ago=10)
    # Both still within their check-in windows (up to 7 days after).
    first = log_session(patient, course["id"], 6)["session"]
    second = log_session(patient, course["id"], 1)["session"]
    check_in(patient, second["id"], redness_persists=True)
    assert status_of(patient, course["id"])["flags"] == ["consult_doctor"]

    check_in(patient, first["id"])

    status = status_of(patient, course["id"])
    assert status["flags"] == ["consult_doctor"]
    assert status["check_in_due"] is None
    triage = clinician.get("/clinician/patients").get_json()["items"]
    assert triage[0]["flags"] == ["consult_doctor"]


def test_infection_signs_logged_with_a_session_flag_it_at_once_until_its_all_clear(patient):
    course = start_course(patient, days_ago=10)
    session = log_session(patient, course["id"], 2, side_effects=["infection_signs"])["session"]
    assert status_of(patient, course["id"])["flags"] == ["consult_doctor"]

    check_in(patient, session["id"])

    assert status_of(patient, course["id"])["flags"] == []


def test_scarring_flags_and_the_new_side_effect_codes_are_accepted(patient):
    course = start_course(patient, days_ago=10)
    log_session(patient, course["id"], 2, side_effects=["scarring", "peeling", "rash",
                                                        "hyperpigmentation", "contact_dermatitis"])
    assert status_of(patient, course["id"])["flags"] == ["consult_doctor"]


# -- 5. a pen's new sterile cartridge needs no disinfection ---------------------------------------

def test_a_pen_with_a_new_sterile_cartridge_is_not_told_to_disinfect(patient):
    course = start_course(patient, days_ago=10)
    pen = add_device(patient, kind="pen", needle_length_mm=0.75)
    logged = log_session(patient, course["id"], 2, device_id=pen["id"], new_cartridge=True,
                         device_disinfected=None)
    assert "device_not_disinfected" not in logged["warnings"]
    reused = log_session(patient, course["id"], 0, device_id=pen["id"], new_cartridge=False,
                         device_disinfected=None)
    assert {"device_not_disinfected", "cartridge_reused"} <= set(reused["warnings"])


# -- 6. a measurement dated 3000 days ahead --------------------------------------------------------

def test_a_measurement_in_the_future_or_long_before_the_course_is_refused(
        patient, clinician, link, db_rows):
    link(patient, clinician)
    course = start_course(patient, days_ago=10)
    for observed_at in (datetime.now().astimezone() + timedelta(days=3000),
                        datetime.now().astimezone() - timedelta(days=400)):
        response = clinician.post(f"/courses/{course['id']}/observations", json={
            "kind": "hair_count_per_cm2", "value": 180, "area": "vertex",
            "observed_at": observed_at.isoformat()})
        assert response.status_code == 422
        assert "observed_at" in response.get_json()["errors"]
    assert db_rows(Observation) == []


# -- 7. the end-of-course photo set of an intensive course ----------------------------------------

def test_an_intensive_4_4_course_asks_for_the_end_of_course_photos_after_session_8(patient):
    course = start_course(patient, days_ago=120, regimen="intensive", weekly_sessions=4,
                          biweekly_sessions=4)
    for ago in (110, 103, 96, 89, 75, 61, 47, 33):
        log_session(patient, course["id"], ago)
    assert status_of(patient, course["id"])["photos_due"]["milestone"] == "session_8"


# -- 8. smaller ones --------------------------------------------------------------------------------

def test_a_session_before_the_course_started_is_refused(patient, db_rows):
    course = start_course(patient, days_ago=2)
    response = post_session(patient, course["id"], days_back(patient, 32))
    assert response.status_code == 422
    assert "performed_at" in response.get_json()["errors"]
    assert db_rows(TreatmentSession) == []


def test_a_retired_device_warns_from_its_retirement_on(patient):
    course = start_course(patient, days_ago=30)
    roller = add_device(patient, needle_length_mm=0.75)
    before = log_session(patient, course["id"], 20, device_id=roller["id"])
    assert "device_retired" not in before["warnings"]
    assert patient.patch(f"/devices/{roller['id']}", json={"retired": True}).status_code == 200

    after = post_session(patient, course["id"], datetime.now().astimezone(),
                         device_id=roller["id"]).get_json()

    assert "device_retired" in after["warnings"]
    first = patient.get(f"/sessions/{before['session']['id']}").get_json()
    assert "device_retired" not in first["warnings"]


def test_aftercare_counts_from_the_end_of_the_session(patient):
    course = start_course(patient, days_ago=10)
    performed_at = datetime.now().astimezone().replace(microsecond=0) - timedelta(minutes=30)
    response = post_session(patient, course["id"], performed_at, duration_minutes=20)
    assert response.status_code == 201, response.get_json()
    aftercare = {item["activity"]: datetime.fromisoformat(item["allowed_from"])
                 for item in status_of(patient, course["id"])["aftercare"]}
    assert aftercare["comb_hair"] == performed_at + timedelta(minutes=20, hours=1)
    assert aftercare["sauna_pool_solarium"] == performed_at + timedelta(minutes=20, days=7)



# -- the check-in: one per session, from 20 hours to 7 days after it --------------------------------

ALL_CLEAR = {"redness_persists": False, "swelling_persists": False, "infection_signs": False}


def test_a_check_in_an_hour_after_the_session_is_refused_saying_when_it_opens(patient, db_rows):
    course = start_course(patient, days_ago=3)
    performed_at = datetime.now().astimezone().replace(microsecond=0) - timedelta(hours=1)
    session = post_session(patient, course["id"], performed_at, duration_minutes=15).get_json()

    response = patient.post(f"/sessions/{session['session']['id']}/check-in",
                            json={**ALL_CLEAR, "redness_persists": True})

    assert response.status_code == 422
    opens_at = (performed_at + timedelta(minutes=15, hours=20)).astimezone(timezone.utc)
    assert f"opens at {opens_at.isoformat()}" in response.get_json()["detail"]
    assert db_rows(CheckIn) == []
    assert status_of(patient, course["id"])["flags"] == []


def test_a_check_in_eight_days_after_the_session_is_refused(patient, db_rows):
    course = start_course(patient, days_ago=10)
    session = log_session(patient, course["id"], 8)["session"]
    response = patient.post(f"/sessions/{session['id']}/check-in", json=ALL_CLEAR)
    assert response.status_code == 422 and "closed" in response.get_json()["detail"]
    assert db_rows(CheckIn) == []


def test_a_session_has_one_check_in_corrected_in_place_and_shown_with_it(patient, db_rows):
    course = start_course(patient, days_ago=3)
    session = log_session(patient, course["id"], 2)["session"]
    check_in(patient, session["id"], redness_persists=True)

    second = patient.post(f"/sessions/{session['id']}/check-in", json=ALL_CLEAR)
    assert second.status_code == 409
    corrected = patient.patch(f"/sessions/{session['id']}/check-in",
                              json={"redness_persists": False, "note": "Gone by noon."})

    assert corrected.status_code == 200 and corrected.get_json()["consult_doctor"] is False
    assert len(db_rows(CheckIn)) == 1
    shown = patient.get(f"/sessions/{session['id']}").get_json()["check_in"]
    assert shown["note"] == "Gone by noon." and shown["redness_persists"] is False
    assert status_of(patient, course["id"])["flags"] == []


def test_only_the_patient_corrects_a_check_in(patient, clinician, link):
    link(patient, clinician)
    course = start_course(patient, days_ago=3)
    session = log_session(patient, course["id"], 2)["session"]
    check_in(patient, session["id"])
    response = clinician.patch(f"/sessions/{session['id']}/check-in", json=ALL_CLEAR)
    assert response.status_code == 403


# -- readiness: one call before every session -----------------------------------------------------

def readiness(caller, course_id: int, **body):
    response = caller.post(f"/courses/{course_id}/readiness",
                           json={"pre_check": {}, **body})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def test_readiness_says_go_with_the_cautions_the_session_would_get(patient):
    course = start_course(patient, days_ago=20, setting="home")
    log_session(patient, course["id"], 15, needle_length_mm=0.5)
    roller = add_device(patient, needle_length_mm=0.75)

    answer = readiness(patient, course["id"], device_id=roller["id"])

    assert answer["go"] is True and answer["blockers"] == []
    assert "needle_too_long_for_home" in answer["cautions"]
    assert answer["next_session"]["number"] == 2


def blocker_codes(answer) -> list[str]:
    return [blocker["code"] for blocker in answer["blockers"]]


def test_readiness_says_no_go_with_every_reason(patient, db_rows):
    course = start_course(patient, days_ago=20)
    log_session(patient, course["id"], 2, side_effects=["infection_signs"])
    roller = add_device(patient, needle_length_mm=0.75)
    patient.patch(f"/devices/{roller['id']}", json={"retired": True})
    before = len(db_rows(TreatmentSession))

    answer = readiness(patient, course["id"], device_id=roller["id"],
                       pre_check={"scalp_damage": True, "acute_infection": False})

    assert answer["go"] is False
    assert blocker_codes(answer) == ["interval_too_short", "scalp_damage", "consult_doctor",
                                     "device_retired"]
    assert all(blocker["detail"] for blocker in answer["blockers"])
    assert len(db_rows(TreatmentSession)) == before


def test_readiness_of_a_course_on_hold_is_no_go(patient):
    course = start_course(patient, days_ago=1, screening={"diabetes": True})
    assert blocker_codes(readiness(patient, course["id"])) == ["course_not_active"]


def test_readiness_refuses_unknown_pre_check_keys_and_another_patients_device(
        patient, other_patient):
    course = start_course(patient, days_ago=1)
    unknown = patient.post(f"/courses/{course['id']}/readiness",
                           json={"pre_check": {"fever": True}})
    assert unknown.status_code == 422
    theirs = add_device(other_patient)
    other = patient.post(f"/courses/{course['id']}/readiness",
                         json={"pre_check": {}, "device_id": theirs["id"]})
    assert other.status_code == 404


def test_a_session_logged_despite_a_pre_check_yes_is_warned_and_flags(patient):
    course = start_course(patient, days_ago=10)
    logged = log_session(patient, course["id"], 2, pre_check={"scalp_inflammation": True})
    assert "performed_despite_contraindication" in logged["warnings"]
    assert logged["session"]["pre_check"] == {"scalp_inflammation": True}
    assert status_of(patient, course["id"])["flags"] == ["consult_doctor"]


# -- the clinician's hand: a clinical hold ----------------------------------------------------------

def test_a_clinical_hold_is_lifted_only_by_a_linked_clinician(patient, clinician, link):
    link(patient, clinician)
    course = start_course(patient, days_ago=10)
    held = clinician.patch(f"/courses/{course['id']}",
                           json={"status": "on_hold", "note": "Suspected contact dermatitis."})
    assert held.status_code == 200
    body = held.get_json()
    assert body["status"] == "on_hold" and body["hold_reasons"] == ["clinician_hold"]
    assert body["clinical_hold"]["note"] == "Suspected contact dermatitis."

    for attempt in (patient.patch(f"/courses/{course['id']}", json={"status": "active"}),
                    patient.patch(f"/courses/{course['id']}", json={"status": "ended"}),
                    patient.post(f"/courses/{course['id']}/clearance", json={"note": "fine"})):
        assert attempt.status_code == 403
        assert "clinician" in attempt.get_json()["detail"]

    cleared = clinician.post(f"/courses/{course['id']}/clearance",
                             json={"note": "Patch test negative."})
    assert cleared.status_code == 200 and cleared.get_json()["status"] == "active"
    assert cleared.get_json()["clinical_hold"] is None


def test_a_patient_may_cancel_a_clinical_hold_but_not_restart_around_it(patient, clinician, link):
    link(patient, clinician)
    course = start_course(patient, days_ago=10)
    clinician.patch(f"/courses/{course['id']}", json={"status": "on_hold", "note": "See me."})
    assert patient.patch(f"/courses/{course['id']}", json={"status": "cancelled"}).status_code == 200
    again = start_course(patient, days_ago=1)
    assert again["status"] == "on_hold" and again["hold_reasons"] == ["clinician_hold"]


def test_a_clinical_hold_after_a_clearance_does_not_bring_back_what_was_cleared(
        patient, clinician, link):
    """Found by the state machine: scalp damage cleared by the clinician, then a clinical hold,
    then the course cancelled: the next course was held for scalp damage again."""
    link(patient, clinician)
    course = start_course(patient, days_ago=10, screening={"scalp_damage": True})
    assert course["hold_reasons"] == ["scalp_damage"]
    assert clinician.post(f"/courses/{course['id']}/clearance",
                          json={"note": "Healed."}).status_code == 200
    held = clinician.patch(f"/courses/{course['id']}",
                           json={"status": "on_hold", "note": "Redness again, see me."})
    assert held.get_json()["hold_reasons"] == ["clinician_hold"]
    assert patient.patch(f"/courses/{course['id']}", json={"status": "cancelled"}).status_code == 200
    again = start_course(patient, days_ago=1)
    assert again["hold_reasons"] == ["clinician_hold"]


def test_a_reason_carried_and_cleared_stays_cleared_after_a_clinical_hold(
        patient, clinician, link):
    """Found by the state machine too: pregnancy carried into a second course and cleared
    there, then a clinical hold and a cancellation: the third course was held for pregnancy."""
    link(patient, clinician)
    first = start_course(patient, days_ago=20, screening={"pregnancy": True})
    patient.patch(f"/courses/{first['id']}", json={"status": "cancelled"})
    second = start_course(patient, days_ago=10)
    assert second["hold_reasons"] == ["pregnancy"]
    assert clinician.post(f"/courses/{second['id']}/clearance",
                          json={"note": "Not pregnant."}).status_code == 200
    clinician.patch(f"/courses/{second['id']}", json={"status": "on_hold", "note": "See me."})
    assert patient.patch(f"/courses/{second['id']}", json={"status": "cancelled"}).status_code == 200
    assert start_course(patient, days_ago=1)["hold_reasons"] == ["clinician_hold"]


def test_a_clinical_hold_needs_a_note_a_clinician_and_a_course_still_running(
        patient, clinician, link):
    link(patient, clinician)
    course = start_course(patient, days_ago=10)
    assert clinician.patch(f"/courses/{course['id']}",
                           json={"status": "on_hold"}).status_code == 422
    assert patient.patch(f"/courses/{course['id']}",
                         json={"status": "on_hold", "note": "me"}).status_code == 403
    patient.patch(f"/courses/{course['id']}", json={"status": "cancelled"})
    cancelled = clinician.patch(f"/courses/{course['id']}",
                                json={"status": "on_hold", "note": "Too late."})
    assert cancelled.status_code == 409
