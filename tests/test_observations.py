"""Measurements corrected or withdrawn by whoever recorded them (API.md v2): a withdrawn one
stays in the record and the exports, marked, and leaves the progress and the triage list."""

from __future__ import annotations

import csv
import io
import zipfile
from datetime import datetime, timedelta

from storage.models import Observation
from tests.test_safety import status_of
from tests.test_sessions import start_course


def record(caller, course_id: int, value, observed_days_ago: int, **fields) -> dict:
    observed_at = datetime.now().astimezone() - timedelta(days=observed_days_ago)
    response = caller.post(f"/courses/{course_id}/observations", json={
        "kind": "hair_count_per_cm2", "value": value, "area": "vertex",
        "observed_at": observed_at.isoformat(), **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def hair_count_progress(caller, course_id: int) -> dict | None:
    return next((entry for entry in status_of(caller, course_id)["progress"]
                 if entry["kind"] == "hair_count_per_cm2"), None)


def test_the_recording_clinician_corrects_a_measurement(patient, clinician, link):
    link(patient, clinician)
    course = start_course(patient, days_ago=20)
    record(clinician, course["id"], 150, 19)
    wrong = record(clinician, course["id"], 450, 1)
    assert hair_count_progress(patient, course["id"])["change_percent"] == 200.0

    response = clinician.patch(f"/observations/{wrong['id']}", json={"value": 165})

    assert response.status_code == 200, response.get_json()
    corrected = response.get_json()
    assert corrected["value"] == 165 and corrected["withdrawn"] is False
    assert corrected["recorded_by"]["id"] == clinician.user["id"]
    assert hair_count_progress(patient, course["id"])["change_percent"] == 10.0
    (item,) = clinician.get("/clinician/patients").get_json()["items"]
    assert item["hair_count_change_percent"] == 10.0


def test_a_withdrawn_measurement_leaves_progress_and_triage_but_stays_marked(
        patient, clinician, link):
    link(patient, clinician)
    course = start_course(patient, days_ago=20)
    record(clinician, course["id"], 150, 19)
    wrong = record(clinician, course["id"], 450, 1)

    response = clinician.delete(f"/observations/{wrong['id']}",
                                json={"reason": "Counted on the wrong image."})

    assert response.status_code == 200, response.get_json()
    withdrawn = response.get_json()
    assert withdrawn["withdrawn"] is True
    assert withdrawn["withdrawal"]["reason"] == "Counted on the wrong image."
    assert withdrawn["withdrawal"]["by"] == clinician.user["id"]
    # Only the baseline is left: no change to speak of.
    assert hair_count_progress(patient, course["id"])["latest"] == 150
    (item,) = clinician.get("/clinician/patients").get_json()["items"]
    assert item["hair_count_change_percent"] == 0.0
    listed = patient.get(f"/courses/{course['id']}/observations").get_json()["items"]
    assert [entry["withdrawn"] for entry in listed] == [True, False]
    # A retry of the withdrawal changes nothing; a correction of it is a conflict.
    again = clinician.delete(f"/observations/{wrong['id']}", json={"reason": "retry"})
    assert again.status_code == 200
    assert again.get_json()["withdrawal"] == withdrawn["withdrawal"]
    assert clinician.patch(f"/observations/{wrong['id']}", json={"value": 160}).status_code == 409
    # Kept in the export, marked.
    archive = zipfile.ZipFile(io.BytesIO(patient.get(f"/courses/{course['id']}/export.zip").data))
    rows = list(csv.DictReader(io.StringIO(archive.read("observations.csv").decode("utf-8-sig"))))
    assert [(row["value"], row["withdrawal_reason"]) for row in rows] == [
        ("150.0", ""), ("450.0", "Counted on the wrong image.")]


def test_another_clinicians_measurement_answers_404_and_is_unchanged(
        patient, clinician, link, make_clinician, db_rows):
    link(patient, clinician)
    colleague = make_clinician("colleague")
    link(patient, colleague)
    course = start_course(patient, days_ago=20)
    theirs = record(clinician, course["id"], 150, 19)

    assert colleague.patch(f"/observations/{theirs['id']}", json={"value": 1}).status_code == 404
    assert colleague.delete(f"/observations/{theirs['id']}",
                            json={"reason": "x"}).status_code == 404
    # The patient sees it, but changes only their own shedding counts.
    assert patient.patch(f"/observations/{theirs['id']}", json={"value": 1}).status_code == 403
    (row,) = db_rows(Observation)
    assert row.number == 150 and row.withdrawn_at is None


def test_a_patient_corrects_and_withdraws_their_shedding_count(patient):
    course = start_course(patient, days_ago=20)
    count = record(patient, course["id"], 80, 2, kind="shedding_count", area=None)

    corrected = patient.patch(f"/observations/{count['id']}", json={"value": 60})
    assert corrected.status_code == 200 and corrected.get_json()["value"] == 60
    withdrawn = patient.delete(f"/observations/{count['id']}", json={"reason": "double entry"})
    assert withdrawn.status_code == 200 and withdrawn.get_json()["withdrawn"] is True


def test_bad_corrections_are_422_and_change_nothing(patient, clinician, link, db_rows):
    link(patient, clinician)
    course = start_course(patient, days_ago=20)
    entry = record(clinician, course["id"], 150, 19)
    future = (datetime.now().astimezone() + timedelta(days=3000)).isoformat()

    for body in ({}, {"value": "III"}, {"value": -5}, {"area": None}, {"observed_at": future},
                 {"kind": "shedding_count"}, {"value": True}):
        response = clinician.patch(f"/observations/{entry['id']}", json=body)
        assert response.status_code == 422, (body, response.get_json())
    for body in ({}, {"reason": ""}, {"reason": "x" * 20_000}):
        assert clinician.delete(f"/observations/{entry['id']}", json=body).status_code == 422
    (row,) = db_rows(Observation)
    assert (row.number, row.area, row.withdrawn_at) == (150, "vertex", None)
