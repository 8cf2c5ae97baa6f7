"""Faults: gunicorn workers killed mid-request, database connections cut mid-request.

A real gunicorn (4 workers) on a scratch PostgreSQL database and Redis is
loaded by phones that upload photos (multipart and resumable, resuming after
a cut as a phone does) and log sessions, while gunicorn workers are killed
with SIGKILL at random moments (gunicorn starts new ones). Afterwards
`flask --app wsgi storage check` must find no row with a missing or
mismatched file, every acknowledged upload must be there with the SHA-256 of
what was sent, every acknowledged session must be there, and every course's
stored status facts must be exactly what its records say. Then the same
load runs while the server's database connections are terminated
(`pg_terminate_backend`): every answer is the right one or a clean 503
problem+json, never a 500, and again nothing is half done.

Needs TEST_DATABASE_URL (PostgreSQL) and TEST_REDIS_URL, which CI sets.
"""

from __future__ import annotations

import hashlib
import os
import random
import re
import secrets
import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import requests
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from services import courses as tracking
from storage.db import make_engine
from storage.models import Course, TreatmentSession, TriageDigest
from tests.live_seed import Account, jpeg, live_database, register
from tests.live_server import ROOT, gunicorn

DATABASE = os.environ.get("TEST_DATABASE_URL", "")
REDIS = os.environ.get("TEST_REDIS_URL", "")

pytestmark = pytest.mark.skipif(
    not (DATABASE.startswith("postgresql") and REDIS),
    reason="needs TEST_DATABASE_URL (PostgreSQL) and TEST_REDIS_URL (Redis); .ci/run sets both",
)

KILLS = 60
PHONES = 8
WORKERS = 4
# A worker younger than this may still be importing the app: killing it tests nothing,
# and with no worker left to serve, the phones would only queue.
BOOTED_S = 2.0
TUS = {"Tus-Resumable": "1.0.0"}
PROBLEM_JSON = "application/problem+json"


@dataclass
class Ledger:
    """What the phones were told: every acknowledged upload and session, every answer."""

    photos: list[tuple[Account, int, str]] = field(default_factory=list)
    sessions: list[tuple[Account, int]] = field(default_factory=list)
    answers: Counter = field(default_factory=Counter)
    bad: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def answer(self, kind: str, response: requests.Response | None) -> None:
        with self.lock:
            if response is None:
                self.answers[f"{kind} cut"] += 1
                return
            self.answers[f"{kind} {response.status_code}"] += 1
            problem = response.headers.get("Content-Type", "").startswith(PROBLEM_JSON)
            if response.status_code >= 500 and (response.status_code != 503 or not problem):
                self.bad.append(f"{kind}: {response.status_code} {response.text[:300]}")


class Phone:
    """One patient's app: uploads photos both ways and logs sessions, with retries."""

    def __init__(self, base_url: str, patient: Account, course_id: int, ledger: Ledger):
        self.base_url, self.patient, self.course_id, self.ledger = (base_url, patient,
                                                                    course_id, ledger)
        self.http = requests.Session()
        self.http.trust_env = False
        self.rng = random.Random(patient.id)

    def send(self, kind: str, method: str, path: str, **kwargs) -> requests.Response | None:
        headers = {**self.patient.headers, **kwargs.pop("headers", {})}
        try:
            response = self.http.request(method, self.base_url + path, headers=headers,
                                         timeout=30, **kwargs)
        except requests.ConnectionError:
            response = None  # the worker died under the request
        except requests.Timeout:
            self.ledger.answer(f"{kind} timeout", None)
            return None
        self.ledger.answer(kind, response)
        return response

    def act(self) -> None:
        roll = self.rng.random()
        if roll < 0.4:
            self.upload_photo()
        elif roll < 0.6:
            self.upload_in_chunks()
        else:
            self.log_session()

    def photo(self) -> bytes:
        color = tuple(self.rng.randrange(256) for _ in range(3))
        return jpeg(color, (self.rng.randrange(40, 120), self.rng.randrange(30, 90)))

    def upload_photo(self) -> None:
        data = self.photo()
        response = self.send("photo", "POST", "/api/v1/photos",
                             data={"area": "vertex", "course_id": str(self.course_id)},
                             files={"file": ("scalp.jpg", data, "image/jpeg")})
        if response is not None and response.status_code in (200, 201):
            self.acknowledge(response.json()["id"], data)

    def upload_in_chunks(self) -> None:
        data = self.photo()
        response = self.send("upload", "POST", "/api/v1/uploads", json={
            "length": len(data), "area": "frontal", "course_id": self.course_id},
            headers={"Idempotency-Key": secrets.token_hex(8)})
        if response is None or response.status_code != 201:
            return
        location = response.headers["Location"]
        offset, size = 0, -(-len(data) // 3)
        for _ in range(12):
            response = self.send("chunk", "PATCH", location, data=data[offset:offset + size],
                                 headers={**TUS, "Upload-Offset": str(offset),
                                          "Content-Type": "application/offset+octet-stream"})
            if response is not None and response.status_code == 204:
                if "Location" in response.headers:
                    self.acknowledge(int(response.headers["Location"].rsplit("/", 1)[1]), data)
                    return
                offset = int(response.headers["Upload-Offset"])
                continue
            # Cut, or refused: ask where the server is, as a phone resuming does.
            state = self.send("head", "HEAD", location, headers=TUS)
            if state is None or state.status_code != 200:
                continue
            if "Location" in state.headers:
                self.acknowledge(int(state.headers["Location"].rsplit("/", 1)[1]), data)
                return
            offset = int(state.headers["Upload-Offset"])

    def acknowledge(self, photo_id: int, data: bytes) -> None:
        with self.ledger.lock:
            self.ledger.photos.append((self.patient, photo_id, hashlib.sha256(data).hexdigest()))

    def log_session(self) -> None:
        performed_at = datetime.now(ZoneInfo("Europe/Berlin")) - timedelta(
            days=self.rng.randrange(1, 150), minutes=self.rng.randrange(1440))
        body = {"performed_at": performed_at.isoformat(), "needle_length_mm": 0.5,
                "device_disinfected": True}
        key = secrets.token_hex(8)
        for _ in range(3):  # a retry with the same key is safe, and phones retry
            response = self.send("session", "POST", f"/api/v1/courses/{self.course_id}/sessions",
                                 json=body, headers={"Idempotency-Key": key})
            if response is not None and response.status_code == 201:
                with self.ledger.lock:
                    self.ledger.sessions.append((self.patient, response.json()["session"]["id"]))
                return
            if response is not None and response.status_code not in (409, 503):
                return


def worker_pids(master: int) -> list[int]:
    pids = []
    for task in Path(f"/proc/{master}/task").iterdir():
        pids += [int(pid) for pid in (task / "children").read_text().split()]
    return pids


def age_s(pid: int) -> float:
    """Seconds since the process started (field 22 of /proc/PID/stat, in clock ticks)."""
    started = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
    uptime = float(Path("/proc/uptime").read_text().split()[0])
    return uptime - started / os.sysconf("SC_CLK_TCK")


def run_phones(phones: list[Phone], until: threading.Event) -> list[threading.Thread]:
    def loop(phone: Phone) -> None:
        while not until.is_set():
            phone.act()

    threads = [threading.Thread(target=loop, args=(phone,)) for phone in phones]
    for thread in threads:
        thread.start()
    return threads


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    folder = tmp_path_factory.mktemp("faults")
    with live_database(folder) as (url, engine), \
            gunicorn(url, REDIS, folder / "photos", workers=WORKERS,
                     # A queue worker whose job died with a cut connection gives it up soon.
                     env={"JOB_LEASE_S": "10", "JOB_RESEND_AFTER_S": "5"}) as server:
        base_url = f"http://127.0.0.1:{server.port}"
        phones = []
        start = (datetime.now(ZoneInfo("Europe/Berlin")) - timedelta(days=160)).date()
        ledger = Ledger()
        for number in range(PHONES):
            patient = register(server, f"Phone {number}")
            status, course = server.json("POST", "/api/v1/courses", {
                "regimen": "intensive", "setting": "home", "start_date": start.isoformat()},
                token=patient.token)
            assert status == 201, course
            phones.append(Phone(base_url, patient, course["id"], ledger))
        yield server, url, engine, folder / "photos", phones


def storage_check(server, timeout_s: float = 120) -> dict[str, int]:
    """`flask storage check` once the queue has made every acknowledged photo's derivatives
    (sending again, as the workers do every minute, what a cut or a kill left behind)."""
    flask = [str(Path(sys.executable).with_name("flask")), "--app", "wsgi"]
    deadline = time.monotonic() + timeout_s
    while True:
        result = subprocess.run([*flask, "storage", "check"], cwd=ROOT, env=server.env,
                                capture_output=True, text=True, timeout=300)
        summary = re.search(r"(\d+) photos, (\d+) files: (\d+) missing, (\d+) mismatched, "
                            r"(\d+) orphans, (\d+) with derivatives pending", result.stdout)
        assert summary, result.stdout + result.stderr
        photos, files, missing, mismatched, orphans, pending = map(int, summary.groups())
        if pending == 0 or time.monotonic() > deadline:
            break
        subprocess.run([*flask, "jobs", "send-again"], cwd=ROOT, env=server.env,
                       capture_output=True, timeout=60)
        time.sleep(2)
    return {"photos": photos, "files": files, "missing": missing, "mismatched": mismatched,
            "orphans": orphans, "pending": pending}


def instants(value):
    """Facts with every timestamp as the instant it names (offsets may be written either way)."""
    if isinstance(value, dict):
        return {key: instants(item) for key, item in value.items()}
    if isinstance(value, list):
        return [instants(item) for item in value]
    if isinstance(value, str) and len(value) > 19 and value[10:11] == "T":
        return datetime.fromisoformat(value).timestamp()
    return value


def inconsistencies(server, engine, ledger: Ledger) -> list[str]:
    """Acknowledged work missing, and courses whose stored facts differ from their records."""
    found = []
    for patient, photo_id, sha256 in ledger.photos:
        status, photo = server.json("GET", f"/api/v1/photos/{photo_id}", token=patient.token)
        if status != 200 or photo["sha256"] != sha256:
            found.append(f"photo {photo_id}: {status}, not the bytes that were sent")
        elif server.request("GET", f"/api/v1/photos/{photo_id}/original",
                            token=patient.token)[0] != 200:
            found.append(f"photo {photo_id}: original unreadable")
    for patient, session_id in ledger.sessions:
        status = server.request("GET", f"/api/v1/sessions/{session_id}", token=patient.token)[0]
        if status != 200:
            found.append(f"session {session_id}: {status}")
    with Session(engine) as session:
        for course in session.scalars(select(Course)):
            if instants(course.status_facts) != instants(tracking.collect_facts(session, course)):
                found.append(f"course {course.id}: stored status facts differ from its records")
        counts = dict(session.execute(
            select(Course.patient_id, func.count(TreatmentSession.id))
            .join(TreatmentSession, TreatmentSession.course_id == Course.id)
            .group_by(Course.patient_id)).all())
        for digest in session.scalars(select(TriageDigest)):
            if digest.sessions_done != counts.get(digest.patient_id, 0):
                found.append(f"patient {digest.patient_id}: triage digest says "
                             f"{digest.sessions_done} sessions, the records "
                             f"{counts.get(digest.patient_id, 0)}")
    return found


def wait_until_ready(server) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if server.request("GET", "/readyz")[0] == 200 and \
                    len(worker_pids(server.process.pid)) == WORKERS:
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError("the server did not come back")


def test_killed_workers_lose_nothing_acknowledged_and_leave_nothing_half_written(cluster, figure):
    server, url, engine, photo_dir, phones = cluster
    ledger = phones[0].ledger
    stop = threading.Event()
    threads = run_phones(phones, stop)
    kills, started = 0, time.monotonic()
    try:
        rng = random.Random(4)
        while kills < KILLS and time.monotonic() - started < 240:
            time.sleep(rng.uniform(0.05, 0.5))
            booted = [pid for pid in worker_pids(server.process.pid) if age_s(pid) > BOOTED_S]
            if len(booted) > 2:  # two keep serving while one dies
                try:
                    os.kill(rng.choice(booted), signal.SIGKILL)
                except ProcessLookupError:
                    continue  # it exited between the listing and the kill
                kills += 1
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    wait_until_ready(server)
    check = storage_check(server)
    found = inconsistencies(server, engine, ledger)
    cut = sum(count for kind, count in ledger.answers.items() if kind.endswith(" cut"))
    figure(f"worker kills: {kills} SIGKILLs in {time.monotonic() - started:.0f} s, "
           f"{cut} requests cut; acknowledged: {len(ledger.photos)} photos, "
           f"{len(ledger.sessions)} sessions; storage check: {check['photos']} photos, "
           f"{check['missing']} missing, {check['mismatched']} mismatched, "
           f"{check['pending']} with derivatives pending once the queue drained, "
           f"{check['orphans']} orphan files (invisible; `storage check --repair` removes "
           f"them after an hour); inconsistencies found: {len(found)}")
    assert kills >= 50
    assert cut > 0, "no request was ever cut: the kills missed"
    assert ledger.photos and ledger.sessions
    assert check["missing"] == check["mismatched"] == check["pending"] == 0, check
    assert check["photos"] >= len({photo_id for _, photo_id, _ in ledger.photos})
    assert found == []
    assert ledger.bad == []


def test_cut_database_connections_give_a_503_never_a_500_and_nothing_half_done(cluster, figure):
    server, url, engine, photo_dir, phones = cluster
    ledger = Ledger()
    for phone in phones:
        phone.ledger = ledger
    admin = make_engine(url, isolation_level="AUTOCOMMIT")
    database = make_url(url).database
    stop = threading.Event()
    threads = run_phones(phones, stop)
    terminated, started = 0, time.monotonic()
    try:
        with admin.connect() as connection:
            rng = random.Random(5)
            while time.monotonic() - started < 20:
                time.sleep(rng.uniform(0.02, 0.15))
                terminated += connection.execute(text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = :database AND pid <> pg_backend_pid() "
                    "AND backend_type = 'client backend'"), {"database": database}).scalar()
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
        admin.dispose()
    wait_until_ready(server)
    check = storage_check(server)
    found = inconsistencies(server, engine, ledger)
    unavailable = sum(count for kind, count in ledger.answers.items() if kind.endswith(" 503"))
    figure(f"connection cuts: {terminated} backends terminated in 20 s; "
           f"{sum(ledger.answers.values())} answers, {unavailable} were 503, "
           f"{len(ledger.bad)} server errors other than a clean 503; acknowledged: "
           f"{len(ledger.photos)} photos, {len(ledger.sessions)} sessions; inconsistencies "
           f"found: {len(found)}; storage check: {check['missing']} missing, "
           f"{check['mismatched']} mismatched, {check['pending']} pending once drained")
    assert terminated >= 50
    assert ledger.bad == [], ledger.bad[:5]
    assert not any(kind.endswith(" cut") for kind in ledger.answers), ledger.answers
    assert check["missing"] == check["mismatched"] == check["pending"] == 0, check
    assert found == []
