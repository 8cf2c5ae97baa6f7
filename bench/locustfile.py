"""The load mix of `bench.load`, for locust (run by it, headless, against 127.0.0.1).

200 patients and 5 clinicians, each a seeded account (`LOAD_WORLD`, JSON).
By request count: 70 % reads (course status, courses, the schedule, photos;
clinicians read their triage list, a patient's status and schedule), 20 %
session logs (each patient's next session a day after the last one, always
in the past), 10 % photo uploads (12 MP camera JPEGs of 3-5 MB with EXIF
Orientation 6 and GPS, from a pool `bench.load` made, each sent as new bytes).
Every answer is recorded by class with its latency; `LOAD_RESULTS` gets them
as JSON when locust quits.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import secrets
from datetime import datetime, timedelta, timezone

from locust import FastHttpUser, between, events, task

from bench.load_mix import LOG, READ, UPLOAD, multipart, retaken

WORLD = json.loads(open(os.environ["LOAD_WORLD"]).read())
CAMERA_PHOTOS = [open(path, "rb").read() for path in WORLD["camera_photos"]]
_patients = itertools.cycle(WORLD["patients"])
_clinicians = itertools.cycle(WORLD["clinicians"])
_answers: list[tuple[str, int, float]] = []


@events.request.add_listener
def _record(request_type, name, response_time, response_length, response=None, exception=None,
            context=None, **kwargs):
    kind = name.split(":", 1)[0]
    status = 0 if exception is not None and response is None else response.status_code
    _answers.append((kind, status, response_time))


@events.quitting.add_listener
def _write(environment, **kwargs):
    with open(os.environ["LOAD_RESULTS"], "w") as out:
        json.dump({"answers": _answers}, out)


class Patient(FastHttpUser):
    weight = 200
    # One request every 2-5 s per phone: 200 patients logging a session every ~17 s
    # between reads, far above a real course's pace (one session a week).
    wait_time = between(2, 5)

    def on_start(self):
        account = next(_patients)
        self.headers = {"Authorization": f"Bearer {account['token']}"}
        self.course_id = account["course_id"]
        self.next_at = datetime.fromisoformat(account["last_session_at"]) + timedelta(days=1)
        self.rng = random.Random(account["course_id"])

    def get(self, path: str, name: str):
        self.client.get(path, headers=self.headers, name=f"{READ}: {name}")

    @task(35)
    def status(self):
        self.get(f"/api/v1/courses/{self.course_id}/status", "GET /courses/{id}/status")

    @task(10)
    def courses(self):
        self.get("/api/v1/courses", "GET /courses")

    @task(15)
    def schedule(self):
        self.get(f"/api/v1/courses/{self.course_id}/sessions", "GET /courses/{id}/sessions")

    @task(10)
    def photos(self):
        self.get("/api/v1/photos", "GET /photos")

    @task(20)
    def log_session(self):
        performed_at = min(self.next_at, datetime.now(timezone.utc) - timedelta(minutes=10))
        self.next_at += timedelta(days=1)
        self.client.post(f"/api/v1/courses/{self.course_id}/sessions", name=f"{LOG}: POST",
                         headers={**self.headers, "Idempotency-Key": secrets.token_hex(12)},
                         json={"performed_at": performed_at.isoformat(), "needle_length_mm": 0.5,
                               "device_disinfected": True, "duration_minutes": 15,
                               "pain_score": 3, "areas": ["vertex", "frontal"]})

    @task(10)
    def upload_photo(self):
        body, content_type = multipart(
            {"area": self.rng.choice(["vertex", "frontal", "mid_scalp"]),
             "course_id": str(self.course_id)},
            retaken(self.rng.choice(CAMERA_PHOTOS), self.rng))
        self.client.post("/api/v1/photos", name=f"{UPLOAD}: POST", data=body,
                         headers={**self.headers, "Content-Type": content_type})


class Clinician(FastHttpUser):
    weight = 5
    wait_time = between(2, 5)

    def on_start(self):
        account = next(_clinicians)
        self.headers = {"Authorization": f"Bearer {account['token']}"}
        self.course_ids = account["course_ids"]

    def get(self, path: str, name: str):
        self.client.get(path, headers=self.headers, name=f"{READ}: {name}")

    @task(4)
    def triage(self):
        self.get("/api/v1/clinician/patients", "GET /clinician/patients")

    @task(4)
    def status(self):
        course_id = random.choice(self.course_ids)
        self.get(f"/api/v1/courses/{course_id}/status", "GET /courses/{id}/status")

    @task(2)
    def schedule(self):
        course_id = random.choice(self.course_ids)
        self.get(f"/api/v1/courses/{course_id}/sessions", "GET /courses/{id}/sessions")
