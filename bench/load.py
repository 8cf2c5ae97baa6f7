"""Load: a realistic mix from 200 patients and 5 clinicians, 60 s against gunicorn + PostgreSQL.

A scratch database on the local PostgreSQL (`BENCH_DATABASE_URL`, default
the `test` database on 127.0.0.1 as the admin connection) gets 200 patients
with an active course, a roller and a few past sessions, and 5 clinicians
each linked to 40 of them; every patient uploads one photo over HTTP before
the clock starts, and the queue makes their derivatives. Uploads under load
are camera photos: 12 MP JPEGs of 3-5 MB (`bench.ingest.phone_photo`), each
sent as new bytes. gunicorn serves with 2 x CPUs + 1 sync workers, as
`gunicorn.conf.py` would, and a job worker (`flask jobs worker`, at a lower
CPU priority) makes the photos' previews and thumbnails beside it, from a
queue of this run's own on the local Redis (`BENCH_REDIS_URL`, default
database 14 on 127.0.0.1). locust (`bench/locustfile.py`, headless, in its
own process) then plays the patients and clinicians: 70 % reads (status,
courses, schedule, photos, the triage list), 20 % session logs, 10 % photo
uploads. Once it stops, the bench waits for the queue to drain and reads
from the database how long each photo waited for its derivatives: its job's
`finished_at` less the photo's `created_at` (stamped just before the upload
is acknowledged, so the wait counted is if anything a little long).

Goals: no server error, under 1 % failed requests, p95 of reads under
200 ms, of session logs under 300 ms, of upload acknowledgements under
500 ms, and every photo's derivatives ready within 10 s.
"""
from __future__ import annotations

import json
import os
import random
import secrets
import subprocess
import sys
import tempfile
import urllib.request
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, time, timedelta, timezone
from pathlib import Path
from statistics import quantiles
from time import monotonic, sleep

import redis
from redis.exceptions import RedisError
from sqlalchemy import func, insert, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from bench import BenchError, server
from bench.ingest import phone_photo
from bench.load_mix import EXPECTED, LOG, READ, UPLOAD, multipart, phone_jpeg
from bench.seed import TIME_ZONES
from services.accounts import hash_password, token_digest
from services.derivatives import KIND as DERIVATIVES
from storage import migrate
from storage.db import make_engine
from storage.models import (
    AuthToken,
    Course,
    Device,
    Job,
    Photo,
    Share,
    TreatmentSession,
    User,
)
from tests.conftest import scratch_database

DATABASE = os.environ.get("BENCH_DATABASE_URL",
                          "postgresql+psycopg://postgres@127.0.0.1:5432/test")
# Not database 15, which the test suite uses.
QUEUE = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/14")
ROOT = Path(__file__).resolve().parent.parent
PATIENTS, CLINICIANS = 200, 5
LOAD_S = 60
WORKERS = 2 * (os.cpu_count() or 1) + 1
SPAWN_RATE = 50
CAMERA_PHOTOS = 4
JOB_WORKERS = 1
# How long the queue may take, once the load stops, to finish what it was given.
DRAIN_TIMEOUT_S = 60
GOAL_FAILED = 0.01
GOAL_P95_MS = {READ: 200.0, LOG: 300.0, UPLOAD: 500.0}
GOAL_DERIVATIVES_S = 10.0


def run(duration_s: int) -> bool:
    """Seed, serve, load for 60 s (or `--duration`, if longer); print the figures and goals."""
    duration = max(duration_s, LOAD_S)
    _check_postgresql()
    _check_redis()
    with tempfile.TemporaryDirectory(prefix="bench-load-") as tmp, \
            scratch_database(DATABASE) as url:
        workdir = Path(tmp)
        print(f"seeding {PATIENTS} patients and {CLINICIANS} clinicians on PostgreSQL "
              f"({make_url(url).database})", flush=True)
        world = _seed(url)
        world["camera_photos"] = _camera_photos(workdir)
        (workdir / "world.json").write_text(json.dumps(world))
        print(f"starting gunicorn ({WORKERS} workers) and {JOB_WORKERS} job worker", flush=True)
        with server.gunicorn(url, workdir / "gunicorn.log", workers=WORKERS, queue_url=QUEUE,
                             job_workers=JOB_WORKERS) as base_url:
            _first_photos(base_url, world["patients"])
            _drain(url)
            print(f"loading: locust, {PATIENTS + CLINICIANS} users for {duration} s", flush=True)
            answers = _locust(base_url, workdir, duration)
            drained_in = _drain(url)
            waits = _derivative_waits(url)
    return _report(answers, duration, waits, drained_in)


def _check_postgresql() -> None:
    engine = make_engine(DATABASE, connect_args={"connect_timeout": 5})
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        raise BenchError(
            f"PostgreSQL is unavailable at {make_url(DATABASE).render_as_string()}: "
            f"{error.orig or error}. Start it (`.ci/run` shows how) or set BENCH_DATABASE_URL "
            "to a server where this role may create databases.") from None
    finally:
        engine.dispose()


def _check_redis() -> None:
    client = redis.Redis.from_url(QUEUE, socket_connect_timeout=5)
    try:
        client.ping()
    except RedisError as error:
        raise BenchError(
            f"Redis is unavailable at {QUEUE}: {error}. Start it (`.ci/run` shows how) or set "
            "BENCH_REDIS_URL to another.") from None
    finally:
        client.close()


def _seed(url: str) -> dict:
    """Bulk rows (one argon2 hash for all), then the app's own digests; the accounts' tokens."""
    engine = make_engine(url)
    rng = random.Random(1)
    now = datetime.now(timezone.utc)
    password_hash = hash_password("bench password")
    try:
        migrate.upgrade(engine)
        with Session(engine) as session, session.begin():
            users = [{"email": f"load-{role}-{number}@bench.example.org",
                      "password_hash": password_hash, "display_name": f"{role} {number}",
                      "timezone": rng.choice(TIME_ZONES), "role": role, "created_at": now}
                     for role, count in (("patient", PATIENTS), ("clinician", CLINICIANS))
                     for number in range(count)]
            ids = _insert(session, User, users)
            patient_ids, clinician_ids = ids[:PATIENTS], ids[PATIENTS:]
            tokens = {user_id: secrets.token_urlsafe(32) for user_id in ids}
            _insert(session, AuthToken, [
                {"user_id": user_id, "token_hash": token_digest(token), "created_at": now,
                 "expires_at": now + timedelta(days=1)} for user_id, token in tokens.items()])
            start = (now - timedelta(days=150)).date()
            course_ids = _insert(session, Course, [
                {"patient_id": patient_id, "regimen": "intensive", "setting": "home",
                 "weekly_sessions": 5, "biweekly_sessions": 5, "start_date": start,
                 "status": "active", "screening": {}, "hold_reasons": [],
                 "concurrent_therapies": ["minoxidil"], "created_at": now}
                for patient_id in patient_ids])
            device_ids = _insert(session, Device, [
                {"patient_id": patient_id, "kind": "roller", "needle_length_mm": 0.5,
                 "label": "Titanium roller", "retired": False} for patient_id in patient_ids])
            # Sessions up to a month ago: a month of new ones, one a day, stays in the past.
            done = {course_id: [datetime.combine(start + timedelta(days=10 * n + 1),
                                                 time(20), timezone.utc)
                                for n in range(rng.randint(3, 10))]
                    for course_id in course_ids}
            _insert(session, TreatmentSession, [
                {"course_id": course_id, "device_id": device_id, "performed_at": at,
                 "needle_length_mm": 0.5, "duration_minutes": 15, "pain_score": 3,
                 "areas": ["vertex"], "side_effects": [], "device_disinfected": True,
                 "logged_by_id": patient_id, "created_at": at}
                for patient_id, course_id, device_id in zip(patient_ids, course_ids, device_ids)
                for at in done[course_id]])
            _insert(session, Share, [
                {"patient_id": patient_id, "code_hash": token_digest(f"load-{patient_id}"),
                 "created_at": now, "expires_at": now + timedelta(hours=72),
                 "clinician_id": clinician_ids[index % CLINICIANS], "linked_at": now}
                for index, patient_id in enumerate(patient_ids)])
    finally:
        engine.dispose()
    # Bulk rows bypass the app, so its digests are built the operator's way.
    subprocess.run([str(Path(sys.executable).with_name("flask")), "--app", "wsgi", "digests",
                    "refresh"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                   env={**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
    linked = defaultdict(list)
    for index, course_id in enumerate(course_ids):
        linked[clinician_ids[index % CLINICIANS]].append(course_id)
    return {
        "patients": [{"token": tokens[patient_id], "course_id": course_id,
                      "last_session_at": done[course_id][-1].isoformat()}
                     for patient_id, course_id in zip(patient_ids, course_ids)],
        "clinicians": [{"token": tokens[clinician_id], "course_ids": linked[clinician_id]}
                       for clinician_id in clinician_ids],
    }


def _camera_photos(workdir: Path) -> list[str]:
    """A few distinct 12 MP camera JPEGs for the uploads under load, as files."""
    paths = []
    for number in range(CAMERA_PHOTOS):
        path = workdir / f"camera-{number}.jpg"
        path.write_bytes(phone_photo())
        paths.append(str(path))
    return paths


def _insert(session: Session, model, rows: list[dict]) -> list[int]:
    """Insert rows in one statement; their new ids, in order."""
    return list(session.scalars(insert(model).returning(model.id, sort_by_parameter_order=True),
                                rows))


def _first_photos(base_url: str, patients: list[dict]) -> None:
    """One photo per patient, through the app, so photo lists and statuses have some."""
    rng = random.Random(2)

    def upload(patient: dict) -> int:
        body, content_type = multipart({"area": "vertex"},
                                       phone_jpeg(random.Random(rng.random())))
        request = urllib.request.Request(
            f"{base_url}/api/v1/photos", data=body, method="POST",
            headers={"Authorization": f"Bearer {patient['token']}",
                     "Content-Type": content_type})
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status

    with ThreadPoolExecutor(max_workers=WORKERS) as pool:
        statuses = list(pool.map(upload, patients))
    if set(statuses) != {201}:
        raise BenchError(f"uploading the first photos answered {sorted(set(statuses))}")
    print(f"  {len(statuses)} photos uploaded", flush=True)


def _drain(url: str) -> float:
    """Wait until no derivatives job is queued or running (at most DRAIN_TIMEOUT_S); the
    seconds it took."""
    engine = make_engine(url)
    started = monotonic()
    unfinished = select(func.count()).select_from(Job).where(
        Job.kind == DERIVATIVES, Job.status.in_(("queued", "running")))
    try:
        while monotonic() - started < DRAIN_TIMEOUT_S:
            with engine.connect() as connection:
                if connection.scalar(unfinished) == 0:
                    break
            sleep(0.2)
    finally:
        engine.dispose()
    return monotonic() - started


def _derivative_waits(url: str) -> list[tuple[int, float | None]]:
    """Each photo's wait for its derivatives, in seconds (None: not ready yet)."""
    engine = make_engine(url)
    made = (select(Job.subject_id, func.min(Job.finished_at).label("finished_at"))
            .where(Job.kind == DERIVATIVES, Job.status == "done")
            .group_by(Job.subject_id).subquery())
    query = (select(Photo.id, Photo.created_at, Photo.preview_key, Photo.thumbnail_key,
                    made.c.finished_at)
             .outerjoin(made, made.c.subject_id == Photo.id))
    try:
        with engine.connect() as connection:
            rows = connection.execute(query).all()
    finally:
        engine.dispose()
    waits = []
    for photo_id, created_at, preview_key, thumbnail_key, finished_at in rows:
        if not (preview_key and thumbnail_key):
            waits.append((photo_id, None))
        else:
            # Made at upload (a HEIF) when no job made them.
            waits.append((photo_id, (finished_at - created_at).total_seconds()
                           if finished_at else 0.0))
    return waits


def _locust(base_url: str, workdir: Path, duration: int) -> list[tuple[str, int, float]]:
    results = workdir / "answers.json"
    command = [sys.executable, "-m", "locust", "-f", str(ROOT / "bench" / "locustfile.py"),
               "--headless", "--only-summary", "--loglevel", "WARNING",
               "-u", str(PATIENTS + CLINICIANS), "-r", str(SPAWN_RATE), "-t", f"{duration}s",
               "--stop-timeout", "10", "--host", base_url]
    env = {**os.environ, "LOAD_WORLD": str(workdir / "world.json"),
           "LOAD_RESULTS": str(results)}
    completed = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True,
                               timeout=duration + 60)
    if not results.exists():
        raise BenchError(f"locust failed (exit {completed.returncode}):\n"
                         f"{completed.stdout[-3000:]}{completed.stderr[-3000:]}")
    return [tuple(answer) for answer in json.loads(results.read_text())["answers"]]


def _report(answers: list[tuple[str, int, float]], duration: int,
            waits: list[tuple[int, float | None]], drained_in: float) -> bool:
    by_kind = defaultdict(list)
    for kind, status, milliseconds in answers:
        by_kind[kind].append((status, milliseconds))
    print()
    print(f"{'requests':<14} {'count':>7} {'req/s':>7} {'p50 ms':>8} {'p95 ms':>8} "
          f"{'p99 ms':>8} {'5xx':>5} {'failed':>7}")
    rows = [(kind, by_kind[kind]) for kind in (READ, LOG, UPLOAD)]
    rows.append(("all", [answer for kind in (READ, LOG, UPLOAD) for answer in by_kind[kind]]))
    figures = {}
    for kind, entries in rows:
        times = sorted(milliseconds for _, milliseconds in entries)
        cuts = quantiles(times, n=100, method="inclusive") if len(times) > 1 else times * 99
        server_errors = sum(1 for status, _ in entries if status >= 500)
        failed = sum(1 for status, _ in entries
                     if status not in EXPECTED.get(kind, {200, 201}))
        if kind == "all":
            failed = sum(1 for kind_, status, _ in answers if status not in EXPECTED[kind_])
        figures[kind] = (len(entries), cuts[94], server_errors, failed)
        print(f"{kind:<14} {len(entries):>7,} {len(entries) / duration:>7.1f} {cuts[49]:>8.0f} "
              f"{cuts[94]:>8.0f} {cuts[98]:>8.0f} {server_errors:>5} {failed:>7}")
    total, _, server_errors, failed = figures["all"]
    mix = ", ".join(f"{kind} {len(by_kind[kind]) / total:.0%}" for kind in (READ, LOG, UPLOAD))
    print(f"mix: {mix}; {total / duration:.0f} req/s over {duration} s")
    ready = sorted(seconds for _, seconds in waits if seconds is not None)
    pending = [photo_id for photo_id, seconds in waits if seconds is None]
    slowest = max(((seconds, photo_id) for photo_id, seconds in waits if seconds is not None),
                  default=(0.0, None))
    if ready:
        cuts = quantiles(ready, n=100, method="inclusive") if len(ready) > 1 else ready * 99
        print(f"derivatives: {len(ready):,} photos ready, p50 {cuts[49]:.1f} s, "
              f"p95 {cuts[94]:.1f} s, slowest {slowest[0]:.1f} s (photo {slowest[1]}) after "
              f"the upload; queue drained {drained_in:.1f} s after the load stopped")
    if pending:
        print(f"derivatives: {len(pending):,} photos still pending {DRAIN_TIMEOUT_S} s after "
              f"the load stopped (e.g. photo {pending[0]})")
    print()
    late = sum(1 for seconds in ready if seconds > GOAL_DERIVATIVES_S) + len(pending)
    checks = [
        (server_errors == 0, f"server errors = {server_errors} (goal 0)"),
        (failed / total < GOAL_FAILED,
         f"failed = {failed / total:.2%} of {total:,} (goal < {GOAL_FAILED:.0%})"),
    ]
    for kind, label in ((READ, "reads"), (LOG, "session logs"), (UPLOAD, "uploads")):
        checks.append((figures[kind][1] < GOAL_P95_MS[kind],
                       f"p95 {label} = {figures[kind][1]:.0f} ms "
                       f"(goal < {GOAL_P95_MS[kind]:.0f} ms)"))
    checks.append((bool(waits) and late == 0,
                   f"derivatives ready: slowest {slowest[0]:.1f} s, {late} late "
                   f"(goal all <= {GOAL_DERIVATIVES_S:.0f} s)"))
    for met, line in checks:
        print(f"{line:<56} {'ok' if met else 'MISSED'}")
    return all(met for met, _ in checks)
