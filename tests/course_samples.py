"""A course with sessions, photos and measurements, for the export and data-rights tests.

Photos are uploaded through `POST /photos`, as the app does.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from tests import photo_samples

COCKTAIL = {"name": "Peptide serum", "ingredients": ["copper peptides", "B vitamins"]}
# Days after the start of each done session (intensive, at home: 10-day first intervals).
SESSION_DAYS = (0, 10, 20, 27)
PHOTO_AREAS = ("frontal", "vertex")


@dataclass
class SampleCourse:
    course: dict
    sessions: list[dict]
    photo_ids: dict[str, list[int]] = field(default_factory=dict)


def photo_bytes(seed: int, size=(160, 120), exif=None) -> bytes:
    """A different small scalp JPEG for every seed."""
    return photo_samples.jpeg(photo_samples.scalp(size, brightness=90 + seed % 120), exif=exif)


def add_photo(caller, area: str, taken_at: datetime, course_id: int | None = None,
              session_id: int | None = None, data: bytes | None = None, note: str | None = None,
              seed: int = 0) -> int:
    """Upload a photo through `POST /photos`; returns its id."""
    fields = {"file": (io.BytesIO(data if data is not None else photo_bytes(seed)), "scalp.jpg"),
              "area": area, "taken_at": taken_at.isoformat()}
    for name, value in (("course_id", course_id), ("session_id", session_id), ("note", note)):
        if value is not None:
            fields[name] = str(value)
    response = caller.post("/photos", data=fields)
    assert response.status_code == 201, response.get_json()
    return response.get_json()["id"]


def sample_course(patient, clinician=None, regimen: str = "intensive") -> SampleCourse:
    """Four sessions, a baseline photo and one after each session in two areas, measurements."""
    zone = ZoneInfo(patient.user["timezone"])
    today = datetime.now(zone).date()
    start = today - timedelta(days=SESSION_DAYS[-1] + 3)
    response = patient.post("/courses", json={
        "regimen": regimen, "setting": "home", "start_date": start.isoformat(),
        "concurrent_therapies": ["minoxidil 5 %", "biotin"]})
    assert response.status_code == 201, response.get_json()
    course = response.get_json()
    device = patient.post("/devices", json={"kind": "roller", "needle_length_mm": 0.5,
                                            "label": "Titanium roller"}).get_json()
    sample = SampleCourse(course, [])
    seed = 0
    for area in PHOTO_AREAS:
        seed += 1
        sample.photo_ids.setdefault(area, []).append(add_photo(
            patient, area, datetime.combine(start, time(9), zone), course["id"], seed=seed))
    for number, day in enumerate(SESSION_DAYS, start=1):
        performed = datetime.combine(start + timedelta(days=day), time(20, 30), zone)
        response = patient.post(f"/courses/{course['id']}/sessions", json={
            "performed_at": performed.isoformat(), "device_id": device["id"],
            "needle_length_mm": 0.5 if number < 3 else 0.75, "duration_minutes": 15,
            "pain_score": number + 1, "cocktail": COCKTAIL, "areas": list(PHOTO_AREAS),
            "side_effects": ["redness"] if number % 2 else [], "device_disinfected": True,
            "notes": f"session note {number}"})
        assert response.status_code == 201, response.get_json()
        session = response.get_json()["session"]
        sample.sessions.append(session)
        for area in PHOTO_AREAS:
            seed += 1
            sample.photo_ids[area].append(add_photo(
                patient, area, performed + timedelta(hours=1), course["id"],
                session_id=session["id"], seed=seed))
    patient.post(f"/courses/{course['id']}/observations", json={
        "kind": "shedding_count", "value": 80,
        "observed_at": datetime.combine(start, time(8), zone).isoformat()})
    patient.post(f"/courses/{course['id']}/observations", json={
        "kind": "shedding_count", "value": 55,
        # This morning, or now if it is earlier: a measurement is never dated ahead.
        "observed_at": min(datetime.combine(today, time(8), zone),
                           datetime.now(zone)).isoformat()})
    if clinician is not None:
        for days, value in ((0, 120.0), (SESSION_DAYS[-1], 131.5)):
            response = clinician.post(f"/courses/{course['id']}/observations", json={
                "kind": "hair_count_per_cm2", "value": value, "area": "vertex",
                "observed_at": datetime.combine(start + timedelta(days=days), time(10),
                                                zone).isoformat()})
            assert response.status_code == 201, response.get_json()
        clinician.post(f"/courses/{course['id']}/observations", json={
            "kind": "norwood_stage", "value": "3A"})
    return sample
