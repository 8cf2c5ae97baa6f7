"""A benchmark database: a fresh migrated SQLite file with 1,000 patients mid-course.

Rows go in through SQLAlchemy bulk inserts, not the HTTP API, so seeding takes
seconds. Every patient has one course in their own time zone (intensive in
every phase, or standard, some completed or paused), 3-15 done sessions 7-14
days apart (sometimes late), the roller or pen they used (a roller is
sometimes replaced after its 8 uses), a few 24 h check-ins, and a known bearer
token, returned so the load generator can authenticate as each of them.
"""

from __future__ import annotations

import os
import random
import secrets
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from time import perf_counter
from zoneinfo import ZoneInfo

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from services.accounts import hash_password, token_digest
from domain.course import ACTIVE, PAUSED, status_after_sessions
from domain.devices import PEN, ROLLER, ROLLER_MAX_USES
from domain.photos import STANDARD_AREAS
from domain.regimen import CLINIC, HOME, INTENSIVE, STANDARD, Regimen
from domain.screening import CONDITIONS
from domain.sessions import CHECK_IN_AFTER
from storage import migrate
from storage.db import make_engine
from storage.models import AuthToken, CheckIn, Course, Device, Share, TreatmentSession, User

ROOT = Path(__file__).resolve().parent.parent

TIME_ZONES = (
    "Europe/Berlin", "Europe/London", "Europe/Madrid", "America/New_York",
    "America/Chicago", "America/Los_Angeles", "America/Sao_Paulo", "Asia/Tokyo",
    "Asia/Kolkata", "Australia/Sydney",
)
THERAPIES = ((), ("minoxidil",), ("finasteride",), ("minoxidil", "finasteride"))
COCKTAILS = (
    None,
    {"name": "Peptide serum", "ingredients": ["copper peptides", "biotin"]},
    {"name": "Minoxidil 5 %", "ingredients": ["minoxidil"]},
)
ROLLER_NEEDLES_MM = (0.5, 0.75, 1.0)
PEN_NEEDLES_MM = (0.5, 0.75, 1.0, 1.25)
MAX_GAP_DAYS = 14
TOKEN_TTL = timedelta(days=30)
# Rows per INSERT statement batch; keeps memory flat.
BATCH = 2_000
# The same patients and courses every run; only the tokens are new.
RNG_SEED = 1


@dataclass(frozen=True)
class SeededCourse:
    """A patient's course and the bearer token that may read it."""

    course_id: int
    token: str


@dataclass
class _Rows:
    """Every row to insert, per table; ids are given, so rows can refer to each other."""

    users: list[dict] = field(default_factory=list)
    tokens: list[dict] = field(default_factory=list)
    courses: list[dict] = field(default_factory=list)
    devices: list[dict] = field(default_factory=list)
    sessions: list[dict] = field(default_factory=list)
    check_ins: list[dict] = field(default_factory=list)


def _next_id(table: list[dict]) -> int:
    return len(table) + 1


def seed_database(path: Path, patients: int) -> list[SeededCourse]:
    """Create the database file at `path` and fill it; return each patient's course and token."""
    started = perf_counter()
    url = f"sqlite:///{path}"
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
        print(f"  migrated {path.name}", flush=True)
        # One hash for everyone: argon2 costs ~50 ms a call and no one logs in here.
        password_hash = hash_password("bench password")
        rows = _Rows()
        rng = random.Random(RNG_SEED)
        now = datetime.now(ZoneInfo("UTC"))
        seeded = [_add_patient(rows, rng, now, password_hash) for _ in range(patients)]
        with Session(engine) as session, session.begin():
            for model, table in ((User, rows.users), (AuthToken, rows.tokens),
                                 (Course, rows.courses), (Device, rows.devices),
                                 (TreatmentSession, rows.sessions), (CheckIn, rows.check_ins)):
                for offset in range(0, len(table), BATCH):
                    session.execute(insert(model), table[offset:offset + BATCH])
                print(f"  {len(table):>6,} {model.__tablename__}", flush=True)
    finally:
        engine.dispose()
    # Bulk inserts bypass the app, so its digests are built the operator's way.
    subprocess.run([str(Path(sys.executable).with_name("flask")), "--app", "wsgi",
                    "digests", "refresh"], cwd=ROOT, check=True, stdout=subprocess.DEVNULL,
                   env={**os.environ, "DATABASE_URL": url, "LOG_LEVEL": "WARNING"})
    print("  digests refreshed", flush=True)
    counts = Counter(row["course_id"] for row in rows.sessions).values()
    print(f"  sessions per course: min {min(counts)}, mean {sum(counts) / len(counts):.1f}, "
          f"max {max(counts)}; seeded in {perf_counter() - started:.1f} s", flush=True)
    return seeded


def _add_patient(rows: _Rows, rng: random.Random, now: datetime,
                 password_hash: str) -> SeededCourse:
    user_id = _next_id(rows.users)
    zone_name = rng.choice(TIME_ZONES)
    zone = ZoneInfo(zone_name)
    rows.users.append({
        "id": user_id, "email": f"patient{user_id:04d}@bench.example.org",
        "password_hash": password_hash, "display_name": f"Patient {user_id}",
        "timezone": zone_name, "role": "patient",
        "created_at": now - timedelta(days=200),
    })
    token = secrets.token_urlsafe(32)
    rows.tokens.append({
        "id": _next_id(rows.tokens), "user_id": user_id,
        "token_hash": token_digest(token),
        "created_at": now, "expires_at": now + TOKEN_TTL,
    })

    regimen = _regimen(rng)
    today = now.astimezone(zone).date()
    start_date = today - timedelta(days=rng.randint(30, 183))
    course_id = _next_id(rows.courses)
    done = _sessions(rows, rng, regimen, course_id, user_id, start_date, now, zone)
    status = status_after_sessions(regimen, ACTIVE, len(done))
    if status == ACTIVE and rng.random() < 0.08:
        status = PAUSED
    intensive = regimen.kind == INTENSIVE
    rows.courses.append({
        "id": course_id, "patient_id": user_id, "regimen": regimen.kind,
        "setting": regimen.setting,
        "weekly_sessions": regimen.weekly_sessions if intensive else None,
        "biweekly_sessions": regimen.biweekly_sessions if intensive else None,
        "start_date": start_date, "status": status,
        "screening": {condition: False for condition in CONDITIONS},
        "hold_reasons": [], "concurrent_therapies": list(rng.choice(THERAPIES)),
        "created_at": datetime.combine(start_date, time(9), zone),
    })
    _check_ins(rows, rng, done, now)
    return SeededCourse(course_id, token)


def _regimen(rng: random.Random) -> Regimen:
    if rng.random() < 0.6:
        return Regimen(INTENSIVE, rng.choice((HOME, HOME, CLINIC)),
                       rng.choice((4, 5)), rng.choice((4, 5)))
    return Regimen(STANDARD, rng.choice((HOME, HOME, CLINIC)))


def _sessions(rows: _Rows, rng: random.Random, regimen: Regimen, course_id: int, user_id: int,
              start_date: date, now: datetime, zone: ZoneInfo) -> list[dict]:
    """The done sessions until now, 7-14 days apart.

    Within the regimen's on-time window (one gap in ten late) where that fits;
    later phases, whose windows start at 14 and 28 days, at 14, so up to 15
    sessions fit in the six months a course has been running at most.
    """
    wanted = rng.randint(3, regimen.sessions_planned if regimen.kind == STANDARD else 15)
    kind = rng.choice((ROLLER, ROLLER, PEN))
    replaces_worn_rollers = rng.random() < 0.5
    device: dict | None = None
    device_uses = 0
    day = start_date + timedelta(days=rng.randint(0, 2))
    done: list[dict] = []
    for number in range(1, wanted + 1):
        if number > 1:
            interval = regimen.interval_before(number)
            low = min(interval.window_start, MAX_GAP_DAYS)
            high = min(interval.window_end, MAX_GAP_DAYS)
            # Late from session 4 on, so the first three fit in a course started 30+ days ago.
            if number > 3 and high < MAX_GAP_DAYS and rng.random() < 0.1:
                low, high = high + 1, MAX_GAP_DAYS
            day += timedelta(days=rng.randint(low, high))
        performed_at = datetime.combine(
            day, time(rng.randint(7, 22), rng.choice((0, 10, 20, 30, 40, 50))), zone)
        if performed_at > now:
            break
        if device is None or (kind == ROLLER and replaces_worn_rollers
                              and device_uses >= ROLLER_MAX_USES):
            device, device_uses = _device(rows, rng, user_id, kind, day), 0
        device_uses += 1
        session = {
            "id": _next_id(rows.sessions), "course_id": course_id,
            "device_id": device["id"], "performed_at": performed_at,
            "needle_length_mm": device["needle_length_mm"],
            "duration_minutes": rng.randint(8, 20), "pain_score": rng.randint(1, 6),
            "cocktail": rng.choice(COCKTAILS),
            "areas": rng.sample(STANDARD_AREAS, rng.randint(1, 4)),
            "side_effects": ["redness"] if rng.random() < 0.7 else [],
            "device_disinfected": rng.random() < 0.95,
            "new_cartridge": (rng.random() < 0.9) if kind == PEN else None,
            "notes": None, "logged_by_id": user_id,
            "created_at": performed_at + timedelta(minutes=rng.randint(20, 180)),
        }
        rows.sessions.append(session)
        done.append(session)
    return done


def _device(rows: _Rows, rng: random.Random, user_id: int, kind: str, first_day: date) -> dict:
    needle = rng.choice(ROLLER_NEEDLES_MM if kind == ROLLER else PEN_NEEDLES_MM)
    device = {
        "id": _next_id(rows.devices), "patient_id": user_id, "kind": kind,
        "needle_length_mm": needle,
        "label": f"{'Derma roller' if kind == ROLLER else 'Derma pen'} {needle} mm",
        "material": "titanium" if kind == ROLLER else None,
        "first_used_on": first_day if rng.random() < 0.5 else None,
        "retired": False,
    }
    rows.devices.append(device)
    return device


def _check_ins(rows: _Rows, rng: random.Random, done: list[dict], now: datetime) -> None:
    """One patient in five answered the 24 h check-in of their latest session or two."""
    if rng.random() >= 0.2:
        return
    for session in done[-rng.randint(1, 2):]:
        created_at = session["performed_at"] + CHECK_IN_AFTER + timedelta(hours=rng.randint(0, 6))
        if created_at > now:
            continue
        redness = rng.random() < 0.15
        rows.check_ins.append({
            "id": _next_id(rows.check_ins), "session_id": session["id"],
            "redness_persists": redness, "swelling_persists": redness and rng.random() < 0.5,
            "infection_signs": False, "note": None, "created_at": created_at,
        })


def link_clinician(path: Path) -> str:
    """Add a clinician whom every seeded patient shares with; return the clinician's token."""
    engine = make_engine(f"sqlite:///{path}")
    now = datetime.now(ZoneInfo("UTC"))
    token = secrets.token_urlsafe(32)
    try:
        with Session(engine) as session, session.begin():
            patient_ids = session.scalars(select(User.id).where(User.role == "patient")).all()
            clinician_id = max(patient_ids) + 1
            session.execute(insert(User), [{
                "id": clinician_id, "email": "clinician@bench.example.org",
                "password_hash": hash_password("bench password"), "display_name": "Dr. Bench",
                "timezone": "Europe/Berlin", "role": "clinician", "created_at": now}])
            session.execute(insert(AuthToken), [{
                "user_id": clinician_id, "token_hash": token_digest(token), "created_at": now,
                "expires_at": now + TOKEN_TTL}])
            session.execute(insert(Share), [{
                "patient_id": patient_id, "code_hash": token_digest(f"bench-{patient_id}"),
                "created_at": now, "expires_at": now + timedelta(hours=72),
                "clinician_id": clinician_id, "linked_at": now} for patient_id in patient_ids])
    finally:
        engine.dispose()
    print(f"  linked {len(patient_ids):,} patients to one clinician", flush=True)
    return token
