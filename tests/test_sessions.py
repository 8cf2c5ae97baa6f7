"""Sessions through HTTP: logging one with its warnings, correcting and undoing, the schedule.

Each warning code of DOMAIN.md sections 1, 3 and 4 is checked end to end:
present exactly when its rule says, absent otherwise. Scenarios are built from
a course started in the past and sessions logged N days ago in the patient's
time zone (the app uses the real clock).
"""

from __future__ import annotations

import base64
import json
from datetime import date, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from storage.models import CheckIn, TreatmentSession

# A session no rule warns about: scalp-range needle, disinfected, short, painless.
CLEAN = {"needle_length_mm": 0.75, "device_disinfected": True, "duration_minutes": 15,
         "pain_score": 3}


def case_id(value):
    """Readable ids for table rows given as dicts (pytest's default is `body0`, `body1`...)."""
    if isinstance(value, dict):
        return "-".join(f"{key}={item}" for key, item in value.items()) or "empty"
    return None


def now_of(caller) -> datetime:
    return datetime.now(ZoneInfo(caller.user["timezone"])).replace(microsecond=0)


def today_of(caller) -> date:
    return now_of(caller).date()


def days_back(caller, days: int) -> datetime:
    """This time of day, `days` calendar days ago in the caller's zone."""
    return now_of(caller) - timedelta(days=days)


def start_course(caller, *, days_ago: int = 0, regimen: str = "standard",
                 setting: str = "clinic", **fields) -> dict:
    start = today_of(caller) - timedelta(days=days_ago)
    response = caller.post("/courses", json={"regimen": regimen, "setting": setting,
                                             "start_date": start.isoformat(), **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def post_session(caller, course_id: int, at: datetime | str | None, /, headers=None, **fields):
    performed_at = at.isoformat() if isinstance(at, datetime) else at
    return caller.post(f"/courses/{course_id}/sessions", headers=headers or {},
                       json={"performed_at": performed_at, **CLEAN, **fields})


def log_session(caller, course_id: int, ago: int, **fields) -> dict:
    """Log a session `ago` days back; the 201 body `{session, warnings}`."""
    response = post_session(caller, course_id, days_back(caller, ago), **fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def add_device(caller, kind: str = "roller", needle_length_mm: float = 0.75, **fields) -> dict:
    response = caller.post("/devices", json={"kind": kind, "needle_length_mm": needle_length_mm,
                                             **fields})
    assert response.status_code == 201, response.get_json()
    return response.get_json()


def schedule(caller, course_id: int, **query) -> list[dict]:
    response = caller.get(f"/courses/{course_id}/sessions", query_string=query)
    assert response.status_code == 200, response.get_json()
    return response.get_json()["items"]


def done(caller, course_id: int) -> list[dict]:
    return [item for item in schedule(caller, course_id) if item["state"] == "done"]


def course_status(caller, course_id: int) -> dict:
    return caller.get(f"/courses/{course_id}/status").get_json()


# --- logging a session --------------------------------------------------------------------


def test_logged_session_is_numbered_and_timed_in_the_patients_zone(register):
    tokyo = register(timezone="Asia/Tokyo")
    course = start_course(tokyo, days_ago=10)
    performed_utc = (datetime.now(timezone.utc) - timedelta(days=9)).replace(microsecond=0)
    local = performed_utc.astimezone(ZoneInfo("Asia/Tokyo"))
    start = today_of(tokyo) - timedelta(days=10)

    response = post_session(tokyo, course["id"], performed_utc.isoformat().replace("+00:00", "Z"),
                            cocktail={"name": "Meso B", "ingredients": ["biotin", "zinc"]},
                            areas=["vertex", "frontal"], side_effects=["redness"],
                            notes="Slight tingling.")

    assert response.status_code == 201
    body = response.get_json()
    assert set(body) == {"session", "warnings"}
    session = body["session"]
    assert session["performed_at"] == local.isoformat()
    assert session["performed_at"].endswith("+09:00")
    assert session["course_id"] == course["id"]
    assert isinstance(session["id"], int)
    assert session["number"] == 1
    assert session["phase"] == "course"
    assert session["earliest"] == session["due"] == start.isoformat()
    assert session["latest"] == (start + timedelta(days=3)).isoformat()
    assert local.date() == start + timedelta(days=1)
    assert session["timing"] == "on_time"
    assert session["needle_length_mm"] == 0.75
    assert session["cocktail"] == {"name": "Meso B", "ingredients": ["biotin", "zinc"]}
    assert session["areas"] == ["vertex", "frontal"]
    assert session["side_effects"] == ["redness"]
    assert session["notes"] == "Slight tingling."
    assert body["warnings"] == session["warnings"] == []
    assert tokyo.get(f"/sessions/{session['id']}").get_json() == session


@pytest.mark.parametrize(("ago", "timing"), [(13, "on_time"), (10, "on_time"), (9, "late")])
def test_first_session_timing_against_its_window(patient, ago, timing):
    course = start_course(patient, days_ago=13)

    session = log_session(patient, course["id"], ago)["session"]

    assert session["timing"] == timing


def test_second_session_window_follows_the_first(patient):
    course = start_course(patient, days_ago=20)
    log_session(patient, course["id"], 20)

    second = log_session(patient, course["id"], 9)["session"]

    first_day = today_of(patient) - timedelta(days=20)
    assert second["number"] == 2
    assert second["earliest"] == (first_day + timedelta(days=7)).isoformat()
    assert second["due"] == (first_day + timedelta(days=7)).isoformat()
    assert second["latest"] == (first_day + timedelta(days=10)).isoformat()
    assert second["timing"] == "late"


# --- warnings of one session --------------------------------------------------------------


@pytest.mark.parametrize(("setting", "changes", "warnings"), [
    ("clinic", {}, []),
    ("clinic", {"needle_length_mm": 0.4}, ["needle_length_outside_scalp_range"]),
    ("clinic", {"needle_length_mm": 0.5}, []),
    ("clinic", {"needle_length_mm": 1.5}, []),
    ("clinic", {"needle_length_mm": 1.6}, ["needle_length_outside_scalp_range"]),
    ("home", {"needle_length_mm": 1.0}, ["professional_needle_at_home"]),
    ("home", {"needle_length_mm": 0.9}, ["needle_too_long_for_home"]),
    ("home", {"needle_length_mm": 0.5}, []),
    ("clinic", {"needle_length_mm": 1.0}, []),
    ("home", {"needle_length_mm": 2.0},
     ["needle_length_outside_scalp_range", "professional_needle_at_home"]),
    ("clinic", {"device_disinfected": None}, ["device_not_disinfected"]),
    ("clinic", {"device_disinfected": False}, ["device_not_disinfected"]),
    ("clinic", {"duration_minutes": 21}, ["long_duration"]),
    ("clinic", {"duration_minutes": 20}, []),
    ("clinic", {"pain_score": 7}, ["high_pain"]),
    ("clinic", {"pain_score": 6}, []),
    ("clinic", {"pain_score": 10, "duration_minutes": 45, "device_disinfected": False},
     ["device_not_disinfected", "long_duration", "high_pain"]),
], ids=case_id)
def test_session_warnings(patient, setting, changes, warnings):
    course = start_course(patient, days_ago=1, setting=setting)

    body = log_session(patient, course["id"], 1, **changes)

    assert body["warnings"] == warnings
    assert body["session"]["warnings"] == warnings
    assert done(patient, course["id"])[0]["warnings"] == warnings


def test_omitted_disinfection_answer_warns(patient):
    course = start_course(patient, days_ago=1)
    body = {key: value for key, value in CLEAN.items() if key != "device_disinfected"}

    response = patient.post(f"/courses/{course['id']}/sessions",
                            json={"performed_at": days_back(patient, 1).isoformat(), **body})

    assert response.status_code == 201
    assert response.get_json()["warnings"] == ["device_not_disinfected"]


@pytest.mark.parametrize(("kind", "new_cartridge", "warnings"), [
    ("pen", False, ["cartridge_reused"]),
    ("pen", True, []),
    ("pen", None, []),
    ("stamp", False, []),
])
def test_reused_pen_cartridge_warns(patient, kind, new_cartridge, warnings):
    course = start_course(patient, days_ago=1)
    device = add_device(patient, kind=kind)

    body = log_session(patient, course["id"], 1, device_id=device["id"],
                       new_cartridge=new_cartridge)

    assert body["warnings"] == warnings


@pytest.mark.parametrize(("setting", "gaps", "short"), [
    ("clinic", [6], True),
    ("clinic", [7], False),
    ("home", [9], True),
    ("home", [10], False),
    ("home", [10, 9], True),
    ("home", [10, 10, 7], False),
    ("home", [10, 10, 6], True),
    ("clinic", [7, 7, 6], True),
])
def test_interval_too_short(patient, setting, gaps, short):
    """Only the last session's warning is checked; the gaps before it are long enough."""
    total = sum(gaps) + 1
    course = start_course(patient, days_ago=total, setting=setting)
    ago = total
    # 0.5 mm: a needle no setting warns about (home rollers are 0.15-0.5 mm).
    log_session(patient, course["id"], ago, needle_length_mm=0.5)
    for gap in gaps:
        ago -= gap
        body = log_session(patient, course["id"], ago, needle_length_mm=0.5)

    assert body["warnings"] == (["interval_too_short"] if short else [])


def test_home_roller_wear_warnings_follow_its_uses(patient):
    course = start_course(patient, days_ago=90, setting="home")
    roller = add_device(patient, "roller", needle_length_mm=0.5)
    # 0.5 mm, a home roller's length: no needle warning hides the wear ones.
    warnings = [log_session(patient, course["id"], 90 - 10 * i, device_id=roller["id"],
                            needle_length_mm=0.5)["warnings"]
                for i in range(9)]

    assert warnings == [[], [], [], [], [], ["device_nearing_end"], ["device_nearing_end"],
                        ["device_worn_out"], ["device_worn_out"]]


def test_a_clinic_roller_sterilized_each_time_does_not_wear_out_by_count(patient):
    """v2: the 6-8 treatments are a home roller's life; a clinic sterilizes its roller."""
    course = start_course(patient, days_ago=60)
    roller = add_device(patient, "roller")

    warnings = [log_session(patient, course["id"], 60 - 7 * i, device_id=roller["id"],
                            device_sterilized=True)["warnings"]
                for i in range(9)]

    assert warnings == [[]] * 9
    status = patient.get(f"/courses/{course['id']}/status").get_json()
    assert status["device"]["warnings"] == [] and status["device"]["max_uses"] is None


@pytest.mark.parametrize(("first_used_days_ago", "warnings"), [
    (200, ["device_expired"]),
    (150, []),
])
def test_roller_older_than_six_months_warns_expired(patient, first_used_days_ago, warnings):
    course = start_course(patient, days_ago=10)
    first_used_on = today_of(patient) - timedelta(days=first_used_days_ago)
    roller = add_device(patient, "roller", first_used_on=first_used_on.isoformat())

    body = log_session(patient, course["id"], 10, device_id=roller["id"])

    assert body["warnings"] == warnings


def test_pen_and_stamp_never_wear_out(patient):
    course = start_course(patient, days_ago=60)
    pen = add_device(patient, "pen",
                     first_used_on=(today_of(patient) - timedelta(days=300)).isoformat())

    warnings = [log_session(patient, course["id"], 60 - 7 * i, device_id=pen["id"],
                            new_cartridge=True)["warnings"] for i in range(8)]

    assert warnings == [[]] * 8


# --- refused input ------------------------------------------------------------------------


@pytest.mark.parametrize(("changes", "field"), [
    ({"needle_length_mm": 0}, "needle_length_mm"),
    ({"needle_length_mm": 10}, "needle_length_mm"),
    ({"needle_length_mm": "long"}, "needle_length_mm"),
    ({"pain_score": 11}, "pain_score"),
    ({"pain_score": 5.5}, "pain_score"),
    ({"duration_minutes": -5}, "duration_minutes"),
    ({"areas": ["scalp"]}, "areas.0"),
    ({"side_effects": ["itching"]}, "side_effects.0"),
    ({"device_disinfected": "yes"}, "device_disinfected"),
    pytest.param({"device_id": 10**20}, "device_id", id="device_id=10**20"),
    ({"number": 3}, "number"),
    ({"course_id": 1}, "course_id"),
], ids=case_id)
def test_bad_session_input_is_refused_and_nothing_stored(patient, db_rows, changes, field):
    course = start_course(patient, days_ago=2)

    response = post_session(patient, course["id"], days_back(patient, 1), **changes)

    assert response.status_code == 422
    assert response.content_type == "application/problem+json"
    assert field in response.get_json()["errors"]
    assert db_rows(TreatmentSession) == []


@pytest.mark.parametrize("performed_at", [
    pytest.param(lambda caller: (now_of(caller) + timedelta(hours=1)).isoformat(), id="in-an-hour"),
    pytest.param(lambda caller: (now_of(caller) + timedelta(days=3)).isoformat(), id="in-3-days"),
    pytest.param(lambda caller: days_back(caller, 1).replace(tzinfo=None).isoformat(),
                 id="naive"),
    pytest.param(lambda caller: days_back(caller, 1).date().isoformat(), id="date-only"),
    pytest.param(lambda caller: "0001-01-01T00:00:00+14:00", id="year-1-at-utc+14"),
    pytest.param(lambda caller: "yesterday evening", id="words"),
    pytest.param(lambda caller: None, id="null"),
])
def test_bad_performed_at_is_refused(patient, db_rows, performed_at):
    course = start_course(patient, days_ago=2)

    response = post_session(patient, course["id"], performed_at(patient))

    assert response.status_code == 422
    assert "performed_at" in response.get_json()["errors"]
    assert db_rows(TreatmentSession) == []


def test_a_phone_clock_slightly_ahead_is_not_the_future(patient):
    course = start_course(patient)

    response = post_session(patient, course["id"], now_of(patient) + timedelta(minutes=2))

    assert response.status_code == 201


def test_another_patients_device_is_refused_without_revealing_it(patient, other_patient, db_rows):
    course = start_course(patient, days_ago=2)
    foreign = add_device(other_patient, "roller")
    mine = add_device(patient, "roller")
    unknown_id = max(foreign["id"], mine["id"]) + 100

    foreign_response = post_session(patient, course["id"], days_back(patient, 1),
                                    device_id=foreign["id"])
    unknown_response = post_session(patient, course["id"], days_back(patient, 1),
                                    device_id=unknown_id)

    assert foreign_response.status_code == unknown_response.status_code == 422
    assert "device_id" in foreign_response.get_json()["errors"]
    assert (foreign_response.get_json()["errors"]["device_id"]
            == unknown_response.get_json()["errors"]["device_id"])
    assert db_rows(TreatmentSession) == []
    assert other_patient.get(f"/devices/{foreign['id']}").get_json()["uses"] == 0


def test_needle_length_is_needed_without_a_device(patient, db_rows):
    course = start_course(patient, days_ago=2)

    response = patient.post(f"/courses/{course['id']}/sessions", json={
        "performed_at": days_back(patient, 1).isoformat(), "device_disinfected": True})

    assert response.status_code == 422
    assert "needle_length_mm" in response.get_json()["errors"]
    assert db_rows(TreatmentSession) == []


def test_needle_length_is_taken_from_the_device(patient):
    course = start_course(patient, days_ago=2, setting="home")
    device = add_device(patient, "roller", needle_length_mm=1.0)

    response = patient.post(f"/courses/{course['id']}/sessions", json={
        "performed_at": days_back(patient, 1).isoformat(), "device_id": device["id"],
        "device_disinfected": True})

    assert response.status_code == 201
    body = response.get_json()
    assert body["session"]["needle_length_mm"] == 1.0
    assert body["session"]["device_id"] == device["id"]
    assert body["warnings"] == ["professional_needle_at_home"]


@pytest.mark.parametrize("status", ["on_hold", "paused", "ended", "cancelled"])
def test_sessions_are_logged_on_active_courses_only(patient, db_rows, status):
    if status == "on_hold":
        course = start_course(patient, days_ago=2, screening={"diabetes": True})
    else:
        course = start_course(patient, days_ago=2)
        assert patient.patch(f"/courses/{course['id']}",
                             json={"status": status}).status_code == 200

    response = post_session(patient, course["id"], days_back(patient, 1))

    assert response.status_code == 409
    assert response.content_type == "application/problem+json"
    assert db_rows(TreatmentSession) == []


def test_sessions_of_another_patients_course_are_not_found(patient, other_patient, db_rows):
    course = start_course(other_patient, days_ago=2)

    assert post_session(patient, course["id"], days_back(patient, 1)).status_code == 404
    assert patient.get(f"/courses/{course['id']}/sessions").status_code == 404
    assert db_rows(TreatmentSession) == []


# --- completion ---------------------------------------------------------------------------


def test_standard_course_completes_at_session_ten_and_reopens_when_one_is_undone(patient,
                                                                                 db_rows):
    course = start_course(patient, days_ago=75)
    sessions = [log_session(patient, course["id"], 73 - 7 * i)["session"] for i in range(9)]
    assert course_status(patient, course["id"])["status"] == "active"

    tenth = log_session(patient, course["id"], 5)["session"]

    assert tenth["number"] == 10
    assert patient.get(f"/courses/{course['id']}").get_json()["status"] == "completed"
    status = course_status(patient, course["id"])
    assert status["status"] == "completed"
    assert status["sessions_done"] == 10
    assert status["next_session"] is None
    assert [item["state"] for item in schedule(patient, course["id"])] == ["done"] * 10

    eleventh = post_session(patient, course["id"], days_back(patient, 0))
    assert eleventh.status_code == 409
    assert len(db_rows(TreatmentSession)) == 10

    assert patient.delete(f"/sessions/{tenth['id']}").status_code == 204
    assert patient.get(f"/courses/{course['id']}").get_json()["status"] == "active"
    status = course_status(patient, course["id"])
    assert status["sessions_done"] == 9
    assert status["next_session"]["number"] == 10
    assert [item["id"] for item in done(patient, course["id"])] == [s["id"] for s in sessions]


# --- correcting and undoing ---------------------------------------------------------------


def test_moving_a_session_earlier_renumbers_the_course(patient):
    course = start_course(patient, days_ago=30)
    first = log_session(patient, course["id"], 28)["session"]
    second = log_session(patient, course["id"], 21)["session"]
    third = log_session(patient, course["id"], 7)["session"]
    earlier = days_back(patient, 24).isoformat()

    response = patient.patch(f"/sessions/{third['id']}", json={"performed_at": earlier})

    assert response.status_code == 200
    moved = response.get_json()
    assert moved["number"] == 2
    assert moved["performed_at"] == earlier
    items = done(patient, course["id"])
    assert [item["number"] for item in items] == [1, 2, 3]
    assert [item["id"] for item in items] == [first["id"], third["id"], second["id"]]
    # 4 days after session 1 and 3 days before the next one: both too short.
    assert items[1]["warnings"] == ["interval_too_short"]
    assert items[2]["warnings"] == ["interval_too_short"]
    assert patient.get(f"/sessions/{second['id']}").get_json()["number"] == 3


def test_undoing_a_session_renumbers_the_rest(patient):
    course = start_course(patient, days_ago=30)
    first = log_session(patient, course["id"], 28)["session"]
    second = log_session(patient, course["id"], 21)["session"]
    third = log_session(patient, course["id"], 14)["session"]

    assert patient.delete(f"/sessions/{first['id']}").status_code == 204

    items = done(patient, course["id"])
    assert [(item["number"], item["id"]) for item in items] == [(1, second["id"]),
                                                                 (2, third["id"])]
    assert patient.get(f"/sessions/{first['id']}").status_code == 404
    assert patient.get(f"/sessions/{third['id']}").get_json()["number"] == 2
    assert course_status(patient, course["id"])["sessions_done"] == 2


def test_correcting_a_session_recomputes_its_warnings(patient):
    course = start_course(patient, days_ago=3)
    session = log_session(patient, course["id"], 2, pain_score=8)["session"]
    assert session["warnings"] == ["high_pain"]

    response = patient.patch(f"/sessions/{session['id']}",
                             json={"pain_score": 4, "notes": "I misread the scale."})

    assert response.status_code == 200
    assert response.get_json()["warnings"] == []
    stored = patient.get(f"/sessions/{session['id']}").get_json()
    assert stored["pain_score"] == 4
    assert stored["notes"] == "I misread the scale."
    assert stored["performed_at"] == session["performed_at"]


@pytest.mark.parametrize("body", [
    {},
    {"performed_at": None},
    {"pain_score": 11},
    {"needle_length_mm": 0},
    {"number": 1},
    {"id": 99},
], ids=case_id)
def test_bad_corrections_are_refused(patient, body):
    course = start_course(patient, days_ago=3)
    session = log_session(patient, course["id"], 2)["session"]

    response = patient.patch(f"/sessions/{session['id']}", json=body)

    assert response.status_code == 422
    assert patient.get(f"/sessions/{session['id']}").get_json() == session


@pytest.mark.parametrize("performed_at", [
    pytest.param(lambda caller: (now_of(caller) + timedelta(days=1)).isoformat(), id="tomorrow"),
    pytest.param(lambda caller: "0001-01-01T00:00:00+14:00", id="year-1-at-utc+14"),
])
def test_moving_a_session_out_of_range_is_refused(patient, performed_at):
    course = start_course(patient, days_ago=3)
    session = log_session(patient, course["id"], 2)["session"]

    response = patient.patch(f"/sessions/{session['id']}",
                             json={"performed_at": performed_at(patient)})

    assert response.status_code == 422
    assert patient.get(f"/sessions/{session['id']}").get_json() == session


def test_another_patients_session_is_not_found(patient, other_patient, db_rows):
    course = start_course(other_patient, days_ago=3)
    session = log_session(other_patient, course["id"], 2)["session"]
    unknown = patient.get(f"/sessions/{session['id'] + 1000}")

    for response in (
        patient.get(f"/sessions/{session['id']}"),
        patient.patch(f"/sessions/{session['id']}", json={"pain_score": 9}),
        patient.delete(f"/sessions/{session['id']}"),
    ):
        assert response.status_code == 404
        assert response.get_json() == unknown.get_json()

    assert other_patient.get(f"/sessions/{session['id']}").get_json() == session
    assert len(db_rows(TreatmentSession)) == 1


def test_session_etag(patient):
    course = start_course(patient, days_ago=3)
    session = log_session(patient, course["id"], 2)["session"]

    first = patient.get(f"/sessions/{session['id']}")
    etag = first.headers["ETag"]
    again = patient.get(f"/sessions/{session['id']}", headers={"If-None-Match": etag})

    assert again.status_code == 304
    assert again.get_data() == b""


# --- the schedule: done and projected -----------------------------------------------------


def test_schedule_lists_done_then_projected_sessions_on_the_rolling_schedule(patient):
    course = start_course(patient, days_ago=20, setting="clinic")
    log_session(patient, course["id"], 20)
    last = log_session(patient, course["id"], 11)["session"]
    last_day = today_of(patient) - timedelta(days=11)

    items = schedule(patient, course["id"])

    assert [item["state"] for item in items] == ["done"] * 2 + ["projected"] * 8
    assert [item["number"] for item in items] == list(range(1, 11))
    assert items[1]["id"] == last["id"]
    projected = items[2:]
    for item in projected:
        assert "id" not in item
        assert item["phase"] == "course"
    # Each projected session is due 7 days after the previous one (window 7-10 days).
    for offset, item in enumerate(projected):
        previous_day = last_day + timedelta(days=7 * offset)
        assert item["earliest"] == (previous_day + timedelta(days=7)).isoformat()
        assert item["due"] == (previous_day + timedelta(days=7)).isoformat()
        assert item["latest"] == (previous_day + timedelta(days=10)).isoformat()


def test_schedule_of_a_new_home_course(patient):
    course = start_course(patient, days_ago=0, setting="home")
    start = today_of(patient)

    items = schedule(patient, course["id"])

    windows = [(item["number"], item["earliest"], item["due"], item["latest"]) for item in items]
    assert windows[:4] == [
        (1, start.isoformat(), start.isoformat(), (start + timedelta(days=3)).isoformat()),
        (2, (start + timedelta(days=10)).isoformat(), (start + timedelta(days=10)).isoformat(),
         (start + timedelta(days=13)).isoformat()),
        (3, (start + timedelta(days=20)).isoformat(), (start + timedelta(days=20)).isoformat(),
         (start + timedelta(days=23)).isoformat()),
        (4, (start + timedelta(days=27)).isoformat(), (start + timedelta(days=27)).isoformat(),
         (start + timedelta(days=30)).isoformat()),
    ]
    assert len(items) == 10
    assert {item["state"] for item in items} == {"projected"}


def test_schedule_pages_cover_everything_exactly_once(patient):
    course = start_course(patient, days_ago=30)
    for ago in (28, 21, 14):
        log_session(patient, course["id"], ago)
    everything = schedule(patient, course["id"])

    pages, cursor = [], None
    while True:
        query = {"limit": 2} if cursor is None else {"limit": 2, "cursor": cursor}
        response = patient.get(f"/courses/{course['id']}/sessions", query_string=query)
        assert response.status_code == 200
        body = response.get_json()
        pages.append(body["items"])
        cursor = body["next_cursor"]
        if cursor is None:
            break

    assert [len(page) for page in pages] == [2, 2, 2, 2, 2]
    assert [item for page in pages for item in page] == everything


def forged_cursor(value) -> str:
    """A cursor in the server's encoding that the server never issued."""
    return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")


@pytest.mark.parametrize("query", [
    {"limit": 0},
    {"limit": 201},
    {"cursor": "garbage!"},
    pytest.param({"cursor": forged_cursor(["abc"])}, id="cursor=forged-string-id"),
    pytest.param({"cursor": forged_cursor([])}, id="cursor=forged-empty"),
], ids=case_id)
def test_bad_schedule_paging_is_refused(patient, query):
    course = start_course(patient)

    response = patient.get(f"/courses/{course['id']}/sessions", query_string=query)

    assert response.status_code == 422
    assert response.content_type == "application/problem+json"


# --- the 24 h check-in --------------------------------------------------------------------


ALL_CLEAR = {"redness_persists": False, "swelling_persists": False, "infection_signs": False}


@pytest.mark.parametrize(("answers", "consult"), [
    (ALL_CLEAR, False),
    ({**ALL_CLEAR, "redness_persists": True}, True),
    ({**ALL_CLEAR, "swelling_persists": True}, True),
    ({**ALL_CLEAR, "infection_signs": True}, True),
], ids=case_id)
def test_check_in_flags_the_patient_for_a_doctor(patient, answers, consult):
    course = start_course(patient, days_ago=2)
    session = log_session(patient, course["id"], 1)["session"]

    response = patient.post(f"/sessions/{session['id']}/check-in",
                            json={**answers, "note": "Checked in the mirror."})

    assert response.status_code == 201
    body = response.get_json()
    assert body["consult_doctor"] is consult
    assert body["session_id"] == session["id"]
    assert body["note"] == "Checked in the mirror."
    assert course_status(patient, course["id"])["flags"] == (["consult_doctor"] if consult else [])


def test_a_later_all_clear_check_in_clears_the_flag(patient):
    course = start_course(patient, days_ago=3)
    session = log_session(patient, course["id"], 2)["session"]
    patient.post(f"/sessions/{session['id']}/check-in",
                 json={**ALL_CLEAR, "redness_persists": True})
    assert course_status(patient, course["id"])["flags"] == ["consult_doctor"]

    # A session has one check-in, corrected in place within 7 days.
    response = patient.patch(f"/sessions/{session['id']}/check-in", json=ALL_CLEAR)

    assert response.status_code == 200
    assert response.get_json()["consult_doctor"] is False
    assert course_status(patient, course["id"])["flags"] == []


@pytest.mark.parametrize("body", [
    {},
    {"redness_persists": True},
    {"redness_persists": True, "swelling_persists": False},
    {**ALL_CLEAR, "infection_signs": "no"},
    {**ALL_CLEAR, "infection_signs": None},
    {**ALL_CLEAR, "fever": True},
], ids=case_id)
def test_incomplete_check_in_is_refused(patient, db_rows, body):
    course = start_course(patient, days_ago=2)
    session = log_session(patient, course["id"], 1)["session"]

    response = patient.post(f"/sessions/{session['id']}/check-in", json=body)

    assert response.status_code == 422
    assert db_rows(CheckIn) == []


def test_check_in_of_another_patients_session_is_not_found(patient, other_patient, db_rows):
    course = start_course(other_patient, days_ago=2)
    session = log_session(other_patient, course["id"], 1)["session"]

    response = patient.post(f"/sessions/{session['id']}/check-in",
                            json={**ALL_CLEAR, "infection_signs": True})

    assert response.status_code == 404
    assert db_rows(CheckIn) == []
    assert course_status(other_patient, course["id"])["flags"] == []


# --- Idempotency-Key ----------------------------------------------------------------------


def test_retried_session_post_is_replayed_not_duplicated(patient, db_rows):
    course = start_course(patient, days_ago=3)
    body = {"performed_at": days_back(patient, 2).isoformat(), **CLEAN, "pain_score": 8}
    headers = {"Idempotency-Key": "session-2026-retry-1"}

    first = patient.post(f"/courses/{course['id']}/sessions", json=body, headers=headers)
    second = patient.post(f"/courses/{course['id']}/sessions", json=body, headers=headers)

    assert first.status_code == second.status_code == 201
    assert second.get_json() == first.get_json()
    assert first.get_json()["warnings"] == ["high_pain"]
    assert len(db_rows(TreatmentSession)) == 1


def test_idempotency_key_reused_with_another_body_is_refused(patient, db_rows):
    course = start_course(patient, days_ago=3)
    headers = {"Idempotency-Key": "session-2026-retry-2"}
    first = post_session(patient, course["id"], days_back(patient, 2), headers=headers)

    other = patient.post(f"/courses/{course['id']}/sessions", headers=headers, json={
        "performed_at": days_back(patient, 1).isoformat(), **CLEAN})

    assert first.status_code == 201
    assert other.status_code == 422
    rows = db_rows(TreatmentSession)
    assert [row.id for row in rows] == [first.get_json()["session"]["id"]]


def test_a_refused_request_does_not_burn_its_idempotency_key(patient, db_rows):
    course = start_course(patient, days_ago=3)
    headers = {"Idempotency-Key": "session-2026-retry-3"}
    at = days_back(patient, 2).isoformat()

    refused = patient.post(f"/courses/{course['id']}/sessions", headers=headers,
                           json={"performed_at": at, **CLEAN, "pain_score": 11})
    corrected = patient.post(f"/courses/{course['id']}/sessions", headers=headers,
                             json={"performed_at": at, **CLEAN, "pain_score": 10})

    assert refused.status_code == 422
    assert corrected.status_code == 201
    assert len(db_rows(TreatmentSession)) == 1


def test_undoing_the_tenth_session_while_another_course_is_open_says_why(patient):
    course = start_course(patient, days_ago=80)
    ids = [log_session(patient, course["id"], 75 - 7 * i)["session"]["id"] for i in range(10)]
    assert patient.get(f"/courses/{course['id']}").get_json()["status"] == "completed"
    newer = start_course(patient, days_ago=1)
    response = patient.delete(f"/sessions/{ids[-1]}")
    assert response.status_code == 409
    assert f"course {newer['id']}" in response.get_json()["detail"]
    assert patient.get(f"/courses/{course['id']}").get_json()["status"] == "completed"
