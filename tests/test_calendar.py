"""The calendar feed: a secret URL, no Authorization, events on the status's due dates."""

from __future__ import annotations

from datetime import date, timedelta
from urllib.parse import urlsplit

import pytest
from icalendar import Calendar

from storage.models import CalendarToken
from tests.course_samples import sample_course


def _feed(client, url: str):
    """Fetch the feed as a phone calendar does: the URL alone, no Authorization header."""
    return client.get(urlsplit(url).path)


def _calendar(response) -> Calendar:
    assert response.status_code == 200, response.data
    assert response.mimetype == "text/calendar"
    return Calendar.from_ical(response.data)


def _events(calendar: Calendar) -> list:
    return list(calendar.walk("VEVENT"))


def test_the_feed_has_an_event_on_each_projected_due_date(app, client, patient):
    course = sample_course(patient).course
    response = patient.post("/me/calendar-token")
    assert response.status_code == 201
    url = response.get_json()["url"]
    assert url.startswith("http://localhost/api/v1/calendar/") and url.endswith(".ics")
    feed = _feed(client, url)
    assert feed.headers["Cache-Control"] == "private, no-store"
    calendar = _calendar(feed)

    events = _events(calendar)
    schedule = patient.get(f"/courses/{course['id']}/sessions").get_json()["items"]
    projected = [item for item in schedule if item["state"] == "projected"]
    assert [event.decoded("dtstart") for event in events] == [
        date.fromisoformat(item["due"]) for item in projected]
    status = patient.get(f"/courses/{course['id']}/status").get_json()
    assert events[0].decoded("dtstart") == date.fromisoformat(status["next_session"]["due"])
    for event, item in zip(events, projected):
        assert event.decoded("dtend") == event.decoded("dtstart") + timedelta(days=1)
        assert f"Microneedling session {item['number']}" == str(event["summary"])
        description = str(event["description"])
        assert f"from {item['earliest']} to {item['latest']}" in description
        (alarm,) = event.walk("VALARM")
        assert alarm.decoded("trigger") < timedelta(0)
        assert str(alarm["action"]) == "DISPLAY"
        assert str(event["uid"]).startswith(f"course-{course['id']}-session-{item['number']}@")


def test_the_token_has_at_least_128_bits_and_only_its_hash_is_kept(client, patient, db_rows):
    url = patient.post("/me/calendar-token").get_json()["url"]
    token = urlsplit(url).path.rsplit("/", 1)[1].removesuffix(".ics")
    # base64url: 6 bits per character
    assert len(token) * 6 >= 128
    (row,) = db_rows(CalendarToken)
    assert token not in row.token_hash and len(row.token_hash) == 64


def test_a_new_token_revokes_the_old_one_at_once(client, patient, db_rows):
    first = patient.post("/me/calendar-token").get_json()["url"]
    assert _feed(client, first).status_code == 200
    second = patient.post("/me/calendar-token").get_json()["url"]
    assert second != first
    old = _feed(client, first)
    assert old.status_code == 404
    assert old.mimetype == "application/problem+json"
    assert _feed(client, second).status_code == 200
    assert len(db_rows(CalendarToken)) == 1


@pytest.mark.parametrize("token", ["unknown", "x" * 43, "%00", "a.b"])
def test_an_unknown_token_is_404(client, token):
    response = client.get(f"/api/v1/calendar/{token}.ics")
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"


def test_only_active_courses_are_in_the_feed(app, client, patient):
    course = sample_course(patient).course
    url = patient.post("/me/calendar-token").get_json()["url"]
    assert _events(_calendar(_feed(client, url)))
    assert patient.patch(f"/courses/{course['id']}", json={"status": "paused"}).status_code == 200
    assert _events(_calendar(_feed(client, url))) == []


def test_the_feed_follows_a_logged_session(app, client, patient):
    course = sample_course(patient).course
    url = patient.post("/me/calendar-token").get_json()["url"]
    before = _events(_calendar(_feed(client, url)))
    due = before[0].decoded("dtstart")
    patient.post(f"/courses/{course['id']}/sessions", json={
        "performed_at": f"{min(due, date.today())}T08:00:00+01:00", "needle_length_mm": 0.5,
        "device_disinfected": True})
    after = _events(_calendar(_feed(client, url)))
    assert str(after[0]["uid"]) == str(before[1]["uid"])
    schedule = patient.get(f"/courses/{course['id']}/sessions").get_json()["items"]
    assert [event.decoded("dtstart") for event in after] == [
        date.fromisoformat(item["due"]) for item in schedule if item["state"] == "projected"]


def test_each_patient_sees_only_their_own_sessions(app, client, patient, other_patient):
    sample_course(patient)
    mine = patient.post("/me/calendar-token").get_json()["url"]
    theirs = other_patient.post("/me/calendar-token").get_json()["url"]
    assert _events(_calendar(_feed(client, mine)))
    assert _events(_calendar(_feed(client, theirs))) == []


def test_clinicians_have_no_feed(clinician):
    assert clinician.post("/me/calendar-token").status_code == 403
