"""Devices through HTTP: rollers, pens and stamps, and the wear the sessions put on them.

A patient sees `uses`, `max_uses`, `expires_on` and `warnings` change as
sessions are logged; only rollers wear out (8 uses) or expire (6 months from
first use). Devices are private: a clinician gets 403, another patient 404.
"""

from __future__ import annotations

import base64
import calendar
import json
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from storage.models import Device


def case_id(value):
    """Readable ids for table rows given as dicts (pytest's default is `body0`, `body1`...)."""
    if isinstance(value, dict):
        return "-".join(f"{key}={item}" for key, item in value.items()) or "empty"
    return None


def today_of(caller) -> date:
    return datetime.now(ZoneInfo(caller.user["timezone"])).date()


def add_device(caller, kind: str = "roller", needle_length_mm: float = 0.75, **fields):
    return caller.post("/devices", json={"kind": kind, "needle_length_mm": needle_length_mm,
                                         **fields})


def new_device(caller, kind: str = "roller", **fields) -> dict:
    response = add_device(caller, kind, **fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def start_course(caller, days_ago: int) -> dict:
    start = today_of(caller) - timedelta(days=days_ago)
    response = caller.post("/courses", json={"regimen": "standard", "setting": "clinic",
                                             "start_date": start.isoformat()})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def log_session(caller, course_id: int, days_ago: int, device_id: int) -> dict:
    performed_at = datetime.now(ZoneInfo(caller.user["timezone"])) - timedelta(days=days_ago)
    response = caller.post(f"/courses/{course_id}/sessions", json={
        "performed_at": performed_at.isoformat(), "device_id": device_id,
        "device_disinfected": True, "new_cartridge": True})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def wear(device: dict) -> tuple:
    return device["uses"], device["max_uses"], device["expires_on"], device["warnings"]


# --- creating -----------------------------------------------------------------------------


@pytest.mark.parametrize(("kind", "max_uses"), [("roller", 8), ("pen", None), ("stamp", None)])
def test_create_a_device(patient, kind, max_uses):
    response = add_device(patient, kind, needle_length_mm=0.5, label="Blue one",
                          material="titanium")

    assert response.status_code == 201
    device = response.get_json()
    assert isinstance(device["id"], int)
    assert device["kind"] == kind
    assert device["needle_length_mm"] == 0.5
    assert device["label"] == "Blue one"
    assert device["material"] == "titanium"
    assert device["first_used_on"] is None
    assert device["retired"] is False
    assert wear(device) == (0, max_uses, None, [])
    assert patient.get(f"/devices/{device['id']}").get_json() == device


def latest_past(today: date, month: int, day: int, leap_february: bool | None = None) -> date:
    """The latest `month`/`day` before today; optionally one whose next February has 29 days."""
    year = today.year if date(today.year, month, day) < today else today.year - 1
    while leap_february is not None and calendar.isleap(year + 1) is not leap_february:
        year -= 1
    return date(year, month, day)


@pytest.mark.parametrize(("kind", "first_use", "expiry"), [
    pytest.param("roller", (8, 31, False), (1, 2, 28), id="roller-31-aug-to-28-feb"),
    pytest.param("roller", (8, 31, True), (1, 2, 29), id="roller-31-aug-to-29-feb"),
    pytest.param("roller", (6, 15, None), (0, 12, 15), id="roller-15-jun-to-15-dec"),
    pytest.param("pen", (8, 31, None), None, id="pen"),
    pytest.param("stamp", (8, 31, None), None, id="stamp"),
])
def test_roller_expires_six_months_after_first_use(patient, kind, first_use, expiry):
    first_used_on = latest_past(today_of(patient), *first_use)
    expected = None
    if expiry is not None:
        years, month, day = expiry
        expected = date(first_used_on.year + years, month, day).isoformat()

    device = new_device(patient, kind, first_used_on=first_used_on.isoformat())

    assert device["first_used_on"] == first_used_on.isoformat()
    assert device["expires_on"] == expected


def test_expired_roller_warns_even_unused(patient):
    first_used_on = today_of(patient) - timedelta(days=200)

    device = new_device(patient, "roller", first_used_on=first_used_on.isoformat())

    assert device["uses"] == 0
    assert device["warnings"] == ["device_expired"]


@pytest.mark.parametrize("needle_length_mm", [0.1, 3.0])
def test_needle_length_bounds_are_accepted(patient, needle_length_mm):
    assert add_device(patient, needle_length_mm=needle_length_mm).status_code == 201


@pytest.mark.parametrize(("changes", "field"), [
    ({"kind": "laser"}, "kind"),
    ({"kind": None}, "kind"),
    ({"needle_length_mm": 0.05}, "needle_length_mm"),
    ({"needle_length_mm": 3.5}, "needle_length_mm"),
    ({"needle_length_mm": 0}, "needle_length_mm"),
    ({"needle_length_mm": "short"}, "needle_length_mm"),
    ({"first_used_on": "2026-02-30"}, "first_used_on"),
    ({"first_used_on": "9999-07-01"}, "first_used_on"),
    ({"label": "x" * 101}, "label"),
    ({"uses": 3}, "uses"),
    ({"retired": True}, "retired"),
    ({"colour": "pink"}, "colour"),
], ids=case_id)
def test_bad_devices_are_refused(patient, db_rows, changes, field):
    response = patient.post("/devices", json={"kind": "roller", "needle_length_mm": 0.75,
                                              **changes})

    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert field in response.get_json()["errors"]
    assert db_rows(Device) == []


@pytest.mark.parametrize("missing", ["kind", "needle_length_mm"])
def test_kind_and_needle_length_are_required(patient, missing):
    body = {"kind": "roller", "needle_length_mm": 0.75}
    del body[missing]

    response = patient.post("/devices", json=body)

    assert response.status_code == 422
    assert missing in response.get_json()["errors"]


# --- wear as sessions accumulate ----------------------------------------------------------


def test_roller_wear_grows_with_its_sessions(patient):
    course = start_course(patient, days_ago=60)
    roller = new_device(patient, "roller")
    seen = []

    for i in range(8):
        log_session(patient, course["id"], 56 - 7 * i, roller["id"])
        device = patient.get(f"/devices/{roller['id']}").get_json()
        seen.append((device["uses"], device["warnings"]))

    assert seen == [(1, []), (2, []), (3, []), (4, []), (5, []), (6, ["device_nearing_end"]),
                    (7, ["device_nearing_end"]), (8, ["device_worn_out"])]
    assert device["max_uses"] == 8


def six_months_after(day: date) -> date:
    """The expected expiry for days 1-28, where no month-end clamping is involved."""
    assert day.day <= 28
    month = day.month + 6
    return day.replace(year=day.year + (month - 1) // 12, month=(month - 1) % 12 + 1)


def test_first_use_comes_from_the_first_session(patient):
    today = today_of(patient)
    first_days_ago = 30
    while (today - timedelta(days=first_days_ago)).day > 28:
        first_days_ago += 1
    first_day = today - timedelta(days=first_days_ago)
    course = start_course(patient, days_ago=first_days_ago)
    roller = new_device(patient, "roller")

    log_session(patient, course["id"], first_days_ago, roller["id"])
    log_session(patient, course["id"], first_days_ago - 7, roller["id"])

    device = patient.get(f"/devices/{roller['id']}").get_json()
    assert device["uses"] == 2
    assert device["first_used_on"] is None
    assert device["expires_on"] == six_months_after(first_day).isoformat()
    listed = patient.get("/devices").get_json()["items"]
    assert wear(listed[0]) == wear(device)


def test_recorded_first_use_wins_over_the_sessions(patient):
    course = start_course(patient, days_ago=10)
    first_used_on = latest_past(today_of(patient), 8, 31, leap_february=False)
    roller = new_device(patient, "roller", first_used_on=first_used_on.isoformat())

    log_session(patient, course["id"], 9, roller["id"])

    expires_on = patient.get(f"/devices/{roller['id']}").get_json()["expires_on"]
    assert expires_on == date(first_used_on.year + 1, 2, 28).isoformat()


@pytest.mark.parametrize("kind", ["pen", "stamp"])
def test_pens_and_stamps_count_uses_without_a_limit(patient, kind):
    course = start_course(patient, days_ago=60)
    device = new_device(patient, kind)

    for i in range(8):
        log_session(patient, course["id"], 56 - 7 * i, device["id"])

    assert wear(patient.get(f"/devices/{device['id']}").get_json()) == (8, None, None, [])


def test_uses_count_across_courses(patient):
    roller = new_device(patient, "roller")
    first = start_course(patient, days_ago=60)
    for ago in (56, 49, 42):
        log_session(patient, first["id"], ago, roller["id"])
    assert patient.patch(f"/courses/{first['id']}", json={"status": "ended"}).status_code == 200
    second = start_course(patient, days_ago=30)
    for ago in (28, 21, 14):
        log_session(patient, second["id"], ago, roller["id"])

    device = patient.get(f"/devices/{roller['id']}").get_json()

    assert device["uses"] == 6
    assert device["warnings"] == ["device_nearing_end"]


# --- changing -----------------------------------------------------------------------------


def test_relabel_and_retire_a_device(patient):
    device = new_device(patient, "pen", label="Old label")

    response = patient.patch(f"/devices/{device['id']}",
                             json={"label": "Dermapen A1", "retired": True})

    assert response.status_code == 200
    changed = response.get_json()
    assert changed["label"] == "Dermapen A1"
    assert changed["retired"] is True
    assert changed["kind"] == "pen"
    assert changed["needle_length_mm"] == 0.75
    assert patient.get(f"/devices/{device['id']}").get_json() == changed


def test_setting_the_first_use_moves_the_expiry(patient):
    device = new_device(patient, "roller")
    first_used_on = latest_past(today_of(patient), 8, 31, leap_february=True)

    response = patient.patch(f"/devices/{device['id']}",
                             json={"first_used_on": first_used_on.isoformat()})

    assert response.status_code == 200
    assert response.get_json()["expires_on"] == date(first_used_on.year + 1, 2, 29).isoformat()


@pytest.mark.parametrize("body", [
    {"kind": "stamp"},
    {"needle_length_mm": 1.5},
    {"uses": 0},
    {"id": 1},
    {"retired": "yes"},
    {"first_used_on": "9999-12-31"},
    {},
], ids=case_id)
def test_bad_device_changes_are_refused(patient, body):
    device = new_device(patient, "roller")

    response = patient.patch(f"/devices/{device['id']}", json=body)

    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert patient.get(f"/devices/{device['id']}").get_json() == device


# --- listing and privacy ------------------------------------------------------------------


def test_devices_are_listed_newest_first_across_pages(patient, other_patient):
    created = [new_device(patient, kind)["id"] for kind in ("roller", "pen", "stamp", "roller",
                                                            "pen")]
    new_device(other_patient, "roller")

    seen, cursor = [], None
    while True:
        query = {"limit": 2} if cursor is None else {"limit": 2, "cursor": cursor}
        response = patient.get("/devices", query_string=query)
        assert response.status_code == 200
        body = response.get_json()
        assert len(body["items"]) <= 2
        seen += [device["id"] for device in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert seen == created[::-1]


def forged_cursor(value) -> str:
    """A cursor in the server's encoding that the server never issued."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize("query", [
    {"limit": 0},
    {"limit": 201},
    {"cursor": "%%%"},
    pytest.param({"cursor": forged_cursor(["abc"])}, id="cursor=forged-string-id"),
    pytest.param({"cursor": forged_cursor([])}, id="cursor=forged-empty"),
    pytest.param({"cursor": forged_cursor([10**30])}, id="cursor=forged-huge-id"),
], ids=case_id)
def test_bad_device_list_arguments_are_refused(patient, query):
    new_device(patient, "roller")

    response = patient.get("/devices", query_string=query)

    assert response.status_code == 422
    assert response.content_type == "application/problem+json"


def test_device_etag(patient):
    device = new_device(patient, "roller")

    etag = patient.get(f"/devices/{device['id']}").headers["ETag"]
    again = patient.get(f"/devices/{device['id']}", headers={"If-None-Match": etag})

    assert again.status_code == 304
    assert again.get_data() == b""


def test_another_patients_device_is_not_found(patient, other_patient):
    device = new_device(other_patient, "roller", label="Mine")
    unknown = patient.get(f"/devices/{device['id'] + 1000}")

    hidden = patient.get(f"/devices/{device['id']}")
    changed = patient.patch(f"/devices/{device['id']}", json={"label": "Stolen"})

    assert hidden.status_code == changed.status_code == unknown.status_code == 404
    assert hidden.get_json() == unknown.get_json()
    assert patient.get("/devices").get_json() == {"items": [], "next_cursor": None}
    assert other_patient.get(f"/devices/{device['id']}").get_json()["label"] == "Mine"


def test_devices_are_for_patients_only(clinician, patient):
    device = new_device(patient, "roller")

    responses = [
        clinician.get("/devices"),
        clinician.post("/devices", json={"kind": "roller", "needle_length_mm": 0.5}),
        clinician.get(f"/devices/{device['id']}"),
        clinician.patch(f"/devices/{device['id']}", json={"label": "x"}),
    ]

    assert [response.status_code for response in responses] == [403] * 4
    assert patient.get(f"/devices/{device['id']}").get_json() == device


def test_retried_device_post_is_replayed(patient, db_rows):
    headers = {"Idempotency-Key": "device-roller-1"}
    body = {"kind": "roller", "needle_length_mm": 0.5}

    first = patient.post("/devices", json=body, headers=headers)
    second = patient.post("/devices", json=body, headers=headers)

    assert first.status_code == second.status_code == 201
    assert first.get_json() == second.get_json()
    assert len(db_rows(Device)) == 1
