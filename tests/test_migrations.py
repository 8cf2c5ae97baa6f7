"""Migrations of data that exists: a database filled before a migration, then upgraded
(SQLite always; PostgreSQL too when TEST_DATABASE_URL is set)."""

from __future__ import annotations

import json
import os
import secrets
from contextlib import contextmanager

import pytest
from sqlalchemy import text

from storage import migrate
from storage.db import make_engine

TARGETS = ["sqlite"] + (["postgresql"] if os.environ.get("TEST_DATABASE_URL") else [])


@contextmanager
def empty_database(kind: str, tmp_path):
    """An empty SQLite file, or a PostgreSQL schema of this test's own (CREATE DATABASE from
    several test workers at once can fail, and the shared database must stay untouched)."""
    if kind == "sqlite":
        engine = make_engine(f"sqlite:///{tmp_path / 'migrated.db'}")
        yield engine
        engine.dispose()
        return
    url = os.environ["TEST_DATABASE_URL"]
    schema = f"migrations_{secrets.token_hex(4)}"
    admin = make_engine(url)
    with admin.begin() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = make_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.begin() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def fill_at_0005(connection) -> None:
    """A patient with a course whose session was checked in twice (redness, then all clear)."""
    patient_course_session(connection)
    for check_in_id, redness, at in ((1, True, "2026-11-03 20:00:00"),
                                     (2, False, "2026-11-04 20:00:00")):
        connection.execute(text(
            "INSERT INTO check_ins (id, session_id, redness_persists, swelling_persists, "
            "infection_signs, created_at) VALUES (:id, 1, :redness, false, false, :at)"),
            {"id": check_in_id, "redness": redness, "at": at})


def patient_course_session(connection) -> None:
    connection.execute(text(
        "INSERT INTO users (id, email, password_hash, display_name, timezone, role, created_at) "
        "VALUES (1, 'p@example.org', 'x', 'Pat', 'Europe/Berlin', 'patient', :now)"),
        {"now": "2026-11-01 10:00:00"})
    connection.execute(text(
        "INSERT INTO courses (id, patient_id, regimen, setting, start_date, status, screening, "
        "hold_reasons, concurrent_therapies, status_facts, created_at, updated_at) VALUES "
        "(1, 1, 'standard', 'home', '2026-11-01', 'active', '{}', '[]', '[]', "
        "'{\"sessions\": [[\"2026-11-02T19:30:00+00:00\", null]]}', :now, :now)"),
        {"now": "2026-11-01 10:00:00"})
    connection.execute(text(
        "INSERT INTO sessions (id, course_id, performed_at, needle_length_mm, areas, "
        "side_effects, created_at, updated_at) VALUES "
        "(1, 1, :at, 0.5, '[]', '[]', :at, :at)"), {"at": "2026-11-02 19:30:00"})


@pytest.mark.parametrize("kind", TARGETS)
def test_0006_keeps_each_sessions_latest_check_in_and_recomputes_the_status_facts(
        kind, tmp_path):
    with empty_database(kind, tmp_path) as engine:
        migrate.upgrade(engine, "0005")
        with engine.begin() as connection:
            fill_at_0005(connection)

        migrate.upgrade(engine, "0006")

        with engine.connect() as connection:
            kept = connection.execute(text(
                "SELECT id, redness_persists FROM check_ins")).all()
            assert [(row[0], bool(row[1])) for row in kept] == [(2, False)]
            assert connection.execute(text(
                "SELECT status_facts, hold_note FROM courses")).one() == (None, None)
            assert connection.execute(text(
                "SELECT device_sterilized, pre_check FROM sessions")).one() == (None, None)
        with engine.begin() as connection, pytest.raises(Exception):
            # One check-in per session from now on.
            connection.execute(text(
                "INSERT INTO check_ins (session_id, redness_persists, swelling_persists, "
                "infection_signs, created_at) VALUES (1, false, false, false, :at)"),
                {"at": "2026-11-05 20:00:00"})
        migrate.downgrade(engine, "0005")
        migrate.upgrade(engine, "head")


def fill_at_0006(connection) -> None:
    """Three sessions: S1 checked in with redness persisting, S2 checked in all clear (the
    course's latest check-in), S3 logged with signs of infection; a triage digest."""
    patient_course_session(connection)
    connection.execute(text(
        "INSERT INTO sessions (id, course_id, performed_at, needle_length_mm, areas, "
        "side_effects, pre_check, created_at, updated_at) VALUES "
        "(2, 1, :s2, 0.5, '[]', '[]', NULL, :s2, :s2), "
        "(3, 1, :s3, 0.5, '[]', '[\"redness\", \"infection_signs\"]', "
        "'{\"acute_infection\": true}', :s3, :s3)"),
        {"s2": "2026-11-09 19:30:00", "s3": "2026-11-16 19:30:00"})
    for check_in_id, session_id, redness, at in ((1, 1, True, "2026-11-03 20:00:00"),
                                                 (2, 2, False, "2026-11-10 20:00:00")):
        connection.execute(text(
            "INSERT INTO check_ins (id, session_id, redness_persists, swelling_persists, "
            "infection_signs, created_at) VALUES (:id, :session_id, :redness, false, false, "
            ":at)"), {"id": check_in_id, "session_id": session_id, "redness": redness, "at": at})
    connection.execute(text(
        "INSERT INTO triage_digests (patient_id, course_id, course_status, sessions_done, "
        "consult_doctor, hold_reasons, device_warnings, device_worn, photos_due, "
        "photos_missing, updated_at) VALUES (1, 1, 'active', 3, false, '[]', '[]', false, "
        "'[]', 0, :now)"), {"now": "2026-11-16 20:00:00"})
    connection.execute(text(
        "INSERT INTO observations (id, course_id, patient_id, kind, number, observed_at, "
        "created_at) VALUES (1, 1, 1, 'hair_count', 120, :at, :at)"),
        {"at": "2026-11-02 10:00:00"})


@pytest.mark.parametrize("kind", TARGETS)
def test_0007_gives_each_flagging_session_its_own_open_flag(kind, tmp_path):
    with empty_database(kind, tmp_path) as engine:
        migrate.upgrade(engine, "0006")
        with engine.begin() as connection:
            fill_at_0006(connection)

        migrate.upgrade(engine, "0007")

        with engine.connect() as connection:
            flags = connection.execute(text(
                "SELECT session_id, patient_id, course_id, code, reasons, resolved_at "
                "FROM flags ORDER BY session_id")).all()
            assert [(row[0], row[1], row[2], row[3], row[5]) for row in flags] == [
                (1, 1, 1, "consult_doctor", None), (3, 1, 1, "consult_doctor", None)]
            reasons = [json.loads(row[4]) if isinstance(row[4], str) else row[4] for row in flags]
            # S1's check-in decides; S3 has no check-in, so its pre-check and side effect do.
            assert reasons == [
                [{"source": "check_in", "code": "redness_persists"}],
                [{"source": "pre_check", "code": "acute_infection"},
                 {"source": "side_effect", "code": "infection_signs"}]]
            digest = connection.execute(text("SELECT open_flags FROM triage_digests")).scalar()
            digest = json.loads(digest) if isinstance(digest, str) else digest
            assert [(flag["session_id"], flag["session_number"]) for flag in digest] == [
                (1, 1), (3, 3)]
            observation = connection.execute(text(
                "SELECT updated_at, withdrawn_at FROM observations")).one()
            assert observation[0] is not None and observation[1] is None
            assert connection.execute(text("SELECT status_facts FROM courses")).scalar() is None
        migrate.downgrade(engine, "0006")
        with engine.connect() as connection:
            assert connection.execute(text("SELECT COUNT(*) FROM check_ins")).scalar() == 2
        migrate.upgrade(engine, "head")
