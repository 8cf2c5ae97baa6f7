"""The course status (the mobile home screen) through HTTP.

Every field of the API.md status object, the next session's state by date,
aftercare as absolute times in the patient's zone, intensive phases, holds,
device wear, the 24 h check-in, ETags, time zones at both ends of the date
line, and a bounded number of SQL statements however long the course is.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from storage.models import TreatmentSession

STANDARD_AREAS = ["frontal", "mid_scalp", "vertex", "left_temple", "right_temple", "occipital",
                  "part_line"]
CLEAN = {"needle_length_mm": 0.75, "device_disinfected": True}


def case_id(value):
    """Readable ids for table rows given as dicts (pytest's default is `body0`, `body1`...)."""
    if isinstance(value, dict):
        return "-".join(f"{key}={item}" for key, item in value.items()) or "empty"
    return None


def zone_of(caller) -> ZoneInfo:
    return ZoneInfo(caller.user["timezone"])


def now_of(caller) -> datetime:
    return datetime.now(zone_of(caller)).replace(microsecond=0)


def today_of(caller) -> date:
    return now_of(caller).date()


def ago(caller, days: int = 0, hours: int = 0) -> datetime:
    """This time of day `days` calendar days back in the caller's zone, minus `hours` hours."""
    return (now_of(caller) - timedelta(days=days)).astimezone(timezone.utc) - timedelta(hours=hours)


def start_course(caller, *, days_ago: int = 0, regimen: str = "standard",
                 setting: str = "clinic", **fields) -> dict:
    start = today_of(caller) - timedelta(days=days_ago)
    response = caller.post("/courses", json={"regimen": regimen, "setting": setting,
                                             "start_date": start.isoformat(), **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def log_at(caller, course_id: int, performed_at: datetime, **fields) -> dict:
    response = caller.post(f"/courses/{course_id}/sessions",
                           json={"performed_at": performed_at.isoformat(), **CLEAN, **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()["session"]


def log_days_ago(caller, course_id: int, days: int, **fields) -> dict:
    return log_at(caller, course_id, ago(caller, days), **fields)


def status_of(caller, course_id: int) -> dict:
    response = caller.get(f"/courses/{course_id}/status")
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def days_after(day: date, days: int) -> str:
    return (day + timedelta(days=days)).isoformat()


# --- the shape of a fresh course ----------------------------------------------------------


def test_fresh_course_status_has_every_field(patient):
    course = start_course(patient)
    start = today_of(patient)

    status = status_of(patient, course["id"])

    # API.md: fields may be added, never dropped; each named one has this value.
    expected = {
        "course_id": course["id"],
        "regimen": "standard",
        "status": "active",
        "phase": "course",
        "sessions_done": 0,
        "sessions_planned": 10,
        "next_session": {"number": 1, "phase": "course", "earliest": start.isoformat(),
                         "due": start.isoformat(), "latest": days_after(start, 3),
                         "state": "due", "days_overdue": 0},
        "aftercare": [],
        "results_expected": False,
        "photos_due": {"milestone": "baseline", "areas": STANDARD_AREAS},
        "device": None,
        "adherence": {"on_time": 0, "late": 0, "early": 0, "percent_on_time": None},
        "hold_reasons": [],
        "flags": [],
        "check_in_due": None,
        "progress": [],
    }
    assert {name: status.get(name, "missing") for name in expected} == expected


def test_status_field_types_after_a_session(patient):
    course = start_course(patient, days_ago=3)
    device = patient.post("/devices", json={"kind": "roller", "needle_length_mm": 0.75})
    log_days_ago(patient, course["id"], 0, device_id=device.get_json()["id"])

    status = status_of(patient, course["id"])

    scalar_types = {"course_id": int, "regimen": str, "status": str, "phase": str,
                    "sessions_done": int, "sessions_planned": int, "results_expected": bool}
    for name, kind in scalar_types.items():
        assert type(status[name]) is kind, name
    assert set(status["next_session"]) >= {"number", "earliest", "due", "latest", "state",
                                           "days_overdue"}
    for item in status["aftercare"]:
        assert set(item) == {"activity", "allowed_from"}
        assert datetime.fromisoformat(item["allowed_from"]).utcoffset() is not None
    assert set(status["photos_due"]) == {"milestone", "areas"}
    assert set(status["device"]) == {"id", "uses", "max_uses", "expires_on", "warnings"}
    assert set(status["adherence"]) == {"on_time", "late", "early", "percent_on_time"}
    for name in ("aftercare", "hold_reasons", "flags", "progress"):
        assert isinstance(status[name], list), name
    assert datetime.fromisoformat(status["check_in_due"]).utcoffset() is not None


@pytest.mark.parametrize(("regimen", "sizes", "planned", "phase"), [
    ("standard", {}, 10, "course"),
    ("intensive", {}, 10, "weekly"),
    ("intensive", {"weekly_sessions": 4, "biweekly_sessions": 4}, 8, "weekly"),
    ("intensive", {"weekly_sessions": 5, "biweekly_sessions": 4}, 9, "weekly"),
], ids=case_id)
def test_sessions_planned_follows_the_regimen(patient, regimen, sizes, planned, phase):
    course = start_course(patient, regimen=regimen, **sizes)

    status = status_of(patient, course["id"])

    assert status["regimen"] == regimen
    assert status["sessions_planned"] == planned
    assert status["phase"] == phase


# --- the next session ---------------------------------------------------------------------


@pytest.mark.parametrize(("last_days_ago", "state", "days_overdue"), [
    (3, "too_early", 0),
    (6, "too_early", 0),
    (7, "due", 0),
    (8, "due", 0),
    (10, "due", 0),
    (11, "overdue", 1),
    (12, "overdue", 2),
    (30, "overdue", 20),
])
def test_next_session_state_by_date(patient, last_days_ago, state, days_overdue):
    course = start_course(patient, days_ago=last_days_ago, setting="clinic")
    log_days_ago(patient, course["id"], last_days_ago)
    last_day = today_of(patient) - timedelta(days=last_days_ago)

    next_session = status_of(patient, course["id"])["next_session"]

    assert next_session == {"number": 2, "phase": "course", "earliest": days_after(last_day, 7),
                            "due": days_after(last_day, 7), "latest": days_after(last_day, 10),
                            "state": state, "days_overdue": days_overdue}


@pytest.mark.parametrize(("start_days_ago", "state", "days_overdue"), [
    (-5, "too_early", 0),
    (0, "due", 0),
    (3, "due", 0),
    (5, "overdue", 2),
])
def test_first_session_state_by_start_date(patient, start_days_ago, state, days_overdue):
    course = start_course(patient, days_ago=start_days_ago)

    next_session = status_of(patient, course["id"])["next_session"]

    assert (next_session["number"], next_session["state"], next_session["days_overdue"]) == (
        1, state, days_overdue)
    assert next_session["due"] == course["start_date"]


def test_home_course_spaces_the_first_intervals_ten_days(patient):
    course = start_course(patient, days_ago=12, setting="home")
    log_days_ago(patient, course["id"], 12)
    last_day = today_of(patient) - timedelta(days=12)

    next_session = status_of(patient, course["id"])["next_session"]

    assert (next_session["earliest"], next_session["due"], next_session["latest"]) == (
        days_after(last_day, 10), days_after(last_day, 10), days_after(last_day, 13))
    assert next_session["state"] == "due"


def test_adherence_counts_each_session_against_its_window(patient):
    course = start_course(patient, days_ago=30)
    for days in (30, 26, 14, 7):   # on time, 4 days (early), 12 days (late), 7 days (on time)
        log_days_ago(patient, course["id"], days)

    adherence = status_of(patient, course["id"])["adherence"]

    assert adherence == {"on_time": 2, "late": 1, "early": 1, "percent_on_time": 50}


# --- aftercare ----------------------------------------------------------------------------


@pytest.mark.parametrize("zone", ["Europe/Berlin", "Asia/Kolkata", "America/Los_Angeles"])
def test_aftercare_times_from_a_session_two_hours_ago(register, zone):
    caller = register(timezone=zone)
    course = start_course(caller, days_ago=3)
    performed = now_of(caller).astimezone(timezone.utc) - timedelta(hours=2)
    log_at(caller, course["id"], performed)

    aftercare = status_of(caller, course["id"])["aftercare"]

    def local(delta: timedelta) -> str:
        return (performed + delta).astimezone(ZoneInfo(zone)).isoformat()

    assert aftercare == [
        {"activity": "touch_scalp", "allowed_from": local(timedelta(hours=4))},
        {"activity": "apply_products", "allowed_from": local(timedelta(hours=12))},
        {"activity": "wash_hair", "allowed_from": local(timedelta(hours=48))},
        {"activity": "gym", "allowed_from": local(timedelta(hours=48))},
        *({"activity": activity, "allowed_from": local(timedelta(days=7))}
          for activity in WEEK_LONG),
    ]


def test_aftercare_counts_from_the_end_of_a_session_of_known_duration(patient):
    course = start_course(patient, days_ago=3)
    performed = now_of(patient).astimezone(timezone.utc) - timedelta(hours=2)
    log_at(patient, course["id"], performed, duration_minutes=45)

    aftercare = status_of(patient, course["id"])["aftercare"]

    assert aftercare[0] == {"activity": "touch_scalp", "allowed_from": (
        performed + timedelta(minutes=45, hours=4)).astimezone(zone_of(patient)).isoformat()}


# DOMAIN.md section 5 (v2): what waits a week.
WEEK_LONG = ["sauna_pool_solarium", "hot_shower_bath", "decorative_cosmetics",
             "otc_blood_thinners", "scalp_procedures", "uncovered_sun"]


@pytest.mark.parametrize(("hours_ago", "remaining"), [
    (0, ["comb_hair", "touch_scalp", "apply_products", "wash_hair", "gym", *WEEK_LONG]),
    (13, ["wash_hair", "gym", *WEEK_LONG]),
    (50, WEEK_LONG),
    (24 * 8, []),
])
def test_aftercare_lists_only_what_is_still_ahead(patient, hours_ago, remaining):
    course = start_course(patient, days_ago=10)
    log_at(patient, course["id"], now_of(patient) - timedelta(hours=hours_ago, minutes=1))

    aftercare = status_of(patient, course["id"])["aftercare"]

    assert [item["activity"] for item in aftercare] == remaining


def test_aftercare_follows_the_latest_session(patient):
    course = start_course(patient, days_ago=10)
    log_days_ago(patient, course["id"], 10)
    latest = now_of(patient).astimezone(timezone.utc) - timedelta(hours=1, minutes=30)
    log_at(patient, course["id"], latest)

    aftercare = status_of(patient, course["id"])["aftercare"]

    assert aftercare[0] == {"activity": "touch_scalp", "allowed_from": (
        latest + timedelta(hours=4)).astimezone(zone_of(patient)).isoformat()}
    assert len(aftercare) == 10


# --- results, phases ----------------------------------------------------------------------


@pytest.mark.parametrize(("count", "expected"), [(3, False), (4, True), (5, True)])
def test_results_are_expected_from_session_four(patient, count, expected):
    course = start_course(patient, days_ago=40)
    for i in range(count):
        log_days_ago(patient, course["id"], 35 - 7 * i)

    assert status_of(patient, course["id"])["results_expected"] is expected


@pytest.mark.parametrize(("sizes", "count", "phase", "window"), [
    ({}, 4, "weekly", (7, 7, 10)),
    ({}, 5, "biweekly", (14, 14, 17)),
    ({"weekly_sessions": 4}, 3, "weekly", (7, 7, 10)),
    ({"weekly_sessions": 4}, 4, "biweekly", (14, 14, 17)),
    ({"weekly_sessions": 4, "biweekly_sessions": 4}, 7, "biweekly", (14, 14, 17)),
    ({"weekly_sessions": 4, "biweekly_sessions": 4}, 8, "maintenance", (28, 30, 35)),
], ids=case_id)
def test_intensive_phases(patient, sizes, count, phase, window):
    course = start_course(patient, days_ago=60, regimen="intensive", **sizes)
    for i in range(count):
        log_days_ago(patient, course["id"], 58 - 7 * i)
    last_day = today_of(patient) - timedelta(days=58 - 7 * (count - 1))

    status = status_of(patient, course["id"])

    assert status["phase"] == phase
    assert status["status"] == "active"
    next_session = status["next_session"]
    assert next_session["number"] == count + 1
    assert next_session["phase"] == phase
    earliest, due, latest = window
    assert (next_session["earliest"], next_session["due"], next_session["latest"]) == (
        days_after(last_day, earliest), days_after(last_day, due), days_after(last_day, latest))


@pytest.mark.parametrize(("count", "milestone"), [
    (0, "baseline"),
    (3, "baseline"),
    (4, "session_4"),
    (9, "session_4"),
    (10, "session_10"),
])
def test_photo_milestones_of_a_standard_course(patient, count, milestone):
    """DOMAIN.md 6: photos before session 1, after session 4 and after 10 (end of the course)."""
    course = start_course(patient, days_ago=75)
    for i in range(count):
        log_days_ago(patient, course["id"], 73 - 7 * i)

    status = status_of(patient, course["id"])

    assert status["status"] == ("completed" if count == 10 else "active")
    assert status["photos_due"] == {"milestone": milestone, "areas": STANDARD_AREAS}


# --- holds and pauses ---------------------------------------------------------------------


def test_on_hold_course_has_no_next_session(patient):
    course = start_course(patient, screening={"diabetes": True, "pregnancy": True})

    status = status_of(patient, course["id"])

    assert status["status"] == "on_hold"
    assert status["next_session"] is None
    assert status["hold_reasons"] == ["pregnancy", "diabetes"]
    assert status["photos_due"] == {"milestone": "baseline", "areas": STANDARD_AREAS}


def test_paused_course_has_no_next_session(patient):
    course = start_course(patient, days_ago=10)
    log_days_ago(patient, course["id"], 9)
    patient.patch(f"/courses/{course['id']}", json={"status": "paused"})

    status = status_of(patient, course["id"])

    assert status["status"] == "paused"
    assert status["next_session"] is None
    assert status["sessions_done"] == 1

    patient.patch(f"/courses/{course['id']}", json={"status": "active"})
    assert status_of(patient, course["id"])["next_session"]["number"] == 2


@pytest.mark.parametrize("status", ["ended", "cancelled"])
def test_closed_course_has_no_next_session_or_photos_due(patient, status):
    course = start_course(patient, days_ago=10)
    log_days_ago(patient, course["id"], 9)
    patient.patch(f"/courses/{course['id']}", json={"status": status})

    body = status_of(patient, course["id"])

    assert body["status"] == status
    assert body["next_session"] is None
    assert body["photos_due"] is None


# --- ETag ---------------------------------------------------------------------------------


def test_status_etag_changes_when_a_session_is_logged(patient):
    course = start_course(patient, days_ago=10)
    first = patient.get(f"/courses/{course['id']}/status")
    etag = first.headers["ETag"]

    unchanged = patient.get(f"/courses/{course['id']}/status", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.get_data() == b""

    log_days_ago(patient, course["id"], 9)
    changed = patient.get(f"/courses/{course['id']}/status", headers={"If-None-Match": etag})
    assert changed.status_code == 200
    assert changed.headers["ETag"] != etag
    assert changed.get_json()["sessions_done"] == 1


# --- device -------------------------------------------------------------------------------


def test_status_shows_the_device_of_the_latest_session(patient):
    course = start_course(patient, days_ago=60, setting="home")
    roller = patient.post("/devices", json={"kind": "roller", "needle_length_mm": 0.5}).get_json()
    pen = patient.post("/devices", json={"kind": "pen", "needle_length_mm": 0.5}).get_json()
    for i in range(6):
        log_days_ago(patient, course["id"], 59 - 10 * i, device_id=roller["id"])

    device = status_of(patient, course["id"])["device"]
    roller_now = patient.get(f"/devices/{roller['id']}").get_json()
    assert device == {"id": roller["id"], "uses": 6, "max_uses": 8,
                      "expires_on": roller_now["expires_on"], "warnings": ["device_nearing_end"]}
    assert device["expires_on"] is not None

    log_days_ago(patient, course["id"], 0, device_id=pen["id"], new_cartridge=True)

    assert status_of(patient, course["id"])["device"] == {
        "id": pen["id"], "uses": 1, "max_uses": None, "expires_on": None, "warnings": []}


def test_status_device_is_null_when_the_latest_session_had_none(patient):
    course = start_course(patient, days_ago=10)
    roller = patient.post("/devices", json={"kind": "roller", "needle_length_mm": 0.75}).get_json()
    log_days_ago(patient, course["id"], 9, device_id=roller["id"])
    log_days_ago(patient, course["id"], 1)

    assert status_of(patient, course["id"])["device"] is None


# --- check-in -----------------------------------------------------------------------------


ALL_CLEAR = {"redness_persists": False, "swelling_persists": False, "infection_signs": False}


def test_check_in_is_due_a_day_after_the_latest_session(patient):
    course = start_course(patient, days_ago=10)
    first = log_days_ago(patient, course["id"], 6)
    performed = ago(patient, 2)
    second = log_at(patient, course["id"], performed)

    status = status_of(patient, course["id"])
    assert status["check_in_due"] == (performed + timedelta(hours=24)).astimezone(
        zone_of(patient)).isoformat()

    # A check-in of an older session does not count for the latest one.
    assert patient.post(f"/sessions/{first['id']}/check-in", json=ALL_CLEAR).status_code == 201
    assert status_of(patient, course["id"])["check_in_due"] is not None

    response = patient.post(f"/sessions/{second['id']}/check-in", json=ALL_CLEAR)
    assert response.status_code == 201
    status = status_of(patient, course["id"])
    assert status["check_in_due"] is None
    assert status["flags"] == []


def test_persisting_redness_flags_until_an_all_clear(patient):
    course = start_course(patient, days_ago=3)
    session = log_days_ago(patient, course["id"], 2)

    patient.post(f"/sessions/{session['id']}/check-in",
                 json={**ALL_CLEAR, "redness_persists": True})
    assert status_of(patient, course["id"])["flags"] == ["consult_doctor"]

    patient.patch(f"/sessions/{session['id']}/check-in", json=ALL_CLEAR)
    assert status_of(patient, course["id"])["flags"] == []


# --- time zones ---------------------------------------------------------------------------


def test_dates_are_computed_in_each_patients_zone(register):
    """12:00 UTC is 02:00 the next day in Kiritimati (UTC+14), 01:00 in Pago Pago (UTC-11)."""
    instant = datetime.combine(datetime.now(timezone.utc).date() - timedelta(days=5),
                               time(12, 0), tzinfo=timezone.utc)
    due = {}
    for zone in ("Pacific/Kiritimati", "Pacific/Pago_Pago"):
        caller = register(timezone=zone)
        local = instant.astimezone(ZoneInfo(zone))
        course = caller.post("/courses", json={"regimen": "standard", "setting": "clinic",
                                               "start_date": local.date().isoformat()}).get_json()
        session = log_at(caller, course["id"], instant)
        assert session["performed_at"] == local.isoformat()
        assert session["timing"] == "on_time"

        status = status_of(caller, course["id"])

        next_session = status["next_session"]
        assert next_session["due"] == days_after(local.date(), 7)
        assert next_session["latest"] == days_after(local.date(), 10)
        assert status["check_in_due"] == (local + timedelta(hours=24)).isoformat()
        due[zone] = date.fromisoformat(next_session["due"])

    assert due["Pacific/Kiritimati"] - due["Pacific/Pago_Pago"] == timedelta(days=1)


# --- bounded SQL --------------------------------------------------------------------------


def insert_sessions(app, course_id: int, count: int, device_id: int) -> None:
    """`count` sessions 6 days apart ending yesterday, written straight through the ORM."""
    yesterday = datetime.now(timezone.utc).replace(microsecond=0) - timedelta(days=1)
    with app.app_context():
        session = app.extensions["database"].sessions()
        session.add_all(
            TreatmentSession(course_id=course_id,
                             performed_at=yesterday - timedelta(days=6 * (count - 1 - i)),
                             needle_length_mm=0.75, areas=["vertex"], side_effects=[],
                             device_disinfected=True,
                             device_id=device_id if i == count - 1 else None)
            for i in range(count)
        )
        session.commit()


def test_status_costs_the_same_queries_for_60_sessions_as_for_2(app, register, count_queries):
    costs = {}
    for count in (2, 60):
        caller = register()
        course = start_course(caller, days_ago=364, regimen="intensive")
        device = caller.post("/devices", json={"kind": "roller",
                                               "needle_length_mm": 0.75}).get_json()
        insert_sessions(app, course["id"], count, device["id"])

        with count_queries() as queries:
            status = status_of(caller, course["id"])

        assert status["sessions_done"] == count
        assert status["device"]["id"] == device["id"]
        costs[count] = len(queries)

    assert status["phase"] == "maintenance"
    assert costs[60] == costs[2]
    assert costs[60] <= 8
